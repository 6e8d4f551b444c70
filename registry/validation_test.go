package registry_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
)

// The tests in this file follow SPEC.md, "Validation", and the contract that
// a rejected operation returns an error errors.Is can match, changes nothing
// and consumes no sequence number.

// semNested returns metadata nested levels deep: the Metadata map itself is
// level 1, each map inside it one level more.
func semNested(levels int) map[string]any {
	m := map[string]any{"leaf": "value"}
	for i := 1; i < levels; i++ {
		m = map[string]any{"next": m}
	}
	return m
}

// semState is what a rejected operation must leave unchanged.
type semState struct {
	domains  []string
	active   []*registry.Entry
	shadowed []*registry.Entry
	explain  string
}

func semStateOf(r *registry.Registry) semState {
	return semState{
		domains:  r.Domains(),
		active:   r.ListActive("adapter"),
		shadowed: r.ListShadowed("adapter"),
		explain:  r.Explain("adapter", "cache").String(),
	}
}

// semSeeded returns a registry holding two candidates of adapter/cache
// (sequences 1 and 2) and a selection for adapter/cache.
func semSeeded(t *testing.T) *registry.Registry {
	t.Helper()
	r := registry.New()
	semRegister(t, r, semCache("memcached", 50))
	semRegister(t, r, semCache("redis", 0))
	require.NoError(t, r.Select("adapter", "cache", "redis"))
	return r
}

// TestRegisterRejectsInvalid: each class of bad input is rejected with an
// error matching ErrInvalidCandidate, changes nothing and consumes no
// sequence number.
func TestRegisterRejectsInvalid(t *testing.T) {
	long := strings.Repeat("n", 257)
	mapCycle := map[string]any{}
	mapCycle["self"] = mapCycle
	sliceCycle := []any{nil}
	sliceCycle[0] = sliceCycle
	cand := func(domain, key, provider string) registry.Candidate {
		return registry.Candidate{Domain: domain, Key: key, Provider: provider}
	}
	tests := []struct {
		name string
		c    registry.Candidate
	}{
		{"zero candidate", registry.Candidate{}},
		{"empty domain", cand("", "cache", "redis")},
		{"empty key", cand("adapter", "", "redis")},
		{"invalid UTF-8 in domain", cand("adapt\xffer", "cache", "redis")},
		{"invalid UTF-8 in key", cand("adapter", "\xc3", "redis")},
		{"invalid UTF-8 in provider", cand("adapter", "cache", "red\xfeis")},
		{"NUL in domain", cand("adapter\x00", "cache", "redis")},
		{"newline in key", cand("adapter", "ca\nche", "redis")},
		{"tab in provider", cand("adapter", "cache", "\tredis")},
		{"DEL in key", cand("adapter", "cache\x7f", "redis")},
		{"C1 control in provider", cand("adapter", "cache", "redis\u0085")},
		{"257-byte domain", cand(long, "cache", "redis")},
		{"257-byte key", cand("adapter", long, "redis")},
		{"257-byte provider", cand("adapter", "cache", long)},
		{"metadata nested 33 levels", registry.Candidate{Domain: "adapter", Key: "cache", Metadata: semNested(33)}},
		{"metadata map cycle", registry.Candidate{Domain: "adapter", Key: "cache", Metadata: mapCycle}},
		{"metadata slice cycle", registry.Candidate{Domain: "adapter", Key: "cache", Metadata: map[string]any{"list": sliceCycle}}},
		{"source just past the last", registry.Candidate{Domain: "adapter", Key: "cache", Source: registry.SourceManual + 1}},
		{"source 255", registry.Candidate{Domain: "adapter", Key: "cache", Source: registry.Source(255)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := semSeeded(t)
			before := semStateOf(r)

			e, err := r.Register(tt.c)
			require.Error(t, err)
			assert.True(t, errors.Is(err, registry.ErrInvalidCandidate), "errors.Is(%v, ErrInvalidCandidate)", err)
			assert.Nil(t, e)

			assert.Equal(t, before, semStateOf(r), "a rejected Register changed the registry")
			assert.Equal(t, uint64(3), semRegister(t, r, semCache("next", 0)).Sequence(), "a rejected Register consumed a sequence number")
		})
	}
}

// TestRegisterAcceptsLimits: values at the limits are accepted.
func TestRegisterAcceptsLimits(t *testing.T) {
	maxName := strings.Repeat("n", 256)
	multiByte := strings.Repeat("é", 128) // 256 bytes
	tests := []struct {
		name string
		c    registry.Candidate
	}{
		{"256-byte domain", registry.Candidate{Domain: maxName, Key: "cache"}},
		{"256-byte key", registry.Candidate{Domain: "adapter", Key: maxName}},
		{"256-byte provider", registry.Candidate{Domain: "adapter", Key: "cache", Provider: maxName}},
		{"256 bytes of two-byte runes", registry.Candidate{Domain: multiByte, Key: multiByte, Provider: multiByte}},
		{"empty provider", registry.Candidate{Domain: "adapter", Key: "cache"}},
		{"non-ASCII names with spaces", registry.Candidate{Domain: "locataire n°1", Key: "cache clé", Provider: "rédis 缓存"}},
		{"metadata nested 32 levels", registry.Candidate{Domain: "adapter", Key: "cache", Metadata: semNested(32)}},
		{"a valid source", registry.Candidate{Domain: "adapter", Key: "cache", Source: registry.SourceManual}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := semSeeded(t)
			e, err := r.Register(tt.c)
			require.NoError(t, err)
			assert.Equal(t, uint64(3), e.Sequence())
			assert.Contains(t, semRanked(r.Explain(tt.c.Domain, tt.c.Key)), e, "the entry is stored and ranked")
			assert.Contains(t, r.Domains(), tt.c.Domain)
		})
	}
}

// TestSelectRejectsInvalid: Select with a bad name returns an error matching
// ErrInvalidCandidate and changes nothing.
func TestSelectRejectsInvalid(t *testing.T) {
	long := strings.Repeat("n", 257)
	tests := []struct {
		name                  string
		domain, key, provider string
	}{
		{"empty domain", "", "cache", "memcached"},
		{"empty key", "adapter", "", "memcached"},
		{"invalid UTF-8 in domain", "\xff", "cache", "memcached"},
		{"invalid UTF-8 in key", "adapter", "\xff", "memcached"},
		{"invalid UTF-8 in provider", "adapter", "cache", "memcached\xff"},
		{"control character in domain", "adapter\n", "cache", "memcached"},
		{"control character in key", "adapter", "cache\x00", "memcached"},
		{"control character in provider", "adapter", "cache", "mem\x1bcached"},
		{"257-byte domain", long, "cache", "memcached"},
		{"257-byte key", "adapter", long, "memcached"},
		{"257-byte provider", "adapter", "cache", long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := semSeeded(t) // redis selected
			before := semStateOf(r)
			err := r.Select(tt.domain, tt.key, tt.provider)
			require.ErrorIs(t, err, registry.ErrInvalidCandidate)
			assert.Equal(t, before, semStateOf(r))
			p, _ := semWinner(r, "adapter", "cache")
			assert.Equal(t, "redis", p, "the earlier selection stands")
			assert.Equal(t, uint64(3), semRegister(t, r, semCache("next", 0)).Sequence())
		})
	}
}

// TestUnregisterRejectsInvalid: Unregister with a bad name removes nothing
// and returns 0.
func TestUnregisterRejectsInvalid(t *testing.T) {
	long := strings.Repeat("n", 257)
	tests := []struct {
		name                  string
		domain, key, provider string
	}{
		{"empty domain", "", "cache", "redis"},
		{"empty key", "adapter", "", "redis"},
		{"invalid UTF-8 in domain", "adapter\xff", "cache", "redis"},
		{"invalid UTF-8 in key", "adapter", "cache\xff", "redis"},
		{"invalid UTF-8 in provider", "adapter", "cache", "redis\xff"},
		{"control character in domain", "\x00adapter", "cache", "redis"},
		{"control character in key", "adapter", "cache\r", "redis"},
		{"control character in provider", "adapter", "cache", "redis\x7f"},
		{"257-byte domain", long, "cache", "redis"},
		{"257-byte key", "adapter", long, "redis"},
		{"257-byte provider", "adapter", "cache", long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := semSeeded(t)
			before := semStateOf(r)
			assert.Equal(t, 0, r.Unregister(tt.domain, tt.key, tt.provider))
			assert.Equal(t, before, semStateOf(r))
			assert.Equal(t, uint64(3), semRegister(t, r, semCache("next", 0)).Sequence())
		})
	}
}

// TestRejectedErrorsAreWrapped: errors read "cannot …: …" and keep the
// sentinel matchable after further wrapping.
func TestRejectedErrorsAreWrapped(t *testing.T) {
	r := registry.New()
	_, err := r.Register(registry.Candidate{Domain: "adapter"})
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), `cannot register "adapter"/"": `), err.Error())
	assert.Contains(t, err.Error(), "key is empty")

	err = r.Select("", "cache", "redis")
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "cannot select "), err.Error())
	assert.Contains(t, err.Error(), "domain is empty")
}
