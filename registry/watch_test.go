package registry_test

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
)

// i5Collector ranges over a watch in a goroutine and hands the changes to
// the test one by one.
type i5Collector struct {
	ch     chan registry.Change
	done   chan struct{}
	cancel context.CancelFunc
}

// i5Collect starts watching domains of r (all when none).
func i5Collect(t *testing.T, r *registry.Registry, domains ...string) *i5Collector {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &i5Collector{ch: make(chan registry.Change, 100_000), done: make(chan struct{}), cancel: cancel}
	changes := r.Watch(ctx, domains...)
	go func() {
		defer close(c.done)
		for ch := range changes {
			c.ch <- ch
		}
	}()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// next returns the next n changes, failing the test if they do not come
// within several seconds.
func (c *i5Collector) next(t *testing.T, n int) []registry.Change {
	t.Helper()
	var out []registry.Change
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case ch := <-c.ch:
			out = append(out, ch)
		case <-timeout:
			t.Fatalf("got %d changes, want %d: %v", len(out), n, out)
		}
	}
	return out
}

// stop cancels the watch and waits for its loop to end.
func (c *i5Collector) stop(t *testing.T) {
	t.Helper()
	c.cancel()
	i5Watchdog(t, 10*time.Second, c.done, "the watch loop after cancel")
}

// i5ChangeText describes a change: "domain/key prev→cur (reason)".
func i5ChangeText(c registry.Change) string {
	if c.Resync {
		return "resync"
	}
	name := func(e *registry.Entry) string {
		if e == nil {
			return "-"
		}
		return e.Provider()
	}
	return fmt.Sprintf("%s/%s %s→%s (%s)", c.Domain, c.Key, name(c.Previous), name(c.Current), c.Reason)
}

// TestWatchDeliversEveryWinnerChange: each write that changes a key's winner
// is delivered as one Change with Previous, Current and Reason, and writes
// that change no winner deliver nothing.
func TestWatchDeliversEveryWinnerChange(t *testing.T) {
	r := registry.New()
	w := i5Collect(t, r)
	steps := []struct {
		name string
		op   func(t *testing.T)
		want []string
	}{
		{"register a new key", func(t *testing.T) { i5Register(t, r, i5C("adapter", "cache", "redis", 10)) },
			[]string{"adapter/cache -→redis (register)"}},
		{"register a loser: no change", func(t *testing.T) { i5Register(t, r, i5C("adapter", "cache", "memcached", 5)) },
			nil},
		{"register a new winner", func(t *testing.T) { i5Register(t, r, i5C("adapter", "cache", "valkey", 20)) },
			[]string{"adapter/cache redis→valkey (register)"}},
		{"select the loser", func(t *testing.T) { require.NoError(t, r.Select("adapter", "cache", "memcached")) },
			[]string{"adapter/cache valkey→memcached (select)"}},
		{"select it again: no change", func(t *testing.T) { require.NoError(t, r.Select("adapter", "cache", "memcached")) },
			nil},
		{"mark it unhealthy", func(t *testing.T) { require.NoError(t, r.SetHealth("adapter", "cache", "memcached", false)) },
			[]string{"adapter/cache memcached→valkey (health)"}},
		{"mark a loser unhealthy: no change", func(t *testing.T) { require.NoError(t, r.SetHealth("adapter", "cache", "redis", false)) },
			nil},
		{"clear the selection: no change", func(t *testing.T) { require.NoError(t, r.Select("adapter", "cache", "")) },
			nil},
		{"unregister the winner", func(t *testing.T) { assert.Equal(t, 1, r.Unregister("adapter", "cache", "valkey")) },
			[]string{"adapter/cache valkey→redis (unregister)"}}, // both left are unhealthy: the best wins
		{"unregister a missing provider: no change", func(t *testing.T) { assert.Equal(t, 0, r.Unregister("adapter", "cache", "nope")) },
			nil},
		{"register a package over two domains", func(t *testing.T) {
			_, err := r.RegisterPackage("pkg", "/x", []registry.Candidate{i5C("service", "mail", "smtp", 1), i5C("adapter", "queue", "nats", 1)}, nil)
			require.NoError(t, err)
		}, []string{"service/mail -→smtp (register-package)", "adapter/queue -→nats (register-package)"}},
		{"apply a set", func(t *testing.T) {
			i5Apply(t, r, "loader", []registry.Candidate{i5C("adapter", "queue", "kafka", 9), i5C("task", "cron", "tick", 1)})
		}, []string{"adapter/queue nats→kafka (apply)", "task/cron -→tick (apply)"}},
		{"apply it again: no change", func(t *testing.T) {
			i5Apply(t, r, "loader", []registry.Candidate{i5C("adapter", "queue", "kafka", 9), i5C("task", "cron", "tick", 1)})
		}, nil},
		{"apply an empty set", func(t *testing.T) { i5Apply(t, r, "loader", nil) },
			[]string{"adapter/queue kafka→nats (apply)", "task/cron tick→- (apply)"}},
		{"unregister the last candidates of a key", func(t *testing.T) {
			assert.Equal(t, 1, r.Unregister("adapter", "cache", "redis"))
			assert.Equal(t, 1, r.Unregister("adapter", "cache", "memcached"))
		}, []string{"adapter/cache redis→memcached (unregister)", "adapter/cache memcached→- (unregister)"}},
		{"a handle's register", func(t *testing.T) {
			_, err := r.Domain("tenant").Register(i5C("", "db", "pg", 1))
			require.NoError(t, err)
		},
			[]string{"tenant/db -→pg (register)"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.op(t)
			// A sentinel write after each step proves that the step delivered
			// nothing more than expected.
			i5Register(t, r, i5C("sentinel", st.name, "s", 0))
			got := w.next(t, len(st.want)+1)
			var texts []string
			for _, c := range got[:len(st.want)] {
				texts = append(texts, i5ChangeText(c))
				assert.False(t, c.Resync)
			}
			// Changes of different keys of one write come in no fixed order.
			assert.ElementsMatch(t, st.want, texts)
			assert.Equal(t, "sentinel/"+st.name+" -→s (register)", i5ChangeText(got[len(st.want)]), "nothing else was delivered")
		})
	}
}

// TestWatchOrderPerKey: a writer changing one key many times is seen in
// order; with writers of several keys (two of them writing the same key)
// racing, every key's changes form one chain: each Previous is the Current
// of the change before it.
func TestWatchOrderPerKey(t *testing.T) {
	const n = 500
	t.Run("one writer", func(t *testing.T) {
		r := registry.New()
		w := i5Collect(t, r, "adapter")
		i5Go(t, "the writer", func() {
			for i := 1; i <= n; i++ {
				if _, err := r.Register(i5C("adapter", "cache", fmt.Sprint("p", i), i)); err != nil {
					t.Error(err)
				}
			}
		})
		got := w.next(t, n)
		var prev *registry.Entry
		for i, c := range got {
			require.False(t, c.Resync)
			require.Equal(t, i+1, c.Current.Priority(), "change %d", i)
			require.Same(t, prev, c.Previous, "change %d", i)
			require.Equal(t, "register", c.Reason)
			prev = c.Current
		}
	})
	t.Run("racing writers", func(t *testing.T) {
		r := registry.New(registry.WithShards(4), registry.WithWatchBuffer(100_000))
		w := i5Collect(t, r)
		type writer struct{ dom, key, provider string }
		writers := []writer{
			{"adapter", "cache", "a"}, {"adapter", "cache", "b"}, // the same key
			{"adapter", "queue", "a"}, {"service", "mail", "a"}, {"task", "cron", "a"},
		}
		var wg sync.WaitGroup
		for _, wr := range writers {
			wg.Go(func() {
				for i := 1; i <= n; i++ {
					if _, err := r.Register(i5C(wr.dom, wr.key, wr.provider, i)); err != nil {
						t.Error(err)
					}
				}
			})
		}
		i5Go(t, "the writers", wg.Wait)
		i5Register(t, r, i5C("zz", "end", "end", 1)) // marks the end
		last := map[string]*registry.Entry{}
		for {
			c := w.next(t, 1)[0]
			require.False(t, c.Resync, "the buffer is large enough")
			k := c.Domain + "/" + c.Key
			if k == "zz/end" {
				break
			}
			require.Same(t, last[k], c.Previous, "%s: Previous is the Current of the change before", k)
			if p := c.Previous; p != nil {
				require.GreaterOrEqual(t, c.Current.Priority(), p.Priority(), "%s: the winner's priority never falls", k)
				if c.Current.Priority() == p.Priority() {
					require.Greater(t, c.Current.Sequence(), p.Sequence(), "%s: an equal priority wins by a later sequence", k)
				}
			}
			last[k] = c.Current
		}
		require.Len(t, last, 4)
		for _, d := range []string{"adapter", "service", "task"} {
			for _, e := range r.ListActive(d) {
				assert.Same(t, e, last[d+"/"+e.Key()], "the last change of %s/%s names its winner", d, e.Key())
				assert.Equal(t, n, e.Priority())
			}
		}
	})
}

// TestWatchOnlyNamedDomains: a watch of named domains delivers the changes
// of those domains only, whatever their shards; a watch of none delivers
// every domain's.
func TestWatchOnlyNamedDomains(t *testing.T) {
	tests := []struct {
		name    string
		opts    []registry.Option
		watched []string
		want    []string // domains delivered, sorted
	}{
		{"two of four domains", nil, []string{"tenant-a", "tenant-c"}, []string{"tenant-a", "tenant-c"}},
		{"two of four, all on one shard", []registry.Option{registry.WithHash(func(string) uint64 { return 0 })}, []string{"tenant-a", "tenant-c"}, []string{"tenant-a", "tenant-c"}},
		{"one domain named twice", nil, []string{"tenant-b", "tenant-b"}, []string{"tenant-b"}},
		{"a domain nobody writes", nil, []string{"tenant-z"}, nil},
		{"none named: all", nil, nil, []string{"tenant-a", "tenant-b", "tenant-c", "tenant-d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New(tt.opts...)
			w := i5Collect(t, r, tt.watched...)
			all := []string{"tenant-a", "tenant-b", "tenant-c", "tenant-d"}
			for _, d := range all {
				i5Register(t, r, i5C(d, "cache", "redis", 1))
			}
			_, err := r.RegisterPackage("pkg", "/x", []registry.Candidate{i5C("tenant-a", "queue", "nats", 1), i5C("tenant-b", "queue", "nats", 1)}, nil)
			require.NoError(t, err)
			var cs []registry.Candidate
			for _, d := range all {
				cs = append(cs, i5C(d, "store", "s3", 1))
			}
			i5Apply(t, r, "loader", cs)
			for _, d := range all {
				require.NoError(t, r.SetHealth(d, "cache", "redis", false))
				require.NoError(t, r.Select(d, "store", "none"))
				r.Unregister(d, "cache", "redis")
			}
			// A last change in every domain expected marks the end.
			for _, d := range tt.want {
				i5Register(t, r, i5C(d, "zz-end", "end", 1))
			}
			wantN := map[string]int{"tenant-a": 5, "tenant-b": 5, "tenant-c": 4, "tenant-d": 4} // cache twice, queue, store, end
			n := 0
			for _, d := range tt.want {
				n += wantN[d]
			}
			got := w.next(t, n)
			seen := map[string]bool{}
			for _, c := range got {
				seen[c.Domain] = true
				assert.Contains(t, tt.want, c.Domain)
			}
			assert.Equal(t, tt.want, nilIfEmpty(sortedKeysOf(seen)))
			select {
			case c := <-w.ch:
				t.Errorf("an extra change: %s", i5ChangeText(c))
			case <-time.After(20 * time.Millisecond):
			}
		})
	}
}

func sortedKeysOf(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestWatchSlowWatcherResyncs: a watcher with a buffer of 8 that stops
// reading while 1,000 writes happen never blocks the writers; it receives a
// Resync marker and then the current state, and the view it builds from the
// changes equals the registry's ListActive.
func TestWatchSlowWatcherResyncs(t *testing.T) {
	for _, all := range []bool{false, true} {
		name := "two of three domains"
		if all {
			name = "every domain"
		}
		t.Run(name, func(t *testing.T) { i5SlowWatcher(t, all) })
	}
}

// i5SlowWatcher is TestWatchSlowWatcherResyncs watching two of three domains,
// or every domain when all is set.
func i5SlowWatcher(t *testing.T, all bool) {
	r := registry.New(registry.WithShards(8), registry.WithWatchBuffer(8))
	doms := i5SpreadDomains(t, r, 3)
	watched := doms[:2]
	var named []string // what Watch is given
	if all {
		watched, named = doms, nil
	} else {
		named = watched
	}
	for _, d := range doms {
		for k := range 5 {
			i5Register(t, r, i5C(d, fmt.Sprint("k", k), "initial", 0))
		}
	}
	view := map[string]*registry.Entry{} // "domain/key" → winner, as the watcher sees it
	for _, d := range watched {
		for _, e := range r.ListActive(d) {
			view[d+"/"+e.Key()] = e
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := r.Watch(ctx, named...) // no write between the seed and here

	last := slices.Max(watched) // a resync ends with the greatest domain's greatest key
	firstSeen, resume, consumed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var resyncs, afterMarker int
	var problems []string
	go func() {
		defer close(consumed)
		inResync, first := false, true
		for c := range changes {
			if first {
				first = false
				close(firstSeen)
				<-resume // stop reading while the writes happen
			}
			switch {
			case c.Resync:
				resyncs++
				inResync = true
				clear(view)
				continue
			case c.Reason == "resync":
				afterMarker++
				if !inResync || c.Previous != nil || c.Current == nil {
					problems = append(problems, "a resync change out of place: "+i5ChangeText(c))
				}
			default:
				inResync = false
			}
			if !slices.Contains(watched, c.Domain) {
				problems = append(problems, "an unwatched domain: "+i5ChangeText(c))
			}
			k := c.Domain + "/" + c.Key
			if c.Reason != "resync" && c.Previous != view[k] {
				problems = append(problems, fmt.Sprintf("%s: previous %s, the view has %s", k, i5LabelOrNone(c.Previous), i5LabelOrNone(view[k])))
			}
			if c.Current == nil {
				delete(view, k)
			} else {
				view[k] = c.Current
			}
			if c.Domain == last && c.Key == "zz-done" {
				return
			}
		}
	}()

	i5Register(t, r, i5C(watched[0], "k0", "first", 1))
	i5Watchdog(t, 10*time.Second, firstSeen, "the first change")

	rng := rand.New(rand.NewPCG(5, 5))
	write := func(n int) {
		for i := range n {
			d := doms[rng.IntN(len(doms))]
			k := fmt.Sprint("k", rng.IntN(8))
			p := fmt.Sprint("p", rng.IntN(4))
			var err error
			switch rng.IntN(6) {
			case 0, 1:
				_, err = r.Register(i5C(d, k, p, rng.IntN(100)))
			case 2:
				r.Unregister(d, k, p)
			case 3:
				err = r.Select(d, k, p)
			case 4:
				err = r.SetHealth(d, k, p, rng.IntN(2) == 0)
			case 5:
				_, err = r.Apply(fmt.Sprint("owner", i%3), []registry.Candidate{i5C(d, k, p, rng.IntN(100)), i5C(doms[rng.IntN(len(doms))], k, p, 50)})
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	}
	i5Go(t, "1,000 writes while the watcher does not read", func() { write(1000) })
	close(resume)
	// More writes while the watcher reads, falls behind and resyncs: what
	// happens during a resync must be neither lost nor applied twice.
	i5Go(t, "2,000 writes while the watcher reads", func() { write(2000) })
	i5Register(t, r, i5C(last, "zz-done", "done", 1))
	i5Watchdog(t, 10*time.Second, consumed, "the watcher catching up")

	assert.Empty(t, problems)
	assert.GreaterOrEqual(t, resyncs, 1, "the watcher overflowed and was resynchronised")
	assert.Positive(t, afterMarker, "the marker is followed by the current state")
	want := map[string]*registry.Entry{}
	for _, d := range watched {
		for _, e := range r.ListActive(d) {
			want[d+"/"+e.Key()] = e
		}
	}
	require.Equal(t, len(want), len(view))
	for k, e := range want {
		assert.Same(t, e, view[k], "%s", k)
	}
	t.Logf("%d resyncs, %d changes after the marker", resyncs, afterMarker)
}

// TestWatchCancelEndsLoop: cancelling the context ends the range loop,
// whether it is waiting for changes, about to start, or in its body with
// changes still buffered. (TestMain checks that no goroutine leaks.)
func TestWatchCancelEndsLoop(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, r *registry.Registry, ctx context.Context, cancel context.CancelFunc) int
		want int // changes delivered
	}{
		{"while waiting", func(t *testing.T, r *registry.Registry, ctx context.Context, cancel context.CancelFunc) int {
			changes := r.Watch(ctx, "adapter")
			i5Register(t, r, i5C("adapter", "cache", "redis", 1))
			n := 0
			got := make(chan struct{})
			go func() {
				<-got
				time.Sleep(20 * time.Millisecond) // the loop waits for more meanwhile
				cancel()
			}()
			for range changes {
				n++
				close(got)
			}
			return n
		}, 1},
		{"before ranging", func(t *testing.T, r *registry.Registry, ctx context.Context, cancel context.CancelFunc) int {
			changes := r.Watch(ctx, "adapter")
			i5Register(t, r, i5C("adapter", "cache", "redis", 1))
			cancel()
			n := 0
			for range changes {
				n++
			}
			return n
		}, 0},
		{"in the body with changes buffered", func(t *testing.T, r *registry.Registry, ctx context.Context, cancel context.CancelFunc) int {
			changes := r.Watch(ctx, "adapter")
			for i := range 5 {
				i5Register(t, r, i5C("adapter", "cache", "redis", i))
			}
			n := 0
			for range changes {
				n++
				cancel()
			}
			return n
		}, 1},
		{"a context already cancelled", func(t *testing.T, r *registry.Registry, ctx context.Context, cancel context.CancelFunc) int {
			cancel()
			changes := r.Watch(ctx, "adapter")
			i5Register(t, r, i5C("adapter", "cache", "redis", 1))
			n := 0
			for range changes {
				n++
			}
			return n
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var n int
			i5Go(t, "the range loop", func() { n = tt.run(t, r, ctx, cancel) })
			assert.Equal(t, tt.want, n)
			i5Register(t, r, i5C("adapter", "after", "x", 1)) // writers are unaffected
		})
	}
}

// i5Released reports whether r keeps no reference to an entry registered and
// unregistered now: it is collected unless a watcher that was not released
// still buffers the changes that name it.
func i5Released(t *testing.T, r *registry.Registry, rounds int) bool {
	t.Helper()
	collected := make(chan struct{})
	func() {
		e := i5Register(t, r, i5C("adapter", "probe", "probe", 1))
		runtime.AddCleanup(e, func(ch chan struct{}) { close(ch) }, collected)
		require.Equal(t, 1, r.Unregister("adapter", "probe", "probe"))
	}()
	for range rounds {
		runtime.GC()
		select {
		case <-collected:
			return true
		case <-time.After(10 * time.Millisecond):
		}
	}
	return false
}

// TestWatchBreakReleasesWatcher: breaking out of the loop, cancelling the
// context of a watch never ranged over, or dropping such a watch, releases
// the watcher: the registry
// stops buffering changes for it (an entry it would have buffered is
// garbage-collected). As a control, a live watcher does keep it.
func TestWatchBreakReleasesWatcher(t *testing.T) {
	var kept []iter.Seq[registry.Change] // watches a case keeps reachable until its check is done
	tests := []struct {
		name string
		// start starts a watch and returns the function that ends it.
		start func(t *testing.T, r *registry.Registry) (end func())
	}{
		{"break out of the loop", func(t *testing.T, r *registry.Registry) func() {
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel) // never needed for the release
			changes := r.Watch(ctx, "adapter")
			i5Register(t, r, i5C("adapter", "cache", "redis", 1))
			return func() {
				i5Go(t, "the loop", func() {
					for range changes {
						break
					}
				})
			}
		}},
		{"cancel a watch never ranged over", func(t *testing.T, r *registry.Registry) func() {
			ctx, cancel := context.WithCancel(context.Background())
			kept = append(kept, r.Watch(ctx, "adapter")) // reachable: only the cancel can release it
			return cancel
		}},
		{"drop a watch never ranged over while another stays", func(t *testing.T, r *registry.Registry) func() {
			held := []iter.Seq[registry.Change]{r.Watch(context.Background(), "adapter")}
			kept = append(kept, r.Watch(context.Background(), "other")) // made right after: likely its neighbour in memory
			return func() { held[0] = nil }
		}},
		{"drop a watch never ranged over, its ctx never ending", func(t *testing.T, r *registry.Registry) func() {
			held := []iter.Seq[registry.Change]{r.Watch(context.Background(), "adapter")}
			return func() { held[0] = nil } // the result becomes garbage
		}},
		{"return false from a pulled iterator", func(t *testing.T, r *registry.Registry) func() {
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			changes := r.Watch(ctx, "adapter")
			i5Register(t, r, i5C("adapter", "cache", "redis", 1))
			return func() {
				i5Go(t, "the loop", func() {
					changes(func(registry.Change) bool { return false })
				})
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			end := tt.start(t, r)
			assert.False(t, i5Released(t, r, 5), "control: a live watcher buffers the change, so the entry stays")
			end()
			assert.True(t, i5Released(t, r, 200), "once released, the watcher keeps nothing")
			// The registry itself must outlive the check: were it garbage,
			// it would take any watcher, released or not, with it.
			runtime.KeepAlive(r)
			kept = nil
		})
	}
}

// TestWatchDeliversOutsideLocks: the loop body may call back into the
// registry (Register, Apply, Snapshot, Select, ListActive on the watched
// domain) without deadlock: nothing is delivered while a lock is held.
func TestWatchDeliversOutsideLocks(t *testing.T) {
	for _, cfg := range i5HandleConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			r := registry.New(cfg.opts...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			changes := r.Watch(ctx, "adapter", "service")
			i5Register(t, r, i5C("adapter", "cache", "p0", 0))
			n := 0
			i5Go(t, "a loop that writes and reads the watched domains", func() {
				for c := range changes {
					n++
					if n == 40 {
						break
					}
					i := c.Current.Priority() + 1
					switch n % 4 {
					case 0:
						_, err := r.Register(i5C("adapter", "cache", fmt.Sprint("p", i), i))
						assert.NoError(t, err)
					case 1:
						_, err := r.Apply("loop", []registry.Candidate{i5C("adapter", "cache", fmt.Sprint("p", i), i), i5C("service", "mail", "smtp", i)})
						assert.NoError(t, err)
					case 2:
						assert.NotEmpty(t, r.Snapshot("adapter", "service").Domains())
						assert.NotEmpty(t, r.ListActive("adapter"))
						_, err := r.Domain("adapter").Register(i5C("", "cache", fmt.Sprint("p", i), i))
						assert.NoError(t, err)
					case 3:
						assert.NotEmpty(t, r.Domains())
						_, err := r.Register(i5C(c.Domain, c.Key, fmt.Sprint("p", i), i))
						assert.NoError(t, err)
					}
				}
			})
			assert.Equal(t, 40, n)
		})
	}
}

// TestWatchRangesOnce: ranging a Watch result a second time returns at once
// with nothing, instead of waiting for ctx on a watcher that is gone.
func TestWatchRangesOnce(t *testing.T) {
	r := registry.New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // the second range must not need it
	changes := r.Watch(ctx, "adapter")
	i5Register(t, r, i5C("adapter", "cache", "redis", 1))
	got := 0
	i5Go(t, "the first range", func() {
		for range changes {
			got++
			break
		}
	})
	assert.Equal(t, 1, got)
	i5Register(t, r, i5C("adapter", "cache", "memcached", 5))
	i5Go(t, "the second range", func() {
		for range changes {
			t.Error("the second range yielded a change")
		}
	})
}

// TestWatchersIndexedByDomain: a write looks only at the watchers of its
// domain and at those of every domain, so a tenant's watchers (through a
// Handle, which Limits do not bound) cost other tenants' writes nothing.
// Before, every write looked at every watcher under its shard's lock: 20,000
// watchers of one tenant made a write into another 500 times slower.
func TestWatchersIndexedByDomain(t *testing.T) {
	r := registry.New()
	ctx, cancel := context.WithCancel(context.Background())
	tenant := r.Domain("tenant")
	var kept []iter.Seq[registry.Change]
	for range 3 {
		kept = append(kept, tenant.Watch(ctx))
	}
	kept = append(kept, r.Watch(ctx, "a", "b", "a"), r.Watch(ctx))
	for _, tc := range []struct {
		domain     string
		seen, live int
	}{{"other", 1, 5}, {"tenant", 4, 5}, {"a", 2, 5}, {"b", 2, 5}} {
		seen, live := registry.WatchersSeenBy(r, tc.domain)
		assert.Equal(t, [2]int{tc.seen, tc.live}, [2]int{seen, live}, tc.domain)
	}
	// TestWatchOnlyNamedDomains checks what each watcher gets.
	cancel()
	require.Eventually(t, func() bool {
		seen, live := registry.WatchersSeenBy(r, "tenant")
		seenA, _ := registry.WatchersSeenBy(r, "a")
		return seen == 0 && seenA == 0 && live == 0
	}, 10*time.Second, time.Millisecond, "ended watchers leave the index")
	runtime.KeepAlive(kept)
}

// BenchmarkWriteWithForeignWatchers: a Register and an Unregister into one
// domain while another domain has 0 or 20,000 watchers.
func BenchmarkWriteWithForeignWatchers(b *testing.B) {
	for _, n := range []int{0, 20000} {
		b.Run(fmt.Sprintf("watchers=%d", n), func(b *testing.B) {
			r := registry.New()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			kept := make([]iter.Seq[registry.Change], n)
			for i := range kept {
				kept[i] = r.Watch(ctx, "tenant")
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Register(registry.Candidate{Domain: "other", Key: "k", Provider: "p"}); err != nil {
					b.Fatal(err)
				}
				r.Unregister("other", "k", "p")
			}
			runtime.KeepAlive(kept)
		})
	}
}

// TestWatchNilContext: a nil ctx is context.Background, not a panic.
func TestWatchNilContext(t *testing.T) {
	r := registry.New()
	var changes iter.Seq[registry.Change]
	//lint:ignore SA1012 a nil ctx is what is tested
	require.NotPanics(t, func() { changes = r.Watch(nil, "adapter") })
	i5Register(t, r, i5C("adapter", "cache", "redis", 1))
	for c := range changes {
		assert.Equal(t, "redis", c.Current.Provider())
		break
	}
	_, live := registry.WatchersSeenBy(r, "adapter")
	assert.Zero(t, live, "breaking out released the watcher")
}
