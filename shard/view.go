package shard

import (
	"slices"
	"strings"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/explain"
	"github.com/oneiric-go/oneiric/internal/trie"
)

// KeyState is the resolved state of one (domain, key): its candidates in rank
// order for its selection, best first. It is immutable once published.
type KeyState struct {
	Key      string
	Selected string          // the provider the key's selection names, "" for none
	Entries  []*domain.Entry // non-empty; Entries[0] is the winner
}

// Winner returns the active candidate.
func (k *KeyState) Winner() *domain.Entry { return k.Entries[0] }

// View is one immutable version of a domain: its keys and their states. A nil
// *View is an empty domain. Views are shared freely between goroutines.
type View struct {
	keys       trie.Map[*KeyState]
	candidates int // total entries over all keys

	// Set only by multi-domain writes (see the package doc).
	epoch uint64 // the batch that published this View; 0 for single-domain writes
	prev  *View  // the View this one replaced (see withoutHistory), read while epoch is uncommitted
}

// Key returns the state of key, or nil when it has no candidates.
func (v *View) Key(key string) *KeyState {
	if v == nil {
		return nil
	}
	ks, _ := v.keys.Get(trie.Hash(key), key)
	return ks
}

// Len returns the number of keys with candidates.
func (v *View) Len() int {
	if v == nil {
		return 0
	}
	return v.keys.Len()
}

// Candidates returns the number of candidates over all keys.
func (v *View) Candidates() int {
	if v == nil {
		return 0
	}
	return v.candidates
}

// States returns the states of every key, sorted by key. Its cost is
// proportional to the domain's size.
func (v *View) States() []*KeyState {
	if v == nil {
		return nil
	}
	out := make([]*KeyState, 0, v.keys.Len())
	for _, ks := range v.keys.All() {
		out = append(out, ks)
	}
	slices.SortFunc(out, func(a, b *KeyState) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Active returns the winner of every key, sorted by key.
func (v *View) Active() []*domain.Entry {
	states := v.States()
	out := make([]*domain.Entry, len(states))
	for i, ks := range states {
		out[i] = ks.Entries[0]
	}
	return out
}

// Shadowed returns every candidate that is not its key's winner, by key, then
// rank.
func (v *View) Shadowed() []*domain.Entry {
	var out []*domain.Entry
	for _, ks := range v.States() {
		out = append(out, ks.Entries[1:]...)
	}
	return out
}

// withKey returns a copy of v in which key's state is ks (nil removes it) and
// the candidate count changed by delta.
func (v *View) withKey(key string, ks *KeyState, delta int) *View {
	var next View
	if v != nil {
		next.keys, next.candidates = v.keys, v.candidates
	}
	if ks == nil {
		next.keys = next.keys.Delete(trie.Hash(key), key)
	} else {
		next.keys = next.keys.Set(trie.Hash(key), key, ks)
	}
	next.candidates += delta
	return &next
}

// withoutHistory returns v, or a copy of v without its prev link, for a batch
// to keep as the View it replaced. Readers follow prev at most once (see
// [Set.Load]): the replaced View's epoch was committed before the batch began,
// so its own prev is never read again, and keeping it would chain every
// earlier version of a domain that only batches write.
func (v *View) withoutHistory() *View {
	if v == nil || v.prev == nil {
		return v
	}
	c := *v
	c.prev = nil
	return &c
}

// insert returns the state of a key after adding e (ks may be nil).
func (ks *KeyState) insert(e *domain.Entry, selected string) *KeyState {
	if ks == nil {
		return &KeyState{Key: e.Key(), Selected: selected, Entries: []*domain.Entry{e}}
	}
	entries := ks.Entries
	pos := explain.InsertPos(entries, e, ks.Selected)
	next := make([]*domain.Entry, len(entries)+1)
	copy(next, entries[:pos])
	next[pos] = e
	copy(next[pos+1:], entries[pos:])
	return &KeyState{Key: ks.Key, Selected: ks.Selected, Entries: next}
}

// without returns the state after removing every candidate of provider, and
// how many were removed. The result is nil when nothing is left.
func (ks *KeyState) without(provider string) (*KeyState, int) {
	n := 0
	for _, e := range ks.Entries {
		if e.Provider() == provider {
			n++
		}
	}
	if n == 0 {
		return ks, 0
	}
	if n == len(ks.Entries) {
		return nil, n
	}
	next := make([]*domain.Entry, 0, len(ks.Entries)-n)
	for _, e := range ks.Entries {
		if e.Provider() != provider {
			next = append(next, e)
		}
	}
	return &KeyState{Key: ks.Key, Selected: ks.Selected, Entries: next}, n
}

// reselect returns the state ranked for a new selection.
func (ks *KeyState) reselect(selected string) *KeyState {
	next := slices.Clone(ks.Entries)
	explain.Order(next, selected)
	return &KeyState{Key: ks.Key, Selected: selected, Entries: next}
}
