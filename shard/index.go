package shard

import (
	"math"
	"runtime"
	"sync/atomic"

	"github.com/oneiric-go/oneiric/domain"
)

// index is a shard's key index: an open-addressing hash table from (domain,
// key) to slot, with linear probing over a power-of-two array of buckets.
// A key's bucket holds its (domain, key), the pointer to its current state
// (the one place that pointer lives while the index is the shard's current
// one) and, while that state belongs to no uncommitted batch, its winner.
// The slot reaches the state through its bucket. Resolve reads the winner
// straight from the bucket after checking the key there, so that it loads
// one bucket and no state; other readers load the state.
//
// Readers take no lock. Writers hold the shard's mu, and change an index in
// place in only these ways, each safe for a concurrent reader:
//   - a never-used bucket gets its key, its state and winner, then its slot
//     (a reader that sees the slot sees the rest);
//   - a key's bucket gets its next state and winner, inside its sequence
//     count made odd (see [bucket.publish]);
//   - a removed key's bucket loses its state and winner the same way, then
//     gets the tombstone in place of its slot.
//
// A bucket's key is written once: a tombstone is not reused before the next
// rebuild, because a reader that loaded the slot earlier may still be
// comparing the key. A bucket that once held a slot never becomes empty
// again, so a probe sequence is never cut short by a removal; a reader stops
// only at a bucket that was never used. When used buckets (live or
// tombstones) would exceed half the array, or live ones drop to one in 8,
// the writer builds a new index of the live keys, moves each slot to its new
// bucket and publishes the index with one atomic store; the old one is never
// written again, so a reader still probing it returns a state that was
// current during its read.
type index struct {
	mask uint64   // len(b) - 1
	used int      // buckets holding a slot or the tombstone; guarded by the shard's mu
	live int      // buckets holding a slot; guarded by the shard's mu
	b    []bucket // len is a power of two
}

// bucket is one cell of an index. An empty bucket has a nil slot. Its key
// (the tag in meta, and addr) is written before its slot is published and
// never again, so a reader that loaded the slot may read them without a lock.
//
// win is the winner of state when state belongs to no uncommitted batch, so
// that Resolve reads one bucket and no state; it is nil otherwise, and then
// readers go through state. A writer changes win and state together, with
// the sequence count in meta made odd (see [bucket.publish]); a reader of win
// retries while the count is odd or has moved, so it sees both of one
// publication.
//
// A bucket is 64 bytes. An index's array starts on a 64-byte boundary (8
// buckets) or 8 bytes past one (more: the runtime puts an allocation header
// first), so the fields a lookup reads, the first 56 bytes, lie in one cache
// line, and a lookup that finds its key in its first bucket reads one line
// (TestLookupReadsOneCacheLine). Keep them first, and state last.
type bucket struct {
	// meta is the key's hash tag in its high 32 bits (written once, with
	// addr) and a sequence count in its low 32, odd while a writer publishes.
	meta  atomic.Uint64
	win   atomic.Pointer[domain.Entry]
	addr  Addr
	sl    atomic.Pointer[slot]
	state atomic.Pointer[KeyState] // the key's state; nil once removed
}

// tag returns the bits of a key's hash that its bucket keeps, above those
// that choose the bucket.
func tag(h uint64) uint32 { return uint32(h >> 32) }

// publish makes ks the bucket's state, and its winner the bucket's win when
// ks belongs to no batch newer than committed (nil ks: the key is gone).
// The caller holds the shard's mu, so it is the bucket's only writer.
func (b *bucket) publish(ks *KeyState, committed uint64) {
	b.bump() // odd: readers of win retry
	b.state.Store(ks)
	b.win.Store(fastWin(ks, committed))
	b.bump()
}

// bump adds one to the sequence count, leaving the tag as it is.
func (b *bucket) bump() {
	m := b.meta.Load()
	b.meta.Store(m&^math.MaxUint32 | uint64(uint32(m)+1))
}

// fastWin returns the winner a reader may take from a bucket holding ks
// without loading ks: ks's own, unless ks is absent, a batch's tombstone or
// a state of a batch not committed at committed.
func fastWin(ks *KeyState, committed uint64) *domain.Entry {
	if ks == nil || ks.n == 0 || ks.epoch > committed {
		return nil
	}
	return ks.win
}

// tomb marks a bucket whose key was removed. It matches no lookup.
var tomb = &slot{}

// minBuckets is the size of a shard's first index.
const minBuckets = 8

// find returns the bucket of a (hash h) and its state, or nils. Writers,
// who hold the shard's mu, use it; so does [Set.Lookup], without a lock,
// which uses the state it returns: the key's at the moment it was loaded.
func (x *index) find(h uint64, a Addr) (*bucket, *KeyState) {
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		b := &x.b[i]
		sl := b.sl.Load()
		if sl == nil {
			return nil, nil
		}
		if sl != tomb && uint32(b.meta.Load()>>32) == tag(h) && b.addr == a {
			if ks := b.state.Load(); ks != nil {
				return b, ks
			}
		}
	}
}

// winner returns the winner of a (hash h) that a reader sees after loading
// committed epoch w, or nil. It takes no lock: it reads the bucket's win,
// retrying while a writer publishes into the bucket, and only when win is
// nil the state (see [bucket]).
func (x *index) winner(h uint64, a Addr, w uint64) *domain.Entry {
	t := tag(h)
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		b := &x.b[i]
		sl := b.sl.Load()
		if sl == nil {
			return nil
		}
		m := b.meta.Load()
		if sl == tomb || uint32(m>>32) != t || b.addr != a {
			continue
		}
		for spins := 0; ; spins++ {
			if m&1 == 0 {
				e := b.win.Load()
				var ks *KeyState
				if e == nil {
					ks = b.state.Load()
				}
				if b.meta.Load() == m {
					if e != nil {
						return e
					}
					if ks == nil {
						break // removed; the key may be in a later bucket
					}
					if ks = visible(ks, w); ks == nil {
						return nil
					}
					return ks.win
				}
			}
			if spins%64 == 63 {
				runtime.Gosched() // the writer between two stores may need this P
			}
			m = b.meta.Load()
		}
	}
}

// newIndex returns an empty index with room for n keys at a load of at most
// three eighths. put rebuilds at one half, so a rebuilt index takes at least
// an eighth of its buckets in new keys before the next: a shard whose keys
// come and go (a removed key's bucket stays a tombstone until the rebuild)
// copies its index once per that many writes, not on nearly every write, as
// it did when a rebuild could leave the index just under half full. A
// shrink (at one eighth live) leaves it more than three sixteenths full, so
// it does not shrink again at once.
func newIndex(n int) *index {
	size := minBuckets
	for 3*size < 8*n {
		size *= 2
	}
	return &index{mask: uint64(size - 1), b: make([]bucket, size)}
}

// put adds sl, whose key is absent, with state ks, and returns the index to
// publish: x itself, or a larger copy when x is too full. A bucket is
// written once: a removed key's bucket keeps its tombstone until the next
// rebuild, because a reader may still be comparing its key. committed is the
// committed batch epoch. The caller holds the shard's mu.
func (x *index) put(sl *slot, ks *KeyState, committed uint64) *index {
	if x == nil || 2*(x.used+1) > len(x.b) {
		x = x.rebuilt(1, committed)
	}
	for i := sl.hash & x.mask; ; i = (i + 1) & x.mask {
		b := &x.b[i]
		if b.sl.Load() != nil {
			continue
		}
		b.addr = sl.addr
		b.meta.Store(uint64(tag(sl.hash)) << 32)
		b.state.Store(ks)
		b.win.Store(fastWin(ks, committed))
		b.sl.Store(sl) // publishes the bucket: readers stop at a nil slot
		sl.bkt.Store(b)
		x.used++
		x.live++
		return x
	}
}

// remove takes sl's key out of x and returns the index to publish: x
// itself, or, when at most one bucket in 8 is left live, a smaller copy, so
// that an index gives memory back after its keys go. The caller holds the
// shard's mu, and sl is in x.
func (x *index) remove(sl *slot, committed uint64) *index {
	b := sl.bkt.Load()
	b.publish(nil, committed)
	b.sl.Store(tomb)
	sl.bkt.Store(nil)
	x.live--
	if len(x.b) > minBuckets && 8*x.live <= len(x.b) {
		return x.rebuilt(0, committed)
	}
	return x
}

// rebuilt returns a new index holding x's live keys (x may be nil), with
// room for extra more at a load of at most three eighths, and moves their slots
// to it. Until it is published, readers of x see the same states.
func (x *index) rebuilt(extra int, committed uint64) *index {
	if x == nil {
		return newIndex(extra)
	}
	y := newIndex(x.live + extra)
	for i := range x.b {
		b := &x.b[i]
		if sl := b.sl.Load(); sl != nil && sl != tomb {
			y.put(sl, b.state.Load(), committed)
		}
	}
	return y
}
