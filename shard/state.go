package shard

import (
	"slices"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/explain"
)

// KeyState is the resolved state of one (domain, key): its candidates in rank
// order for the key's policy, best first. It is immutable once published, so
// a reader may keep it as long as it likes.
//
// A key with few candidates keeps them in one slice (up to four inside the
// state itself, so that a state and its entries are one allocation). A key
// with more than [flatMax] keeps them in chunks of at most [chunkSize], so
// that adding one copies a chunk and the chunk index, not every entry: with
// 2,000 candidates that is about 80 pointers instead of 1,000 on average.
//
// The fields a lookup reads (epoch, prev, n, win, addr) come first, in the
// state's first 64 bytes, so that Resolve touches one cache line of it.
type KeyState struct {
	// Set only by batches that change several keys (see the package doc).
	epoch uint64    // the batch that published this state; 0 otherwise
	prev  *KeyState // the state this one replaced, read while epoch is uncommitted

	n    int           // number of entries; 0 only for a batch's tombstone
	win  *domain.Entry // the first entry; nil only for a tombstone
	addr Addr          // the key, which a lookup checks
	t    *table        // the key's domain, for writers; set just before the state is published

	flat   []*domain.Entry // every entry, when there are at most flatMax
	chunks []*chunk        // otherwise: consecutive runs of the order

	inline [4]*domain.Entry // backs flat for up to four entries

	// Policy is the key's selection and unhealthy providers. It is never
	// nil, and is shared, unchanged, by the key's states until it changes.
	Policy *explain.Policy
}

// noPolicy is the Policy of every key without a selection or an unhealthy
// provider. It must not be modified.
var noPolicy = &explain.Policy{}

// flatMax is the size up to which a key keeps one flat slice: 64 pointers are
// 512 bytes, eight cache lines, cheap to copy and to search.
const flatMax = 64

// chunkSize bounds a chunk of a large key. Adding an entry copies about one
// chunk and the index of chunks; under a running GC each pointer copied costs
// a write barrier, and each byte allocated brings the next GC nearer. Of 32,
// 48 and 64, 48 allocated the least for 2,000 registrations into one key.
const chunkSize = 48

// chunk is a run of a large key's entries, immutable once published. Its
// array is fixed so that a chunk is one allocation, and the chunk index a
// slice of single pointers: adding an entry copies the index, and under a
// running GC every pointer copied costs a write barrier.
type chunk struct {
	n int
	e [chunkSize]*domain.Entry
}

// all returns the chunk's entries.
func (c *chunk) all() []*domain.Entry { return c.e[:c.n] }

// newChunk returns a chunk holding entries (at most chunkSize).
func newChunk(entries []*domain.Entry) *chunk {
	c := &chunk{n: len(entries)}
	copy(c.e[:], entries)
	return c
}

// Len returns the number of candidates.
func (k *KeyState) Len() int { return k.n }

// Key returns the key the state belongs to.
func (k *KeyState) Key() string { return k.addr.Key }

// Winner returns the active candidate.
func (k *KeyState) Winner() *domain.Entry { return k.win }

// Entries returns the candidates in rank order. For a key with at most
// flatMax candidates it is the state's own slice, which callers must not
// modify; for a larger key it is a fresh copy.
func (k *KeyState) Entries() []*domain.Entry {
	if k.chunks == nil {
		return k.flat
	}
	out := make([]*domain.Entry, 0, k.n)
	for _, c := range k.chunks {
		out = append(out, c.all()...)
	}
	return out
}

// fromSorted returns a state holding entries, which are in rank order for p.
// entries is not kept.
func fromSorted(p *explain.Policy, entries []*domain.Entry) *KeyState {
	if p == nil {
		p = noPolicy
	}
	ks := &KeyState{Policy: p, n: len(entries)}
	if len(entries) > 0 {
		ks.addr = Addr{entries[0].Domain(), entries[0].Key()}
	}
	switch {
	case len(entries) <= len(ks.inline):
		ks.flat = ks.inline[:len(entries):len(entries)]
		copy(ks.flat, entries)
	case len(entries) <= flatMax:
		ks.flat = slices.Clone(entries)
	default:
		for c := range slices.Chunk(entries, chunkSize/2) {
			ks.chunks = append(ks.chunks, newChunk(c))
		}
	}
	if len(entries) > 0 {
		ks.win = entries[0]
	}
	return ks
}

// insert returns the state after adding e (k may be nil, then p applies).
// Finding the place is a binary search; a small key copies its slice, a
// large one a chunk and the chunk index.
func (k *KeyState) insert(e *domain.Entry, p *explain.Policy) *KeyState {
	if k == nil {
		return fromSorted(p, []*domain.Entry{e})
	}
	p = k.Policy
	if k.chunks == nil {
		pos := p.InsertPos(k.flat, e)
		if k.n+1 > flatMax {
			return fromSorted(p, slices.Insert(slices.Clone(k.flat), pos, e))
		}
		ks := &KeyState{Policy: p, n: k.n + 1, addr: k.addr}
		if ks.n <= len(ks.inline) {
			ks.flat = ks.inline[:ks.n:ks.n]
		} else {
			ks.flat = make([]*domain.Entry, ks.n)
		}
		copy(ks.flat, k.flat[:pos])
		ks.flat[pos] = e
		copy(ks.flat[pos+1:], k.flat[pos:])
		ks.win = ks.flat[0]
		return ks
	}
	// The first chunk whose head e outranks; e goes at the end of the one
	// before it (or at the start of the first).
	lo, hi := 0, len(k.chunks)
	for lo < hi {
		if m := int(uint(lo+hi) >> 1); p.Above(e, k.chunks[m].e[0]) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	ci := max(lo-1, 0)
	c := k.chunks[ci].all()
	pos := p.InsertPos(c, e)
	ks := &KeyState{Policy: p, n: k.n + 1, addr: k.addr}
	if len(c) < chunkSize {
		g := &chunk{n: len(c) + 1}
		copy(g.e[:pos], c[:pos])
		g.e[pos] = e
		copy(g.e[pos+1:g.n], c[pos:])
		ks.chunks = slices.Clone(k.chunks)
		ks.chunks[ci] = g
	} else {
		// A full chunk splits in two halves. The merged run is built on
		// the stack, where writing pointers costs no barrier.
		var buf [chunkSize + 1]*domain.Entry
		merged := append(append(append(buf[:0], c[:pos]...), e), c[pos:]...)
		half := len(merged) / 2
		ks.chunks = make([]*chunk, 0, len(k.chunks)+1)
		ks.chunks = append(ks.chunks, k.chunks[:ci]...)
		ks.chunks = append(ks.chunks, newChunk(merged[:half]), newChunk(merged[half:]))
		ks.chunks = append(ks.chunks, k.chunks[ci+1:]...)
	}
	ks.win = ks.chunks[0].e[0]
	return ks
}

// without returns the state after removing every candidate of provider, and
// how many were removed. The result is nil when nothing is left.
func (k *KeyState) without(provider string) (*KeyState, int) {
	kept := k.filter(func(e *domain.Entry) bool { return e.Provider() != provider })
	if kept == nil {
		return nil, k.n
	}
	return kept, k.n - kept.n
}

// removing returns the state after removing the given entries (compared by
// identity), or nil when nothing is left.
func (k *KeyState) removing(gone map[*domain.Entry]bool) *KeyState {
	if k == nil {
		return nil
	}
	return k.filter(func(e *domain.Entry) bool { return !gone[e] })
}

// filter returns the state keeping the entries keep accepts: k itself when
// it accepts all, nil when it accepts none.
func (k *KeyState) filter(keep func(*domain.Entry) bool) *KeyState {
	all := k.Entries()
	kept := make([]*domain.Entry, 0, len(all))
	for _, e := range all {
		if keep(e) {
			kept = append(kept, e)
		}
	}
	switch len(kept) {
	case len(all):
		return k
	case 0:
		return nil
	}
	return fromSorted(k.Policy, kept)
}

// reranked returns the state ranked under a new policy.
func (k *KeyState) reranked(p *explain.Policy) *KeyState {
	all := slices.Clone(k.Entries())
	p.Order(all)
	return fromSorted(p, all)
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
	c := fromSorted(k.Policy, k.Entries())
	c.addr = k.addr // a tombstone has no entry to take it from
	return c
}

// visible returns the state a reader that loaded committed epoch w sees: the
// previous state while k's batch is uncommitted, and nil for a tombstone (a
// key a batch emptied, removed from the indexes once the batch commits).
func visible(k *KeyState, w uint64) *KeyState {
	if k != nil && k.epoch > w {
		k = k.prev
	}
	if k != nil && k.n == 0 {
		return nil
	}
	return k
}

// View is one consistent version of a domain: the states of its keys,
// sorted by key. It is immutable; a nil *View is an empty domain.
type View struct {
	states []*KeyState
	active []*domain.Entry // the winners, by key; set on a View its table caches
	ver    uint64          // the table version a cached View shows
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
		n += ks.n
	}
	return n
}

// Active returns the winner of every key, sorted by key, in a fresh slice.
func (v *View) Active() []*domain.Entry {
	if v != nil && v.active != nil {
		return slices.Clone(v.active)
	}
	return v.winners()
}

// winners returns the winner of every key, sorted by key.
func (v *View) winners() []*domain.Entry {
	out := make([]*domain.Entry, v.Len())
	for i, ks := range v.States() {
		out[i] = ks.Winner()
	}
	return out
}

// Shadowed returns every candidate that is not its key's winner, by key, then
// rank, in a fresh slice.
func (v *View) Shadowed() []*domain.Entry {
	var out []*domain.Entry
	for _, ks := range v.States() {
		out = append(out, ks.Entries()[1:]...)
	}
	return out
}
