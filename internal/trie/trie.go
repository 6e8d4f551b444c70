// Package trie is a persistent (immutable) hash array mapped trie from
// comparable keys to values. Every update returns a new [Map] that shares all untouched
// nodes with the old one, so a Map published through an atomic pointer can be
// read by any number of goroutines without a lock while a writer builds the
// next version.
//
// It holds a domain's keys for listings (package shard), which only set,
// delete, count and range over them: a key is looked up through the shard's
// key index instead, so the Map has no lookup by key.
//
// Invariants: a Map and its nodes are never modified after they are built;
// an update copies the path from the root to the changed leaf (at most 13
// nodes of at most 32 slots).
//
// Keys are hashed by the caller (see [Hash]). Each level consumes 5 bits of
// the hash, lowest first; keys whose 64 bits collide share a collision node.
package trie

import (
	"iter"
	"math/bits"

	"github.com/cespare/xxhash/v2"
)

// Hash returns the hash of a string key.
func Hash(key string) uint64 { return xxhash.Sum64String(key) }

const (
	levelBits = 5 // 32 slots a node: one uint32 bitmap, popcount indexing
	levelMask = 1<<levelBits - 1
	maxShift  = 64 // at this shift the hash is used up: collision node
)

// Map is an immutable map from keys of type K to values of type V. The zero
// Map is empty and ready to use. Maps are values: copying one is cheap and
// safe.
//
// A node is just its slots, allocated as one array; the bitmap saying which
// of the 32 slots are present lives with the pointer to the node (in the Map
// for the root, in the parent's slot below it), so a lookup touches one
// array a level.
type Map[K comparable, V any] struct {
	root   []slot[K, V]
	bitmap uint32
	size   int
}

// slot is either a subtree (sub != nil) or a leaf holding one key.
type slot[K comparable, V any] struct {
	sub    []slot[K, V] // the child node's slots; nil for a leaf
	subMap uint32       // the child node's bitmap (unused below maxShift)
	hash   uint64
	key    K
	val    V
}

// Len returns the number of keys in m.
func (m Map[K, V]) Len() int { return m.size }

// Set returns a Map with key (hash h) bound to v.
func (m Map[K, V]) Set(h uint64, key K, v V) Map[K, V] {
	root, bm, added := set(m.root, m.bitmap, 0, slot[K, V]{hash: h, key: key, val: v})
	n := m.size
	if added {
		n++
	}
	return Map[K, V]{root: root, bitmap: bm, size: n}
}

// Delete returns a Map without key (hash h). If key is absent it returns m.
func (m Map[K, V]) Delete(h uint64, key K) Map[K, V] {
	root, bm, removed := del(m.root, m.bitmap, 0, h, key)
	if !removed {
		return m
	}
	return Map[K, V]{root: root, bitmap: bm, size: m.size - 1}
}

// All yields every key and value of m, in no particular order.
func (m Map[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) { walk(m.root, yield) }
}

func walk[K comparable, V any](slots []slot[K, V], yield func(K, V) bool) bool {
	for i := range slots {
		s := &slots[i]
		if s.sub != nil {
			if !walk(s.sub, yield) {
				return false
			}
		} else if !yield(s.key, s.val) {
			return false
		}
	}
	return true
}

// set returns the node (slots and bitmap) after binding leaf, and whether
// the key is new.
func set[K comparable, V any](slots []slot[K, V], bm uint32, shift uint, leaf slot[K, V]) ([]slot[K, V], uint32, bool) {
	if slots == nil {
		if shift >= maxShift {
			return []slot[K, V]{leaf}, 0, true
		}
		return []slot[K, V]{leaf}, uint32(1) << ((leaf.hash >> shift) & levelMask), true
	}
	if shift >= maxShift {
		for i := range slots {
			if slots[i].key == leaf.key {
				return with(slots, i, leaf), 0, false
			}
		}
		return append(slots[:len(slots):len(slots)], leaf), 0, true
	}
	bit := uint32(1) << ((leaf.hash >> shift) & levelMask)
	pos := bits.OnesCount32(bm & (bit - 1))
	if bm&bit == 0 {
		next := make([]slot[K, V], len(slots)+1)
		copy(next, slots[:pos])
		next[pos] = leaf
		copy(next[pos+1:], slots[pos:])
		return next, bm | bit, true
	}
	s := slots[pos]
	switch {
	case s.sub != nil:
		sub, subMap, added := set(s.sub, s.subMap, shift+levelBits, leaf)
		return with(slots, pos, slot[K, V]{sub: sub, subMap: subMap}), bm, added
	case s.hash == leaf.hash && s.key == leaf.key:
		return with(slots, pos, leaf), bm, false
	default:
		sub, subMap := pair(s, leaf, shift+levelBits)
		return with(slots, pos, slot[K, V]{sub: sub, subMap: subMap}), bm, true
	}
}

// pair returns a node holding two leaves whose hashes agree below shift.
func pair[K comparable, V any](a, b slot[K, V], shift uint) ([]slot[K, V], uint32) {
	if shift >= maxShift {
		return []slot[K, V]{a, b}, 0
	}
	ia, ib := (a.hash>>shift)&levelMask, (b.hash>>shift)&levelMask
	switch {
	case ia == ib:
		sub, subMap := pair(a, b, shift+levelBits)
		return []slot[K, V]{{sub: sub, subMap: subMap}}, 1 << ia
	case ia < ib:
		return []slot[K, V]{a, b}, 1<<ia | 1<<ib
	default:
		return []slot[K, V]{b, a}, 1<<ia | 1<<ib
	}
}

// del returns the node after removing key, and whether it was there. An
// emptied node is nil.
func del[K comparable, V any](slots []slot[K, V], bm uint32, shift uint, h uint64, key K) ([]slot[K, V], uint32, bool) {
	if slots == nil {
		return nil, 0, false
	}
	if shift >= maxShift {
		for i := range slots {
			if slots[i].key == key {
				return without(slots, i), 0, true
			}
		}
		return slots, bm, false
	}
	bit := uint32(1) << ((h >> shift) & levelMask)
	if bm&bit == 0 {
		return slots, bm, false
	}
	pos := bits.OnesCount32(bm & (bit - 1))
	s := slots[pos]
	if s.sub == nil {
		if s.hash != h || s.key != key {
			return slots, bm, false
		}
		return without(slots, pos), bm &^ bit, true
	}
	sub, subMap, removed := del(s.sub, s.subMap, shift+levelBits, h, key)
	switch {
	case !removed:
		return slots, bm, false
	case sub == nil:
		return without(slots, pos), bm &^ bit, true
	case len(sub) == 1 && sub[0].sub == nil:
		return with(slots, pos, sub[0]), bm, true // pull a lone leaf up
	default:
		return with(slots, pos, slot[K, V]{sub: sub, subMap: subMap}), bm, true
	}
}

// with returns a copy of slots with slot i replaced by s.
func with[K comparable, V any](slots []slot[K, V], i int, s slot[K, V]) []slot[K, V] {
	next := make([]slot[K, V], len(slots))
	copy(next, slots)
	next[i] = s
	return next
}

// without returns a copy of slots without slot i, or nil when none would be
// left.
func without[K comparable, V any](slots []slot[K, V], i int) []slot[K, V] {
	if len(slots) == 1 {
		return nil
	}
	next := make([]slot[K, V], 0, len(slots)-1)
	next = append(next, slots[:i]...)
	return append(next, slots[i+1:]...)
}
