// Package trie is a persistent (immutable) hash array mapped trie from
// comparable keys to values. Every update returns a new [Map] that shares all untouched
// nodes with the old one, so a Map published through an atomic pointer can be
// read by any number of goroutines without a lock while a writer builds the
// next version.
//
// Invariants: a Map and its nodes are never modified after they are built;
// an update copies the path from the root to the changed leaf (at most 13
// nodes of at most 32 slots). Lookups allocate nothing.
//
// Keys are hashed by the caller (see [Hash]) so that a hash computed once can
// route a shard and index its trie, and so that composite keys (a struct of
// two strings) need no concatenation. Each level consumes 5 bits of the hash,
// lowest first; keys whose 64 bits collide share a collision node.
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

// Map is an immutable map from keys of type K to values of type V. The zero Map
// is empty and ready to use. Maps are values: copying one is cheap and safe.
type Map[K comparable, V any] struct {
	root *node[K, V]
	size int
}

type node[K comparable, V any] struct {
	bitmap uint32       // which of the 32 slots are present (unused in collision nodes)
	slots  []slot[K, V] // present slots in bitmap order
}

// slot is either a subtree (sub != nil) or a leaf holding one key.
type slot[K comparable, V any] struct {
	sub  *node[K, V]
	hash uint64
	key  K
	val  V
}

// Len returns the number of keys in m.
func (m Map[K, V]) Len() int { return m.size }

// Get returns the value stored under key, whose hash is h.
func (m Map[K, V]) Get(h uint64, key K) (V, bool) {
	n := m.root
	for shift := uint(0); n != nil; shift += levelBits {
		if shift >= maxShift {
			for i := range n.slots {
				if n.slots[i].key == key {
					return n.slots[i].val, true
				}
			}
			break
		}
		bit := uint32(1) << ((h >> shift) & levelMask)
		if n.bitmap&bit == 0 {
			break
		}
		s := &n.slots[bits.OnesCount32(n.bitmap&(bit-1))]
		if s.sub != nil {
			n = s.sub
			continue
		}
		if s.hash == h && s.key == key {
			return s.val, true
		}
		break
	}
	var zero V
	return zero, false
}

// Set returns a Map with key (hash h) bound to v.
func (m Map[K, V]) Set(h uint64, key K, v V) Map[K, V] {
	root, added := set(m.root, 0, slot[K, V]{hash: h, key: key, val: v})
	if added {
		return Map[K, V]{root: root, size: m.size + 1}
	}
	return Map[K, V]{root: root, size: m.size}
}

// Delete returns a Map without key (hash h). If key is absent it returns m.
func (m Map[K, V]) Delete(h uint64, key K) Map[K, V] {
	root, removed := del(m.root, 0, h, key)
	if !removed {
		return m
	}
	return Map[K, V]{root: root, size: m.size - 1}
}

// All yields every key and value of m, in no particular order.
func (m Map[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) { walk(m.root, yield) }
}

func walk[K comparable, V any](n *node[K, V], yield func(K, V) bool) bool {
	if n == nil {
		return true
	}
	for i := range n.slots {
		s := &n.slots[i]
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

func set[K comparable, V any](n *node[K, V], shift uint, leaf slot[K, V]) (*node[K, V], bool) {
	if n == nil {
		return &node[K, V]{bitmap: uint32(1) << ((leaf.hash >> shift) & levelMask), slots: []slot[K, V]{leaf}}, true
	}
	if shift >= maxShift {
		for i := range n.slots {
			if n.slots[i].key == leaf.key {
				return n.with(i, leaf), false
			}
		}
		return &node[K, V]{slots: append(n.slots[:len(n.slots):len(n.slots)], leaf)}, true
	}
	bit := uint32(1) << ((leaf.hash >> shift) & levelMask)
	pos := bits.OnesCount32(n.bitmap & (bit - 1))
	if n.bitmap&bit == 0 {
		slots := make([]slot[K, V], len(n.slots)+1)
		copy(slots, n.slots[:pos])
		slots[pos] = leaf
		copy(slots[pos+1:], n.slots[pos:])
		return &node[K, V]{bitmap: n.bitmap | bit, slots: slots}, true
	}
	s := n.slots[pos]
	switch {
	case s.sub != nil:
		sub, added := set(s.sub, shift+levelBits, leaf)
		return n.with(pos, slot[K, V]{sub: sub}), added
	case s.hash == leaf.hash && s.key == leaf.key:
		return n.with(pos, leaf), false
	default:
		return n.with(pos, slot[K, V]{sub: pair(s, leaf, shift+levelBits)}), true
	}
}

// pair returns a node holding two leaves whose hashes agree below shift.
func pair[K comparable, V any](a, b slot[K, V], shift uint) *node[K, V] {
	if shift >= maxShift {
		return &node[K, V]{slots: []slot[K, V]{a, b}}
	}
	ia, ib := (a.hash>>shift)&levelMask, (b.hash>>shift)&levelMask
	switch {
	case ia == ib:
		return &node[K, V]{bitmap: 1 << ia, slots: []slot[K, V]{{sub: pair(a, b, shift+levelBits)}}}
	case ia < ib:
		return &node[K, V]{bitmap: 1<<ia | 1<<ib, slots: []slot[K, V]{a, b}}
	default:
		return &node[K, V]{bitmap: 1<<ia | 1<<ib, slots: []slot[K, V]{b, a}}
	}
}

func del[K comparable, V any](n *node[K, V], shift uint, h uint64, key K) (*node[K, V], bool) {
	if n == nil {
		return nil, false
	}
	if shift >= maxShift {
		for i := range n.slots {
			if n.slots[i].key == key {
				return n.without(i, 0), true
			}
		}
		return n, false
	}
	bit := uint32(1) << ((h >> shift) & levelMask)
	if n.bitmap&bit == 0 {
		return n, false
	}
	pos := bits.OnesCount32(n.bitmap & (bit - 1))
	s := n.slots[pos]
	if s.sub == nil {
		if s.hash != h || s.key != key {
			return n, false
		}
		return n.without(pos, bit), true
	}
	sub, removed := del(s.sub, shift+levelBits, h, key)
	switch {
	case !removed:
		return n, false
	case sub == nil:
		return n.without(pos, bit), true
	case len(sub.slots) == 1 && sub.slots[0].sub == nil:
		return n.with(pos, sub.slots[0]), true // pull a lone leaf up
	default:
		return n.with(pos, slot[K, V]{sub: sub}), true
	}
}

// with returns a copy of n with slot i replaced by s.
func (n *node[K, V]) with(i int, s slot[K, V]) *node[K, V] {
	slots := make([]slot[K, V], len(n.slots))
	copy(slots, n.slots)
	slots[i] = s
	return &node[K, V]{bitmap: n.bitmap, slots: slots}
}

// without returns a copy of n without slot i (and bit), or nil when n would be
// empty.
func (n *node[K, V]) without(i int, bit uint32) *node[K, V] {
	if len(n.slots) == 1 {
		return nil
	}
	slots := make([]slot[K, V], 0, len(n.slots)-1)
	slots = append(slots, n.slots[:i]...)
	slots = append(slots, n.slots[i+1:]...)
	return &node[K, V]{bitmap: n.bitmap &^ bit, slots: slots}
}
