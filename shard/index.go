package shard

import (
	"math/bits"
	"sync/atomic"
)

// index is a shard's key index: an open-addressing hash table from (domain,
// key) to slot, with linear probing over a power-of-two array of buckets.
//
// Readers take no lock. Writers hold the shard's mu, and change an index in
// place in only two ways, each safe for a concurrent reader:
//   - a new key's bucket gets its hash, then its slot (a reader that sees the
//     slot sees the hash);
//   - a removed key's bucket gets the tombstone in place of its slot.
//
// A bucket that once held a slot never becomes empty again, so a probe
// sequence is never cut short by a removal; a reader stops only at a bucket
// that was never used. When used buckets (live or tombstones) would exceed
// half the array, the writer builds a new index of the live slots only and
// publishes it with one atomic store; the old one is never written again, so
// a reader still probing it sees a state that was current during its read.
//
// One lookup touches one bucket (16 bytes, usually in the cache line of the
// first probe), then the slot: one dependent load fewer, or more, than the
// levels of a hash trie.
type index struct {
	mask uint64   // len(b) - 1
	used int      // buckets holding a slot or the tombstone; guarded by the shard's mu
	live int      // buckets holding a slot; guarded by the shard's mu
	b    []bucket // len is a power of two
}

// bucket is one cell of an index. An empty bucket has a nil slot.
type bucket struct {
	hash atomic.Uint64
	sl   atomic.Pointer[slot]
}

// tomb marks a bucket whose key was removed. It matches no lookup.
var tomb = &slot{}

// minBuckets is the size of a shard's first index.
const minBuckets = 8

// get returns the slot of a (hash h), or nil.
func (x *index) get(h uint64, a Addr) *slot {
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		b := &x.b[i]
		sl := b.sl.Load()
		if sl == nil {
			return nil
		}
		if b.hash.Load() == h && sl != tomb && sl.addr == a {
			return sl
		}
	}
}

// newIndex returns an empty index with room for n keys at a load of at most
// one half.
func newIndex(n int) *index {
	size := max(minBuckets, 1<<bits.Len(uint(2*n)))
	return &index{mask: uint64(size - 1), b: make([]bucket, size)}
}

// put adds sl, whose key is absent, and returns the index to publish: x
// itself, or a larger copy when x is too full. The caller holds the shard's
// mu.
func (x *index) put(sl *slot) *index {
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
			b.hash.Store(sl.hash)
			b.sl.Store(sl)
			x.used++
			x.live++
			return x
		}
	}
}

// remove replaces sl's bucket with the tombstone and returns the index to
// publish: x itself, or, when at most one bucket in 8 is left live, a
// smaller copy, so that an index gives memory back after its keys go. The
// caller holds the shard's mu.
func (x *index) remove(sl *slot) *index {
	for i := sl.hash & x.mask; ; i = (i + 1) & x.mask {
		b := &x.b[i]
		switch b.sl.Load() {
		case sl:
			b.sl.Store(tomb)
			x.live--
			if len(x.b) > minBuckets && 8*x.live <= len(x.b) {
				return x.rebuilt(0)
			}
			return x
		case nil:
			return x
		}
	}
}

// rebuilt returns a new index holding x's live slots (x may be nil), with
// room for extra more at a load of at most one half.
func (x *index) rebuilt(extra int) *index {
	if x == nil {
		return newIndex(extra)
	}
	y := newIndex(x.live + extra)
	for i := range x.b {
		if sl := x.b[i].sl.Load(); sl != nil && sl != tomb {
			y.put(sl)
		}
	}
	return y
}
