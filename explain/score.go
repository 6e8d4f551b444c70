package explain

import (
	"cmp"
	"slices"
	"strconv"

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
// candidate.
type Query struct {
	Provider string   // "" means any provider
	Required []string // as returned by [domain.NormalizeRequired]
	Any      bool     // true: one required capability suffices
}

// NewQuery returns a Query with required capabilities normalised: trimmed, empty
// ones dropped, duplicates counted once.
func NewQuery(provider string, required []string, any bool) Query {
	return Query{Provider: provider, Required: domain.NormalizeRequired(required), Any: any}
}

// IsZero reports whether q admits every candidate with its default score.
func (q *Query) IsZero() bool { return q.Provider == "" && len(q.Required) == 0 }

// Match reports whether e qualifies under q and, if so, how many of the
// required capabilities it has. It allocates nothing.
func (q *Query) Match(e *domain.Entry) (int, bool) {
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

// Order sorts entries in place by their score without required capabilities,
// best first, for the given selection.
func Order(entries []*domain.Entry, selected string) {
	slices.SortFunc(entries, func(a, b *domain.Entry) int {
		return ScoreOf(b, selected, 0).Compare(ScoreOf(a, selected, 0))
	})
}

// InsertPos returns the index at which e belongs in entries, which are in the
// order [Order] gives, found by binary search.
func InsertPos(entries []*domain.Entry, e *domain.Entry, selected string) int {
	s := ScoreOf(e, selected, 0)
	i, _ := slices.BinarySearchFunc(entries, s, func(x *domain.Entry, s Score) int {
		return s.Compare(ScoreOf(x, selected, 0))
	})
	return i
}

// Best returns the best-ranked entry that qualifies under q. entries must be
// in the order [Order] gives. It allocates nothing.
func Best(entries []*domain.Entry, selected string, q *Query) (*domain.Entry, bool) {
	if len(q.Required) == 0 {
		// Without required capabilities the default order is the rank order:
		// the first that qualifies wins.
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
		if s := ScoreOf(e, selected, m); best == nil || s.Compare(bestS) > 0 {
			best, bestS = e, s
		}
	}
	return best, best != nil
}

// reasons returns the reason strings of a rank, in the documented order.
func reasons(e *domain.Entry, selected string, s Score, q *Query) []string {
	out := make([]string, 0, 5)
	if selected != "" {
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
