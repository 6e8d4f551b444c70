package registry_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
)

// i5Winner returns the provider of the winner of (domain, key), "" if none,
// checking that Resolve, Explain, ListActive and a Snapshot agree.
func i5Winner(t *testing.T, r *registry.Registry, dom, key string) string {
	t.Helper()
	e, ok := r.Resolve(dom, key)
	w, wok := r.Explain(dom, key).Winner()
	s, sok := r.Snapshot().Resolve(dom, key)
	require.Equal(t, ok, wok)
	require.Equal(t, ok, sok)
	if !ok {
		return ""
	}
	require.Same(t, e, w, "Resolve and Explain agree")
	require.Same(t, e, s, "Resolve and Snapshot agree")
	assert.Contains(t, r.ListActive(dom), e)
	return e.Provider()
}

// TestHealthUnhealthyNeverWins: an unhealthy candidate never wins while a
// healthy one qualifies, whatever its priority, stack level, sequence or
// selection.
func TestHealthUnhealthyNeverWins(t *testing.T) {
	tests := []struct {
		name      string
		cands     []registry.Candidate
		selection string
		unhealthy []string
		want      string
	}{
		{"higher priority", []registry.Candidate{i5C("adapter", "cache", "redis", 100), i5C("adapter", "cache", "memcached", 1)},
			"", []string{"redis"}, "memcached"},
		{"higher stack level", []registry.Candidate{
			{Domain: "adapter", Key: "cache", Provider: "redis", StackLevel: 9},
			{Domain: "adapter", Key: "cache", Provider: "memcached"},
		}, "", []string{"redis"}, "memcached"},
		{"later registration", []registry.Candidate{i5C("adapter", "cache", "memcached", 1), i5C("adapter", "cache", "redis", 1)},
			"", []string{"redis"}, "memcached"},
		{"selected", []registry.Candidate{i5C("adapter", "cache", "redis", 100), i5C("adapter", "cache", "memcached", 1)},
			"redis", []string{"redis"}, "memcached"},
		{"selected and the only healthy one is lowest", []registry.Candidate{
			i5C("adapter", "cache", "redis", 100), i5C("adapter", "cache", "valkey", 50), i5C("adapter", "cache", "memcached", 1),
		}, "redis", []string{"redis", "valkey"}, "memcached"},
		{"a selection of a healthy provider still applies", []registry.Candidate{
			i5C("adapter", "cache", "redis", 100), i5C("adapter", "cache", "valkey", 50), i5C("adapter", "cache", "memcached", 1),
		}, "memcached", []string{"redis"}, "memcached"},
		{"several candidates of the unhealthy provider", []registry.Candidate{
			i5C("adapter", "cache", "redis", 100), i5C("adapter", "cache", "redis", 90), i5C("adapter", "cache", "memcached", 1),
		}, "", []string{"redis"}, "memcached"},
		{"another provider's mark does not matter", []registry.Candidate{i5C("adapter", "cache", "redis", 100), i5C("adapter", "cache", "memcached", 1)},
			"", []string{"valkey"}, "redis"},
	}
	for _, tt := range tests {
		for _, order := range []string{"marked after registering", "marked before registering"} {
			t.Run(tt.name+"/"+order, func(t *testing.T) {
				r := registry.New()
				mark := func() {
					for _, p := range tt.unhealthy {
						require.NoError(t, r.SetHealth("adapter", "cache", p, false))
					}
				}
				if order == "marked before registering" {
					mark()
				}
				if tt.selection != "" {
					require.NoError(t, r.Select("adapter", "cache", tt.selection))
				}
				for _, c := range tt.cands {
					i5Register(t, r, c)
				}
				if order == "marked after registering" {
					mark()
				}
				assert.Equal(t, tt.want, i5Winner(t, r, "adapter", "cache"))
			})
		}
	}
}

// TestHealthExplainListsUnhealthyBelow: Explain ranks unhealthy candidates
// below every healthy one, each with "unhealthy" as its first reason, and
// ListShadowed follows the same order.
func TestHealthExplainListsUnhealthyBelow(t *testing.T) {
	r := registry.New(registry.WithSelections(map[string]map[string]string{"adapter": {"cache": "redis"}}))
	i5Register(t, r, i5C("adapter", "cache", "redis", 100))
	i5Register(t, r, i5C("adapter", "cache", "valkey", 50))
	i5Register(t, r, i5C("adapter", "cache", "memcached", 1))
	require.NoError(t, r.SetHealth("adapter", "cache", "redis", false))

	x := r.Explain("adapter", "cache")
	require.Len(t, x.Ordered, 3)
	assert.Equal(t, []string{"valkey", "memcached", "redis"}, semProviders(semRanked(x)))
	assert.True(t, x.Ordered[0].Selected)
	assert.Equal(t, []string{"selection override prefers redis", "priority=50", "stack_level=0", "registration_order=2"}, x.Ordered[0].Reasons)
	assert.Equal(t, []string{"unhealthy", "matched selection override redis", "priority=100", "stack_level=0", "registration_order=1"}, x.Ordered[2].Reasons)
	assert.Equal(t, 1, x.Ordered[2].Score.Override, "the score itself is unchanged")
	assert.Contains(t, x.String(), "unhealthy")
	js, err := x.MarshalJSON()
	require.NoError(t, err)
	assert.Contains(t, string(js), `"unhealthy"`)
	assert.Equal(t, []string{"memcached", "redis"}, semProviders(r.ListShadowed("adapter")))
	for i, rk := range x.Ordered[:2] {
		assert.NotContains(t, rk.Reasons, "unhealthy", "healthy rank %d", i)
	}
}

// TestHealthRestoresPreviousWinner: marking a candidate healthy again restores
// the ranking it had.
func TestHealthRestoresPreviousWinner(t *testing.T) {
	tests := []struct {
		name      string
		selection string
	}{
		{"by priority", ""},
		{"by selection", "memcached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			i5Register(t, r, i5C("adapter", "cache", "redis", 100))
			i5Register(t, r, i5C("adapter", "cache", "memcached", 1))
			i5Register(t, r, i5C("adapter", "cache", "valkey", 50))
			if tt.selection != "" {
				require.NoError(t, r.Select("adapter", "cache", tt.selection))
			}
			before := r.Explain("adapter", "cache").String()
			first := i5Winner(t, r, "adapter", "cache")

			require.NoError(t, r.SetHealth("adapter", "cache", first, false))
			assert.NotEqual(t, first, i5Winner(t, r, "adapter", "cache"))
			require.NoError(t, r.SetHealth("adapter", "cache", first, true))
			assert.Equal(t, first, i5Winner(t, r, "adapter", "cache"))
			assert.Equal(t, before, r.Explain("adapter", "cache").String(), "the whole ranking is restored")
			require.NoError(t, r.SetHealth("adapter", "cache", first, true), "marking a healthy provider healthy is a no-op")
			assert.Equal(t, before, r.Explain("adapter", "cache").String())
		})
	}
}

// TestHealthAllUnhealthyBestStillWins: when every candidate is unhealthy the
// best of them still wins (a key always resolves while it has candidates),
// ranked as if all were healthy, and Explain says each is unhealthy.
func TestHealthAllUnhealthyBestStillWins(t *testing.T) {
	r := registry.New()
	i5Register(t, r, i5C("adapter", "cache", "memcached", 1))
	i5Register(t, r, i5C("adapter", "cache", "redis", 100))
	i5Register(t, r, i5C("adapter", "cache", "valkey", 50))
	for _, p := range []string{"memcached", "redis", "valkey"} {
		require.NoError(t, r.SetHealth("adapter", "cache", p, false))
	}
	assert.Equal(t, "redis", i5Winner(t, r, "adapter", "cache"), "the best unhealthy candidate wins")
	x := r.Explain("adapter", "cache")
	assert.Equal(t, []string{"redis", "valkey", "memcached"}, semProviders(semRanked(x)))
	for _, rk := range x.Ordered {
		assert.Equal(t, "unhealthy", rk.Reasons[0])
	}
	require.NoError(t, r.Select("adapter", "cache", "memcached"))
	assert.Equal(t, "memcached", i5Winner(t, r, "adapter", "cache"), "among unhealthy candidates the selection applies")
	require.NoError(t, r.SetHealth("adapter", "cache", "valkey", true))
	assert.Equal(t, "valkey", i5Winner(t, r, "adapter", "cache"), "one recovers: it wins over the unhealthy selection")
}

// TestHealthWatcherSeesFailover: a watcher sees failover and recovery as
// Changes with Reason "health".
func TestHealthWatcherSeesFailover(t *testing.T) {
	r := registry.New()
	i5Register(t, r, i5C("adapter", "cache", "redis", 100))
	i5Register(t, r, i5C("adapter", "cache", "memcached", 1))
	w := i5Collect(t, r, "adapter")
	require.NoError(t, r.SetHealth("adapter", "cache", "redis", false))
	require.NoError(t, r.SetHealth("adapter", "cache", "memcached", false)) // both down: redis is the best again
	require.NoError(t, r.SetHealth("adapter", "cache", "memcached", true))
	require.NoError(t, r.SetHealth("adapter", "cache", "redis", true))
	got := w.next(t, 4)
	var texts []string
	for _, c := range got {
		texts = append(texts, i5ChangeText(c))
	}
	assert.Equal(t, []string{
		"adapter/cache redis→memcached (health)",
		"adapter/cache memcached→redis (health)",
		"adapter/cache redis→memcached (health)",
		"adapter/cache memcached→redis (health)",
	}, texts)
}

// TestHealthResolveOptions: Resolve and Explain with Require, RequireAny or
// Provider prefer healthy candidates among those that qualify.
func TestHealthResolveOptions(t *testing.T) {
	setup := func(t *testing.T) *registry.Registry {
		r := registry.New()
		i5Register(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(100), Capabilities: []string{"ttl", "cluster"}})
		i5Register(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "valkey", Priority: new(50), Capabilities: []string{"ttl"}})
		i5Register(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(1)})
		require.NoError(t, r.SetHealth("adapter", "cache", "redis", false))
		return r
	}
	tests := []struct {
		name   string
		opts   []registry.ResolveOption
		want   string // "" when nothing qualifies
		ranked []string
	}{
		{"no options", nil, "valkey", []string{"valkey", "memcached", "redis"}},
		{"Require a capability both have", []registry.ResolveOption{registry.Require("ttl")}, "valkey", []string{"valkey", "redis"}},
		{"Require one only the unhealthy has", []registry.ResolveOption{registry.Require("cluster")}, "redis", []string{"redis"}},
		{"RequireAny: the unhealthy matches more", []registry.ResolveOption{registry.RequireAny("ttl", "cluster")}, "valkey", []string{"valkey", "redis"}},
		{"Provider of the unhealthy one", []registry.ResolveOption{registry.Provider("redis")}, "redis", []string{"redis"}},
		{"Provider of a healthy one", []registry.ResolveOption{registry.Provider("memcached")}, "memcached", []string{"memcached"}},
		{"Provider and Require", []registry.ResolveOption{registry.Provider("valkey"), registry.Require("ttl")}, "valkey", []string{"valkey"}},
		{"Require nobody has", []registry.ResolveOption{registry.Require("acl")}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := setup(t)
			e, ok := r.Resolve("adapter", "cache", tt.opts...)
			assert.Equal(t, tt.want != "", ok)
			if ok {
				assert.Equal(t, tt.want, e.Provider())
			}
			x := r.Explain("adapter", "cache", tt.opts...)
			assert.Equal(t, tt.ranked, nilIfEmpty(semProviders(semRanked(x))))
			if w, wok := x.Winner(); wok {
				assert.Same(t, e, w, "Explain names the same winner")
			}
			se, sok := r.Snapshot().Resolve("adapter", "cache", tt.opts...)
			assert.Equal(t, ok, sok)
			assert.Same(t, e, se)
			he, hok := r.Domain("adapter").Resolve("cache", tt.opts...)
			assert.Equal(t, ok, hok)
			assert.Same(t, e, he)
		})
	}
}

// TestHealthMarkOutlivesCandidates: the mark is kept by (domain, key,
// provider), not by candidate: re-registering an unhealthy provider, or
// applying it again, keeps it unhealthy until it is marked healthy.
func TestHealthMarkOutlivesCandidates(t *testing.T) {
	tests := []struct {
		name string
		add  func(t *testing.T, r *registry.Registry)
		drop func(t *testing.T, r *registry.Registry)
	}{
		{"Register",
			func(t *testing.T, r *registry.Registry) { i5Register(t, r, i5C("adapter", "cache", "redis", 100)) },
			func(t *testing.T, r *registry.Registry) { r.Unregister("adapter", "cache", "redis") }},
		{"Apply",
			func(t *testing.T, r *registry.Registry) {
				i5Apply(t, r, "loader", []registry.Candidate{i5C("adapter", "cache", "redis", 100)})
			},
			func(t *testing.T, r *registry.Registry) { i5Apply(t, r, "loader", nil) }},
		{"RegisterPackage",
			func(t *testing.T, r *registry.Registry) {
				_, err := r.RegisterPackage("pkg", "/x", []registry.Candidate{i5C("adapter", "cache", "redis", 100), i5C("service", "mail", "smtp", 1)}, nil)
				require.NoError(t, err)
			},
			func(t *testing.T, r *registry.Registry) { r.Unregister("adapter", "cache", "redis") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			i5Register(t, r, i5C("adapter", "cache", "memcached", 1))
			require.NoError(t, r.SetHealth("adapter", "cache", "redis", false), "a mark for a provider not registered yet")
			tt.add(t, r)
			assert.Equal(t, "memcached", i5Winner(t, r, "adapter", "cache"))
			tt.drop(t, r)
			assert.Equal(t, "memcached", i5Winner(t, r, "adapter", "cache"))
			tt.add(t, r)
			assert.Equal(t, "memcached", i5Winner(t, r, "adapter", "cache"), "re-registered, still unhealthy")
			tt.drop(t, r)
			r.Unregister("adapter", "cache", "memcached") // the key disappears
			tt.add(t, r)
			assert.Equal(t, "redis", i5Winner(t, r, "adapter", "cache"), "alone it wins")
			assert.Equal(t, "unhealthy", r.Explain("adapter", "cache").Ordered[0].Reasons[0], "and is still marked")
			i5Register(t, r, i5C("adapter", "cache", "memcached", 1))
			assert.Equal(t, "memcached", i5Winner(t, r, "adapter", "cache"))
			require.NoError(t, r.SetHealth("adapter", "cache", "redis", true))
			assert.Equal(t, "redis", i5Winner(t, r, "adapter", "cache"))
			assert.NotContains(t, r.Explain("adapter", "cache").Ordered[0].Reasons, "unhealthy")
			// The mark is per key and per domain.
			i5Register(t, r, i5C("adapter", "queue", "redis", 100))
			i5Register(t, r, i5C("adapter", "queue", "nats", 1))
			require.NoError(t, r.SetHealth("tenant", "queue", "redis", false))
			require.NoError(t, r.SetHealth("adapter", "store", "redis", false))
			assert.Equal(t, "redis", i5Winner(t, r, "adapter", "queue"))
		})
	}
}

// TestHealthRejectsInvalidNames: SetHealth with a name that cannot be
// registered returns an error matching ErrInvalidCandidate and changes
// nothing.
func TestHealthRejectsInvalidNames(t *testing.T) {
	tests := []struct {
		name                 string
		domain, key, provide string
	}{
		{"empty domain", "", "cache", "redis"},
		{"empty key", "adapter", "", "redis"},
		{"control character in the domain", "adap\x01ter", "cache", "redis"},
		{"control character in the key", "adapter", "ca\tche", "redis"},
		{"control character in the provider", "adapter", "cache", "re\ndis"},
		{"invalid UTF-8", "adapter", "cache", "\xc3\x28"},
		{"provider too long", "adapter", "cache", strings.Repeat("r", 257)},
	}
	for _, tt := range tests {
		for _, healthy := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/healthy=%v", tt.name, healthy), func(t *testing.T) {
				var decisions int
				r := registry.New(registry.WithDecisionHook(func(registry.Decision) { decisions++ }))
				i5Register(t, r, i5C("adapter", "cache", "redis", 100))
				i5Register(t, r, i5C("adapter", "cache", "memcached", 1))
				dump, hooked := i5Dump(r), decisions
				err := r.SetHealth(tt.domain, tt.key, tt.provide, healthy)
				require.Error(t, err)
				assert.ErrorIs(t, err, registry.ErrInvalidCandidate)
				assert.Equal(t, dump, i5Dump(r))
				assert.Equal(t, hooked, decisions)
				if tt.domain != "" {
					assert.ErrorIs(t, r.Domain(tt.domain).SetHealth(tt.key, tt.provide, healthy), registry.ErrInvalidCandidate)
				}
			})
		}
	}
	t.Run("an empty provider is a valid name", func(t *testing.T) {
		r := registry.New()
		i5Register(t, r, i5C("adapter", "cache", "", 100))
		i5Register(t, r, i5C("adapter", "cache", "memcached", 1))
		require.NoError(t, r.SetHealth("adapter", "cache", "", false))
		assert.Equal(t, "memcached", i5Winner(t, r, "adapter", "cache"))
	})
}
