package shard

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

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
		if ks.big == nil || ks.big.groups == nil || i%7 != 0 {
			continue
		}
		l := ks.big
		maxGroups = max(maxGroups, len(l.groups))
		seen := make([]bool, len(l.log))
		for gi, g := range l.groups {
			require.True(t, g.n >= 1 && g.n <= groupSize, "step %d: group %d holds %d chunks", i, gi, g.n)
			for ci, c := range g.chunks[:g.n] {
				require.True(t, c.n >= 1 && c.n <= chunkSize, "step %d: chunk %d.%d holds %d", i, gi, ci, c.n)
				for _, p := range c.pos[:c.n] {
					require.False(t, seen[p], "step %d: log position %d twice", i, p)
					seen[p] = true
				}
			}
		}
		require.NotContains(t, seen, false, "step %d: a log position is in no chunk", i)
		if i%203 == 0 {
			sorted := slices.Clone(want)
			ks.Policy.Order(sorted)
			require.Equal(t, sorted, ks.Entries(), "step %d", i)
			require.Same(t, sorted[0], ks.Winner(), "step %d", i)
		}
	}
	require.Greater(t, maxGroups, 4, "groups must have split several times")
}

// TestRankPosAgreesWithPolicy builds many small keys by insert, with
// priorities, stack levels and sequences at and beyond what packRank can
// hold, and checks every state against explain.Policy.Order: the packed
// ranks must place an entry exactly where comparing the entries would.
func TestRankPosAgreesWithPolicy(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	values := []int{0, 0, 0, 1, 1, -1, 5, 100, math.MaxInt16, -math.MaxInt16, math.MaxInt16 + 1, math.MinInt16, math.MaxInt64, math.MinInt64}
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
