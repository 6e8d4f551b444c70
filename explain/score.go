package explain

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/oneiric-go/oneiric/domain"
)

// Score is the rank of a candidate, compared field by field in declaration
// order; higher wins.
type Score struct {
	Override        int    // 1 when a selection names the candidate's provider
	CapabilityMatch int    // how many required capabilities the candidate has
	Priority        int    // the candidate's effective priority
	StackLevel      int    // the candidate's stack level
	Sequence        uint64 // the registration's sequence number
}

// Compare returns +1 when s ranks above o, -1 when below, 0 when equal.
func (s Score) Compare(o Score) int {
	if c := cmp.Compare(s.Override, o.Override); c != 0 {
		return c
	}
	if c := cmp.Compare(s.CapabilityMatch, o.CapabilityMatch); c != 0 {
		return c
	}
	if c := cmp.Compare(s.Priority, o.Priority); c != 0 {
		return c
	}
	if c := cmp.Compare(s.StackLevel, o.StackLevel); c != 0 {
		return c
	}
	return cmp.Compare(s.Sequence, o.Sequence)
}

// Query says which candidates qualify and how they are scored: an optional
// provider filter and a set of required capabilities, all of which (the
// default) or any of which a candidate must offer. The zero Query admits every
// candidate, and so does a nil *Query wherever one is taken.
type Query struct {
	Provider string   // "" means any provider
	Required []string // as [domain.NormalizeRequired] returns it; normalised where used if set otherwise
	Any      bool     // true: one required capability suffices
}

// NewQuery returns a Query with required capabilities normalised: trimmed, empty
// ones dropped, duplicates counted once.
func NewQuery(provider string, required []string, any bool) Query {
	return Query{Provider: provider, Required: domain.NormalizeRequired(required), Any: any}
}

// IsZero reports whether q admits every candidate with its default score.
func (q *Query) IsZero() bool {
	q = q.orAny()
	return q.Provider == "" && len(q.Required) == 0
}

// anyQuery is the zero Query, which nil stands for. It must not be modified.
var anyQuery = &Query{}

// orAny returns the query every function taking a *Query works with: the
// zero Query when q is nil, else q, or a copy of q with Required normalised
// when a caller set it by hand without [domain.NormalizeRequired] (a
// duplicate would otherwise count twice). Only that copy allocates.
func (q *Query) orAny() *Query {
	if q == nil {
		return anyQuery
	}
	if !normalized(q.Required) {
		c := *q
		c.Required = domain.NormalizeRequired(q.Required)
		return &c
	}
	return q
}

// normalized reports whether req is as [domain.NormalizeRequired] returns
// it: trimmed, non-empty names in strictly increasing order.
func normalized(req []string) bool {
	for i, c := range req {
		if c == "" || strings.TrimSpace(c) != c || i > 0 && req[i-1] >= c {
			return false
		}
	}
	return true
}

// Match reports whether e qualifies under q and, if so, how many of the
// required capabilities it has. It allocates nothing, unless q.Required was
// set without [domain.NormalizeRequired].
func (q *Query) Match(e *domain.Entry) (int, bool) {
	q = q.orAny()
	if q.Provider != "" && e.Provider() != q.Provider {
		return 0, false
	}
	if len(q.Required) == 0 {
		return 0, true
	}
	n := 0
	for _, c := range q.Required {
		if e.HasCapability(c) {
			n++
		}
	}
	if q.Any {
		return n, n > 0
	}
	return n, n == len(q.Required)
}

// ScoreOf returns the score of e when selected is the provider a selection
// names ("" for none) and match its count of required capabilities.
func ScoreOf(e *domain.Entry, selected string, match int) Score {
	o := 0
	if selected != "" && e.Provider() == selected {
		o = 1
	}
	return Score{Override: o, CapabilityMatch: match, Priority: e.Priority(), StackLevel: e.StackLevel(), Sequence: e.Sequence()}
}

// Policy is what ranks a key's candidates besides their own fields: the
// provider the key's selection names and the providers marked unhealthy. An
// unhealthy candidate ranks below every healthy one, whatever its score, so
// it never wins while a healthy candidate qualifies. The zero Policy has no
// selection and no unhealthy provider.
type Policy struct {
	Selected  string   // "" for no selection
	Unhealthy []string // sorted; nil when every provider is healthy
}

// Healthy reports whether e's provider is not marked unhealthy.
func (p Policy) Healthy(e *domain.Entry) bool {
	if len(p.Unhealthy) == 0 {
		return true
	}
	_, found := slices.BinarySearch(p.Unhealthy, e.Provider())
	return !found
}

// compare ranks a and b, whose scores are sa and sb: +1 when a ranks above b.
func (p Policy) compare(a, b *domain.Entry, sa, sb Score) int {
	if ha, hb := p.Healthy(a), p.Healthy(b); ha != hb {
		if ha {
			return 1
		}
		return -1
	}
	return sa.Compare(sb)
}

// Order sorts entries in place by rank without required capabilities, best
// first, for a key without unhealthy candidates; see [Policy.Order].
func Order(entries []*domain.Entry, selected string) { Policy{Selected: selected}.Order(entries) }

// Order sorts entries in place by rank without required capabilities, best
// first: healthy before unhealthy, then by score.
func (p Policy) Order(entries []*domain.Entry) {
	slices.SortFunc(entries, func(a, b *domain.Entry) int {
		return p.compare(b, a, ScoreOf(b, p.Selected, 0), ScoreOf(a, p.Selected, 0))
	})
}

// InsertPos returns the index at which e belongs in entries, for a key
// without unhealthy candidates; see [Policy.InsertPos].
func InsertPos(entries []*domain.Entry, e *domain.Entry, selected string) int {
	return Policy{Selected: selected}.InsertPos(entries, e)
}

// InsertPos returns the index at which e belongs in entries, which are in the
// order [Policy.Order] gives, found by binary search.
func (p Policy) InsertPos(entries []*domain.Entry, e *domain.Entry) int {
	if p.plain() {
		// The common case, without calls through a closure: a key's
		// insertion is a few of these comparisons, and a large key's many.
		lo, hi := 0, len(entries)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if plainAbove(e, entries[m]) {
				hi = m
			} else {
				lo = m + 1
			}
		}
		return lo
	}
	s := ScoreOf(e, p.Selected, 0)
	i, _ := slices.BinarySearchFunc(entries, e, func(x, e *domain.Entry) int {
		return p.compare(e, x, s, ScoreOf(x, p.Selected, 0))
	})
	return i
}

// Above reports whether a ranks above b without required capabilities.
func (p Policy) Above(a, b *domain.Entry) bool {
	if p.plain() {
		return plainAbove(a, b)
	}
	return p.compare(a, b, ScoreOf(a, p.Selected, 0), ScoreOf(b, p.Selected, 0)) > 0
}

// plain reports whether p is the zero Policy, under which the rank without
// required capabilities is the order of the score's last three fields.
func (p Policy) plain() bool { return p.Selected == "" && len(p.Unhealthy) == 0 }

// plainAbove reports whether a ranks above b under the zero Policy: it is
// [Score.Compare] for two scores whose Override and CapabilityMatch are 0.
func plainAbove(a, b *domain.Entry) bool {
	if pa, pb := a.Priority(), b.Priority(); pa != pb {
		return pa > pb
	}
	if sa, sb := a.StackLevel(), b.StackLevel(); sa != sb {
		return sa > sb
	}
	return a.Sequence() > b.Sequence()
}

// Best returns the best-ranked entry that qualifies under q, for a key
// without unhealthy candidates; see [Policy.Best].
func Best(entries []*domain.Entry, selected string, q *Query) (*domain.Entry, bool) {
	return Policy{Selected: selected}.Best(entries, q)
}

// Best returns the best-ranked entry that qualifies under q. entries must be
// in the order [Policy.Order] gives. It allocates nothing, unless q.Required
// was set without [domain.NormalizeRequired].
func (p Policy) Best(entries []*domain.Entry, q *Query) (*domain.Entry, bool) {
	q = q.orAny()
	if len(q.Required) == 0 {
		// Without required capabilities the order is the rank order: the
		// first that qualifies wins.
		for _, e := range entries {
			if q.Provider == "" || e.Provider() == q.Provider {
				return e, true
			}
		}
		return nil, false
	}
	var (
		best  *domain.Entry
		bestS Score
	)
	for _, e := range entries {
		m, ok := q.Match(e)
		if !ok {
			continue
		}
		if s := ScoreOf(e, p.Selected, m); best == nil || p.compare(e, best, s, bestS) > 0 {
			best, bestS = e, s
		}
	}
	return best, best != nil
}

// reasons returns the reason strings of a rank, in the documented order,
// preceded by "unhealthy" for a candidate marked unhealthy.
func reasons(e *domain.Entry, p Policy, s Score, q *Query) []string {
	out := make([]string, 0, 6)
	if !p.Healthy(e) {
		out = append(out, "unhealthy")
	}
	if selected := p.Selected; selected != "" {
		if s.Override == 1 {
			out = append(out, "matched selection override "+selected)
		} else {
			out = append(out, "selection override prefers "+selected)
		}
	}
	out = append(out, "priority="+strconv.Itoa(s.Priority))
	if len(q.Required) > 0 {
		out = append(out, "capability_match="+strconv.Itoa(s.CapabilityMatch)+"/"+strconv.Itoa(len(q.Required)))
	}
	out = append(out, "stack_level="+strconv.Itoa(s.StackLevel), "registration_order="+strconv.FormatUint(s.Sequence, 10))
	return out
}
