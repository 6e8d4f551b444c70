package registry_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
)

// ccRecord is one captured log record.
type ccRecord struct {
	level slog.Level
	msg   string
	attrs map[string]any
}

func (r ccRecord) str(key string) string {
	s, _ := r.attrs[key].(string)
	return s
}

// ccHandler is a slog.Handler that captures every record and then, outside
// its own lock, calls onRecord (which may panic, block or call back into the
// registry).
type ccHandler struct {
	mu       sync.Mutex // guards records
	records  []ccRecord
	onRecord func(ccRecord)
	// panicEnabled makes Enabled panic, for the registry's check of the level.
	panicEnabled bool
}

func (h *ccHandler) logger() *slog.Logger { return slog.New(h) }

func (h *ccHandler) Enabled(context.Context, slog.Level) bool {
	if h.panicEnabled {
		panic("Enabled panics")
	}
	return true
}

func (h *ccHandler) Handle(_ context.Context, r slog.Record) error {
	rec := ccRecord{level: r.Level, msg: r.Message, attrs: map[string]any{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.Any()
		return true
	})
	h.mu.Lock()
	h.records = append(h.records, rec)
	h.mu.Unlock()
	if h.onRecord != nil {
		h.onRecord(rec)
	}
	return nil
}

func (h *ccHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *ccHandler) WithGroup(string) slog.Handler      { return h }

// take returns the records captured since the last take.
func (h *ccHandler) take() []ccRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.records
	h.records = nil
	return out
}

// ccChange is what a winner-change record must say.
type ccChange struct {
	Domain, Key, Provider, Previous string
	Sequence                        uint64
}

// ccChanges checks that every record is a Debug winner change carrying the
// five attributes, and returns what they say.
func ccChanges(t *testing.T, recs []ccRecord) []ccChange {
	t.Helper()
	out := make([]ccChange, 0, len(recs))
	for _, r := range recs {
		assert.Equal(t, slog.LevelDebug, r.level, "winner changes are logged at Debug: %v", r)
		for _, k := range []string{"domain", "key", "provider", "previous"} {
			_, ok := r.attrs[k].(string)
			assert.True(t, ok, "record %v lacks string attr %q", r, k)
		}
		seq, ok := r.attrs["sequence"].(uint64)
		assert.True(t, ok, "record %v lacks uint64 attr sequence", r)
		out = append(out, ccChange{r.str("domain"), r.str("key"), r.str("provider"), r.str("previous"), seq})
	}
	return out
}

func TestLogWinnerChanges(t *testing.T) {
	h := &ccHandler{}
	r := registry.New(registry.WithLogger(h.logger()))
	register := func(d, k, p string, prio int) func() {
		return func() {
			_, err := r.Register(registry.Candidate{Domain: d, Key: k, Provider: p, Priority: new(prio)})
			require.NoError(t, err)
		}
	}
	steps := []struct {
		name string
		op   func()
		want []ccChange
	}{
		{"first candidate", register("adapter", "cache", "memcached", 5),
			[]ccChange{{"adapter", "cache", "memcached", "", 1}}},
		{"lower priority: no change", register("adapter", "cache", "local", 1), nil},
		{"higher priority", register("adapter", "cache", "redis", 9),
			[]ccChange{{"adapter", "cache", "redis", "memcached", 3}}},
		{"another key", register("adapter", "queue", "sqs", 0),
			[]ccChange{{"adapter", "queue", "sqs", "", 4}}},
		{"select", func() { require.NoError(t, r.Select("adapter", "cache", "local")) },
			[]ccChange{{"adapter", "cache", "local", "redis", 2}}},
		{"same selection again: no change", func() { require.NoError(t, r.Select("adapter", "cache", "local")) }, nil},
		{"select the provider of a key without candidates: no change",
			func() { require.NoError(t, r.Select("adapter", "db", "postgres")) }, nil},
		{"unregister a shadowed provider: no change", func() { assert.Equal(t, 1, r.Unregister("adapter", "cache", "memcached")) }, nil},
		{"unregister the winner", func() { assert.Equal(t, 1, r.Unregister("adapter", "cache", "local")) },
			[]ccChange{{"adapter", "cache", "redis", "local", 3}}},
		{"unregister the last candidate", func() { assert.Equal(t, 1, r.Unregister("adapter", "queue", "sqs")) },
			[]ccChange{{"adapter", "queue", "", "sqs", 0}}},
		{"unregister nothing: no change", func() { assert.Zero(t, r.Unregister("adapter", "queue", "sqs")) }, nil},
		{"rejected register: no change", func() {
			_, err := r.Register(registry.Candidate{Domain: "", Key: "cache", Provider: "x"})
			require.ErrorIs(t, err, registry.ErrInvalidCandidate)
		}, nil},
		{"register package across domains", func() {
			_, err := r.RegisterPackage("pkg", "/p", []registry.Candidate{
				{Domain: "service", Key: "api", Provider: "p1"},
				{Domain: "adapter", Key: "cache", Provider: "p2", Priority: new(100)},
				{Domain: "adapter", Key: "cache", Provider: "p3", Priority: new(50)}, // shadowed by p2
				{Domain: "adapter", Key: "queue", Provider: "p4"},
			}, new(0))
			require.NoError(t, err)
		}, []ccChange{ // one per key whose winner changed, by the new winner's sequence
			{"service", "api", "p1", "", 5},
			{"adapter", "cache", "p2", "redis", 6},
			{"adapter", "queue", "p4", "", 8},
		}},
		{"rejected package: no change", func() {
			_, err := r.RegisterPackage("pkg", "/p", []registry.Candidate{
				{Domain: "service", Key: "api", Provider: "p9", Priority: new(99)},
				{Domain: "service", Key: "", Provider: "bad"},
			}, nil)
			require.ErrorIs(t, err, registry.ErrInvalidCandidate)
		}, nil},
	}
	for _, s := range steps {
		s.op()
		got := ccChanges(t, h.take())
		if s.want == nil {
			s.want = []ccChange{}
		}
		assert.Equal(t, s.want, got, s.name)
	}
	assert.Zero(t, r.RecoveredPanics())
}

// TestLogEveryWinnerChangeUnderConcurrency registers concurrently on one key
// with rising priorities and checks that every logged change names a real
// registration with its sequence, once, and that the final winner was logged;
// then that a losing registration is not logged.
func TestLogEveryWinnerChangeUnderConcurrency(t *testing.T) {
	h := &ccHandler{}
	r := registry.New(registry.WithLogger(h.logger()))
	const goroutines, each = 8, 25
	var mu sync.Mutex
	bySeq := map[uint64]*registry.Entry{}
	ccRun(t, goroutines, func(g int, tick func()) {
		for i := range each {
			e, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: fmt.Sprint("p", g), Priority: new(i)})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			bySeq[e.Sequence()] = e
			mu.Unlock()
			tick()
		}
	})
	changes := ccChanges(t, h.take())
	require.NotEmpty(t, changes)
	seen := map[uint64]bool{}
	for _, c := range changes {
		e := bySeq[c.Sequence]
		if assert.NotNil(t, e, "a change names sequence %d, which no Register returned", c.Sequence) {
			assert.Equal(t, e.Provider(), c.Provider)
		}
		assert.False(t, seen[c.Sequence], "sequence %d logged twice", c.Sequence)
		seen[c.Sequence] = true
	}
	w, _ := r.Resolve("adapter", "cache")
	assert.True(t, seen[w.Sequence()], "the final winner's change was logged")
	_, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "low", Priority: new(-1)})
	require.NoError(t, err)
	assert.Empty(t, h.take(), "a registration that does not change the winner is not logged")
}

// TestLogHandlerPanicIsRecovered checks that a handler that panics (in Handle
// or in Enabled) does not undo the operation, is counted, and leaves no lock
// held: later writes to the same shard, Snapshot and Domains all succeed.
func TestLogHandlerPanicIsRecovered(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    *ccHandler
	}{
		{"Handle panics with a string", &ccHandler{onRecord: func(ccRecord) { panic("handler panics") }}},
		{"Handle panics with an error", &ccHandler{onRecord: func(ccRecord) { panic(errors.New("handler fails")) }}},
		{"Enabled panics", &ccHandler{panicEnabled: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New(registry.WithShards(1), registry.WithLogger(tt.h.logger()))
			e, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis"})
			require.NoError(t, err, "the operation's result stands")
			require.NotNil(t, e)
			got, ok := r.Resolve("adapter", "cache")
			require.True(t, ok)
			assert.Same(t, e, got)
			assert.Equal(t, uint64(1), r.RecoveredPanics())

			// The one shard must be unlocked: each of these would block
			// forever otherwise.
			var e2 *registry.Entry
			ccDone(t, func() {
				e2, err = r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "memcached"})
			})
			require.NoError(t, err)
			got, _ = r.Resolve("adapter", "cache")
			assert.Same(t, e2, got)
			assert.Equal(t, uint64(2), r.RecoveredPanics())

			var es []*registry.Entry
			ccDone(t, func() {
				es, err = r.RegisterPackage("pkg", "", []registry.Candidate{
					{Domain: "adapter", Key: "queue", Provider: "sqs"},
					{Domain: "service", Key: "api", Provider: "rest"},
				}, nil)
			})
			require.NoError(t, err)
			assert.Len(t, es, 2)
			assert.Equal(t, uint64(4), r.RecoveredPanics(), "one panic per logged change")

			ccDone(t, func() { err = r.Select("adapter", "cache", "redis") })
			require.NoError(t, err)
			ccDone(t, func() { r.Unregister("adapter", "queue", "sqs") })
			assert.Equal(t, uint64(6), r.RecoveredPanics())
			ccDone(t, func() {
				assert.Equal(t, 3, r.Snapshot().Len())
				assert.Equal(t, []string{"adapter", "service"}, r.Domains())
			})
			got, _ = r.Resolve("adapter", "cache")
			assert.Same(t, e, got, "the selection took effect")
		})
	}
}

// TestLogHandlerCallsBackIntoRegistry calls the registry from inside Handle:
// reads, a Snapshot and Domains (which lock shards), and writes to the very
// domain and key being logged. Any lock held while the handler runs would
// deadlock here.
func TestLogHandlerCallsBackIntoRegistry(t *testing.T) {
	var r *registry.Registry
	var depth, calls atomic.Int32
	h := &ccHandler{onRecord: func(rec ccRecord) {
		calls.Add(1)
		d, k := rec.str("domain"), rec.str("key")
		if e, ok := r.Resolve(d, k); ok && rec.str("provider") != "" {
			// Single goroutine: nothing else has written since.
			assert.Equal(t, rec.str("provider"), e.Provider())
		}
		r.Explain(d, k)
		r.ListActive(d)
		r.Snapshot(d)
		r.Snapshot()
		r.Domains()
		// A write that does not change the winner (nothing more is logged).
		_, err := r.Register(registry.Candidate{Domain: d, Key: k, Provider: "low", Priority: new(-100)})
		assert.NoError(t, err)
		// A write that does, twice nested at most.
		if depth.Add(1) <= 2 {
			_, err := r.Register(registry.Candidate{Domain: d, Key: k, Provider: fmt.Sprint("nested", depth.Load()), Priority: new(100 + int(depth.Load()))})
			assert.NoError(t, err)
		}
	}}
	r = registry.New(registry.WithShards(1), registry.WithLogger(h.logger()))
	ccDone(t, func() {
		_, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis"})
		assert.NoError(t, err)
	})
	assert.Equal(t, int32(3), calls.Load(), "redis, then nested1 and nested2 from inside the handler")
	e, _ := r.Resolve("adapter", "cache")
	assert.Equal(t, "nested2", e.Provider())
	assert.Len(t, r.Explain("adapter", "cache").Ordered, 6)
	assert.Zero(t, r.RecoveredPanics())
}

// TestLogHandlerBlockedHoldsNoLock parks a handler inside Handle and, while it
// is parked, runs every kind of operation on the same domain and shard from
// another goroutine: all of them complete.
func TestLogHandlerBlockedHoldsNoLock(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var parked atomic.Bool // only the first record parks (sync.Once would park the others too)
	h := &ccHandler{onRecord: func(ccRecord) {
		if parked.CompareAndSwap(false, true) {
			close(entered)
			<-release
		}
	}}
	r := registry.New(registry.WithShards(1), registry.WithLogger(h.logger()))
	first := make(chan *registry.Entry, 1)
	go func() {
		e, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis"})
		assert.NoError(t, err)
		first <- e
	}()
	ccDone(t, func() { <-entered })

	e, ok := r.Resolve("adapter", "cache")
	require.True(t, ok, "the write is visible before it is logged")
	ccDone(t, func() {
		_, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(1)})
		assert.NoError(t, err)
		_, err = r.RegisterPackage("pkg", "", []registry.Candidate{
			{Domain: "adapter", Key: "queue", Provider: "sqs"}, {Domain: "service", Key: "api", Provider: "rest"},
		}, nil)
		assert.NoError(t, err)
		assert.NoError(t, r.Select("adapter", "cache", "redis"))
		assert.Equal(t, 1, r.Unregister("adapter", "queue", "sqs"))
		assert.Equal(t, 3, r.Snapshot("adapter", "service").Len())
		assert.Equal(t, []string{"adapter", "service"}, r.Domains())
	})
	close(release)
	ccDone(t, func() { assert.Same(t, e, <-first) })
}

// TestLogSkippedSelections: WithSelections logs, at Warn, each selection it
// skips, with the error that says why, and nothing for the valid ones.
func TestLogSkippedSelections(t *testing.T) {
	h := &ccHandler{}
	registry.New(registry.WithLogger(h.logger()), registry.WithSelections(map[string]map[string]string{
		"adapter": {"cache": "redis", "queue": "", "\x00bad": "x"},
	}))
	recs := h.take()
	require.Len(t, recs, 2)
	why := map[string]error{}
	for _, rec := range recs {
		assert.Equal(t, slog.LevelWarn, rec.level)
		assert.Equal(t, "skipping selection", rec.msg)
		err, _ := rec.attrs["error"].(error)
		require.Error(t, err, "key %q", rec.str("key"))
		assert.ErrorIs(t, err, registry.ErrInvalidCandidate)
		why[rec.str("key")] = err
	}
	assert.Contains(t, why["queue"].Error(), "names no provider")
	assert.Contains(t, why["\x00bad"].Error(), "key")
}
