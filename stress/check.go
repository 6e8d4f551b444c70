package stress

import (
	"fmt"
	"slices"

	"github.com/oneiric-go/oneiric/explain"
	"github.com/oneiric-go/oneiric/registry"
)

// Status is the outcome of an [Invariant]. The zero value is [Pass].
type Status uint8

// The outcomes of an invariant.
const (
	Pass Status = iota // checked at least once and never violated
	Fail               // violated at least once
	Skip               // never checked: the workload did not exercise it
)

var statusNames = [...]string{"PASS", "FAIL", "SKIP"}

// String returns "PASS", "FAIL" or "SKIP".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// MarshalText implements [encoding.TextMarshaler] with [Status.String].
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// The names of the invariants a [Report] lists, in its order.
const (
	InvariantNoLostRegistration = "no lost registration"
	InvariantUniqueSequences    = "unique sequences"
	InvariantWinnerIsBest       = "winner = best score"
	InvariantSnapshotCausality  = "snapshot causality"
	InvariantNoErrors           = "no unexpected errors"
)

// Invariant is the outcome of one property checked during a run.
type Invariant struct {
	Name   string `json:"name"`   // one of the Invariant… constants
	Status Status `json:"status"` // PASS, FAIL or SKIP
	Checks int64  `json:"checks"` // how many times it was checked
	Fails  int64  `json:"fails"`  // how many of those checks failed
	Detail string `json:"detail"` // what was checked, or the first violation
}

// tally accumulates the checks of one invariant in one goroutine. It is not
// safe for concurrent use; tallies are merged after the goroutines stop.
type tally struct {
	checks, fails int64
	first         string // the first violation's description
}

// ok records a passed check.
func (t *tally) ok() { t.checks++ }

// fail records a failed check; only the first description is kept.
func (t *tally) fail(format string, args ...any) {
	t.checks++
	t.fails++
	if t.first == "" {
		t.first = fmt.Sprintf(format, args...)
	}
}

// check records err as a failed check, nil as a passed one.
func (t *tally) check(err error) {
	if err != nil {
		t.fail("%v", err)
		return
	}
	t.ok()
}

func (t *tally) merge(o *tally) {
	t.checks += o.checks
	t.fails += o.fails
	if t.first == "" {
		t.first = o.first
	}
}

// invariant turns the tally into an Invariant; passDetail describes what a
// pass means.
func (t *tally) invariant(name, passDetail string) Invariant {
	inv := Invariant{Name: name, Checks: t.checks, Fails: t.fails}
	switch {
	case t.fails > 0:
		inv.Status = Fail
		inv.Detail = fmt.Sprintf("%d of %d checks failed; first: %s", t.fails, t.checks, t.first)
	case t.checks == 0:
		inv.Status = Skip
		inv.Detail = "not exercised by this workload"
	default:
		inv.Status = Pass
		inv.Detail = passDetail
	}
	return inv
}

// CheckRanking checks an explanation's ranking: every rank belongs to x's
// domain and key and carries its entry's sequence, priority and stack level
// in its score; scores strictly decrease (sequences are unique, so no two
// are equal); the first rank and only it is selected; and Winner returns its
// entry, or (nil, false) when there are no ranks. It returns the first
// violation found, or nil.
func CheckRanking(x *explain.Explanation) error {
	if x == nil {
		return fmt.Errorf("nil explanation")
	}
	w, ok := x.Winner()
	if len(x.Ordered) == 0 {
		if ok || w != nil {
			return fmt.Errorf("%s/%s: no ranks but Winner() = %v, %v", x.Domain, x.Key, w, ok)
		}
		return nil
	}
	for i, r := range x.Ordered {
		e := r.Entry
		switch {
		case e == nil:
			return fmt.Errorf("%s/%s: rank %d has no entry", x.Domain, x.Key, i+1)
		case e.Domain() != x.Domain || e.Key() != x.Key:
			return fmt.Errorf("%s/%s: rank %d holds an entry of %s/%s", x.Domain, x.Key, i+1, e.Domain(), e.Key())
		case r.Score.Sequence != e.Sequence() || r.Score.Priority != e.Priority() || r.Score.StackLevel != e.StackLevel():
			return fmt.Errorf("%s/%s: rank %d score %+v does not match its entry (seq %d, priority %d, stack level %d)",
				x.Domain, x.Key, i+1, r.Score, e.Sequence(), e.Priority(), e.StackLevel())
		case r.Selected != (i == 0):
			return fmt.Errorf("%s/%s: rank %d has Selected=%v", x.Domain, x.Key, i+1, r.Selected)
		case i > 0 && x.Ordered[i-1].Score.Compare(r.Score) <= 0:
			return fmt.Errorf("%s/%s: rank %d score %+v is not below rank %d score %+v",
				x.Domain, x.Key, i+1, r.Score, i, x.Ordered[i-1].Score)
		}
	}
	if !ok || w != x.Ordered[0].Entry {
		return fmt.Errorf("%s/%s: Winner() is not the first rank's entry", x.Domain, x.Key)
	}
	return nil
}

// CheckSequences reports an error naming the first sequence number that
// occurs more than once in seqs, or 0 appearing at all (sequences start at 1).
// It sorts seqs in place.
func CheckSequences(seqs []uint64) error {
	slices.Sort(seqs)
	if len(seqs) > 0 && seqs[0] == 0 {
		return fmt.Errorf("sequence number 0 handed out")
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] == seqs[i-1] {
			return fmt.Errorf("sequence number %d handed out more than once", seqs[i])
		}
	}
	return nil
}

// Address names a key of a domain.
type Address struct {
	Domain, Key string
}

// String returns "domain/key".
func (a Address) String() string { return a.Domain + "/" + a.Key }

// CheckCausality checks that snapshot s holds, for every provider that has a
// candidate at b, a candidate of the same provider at a: the markers of a
// writer that registers each marker at a before b and unregisters it from b
// before a. It returns how many markers at b it checked and the first
// violation, or nil.
func CheckCausality(s *registry.Snapshot, a, b Address) (int, error) {
	x := s.Explain(b.Domain, b.Key)
	for _, r := range x.Ordered {
		p := r.Entry.Provider()
		if _, ok := s.Resolve(a.Domain, a.Key, registry.Provider(p)); !ok {
			return len(x.Ordered), fmt.Errorf("snapshot holds marker %q at %s but not the one registered before it at %s", p, b, a)
		}
	}
	return len(x.Ordered), nil
}
