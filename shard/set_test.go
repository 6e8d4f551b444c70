package shard_test

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/sequence"
	"github.com/oneiric-go/oneiric/shard"
)

// watchdogAfter is how long a test waits for an operation that must not
// block before it declares a deadlock. It is generous so that a slow -race
// run on a loaded machine never trips it; only a real hang does.
const watchdogAfter = 10 * time.Second

// mustFinish waits for done. If it is not closed within watchdogAfter, the
// test fails with every goroutine's stack, so that a hang shows where it is.
func mustFinish(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(watchdogAfter):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%s: no progress after %v, probably a deadlock; all goroutines:\n%s", what, watchdogAfter, buf)
	}
}

// async runs f in a goroutine and returns a channel closed when it returns.
func async(f func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	return done
}

// draft prepares a candidate for (dom, key) from provider with priority prio.
func draft(t testing.TB, dom, key, provider string, prio int) *domain.Draft {
	t.Helper()
	d, err := domain.Prepare(domain.Candidate{Domain: dom, Key: key, Provider: provider, Priority: &prio}, 0, "")
	require.NoError(t, err)
	return d
}

// edges routes "first" to shard 0 and "last" to the last shard of any set
// with more than one shard, whether shards are indexed by the hash's high or
// low bits; every other domain goes to shard 0.
func edges(d string) uint64 {
	if d == "last" {
		return math.MaxUint64
	}
	return 0
}

func TestRoundShards(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want int
	}{
		{"zero means default", 0, shard.DefaultShards},
		{"negative means default", -5, shard.DefaultShards},
		{"min int means default", math.MinInt, shard.DefaultShards},
		{"one", 1, 1},
		{"two", 2, 2},
		{"three rounds up", 3, 4},
		{"power of two kept", 64, 64},
		{"just above a power of two", 65, 128},
		{"the cap", 4096, 4096},
		{"just below the cap", 4095, 4096},
		{"above the cap", 5000, 4096},
		{"max int capped", math.MaxInt, shard.MaxShards},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := shard.RoundShards(tt.n)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got, shard.NewSet(tt.n, new(sequence.Counter)).Len(), "NewSet uses RoundShards")
		})
	}
	assert.Equal(t, 64, shard.DefaultShards)
	assert.Equal(t, 4096, shard.MaxShards)
}

func TestRouteInRangeAndStable(t *testing.T) {
	for _, n := range []int{1, 2, 8, 64, 4096} {
		t.Run(fmt.Sprint(n, " shards"), func(t *testing.T) {
			s := shard.NewSet(n, new(sequence.Counter))
			used := map[int]bool{}
			for i := range 2000 {
				d := fmt.Sprintf("tenant-%d", i)
				r := s.Route(d)
				require.GreaterOrEqual(t, r.Index, 0, d)
				require.Less(t, r.Index, n, d)
				require.Equal(t, d, r.Domain)
				require.Equal(t, r, s.Route(d), "routing %q twice must give the same route", d)
				used[r.Index] = true
			}
			if n == 1 {
				assert.Len(t, used, 1)
			} else {
				// 2000 domains over at most 64 shards leave none empty (with
				// a seeded hash, one of 64 is empty with probability about
				// 1e-12); over 4096 they must at least spread.
				assert.Greater(t, len(used), 1, "domains must spread over more than one shard")
				if n <= 64 {
					assert.Len(t, used, n, "every shard should hold some of 2000 domains")
				}
			}
		})
	}
}

// TestRouteIsSeeded checks that each Set hashes domain names with its own
// seed: the same 64 names get other hashes in another Set, and are spread
// over other shards, so names found to crowd one shard of one registry
// crowd no shard of the next.
func TestRouteIsSeeded(t *testing.T) {
	a := shard.NewSet(64, new(sequence.Counter))
	b := shard.NewSet(64, new(sequence.Counter))
	sameHash, sameShard := 0, 0
	for i := range 64 {
		d := fmt.Sprintf("tenant-%d", i)
		ra, rb := a.Route(d), b.Route(d)
		if ra.Hash == rb.Hash {
			sameHash++
		}
		if ra.Index == rb.Index {
			sameShard++
		}
	}
	assert.Zero(t, sameHash, "two Sets must not hash a domain alike")
	// Independent shards agree for about 1 name in 64; 16 or more is
	// about a 1e-12 chance.
	assert.Less(t, sameShard, 16, "two Sets must not route domains alike")
}

func TestRouteWithHash(t *testing.T) {
	s := shard.NewSet(8, new(sequence.Counter), shard.WithHash(edges))
	assert.Equal(t, 0, s.Route("first").Index)
	assert.Equal(t, 7, s.Route("last").Index)
	assert.Equal(t, uint64(math.MaxUint64), s.Route("last").Hash)

	one := shard.NewSet(1, new(sequence.Counter), shard.WithHash(edges))
	assert.Equal(t, 0, one.Route("last").Index, "one shard holds everything")
}

// TestShardIsOneCacheLine pins the padding of Shard: a change of its fields
// must keep it exactly one cache line, or neighbouring shards' writers start
// sharing lines again.
func TestShardIsOneCacheLine(t *testing.T) {
	assert.Equal(t, uintptr(64), unsafe.Sizeof(shard.Shard{}))
}

// TestLockShardsAscendingWithDuplicates checks the lock-order helper: it
// accepts duplicates (locking each shard once) and takes the locks in
// ascending index, whatever order it is given.
func TestLockShardsAscendingWithDuplicates(t *testing.T) {
	s := shard.NewSet(4, new(sequence.Counter))

	t.Run("duplicates lock once", func(t *testing.T) {
		var unlock func()
		mustFinish(t, async(func() { unlock = s.LockShardsForTest([]int{3, 1, 3, 0, 1}) }), "lockShards with duplicates")
		for _, i := range []int{0, 1, 3} {
			assert.False(t, s.TryLockShardForTest(i), "shard %d must be locked", i)
		}
		if assert.True(t, s.TryLockShardForTest(2), "shard 2 was not asked for") {
			s.UnlockShardForTest(2)
		}
		unlock()
		for i := range 4 {
			if assert.True(t, s.TryLockShardForTest(i), "shard %d must be unlocked again", i) {
				s.UnlockShardForTest(i)
			}
		}
	})

	t.Run("ascending order", func(t *testing.T) {
		// Hold shard 1, then ask for {2, 0, 1}. In ascending order the helper
		// takes 0 and blocks on 1 before it touches 2; in the given order it
		// would hold 2 (and 0) while it waits.
		release1 := s.LockShardForTest(1)
		var unlock func()
		done := async(func() { unlock = s.LockShardsForTest([]int{2, 0, 1}) })
		waitHeld(t, s, 0)
		if assert.True(t, s.TryLockShardForTest(2), "shard 2 must not be locked while shard 1 is awaited") {
			s.UnlockShardForTest(2)
		}
		release1()
		mustFinish(t, done, "lockShards after shard 1 was released")
		for _, i := range []int{0, 1, 2} {
			assert.False(t, s.TryLockShardForTest(i), "shard %d must be locked", i)
		}
		unlock()
	})
}

// waitHeld waits until another goroutine holds shard i's lock.
func waitHeld(t *testing.T, s *shard.Set, i int) {
	t.Helper()
	mustFinish(t, async(func() {
		for s.TryLockShardForTest(i) {
			s.UnlockShardForTest(i)
			runtime.Gosched()
		}
	}), fmt.Sprintf("waiting for shard %d to be locked", i))
}

// TestReadersNeverWaitForWriters holds the write locks a writer would hold and
// checks that lock-free reads still return: Lookup of a key whose shard is
// locked, View of a domain on another shard, while the batch mutex is held
// too.
// Writers of other shards do not wait either.
func TestReadersNeverWaitForWriters(t *testing.T) {
	s := shard.NewSet(2, new(sequence.Counter), shard.WithHash(edges))
	first, last := s.Route("first"), s.Route("last")
	require.NotEqual(t, first.Index, last.Index)
	e, _, _ := s.Register(first, draft(t, "first", "cache", "redis", 1))
	s.Register(last, draft(t, "last", "cache", "redis", 1))

	unlockBatch := s.LockBatchForTest()
	unlockShard := s.LockShardForTest(first.Index)
	var ks *shard.KeyState
	mustFinish(t, async(func() { ks = s.Lookup(first, "cache") }), "Lookup of a key whose shard is locked")
	require.NotNil(t, ks)
	assert.Same(t, e, ks.Winner())
	var got *shard.View
	mustFinish(t, async(func() { got = s.View(first) }), "View of a domain whose shard is locked")
	assert.Equal(t, 1, got.Len())
	mustFinish(t, async(func() { got = s.View(last) }), "View of a domain on another shard")
	assert.Equal(t, 1, got.Len())
	mustFinish(t, async(func() { s.Register(last, draft(t, "last", "queue", "kafka", 1)) }),
		"Register on a shard that is not locked")
	assert.Equal(t, 2, s.View(last).Len())
	unlockShard()
	unlockBatch()

	// Concurrent version: readers keep reading while writers hold the locks.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				unlock := s.LockShardForTest(first.Index)
				runtime.Gosched()
				unlock()
			}
		})
	}
	reads := async(func() {
		for range 2000 {
			if s.Lookup(first, "cache") == nil || s.View(first).Key("cache") == nil {
				t.Error("a read lost the domain while its shard was locked")
				return
			}
		}
	})
	mustFinish(t, reads, "2000 reads while writers take the shard lock")
	close(stop)
	wg.Wait()
}

// TestRegisterBatchHistoryIsBounded checks that a state published by a
// batch keeps at most the one state it replaced: readers follow prev at most
// once, so keeping a longer chain would only retain every earlier version of
// a key that is written by batches alone.
func TestRegisterBatchHistoryIsBounded(t *testing.T) {
	s := shard.NewSet(2, new(sequence.Counter), shard.WithHash(edges))
	routes := []shard.Route{s.Route("first"), s.Route("last")}
	for range 50 {
		res, err := s.RegisterBatch(routes, []*domain.Draft{
			draft(t, "first", "k", "p", 0), draft(t, "last", "k", "p", 0),
		})
		require.NoError(t, err)
		require.Len(t, res.Added, 2)
	}
	for _, r := range routes {
		ks := s.Lookup(r, "k")
		require.Len(t, ks.Entries(), 50, r.Domain)
		assert.NotZero(t, shard.EpochForTest(ks), "%s: last write was a batch", r.Domain)
		assert.LessOrEqual(t, shard.HistoryForTest(ks), 1, "%s: a batch state must not keep a chain of old states", r.Domain)
	}
}

func TestRegisterBatchSequencesAndChanges(t *testing.T) {
	var seq sequence.Counter
	s := shard.NewSet(2, &seq, shard.WithHash(edges))
	s.Register(s.Route("first"), draft(t, "first", "cache", "old", 5))
	res, err := s.RegisterBatch(
		[]shard.Route{s.Route("last"), s.Route("first"), s.Route("first"), s.Route("last")},
		[]*domain.Draft{
			draft(t, "last", "cache", "a", 0),
			draft(t, "first", "cache", "b", 1), // loses to "old" (priority 5)
			draft(t, "first", "queue", "c", 0),
			draft(t, "last", "cache", "d", 0), // beats "a": later sequence
		})
	require.NoError(t, err)
	require.Len(t, res.Added, 4)
	for i, e := range res.Added {
		assert.Equal(t, uint64(i+2), e.Sequence(), "consecutive numbers in the order given")
	}
	var got []string
	for _, c := range res.Changes {
		prev := ""
		if c.Old != nil {
			prev = c.Old.Provider()
		}
		got = append(got, fmt.Sprintf("%s/%s %s->%s", c.Domain, c.Key, prev, c.New.Provider()))
	}
	assert.Equal(t, []string{"last/cache ->d", "first/queue ->c"}, got, "changes by key in the order first touched; none for a key whose winner stayed")
	assert.Equal(t, uint64(5), seq.Last())
}

func TestSnapshotConsistentCut(t *testing.T) {
	s := shard.NewSet(2, new(sequence.Counter), shard.WithHash(edges))
	first, last := s.Route("first"), s.Route("last")
	s.Register(first, draft(t, "first", "cache", "redis", 0))

	all := s.Snapshot(nil)
	assert.Len(t, all, 1, "a domain without candidates is not in a snapshot")
	named := s.Snapshot([]shard.Route{last, first, first})
	assert.Len(t, named, 1)
	assert.Equal(t, 1, named["first"].Len())

	// A locked shard blocks Snapshot until it is released (Snapshot may
	// not read a shard that a writer is changing).
	unlock := s.LockShardForTest(last.Index)
	var snap map[string]*shard.View
	done := async(func() { snap = s.Snapshot([]shard.Route{first, last}) })
	runtime.Gosched()
	select {
	case <-done:
		t.Fatal("Snapshot returned while a shard it reads was locked")
	default:
	}
	unlock()
	mustFinish(t, done, "Snapshot after the shard was unlocked")
	assert.Len(t, snap, 1)
}

// TestBatchCreatesSeveralKeysOfANewDomain registers, in one batch, two keys
// of a domain that does not exist yet: both must land in the one table the
// batch creates (a stale table lookup once replaced the first key's table).
func TestBatchCreatesSeveralKeysOfANewDomain(t *testing.T) {
	s := shard.NewSet(4, new(sequence.Counter))
	r := s.Route("fresh")
	res, err := s.RegisterBatch([]shard.Route{r, r, r}, []*domain.Draft{
		draft(t, "fresh", "cache", "a", 0), draft(t, "fresh", "queue", "b", 0), draft(t, "fresh", "cache", "c", 0),
	})
	require.NoError(t, err)
	require.Len(t, res.Added, 3)
	v := s.View(r)
	require.Equal(t, 2, v.Len())
	assert.Equal(t, 3, v.Candidates())
	assert.Same(t, res.Added[2], s.Lookup(r, "cache").Winner())
	assert.Same(t, res.Added[1], s.Lookup(r, "queue").Winner())
}

// TestResolveIsWinner checks Set.Resolve, Registry.Resolve's one-call path,
// against Winner(Route(domain), key), for keys present and absent, with the
// seeded hash and with one given by WithHash.
func TestResolveIsWinner(t *testing.T) {
	for _, opts := range [][]shard.Option{nil, {shard.WithHash(func(string) uint64 { return 1 << 60 })}} {
		s := shard.NewSet(8, new(sequence.Counter), opts...)
		for i := range 40 {
			d, k := fmt.Sprintf("d%d", i%4), fmt.Sprintf("k%d", i)
			_, _, err := s.Register(s.Route(d), draft(t, d, k, "p", i))
			assert.NoError(t, err)
		}
		for i := range 50 {
			d, k := fmt.Sprintf("d%d", i%4), fmt.Sprintf("k%d", i)
			want := s.Winner(s.Route(d), k)
			assert.Same(t, want, s.Resolve(d, k), "%s/%s", d, k)
			assert.Equal(t, i < 40, want != nil, "%s/%s", d, k)
		}
		assert.Nil(t, s.Resolve("absent", "k0"))
	}
}
