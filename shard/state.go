package shard

import (
	"math"
	"slices"
	"sort"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/explain"
)

// KeyState is the resolved state of one (domain, key): its candidates in rank
// order for the key's policy, best first. It is immutable once published, so
// a reader may keep it as long as it likes.
//
// A key of up to four candidates keeps them, with their packed ranks, in a
// fewEntries allocated with the state, so that a state and its entries are
// one allocation. A bigger key keeps them in a large (its type): one slice in rank
// order up to flatMax; beyond, an append-only log of its entries and its
// rank order in groups of chunks of positions, so that adding one copies a
// chunk, its group and the list of groups, not every entry.
//
// The fields Lookup reads (epoch, prev, n, win) come first, in the state's
// first cache line. Resolve without options reads none of them unless the
// key's state belongs to an uncommitted batch: it takes the winner from the
// key's bucket (see the bucket type).
type KeyState struct {
	// Set only by batches that change several keys (see the package doc).
	epoch uint64    // the batch that published this state; 0 otherwise
	prev  *KeyState // the state this one replaced, read while epoch is uncommitted

	n    int           // number of entries; 0 only for a batch's tombstone
	win  *domain.Entry // the first entry; nil only for a tombstone
	addr Addr          // the key (lookups check the bucket's copy; a tombstone has no entry to name it)
	t    *table        // the key's domain, for writers; set just before the state is published

	// A key's entries are in few when it has at most four, else in big.
	few *fewEntries
	big *large

	// Policy is the key's selection and unhealthy providers. It is never
	// nil, and is shared, unchanged, by the key's states until it changes.
	Policy *explain.Policy
}

// fewEntries holds the entries of a key of up to four, allocated with its
// state (see fewState), and their ranks packed (see packRank), 0 where
// unknown, so that a registration finds its place without reading the
// entries (a cache miss each). A state of more entries does without these
// 64 bytes.
type fewEntries struct {
	entries [4]*domain.Entry
	ranks   [4]uint64
}

// fewState is a state and its entries in one allocation.
type fewState struct {
	ks  KeyState
	few fewEntries
}

// newFew returns a new state of n entries, at most four, backed by its own
// fewEntries.
func newFew(n int) *KeyState {
	fs := &fewState{}
	fs.ks.few, fs.ks.n = &fs.few, n
	return &fs.ks
}

// noPolicy is the Policy of every key without a selection or an unhealthy
// provider. It must not be modified.
var noPolicy = &explain.Policy{}

// packRank returns e's rank under the zero Policy as one number, higher for
// a better rank: priority, stack level, then sequence, as
// [explain.Policy.Above] compares them. It returns 0 (no entry has it) when
// they do not fit: a priority or stack level outside ±32,767 or a sequence
// of 2³² or more.
func packRank(e *domain.Entry) uint64 {
	const lim = math.MaxInt16
	p, l, q := e.Priority(), e.StackLevel(), e.Sequence()
	if p < -lim || p > lim || l < -lim || l > lim || q >= 1<<32 {
		return 0
	}
	return uint64(p+lim+1)<<48 | uint64(l+lim+1)<<32 | q
}

// flatMax is the size up to which a key keeps one flat slice: 64 pointers are
// 512 bytes, eight cache lines, cheap to copy and to search.
const flatMax = 64

// chunkSize bounds a chunk of a large key. Of 48, 64, 96 and 128, none was
// measurably faster for 2,000 registrations into one key, and 48 allocated
// least.
const chunkSize = 48

// groupSize bounds a group of chunks. A registration into a large key copies
// one group and the list of groups; 16 keeps both to about two cache lines up
// to tens of thousands of candidates.
const groupSize = 16

// large is how a key with more than four candidates keeps them. Up to
// flatMax, log is the entries in rank order and the rest is unset. Beyond,
// log is an append-only log of the entries, and the rank order is runs
// (chunks) of positions in it, in groups: narrow positions (uint16) while
// the log holds at most 1<<16 entries, wide ones (uint32) beyond. A chunk
// holds no pointer, so copying one costs no write barrier and the GC never
// scans it. Adding an entry appends it to the log and copies one chunk, its
// group and the list of groups: a few dozen words with 2,000 candidates,
// where a slice of entries would copy 1,000 on average. A large value is
// immutable once published, but for the log's array beyond the version's
// length, see [logTip].
type large struct {
	log    []*domain.Entry  // this version's prefix of the key's log
	narrow ranking[uint16]  // the rank order while len(log) <= 1<<16; else nil
	wide   *ranking[uint32] // the rank order beyond; else nil (behind a pointer, so that large stays 64 bytes)
	tip    *logTip          // shared by every version of one log array; nil without a ranking
}

// ranked reports whether l keeps a rank order apart from its log (else the
// log is in rank order).
func (l *large) ranked() bool { return l.narrow != nil || l.wide != nil }

// logTip is how much of a log's array is in use. A writer appends in place
// only when its version's log ends at the tip, that is, only on the newest
// version built, so no published version's entries are overwritten; older
// versions never read past their own length. Guarded by the shard's mu.
type logTip struct{ used int }

// position is a position in a large key's log, as its chunks hold it:
// uint16 while the log is small enough, which halves the bytes a chunk
// takes and a registration copies, uint32 beyond.
type position interface{ uint16 | uint32 }

// ranking is a large key's rank order: consecutive runs of chunks.
type ranking[P position] []*group[P]

// group is a run of chunks of a large key, immutable once published.
type group[P position] struct {
	n      int
	chunks [groupSize]*chunk[P]
}

// chunk is a run of positions in a large key's log, immutable once
// published.
type chunk[P position] struct {
	n   int
	pos [chunkSize]P
}

// narrowMax is the most entries a log may hold while its chunks hold
// uint16 positions.
const narrowMax = math.MaxUint16 + 1

// first returns the best-ranked entry of l, which has a ranking.
func (l *large) first() *domain.Entry {
	if l.narrow != nil {
		return l.log[l.narrow[0].chunks[0].pos[0]]
	}
	return l.log[(*l.wide)[0].chunks[0].pos[0]]
}

// newLarge returns the large form of entries, which are in rank order. Its
// chunks and groups are half full, so that the next registrations split
// none.
func newLarge(entries []*domain.Entry) *large {
	log := make([]*domain.Entry, len(entries), len(entries)+len(entries)/4)
	copy(log, entries)
	l := &large{log: log, tip: &logTip{used: len(log)}}
	if len(log) <= narrowMax {
		l.narrow = newRanking[uint16](len(log))
	} else {
		l.wide = new(newRanking[uint32](len(log)))
	}
	return l
}

// newRanking returns the ranking of a log of n entries in rank order, in
// half-full chunks and groups.
func newRanking[P position](n int) ranking[P] {
	var r ranking[P]
	var g *group[P]
	for start := 0; start < n; start += chunkSize / 2 {
		c := &chunk[P]{n: min(chunkSize/2, n-start)}
		for i := range c.n {
			c.pos[i] = P(start + i)
		}
		if g == nil || g.n == groupSize/2 {
			g = &group[P]{}
			r = append(r, g)
		}
		g.chunks[g.n] = c
		g.n++
	}
	return r
}

// widened returns r with wide positions, in chunks and groups of the same
// shape.
func widened(r ranking[uint16]) ranking[uint32] {
	out := make(ranking[uint32], len(r))
	for gi, g := range r {
		wg := &group[uint32]{n: g.n}
		for ci, c := range g.chunks[:g.n] {
			wc := &chunk[uint32]{n: c.n}
			for i, p := range c.pos[:c.n] {
				wc.pos[i] = uint32(p)
			}
			wg.chunks[ci] = wc
		}
		out[gi] = wg
	}
	return out
}

// appendRanked appends the entries of log in the order r gives.
func appendRanked[P position](out []*domain.Entry, r ranking[P], log []*domain.Entry) []*domain.Entry {
	for _, g := range r {
		for _, c := range g.chunks[:g.n] {
			for _, p := range c.pos[:c.n] {
				out = append(out, log[p])
			}
		}
	}
	return out
}

// appended returns the log with e added, in place when l's log ends at the
// tip and its array has room, else in a new array, and the log's tip.
func (l *large) appended(e *domain.Entry) ([]*domain.Entry, *logTip) {
	if n := len(l.log); l.tip.used == n && n < cap(l.log) {
		log := l.log[:n+1]
		log[n] = e
		l.tip.used = n + 1
		return log, l.tip
	}
	log := make([]*domain.Entry, len(l.log)+1, 2*len(l.log))
	copy(log, l.log)
	log[len(l.log)] = e
	return log, &logTip{used: len(log)}
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
	switch {
	case k.few != nil:
		return k.few.entries[:k.n:k.n]
	case k.big == nil:
		return nil
	case !k.big.ranked():
		return k.big.log
	case k.big.narrow != nil:
		return appendRanked(make([]*domain.Entry, 0, k.n), k.big.narrow, k.big.log)
	}
	return appendRanked(make([]*domain.Entry, 0, k.n), *k.big.wide, k.big.log)
}

// fromSorted returns a state holding entries, which are in rank order for p.
// entries is not kept.
func fromSorted(p *explain.Policy, entries []*domain.Entry) *KeyState {
	if p == nil {
		p = noPolicy
	}
	var ks *KeyState
	switch n := len(entries); {
	case n == 0:
		ks = &KeyState{}
	case n <= len(fewEntries{}.entries):
		ks = newFew(n)
		copy(ks.few.entries[:], entries)
		for i, e := range entries {
			ks.few.ranks[i] = packRank(e)
		}
	case n <= flatMax:
		ks = &KeyState{big: &large{log: slices.Clone(entries)}}
	default:
		ks = &KeyState{big: newLarge(entries)}
	}
	ks.Policy, ks.n = p, len(entries)
	if len(entries) > 0 {
		ks.addr = Addr{entries[0].Domain(), entries[0].Key()}
		ks.win = entries[0]
	}
	return ks
}

// insert returns the state after adding e (k may be nil, then p applies).
// Finding the place is a binary search, or for a key of up to four entries
// under the zero Policy a comparison of packed ranks; a small key copies its
// slice, a large one a chunk, its group and the list of groups.
func (k *KeyState) insert(e *domain.Entry, p *explain.Policy) *KeyState {
	if k == nil {
		return fromSorted(p, []*domain.Entry{e})
	}
	p = k.Policy
	if k.big != nil && k.big.ranked() {
		ks := &KeyState{Policy: p, n: k.n + 1, addr: k.addr}
		ks.big = k.big.inserted(e, p)
		ks.win = ks.big.first()
		return ks
	}
	flat := k.Entries()
	r := packRank(e)
	pos, ok := k.rankPos(r)
	if !ok {
		pos = p.InsertPos(flat, e)
	}
	var ks *KeyState
	var out []*domain.Entry
	switch n := k.n + 1; {
	case n <= len(fewEntries{}.entries):
		ks = newFew(n)
		out = ks.few.entries[:n:n]
		copy(ks.few.ranks[:pos], k.few.ranks[:pos])
		ks.few.ranks[pos] = r
		copy(ks.few.ranks[pos+1:n], k.few.ranks[pos:k.n])
	case n <= flatMax:
		out = make([]*domain.Entry, n)
		ks = &KeyState{n: n, big: &large{log: out}}
	default:
		return fromSorted(p, slices.Insert(slices.Clone(flat), pos, e))
	}
	copy(out, flat[:pos])
	out[pos] = e
	copy(out[pos+1:], flat[pos:])
	ks.Policy, ks.addr, ks.win = p, k.addr, out[0]
	return ks
}

// rankPos returns where an entry of packed rank r goes among k's entries,
// from their packed ranks alone, and whether it could tell: only under the
// zero Policy, for a key of up to four entries whose ranks and r are known.
func (k *KeyState) rankPos(r uint64) (int, bool) {
	if r == 0 || k.Policy != noPolicy || k.few == nil {
		return 0, false
	}
	pos := 0
	for _, x := range k.few.ranks[:k.n] {
		if x == 0 {
			return 0, false
		}
		if x > r {
			pos++
		}
	}
	return pos, true
}

// inserted returns l with e added at its place in the rank order of p.
func (l *large) inserted(e *domain.Entry, p *explain.Policy) *large {
	log, tip := l.appended(e)
	out := &large{log: log, tip: tip}
	above := func(x *domain.Entry) bool { return p.Above(e, x) }
	switch at := len(log) - 1; {
	case l.narrow != nil && at < narrowMax:
		out.narrow = l.narrow.inserted(log, above, uint16(at))
	case l.narrow != nil:
		out.wide = new(widened(l.narrow).inserted(log, above, uint32(at)))
	default:
		out.wide = new(l.wide.inserted(log, above, uint32(at)))
	}
	return out
}

// inserted returns r with position at, of an entry that outranks exactly
// the entries of log above accepts, added at its place.
func (r ranking[P]) inserted(log []*domain.Entry, above func(*domain.Entry) bool, at P) ranking[P] {
	// The entry goes after every entry it does not outrank: into the last
	// group, then the last chunk of it, whose head it does not outrank (or
	// the first).
	head := func(c *chunk[P]) *domain.Entry { return log[c.pos[0]] }
	gi := max(sort.Search(len(r), func(i int) bool { return above(head(r[i].chunks[0])) })-1, 0)
	g := r[gi]
	ci := max(sort.Search(g.n, func(i int) bool { return above(head(g.chunks[i])) })-1, 0)
	c := g.chunks[ci]
	pos := sort.Search(c.n, func(i int) bool { return above(log[c.pos[i]]) })

	ca, cb := c.with(pos, at)
	ga, gb := g.replaced(ci, ca, cb)
	if gb == nil {
		out := slices.Clone(r)
		out[gi] = ga
		return out
	}
	out := make(ranking[P], 0, len(r)+1)
	out = append(out, r[:gi]...)
	out = append(out, ga, gb)
	return append(out, r[gi+1:]...)
}

// with returns c with position at inserted at index i: one chunk (b is
// nil), or two halves when c is full.
func (c *chunk[P]) with(i int, at P) (a, b *chunk[P]) {
	if c.n < chunkSize {
		g := &chunk[P]{n: c.n + 1}
		copy(g.pos[:i], c.pos[:i])
		g.pos[i] = at
		copy(g.pos[i+1:g.n], c.pos[i:c.n])
		return g, nil
	}
	var merged [chunkSize + 1]P
	copy(merged[:i], c.pos[:i])
	merged[i] = at
	copy(merged[i+1:], c.pos[i:c.n])
	half := (chunkSize + 1) / 2
	a, b = &chunk[P]{n: half}, &chunk[P]{n: chunkSize + 1 - half}
	copy(a.pos[:], merged[:half])
	copy(b.pos[:], merged[half:])
	return a, b
}

// replaced returns g with its i-th chunk replaced by ca, or by ca and cb
// when cb is not nil: one group (b is nil), or two halves when g overflows.
func (g *group[P]) replaced(i int, ca, cb *chunk[P]) (a, b *group[P]) {
	if cb == nil {
		ng := *g
		ng.chunks[i] = ca
		return &ng, nil
	}
	var merged [groupSize + 1]*chunk[P]
	n := copy(merged[:], g.chunks[:i])
	merged[n], merged[n+1] = ca, cb
	n += 2
	n += copy(merged[n:], g.chunks[i+1:g.n])
	if n <= groupSize {
		a = &group[P]{n: n}
		copy(a.chunks[:], merged[:n])
		return a, nil
	}
	half := n / 2
	a, b = &group[P]{n: half}, &group[P]{n: n - half}
	copy(a.chunks[:], merged[:half])
	copy(b.chunks[:], merged[half:n])
	return a, b
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
