package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
)

// i5HandleConfigs are the shardings the handle tests run under: the other
// domain on another shard, and on the same shard as the handle's.
var i5HandleConfigs = []struct {
	name string
	opts []registry.Option
}{
	{"default shards", nil},
	{"every domain on one shard", []registry.Option{registry.WithHash(func(string) uint64 { return 0 })}},
}

// TestHandleOperations: each per-domain operation of a handle does what the
// registry's does in the handle's domain.
func TestHandleOperations(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, r *registry.Registry, h *registry.Handle)
	}{
		{"Name", func(t *testing.T, r *registry.Registry, h *registry.Handle) {
			assert.Equal(t, "tenant-a", h.Name())
		}},
		{"Register and Resolve", func(t *testing.T, r *registry.Registry, h *registry.Handle) {
			e, err := h.Register(i5C("tenant-a", "cache", "valkey", 99))
			require.NoError(t, err)
			assert.Equal(t, "tenant-a", e.Domain())
			got, ok := h.Resolve("cache")
			require.True(t, ok)
			assert.Same(t, e, got)
			want, _ := r.Resolve("tenant-a", "cache")
			assert.Same(t, want, got)
		}},
		{"Resolve with options", func(t *testing.T, r *registry.Registry, h *registry.Handle) {
			for _, opts := range [][]registry.ResolveOption{
				{registry.Provider("memcached")}, {registry.Require("ttl")}, {registry.RequireAny("ttl", "x")}, {registry.Provider("nope")},
			} {
				want, wok := r.Resolve("tenant-a", "cache", opts...)
				got, gok := h.Resolve("cache", opts...)
				assert.Equal(t, wok, gok)
				assert.Same(t, want, got)
			}
		}},
		{"Explain", func(t *testing.T, r *registry.Registry, h *registry.Handle) {
			assert.Equal(t, r.Explain("tenant-a", "cache").String(), h.Explain("cache").String())
			assert.Equal(t, r.Explain("tenant-a", "cache", registry.Require("ttl")).String(), h.Explain("cache", registry.Require("ttl")).String())
			assert.Equal(t, []string{"tenant-a/cache/redis:20", "tenant-a/cache/memcached:10"}, i5Labels(semRanked(h.Explain("cache"))))
		}},
		{"ListActive and ListShadowed", func(t *testing.T, r *registry.Registry, h *registry.Handle) {
			assert.Equal(t, r.ListActive("tenant-a"), h.ListActive())
			assert.Equal(t, r.ListShadowed("tenant-a"), h.ListShadowed())
			assert.Equal(t, []string{"tenant-a/cache/redis:20", "tenant-a/queue/nats:1"}, i5Labels(h.ListActive()))
			assert.Equal(t, []string{"tenant-a/cache/memcached:10"}, i5Labels(h.ListShadowed()))
		}},
		{"Unregister", func(t *testing.T, r *registry.Registry, h *registry.Handle) {
			assert.Equal(t, 1, h.Unregister("cache", "redis"))
			assert.Equal(t, 0, h.Unregister("cache", "redis"))
			e, _ := h.Resolve("cache")
			assert.Equal(t, "memcached", e.Provider())
			e, _ = r.Resolve("tenant-b", "cache")
			assert.Equal(t, "redis", e.Provider(), "the other domain keeps its redis")
		}},
		{"Select", func(t *testing.T, r *registry.Registry, h *registry.Handle) {
			require.NoError(t, h.Select("cache", "memcached"))
			e, _ := h.Resolve("cache")
			assert.Equal(t, "memcached", e.Provider())
			e, _ = r.Resolve("tenant-b", "cache")
			assert.Equal(t, "redis", e.Provider(), "the other domain's selection is untouched")
			require.NoError(t, h.Select("cache", ""))
			e, _ = h.Resolve("cache")
			assert.Equal(t, "redis", e.Provider())
			assert.ErrorIs(t, h.Select("", "memcached"), registry.ErrInvalidCandidate)
		}},
		{"SetHealth", func(t *testing.T, r *registry.Registry, h *registry.Handle) {
			require.NoError(t, h.SetHealth("cache", "redis", false))
			e, _ := h.Resolve("cache")
			assert.Equal(t, "memcached", e.Provider())
			e, _ = r.Resolve("tenant-b", "cache")
			assert.Equal(t, "redis", e.Provider(), "the other domain's redis stays healthy")
			require.NoError(t, h.SetHealth("cache", "redis", true))
			e, _ = h.Resolve("cache")
			assert.Equal(t, "redis", e.Provider())
			assert.ErrorIs(t, h.SetHealth("ca\x00che", "redis", false), registry.ErrInvalidCandidate)
		}},
		{"the domain emptied and created again", func(t *testing.T, r *registry.Registry, h *registry.Handle) {
			h.Unregister("cache", "redis")
			h.Unregister("cache", "memcached")
			h.Unregister("queue", "nats")
			assert.Empty(t, h.ListActive())
			assert.NotContains(t, r.Domains(), "tenant-a")
			_, err := h.Register(i5C("", "cache", "valkey", 1))
			require.NoError(t, err)
			e, ok := h.Resolve("cache")
			require.True(t, ok, "the handle made before still reaches its domain")
			assert.Equal(t, "valkey", e.Provider())
			assert.Contains(t, r.Domains(), "tenant-a")
		}},
	}
	for _, cfg := range i5HandleConfigs {
		for _, tt := range tests {
			t.Run(cfg.name+"/"+tt.name, func(t *testing.T) {
				r := registry.New(cfg.opts...)
				for _, d := range []string{"tenant-a", "tenant-b"} {
					i5Register(t, r, registry.Candidate{Domain: d, Key: "cache", Provider: "redis", Priority: new(20)})
					i5Register(t, r, registry.Candidate{Domain: d, Key: "cache", Provider: "memcached", Priority: new(10), Capabilities: []string{"ttl"}})
				}
				i5Register(t, r, i5C("tenant-a", "queue", "nats", 1))
				tt.run(t, r, r.Domain("tenant-a"))
			})
		}
	}
}

// TestHandleRejectsOtherDomain: a candidate naming another domain is
// rejected with ErrWrongDomain; nothing changes and no sequence number is
// consumed.
func TestHandleRejectsOtherDomain(t *testing.T) {
	tests := []struct {
		name   string
		domain string
	}{
		{"an existing other domain", "tenant-b"},
		{"a new domain", "tenant-c"},
		{"a domain differing only in case", "Tenant-A"},
		{"an invalid domain", "bad\ndomain"},
	}
	for _, cfg := range i5HandleConfigs {
		for _, tt := range tests {
			t.Run(cfg.name+"/"+tt.name, func(t *testing.T) {
				r := registry.New(cfg.opts...)
				i5Register(t, r, i5C("tenant-a", "cache", "redis", 1))
				i5Register(t, r, i5C("tenant-b", "cache", "redis", 1))
				dump := i5Dump(r)
				e, err := r.Domain("tenant-a").Register(i5C(tt.domain, "cache", "evil", 100))
				require.Error(t, err)
				assert.Nil(t, e)
				assert.ErrorIs(t, err, registry.ErrWrongDomain)
				assert.ErrorIs(t, err, registry.ErrInvalidCandidate, "refused input, as every other")
				assert.Contains(t, err.Error(), "tenant-a")
				assert.Equal(t, dump, i5Dump(r), "nothing changes")
				assert.Equal(t, uint64(3), i5NextSeq(t, r), "no sequence number consumed")
			})
		}
	}
}

// TestHandleEmptyDomainTakesHandles: a candidate without a Domain is
// registered in the handle's; the caller's candidate is not modified.
func TestHandleEmptyDomainTakesHandles(t *testing.T) {
	r := registry.New()
	h := r.Domain("tenant-a")
	c := registry.Candidate{Key: "cache", Provider: "redis"}
	e, err := h.Register(c)
	require.NoError(t, err)
	assert.Equal(t, "tenant-a", e.Domain())
	assert.Empty(t, c.Domain, "the caller's candidate is unchanged")
	got, ok := r.Resolve("tenant-a", "cache")
	require.True(t, ok)
	assert.Same(t, e, got)
	assert.Equal(t, []string{"tenant-a"}, r.Domains())

	_, err = h.Register(registry.Candidate{Key: ""})
	assert.ErrorIs(t, err, registry.ErrInvalidCandidate, "the rest is validated as usual")
}

// TestHandleInvalidDomain: a handle of a name that cannot be registered
// rejects writes with ErrInvalidCandidate and finds nothing.
func TestHandleInvalidDomain(t *testing.T) {
	for _, name := range []string{"", "bad\x00name", strings.Repeat("d", 257)} {
		t.Run(strings.ToValidUTF8(name[:min(len(name), 8)], "?"), func(t *testing.T) {
			r := registry.New()
			i5Register(t, r, i5C("adapter", "cache", "redis", 1))
			h := r.Domain(name)
			_, err := h.Register(registry.Candidate{Key: "cache", Provider: "redis"})
			assert.ErrorIs(t, err, registry.ErrInvalidCandidate)
			assert.False(t, errors.Is(err, registry.ErrWrongDomain))
			_, ok := h.Resolve("cache")
			assert.False(t, ok)
			assert.Empty(t, h.ListActive())
			assert.Empty(t, h.ListShadowed())
			assert.Empty(t, h.Explain("cache").Ordered)
			assert.Equal(t, 0, h.Unregister("cache", "redis"))
			assert.ErrorIs(t, h.Select("cache", "redis"), registry.ErrInvalidCandidate)
			assert.ErrorIs(t, h.SetHealth("cache", "redis", false), registry.ErrInvalidCandidate)
			assert.Equal(t, []string{"adapter"}, r.Domains())
		})
	}
}

// TestHandleCannotReadOtherDomains: a key that exists only in another domain
// is invisible through the handle, on another shard or on the same one.
func TestHandleCannotReadOtherDomains(t *testing.T) {
	for _, cfg := range i5HandleConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			r := registry.New(cfg.opts...)
			i5Register(t, r, i5C("tenant-a", "cache", "redis", 1))
			i5Register(t, r, i5C("tenant-b", "secret", "vault", 1))
			i5Register(t, r, i5C("tenant-b", "cache", "memcached", 50))
			h := r.Domain("tenant-a")

			_, ok := h.Resolve("secret")
			assert.False(t, ok, "a key only in tenant-b")
			_, ok = h.Resolve("secret", registry.Provider("vault"))
			assert.False(t, ok)
			assert.Empty(t, h.Explain("secret").Ordered)
			e, _ := h.Resolve("cache")
			assert.Equal(t, "redis", e.Provider(), "tenant-a's own cache, not tenant-b's")
			assert.Equal(t, []string{"tenant-a/cache/redis:1"}, i5Labels(semRanked(h.Explain("cache"))))
			assert.Equal(t, []string{"tenant-a/cache/redis:1"}, i5Labels(h.ListActive()))
			assert.Empty(t, h.ListShadowed())
			assert.Equal(t, 0, h.Unregister("secret", "vault"), "cannot remove another domain's candidate")
			_, ok = r.Resolve("tenant-b", "secret")
			assert.True(t, ok)
		})
	}
}

// TestHandleWatchSeesOnlyItsDomain: a handle's Watch delivers the changes of
// its domain and nothing of others, even on the same shard.
func TestHandleWatchSeesOnlyItsDomain(t *testing.T) {
	for _, cfg := range i5HandleConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			r := registry.New(cfg.opts...)
			h := r.Domain("tenant-a")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			changes := h.Watch(ctx)

			i5Register(t, r, i5C("tenant-b", "cache", "redis", 1))
			i5Register(t, r, i5C("tenant-a", "cache", "redis", 1))
			_, err := r.Apply("loader", []registry.Candidate{i5C("tenant-b", "queue", "nats", 1), i5C("tenant-a", "queue", "nats", 1)})
			require.NoError(t, err)
			require.NoError(t, r.SetHealth("tenant-b", "cache", "redis", false))
			r.Unregister("tenant-b", "cache", "redis")
			_, err = h.Register(i5C("", "cache", "valkey", 9))
			require.NoError(t, err)

			var got []string
			i5Go(t, "watching", func() {
				for c := range changes {
					assert.Equal(t, "tenant-a", c.Domain)
					got = append(got, c.Key+" "+c.Current.Provider()+" "+c.Reason)
					if len(got) == 3 {
						break
					}
				}
			})
			assert.Equal(t, []string{"cache redis register", "queue nats apply", "cache valkey register"}, got)
		})
	}
}
