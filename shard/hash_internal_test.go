package shard

import (
	"fmt"
	"math/bits"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"

	"github.com/oneiric-go/oneiric/sequence"
)

// TestStrhash checks the properties the shards and the key index rely on:
// a name hashes the same under one seed and differently under another (the
// empty name too), and every bit of the hash varies, the top ones that
// choose a shard included.
func TestStrhash(t *testing.T) {
	const n = 256
	var or, and uint64 = 0, ^uint64(0)
	seen := map[uint64]bool{}
	for i := range n {
		s := fmt.Sprintf("name-%d", i)
		h := strhash(s, 1)
		assert.Equal(t, h, strhash(s, 1), "same name, same seed")
		assert.NotEqual(t, h, strhash(s, 2), "same name, another seed: %q", s)
		seen[h] = true
		or, and = or|h, and&h
	}
	assert.Len(t, seen, n, "256 names must not collide in 64 bits")
	assert.Equal(t, ^uint64(0), or, "every bit must be 1 in some hash")
	assert.Zero(t, and, "every bit must be 0 in some hash")
	assert.NotEqual(t, strhash("", 1), strhash("", 2), "the empty name is seeded too")
}

// TestStrhash32 checks the path strhash takes where memhash returns 32 bits
// (32-bit platforms, wasm), which this test calls directly: the two halves
// of the hash come from the two halves of the seed, so both vary.
func TestStrhash32(t *testing.T) {
	var hiOr, loOr uint64
	same := 0
	for i := range 256 {
		s := fmt.Sprintf("name-%d", i)
		h := strhash32(unsafe.Pointer(unsafe.StringData(s)), 0x1234_5678_9abc_def0, len(s))
		hiOr |= h >> 32
		loOr |= h & 0xffff_ffff
		if h>>32 == h&0xffff_ffff {
			same++
		}
	}
	assert.Equal(t, 32, bits.OnesCount64(hiOr), "every high bit must vary")
	assert.Equal(t, 32, bits.OnesCount64(loOr), "every low bit must vary")
	assert.Zero(t, same, "the halves must be hashed with different seeds")
}

// TestKeyHashPerDomain checks that a key's hash in the index depends on its
// domain: one key name hashes differently in each of 64 domains.
func TestKeyHashPerDomain(t *testing.T) {
	s := NewSet(64, new(sequence.Counter))
	seen := map[uint64]bool{}
	for i := range 64 {
		seen[s.keyHash(s.Route(fmt.Sprintf("tenant-%d", i)).Hash, "cache")] = true
	}
	assert.Len(t, seen, 64)
}
