package explain

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/oneiric-go/oneiric/domain"
)

// Rank is one qualifying candidate in an [Explanation].
type Rank struct {
	Entry    *domain.Entry
	Score    Score
	Reasons  []string // see [Build] for their order
	Selected bool     // true for the winner, which is always the first rank
}

// Explanation is the ranking of the qualifying candidates of one (domain, key),
// best first. It is a plain value owned by whoever holds it; changing it
// changes nothing in the registry.
type Explanation struct {
	Domain, Key string
	Ordered     []Rank
}

// Build ranks the candidates of (dom, key) under q. entries must be in the
// order [Order] gives for selected, the provider the key's selection names (""
// for none), and the key has no unhealthy candidate. A nil q is the zero
// [Query]. Only candidates that qualify under q appear; the first is marked
// selected. Each rank's reasons are, in this order: "matched selection
// override P" or "selection override prefers P" (only when a selection
// exists), "priority=N", "capability_match=M/R" (only when capabilities are
// required), "stack_level=N", "registration_order=SEQ".
func Build(dom, key string, entries []*domain.Entry, selected string, q *Query) *Explanation {
	return Policy{Selected: selected}.Build(dom, key, entries, q)
}

// Build is [Build] for a key ranked by p: entries must be in the order
// [Policy.Order] gives. A candidate marked unhealthy ranks below every
// healthy one and has the reason "unhealthy" first.
func (p Policy) Build(dom, key string, entries []*domain.Entry, q *Query) *Explanation {
	q = q.orAny()
	x := &Explanation{Domain: dom, Key: key, Ordered: make([]Rank, 0, len(entries))}
	for _, e := range entries {
		m, ok := q.Match(e)
		if !ok {
			continue
		}
		s := ScoreOf(e, p.Selected, m)
		x.Ordered = append(x.Ordered, Rank{Entry: e, Score: s, Reasons: reasons(e, p, s, q)})
	}
	if len(q.Required) > 0 {
		slices.SortFunc(x.Ordered, func(a, b Rank) int { return p.compare(b.Entry, a.Entry, b.Score, a.Score) })
	}
	if len(x.Ordered) > 0 {
		x.Ordered[0].Selected = true
	}
	return x
}

// Winner returns the entry of the selected rank, or (nil, false) when no rank
// is selected.
func (e *Explanation) Winner() (*domain.Entry, bool) {
	if e == nil {
		return nil, false
	}
	for _, r := range e.Ordered {
		if r.Selected {
			return r.Entry, true
		}
	}
	return nil, false
}

type rankJSON struct {
	Provider string   `json:"provider"`
	ScoreRaw []any    `json:"score"`
	Selected bool     `json:"selected"`
	Reasons  []string `json:"reasons"`
}

// MarshalJSON returns the form
// {"domain":…,"key":…,"ordered":[{"provider":…,"score":[o,c,p,s,seq],"selected":…,"reasons":[…]}]}.
// ordered is [] (never null) when nothing qualifies.
func (e Explanation) MarshalJSON() ([]byte, error) {
	out := struct {
		Domain  string     `json:"domain"`
		Key     string     `json:"key"`
		Ordered []rankJSON `json:"ordered"`
	}{Domain: e.Domain, Key: e.Key, Ordered: make([]rankJSON, 0, len(e.Ordered))}
	for _, r := range e.Ordered {
		reasons := r.Reasons
		if reasons == nil {
			reasons = []string{}
		}
		s := r.Score
		out.Ordered = append(out.Ordered, rankJSON{
			Provider: providerOf(r.Entry),
			ScoreRaw: []any{s.Override, s.CapabilityMatch, s.Priority, s.StackLevel, s.Sequence},
			Selected: r.Selected,
			Reasons:  reasons,
		})
	}
	return json.Marshal(out)
}

// String returns a readable table of the ranking: one line per qualifying
// candidate, the winner marked with "*". A nil Explanation gives "<nil>",
// as fmt prints it.
func (e *Explanation) String() string {
	if e == nil {
		return "<nil>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s: ", e.Domain, e.Key)
	if w, ok := e.Winner(); ok {
		fmt.Fprintf(&b, "winner %s\n", quoteProvider(providerOf(w)))
	} else {
		b.WriteString("no qualifying candidate\n")
		return b.String()
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RANK\tPROVIDER\tSCORE (o,c,p,s,seq)\tREASONS")
	for i, r := range e.Ordered {
		mark := " "
		if r.Selected {
			mark = "*"
		}
		s := r.Score
		fmt.Fprintf(tw, "%s%d\t%s\t(%d,%d,%d,%d,%d)\t%s\n", mark, i+1, quoteProvider(providerOf(r.Entry)),
			s.Override, s.CapabilityMatch, s.Priority, s.StackLevel, s.Sequence, strings.Join(r.Reasons, "; "))
	}
	tw.Flush()
	return b.String()
}

// providerOf returns the provider of e, or "" for a rank without an entry
// (an Explanation is a plain value, so a caller may build one without
// entries; neither String nor MarshalJSON may then panic).
func providerOf(e *domain.Entry) string {
	if e == nil {
		return ""
	}
	return e.Provider()
}

// quoteProvider shows an empty provider as "" in the table.
func quoteProvider(p string) string {
	if p == "" {
		return `""`
	}
	return p
}
