package registry_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
)

// i5DecisionText describes a decision: "domain/key prev→cur (reason)".
func i5DecisionText(d registry.Decision) string {
	return i5ChangeText(registry.Change{Decision: d})
}

// i5Recorder records decisions.
type i5Recorder struct {
	mu  sync.Mutex // guards got
	got []string
}

func (rec *i5Recorder) hook(d registry.Decision) {
	rec.mu.Lock()
	rec.got = append(rec.got, i5DecisionText(d))
	rec.mu.Unlock()
}

func (rec *i5Recorder) take() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := rec.got
	rec.got = nil
	return out
}

// i5Ops are writes of every kind, each with the decisions it must report.
// They run in order on one registry.
var i5Ops = []struct {
	name string
	op   func(r *registry.Registry) error
	want []string
}{
	{"register", func(r *registry.Registry) error {
		_, err := r.Register(i5C("adapter", "cache", "redis", 10))
		return err
	}, []string{"adapter/cache -→redis (register)"}},
	{"register a loser", func(r *registry.Registry) error {
		_, err := r.Register(i5C("adapter", "cache", "memcached", 5))
		return err
	}, nil},
	{"register-package", func(r *registry.Registry) error {
		_, err := r.RegisterPackage("pkg", "/x", []registry.Candidate{i5C("adapter", "cache", "valkey", 20), i5C("service", "mail", "smtp", 1)}, nil)
		return err
	}, []string{"adapter/cache redis→valkey (register-package)", "service/mail -→smtp (register-package)"}},
	{"select", func(r *registry.Registry) error { return r.Select("adapter", "cache", "memcached") },
		[]string{"adapter/cache valkey→memcached (select)"}},
	{"health", func(r *registry.Registry) error { return r.SetHealth("adapter", "cache", "memcached", false) },
		[]string{"adapter/cache memcached→valkey (health)"}},
	{"apply", func(r *registry.Registry) error {
		_, err := r.Apply("loader", []registry.Candidate{i5C("adapter", "cache", "keydb", 30), i5C("task", "cron", "tick", 1)})
		return err
	}, []string{"adapter/cache valkey→keydb (apply)", "task/cron -→tick (apply)"}},
	{"apply again", func(r *registry.Registry) error {
		_, err := r.Apply("loader", []registry.Candidate{i5C("adapter", "cache", "keydb", 30), i5C("task", "cron", "tick", 1)})
		return err
	}, nil},
	{"unregister", func(r *registry.Registry) error {
		r.Unregister("adapter", "cache", "keydb")
		return nil
	}, []string{"adapter/cache keydb→valkey (unregister)"}},
	{"apply an empty set", func(r *registry.Registry) error {
		_, err := r.Apply("loader", nil)
		return err
	}, []string{"task/cron tick→- (apply)"}},
	{"a handle's register", func(r *registry.Registry) error {
		_, err := r.Domain("tenant").Register(i5C("", "db", "pg", 1))
		return err
	}, []string{"tenant/db -→pg (register)"}},
	{"a rejected register", func(r *registry.Registry) error {
		_, err := r.Register(i5C("", "db", "pg", 1))
		if err == nil {
			return fmt.Errorf("accepted")
		}
		return nil
	}, nil},
}

// TestDecisionHookReportsEveryWinnerChange: the hook gets one Decision per
// winner change, with domain, key, previous and new provider and reason, and
// nothing for writes that change no winner.
func TestDecisionHookReportsEveryWinnerChange(t *testing.T) {
	rec := &i5Recorder{}
	r := registry.New(registry.WithDecisionHook(rec.hook))
	for _, op := range i5Ops {
		t.Run(op.name, func(t *testing.T) {
			require.NoError(t, op.op(r))
			assert.ElementsMatch(t, op.want, rec.take())
		})
	}
}

// TestDecisionHookOutsideLocks: the hook runs after every lock is released:
// from inside it, calls that take every shard lock (Snapshot, Domains), the
// batch lock (Apply, RegisterPackage) or the key's shard lock (Register,
// Select, SetHealth) do not deadlock, for writes of every kind.
func TestDecisionHookOutsideLocks(t *testing.T) {
	for _, cfg := range i5HandleConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			var r *registry.Registry
			var inHook atomic.Bool
			var calls atomic.Int64
			r = registry.New(append(slices.Clone(cfg.opts), registry.WithDecisionHook(func(d registry.Decision) {
				calls.Add(1)
				if !inHook.CompareAndSwap(false, true) {
					return // the hook's own writes report too; do not recurse
				}
				defer inHook.Store(false)
				_ = r.Snapshot()
				_ = r.Domains()
				r.Resolve(d.Domain, d.Key)
				r.ListActive(d.Domain)
				_, err := r.Register(i5C(d.Domain, d.Key, "from-hook", -1))
				assert.NoError(t, err)
				assert.NoError(t, r.Select(d.Domain, "hook-key", "x"))
				assert.NoError(t, r.SetHealth(d.Domain, d.Key, "from-hook", false))
				_, err = r.Apply("hook", []registry.Candidate{i5C(d.Domain, "hook-key", "x", 1), i5C("hook-domain", "k", "x", 1)})
				assert.NoError(t, err)
				_, err = r.RegisterPackage("hook", "/x", []registry.Candidate{i5C(d.Domain, "hook-pkg", "x", 1), i5C("hook-domain", "pkg", "x", 1)}, nil)
				assert.NoError(t, err)
				r.Unregister(d.Domain, "hook-pkg", "x")
			}))...)
			for _, op := range i5Ops {
				i5Go(t, op.name+" with a hook calling back", func() { assert.NoError(t, op.op(r)) })
			}
			assert.Positive(t, calls.Load())
		})
	}
}

// TestDecisionHookPanicContained: a hook that panics is recovered and
// counted once per call; the operation's result stands, every change is
// still reported (a panic for one does not skip the next), no lock stays
// held, and later operations work.
func TestDecisionHookPanicContained(t *testing.T) {
	rec := &i5Recorder{}
	r := registry.New(registry.WithDecisionHook(func(d registry.Decision) {
		rec.hook(d)
		panic("hook panics: " + d.Key)
	}))
	var want uint64
	for _, op := range i5Ops {
		t.Run(op.name, func(t *testing.T) {
			i5Go(t, op.name, func() { assert.NoError(t, op.op(r), "the operation's result stands") })
			got := rec.take()
			assert.ElementsMatch(t, op.want, got, "every change reached the hook")
			want += uint64(len(op.want))
			assert.Equal(t, want, r.RecoveredPanics())
		})
	}
	// State is as the operations left it, and every kind of call still works.
	assert.Equal(t, "valkey", i5Winner(t, r, "adapter", "cache"))
	i5Go(t, "calls after the panics", func() {
		_ = r.Snapshot()
		_, err := r.Register(i5C("adapter", "cache", "final", 99))
		assert.NoError(t, err)
		_, err = r.Apply("loader", []registry.Candidate{i5C("adapter", "x", "p", 1), i5C("service", "x", "p", 1)})
		assert.NoError(t, err)
	})
	assert.Equal(t, "final", i5Winner(t, r, "adapter", "cache"))
	assert.Equal(t, want+3, r.RecoveredPanics())
}

// i5LogHandler captures Debug records of winner changes.
type i5LogHandler struct {
	mu  sync.Mutex // guards got
	got []string
}

func (h *i5LogHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *i5LogHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *i5LogHandler) WithGroup(string) slog.Handler            { return h }
func (h *i5LogHandler) Handle(_ context.Context, rec slog.Record) error {
	if rec.Level != slog.LevelDebug || rec.Message != "winner changed" {
		return nil
	}
	a := map[string]string{}
	rec.Attrs(func(at slog.Attr) bool {
		a[at.Key] = at.Value.String()
		return true
	})
	prov := func(k string) string {
		if a[k] == "" {
			return "-"
		}
		return a[k]
	}
	h.mu.Lock()
	h.got = append(h.got, fmt.Sprintf("%s/%s %s→%s (%s)", a["domain"], a["key"], prov("previous"), prov("provider"), a["reason"]))
	h.mu.Unlock()
	return nil
}

func (h *i5LogHandler) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.got
	h.got = nil
	return out
}

// TestDecisionLoggedWithReason: WithLogger receives the same winner changes
// as the hook, at Debug level, each with a "reason" attribute.
func TestDecisionLoggedWithReason(t *testing.T) {
	rec := &i5Recorder{}
	h := &i5LogHandler{}
	r := registry.New(registry.WithDecisionHook(rec.hook), registry.WithLogger(slog.New(h)))
	for _, op := range i5Ops {
		t.Run(op.name, func(t *testing.T) {
			require.NoError(t, op.op(r))
			logged, hooked := h.take(), rec.take()
			assert.ElementsMatch(t, op.want, logged)
			assert.Equal(t, hooked, logged, "the logger and the hook get the same changes, in the same order")
		})
	}
}
