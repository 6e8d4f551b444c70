package registry

import (
	"fmt"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/shard"
)

// ApplyResult says what [Registry.Apply] did. Each list is nil when empty.
type ApplyResult struct {
	Added   []*Entry // registered, in the order given
	Kept    []*Entry // unchanged: same entry, same sequence number
	Removed []*Entry // no longer in the owner's set
}

// Apply makes the set of candidates registered by owner equal to cs, across
// any number of domains, in one step: a candidate equal to one the owner
// already has (see [domain.Entry.SameAs]) keeps its entry and sequence
// number; the owner's entries that cs no longer has are removed; the others
// are registered, with consecutive sequence numbers in the order given.
// Every reader and Snapshot sees the old set or the new one, never a mix;
// a watcher receives the winner changes one key at a time, each key's in
// order. Applying the same set again changes nothing and consumes no
// sequence number, so reloading a manifest never piles up duplicates.
//
// Validation comes first: one invalid candidate (or an empty or invalid
// owner) rejects the whole call with an error matching [ErrInvalidCandidate],
// and a limit with [ErrLimitExceeded]; nothing changes. Entries registered
// by Apply report owner from [Entry.Owner]; plain Register has owner "".
func (r *Registry) Apply(owner string, cs []Candidate) (ApplyResult, error) {
	if err := domain.CheckName("owner", owner, false); err != nil {
		return ApplyResult{}, fmt.Errorf("cannot apply the set of %q: %w", owner, err)
	}
	drafts := make([]*domain.Draft, len(cs))
	routes := make([]shard.Route, len(cs))
	for i, c := range cs {
		d, err := r.prepare(c, r.defPrio, owner)
		if err != nil {
			return ApplyResult{}, fmt.Errorf("cannot apply the set of %q: candidate %d (%q/%q): %w", owner, i, c.Domain, c.Key, err)
		}
		drafts[i], routes[i] = d, r.set.Route(c.Domain)
	}
	res, err := r.set.Apply(owner, routes, drafts)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("cannot apply the set of %q: %w", owner, err)
	}
	r.report(res.Changes...)
	return ApplyResult{Added: res.Added, Kept: res.Kept, Removed: res.Removed}, nil
}
