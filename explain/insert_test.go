package explain_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/explain"
)

// TestInsertPosAgreesWithOrder inserts every entry of random keys into the
// others in rank order and checks that InsertPos puts it where Order does,
// and that Above agrees with Order, under the zero Policy (the fast path),
// a selection, unhealthy providers, and both.
func TestInsertPosAgreesWithOrder(t *testing.T) {
	policies := []explain.Policy{
		{},
		{Selected: "p1"},
		{Unhealthy: []string{"p0", "p2"}},
		{Selected: "p2", Unhealthy: []string{"p2", "p3"}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		cs := make([]cand, 1+rng.IntN(12))
		for i := range cs {
			// Few distinct values, so that ties on priority and stack level
			// leave the sequence to decide.
			cs[i] = cand{provider: fmt.Sprintf("p%d", rng.IntN(5)), priority: rng.IntN(3) - 1, stack: rng.IntN(2)}
		}
		es := entries(t, cs...)
		for _, p := range policies {
			all := slices.Clone(es)
			p.Order(all)
			for want, e := range all {
				rest := slices.Delete(slices.Clone(all), want, want+1)
				require.Equal(t, want, p.InsertPos(rest, e), "round %d policy %+v", round, p)
				for j, x := range all {
					require.Equal(t, want < j, p.Above(e, x), "round %d policy %+v: Above(%d, %d)", round, p, want, j)
				}
			}
		}
	}
}

// TestInsertPosEmpty puts any entry first into an empty key.
func TestInsertPosEmpty(t *testing.T) {
	e := entries(t, cand{provider: "redis"})[0]
	require.Equal(t, 0, explain.Policy{}.InsertPos(nil, e))
	require.Equal(t, 0, explain.Policy{Selected: "redis"}.InsertPos([]*domain.Entry{}, e))
}
