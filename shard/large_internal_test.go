package shard

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

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
		if ks.big == nil || i%7 != 0 {
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
