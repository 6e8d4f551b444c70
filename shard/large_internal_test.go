package shard

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/sequence"
)

// TestLargeShapeAcrossSplits grows one key to 6,000 candidates, so that
// chunks and groups split many times, and checks after every 7th
// registration that its chunks and groups are well formed: none empty or
// over its bound, every log position used once; and now and then that its
// entries are in rank order.
func TestLargeShapeAcrossSplits(t *testing.T) {
	s := NewSet(1, new(sequence.Counter))
	r := s.Route("big")
	rng := rand.New(rand.NewPCG(5, 6))
	var want []*domain.Entry
	maxGroups := 0
	for i := range 6000 {
		d, err := domain.Prepare(domain.Candidate{Domain: "big", Key: "k",
			Provider: fmt.Sprint("p", i), Priority: new(rng.IntN(50))}, 0, "")
		require.NoError(t, err)
		e, _, err := s.Register(r, d)
		require.NoError(t, err)
		want = append(want, e)

		ks := s.Lookup(r, "k")
		if ks.big == nil || !ks.big.ranked() || i%7 != 0 {
			continue
		}
		require.Nil(t, ks.big.wide, "step %d: a key of %d has wide positions", i, ks.n)
		checkRanking(t, ks.big.narrow, len(ks.big.log), fmt.Sprint("step ", i))
		maxGroups = max(maxGroups, len(ks.big.narrow))
		if i%203 == 0 {
			sorted := slices.Clone(want)
			ks.Policy.Order(sorted)
			require.Equal(t, sorted, ks.Entries(), "step %d", i)
			require.Same(t, sorted[0], ks.Winner(), "step %d", i)
		}
	}
	require.Greater(t, maxGroups, 4, "groups must have split several times")
}

// checkRanking fails t unless r is well formed for a log of n entries: no
// group or chunk empty or over its bound, every log position in exactly one
// chunk.
func checkRanking[P position](t *testing.T, r ranking[P], n int, at string) {
	t.Helper()
	seen := make([]bool, n)
	for gi, g := range r {
		require.True(t, g.n >= 1 && g.n <= groupSize, "%s: group %d holds %d chunks", at, gi, g.n)
		for ci, c := range g.chunks[:g.n] {
			require.True(t, c.n >= 1 && c.n <= chunkSize, "%s: chunk %d.%d holds %d", at, gi, ci, c.n)
			for _, p := range c.pos[:c.n] {
				require.False(t, seen[p], "%s: log position %d twice", at, p)
				seen[p] = true
			}
		}
	}
	require.NotContains(t, seen, false, "%s: a log position is in no chunk", at)
}

// TestLargeWidensPastNarrowMax starts a key just below narrowMax entries and
// inserts past it: the registration that makes the log longer than uint16
// positions can address must move the rank order to wide positions, keep
// it and keep inserting in order; a key built beyond narrowMax starts wide.
func TestLargeWidensPastNarrowMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	entry := func(i int) *domain.Entry {
		d, err := domain.Prepare(domain.Candidate{Domain: "d", Key: "k",
			Provider: fmt.Sprint("p", i), Priority: new(rng.IntN(1000))}, 0, "")
		require.NoError(t, err)
		return d.Finish(uint64(i+1), time.Time{})
	}
	all := make([]*domain.Entry, narrowMax-3)
	for i := range all {
		all[i] = entry(i)
	}
	noPolicy.Order(all)
	ks := fromSorted(nil, all)
	require.NotNil(t, ks.big.narrow)
	for i := len(all); i < narrowMax+3; i++ {
		e := entry(i)
		ks = ks.insert(e, nil)
		all = append(all, e)
		noPolicy.Order(all)
		at := fmt.Sprint("entry ", i)
		require.Equal(t, len(all) > narrowMax, ks.big.wide != nil, "%s: wide positions", at)
		if ks.big.wide != nil {
			require.Nil(t, ks.big.narrow, at)
			checkRanking(t, *ks.big.wide, len(ks.big.log), at)
		} else {
			checkRanking(t, ks.big.narrow, len(ks.big.log), at)
		}
		require.Equal(t, all, ks.Entries(), at)
		require.Same(t, all[0], ks.Winner(), at)
	}
	rebuilt := fromSorted(nil, all)
	require.NotNil(t, rebuilt.big.wide, "a key built beyond narrowMax")
	checkRanking(t, *rebuilt.big.wide, len(all), "rebuilt")
	require.Equal(t, all, rebuilt.Entries())
}

// TestRankPosAgreesWithPolicy builds many small keys by insert, with
// priorities, stack levels and sequences at and beyond what packRank can
// hold, and checks every state against explain.Policy.Order: the packed
// ranks must place an entry exactly where comparing the entries would.
func TestRankPosAgreesWithPolicy(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	values := []int{0, 0, 0, 1, 1, -1, 5, 100, math.MaxInt16, -math.MaxInt16, math.MaxInt16 + 1, math.MinInt16, math.MaxInt, math.MinInt}
	seqs := []uint64{1, 2, 1<<32 - 1, 1 << 32, math.MaxUint64}
	fast := 0
	for round := range 3000 {
		var ks *KeyState
		var all []*domain.Entry
		base := seqs[rng.IntN(len(seqs))]
		for i := range 1 + rng.IntN(5) {
			prio := values[rng.IntN(len(values))]
			d, err := domain.Prepare(domain.Candidate{Domain: "d", Key: "k", Provider: fmt.Sprint("p", i),
				Priority: &prio, StackLevel: values[rng.IntN(len(values))]}, 0, "")
			require.NoError(t, err)
			// Sequences need not grow: a key's entries may come from a
			// batch or a restore in any order.
			e := d.Finish(base-uint64(rng.IntN(3))+uint64(i)*uint64(rng.IntN(2)), time.Time{})
			if slices.ContainsFunc(all, func(x *domain.Entry) bool { return x.Sequence() == e.Sequence() }) {
				continue
			}
			if ks != nil {
				if _, ok := ks.rankPos(packRank(e)); ok {
					fast++
				}
			}
			ks = ks.insert(e, nil)
			all = append(all, e)
			want := slices.Clone(all)
			noPolicy.Order(want)
			require.Equal(t, want, ks.Entries(), "round %d, entry %d", round, i)
		}
	}
	require.Greater(t, fast, 200, "the packed ranks must decide many insertions")
}

// TestLargeSizes pins the sizes a registration into a large key allocates:
// its large (a 64-byte size class) and a narrow chunk (104 bytes, the
// 112-byte class, where wide positions would take the 208-byte one).
func TestLargeSizes(t *testing.T) {
	skipUnless64Bit(t)
	require.Equal(t, uintptr(64), unsafe.Sizeof(large{}))
	require.Equal(t, uintptr(104), unsafe.Sizeof(chunk[uint16]{}))
	require.Equal(t, uintptr(200), unsafe.Sizeof(chunk[uint32]{}))
}
