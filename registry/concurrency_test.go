package registry_test

// Go versions of the ten scenarios of the Python original's thread-safety
// report, plus the ordering guarantee of sequence numbers. Every scenario
// releases its goroutines through one barrier so that they really overlap,
// and the last test runs all of them again through differently sharded
// registries. Helpers and types here start with "cc" so that they cannot clash
// with other test files of the package.

import (
	"bytes"
	"fmt"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
)

// ccStall is how long ccRun waits without any progress before it declares a
// deadlock. It is far longer than any operation takes, even under -race on a
// loaded two-core machine, so it fails only on a real hang.
const ccStall = 10 * time.Second

// ccRun starts n goroutines that wait at one barrier and then run f(g, tick),
// and returns when all of them have returned. f calls tick after each
// operation. If no goroutine ticks for ccStall while some still run, ccRun
// fails the test with every goroutine's stack.
func ccRun(t *testing.T, n int, f func(g int, tick func())) {
	t.Helper()
	var progress atomic.Uint64
	tick := func() { progress.Add(1) }
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			<-start
			f(g, tick)
		})
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	close(start)
	ccWatch(t, done, progress.Load)
}

// ccWatch waits for done while progress() keeps changing; after ccStall
// without a change it fails the test and dumps every goroutine's stack.
func ccWatch(t *testing.T, done <-chan struct{}, progress func() uint64) {
	t.Helper()
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	last, since := progress(), time.Now()
	for {
		select {
		case <-done:
			return
		case <-ticker.C:
			if p := progress(); p != last {
				last, since = p, time.Now()
			} else if time.Since(since) >= ccStall {
				var buf bytes.Buffer
				_ = pprof.Lookup("goroutine").WriteTo(&buf, 2)
				t.Fatalf("no progress for %v, probably a deadlock; all goroutines:\n%s", ccStall, buf.String())
			}
		}
	}
}

// ccDone runs f in a goroutine and waits for it under the watchdog: f is one
// operation that must not block (for a lock some code failed to release).
func ccDone(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	ccWatch(t, done, func() uint64 { return 0 })
}

// ccDomains are the domains that ccSpread puts on shards 0, 1, 2 and 3 of any
// registry with four or more shards.
var ccDomains = []string{"A", "B", "C", "D"}

// ccSpread is a domain hash for WithHash: ccDomains[i] gets i in both its top
// and bottom two bits, so it lands on shard i of a four-shard registry
// whichever bits routing uses; other domains hash normally.
func ccSpread(d string) uint64 {
	if i := slices.Index(ccDomains, d); i >= 0 {
		return uint64(i)<<62 | uint64(i)
	}
	return xxhash.Sum64String(d)
}

// ccSpreadRegistry returns a four-shard registry with ccDomains on four
// different shards, and checks that they are.
func ccSpreadRegistry(t *testing.T, opts ...registry.Option) *registry.Registry {
	t.Helper()
	r := registry.New(append([]registry.Option{registry.WithShards(4), registry.WithHash(ccSpread)}, opts...)...)
	require.Equal(t, 4, r.Shards())
	for i, d := range ccDomains {
		require.Equal(t, i, registry.ShardOf(r, d), "domain %s must be on shard %d", d, i)
	}
	return r
}

// ccConfigs are the shardings every guarantee must hold under.
var ccConfigs = []struct {
	name string
	opts []registry.Option
}{
	{"default shards", nil},
	{"eight shards", []registry.Option{registry.WithShards(8)}},
	{"one shard", []registry.Option{registry.WithShards(1)}},
	{"degenerate hash", []registry.Option{registry.WithHash(func(string) uint64 { return 0 })}},
}

// ccScenarios are the ten scenarios but the last (which runs the others).
var ccScenarios = []struct {
	name string
	run  func(t *testing.T, opts ...registry.Option)
}{
	{"unique keys all kept", ccUniqueKeysAllKept},
	{"same key highest priority wins", ccSameKeyHighestPriorityWins},
	{"distinct contiguous sequences", ccDistinctSequences},
	{"resolves return the same entry", ccResolveSameEntry},
	{"list active sees the same count", ccListActiveSameCount},
	{"explains name the same winner", ccExplainSameWinner},
	{"mixed register and resolve", ccMixedRegisterResolve},
	{"four kinds of operation", ccFourKinds},
	{"no deadlock nested and cross domain", ccNoDeadlock},
}

// 1. 10 goroutines × 100 registrations to unique keys keep all 1,000.
func TestConcurrentUniqueKeysAllKept(t *testing.T) { ccUniqueKeysAllKept(t) }

func ccUniqueKeysAllKept(t *testing.T, opts ...registry.Option) {
	const goroutines, each = 10, 100
	r := registry.New(opts...)
	got := make([][]*registry.Entry, goroutines)
	ccRun(t, goroutines, func(g int, tick func()) {
		for i := range each {
			e, err := r.Register(registry.Candidate{
				Domain: fmt.Sprintf("tenant-%d", g%4), Key: fmt.Sprintf("key-%d-%d", g, i), Provider: "p",
			})
			if err != nil {
				t.Error(err)
				return
			}
			got[g] = append(got[g], e)
			tick()
		}
	})
	total := 0
	for _, d := range r.Domains() {
		total += len(r.ListActive(d))
		assert.Empty(t, r.ListShadowed(d), "every key has one candidate")
	}
	assert.Equal(t, goroutines*each, total, "ListActive over all domains")
	assert.Equal(t, goroutines*each, r.Snapshot().Len())
	assert.Equal(t, []string{"tenant-0", "tenant-1", "tenant-2", "tenant-3"}, r.Domains())
	for _, es := range got {
		for _, e := range es {
			w, ok := r.Resolve(e.Domain(), e.Key())
			if !assert.True(t, ok, "%s/%s lost", e.Domain(), e.Key()) {
				return
			}
			assert.Same(t, e, w)
		}
	}
}

// 2. 20 goroutines registering one key keep all 20, and the highest priority
// wins.
func TestConcurrentSameKeyHighestPriorityWins(t *testing.T) { ccSameKeyHighestPriorityWins(t) }

func ccSameKeyHighestPriorityWins(t *testing.T, opts ...registry.Option) {
	const goroutines = 20
	r := registry.New(opts...)
	entries := make([]*registry.Entry, goroutines)
	ccRun(t, goroutines, func(g int, tick func()) {
		// Priorities are a permutation of 0..19, so that the winner does not
		// follow goroutine order.
		e, err := r.Register(registry.Candidate{
			Domain: "adapter", Key: "cache", Provider: fmt.Sprint("p", g), Priority: new((g * 7) % goroutines),
		})
		assert.NoError(t, err)
		entries[g] = e
		tick()
	})
	x := r.Explain("adapter", "cache")
	require.Len(t, x.Ordered, goroutines, "all 20 candidates kept")
	for i, rank := range x.Ordered {
		assert.Equal(t, goroutines-1-i, rank.Entry.Priority(), "rank %d", i)
	}
	w, ok := r.Resolve("adapter", "cache")
	require.True(t, ok)
	assert.Equal(t, goroutines-1, w.Priority(), "the highest priority wins")
	assert.Same(t, x.Ordered[0].Entry, w)
	assert.Len(t, r.ListShadowed("adapter"), goroutines-1)
	assert.Equal(t, []*registry.Entry{w}, r.ListActive("adapter"))
	assert.Contains(t, entries, w)
}

// 3. 20 × 50 registrations get 1,000 distinct sequence numbers: exactly
// 1..1000.
func TestConcurrentDistinctSequences(t *testing.T) { ccDistinctSequences(t) }

func ccDistinctSequences(t *testing.T, opts ...registry.Option) {
	const goroutines, each = 20, 50
	r := registry.New(opts...)
	seqs := make([][]uint64, goroutines)
	ccRun(t, goroutines, func(g int, tick func()) {
		for i := range each {
			e, err := r.Register(registry.Candidate{
				Domain: ccDomains[(g+i)%len(ccDomains)], Key: fmt.Sprint("k", i%3), Provider: fmt.Sprint("p", g),
			})
			if err != nil {
				t.Error(err)
				return
			}
			if n := len(seqs[g]); n > 0 && e.Sequence() <= seqs[g][n-1] {
				t.Errorf("goroutine %d: sequence %d after %d", g, e.Sequence(), seqs[g][n-1])
			}
			seqs[g] = append(seqs[g], e.Sequence())
			tick()
		}
	})
	all := slices.Concat(seqs...)
	slices.Sort(all)
	require.Len(t, all, goroutines*each)
	for i, s := range all {
		if s != uint64(i+1) {
			t.Fatalf("sorted sequences: position %d holds %d, want %d (duplicate or gap)", i, s, i+1)
		}
	}
}

// 4. 50 concurrent Resolves return the same *Entry.
func TestConcurrentResolveSameEntry(t *testing.T) { ccResolveSameEntry(t) }

func ccResolveSameEntry(t *testing.T, opts ...registry.Option) {
	const goroutines = 50
	r := registry.New(opts...)
	var want *registry.Entry
	for i, p := range []string{"memcached", "redis", "local"} {
		e, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: p, Priority: new(10 - i*i)})
		require.NoError(t, err)
		if p == "memcached" { // priority 10, above 9 and 6
			want = e
		}
	}
	got := make([]*registry.Entry, goroutines)
	ccRun(t, goroutines, func(g int, tick func()) {
		got[g], _ = r.Resolve("adapter", "cache")
		tick()
	})
	w, _ := r.Explain("adapter", "cache").Winner()
	require.Same(t, want, w)
	for g, e := range got {
		assert.Same(t, want, e, "goroutine %d", g)
	}
}

// 5. 30 concurrent ListActive calls see the same count (and the same entries).
func TestConcurrentListActiveSameCount(t *testing.T) { ccListActiveSameCount(t) }

func ccListActiveSameCount(t *testing.T, opts ...registry.Option) {
	const goroutines, keys = 30, 25
	r := registry.New(opts...)
	for k := range keys {
		for _, p := range []string{"a", "b"} {
			_, err := r.Register(registry.Candidate{Domain: "service", Key: fmt.Sprintf("k%02d", k), Provider: p})
			require.NoError(t, err)
		}
	}
	got := make([][]*registry.Entry, goroutines)
	ccRun(t, goroutines, func(g int, tick func()) {
		got[g] = r.ListActive("service")
		tick()
	})
	want := r.ListActive("service")
	require.Len(t, want, keys)
	for g, es := range got {
		require.Len(t, es, keys, "goroutine %d", g)
		for i := range es {
			assert.Same(t, want[i], es[i], "goroutine %d, key %d", g, i)
		}
	}
}

// 6. 20 concurrent Explains name the same winner.
func TestConcurrentExplainSameWinner(t *testing.T) { ccExplainSameWinner(t) }

func ccExplainSameWinner(t *testing.T, opts ...registry.Option) {
	const goroutines = 20
	r := registry.New(append([]registry.Option{registry.WithSelections(map[string]map[string]string{
		"adapter": {"cache": "memcached"},
	})}, opts...)...)
	var want *registry.Entry
	for _, p := range []string{"redis", "memcached", "local"} {
		e, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: p, Priority: new(len(p))})
		require.NoError(t, err)
		if p == "memcached" {
			want = e
		}
	}
	got := make([]*registry.Entry, goroutines)
	ccRun(t, goroutines, func(g int, tick func()) {
		x := r.Explain("adapter", "cache")
		got[g], _ = x.Winner()
		if len(x.Ordered) != 3 {
			t.Errorf("goroutine %d: %d ranks, want 3", g, len(x.Ordered))
		}
		tick()
	})
	for g, e := range got {
		assert.Same(t, want, e, "goroutine %d: the selection wins", g)
	}
}

// 7. 100 goroutines, half registering and half resolving one key.
func TestConcurrentMixedRegisterResolve(t *testing.T) { ccMixedRegisterResolve(t) }

func ccMixedRegisterResolve(t *testing.T, opts ...registry.Option) {
	const goroutines = 100
	r := registry.New(opts...)
	_, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "base", Priority: new(-1)})
	require.NoError(t, err)
	ccRun(t, goroutines, func(g int, tick func()) {
		if g%2 == 0 {
			_, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: fmt.Sprint("p", g), Priority: new(g)})
			assert.NoError(t, err)
		} else {
			e, ok := r.Resolve("adapter", "cache")
			if assert.True(t, ok, "the key always has a winner") {
				assert.Equal(t, "cache", e.Key())
				assert.True(t, e.Provider() == "base" || strings.HasPrefix(e.Provider(), "p"), e.Provider())
			}
		}
		tick()
	})
	x := r.Explain("adapter", "cache")
	assert.Len(t, x.Ordered, goroutines/2+1)
	w, ok := r.Resolve("adapter", "cache")
	require.True(t, ok)
	assert.Equal(t, "p98", w.Provider())
}

// 8. 200 operations of four kinds (Register, Resolve, ListActive, Explain),
// with no error and only consistent answers.
func TestConcurrentFourKinds(t *testing.T) { ccFourKinds(t) }

func ccFourKinds(t *testing.T, opts ...registry.Option) {
	const goroutines = 200
	r := registry.New(opts...)
	for _, d := range ccDomains {
		_, err := r.Register(registry.Candidate{Domain: d, Key: "k0", Provider: "seed"})
		require.NoError(t, err)
	}
	ccRun(t, goroutines, func(g int, tick func()) {
		d := ccDomains[g%len(ccDomains)]
		switch g % 4 {
		case 0:
			_, err := r.Register(registry.Candidate{Domain: ccDomains[g/4%len(ccDomains)], Key: fmt.Sprint("k", g%3), Provider: fmt.Sprint("p", g)})
			assert.NoError(t, err)
		case 1:
			e, ok := r.Resolve(d, "k0")
			if assert.True(t, ok) {
				assert.Equal(t, d, e.Domain())
				assert.Equal(t, "k0", e.Key())
			}
		case 2:
			es := r.ListActive(d)
			assert.NotEmpty(t, es)
			assert.True(t, slices.IsSortedFunc(es, func(a, b *registry.Entry) int { return strings.Compare(a.Key(), b.Key()) }),
				"ListActive sorted by key")
			for _, e := range es {
				assert.Equal(t, d, e.Domain())
			}
		case 3:
			x := r.Explain(d, "k0")
			w, ok := x.Winner()
			if assert.True(t, ok) {
				assert.Same(t, x.Ordered[0].Entry, w)
			}
			for i := 1; i < len(x.Ordered); i++ {
				assert.Positive(t, x.Ordered[i-1].Score.Compare(x.Ordered[i].Score), "ranks in score order")
			}
		}
		tick()
	})
	assert.Equal(t, len(ccDomains)+goroutines/4, r.Snapshot().Len())
}

// 9. No deadlock with nested and cross-domain calls: RegisterPackage across
// domains in both orders, Snapshots of several domains in opposite orders,
// Domains, single-domain writes, and a logger that calls back into the
// registry, all at once under the watchdog.
func TestConcurrentNoDeadlock(t *testing.T) {
	ccNoDeadlockOn(t, ccSpreadRegistry)
}

func ccNoDeadlock(t *testing.T, opts ...registry.Option) {
	ccNoDeadlockOn(t, func(t *testing.T, more ...registry.Option) *registry.Registry {
		return registry.New(append(slices.Clone(opts), more...)...)
	})
}

func ccNoDeadlockOn(t *testing.T, newRegistry func(*testing.T, ...registry.Option) *registry.Registry) {
	const goroutines, rounds = 12, 100
	var r *registry.Registry
	var nested atomic.Uint64
	h := &ccHandler{onRecord: func(rec ccRecord) {
		// Nested calls from inside a log handler: a read, a snapshot and a
		// write of the domain just changed, and (now and then, as it locks
		// every shard) Domains. The write changes the winner of key
		// "nested" and so is logged too; that record's handler does not
		// write again.
		d := rec.str("domain")
		r.Resolve(d, rec.str("key"))
		r.Snapshot(d, ccDomains[0])
		if nested.Add(1)%8 == 0 {
			r.Domains()
		}
		if rec.str("key") == "nested" {
			return
		}
		if _, err := r.Register(registry.Candidate{Domain: d, Key: "nested", Provider: "low", Priority: new(-1000)}); err != nil {
			panic(err)
		}
	}}
	r = newRegistry(t, registry.WithLogger(h.logger()))
	reversed := slices.Clone(ccDomains)
	slices.Reverse(reversed)
	ccRun(t, goroutines, func(g int, tick func()) {
		for i := range rounds {
			order := ccDomains
			if (g+i)%2 == 1 {
				order = reversed
			}
			switch g % 6 {
			case 0, 1:
				cs := make([]registry.Candidate, 0, len(order))
				for _, d := range order {
					cs = append(cs, registry.Candidate{Domain: d, Key: fmt.Sprint("pkg", i%5), Provider: fmt.Sprint("g", g)})
				}
				if _, err := r.RegisterPackage(fmt.Sprint("pkg", g), "/x/adapters/p.py", cs, nil); err != nil {
					t.Error(err)
				}
			case 2:
				r.Snapshot(order...)
				r.Snapshot(order[2], order[0])
			case 3:
				r.Snapshot()
				r.Domains()
			case 4:
				d := order[i%len(order)]
				if _, err := r.Register(registry.Candidate{Domain: d, Key: "single", Provider: fmt.Sprint("g", g), Priority: new(i)}); err != nil {
					t.Error(err)
				}
				r.Unregister(order[(i+1)%len(order)], "single", fmt.Sprint("g", g))
			case 5:
				d := order[i%len(order)]
				if err := r.Select(d, "pkg0", fmt.Sprint("g", i%2)); err != nil {
					t.Error(err)
				}
				r.ListActive(d)
				r.Explain(d, "pkg0")
			}
			tick()
		}
	})
	assert.NotZero(t, nested.Load(), "the logger ran and called back into the registry")
	assert.Zero(t, r.RecoveredPanics())
	assert.Equal(t, ccDomains, r.Domains())
}

// 10. The facade keeps every guarantee, whatever the sharding: the nine
// scenarios above through the registry API with many shards, eight, one,
// and with every domain hashed to the same value.
func TestConcurrentFacadeKeepsEveryGuarantee(t *testing.T) {
	for _, c := range ccConfigs {
		t.Run(c.name, func(t *testing.T) {
			for _, s := range ccScenarios {
				t.Run(s.name, func(t *testing.T) { s.run(t, c.opts...) })
			}
		})
	}
}

// TestConcurrentSequenceFollowsCompletion checks the ordering guarantee: if
// one Register (or RegisterPackage) returns before another is called, the
// first has the smaller sequence number: in one goroutine, and across
// goroutines ordered by a channel, on different shards, while other
// goroutines register too.
func TestConcurrentSequenceFollowsCompletion(t *testing.T) {
	for _, c := range ccConfigs[1:] {
		t.Run(c.name, func(t *testing.T) {
			r := registry.New(append([]registry.Option{registry.WithHash(ccSpread)}, c.opts...)...)
			if c.name == "eight shards" {
				require.NotEqual(t, registry.ShardOf(r, "A"), registry.ShardOf(r, "D"))
			}
			const rounds = 300
			stop := make(chan struct{})
			var noise sync.WaitGroup
			for g := range 2 {
				noise.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						d := ccDomains[(g+i)%4]
						_, err := r.Register(registry.Candidate{Domain: d, Key: "noise", Provider: "n"})
						assert.NoError(t, err)
						r.Unregister(d, "noise", "n") // keeps the key small
					}
				})
			}
			defer func() {
				close(stop)
				noise.Wait()
			}()

			// One goroutine: every call returns before the next is made.
			var last uint64
			for i := range rounds / 3 {
				e, err := r.Register(registry.Candidate{Domain: ccDomains[i%4], Key: "seq", Provider: "one"})
				require.NoError(t, err)
				require.Greater(t, e.Sequence(), last)
				last = e.Sequence()
			}

			// Two goroutines passing a token: each registers only after it
			// received the other's last sequence number.
			ping, pong := make(chan uint64), make(chan uint64)
			player := func(in <-chan uint64, out chan<- uint64, dom string, first bool) func(int, func()) {
				return func(_ int, tick func()) {
					defer close(out)
					prev := uint64(0)
					if !first {
						var ok bool
						if prev, ok = <-in; !ok {
							return
						}
					}
					for i := range rounds {
						var seqs []uint64
						if i%5 == 0 {
							es, err := r.RegisterPackage("pkg", "", []registry.Candidate{
								{Domain: dom, Key: "pp", Provider: "x"}, {Domain: "B", Key: "pp", Provider: "x"},
							}, nil)
							assert.NoError(t, err)
							for _, e := range es {
								seqs = append(seqs, e.Sequence())
							}
						} else {
							e, err := r.Register(registry.Candidate{Domain: dom, Key: "pp", Provider: "x"})
							assert.NoError(t, err)
							seqs = append(seqs, e.Sequence())
						}
						for _, s := range seqs {
							if s <= prev {
								t.Errorf("%s: sequence %d after a Register that returned %d before this call", dom, s, prev)
							}
						}
						tick()
						out <- slices.Max(seqs)
						var ok bool
						if prev, ok = <-in; !ok {
							return
						}
					}
				}
			}
			a := player(pong, ping, "A", true)
			d := player(ping, pong, "D", false)
			ccRun(t, 2, func(g int, tick func()) {
				if g == 0 {
					a(g, tick)
				} else {
					d(g, tick)
				}
			})
		})
	}
}
