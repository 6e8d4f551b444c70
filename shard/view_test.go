package shard_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/sequence"
	"github.com/oneiric-go/oneiric/shard"
)

// describe renders entries as "key:provider" for readable comparisons.
func describe(es []*domain.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Key() + ":" + e.Provider()
	}
	return out
}

func TestNilViewIsEmpty(t *testing.T) {
	var v *shard.View
	assert.Equal(t, 0, v.Len())
	assert.Equal(t, 0, v.Candidates())
	assert.Nil(t, v.Key("cache"))
	assert.Empty(t, v.States())
	assert.Empty(t, v.Active())
	assert.Empty(t, v.Shadowed())
}

func TestViewSorting(t *testing.T) {
	s := shard.NewSet(4, new(sequence.Counter))
	r := s.Route("adapter")
	// Registered out of key order, with ranks that differ from
	// registration order.
	for _, c := range []struct {
		key, provider string
		prio          int
	}{
		{"queue", "sqs", 1},
		{"cache", "memcached", 5},
		{"queue", "kafka", 9},
		{"db", "postgres", 0},
		{"cache", "redis", 7},
		{"queue", "nats", 3},
		{"cache", "local", 5}, // ties memcached on priority; later sequence ranks higher
	} {
		s.Register(r, draft(t, "adapter", c.key, c.provider, c.prio))
	}
	v := s.View(r)
	require.NotNil(t, v)
	assert.Equal(t, 3, v.Len())
	assert.Equal(t, 7, v.Candidates())

	var keys []string
	for _, ks := range v.States() {
		keys = append(keys, ks.Key())
		assert.Same(t, ks, v.Key(ks.Key()))
		assert.Same(t, ks, s.Lookup(r, ks.Key()))
		assert.Same(t, ks.Entries()[0], ks.Winner())
	}
	assert.Equal(t, []string{"cache", "db", "queue"}, keys, "States by key")
	assert.Equal(t, []string{"cache:redis", "db:postgres", "queue:kafka"}, describe(v.Active()), "Active: winners by key")
	assert.Equal(t, []string{"cache:local", "cache:memcached", "queue:nats", "queue:sqs"}, describe(v.Shadowed()),
		"Shadowed: by key, then rank")
	assert.Equal(t, []string{"cache:redis", "cache:local", "cache:memcached"}, describe(v.Key("cache").Entries()))
}

func TestViewIsImmutable(t *testing.T) {
	s := shard.NewSet(1, new(sequence.Counter))
	r := s.Route("adapter")
	s.Register(r, draft(t, "adapter", "cache", "a", 1))
	before := s.View(r)
	s.Register(r, draft(t, "adapter", "cache", "b", 2))
	s.Register(r, draft(t, "adapter", "queue", "c", 0))
	s.Unregister(r, "cache", "a")
	assert.Equal(t, []string{"cache:a"}, describe(before.Active()), "a View never changes after it is published")
	assert.Equal(t, 1, before.Candidates())
	assert.Equal(t, []string{"cache:b", "queue:c"}, describe(s.View(r).Active()))
}

func TestEmptiedDomainDisappears(t *testing.T) {
	s := shard.NewSet(1, new(sequence.Counter))
	r := s.Route("adapter")
	s.Register(r, draft(t, "adapter", "cache", "a", 1))
	n, c := s.Unregister(r, "cache", "a")
	assert.Equal(t, 1, n)
	require.True(t, c.Changed())
	assert.Nil(t, c.New)
	assert.Nil(t, s.View(r))
	assert.Nil(t, s.Lookup(r, "cache"))
	assert.Empty(t, s.Snapshot(nil))
}

// TestUncommittedEpochIsHidden stops a batch across two domains after it
// has published its states and before it commits its epoch: readers must see
// the states the batch replaced (for a new key: none), and after the commit
// all of the batch at once.
func TestUncommittedEpochIsHidden(t *testing.T) {
	s := shard.NewSet(2, new(sequence.Counter), shard.WithHash(edges))
	first, last := s.Route("first"), s.Route("last")
	require.NotEqual(t, first.Index, last.Index)
	before, _, _ := s.Register(first, draft(t, "first", "cache", "old", 0))

	entries, commit := s.BeginBatchForTest([]shard.Route{first, last}, []*domain.Draft{
		draft(t, "first", "cache", "new", 0),
		draft(t, "last", "cache", "new", 0),
	})
	require.Len(t, entries, 2)
	committed := false
	defer func() {
		if !committed {
			commit()
		}
	}()

	var ks *shard.KeyState
	mustFinish(t, async(func() { ks = s.Lookup(first, "cache") }), "Lookup during a batch")
	require.NotNil(t, ks)
	assert.Zero(t, shard.EpochForTest(ks), "the published state has an uncommitted epoch: Lookup returns the previous one")
	assert.Same(t, before, ks.Winner())
	var v *shard.View
	mustFinish(t, async(func() { v = s.View(first) }), "View during a batch")
	assert.Equal(t, 1, v.Candidates())
	mustFinish(t, async(func() { ks = s.Lookup(last, "cache") }), "Lookup during a batch")
	assert.Nil(t, ks, "a key the batch creates stays invisible until the commit")
	mustFinish(t, async(func() { v = s.View(last) }), "View during a batch")
	assert.Nil(t, v, "a domain the batch creates stays invisible until the commit")

	commit()
	committed = true
	ks = s.Lookup(first, "cache")
	assert.NotZero(t, shard.EpochForTest(ks))
	assert.Same(t, entries[0], ks.Winner())
	assert.Equal(t, 2, s.View(first).Candidates())
	assert.Same(t, entries[1], s.Lookup(last, "cache").Winner())

	// Snapshot reads under the shard locks, so it never sees a batch half
	// done; after the commit it sees all of it.
	snap := s.Snapshot(nil)
	assert.Same(t, entries[0], snap["first"].Key("cache").Winner())
	assert.Same(t, entries[1], snap["last"].Key("cache").Winner())
}

// TestSingleWriteAfterBatchClearsEpoch checks that a write of one key on top
// of a batch state publishes a plain state (epoch 0, no history), so that
// readers need no epoch check for it.
func TestSingleWriteAfterBatchClearsEpoch(t *testing.T) {
	s := shard.NewSet(2, new(sequence.Counter), shard.WithHash(edges))
	first, last := s.Route("first"), s.Route("last")
	for i := range 3 {
		key := fmt.Sprint("k", i)
		s.RegisterBatch([]shard.Route{first, last}, []*domain.Draft{
			draft(t, "first", key, "p", 0), draft(t, "last", key, "p", 0),
		})
	}
	require.NotZero(t, shard.EpochForTest(s.Lookup(first, "k0")))
	s.Register(first, draft(t, "first", "k0", "q", 0))
	ks := s.Lookup(first, "k0")
	assert.Zero(t, shard.EpochForTest(ks))
	assert.Zero(t, shard.HistoryForTest(ks))
	assert.Len(t, ks.Entries(), 2)
	assert.Equal(t, 3, s.View(first).Len())
}

// TestLargeKeyKeepsRankOrder grows one key far past the chunk size with
// random priorities, interleaving unregistrations, selections, health marks
// and batches, and checks after every step that the state holds exactly the
// registered entries in the order explain.Policy.Order gives.
func TestLargeKeyKeepsRankOrder(t *testing.T) {
	s := shard.NewSet(1, new(sequence.Counter))
	r := s.Route("big")
	rng := rand.New(rand.NewPCG(3, 4))
	var want []*domain.Entry
	check := func(step int) {
		t.Helper()
		ks := s.Lookup(r, "k")
		if len(want) == 0 {
			require.Nil(t, ks, "step %d", step)
			return
		}
		require.NotNil(t, ks, "step %d", step)
		sorted := slices.Clone(want)
		ks.Policy.Order(sorted)
		require.Equal(t, len(sorted), ks.Len(), "step %d", step)
		require.Equal(t, sorted, ks.Entries(), "step %d", step)
		require.Same(t, sorted[0], ks.Winner(), "step %d", step)
	}
	// Published states never change: every 50 steps keep one with a copy
	// of its entries, and compare them all at the end.
	type kept struct {
		ks      *shard.KeyState
		entries []*domain.Entry
	}
	var old []kept
	for step := range 1500 {
		if ks := s.Lookup(r, "k"); ks != nil && step%50 == 0 {
			old = append(old, kept{ks, slices.Clone(ks.Entries())})
		}
		switch n := rng.IntN(100); {
		case n < 80:
			e, _, err := s.Register(r, draft(t, "big", "k", fmt.Sprint("p", rng.IntN(40)), rng.IntN(20)))
			require.NoError(t, err)
			want = append(want, e)
		case n < 85:
			p := fmt.Sprint("p", rng.IntN(40))
			removed, _ := s.Unregister(r, "k", p)
			kept := want[:0:0]
			for _, e := range want {
				if e.Provider() != p {
					kept = append(kept, e)
				}
			}
			require.Equal(t, len(want)-len(kept), removed)
			want = kept
		case n < 90:
			s.Select(r, "k", fmt.Sprint("p", rng.IntN(40)))
		case n < 95:
			s.SetHealth(r, "k", fmt.Sprint("p", rng.IntN(40)), rng.IntN(2) == 0)
		default:
			// Two entries into the key in one batch, so that the second
			// builds on a state not yet published.
			res, err := s.RegisterBatch([]shard.Route{r, r, r}, []*domain.Draft{
				draft(t, "big", "k", fmt.Sprint("p", rng.IntN(40)), rng.IntN(20)),
				draft(t, "big", "other", "x", 0),
				draft(t, "big", "k", fmt.Sprint("p", rng.IntN(40)), rng.IntN(20)),
			})
			require.NoError(t, err)
			want = append(want, res.Added[0], res.Added[2])
		}
		check(step)
	}
	require.Greater(t, len(want), 500, "the key must grow well past the chunk size")
	for i, o := range old {
		require.Equal(t, o.entries, o.ks.Entries(), "kept state %d changed", i)
	}
}

// TestLargeKeyConcurrentReaders registers into one key far past the flat
// limit while readers, without a lock, check that every state they get is
// in rank order, holds as many entries as it says, and only grows.
func TestLargeKeyConcurrentReaders(t *testing.T) {
	s := shard.NewSet(1, new(sequence.Counter))
	r := s.Route("big")
	var done atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			last := 0
			for !done.Load() {
				ks := s.Lookup(r, "k")
				if ks == nil {
					continue
				}
				es := ks.Entries()
				sorted := slices.Clone(es)
				ks.Policy.Order(sorted)
				switch {
				case len(es) != ks.Len():
					errs <- fmt.Errorf("a state of %d entries lists %d", ks.Len(), len(es))
					return
				case len(es) < last:
					errs <- fmt.Errorf("%d entries after %d", len(es), last)
					return
				case !slices.Equal(es, sorted) || es[0] != ks.Winner():
					errs <- fmt.Errorf("a state of %d entries is out of rank order", len(es))
					return
				}
				last = len(es)
			}
		})
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 2000 {
		_, _, err := s.Register(r, draft(t, "big", "k", fmt.Sprint("p", i), rng.IntN(50)))
		require.NoError(t, err)
	}
	done.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
