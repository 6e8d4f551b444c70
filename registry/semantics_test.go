package registry_test

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/explain"
	"github.com/oneiric-go/oneiric/registry"
)

// The tests in this file follow SPEC.md, "Resolution semantics", bullet by
// bullet; docs/spec-coverage.md maps each bullet to its tests.

// semRegister registers c and fails the test if that fails.
func semRegister(t *testing.T, r *registry.Registry, c registry.Candidate) *registry.Entry {
	t.Helper()
	e, err := r.Register(c)
	require.NoError(t, err)
	require.NotNil(t, e)
	return e
}

// semCache returns a candidate for adapter/cache.
func semCache(provider string, priority int) registry.Candidate {
	return registry.Candidate{Domain: "adapter", Key: "cache", Provider: provider, Priority: new(priority)}
}

// semProviders returns the providers of es, in order.
func semProviders(es []*registry.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Provider()
	}
	return out
}

// semSeqs returns the sequence numbers of es, in order.
func semSeqs(es []*registry.Entry) []uint64 {
	out := make([]uint64, len(es))
	for i, e := range es {
		out[i] = e.Sequence()
	}
	return out
}

// semRanked returns the entries of x in rank order.
func semRanked(x *explain.Explanation) []*registry.Entry {
	out := make([]*registry.Entry, len(x.Ordered))
	for i, r := range x.Ordered {
		out[i] = r.Entry
	}
	return out
}

// semWinner resolves (domain, key) with opts and returns the winner's
// provider and sequence, or ("", 0) when nothing qualifies.
func semWinner(r *registry.Registry, domain, key string, opts ...registry.ResolveOption) (string, uint64) {
	e, ok := r.Resolve(domain, key, opts...)
	if !ok {
		return "", 0
	}
	return e.Provider(), e.Sequence()
}

type semPoint struct{ X int }

// TestRegisterDeepCopiesMetadata: Register stores a deep copy of the
// metadata; maps and slices keep their types, JSON-like or not; pointers,
// funcs, structs and the Factory are kept by reference.
func TestRegisterDeepCopiesMetadata(t *testing.T) {
	ptr := &semPoint{1}
	fn := func() int { return 1 }
	factory := func() any { return "instance" }
	meta := map[string]any{
		"map":     map[string]any{"host": "localhost", "ports": []any{6379, 6380}},
		"list":    []any{"a", map[string]any{"b": 1}},
		"strings": []string{"x", "y"},
		"counts":  map[string]int{"one": 1},
		"ptr":     ptr,
		"fn":      fn,
		"struct":  semPoint{2},
		"n":       3,
	}
	r := registry.New()
	e := semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis", Metadata: meta, Factory: factory})

	// Change every container the caller still holds.
	meta["map"].(map[string]any)["host"] = "elsewhere"
	meta["map"].(map[string]any)["ports"].([]any)[0] = 1
	meta["list"].([]any)[1].(map[string]any)["b"] = 2
	meta["strings"].([]string)[0] = "changed"
	meta["counts"].(map[string]int)["one"] = 100
	meta["n"] = 4

	got := e.Metadata()
	tests := []struct {
		name string
		key  string
		want any
	}{
		{"map[string]any", "map", map[string]any{"host": "localhost", "ports": []any{6379, 6380}}},
		{"[]any", "list", []any{"a", map[string]any{"b": 1}}},
		{"[]string", "strings", []string{"x", "y"}},
		{"map[string]int, not a JSON type", "counts", map[string]int{"one": 1}},
		{"struct by value", "struct", semPoint{2}},
		{"scalar", "n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.IsType(t, tt.want, got[tt.key])
			assert.Equal(t, tt.want, got[tt.key])
		})
	}
	t.Run("pointer by reference", func(t *testing.T) {
		assert.Same(t, ptr, got["ptr"])
	})
	t.Run("func by reference", func(t *testing.T) {
		f, ok := got["fn"].(func() int)
		require.True(t, ok)
		assert.Equal(t, reflect.ValueOf(fn).Pointer(), reflect.ValueOf(f).Pointer())
	})
	t.Run("Factory by reference", func(t *testing.T) {
		f, ok := e.Factory().(func() any)
		require.True(t, ok)
		assert.Equal(t, reflect.ValueOf(factory).Pointer(), reflect.ValueOf(f).Pointer())
		assert.Equal(t, "instance", f())
	})
	t.Run("the resolved entry is the registered one", func(t *testing.T) {
		w, ok := r.Resolve("adapter", "cache")
		require.True(t, ok)
		assert.Same(t, e, w)
		assert.Equal(t, "localhost", w.Metadata()["map"].(map[string]any)["host"])
	})
}

// TestRegisterPriorityDefault: a nil Priority takes the registry's default (0
// unless WithDefaultPriority sets it); an explicit new(0) stays 0.
func TestRegisterPriorityDefault(t *testing.T) {
	tests := []struct {
		name     string
		opts     []registry.Option
		priority *int
		want     int
	}{
		{"nil, no default set", nil, nil, 0},
		{"nil takes WithDefaultPriority", []registry.Option{registry.WithDefaultPriority(25)}, nil, 25},
		{"negative default", []registry.Option{registry.WithDefaultPriority(-4)}, nil, -4},
		{"explicit zero stays zero", []registry.Option{registry.WithDefaultPriority(25)}, new(0), 0},
		{"explicit value wins", []registry.Option{registry.WithDefaultPriority(25)}, new(7), 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New(tt.opts...)
			e := semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Priority: tt.priority})
			assert.Equal(t, tt.want, e.Priority())
			x := r.Explain("adapter", "cache")
			require.Len(t, x.Ordered, 1)
			assert.Equal(t, tt.want, x.Ordered[0].Score.Priority)
		})
	}
	t.Run("the default ranks against explicit priorities", func(t *testing.T) {
		r := registry.New(registry.WithDefaultPriority(25))
		semRegister(t, r, semCache("explicit", 20))
		semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "default"})
		semRegister(t, r, semCache("zero", 0))
		assert.Equal(t, []string{"default", "explicit", "zero"}, semProviders(semRanked(r.Explain("adapter", "cache"))))
	})
}

// TestRegisterSequenceNumbers: entries are numbered 1, 2, 3, … per registry,
// across domains and keys.
func TestRegisterSequenceNumbers(t *testing.T) {
	a, b := registry.New(), registry.New(registry.WithShards(1))
	cs := []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "redis"},
		{Domain: "service", Key: "auth", Provider: "oidc"},
		{Domain: "adapter", Key: "queue", Provider: "nats"},
		{Domain: "adapter", Key: "cache", Provider: "redis"},
		{Domain: "tenant-1", Key: "cache", Provider: "redis"},
	}
	for i, c := range cs {
		assert.Equal(t, uint64(i+1), semRegister(t, a, c).Sequence(), "registry a, candidate %d", i)
	}
	// A second registry counts on its own.
	assert.Equal(t, uint64(1), semRegister(t, b, cs[0]).Sequence())
	assert.Equal(t, uint64(6), semRegister(t, a, cs[0]).Sequence())
	assert.Equal(t, uint64(2), semRegister(t, b, cs[1]).Sequence())
}

// TestRegisterTimeIsUTC: the stored entry carries a UTC registration time,
// taken during Register.
func TestRegisterTimeIsUTC(t *testing.T) {
	r := registry.New()
	// RegisteredAt has no monotonic reading (UTC strips it), so compare wall
	// clocks on both sides.
	before := time.Now().Round(0)
	e := semRegister(t, r, semCache("redis", 0))
	after := time.Now().Round(0)
	assert.Equal(t, time.UTC, e.RegisteredAt().Location())
	assert.Equal(t, "UTC", e.RegisteredAt().Location().String())
	assert.False(t, e.RegisteredAt().Before(before), "not before Register was called")
	assert.False(t, e.RegisteredAt().After(after), "not after Register returned")
}

// TestRegisterSameProviderAddsCandidate: registering a provider again adds
// a candidate; nothing is replaced, and the later one wins an equal tie.
func TestRegisterSameProviderAddsCandidate(t *testing.T) {
	r := registry.New()
	first := semRegister(t, r, semCache("redis", 10))
	second := semRegister(t, r, semCache("redis", 10))

	w, ok := r.Resolve("adapter", "cache")
	require.True(t, ok)
	assert.Same(t, second, w)
	assert.Equal(t, []uint64{2, 1}, semSeqs(semRanked(r.Explain("adapter", "cache"))))
	assert.Equal(t, []*registry.Entry{first}, r.ListShadowed("adapter"))
	assert.Equal(t, []*registry.Entry{second}, r.ListActive("adapter"))

	t.Run("a higher priority earlier registration still wins", func(t *testing.T) {
		r := registry.New()
		high := semRegister(t, r, semCache("redis", 20))
		semRegister(t, r, semCache("redis", 10))
		w, _ := r.Resolve("adapter", "cache")
		assert.Same(t, high, w)
	})
}

// TestRegisterRecomputesWinner: the key's winner is recomputed before
// Register returns.
func TestRegisterRecomputesWinner(t *testing.T) {
	r := registry.New()
	steps := []struct {
		name   string
		c      registry.Candidate
		winner string
	}{
		{"first candidate wins", semCache("memcached", 10), "memcached"},
		{"lower priority does not", semCache("redis", 5), "memcached"},
		{"higher priority does", semCache("valkey", 11), "valkey"},
		{"equal priority, later wins", semCache("redis", 11), "redis"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			semRegister(t, r, st.c)
			p, _ := semWinner(r, "adapter", "cache")
			assert.Equal(t, st.winner, p)
			assert.Equal(t, []string{st.winner}, semProviders(r.ListActive("adapter")))
		})
	}
}

// TestScoreOrder: the score (override, capability_match, priority,
// stack_level, sequence) is compared lexicographically; one case for each
// position deciding against everything after it.
func TestScoreOrder(t *testing.T) {
	tests := []struct {
		name   string
		sel    string // selection for adapter/cache
		cs     []registry.Candidate
		opts   []registry.ResolveOption
		want   []string // providers, best first
		scores []explain.Score
	}{
		{
			name: "override beats capability_match, priority, stack_level and sequence",
			sel:  "chosen",
			cs: []registry.Candidate{
				{Domain: "adapter", Key: "cache", Provider: "chosen", Priority: new(0), Capabilities: []string{"ttl"}},
				{Domain: "adapter", Key: "cache", Provider: "other", Priority: new(99), StackLevel: 9, Capabilities: []string{"ttl", "cluster"}},
			},
			opts: []registry.ResolveOption{registry.RequireAny("ttl", "cluster")},
			want: []string{"chosen", "other"},
			scores: []explain.Score{
				{Override: 1, CapabilityMatch: 1, Priority: 0, StackLevel: 0, Sequence: 1},
				{Override: 0, CapabilityMatch: 2, Priority: 99, StackLevel: 9, Sequence: 2},
			},
		},
		{
			name: "capability_match beats priority, stack_level and sequence",
			cs: []registry.Candidate{
				{Domain: "adapter", Key: "cache", Provider: "both", Priority: new(0), Capabilities: []string{"ttl", "cluster"}},
				{Domain: "adapter", Key: "cache", Provider: "one", Priority: new(99), StackLevel: 9, Capabilities: []string{"ttl"}},
			},
			opts: []registry.ResolveOption{registry.RequireAny("ttl", "cluster")},
			want: []string{"both", "one"},
			scores: []explain.Score{
				{CapabilityMatch: 2, Priority: 0, Sequence: 1},
				{CapabilityMatch: 1, Priority: 99, StackLevel: 9, Sequence: 2},
			},
		},
		{
			name: "priority beats stack_level and sequence",
			cs: []registry.Candidate{
				{Domain: "adapter", Key: "cache", Provider: "high", Priority: new(10)},
				{Domain: "adapter", Key: "cache", Provider: "stacked", Priority: new(9), StackLevel: 99},
			},
			want:   []string{"high", "stacked"},
			scores: []explain.Score{{Priority: 10, Sequence: 1}, {Priority: 9, StackLevel: 99, Sequence: 2}},
		},
		{
			name: "stack_level beats sequence",
			cs: []registry.Candidate{
				{Domain: "adapter", Key: "cache", Provider: "stacked", Priority: new(5), StackLevel: 2},
				{Domain: "adapter", Key: "cache", Provider: "later", Priority: new(5), StackLevel: 1},
			},
			want:   []string{"stacked", "later"},
			scores: []explain.Score{{Priority: 5, StackLevel: 2, Sequence: 1}, {Priority: 5, StackLevel: 1, Sequence: 2}},
		},
		{
			name: "sequence breaks an otherwise equal tie: the later wins",
			cs: []registry.Candidate{
				{Domain: "adapter", Key: "cache", Provider: "earlier", Priority: new(5), StackLevel: 1},
				{Domain: "adapter", Key: "cache", Provider: "later", Priority: new(5), StackLevel: 1},
			},
			want:   []string{"later", "earlier"},
			scores: []explain.Score{{Priority: 5, StackLevel: 1, Sequence: 2}, {Priority: 5, StackLevel: 1, Sequence: 1}},
		},
		{
			name: "negative priorities rank below the default",
			cs: []registry.Candidate{
				{Domain: "adapter", Key: "cache", Provider: "default"},
				{Domain: "adapter", Key: "cache", Provider: "negative", Priority: new(-1), StackLevel: 5},
			},
			want:   []string{"default", "negative"},
			scores: []explain.Score{{Sequence: 1}, {Priority: -1, StackLevel: 5, Sequence: 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []registry.Option
			if tt.sel != "" {
				opts = append(opts, registry.WithSelections(map[string]map[string]string{"adapter": {"cache": tt.sel}}))
			}
			r := registry.New(opts...)
			for _, c := range tt.cs {
				semRegister(t, r, c)
			}
			x := r.Explain("adapter", "cache", tt.opts...)
			assert.Equal(t, tt.want, semProviders(semRanked(x)))
			for i, r := range x.Ordered {
				assert.Equal(t, tt.scores[i], r.Score, "rank %d", i)
			}
			p, _ := semWinner(r, "adapter", "cache", tt.opts...)
			assert.Equal(t, tt.want[0], p)
		})
	}
}

// TestCapabilitySources: a candidate's capabilities are its Capabilities
// field, Metadata["capabilities"] (a string or a list of strings) and the
// "name" of each map in Metadata["capability_descriptors"].
func TestCapabilitySources(t *testing.T) {
	tests := []struct {
		name string
		c    registry.Candidate
		want []string
	}{
		{"Capabilities field", registry.Candidate{Capabilities: []string{"ttl"}}, []string{"ttl"}},
		{"metadata string", registry.Candidate{Metadata: map[string]any{"capabilities": "ttl"}}, []string{"ttl"}},
		{"metadata []string", registry.Candidate{Metadata: map[string]any{"capabilities": []string{"ttl", "cluster"}}}, []string{"cluster", "ttl"}},
		{"metadata []any", registry.Candidate{Metadata: map[string]any{"capabilities": []any{"ttl", 3}}}, []string{"ttl"}},
		{"descriptor names", registry.Candidate{Metadata: map[string]any{"capability_descriptors": []any{
			map[string]any{"name": "ttl", "since": "1.0"},
			map[string]any{"description": "nameless"},
		}}}, []string{"ttl"}},
		{"all together", registry.Candidate{
			Capabilities: []string{"acl"},
			Metadata: map[string]any{
				"capabilities":           []any{"ttl"},
				"capability_descriptors": []any{map[string]any{"name": "cluster"}},
			},
		}, []string{"acl", "cluster", "ttl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			c := tt.c
			c.Domain, c.Key, c.Provider = "adapter", "cache", "redis"
			e := semRegister(t, r, c)
			assert.Equal(t, tt.want, e.Capabilities())

			got, ok := r.Resolve("adapter", "cache", registry.Require(tt.want...))
			require.True(t, ok, "each source counts for Require")
			assert.Same(t, e, got)
			_, ok = r.Resolve("adapter", "cache", registry.Require(append(tt.want, "absent")...))
			assert.False(t, ok)
		})
	}
}

// TestRequiredCapabilitiesNormalised: required capabilities are trimmed,
// empty ones dropped, and duplicates count once.
func TestRequiredCapabilitiesNormalised(t *testing.T) {
	r := registry.New()
	semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis", Capabilities: []string{"ttl", "cluster"}})
	tests := []struct {
		name   string
		opt    registry.ResolveOption
		reason string // the capability_match reason, "" when none is given
		match  int
	}{
		{"trimmed", registry.Require(" ttl ", "\tcluster\n"), "capability_match=2/2", 2},
		{"empty dropped", registry.Require("ttl", "", "  "), "capability_match=1/1", 1},
		{"duplicates once", registry.Require("ttl", "ttl", " ttl"), "capability_match=1/1", 1},
		{"duplicates once with any", registry.RequireAny("ttl", "ttl", "absent"), "capability_match=1/2", 1},
		{"only blanks: nothing required", registry.Require("", " "), "", 0},
		{"none: nothing required", registry.Require(), "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := r.Explain("adapter", "cache", tt.opt)
			require.Len(t, x.Ordered, 1)
			want := []string{"priority=0", "stack_level=0", "registration_order=1"}
			if tt.reason != "" {
				want = []string{"priority=0", tt.reason, "stack_level=0", "registration_order=1"}
			}
			assert.Equal(t, want, x.Ordered[0].Reasons)
			assert.Equal(t, tt.match, x.Ordered[0].Score.CapabilityMatch)
			_, ok := r.Resolve("adapter", "cache", tt.opt)
			assert.True(t, ok)
		})
	}
}

// TestRequireAllVersusAny: with Require a candidate lacking any required
// capability is not ranked; with RequireAny it needs at least one.
func TestRequireAllVersusAny(t *testing.T) {
	r := registry.New()
	semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "full", Priority: new(1), Capabilities: []string{"ttl", "cluster"}})
	semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "ttl-only", Priority: new(50), Capabilities: []string{"ttl"}})
	semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "bare", Priority: new(99)})
	tests := []struct {
		name string
		opt  registry.ResolveOption
		want []string
	}{
		{"no requirement ranks all", nil, []string{"bare", "ttl-only", "full"}},
		{"all of one", registry.Require("ttl"), []string{"ttl-only", "full"}},
		{"all of two", registry.Require("ttl", "cluster"), []string{"full"}},
		{"all, one missing everywhere", registry.Require("ttl", "absent"), []string{}},
		{"any of two: more matches first", registry.RequireAny("ttl", "cluster"), []string{"full", "ttl-only"}},
		{"any, one missing everywhere", registry.RequireAny("ttl", "absent"), []string{"ttl-only", "full"}},
		{"any, none present", registry.RequireAny("absent"), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []registry.ResolveOption
			if tt.opt != nil {
				opts = append(opts, tt.opt)
			}
			assert.Equal(t, tt.want, semProviders(semRanked(r.Explain("adapter", "cache", opts...))))
			p, _ := semWinner(r, "adapter", "cache", opts...)
			if len(tt.want) == 0 {
				assert.Empty(t, p)
			} else {
				assert.Equal(t, tt.want[0], p)
			}
		})
	}
}

// TestRequireLastWins: Require and RequireAny both set the required set and
// the mode; the last one given wins.
func TestRequireLastWins(t *testing.T) {
	r := registry.New()
	semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "ttl", Priority: new(2), Capabilities: []string{"ttl"}})
	semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "cluster", Priority: new(1), Capabilities: []string{"cluster"}})
	tests := []struct {
		name  string
		opts  []registry.ResolveOption
		want  []string
		ratio string
	}{
		{"Require then RequireAny: any of the second set", []registry.ResolveOption{registry.Require("nothing"), registry.RequireAny("ttl", "cluster")}, []string{"ttl", "cluster"}, "/2"},
		{"RequireAny then Require: all of the second set", []registry.ResolveOption{registry.RequireAny("ttl", "cluster"), registry.Require("cluster")}, []string{"cluster"}, "/1"},
		{"Require then Require: the second set only", []registry.ResolveOption{registry.Require("ttl"), registry.Require("cluster")}, []string{"cluster"}, "/1"},
		{"RequireAny then empty Require: nothing required", []registry.ResolveOption{registry.RequireAny("absent"), registry.Require()}, []string{"ttl", "cluster"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := r.Explain("adapter", "cache", tt.opts...)
			assert.Equal(t, tt.want, semProviders(semRanked(x)))
			for _, rk := range x.Ordered {
				if tt.ratio == "" {
					assert.NotContains(t, strings.Join(rk.Reasons, ";"), "capability_match")
				} else {
					assert.Contains(t, rk.Reasons[1], tt.ratio)
				}
			}
			p, _ := semWinner(r, "adapter", "cache", tt.opts...)
			assert.Equal(t, tt.want[0], p)
		})
	}
}

// TestProviderEmptyIsNoFilter: Provider("") means no provider filter.
func TestProviderEmptyIsNoFilter(t *testing.T) {
	r := registry.New()
	semRegister(t, r, semCache("", 1))
	semRegister(t, r, semCache("redis", 5))
	semRegister(t, r, semCache("memcached", 3))

	x := r.Explain("adapter", "cache", registry.Provider(""))
	assert.Equal(t, []string{"redis", "memcached", ""}, semProviders(semRanked(x)))
	p, seq := semWinner(r, "adapter", "cache", registry.Provider(""))
	assert.Equal(t, "redis", p)
	assert.Equal(t, uint64(2), seq)

	t.Run("a later Provider replaces an earlier one", func(t *testing.T) {
		p, _ := semWinner(r, "adapter", "cache", registry.Provider("memcached"), registry.Provider(""))
		assert.Equal(t, "redis", p)
		p, _ = semWinner(r, "adapter", "cache", registry.Provider(""), registry.Provider("memcached"))
		assert.Equal(t, "memcached", p)
	})
}

// TestResolveIsExplainWinner: Resolve with no options returns the same entry
// that Explain(domain, key).Winner() names, in every state.
func TestResolveIsExplainWinner(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, r *registry.Registry)
		want  string // winner's provider, "" for none
	}{
		{"unknown key", func(t *testing.T, r *registry.Registry) {}, ""},
		{"one candidate", func(t *testing.T, r *registry.Registry) {
			semRegister(t, r, semCache("redis", 0))
		}, "redis"},
		{"by priority", func(t *testing.T, r *registry.Registry) {
			semRegister(t, r, semCache("redis", 10))
			semRegister(t, r, semCache("memcached", 5))
		}, "redis"},
		{"selection", func(t *testing.T, r *registry.Registry) {
			semRegister(t, r, semCache("redis", 10))
			semRegister(t, r, semCache("memcached", 5))
			require.NoError(t, r.Select("adapter", "cache", "memcached"))
		}, "memcached"},
		{"selection of an absent provider", func(t *testing.T, r *registry.Registry) {
			semRegister(t, r, semCache("redis", 10))
			semRegister(t, r, semCache("memcached", 5))
			require.NoError(t, r.Select("adapter", "cache", "valkey"))
		}, "redis"},
		{"after unregistering the winner", func(t *testing.T, r *registry.Registry) {
			semRegister(t, r, semCache("redis", 10))
			semRegister(t, r, semCache("memcached", 5))
			r.Unregister("adapter", "cache", "redis")
		}, "memcached"},
		{"after unregistering everything", func(t *testing.T, r *registry.Registry) {
			semRegister(t, r, semCache("redis", 10))
			r.Unregister("adapter", "cache", "redis")
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			tt.setup(t, r)
			got, ok := r.Resolve("adapter", "cache")
			want, wantOK := r.Explain("adapter", "cache").Winner()
			require.Equal(t, wantOK, ok)
			assert.Same(t, want, got)
			if tt.want == "" {
				assert.False(t, ok)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tt.want, got.Provider())
		})
	}
}

// TestResolveWithProvider: Resolve with Provider(p) returns the best-ranked
// qualifying candidate of p, selections aside; a re-registered provider wins
// its own tie (unlike Oneiric, which returns the first registered).
func TestResolveWithProvider(t *testing.T) {
	r := registry.New()
	semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(1), Capabilities: []string{"ttl"}}) // 1
	semRegister(t, r, semCache("redis", 9))                                                                                                    // 2
	semRegister(t, r, semCache("redis", 9))                                                                                                    // 3
	semRegister(t, r, semCache("memcached", 100))                                                                                              // 4
	semRegister(t, r, semCache("redis", 2))                                                                                                    // 5
	require.NoError(t, r.Select("adapter", "cache", "memcached"))

	tests := []struct {
		name     string
		opts     []registry.ResolveOption
		provider string
		seq      uint64
	}{
		{"best-ranked of the provider, later wins the tie", []registry.ResolveOption{registry.Provider("redis")}, "redis", 3},
		{"the selected provider", []registry.ResolveOption{registry.Provider("memcached")}, "memcached", 4},
		{"provider and capability", []registry.ResolveOption{registry.Provider("redis"), registry.Require("ttl")}, "redis", 1},
		{"absent provider", []registry.ResolveOption{registry.Provider("valkey")}, "", 0},
		{"provider lacking the capability", []registry.ResolveOption{registry.Provider("memcached"), registry.Require("ttl")}, "", 0},
		{"no provider: the selection wins", nil, "memcached", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, seq := semWinner(r, "adapter", "cache", tt.opts...)
			assert.Equal(t, tt.provider, p)
			assert.Equal(t, tt.seq, seq)
			// Explain with the same options names the same winner.
			w, ok := r.Explain("adapter", "cache", tt.opts...).Winner()
			if tt.provider == "" {
				assert.False(t, ok)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tt.seq, w.Sequence())
		})
	}
}

// TestExplainReasons pins the reason strings and their order, with and
// without a selection and with and without required capabilities.
func TestExplainReasons(t *testing.T) {
	tests := []struct {
		name string
		sel  string
		opts []registry.ResolveOption
		want [][]string
	}{
		{"no selection, no capabilities", "", nil, [][]string{
			{"priority=20", "stack_level=3", "registration_order=2"},
			{"priority=10", "stack_level=1", "registration_order=1"},
		}},
		{"selection", "memcached", nil, [][]string{
			{"matched selection override memcached", "priority=10", "stack_level=1", "registration_order=1"},
			{"selection override prefers memcached", "priority=20", "stack_level=3", "registration_order=2"},
		}},
		{"capabilities", "", []registry.ResolveOption{registry.RequireAny("ttl", "cluster")}, [][]string{
			{"priority=10", "capability_match=2/2", "stack_level=1", "registration_order=1"},
			{"priority=20", "capability_match=1/2", "stack_level=3", "registration_order=2"},
		}},
		{"selection and capabilities", "redis", []registry.ResolveOption{registry.Require("ttl")}, [][]string{
			{"matched selection override redis", "priority=20", "capability_match=1/1", "stack_level=3", "registration_order=2"},
			{"selection override prefers redis", "priority=10", "capability_match=1/1", "stack_level=1", "registration_order=1"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(10), StackLevel: 1, Capabilities: []string{"ttl", "cluster"}})
			semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(20), StackLevel: 3, Capabilities: []string{"ttl"}})
			if tt.sel != "" {
				require.NoError(t, r.Select("adapter", "cache", tt.sel))
			}
			x := r.Explain("adapter", "cache", tt.opts...)
			require.Len(t, x.Ordered, len(tt.want))
			assert.Equal(t, "adapter", x.Domain)
			assert.Equal(t, "cache", x.Key)
			for i, rk := range x.Ordered {
				assert.Equal(t, tt.want[i], rk.Reasons, "rank %d", i)
				assert.Equal(t, i == 0, rk.Selected, "only the first rank is selected")
			}
		})
	}
}

// TestExplainWithProvider: Explain with Provider(p) ranks only p's
// candidates.
func TestExplainWithProvider(t *testing.T) {
	r := registry.New()
	semRegister(t, r, semCache("redis", 1))
	semRegister(t, r, semCache("memcached", 50))
	semRegister(t, r, semCache("redis", 5))
	require.NoError(t, r.Select("adapter", "cache", "memcached"))

	x := r.Explain("adapter", "cache", registry.Provider("redis"))
	assert.Equal(t, []string{"redis", "redis"}, semProviders(semRanked(x)))
	assert.Equal(t, []uint64{3, 1}, semSeqs(semRanked(x)))
	assert.True(t, x.Ordered[0].Selected)
	assert.False(t, x.Ordered[1].Selected)
	assert.Equal(t, "selection override prefers memcached", x.Ordered[0].Reasons[0], "the selection still shows in the reasons")

	assert.Empty(t, r.Explain("adapter", "cache", registry.Provider("valkey")).Ordered)
}

// TestExplainEmptyWinner: an explanation with no selected rank has Winner()
// (nil, false).
func TestExplainEmptyWinner(t *testing.T) {
	r := registry.New()
	semRegister(t, r, semCache("redis", 0))
	tests := []struct {
		name   string
		domain string
		key    string
		opts   []registry.ResolveOption
	}{
		{"unknown domain", "service", "cache", nil},
		{"unknown key", "adapter", "queue", nil},
		{"nothing qualifies", "adapter", "cache", []registry.ResolveOption{registry.Require("ttl")}},
		{"no such provider", "adapter", "cache", []registry.ResolveOption{registry.Provider("memcached")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := r.Explain(tt.domain, tt.key, tt.opts...)
			require.NotNil(t, x)
			assert.Equal(t, tt.domain, x.Domain)
			assert.Equal(t, tt.key, x.Key)
			assert.Empty(t, x.Ordered)
			w, ok := x.Winner()
			assert.False(t, ok)
			assert.Nil(t, w)
			e, ok := r.Resolve(tt.domain, tt.key, tt.opts...)
			assert.False(t, ok)
			assert.Nil(t, e)
		})
	}
}

// TestExplainJSON compares the whole JSON form for a small case.
func TestExplainJSON(t *testing.T) {
	r := registry.New(registry.WithSelections(map[string]map[string]string{"adapter": {"cache": "redis"}}))
	semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(50), StackLevel: 1, Capabilities: []string{"ttl"}})
	semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis", Capabilities: []string{"ttl", "cluster"}})
	tests := []struct {
		name string
		opts []registry.ResolveOption
		want string
	}{
		{"selection", nil,
			`{"domain":"adapter","key":"cache","ordered":[` +
				`{"provider":"redis","score":[1,0,0,0,2],"selected":true,"reasons":["matched selection override redis","priority=0","stack_level=0","registration_order=2"]},` +
				`{"provider":"memcached","score":[0,0,50,1,1],"selected":false,"reasons":["selection override prefers redis","priority=50","stack_level=1","registration_order=1"]}]}`},
		{"selection and capabilities", []registry.ResolveOption{registry.Require("cluster")},
			`{"domain":"adapter","key":"cache","ordered":[` +
				`{"provider":"redis","score":[1,1,0,0,2],"selected":true,"reasons":["matched selection override redis","priority=0","capability_match=1/1","stack_level=0","registration_order=2"]}]}`},
		{"nothing qualifies", []registry.ResolveOption{registry.Provider("valkey")},
			`{"domain":"adapter","key":"cache","ordered":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(r.Explain("adapter", "cache", tt.opts...))
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(b))
		})
	}
}

// TestExplainString checks the readable table names every ranked provider
// and marks the winner.
func TestExplainString(t *testing.T) {
	r := registry.New()
	semRegister(t, r, semCache("memcached", 50))
	semRegister(t, r, semCache("redis", 10))

	s := r.Explain("adapter", "cache").String()
	assert.True(t, strings.HasPrefix(s, "adapter/cache: winner memcached\n"), s)
	assert.Regexp(t, `(?m)^\*1\s+memcached\s+\(0,0,50,0,1\)\s+priority=50; stack_level=0; registration_order=1$`, s)
	assert.Regexp(t, `(?m)^ 2\s+redis\s+\(0,0,10,0,2\)\s+priority=10; stack_level=0; registration_order=2$`, s)

	assert.Equal(t, "adapter/queue: no qualifying candidate\n", r.Explain("adapter", "queue").String())
}

// TestListActiveAndShadowed: ListActive gives the winner of every key of the
// domain, sorted by key; ListShadowed every other candidate, by key, then
// rank. Other domains do not show.
func TestListActiveAndShadowed(t *testing.T) {
	r := registry.New(registry.WithShards(1)) // every domain on one shard
	add := func(key, provider string, prio int) {
		semRegister(t, r, registry.Candidate{Domain: "adapter", Key: key, Provider: provider, Priority: new(prio)})
	}
	add("queue", "nats", 1)      // 1
	add("cache", "memcached", 1) // 2
	add("queue", "kafka", 5)     // 3
	add("cache", "redis", 9)     // 4
	add("cache", "valkey", 4)    // 5
	add("storage", "s3", 0)      // 6
	add("cache", "memcached", 1) // 7
	semRegister(t, r, registry.Candidate{Domain: "service", Key: "auth", Provider: "oidc"})
	semRegister(t, r, registry.Candidate{Domain: "adapterX", Key: "cache", Provider: "other"})

	active := r.ListActive("adapter")
	assert.Equal(t, []string{"redis", "kafka", "s3"}, semProviders(active))
	assert.Equal(t, []uint64{4, 3, 6}, semSeqs(active))
	for i, k := range []string{"cache", "queue", "storage"} {
		assert.Equal(t, k, active[i].Key())
	}

	shadowed := r.ListShadowed("adapter")
	assert.Equal(t, []string{"valkey", "memcached", "memcached", "nats"}, semProviders(shadowed))
	assert.Equal(t, []uint64{5, 7, 2, 1}, semSeqs(shadowed))

	assert.Empty(t, r.ListActive("unknown"))
	assert.Empty(t, r.ListShadowed("unknown"))
	assert.Empty(t, r.ListShadowed("service"))
	assert.Equal(t, []string{"oidc"}, semProviders(r.ListActive("service")))

	t.Run("a selection reorders the listings", func(t *testing.T) {
		require.NoError(t, r.Select("adapter", "cache", "memcached"))
		assert.Equal(t, []uint64{7, 3, 6}, semSeqs(r.ListActive("adapter")))
		assert.Equal(t, []uint64{2, 4, 5, 1}, semSeqs(r.ListShadowed("adapter")))
	})
}

// TestSelectionsAtConstruction: WithSelections sets selections (domain → key
// → provider) that apply to candidates registered later; the map is copied,
// and entries with invalid names or an empty provider are skipped.
func TestSelectionsAtConstruction(t *testing.T) {
	sel := map[string]map[string]string{
		"adapter":  {"cache": "redis", "queue": "", "\x00bad": "x"},
		"bad\xff":  {"cache": "redis"},
		"service":  {"auth": "ldap"},
		"tenant-1": {"cache": "memcached"},
	}
	r := registry.New(registry.WithSelections(sel))
	sel["adapter"]["cache"] = "memcached" // too late: New copied the map
	sel["service"] = map[string]string{"auth": "oidc"}

	semRegister(t, r, semCache("memcached", 50))
	semRegister(t, r, semCache("redis", 0))
	semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "queue", Provider: "nats", Priority: new(5)})
	semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "queue", Provider: "kafka", Priority: new(1)})
	semRegister(t, r, registry.Candidate{Domain: "service", Key: "auth", Provider: "oidc", Priority: new(9)})
	semRegister(t, r, registry.Candidate{Domain: "service", Key: "auth", Provider: "ldap"})

	tests := []struct {
		domain, key, winner, firstReason string
	}{
		{"adapter", "cache", "redis", "matched selection override redis"},
		{"adapter", "queue", "nats", "priority=5"}, // the empty selection was skipped
		{"service", "auth", "ldap", "matched selection override ldap"},
	}
	for _, tt := range tests {
		t.Run(tt.domain+"/"+tt.key, func(t *testing.T) {
			p, _ := semWinner(r, tt.domain, tt.key)
			assert.Equal(t, tt.winner, p)
			assert.Equal(t, tt.firstReason, r.Explain(tt.domain, tt.key).Ordered[0].Reasons[0])
		})
	}
	assert.Equal(t, []string{"adapter", "service"}, r.Domains(), "tenant-1 has only a selection")
}

// TestSelectAtRunTime: Select changes the selection and recomputes the key's
// winner at once; an empty provider clears it.
func TestSelectAtRunTime(t *testing.T) {
	r := registry.New()
	semRegister(t, r, semCache("memcached", 50))
	semRegister(t, r, semCache("redis", 0))
	semRegister(t, r, semCache("valkey", 10))
	steps := []struct {
		name     string
		provider string
		winner   string
		ranked   []string
	}{
		{"select redis", "redis", "redis", []string{"redis", "memcached", "valkey"}},
		{"select valkey", "valkey", "valkey", []string{"valkey", "memcached", "redis"}},
		{"select an absent provider", "absent", "memcached", []string{"memcached", "valkey", "redis"}},
		{"select redis again", "redis", "redis", []string{"redis", "memcached", "valkey"}},
		{"clear", "", "memcached", []string{"memcached", "valkey", "redis"}},
		{"clear again", "", "memcached", []string{"memcached", "valkey", "redis"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			require.NoError(t, r.Select("adapter", "cache", st.provider))
			p, _ := semWinner(r, "adapter", "cache")
			assert.Equal(t, st.winner, p)
			assert.Equal(t, st.winner, r.ListActive("adapter")[0].Provider())
			x := r.Explain("adapter", "cache")
			assert.Equal(t, st.ranked, semProviders(semRanked(x)))
			if st.provider == "" {
				assert.Equal(t, "priority=50", x.Ordered[0].Reasons[0], "no selection reason after clearing")
			}
		})
	}
	t.Run("clearing a selection given at construction", func(t *testing.T) {
		r := registry.New(registry.WithSelections(map[string]map[string]string{"adapter": {"cache": "redis"}}))
		semRegister(t, r, semCache("memcached", 50))
		semRegister(t, r, semCache("redis", 0))
		require.NoError(t, r.Select("adapter", "cache", ""))
		p, _ := semWinner(r, "adapter", "cache")
		assert.Equal(t, "memcached", p)
	})
	t.Run("a selection made before any candidate", func(t *testing.T) {
		r := registry.New()
		require.NoError(t, r.Select("adapter", "cache", "redis"))
		semRegister(t, r, semCache("redis", 0))
		semRegister(t, r, semCache("memcached", 50))
		p, _ := semWinner(r, "adapter", "cache")
		assert.Equal(t, "redis", p)
	})
}

// TestSelectionOutlivesUnregister: unregistering the selected provider
// leaves the selection in place; it applies again when the provider
// returns.
func TestSelectionOutlivesUnregister(t *testing.T) {
	tests := []struct {
		name   string
		others bool // whether another provider stays registered meanwhile
	}{
		{"with other candidates left", true},
		{"with the key emptied", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			require.NoError(t, r.Select("adapter", "cache", "redis"))
			if tt.others {
				semRegister(t, r, semCache("memcached", 50))
			}
			semRegister(t, r, semCache("redis", 0))
			p, _ := semWinner(r, "adapter", "cache")
			require.Equal(t, "redis", p)

			assert.Equal(t, 1, r.Unregister("adapter", "cache", "redis"))
			p, _ = semWinner(r, "adapter", "cache")
			if tt.others {
				assert.Equal(t, "memcached", p)
				assert.Equal(t, "selection override prefers redis", r.Explain("adapter", "cache").Ordered[0].Reasons[0])
			} else {
				assert.Empty(t, p)
				assert.Empty(t, r.Domains())
			}

			back := semRegister(t, r, semCache("redis", -10))
			w, ok := r.Resolve("adapter", "cache")
			require.True(t, ok)
			assert.Same(t, back, w)
			assert.Equal(t, "matched selection override redis", r.Explain("adapter", "cache").Ordered[0].Reasons[0])
		})
	}
}

// TestSelectionOnlyDomainNotListed: a domain with only selections is not
// listed by Domains() and lists nothing.
func TestSelectionOnlyDomainNotListed(t *testing.T) {
	r := registry.New(registry.WithSelections(map[string]map[string]string{"tenant-1": {"cache": "redis"}}))
	require.NoError(t, r.Select("tenant-2", "queue", "nats"))
	assert.Empty(t, r.Domains())
	assert.Empty(t, r.ListActive("tenant-1"))
	assert.Empty(t, r.ListShadowed("tenant-2"))
	assert.Empty(t, r.Snapshot().Domains())

	semRegister(t, r, registry.Candidate{Domain: "tenant-2", Key: "cache", Provider: "redis"})
	assert.Equal(t, []string{"tenant-2"}, r.Domains())

	r.Unregister("tenant-2", "cache", "redis")
	assert.Empty(t, r.Domains(), "the selection on tenant-2/queue does not keep it listed")
}

// TestUnregister: Unregister removes every candidate of the provider from
// the key, returns how many, recomputes the winner; an emptied key leaves
// the listings and an emptied domain leaves Domains().
func TestUnregister(t *testing.T) {
	r := registry.New()
	semRegister(t, r, semCache("redis", 10))                                                  // 1
	semRegister(t, r, semCache("memcached", 5))                                               // 2
	semRegister(t, r, semCache("redis", 1))                                                   // 3
	semRegister(t, r, semCache("", 0))                                                        // 4
	semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "queue", Provider: "redis"}) // 5
	semRegister(t, r, registry.Candidate{Domain: "service", Key: "auth", Provider: "oidc"})   // 6
	require.Equal(t, []string{"adapter", "service"}, r.Domains())

	steps := []struct {
		name     string
		domain   string
		key      string
		provider string
		removed  int
		ranked   []uint64 // adapter/cache, best first
		domains  []string
	}{
		{"absent provider", "adapter", "cache", "valkey", 0, []uint64{1, 2, 3, 4}, []string{"adapter", "service"}},
		{"absent key", "adapter", "storage", "redis", 0, []uint64{1, 2, 3, 4}, []string{"adapter", "service"}},
		{"absent domain", "event", "cache", "redis", 0, []uint64{1, 2, 3, 4}, []string{"adapter", "service"}},
		{"every candidate of the winner's provider", "adapter", "cache", "redis", 2, []uint64{2, 4}, []string{"adapter", "service"}},
		{"again: nothing left to remove", "adapter", "cache", "redis", 0, []uint64{2, 4}, []string{"adapter", "service"}},
		{"the empty provider", "adapter", "cache", "", 1, []uint64{2}, []string{"adapter", "service"}},
		{"the last candidate of a key", "adapter", "cache", "memcached", 1, nil, []string{"adapter", "service"}},
		{"the last key of a domain", "adapter", "queue", "redis", 1, nil, []string{"service"}},
		{"the last domain", "service", "auth", "oidc", 1, nil, []string{}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			assert.Equal(t, st.removed, r.Unregister(st.domain, st.key, st.provider))
			ranked := semSeqs(semRanked(r.Explain("adapter", "cache")))
			if st.ranked == nil {
				assert.Empty(t, ranked)
				_, ok := r.Resolve("adapter", "cache")
				assert.False(t, ok)
			} else {
				assert.Equal(t, st.ranked, ranked)
				_, seq := semWinner(r, "adapter", "cache")
				assert.Equal(t, st.ranked[0], seq, "the winner is recomputed")
			}
			assert.Equal(t, st.domains, r.Domains())
		})
	}
	t.Run("emptied key leaves the listings", func(t *testing.T) {
		assert.Empty(t, r.ListActive("adapter"))
		assert.Empty(t, r.ListShadowed("adapter"))
	})
}

// TestUnregisterKeepsOtherKeysListed: removing one key's candidates leaves
// the domain's other keys in place and in order.
func TestUnregisterKeepsOtherKeysListed(t *testing.T) {
	r := registry.New()
	for _, k := range []string{"a", "b", "c"} {
		semRegister(t, r, registry.Candidate{Domain: "adapter", Key: k, Provider: "p"})
		semRegister(t, r, registry.Candidate{Domain: "adapter", Key: k, Provider: "q"})
	}
	assert.Equal(t, 2, r.Unregister("adapter", "b", "q")+r.Unregister("adapter", "b", "p"))
	active := r.ListActive("adapter")
	require.Len(t, active, 2)
	assert.Equal(t, "a", active[0].Key())
	assert.Equal(t, "c", active[1].Key())
	assert.Len(t, r.ListShadowed("adapter"), 2)
	assert.Equal(t, []string{"adapter"}, r.Domains())
}

// TestListingCostIsPerDomain: ListActive and ListShadowed cost in proportion
// to their domain's size, never to the whole registry's. Measured in
// allocations (not time): listing a small domain allocates the same whether
// or not a large domain shares its shard. A listing that scanned the shard
// and kept its domain's keys would allocate the same too; shard's
// TestViewReadsOnlyItsDomain checks that a View reads its domain's table
// alone.
func TestListingCostIsPerDomain(t *testing.T) {
	r := registry.New(registry.WithShards(1)) // every domain on one shard
	for _, k := range []string{"cache", "queue"} {
		semRegister(t, r, registry.Candidate{Domain: "small", Key: k, Provider: "a"})
		semRegister(t, r, registry.Candidate{Domain: "small", Key: k, Provider: "b"})
	}
	measure := func() (active, shadowed float64) {
		active = testing.AllocsPerRun(100, func() { _ = r.ListActive("small") })
		shadowed = testing.AllocsPerRun(100, func() { _ = r.ListShadowed("small") })
		return active, shadowed
	}
	activeBefore, shadowedBefore := measure()

	for i := range 2000 {
		key := "key-" + strconv.Itoa(i)
		semRegister(t, r, registry.Candidate{Domain: "large", Key: key, Provider: "p"})
		semRegister(t, r, registry.Candidate{Domain: "large", Key: key, Provider: "q"})
	}
	require.Len(t, r.ListActive("large"), 2000)
	activeAfter, shadowedAfter := measure()

	assert.Equal(t, activeBefore, activeAfter, "ListActive(small) allocations grew with another domain")
	assert.Equal(t, shadowedBefore, shadowedAfter, "ListShadowed(small) allocations grew with another domain")
	assert.Equal(t, []string{"b", "b"}, semProviders(r.ListActive("small")))
}

// TestResolveAllocatesNothing pins Resolve without options at exactly zero
// allocations: one measured run makes 100,000 calls (hits, misses of a key
// and of a domain, keys of one and of many candidates), so a single
// allocation anywhere in them fails, where go test's allocs/op, a whole
// number a call, would read anything under one a call as 0.
func TestResolveAllocatesNothing(t *testing.T) {
	r := registry.New()
	var keys []string
	for i := range 100 {
		k := "key-" + strconv.Itoa(i)
		keys = append(keys, k)
		for p := range 1 + i%7*10 { // 1 to 61 candidates: few and large keys
			semRegister(t, r, registry.Candidate{Domain: "adapter", Key: k, Provider: "p" + strconv.Itoa(p)})
		}
	}
	keys = append(keys, "missing")
	const calls = 100_000
	var found int
	allocs := testing.AllocsPerRun(1, func() {
		found = 0
		for i := range calls {
			dom := "adapter"
			if i%97 == 0 {
				dom = "nowhere"
			}
			if _, ok := r.Resolve(dom, keys[i%len(keys)]); ok {
				found++
			}
		}
	})
	assert.Zero(t, allocs, "allocations in %d calls of Resolve", calls)
	assert.Greater(t, found, calls*9/10)
}

// TestNewSkipsNilOptions: a nil Option is skipped, like a nil ResolveOption,
// instead of panicking.
func TestNewSkipsNilOptions(t *testing.T) {
	var r *registry.Registry
	require.NotPanics(t, func() { r = registry.New(nil, registry.WithShards(2), nil) })
	assert.Equal(t, 2, r.Shards())
}
