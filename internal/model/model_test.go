package model_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/explain"
	"github.com/oneiric-go/oneiric/internal/model"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSnapshotOrdersAsExplain: Snapshot, which orders a key's candidates
// without Explain's reasons, gives every key the order Explain gives it,
// with and without a selection, ties included.
func TestSnapshotOrdersAsExplain(t *testing.T) {
	m := model.New(model.Config{})
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		key := fmt.Sprint("k", i%10)
		_, err := m.Register(domain.Candidate{Domain: "d", Key: key, Provider: fmt.Sprint("p", rng.IntN(5)),
			Priority: new(rng.IntN(3)), StackLevel: rng.IntN(2)})
		require.NoError(t, err)
	}
	require.NoError(t, m.Select("d", "k3", "p2"))
	require.NoError(t, m.Select("d", "k7", "p4"))
	snap := m.Snapshot()
	require.Len(t, snap, 10)
	for a, got := range snap {
		x := m.Explain(a.Domain, a.Key, explain.Query{})
		want := make([]*domain.Entry, len(x.Ordered))
		for i, r := range x.Ordered {
			want[i] = r.Entry
		}
		require.Equal(t, want, got, "key %s", a.Key)
	}
}
