package shard

import "sync/atomic"

// domainIndex is a shard's index of its domains' tables: open addressing
// with linear probing from the low bits of a domain's hash (the high bits
// chose the shard). It is published through [Shard].domains; readers load
// and probe it without a lock, writers change it under the shard's mu.
//
// A lookup reads one slot of one array (8 KiB for the 156 domains a shard
// holds on average in a registry of 10,000 domains over the default 64
// shards), then the table it finds. It replaced a persistent hash trie,
// whose two levels of nodes at that size, each a separate allocation, a
// lookup of a random domain paid for in cache misses.
//
// Invariants, which let readers probe while a writer changes the index:
//   - A writer fills an empty slot in place: it writes hash, then stores t.
//     A reader reads hash only after loading a non-nil t, so it sees the
//     hash stored before (the atomic store and load order them).
//   - A filled slot is never emptied or refilled: a removed domain's slot
//     gets t = domainTomb and keeps its hash, so every probe sequence that ran
//     through it still runs through it.
//   - At most half the slots are filled (live or removed). Before an insert
//     would fill more, the writer publishes a new index holding only the
//     live tables, at most a quarter full; after a removal that leaves
//     fewer than one slot in 16 live, it publishes such a copy too, smaller.
//     A replaced index is never changed again, and readers still holding it
//     see the domains as they were.
//
// So a reader finds a table present throughout its probe, and never finds a
// table that left its shard before the reader loaded the index. A table it
// finds may be removed meanwhile; a removed table has no keys, so reading it
// shows an empty domain, as it is by then.
type domainIndex struct {
	mask  uint64       // len(slots) - 1; len(slots) is a power of two
	slots []domainSlot // immutable slice header; slots change as above
	used  int          // filled slots, live or removed; guarded by the shard's mu
	live  int          // slots holding a domain's table; guarded by the shard's mu
}

// domainSlot is one slot of a domainIndex: empty (t nil), a domain's table,
// or removed.
type domainSlot struct {
	hash uint64 // the table's domain hash; written once, before t
	t    atomic.Pointer[table]
}

// domainTomb marks the slot of a domain removed from its index. It is never
// returned: get and tables skip it.
var domainTomb = new(table)

// minDomainSlots is the size of a new shard's first index.
const minDomainSlots = 8

// get returns the table of the domain name whose hash is h, nil if x (which
// may be nil) holds none. It takes no lock.
func (x *domainIndex) get(h uint64, name string) *table {
	if x == nil {
		return nil
	}
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		s := &x.slots[i]
		t := s.t.Load()
		if t == nil {
			return nil
		}
		if t != domainTomb && s.hash == h && t.name == name {
			return t
		}
	}
}

// tables calls f with each live table of x, in no particular order. The
// caller holds the shard's mu.
func (x *domainIndex) tables(f func(*table)) {
	if x == nil {
		return
	}
	for i := range x.slots {
		if t := x.slots[i].t.Load(); t != nil && t != domainTomb {
			f(t)
		}
	}
}

// newDomainIndex returns an index with room for n domains at a quarter of
// its slots, holding the live tables of old (which may be nil).
func newDomainIndex(n int, old *domainIndex) *domainIndex {
	size := minDomainSlots
	for size < 4*n {
		size *= 2
	}
	x := &domainIndex{mask: uint64(size - 1), slots: make([]domainSlot, size)}
	if old != nil {
		for i := range old.slots {
			if t := old.slots[i].t.Load(); t != nil && t != domainTomb {
				x.fill(old.slots[i].hash, t)
			}
		}
	}
	return x
}

// fill puts t, the table of the domain whose hash is h, into the first
// empty slot of h's probe sequence. The index must have an empty slot; the
// caller holds the shard's mu, or x is not yet published.
func (x *domainIndex) fill(h uint64, t *table) {
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		s := &x.slots[i]
		if s.t.Load() == nil {
			s.hash = h
			s.t.Store(t)
			x.used++
			x.live++
			return
		}
	}
}

// addDomainLocked makes t, a new table, the table in sh of its domain, whose
// hash is h. The caller holds sh.mu and found no table for the domain.
func (sh *Shard) addDomainLocked(h uint64, t *table) {
	x := sh.domains.Load()
	if x == nil || 2*(x.used+1) > len(x.slots) {
		n := 1
		if x != nil {
			n += x.live
		}
		x = newDomainIndex(n, x)
		x.fill(h, t)
		sh.domains.Store(x)
		return
	}
	x.fill(h, t)
}

// removeDomainLocked removes t, the table of a domain left without keys,
// whose hash is h, from sh. The caller holds sh.mu.
func (sh *Shard) removeDomainLocked(h uint64, t *table) {
	x := sh.domains.Load()
	if x == nil {
		return // no domains: nothing to remove (callers remove only what they found)
	}
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		s := &x.slots[i]
		cur := s.t.Load()
		if cur == nil {
			return // not in the index: nothing to remove
		}
		if cur == t {
			s.t.Store(domainTomb)
			x.live--
			break
		}
	}
	// Shrink an index left mostly empty, so that a shard that once held
	// many domains does not keep their slots.
	if len(x.slots) > minDomainSlots && 16*x.live < len(x.slots) {
		sh.domains.Store(newDomainIndex(x.live, x))
	}
}
