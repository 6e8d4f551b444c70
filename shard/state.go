package shard

import (
	"slices"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/explain"
)

// KeyState is the resolved state of one (domain, key): its candidates in rank
// order for the key's selection, best first. It is immutable once published,
// so a reader may keep it as long as it likes.
type KeyState struct {
	Policy  explain.Policy  // the key's selection and unhealthy providers
	Entries []*domain.Entry // never empty; Entries[0] is the winner

	// Set only by batches that change several keys (see the package doc).
	epoch uint64    // the batch that published this state; 0 otherwise
	prev  *KeyState // the state this one replaced, read while epoch is uncommitted

	// inline holds Entries when there are few, so that a state and its
	// entries are one allocation: most keys have a handful of candidates.
	inline [4]*domain.Entry
}

// Key returns the key the state belongs to.
func (k *KeyState) Key() string { return k.Entries[0].Key() }

// Winner returns the active candidate.
func (k *KeyState) Winner() *domain.Entry { return k.Entries[0] }

// newState returns a state with room for n entries.
func newState(p explain.Policy, n int) *KeyState {
	ks := &KeyState{Policy: p}
	if n <= len(ks.inline) {
		ks.Entries = ks.inline[:n:n]
	} else {
		ks.Entries = make([]*domain.Entry, n)
	}
	return ks
}

// insert returns the state after adding e (k may be nil, then p applies).
// Finding the place is a binary search; the copy is one memmove.
func (k *KeyState) insert(e *domain.Entry, p explain.Policy) *KeyState {
	if k == nil {
		ks := newState(p, 1)
		ks.Entries[0] = e
		return ks
	}
	pos := k.Policy.InsertPos(k.Entries, e)
	ks := newState(k.Policy, len(k.Entries)+1)
	copy(ks.Entries, k.Entries[:pos])
	ks.Entries[pos] = e
	copy(ks.Entries[pos+1:], k.Entries[pos:])
	return ks
}

// without returns the state after removing every candidate of provider, and
// how many were removed. The result is nil when nothing is left.
func (k *KeyState) without(provider string) (*KeyState, int) {
	n := 0
	for _, e := range k.Entries {
		if e.Provider() == provider {
			n++
		}
	}
	if n == 0 {
		return k, 0
	}
	if n == len(k.Entries) {
		return nil, n
	}
	ks := newState(k.Policy, len(k.Entries)-n)
	i := 0
	for _, e := range k.Entries {
		if e.Provider() != provider {
			ks.Entries[i] = e
			i++
		}
	}
	return ks, n
}

// removing returns the state after removing the given entries (compared by
// identity), or nil when nothing is left.
func (k *KeyState) removing(gone map[*domain.Entry]bool) *KeyState {
	if k == nil {
		return nil
	}
	n := 0
	for _, e := range k.Entries {
		if !gone[e] {
			n++
		}
	}
	if n == len(k.Entries) {
		return k
	}
	if n == 0 {
		return nil
	}
	ks := newState(k.Policy, n)
	i := 0
	for _, e := range k.Entries {
		if !gone[e] {
			ks.Entries[i] = e
			i++
		}
	}
	return ks
}

// reranked returns the state ranked under a new policy.
func (k *KeyState) reranked(p explain.Policy) *KeyState {
	ks := newState(p, len(k.Entries))
	copy(ks.Entries, k.Entries)
	p.Order(ks.Entries)
	return ks
}

// withoutHistory returns k, or a copy of k without its prev link, for a batch
// to keep as the state it replaced. Readers follow prev at most once: the
// replaced state's epoch was committed before the batch began, so its own
// prev is never read again, and keeping it would chain every earlier version
// of a key that only batches write.
func (k *KeyState) withoutHistory() *KeyState {
	if k == nil || k.prev == nil {
		return k
	}
	c := newState(k.Policy, len(k.Entries))
	copy(c.Entries, k.Entries)
	return c
}

// visible returns the state a reader that loaded committed epoch w sees: the
// previous state while k's batch is uncommitted, and nil for a tombstone (a
// key a batch emptied, removed from the indexes once the batch commits).
func visible(k *KeyState, w uint64) *KeyState {
	if k != nil && k.epoch > w {
		k = k.prev
	}
	if k != nil && len(k.Entries) == 0 {
		return nil
	}
	return k
}

// View is one consistent version of a domain: the states of its keys,
// sorted by key. It is immutable; a nil *View is an empty domain.
type View struct {
	states []*KeyState
}

func newView(states []*KeyState) *View {
	if len(states) == 0 {
		return nil
	}
	slices.SortFunc(states, func(a, b *KeyState) int {
		switch ka, kb := a.Key(), b.Key(); {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	return &View{states: states}
}

// Key returns the state of key, or nil when it has no candidates.
func (v *View) Key(key string) *KeyState {
	if v == nil {
		return nil
	}
	i, ok := slices.BinarySearchFunc(v.states, key, func(ks *KeyState, key string) int {
		switch k := ks.Key(); {
		case k < key:
			return -1
		case k > key:
			return 1
		}
		return 0
	})
	if !ok {
		return nil
	}
	return v.states[i]
}

// States returns the states of every key, sorted by key. The slice is the
// View's own: callers must not modify it.
func (v *View) States() []*KeyState {
	if v == nil {
		return nil
	}
	return v.states
}

// Len returns the number of keys with candidates.
func (v *View) Len() int {
	if v == nil {
		return 0
	}
	return len(v.states)
}

// Candidates returns the number of candidates over all keys.
func (v *View) Candidates() int {
	n := 0
	for _, ks := range v.States() {
		n += len(ks.Entries)
	}
	return n
}

// Active returns the winner of every key, sorted by key, in a fresh slice.
func (v *View) Active() []*domain.Entry {
	out := make([]*domain.Entry, v.Len())
	for i, ks := range v.States() {
		out[i] = ks.Entries[0]
	}
	return out
}

// Shadowed returns every candidate that is not its key's winner, by key, then
// rank, in a fresh slice.
func (v *View) Shadowed() []*domain.Entry {
	var out []*domain.Entry
	for _, ks := range v.States() {
		out = append(out, ks.Entries[1:]...)
	}
	return out
}
