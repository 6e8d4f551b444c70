package stress_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
	"github.com/oneiric-go/oneiric/stress"
)

// small is a workload that runs in well under a second with -race on two
// cores and still exercises every kind and every invariant.
func small() stress.Workload {
	w := stress.DefaultWorkload()
	w.Goroutines = 4
	w.Duration = 0
	w.Ops = 20_000
	w.Domains = 4
	w.Keys = 8
	w.Providers = 2
	w.MarkerEvery = 8
	return w
}

func invariant(t *testing.T, rep *stress.Report, name string) stress.Invariant {
	t.Helper()
	for _, inv := range rep.Invariants {
		if inv.Name == name {
			return inv
		}
	}
	t.Fatalf("report has no invariant %q", name)
	return stress.Invariant{}
}

var allInvariants = []string{
	stress.InvariantNoLostRegistration,
	stress.InvariantUniqueSequences,
	stress.InvariantWinnerIsBest,
	stress.InvariantSnapshotCausality,
	stress.InvariantNoErrors,
}

func TestRunPassesEveryInvariant(t *testing.T) {
	tests := []struct {
		name   string
		change func(*stress.Workload)
		shards int
	}{
		{name: "default mix", change: func(*stress.Workload) {}},
		{name: "one shard", change: func(*stress.Workload) {}, shards: 1},
		{name: "one domain, all hot", change: func(w *stress.Workload) { w.Domains, w.HotFraction = 1, 1 }},
		{name: "write heavy", change: func(w *stress.Workload) {
			w.Mix = stress.Mix{Register: 30, Unregister: 20, RegisterPackage: 10, Select: 10, Snapshot: 10, Explain: 10, Resolve: 10}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := small()
			tt.change(&w)
			r := registry.New(registry.WithShards(tt.shards))
			rep, err := stress.Run(context.Background(), r, w)
			require.NoError(t, err)
			require.NotNil(t, rep)
			assert.False(t, rep.Canceled)
			assert.Equal(t, w.Ops, rep.Ops, "every operation of the budget runs, no more")
			var sum int64
			for _, k := range rep.Kinds {
				sum += k.Ops
				assert.Positive(t, k.Ops, k.Kind.String())
			}
			assert.Equal(t, rep.Ops, sum)
			for k := range stress.KindMarker {
				if w.Mix.Weight(k) > 0 {
					assert.True(t, hasKind(rep, k), "kind %s ran", k)
				}
			}
			require.Len(t, rep.Invariants, len(allInvariants))
			for i, name := range allInvariants {
				inv := rep.Invariants[i]
				assert.Equal(t, name, inv.Name)
				assert.Equal(t, stress.Pass, inv.Status, "%s: %s", inv.Name, inv.Detail)
				assert.Positive(t, inv.Checks, inv.Name)
			}
			assert.True(t, rep.Passed())
		})
	}
}

func hasKind(rep *stress.Report, k stress.Kind) bool {
	for _, s := range rep.Kinds {
		if s.Kind == k && s.Ops > 0 {
			return true
		}
	}
	return false
}

func TestRunSharesARegistryWithOtherDomains(t *testing.T) {
	r := registry.New()
	before, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis"})
	require.NoError(t, err)
	rep, err := stress.Run(context.Background(), r, small())
	require.NoError(t, err)
	assert.True(t, rep.Passed(), rep.String())
	got, ok := r.Resolve("adapter", "cache")
	assert.True(t, ok)
	assert.Same(t, before, got, "the harness leaves other domains alone")
}

func TestRunStopsWhenContextIsDone(t *testing.T) {
	w := small()
	w.Ops = 0
	w.Duration = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep, err := stress.Run(ctx, registry.New(), w)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.True(t, rep.Canceled)
	assert.Positive(t, rep.Ops)
	assert.True(t, rep.Passed(), rep.String())
}

func TestRunStopsAfterDuration(t *testing.T) {
	w := small()
	w.Ops = 0
	w.Duration = 150 * time.Millisecond
	rep, err := stress.Run(context.Background(), registry.New(), w)
	require.NoError(t, err)
	assert.False(t, rep.Canceled)
	assert.GreaterOrEqual(t, rep.Elapsed, w.Duration)
	assert.True(t, rep.Passed(), rep.String())
}

func TestRunReportsProgress(t *testing.T) {
	w := small()
	w.Ops = 0
	w.Duration = 300 * time.Millisecond
	var calls atomic.Int64
	var returned atomic.Bool
	var last int64
	rep, err := stress.Run(context.Background(), registry.New(), w, stress.WithProgress(20*time.Millisecond, func(p stress.Progress) {
		assert.False(t, returned.Load(), "progress called after Run returned")
		assert.GreaterOrEqual(t, p.Ops, last, "progress goes forward")
		last = p.Ops
		calls.Add(1)
	}))
	returned.Store(true)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, calls.Load(), int64(3))
	assert.LessOrEqual(t, last, rep.Ops)
	n := calls.Load()
	time.Sleep(60 * time.Millisecond)
	assert.Equal(t, n, calls.Load(), "no progress call after Run returned")
}

func TestRunTimesEveryOperationWhenAsked(t *testing.T) {
	w := small()
	w.Ops = 2_000
	rep, err := stress.Run(context.Background(), registry.New(), w, stress.WithLatencySampling(1))
	require.NoError(t, err)
	for _, k := range rep.Kinds {
		assert.Equal(t, k.Ops, k.Samples, k.Kind.String())
		assert.LessOrEqual(t, k.P50, k.P90)
		assert.LessOrEqual(t, k.P90, k.P99)
		assert.LessOrEqual(t, k.P99, k.Max)
	}
}

func TestRunWithoutMarkersSkipsCausality(t *testing.T) {
	w := small()
	w.MarkerEvery = -1
	rep, err := stress.Run(context.Background(), registry.New(), w)
	require.NoError(t, err)
	inv := invariant(t, rep, stress.InvariantSnapshotCausality)
	assert.Equal(t, stress.Skip, inv.Status)
	assert.True(t, rep.Passed(), "a skipped invariant is not a failure")
	assert.False(t, hasKind(rep, stress.KindMarker))
}

func TestRunRejectsInvalidWorkloads(t *testing.T) {
	tests := []struct {
		name   string
		change func(*stress.Workload)
	}{
		{"negative goroutines", func(w *stress.Workload) { w.Goroutines = -1 }},
		{"too many goroutines", func(w *stress.Workload) { w.Goroutines = 1 << 20 }},
		{"negative duration", func(w *stress.Workload) { w.Duration = -time.Second }},
		{"negative ops", func(w *stress.Workload) { w.Ops = -5 }},
		{"negative domains", func(w *stress.Workload) { w.Domains = -1 }},
		{"negative keys", func(w *stress.Workload) { w.Keys = -1 }},
		{"negative providers", func(w *stress.Workload) { w.Providers = -1 }},
		{"hot above 1", func(w *stress.Workload) { w.HotFraction = 1.5 }},
		{"hot below 0", func(w *stress.Workload) { w.HotFraction = -0.1 }},
		{"negative weight", func(w *stress.Workload) { w.Mix.Resolve = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := small()
			tt.change(&w)
			rep, err := stress.Run(context.Background(), registry.New(), w)
			assert.Nil(t, rep)
			assert.ErrorIs(t, err, stress.ErrInvalidWorkload)
		})
	}
}

func TestZeroWorkloadMeansDefaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rep, err := stress.Run(ctx, registry.New(), stress.Workload{})
	require.NoError(t, err)
	d := stress.DefaultWorkload()
	d.Seed, d.HotFraction = 0, 0 // zero is meaningful for these two
	assert.Equal(t, d, rep.Workload)
}

func TestParseMix(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    stress.Mix
		wantErr bool
	}{
		{name: "two kinds", in: "register=10,resolve=70", want: stress.Mix{Register: 10, Resolve: 70}},
		{name: "every kind", in: "register=1,resolve=2,explain=3,list-active=4,unregister=5,select=6,snapshot=7,register-package=8",
			want: stress.Mix{Register: 1, Resolve: 2, Explain: 3, ListActive: 4, Unregister: 5, Select: 6, Snapshot: 7, RegisterPackage: 8}},
		{name: "spaces and blanks", in: " resolve = 3 ,, explain=0 ", want: stress.Mix{Resolve: 3}},
		{name: "unknown kind", in: "resolve=1,flush=2", wantErr: true},
		{name: "marker is not a mix kind", in: "resolve=1,marker=2", wantErr: true},
		{name: "no equals sign", in: "resolve", wantErr: true},
		{name: "negative weight", in: "resolve=-1", wantErr: true},
		{name: "not a number", in: "resolve=x", wantErr: true},
		{name: "kind twice", in: "resolve=1,resolve=2", wantErr: true},
		{name: "all zero", in: "resolve=0", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := stress.ParseMix(tt.in)
			if tt.wantErr {
				assert.ErrorIs(t, err, stress.ErrInvalidWorkload)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestMixStringRoundTrips(t *testing.T) {
	m := stress.DefaultMix()
	got, err := stress.ParseMix(m.String())
	require.NoError(t, err)
	assert.Equal(t, m, got)
	assert.Equal(t, 100, m.Total())
}

func TestKindText(t *testing.T) {
	for _, k := range stress.Kinds() {
		b, err := k.MarshalText()
		require.NoError(t, err)
		var back stress.Kind
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, k, back)
	}
	_, err := stress.ParseKind("nope")
	assert.ErrorIs(t, err, stress.ErrInvalidWorkload)
}

func TestReportJSON(t *testing.T) {
	w := small()
	w.Ops = 1_000
	rep, err := stress.Run(context.Background(), registry.New(), w)
	require.NoError(t, err)
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, true, got["passed"])
	assert.EqualValues(t, 1_000, got["ops"])
	kinds := got["kinds"].([]any)
	require.NotEmpty(t, kinds)
	first := kinds[0].(map[string]any)
	assert.Equal(t, "register", first["kind"])
	for _, f := range []string{"ops", "ops_per_sec", "p50_ns", "p90_ns", "p99_ns", "max_ns"} {
		assert.Contains(t, first, f)
	}
	inv := got["invariants"].([]any)[0].(map[string]any)
	assert.Equal(t, "PASS", inv["status"])
	assert.Equal(t, stress.InvariantNoLostRegistration, inv["name"])
	assert.Equal(t, "register=10,resolve=64,explain=8,list-active=6,unregister=5,select=3,snapshot=2,register-package=2",
		w.Mix.String())
}

func TestReportString(t *testing.T) {
	rep := &stress.Report{
		Workload:        stress.DefaultWorkload(),
		Shards:          64,
		Elapsed:         2 * time.Second,
		Ops:             3_000_000,
		OpsPerSec:       1_500_000,
		LatencySampling: 8,
		Kinds: []stress.KindStats{
			{Kind: stress.KindResolve, Ops: 2_500_000, OpsPerSec: 1_250_000, P50: 87, P90: 250, P99: 1234, Max: 45_600_000},
			{Kind: stress.KindRegisterPackage, Ops: 500_000, OpsPerSec: 250_000, P50: 12_345, P90: 99_999, P99: 2_500_000, Max: 3 * time.Second},
		},
		Invariants: []stress.Invariant{
			{Name: stress.InvariantUniqueSequences, Status: stress.Pass, Checks: 12345, Detail: "all distinct"},
			{Name: stress.InvariantNoErrors, Status: stress.Fail, Checks: 10, Fails: 1, Detail: "goroutine 3 panicked: boom\nstack…"},
		},
	}
	s := rep.String()
	for _, want := range []string{
		"workload: 8 goroutines, 10s, 16 domains × 32 keys, 3 providers per goroutine, 20% on one hot domain, 64 shards, seed 1\n",
		"ran 3,000,000 ops in 2s (completed), 1,500,000 ops/s\n",
		"operation", "ops/s", "p50", "p90", "p99", "max",
		"\noperation               ops      ops/s     p50    p90     p99     max\n",
		"\nresolve           2,500,000  1,250,000    87ns  250ns  1.23µs  45.6ms\n",
		"\nregister-package    500,000    250,000  12.3µs  100µs  2.50ms   3.00s\n",
		"total             3,000,000  1,500,000",
		"1 in 8 operations timed",
		"invariant             result  checks  detail",
		"unique sequences      PASS    12,345  all distinct\n",
		"no unexpected errors  FAIL    10      goroutine 3 panicked: boom …\n",
	} {
		assert.Contains(t, s, want)
	}
	assert.NotContains(t, s, "stack…", "multi-line details are cut in the table")
	assert.False(t, rep.Passed())
	t.Log("\n" + s)
}

func TestReportStringOfARun(t *testing.T) {
	rep, err := stress.Run(context.Background(), registry.New(), small())
	require.NoError(t, err)
	s := rep.String()
	lines := strings.Split(s, "\n")
	for _, k := range rep.Kinds {
		assert.Contains(t, s, "\n"+k.Kind.String()+" ")
		assert.Positive(t, k.Samples, k.Kind.String())
	}
	for _, name := range allInvariants {
		assert.Contains(t, s, "\n"+name+" ")
	}
	assert.NotContains(t, s, "FAIL")
	assert.Greater(t, len(lines), len(rep.Kinds)+len(rep.Invariants))
}

func TestErrInvalidWorkloadIsMatchable(t *testing.T) {
	_, err := stress.ParseMix("x=1")
	var target = stress.ErrInvalidWorkload
	assert.True(t, errors.Is(err, target))
}

// TestRunStopsWhileProgressBlocks: a progress callback that blocks does not
// keep the workers running: cancelling ctx stops them while the callback is
// still blocked, and Run returns once it has returned.
func TestRunStopsWhileProgressBlocks(t *testing.T) {
	w := small()
	w.Ops = 0
	w.Duration = time.Hour
	var decisions atomic.Int64
	r := registry.New(registry.WithDecisionHook(func(registry.Decision) { decisions.Add(1) }))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	done := make(chan *stress.Report, 1)
	go func() {
		rep, err := stress.Run(ctx, r, w, stress.WithProgress(time.Millisecond, func(stress.Progress) {
			once.Do(func() { close(entered); <-release })
		}))
		assert.NoError(t, err)
		done <- rep
	}()
	<-entered
	cancel()
	// While the callback stays blocked, the registry must go quiet: no
	// winner changes for a tenth of a second. The 20 s bound is a watchdog,
	// not a timing requirement.
	quiet := false
	for until := time.Now().Add(20 * time.Second); !quiet && time.Now().Before(until); {
		n := decisions.Load()
		time.Sleep(100 * time.Millisecond)
		quiet = decisions.Load() == n
	}
	close(release)
	rep := <-done
	assert.True(t, quiet, "the workers ran on while the progress callback was blocked")
	assert.True(t, rep.Canceled)
	assert.Positive(t, decisions.Load(), "the workload changed winners")
}

// TestReportJSONOfAValue: a Report value marshals as a *Report does,
// "passed" included.
func TestReportJSONOfAValue(t *testing.T) {
	w := small()
	w.Ops = 1_000
	rep, err := stress.Run(context.Background(), registry.New(), w)
	require.NoError(t, err)
	byPointer, err := json.Marshal(rep)
	require.NoError(t, err)
	byValue, err := json.Marshal(*rep)
	require.NoError(t, err)
	assert.JSONEq(t, string(byPointer), string(byValue))
	assert.Contains(t, string(byValue), `"passed":true`)
}
