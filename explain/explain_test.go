package explain_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/explain"
)

// cand describes an entry to build for a test.
type cand struct {
	provider string
	priority int
	stack    int
	caps     []string
}

// entries turns cands into entries of adapter/cache with sequence numbers 1,
// 2, 3, … in the order given.
func entries(t *testing.T, cs ...cand) []*domain.Entry {
	t.Helper()
	out := make([]*domain.Entry, len(cs))
	for i, c := range cs {
		d, err := domain.Prepare(domain.Candidate{
			Domain: "adapter", Key: "cache", Provider: c.provider,
			Priority: new(c.priority), StackLevel: c.stack, Capabilities: c.caps,
		}, 0, "")
		require.NoError(t, err)
		out[i] = d.Finish(uint64(i+1), time.Now())
	}
	return out
}

// build orders es for selected, as the registry keeps them, and explains them.
func build(es []*domain.Entry, selected string, q explain.Query) *explain.Explanation {
	es = append([]*domain.Entry(nil), es...)
	explain.Order(es, selected)
	return explain.Build("adapter", "cache", es, selected, &q)
}

func providers(x *explain.Explanation) []string {
	var out []string
	for _, r := range x.Ordered {
		out = append(out, r.Entry.Provider())
	}
	return out
}

// TestScoreCompare checks the lexicographic order of the score tuple, one
// case for each position deciding.
func TestScoreCompare(t *testing.T) {
	base := explain.Score{Override: 0, CapabilityMatch: 1, Priority: 10, StackLevel: 2, Sequence: 5}
	tests := []struct {
		name   string
		higher explain.Score
		lower  explain.Score
	}{
		{"override beats everything after it",
			explain.Score{Override: 1},
			explain.Score{CapabilityMatch: 9, Priority: 99, StackLevel: 99, Sequence: 99}},
		{"capability_match beats priority, stack_level, sequence",
			explain.Score{CapabilityMatch: 2},
			explain.Score{CapabilityMatch: 1, Priority: 99, StackLevel: 99, Sequence: 99}},
		{"priority beats stack_level and sequence",
			explain.Score{Priority: 11},
			explain.Score{Priority: 10, StackLevel: 99, Sequence: 99}},
		{"negative priority is lower",
			explain.Score{Priority: 0},
			explain.Score{Priority: -1, StackLevel: 99, Sequence: 99}},
		{"stack_level beats sequence",
			explain.Score{StackLevel: 3},
			explain.Score{StackLevel: 2, Sequence: 99}},
		{"sequence decides the rest",
			explain.Score{Sequence: 6},
			explain.Score{Sequence: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, 1, tt.higher.Compare(tt.lower))
			assert.Equal(t, -1, tt.lower.Compare(tt.higher))
		})
	}
	t.Run("equal", func(t *testing.T) {
		assert.Equal(t, 0, base.Compare(base))
	})
}

// TestBuildReasons pins each rank's reason strings and their order, with and
// without a selection and with and without required capabilities.
func TestBuildReasons(t *testing.T) {
	es := entries(t,
		cand{provider: "memcached", priority: 50, stack: 1, caps: []string{"ttl"}},
		cand{provider: "redis", priority: 10, stack: 2, caps: []string{"ttl", "cluster"}},
	)
	tests := []struct {
		name     string
		selected string
		query    explain.Query
		want     [][]string // reasons per rank, best first
		order    []string
	}{
		{"no selection, no capabilities", "", explain.Query{},
			[][]string{
				{"priority=50", "stack_level=1", "registration_order=1"},
				{"priority=10", "stack_level=2", "registration_order=2"},
			}, []string{"memcached", "redis"}},
		{"selection matched and preferred", "redis", explain.Query{},
			[][]string{
				{"matched selection override redis", "priority=10", "stack_level=2", "registration_order=2"},
				{"selection override prefers redis", "priority=50", "stack_level=1", "registration_order=1"},
			}, []string{"redis", "memcached"}},
		{"selection of an absent provider", "valkey", explain.Query{},
			[][]string{
				{"selection override prefers valkey", "priority=50", "stack_level=1", "registration_order=1"},
				{"selection override prefers valkey", "priority=10", "stack_level=2", "registration_order=2"},
			}, []string{"memcached", "redis"}},
		{"capabilities required, any", "", explain.NewQuery("", []string{"ttl", "cluster"}, true),
			[][]string{
				{"priority=10", "capability_match=2/2", "stack_level=2", "registration_order=2"},
				{"priority=50", "capability_match=1/2", "stack_level=1", "registration_order=1"},
			}, []string{"redis", "memcached"}},
		{"selection and capabilities", "memcached", explain.NewQuery("", []string{"ttl", "cluster"}, true),
			[][]string{
				{"matched selection override memcached", "priority=50", "capability_match=1/2", "stack_level=1", "registration_order=1"},
				{"selection override prefers memcached", "priority=10", "capability_match=2/2", "stack_level=2", "registration_order=2"},
			}, []string{"memcached", "redis"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := build(es, tt.selected, tt.query)
			require.Equal(t, tt.order, providers(x))
			for i, r := range x.Ordered {
				assert.Equal(t, tt.want[i], r.Reasons, "rank %d", i)
				assert.Equal(t, i == 0, r.Selected, "rank %d", i)
			}
		})
	}
}

// TestBuildScores checks the score recorded for each rank.
func TestBuildScores(t *testing.T) {
	es := entries(t,
		cand{provider: "memcached", priority: 50, stack: 1, caps: []string{"ttl"}},
		cand{provider: "redis", priority: -5, stack: 2, caps: []string{"ttl", "cluster"}},
	)
	x := build(es, "redis", explain.NewQuery("", []string{"cluster", "ttl"}, true))
	require.Len(t, x.Ordered, 2)
	assert.Equal(t, explain.Score{Override: 1, CapabilityMatch: 2, Priority: -5, StackLevel: 2, Sequence: 2}, x.Ordered[0].Score)
	assert.Equal(t, explain.Score{Override: 0, CapabilityMatch: 1, Priority: 50, StackLevel: 1, Sequence: 1}, x.Ordered[1].Score)
}

// TestQueryMatch checks who qualifies: provider filter, require all, require
// any.
func TestQueryMatch(t *testing.T) {
	es := entries(t,
		cand{provider: "a", caps: []string{"x"}},
		cand{provider: "b", caps: []string{"x", "y"}},
		cand{provider: "c"},
	)
	tests := []struct {
		name  string
		query explain.Query
		want  []string // qualifying providers, best first (all priorities 0: latest first)
	}{
		{"zero query admits all", explain.Query{}, []string{"c", "b", "a"}},
		{"provider filter", explain.NewQuery("b", nil, false), []string{"b"}},
		{"require all", explain.NewQuery("", []string{"x", "y"}, false), []string{"b"}},
		{"require any", explain.NewQuery("", []string{"x", "y"}, true), []string{"b", "a"}},
		{"require any, none has it", explain.NewQuery("", []string{"z"}, true), nil},
		{"blank requirements require nothing", explain.NewQuery("", []string{" ", ""}, false), []string{"c", "b", "a"}},
		{"provider and capabilities", explain.NewQuery("a", []string{"y"}, false), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, providers(build(es, "", tt.query)))

			ordered := append([]*domain.Entry(nil), es...)
			explain.Order(ordered, "")
			best, ok := explain.Best(ordered, "", &tt.query)
			if tt.want == nil {
				assert.False(t, ok)
				assert.Nil(t, best)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tt.want[0], best.Provider())
		})
	}
}

// TestWinnerEmpty checks that an explanation with no selected rank has no
// winner.
func TestWinnerEmpty(t *testing.T) {
	es := entries(t, cand{provider: "redis"})
	tests := []struct {
		name string
		x    *explain.Explanation
	}{
		{"nil explanation", nil},
		{"zero explanation", &explain.Explanation{}},
		{"nothing qualifies", build(es, "", explain.NewQuery("", []string{"absent"}, false))},
		{"ranks but none selected", &explain.Explanation{Domain: "adapter", Key: "cache", Ordered: []explain.Rank{{Entry: es[0]}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, ok := tt.x.Winner()
			assert.False(t, ok)
			assert.Nil(t, w)
		})
	}
	t.Run("selected rank need not be first", func(t *testing.T) {
		x := &explain.Explanation{Ordered: []explain.Rank{{Entry: es[0], Selected: true}}}
		w, ok := x.Winner()
		require.True(t, ok)
		assert.Same(t, es[0], w)
	})
}

// TestExplanationJSON compares the whole JSON form with the one SPEC.md
// gives.
func TestExplanationJSON(t *testing.T) {
	es := entries(t,
		cand{provider: "memcached", priority: 50, stack: 1, caps: []string{"ttl"}},
		cand{provider: "redis", priority: 10},
	)
	tests := []struct {
		name string
		x    *explain.Explanation
		want string
	}{
		{"selection", build(es, "redis", explain.Query{}),
			`{"domain":"adapter","key":"cache","ordered":[` +
				`{"provider":"redis","score":[1,0,10,0,2],"selected":true,"reasons":["matched selection override redis","priority=10","stack_level=0","registration_order=2"]},` +
				`{"provider":"memcached","score":[0,0,50,1,1],"selected":false,"reasons":["selection override prefers redis","priority=50","stack_level=1","registration_order=1"]}` +
				`]}`},
		{"provider filter", build(es, "", explain.NewQuery("memcached", nil, false)),
			`{"domain":"adapter","key":"cache","ordered":[` +
				`{"provider":"memcached","score":[0,0,50,1,1],"selected":true,"reasons":["priority=50","stack_level=1","registration_order=1"]}` +
				`]}`},
		{"capabilities", build(es, "", explain.NewQuery("", []string{"ttl", "cluster"}, true)),
			`{"domain":"adapter","key":"cache","ordered":[` +
				`{"provider":"memcached","score":[0,1,50,1,1],"selected":true,"reasons":["priority=50","capability_match=1/2","stack_level=1","registration_order=1"]}` +
				`]}`},
		{"nothing qualifies: ordered is [], not null", build(es, "", explain.NewQuery("absent", nil, false)),
			`{"domain":"adapter","key":"cache","ordered":[]}`},
		{"zero value", &explain.Explanation{},
			`{"domain":"","key":"","ordered":[]}`},
		{"nil reasons are []", &explain.Explanation{Domain: "d", Key: "k", Ordered: []explain.Rank{{Entry: es[0], Selected: true}}},
			`{"domain":"d","key":"k","ordered":[{"provider":"memcached","score":[0,0,0,0,0],"selected":true,"reasons":[]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.x)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(b))

			v, err := json.Marshal(*tt.x) // the value form marshals the same way
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(v))
		})
	}
}

// TestExplanationString checks the readable table: a header naming the
// winner, one line per rank with its score and reasons, the winner marked
// with "*".
func TestExplanationString(t *testing.T) {
	es := entries(t,
		cand{provider: "memcached", priority: 50, stack: 1},
		cand{provider: "redis", priority: 10},
		cand{provider: "", priority: 0},
	)
	t.Run("with a winner", func(t *testing.T) {
		s := build(es, "redis", explain.Query{}).String()
		lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		require.Len(t, lines, 5, s)
		assert.Equal(t, "adapter/cache: winner redis", lines[0])
		assert.Contains(t, lines[1], "PROVIDER")
		assert.Regexp(t, `^\*1\s+redis\s+\(1,0,10,0,2\)\s+matched selection override redis; priority=10; stack_level=0; registration_order=2$`, lines[2])
		assert.Regexp(t, `^ 2\s+memcached\s+\(0,0,50,1,1\)\s+selection override prefers redis; priority=50`, lines[3])
		assert.Regexp(t, `^ 3\s+""\s+\(0,0,0,0,3\)`, lines[4], "an empty provider is shown as \"\"")
		assert.Equal(t, 1, strings.Count(s, "*"), "only the winner is marked")
	})
	t.Run("a rank without an entry, as MarshalJSON allows", func(t *testing.T) {
		x := &explain.Explanation{Domain: "d", Key: "k", Ordered: []explain.Rank{{Selected: true, Reasons: []string{"hand-made"}}}}
		var s string
		require.NotPanics(t, func() { s = x.String() })
		assert.True(t, strings.HasPrefix(s, "d/k: winner \"\"\n"), s)
		assert.Regexp(t, `(?m)^\*1\s+""\s+\(0,0,0,0,0\)\s+hand-made$`, s)
	})
	t.Run("nothing qualifies", func(t *testing.T) {
		s := build(es, "", explain.NewQuery("absent", nil, false)).String()
		assert.Equal(t, "adapter/cache: no qualifying candidate\n", s)
	})
}

// TestExplanationIsTheCallers checks that an Explanation shares no slice
// with the entries it was built from, or with another explanation.
func TestExplanationIsTheCallers(t *testing.T) {
	es := entries(t, cand{provider: "a"}, cand{provider: "b"})
	ordered := append([]*domain.Entry(nil), es...)
	explain.Order(ordered, "")
	q := explain.Query{}
	x := explain.Build("adapter", "cache", ordered, "", &q)
	x.Ordered[0].Reasons[0] = "changed"
	x.Ordered[0], x.Ordered[1] = x.Ordered[1], x.Ordered[0]

	y := explain.Build("adapter", "cache", ordered, "", &q)
	assert.Equal(t, []string{"b", "a"}, providers(y))
	assert.Equal(t, "priority=0", y.Ordered[0].Reasons[0])
	assert.Equal(t, "b", ordered[0].Provider())
}

// TestNilQueryIsTheZeroQuery: wherever a *Query is taken, nil admits every
// candidate, as the zero Query does, instead of panicking.
func TestNilQueryIsTheZeroQuery(t *testing.T) {
	es := entries(t, cand{"redis", 20, 0, []string{"ttl"}}, cand{"memcached", 10, 0, nil}, cand{"valkey", 20, 1, nil})
	explain.Order(es, "memcached")
	var zero explain.Query
	assert.Equal(t, explain.Build("adapter", "cache", es, "memcached", &zero), explain.Build("adapter", "cache", es, "memcached", nil))
	p := explain.Policy{Selected: "memcached"}
	assert.Equal(t, p.Build("adapter", "cache", es, &zero), p.Build("adapter", "cache", es, nil))

	want, ok := explain.Best(es, "memcached", &zero)
	require.True(t, ok)
	got, ok := explain.Best(es, "memcached", nil)
	assert.True(t, ok)
	assert.Same(t, want, got)

	var q *explain.Query
	assert.True(t, q.IsZero())
	m, ok := q.Match(es[0])
	assert.True(t, ok)
	assert.Zero(t, m)
}

// TestNilExplanationString: a nil Explanation prints as fmt prints a nil
// pointer, without panicking.
func TestNilExplanationString(t *testing.T) {
	var x *explain.Explanation
	assert.Equal(t, "<nil>", x.String())
}

// TestHandSetRequiredIsNormalised: a Query whose Required was set by hand,
// with duplicates, padding and empty names, scores and filters as the
// normalised one: a duplicate counts once.
func TestHandSetRequiredIsNormalised(t *testing.T) {
	es := entries(t, cand{"redis", 20, 0, []string{"ttl"}}, cand{"valkey", 10, 0, []string{"ttl", "cluster"}})
	explain.Order(es, "")
	raw := &explain.Query{Required: []string{"ttl", " ttl", "", "cluster", "ttl"}}
	norm := explain.NewQuery("", []string{"cluster", "ttl"}, false)
	assert.Equal(t, explain.Build("adapter", "cache", es, "", &norm), explain.Build("adapter", "cache", es, "", raw))
	for _, e := range es {
		wm, wok := norm.Match(e)
		gm, gok := raw.Match(e)
		assert.Equal(t, wm, gm, e.Provider())
		assert.Equal(t, wok, gok, e.Provider())
	}
	raw.Any = true
	norm.Any = true
	x := explain.Build("adapter", "cache", es, "", raw)
	require.NotEmpty(t, x.Ordered)
	assert.Equal(t, 2, x.Ordered[0].Score.CapabilityMatch)
	assert.Contains(t, x.Ordered[0].Reasons, "capability_match=2/2")
	want, _ := explain.Best(es, "", &norm)
	got, _ := explain.Best(es, "", raw)
	assert.Same(t, want, got)
	assert.Equal(t, []string{"ttl", " ttl", "", "cluster", "ttl"}, raw.Required, "the caller's query is not modified")
	assert.True(t, (&explain.Query{Required: []string{" ", ""}}).IsZero())
}
