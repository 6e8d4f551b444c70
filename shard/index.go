package shard

import (
	"math/bits"
	"sync/atomic"
)

// index is a shard's key index: an open-addressing hash table from (domain,
// key) to slot, with linear probing over a power-of-two array of buckets.
// A key's bucket also holds the pointer to its current state: the one place
// that pointer lives while the index is the shard's current one. The slot
// reaches it through its bucket; Resolve reads it straight from the bucket
// and checks the key against the state's own copy of it, so that a lookup
// is two dependent loads (bucket, state) rather than three.
//
// Readers take no lock. Writers hold the shard's mu, and change an index in
// place in only these ways, each safe for a concurrent reader:
//   - a new key's bucket gets its state, its hash, then its slot (a reader
//     that sees the slot sees the rest);
//   - a key's bucket gets its next state;
//   - a removed key's bucket loses its state, then gets the tombstone in
//     place of its slot.
//
// A bucket that once held a slot never becomes empty again, so a probe
// sequence is never cut short by a removal; a reader stops only at a bucket
// that was never used. When used buckets (live or tombstones) would exceed
// half the array, or live ones drop to one in 8, the writer builds a new
// index of the live keys, moves each slot to its new bucket and publishes
// the index with one atomic store; the old one is never written again, so a
// reader still probing it returns a state that was current during its read.
type index struct {
	mask uint64   // len(b) - 1
	used int      // buckets holding a slot or the tombstone; guarded by the shard's mu
	live int      // buckets holding a slot; guarded by the shard's mu
	b    []bucket // len is a power of two
}

// bucket is one cell of an index. An empty bucket has a nil slot.
type bucket struct {
	hash  atomic.Uint64
	sl    atomic.Pointer[slot]
	state atomic.Pointer[KeyState] // the key's state; nil once removed
}

// tomb marks a bucket whose key was removed. It matches no lookup.
var tomb = &slot{}

// minBuckets is the size of a shard's first index.
const minBuckets = 8

// find returns the bucket of a (hash h) and the state it checked the key
// against, or nils. It takes no lock: Resolve uses the state it returns,
// which was the key's at the moment it was loaded, and writers, who hold the
// shard's mu, use the bucket too.
func (x *index) find(h uint64, a Addr) (*bucket, *KeyState) {
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		b := &x.b[i]
		if b.sl.Load() == nil {
			return nil, nil
		}
		if b.hash.Load() == h {
			if ks := b.state.Load(); ks != nil && ks.addr == a {
				return b, ks
			}
		}
	}
}

// newIndex returns an empty index with room for n keys at a load of at most
// one half.
func newIndex(n int) *index {
	size := max(minBuckets, 1<<bits.Len(uint(2*n)))
	return &index{mask: uint64(size - 1), b: make([]bucket, size)}
}

// put adds sl, whose key is absent, with state ks, and returns the index to
// publish: x itself, or a larger copy when x is too full. The caller holds
// the shard's mu.
func (x *index) put(sl *slot, ks *KeyState) *index {
	if x == nil || 2*(x.used+1) > len(x.b) {
		x = x.rebuilt(1)
	}
	for i := sl.hash & x.mask; ; i = (i + 1) & x.mask {
		b := &x.b[i]
		switch b.sl.Load() {
		case tomb:
			// Reused: readers probing past it for other keys go on as before.
			x.used--
			fallthrough
		case nil:
			b.state.Store(ks)
			b.hash.Store(sl.hash)
			b.sl.Store(sl)
			sl.bkt.Store(b)
			x.used++
			x.live++
			return x
		}
	}
}

// remove takes sl's key out of x and returns the index to publish: x
// itself, or, when at most one bucket in 8 is left live, a smaller copy, so
// that an index gives memory back after its keys go. The caller holds the
// shard's mu, and sl is in x.
func (x *index) remove(sl *slot) *index {
	b := sl.bkt.Load()
	b.state.Store(nil)
	b.sl.Store(tomb)
	sl.bkt.Store(nil)
	x.live--
	if len(x.b) > minBuckets && 8*x.live <= len(x.b) {
		return x.rebuilt(0)
	}
	return x
}

// rebuilt returns a new index holding x's live keys (x may be nil), with
// room for extra more at a load of at most one half, and moves their slots
// to it. Until it is published, readers of x see the same states.
func (x *index) rebuilt(extra int) *index {
	if x == nil {
		return newIndex(extra)
	}
	y := newIndex(x.live + extra)
	for i := range x.b {
		b := &x.b[i]
		if sl := b.sl.Load(); sl != nil && sl != tomb {
			y.put(sl, b.state.Load())
		}
	}
	return y
}
