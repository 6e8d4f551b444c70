package sequence_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/sequence"
)

// gate starts n goroutines that all wait on one barrier before calling f, so
// that they really overlap, and waits for them to finish.
func gate(n int, f func(g int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			<-start
			f(g)
		})
	}
	close(start)
	wg.Wait()
}

func TestZeroValueStartsAtOne(t *testing.T) {
	var c sequence.Counter
	assert.Equal(t, uint64(0), c.Last(), "Last before any number is handed out")
	assert.Equal(t, uint64(1), c.Next())
	assert.Equal(t, uint64(2), c.Next())
	assert.Equal(t, uint64(2), c.Last())
}

func TestNextConcurrentDistinctAndContiguous(t *testing.T) {
	const goroutines, each = 32, 500
	var c sequence.Counter
	got := make([][]uint64, goroutines)
	gate(goroutines, func(g int) {
		prev := uint64(0)
		for range each {
			n := c.Next()
			// Within one goroutine the numbers must increase: each call
			// returns before the next one starts.
			if n <= prev {
				t.Errorf("goroutine %d: Next returned %d after %d", g, n, prev)
			}
			prev = n
			got[g] = append(got[g], n)
		}
	})
	all := slices.Concat(got...)
	slices.Sort(all)
	require.Len(t, all, goroutines*each)
	for i, n := range all {
		if n != uint64(i+1) {
			t.Fatalf("sorted numbers: position %d holds %d, want %d (duplicate or gap)", i, n, i+1)
		}
	}
	assert.Equal(t, uint64(goroutines*each), c.Last())
}

func TestReserve(t *testing.T) {
	tests := []struct {
		name      string
		before    int // Next calls before the reservation
		n         int
		wantFirst uint64
		wantLast  uint64 // Last after the reservation
	}{
		{"first of a fresh counter", 0, 3, 1, 3},
		{"after three numbers", 3, 5, 4, 8},
		{"one number", 2, 1, 3, 3},
		{"zero reserves nothing", 4, 0, 5, 4},
		{"zero on a fresh counter", 0, 0, 1, 0},
		{"negative reserves nothing", 4, -2, 5, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c sequence.Counter
			for range tt.before {
				c.Next()
			}
			assert.Equal(t, tt.wantFirst, c.Reserve(tt.n))
			assert.Equal(t, tt.wantLast, c.Last())
			assert.Equal(t, tt.wantLast+1, c.Next(), "the next number follows the reservation")
		})
	}
}

func TestReserveZeroPredictsNext(t *testing.T) {
	var c sequence.Counter
	for range 10 {
		want := c.Reserve(0)
		assert.Equal(t, want, c.Reserve(0), "Reserve(0) must not consume a number")
		assert.Equal(t, want, c.Next())
	}
}

// TestReserveConcurrentNeverOverlaps mixes Reserve of varying sizes with Next
// from many goroutines: every range is consecutive, no number is handed out
// twice, and together they cover 1..total with no gap.
func TestReserveConcurrentNeverOverlaps(t *testing.T) {
	const goroutines, rounds = 16, 200
	var c sequence.Counter
	got := make([][]uint64, goroutines)
	gate(goroutines, func(g int) {
		for i := range rounds {
			n := (g+i)%7 - 1 // -1 .. 5: Reserve(-1), Reserve(0), Next, Reserve(2..5)
			switch {
			case n == 1:
				got[g] = append(got[g], c.Next())
			case n <= 0:
				c.Reserve(n) // must reserve nothing
			default:
				first := c.Reserve(n)
				for k := range n {
					got[g] = append(got[g], first+uint64(k))
				}
			}
		}
	})
	all := slices.Concat(got...)
	slices.Sort(all)
	require.NotEmpty(t, all)
	for i, n := range all {
		if n != uint64(i+1) {
			t.Fatalf("sorted numbers: position %d holds %d, want %d (overlap or gap)", i, n, i+1)
		}
	}
	assert.Equal(t, uint64(len(all)), c.Last())
}
