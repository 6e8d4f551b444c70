package stress_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/explain"
	"github.com/oneiric-go/oneiric/registry"
	"github.com/oneiric-go/oneiric/stress"
)

func TestCheckSequences(t *testing.T) {
	tests := []struct {
		name    string
		seqs    []uint64
		wantErr string
	}{
		{name: "empty", seqs: nil},
		{name: "distinct, any order", seqs: []uint64{3, 1, 2, 10}},
		{name: "duplicate", seqs: []uint64{4, 1, 2, 4, 3}, wantErr: "sequence number 4 handed out more than once"},
		{name: "zero", seqs: []uint64{1, 0}, wantErr: "sequence number 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := stress.CheckSequences(tt.seqs)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// A fabricated duplicate sequence must turn the invariant, and with it the
// report, into FAIL.
func TestSequencesInvariantFailsOnADuplicate(t *testing.T) {
	ok := stress.SequencesInvariant([]uint64{1, 2, 3})
	assert.Equal(t, stress.Pass, ok.Status, ok.Detail)

	bad := stress.SequencesInvariant([]uint64{5, 6, 7, 6})
	assert.Equal(t, stress.InvariantUniqueSequences, bad.Name)
	assert.Equal(t, stress.Fail, bad.Status)
	assert.EqualValues(t, 1, bad.Fails)
	assert.Contains(t, bad.Detail, "sequence number 6 handed out more than once")

	rep := &stress.Report{Invariants: []stress.Invariant{ok, bad}}
	assert.False(t, rep.Passed())
	assert.Regexp(t, `unique sequences\s+FAIL`, rep.String())

	none := stress.SequencesInvariant(nil)
	assert.Equal(t, stress.Skip, none.Status)
}

// ranked returns the explanation of a key with three candidates of different
// priorities: c (90), b (50), a (10).
func ranked(t *testing.T) *explain.Explanation {
	t.Helper()
	r := registry.New()
	for _, c := range []struct {
		p    string
		prio int
	}{{"a", 10}, {"b", 50}, {"c", 90}} {
		_, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: c.p, Priority: new(c.prio)})
		require.NoError(t, err)
	}
	x := r.Explain("adapter", "cache")
	require.Len(t, x.Ordered, 3)
	return x
}

func TestCheckRanking(t *testing.T) {
	tests := []struct {
		name    string
		break_  func(x *explain.Explanation)
		wantErr string
	}{
		{name: "as the registry gives it", break_: func(*explain.Explanation) {}},
		{name: "empty", break_: func(x *explain.Explanation) { x.Ordered = nil }},
		{name: "out of order", break_: func(x *explain.Explanation) {
			x.Ordered[1], x.Ordered[2] = x.Ordered[2], x.Ordered[1]
		}, wantErr: "is not below"},
		{name: "winner not first", break_: func(x *explain.Explanation) {
			x.Ordered[0].Selected, x.Ordered[1].Selected = false, true
		}, wantErr: "Selected"},
		{name: "nothing selected", break_: func(x *explain.Explanation) { x.Ordered[0].Selected = false }, wantErr: "Selected=false"},
		{name: "score does not match entry", break_: func(x *explain.Explanation) { x.Ordered[1].Score.Priority = 99 }, wantErr: "does not match"},
		{name: "entry of another key", break_: func(x *explain.Explanation) { x.Key = "queue" }, wantErr: "holds an entry of adapter/cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := ranked(t)
			tt.break_(x)
			err := stress.CheckRanking(x)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
	assert.Error(t, stress.CheckRanking(nil))
}

func TestCheckCausality(t *testing.T) {
	tests := []struct {
		name      string
		inA, inB  []string
		wantN     int
		wantError bool
	}{
		{name: "no markers", wantN: 0},
		{name: "A only: a write in progress", inA: []string{"m1"}, wantN: 0},
		{name: "A and B", inA: []string{"m1", "m2"}, inB: []string{"m1"}, wantN: 1},
		{name: "B without A", inA: []string{"m1"}, inB: []string{"m1", "m2"}, wantN: 2, wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			for _, p := range tt.inA {
				_, err := r.Register(registry.Candidate{Domain: "a", Key: "marker", Provider: p})
				require.NoError(t, err)
			}
			for _, p := range tt.inB {
				_, err := r.Register(registry.Candidate{Domain: "b", Key: "marker", Provider: p})
				require.NoError(t, err)
			}
			n, err := stress.CheckCausality(r.Snapshot("b", "a"),
				stress.Address{Domain: "a", Key: "marker"}, stress.Address{Domain: "b", Key: "marker"})
			assert.Equal(t, tt.wantN, n)
			if tt.wantError {
				assert.ErrorContains(t, err, `marker "m2"`)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var vs []time.Duration
	for i := 1; i <= 1000; i++ {
		vs = append(vs, time.Duration(i)*time.Microsecond)
	}
	got := stress.Quantiles(vs, 0.5, 0.9, 0.99, 1)
	for i, want := range []time.Duration{500 * time.Microsecond, 900 * time.Microsecond, 990 * time.Microsecond, time.Millisecond} {
		assert.GreaterOrEqual(t, got[i], want, "upper bound of the bucket")
		assert.LessOrEqual(t, float64(got[i]), float64(want)*1.125, "within 12.5%%")
	}
	assert.Equal(t, []time.Duration{0}, stress.Quantiles(nil, 0.5), "empty")
	assert.Equal(t, []time.Duration{7}, stress.Quantiles([]time.Duration{7}, 0.99), "small values are exact")

	// Nearest rank: the smallest value with at least the fraction q at or
	// below it, so never below the stated quantile.
	upTo := func(n int) []time.Duration {
		vs := make([]time.Duration, n)
		for i := range vs {
			vs[i] = time.Duration(i + 1)
		}
		return vs
	}
	assert.Equal(t, []time.Duration{8, 15, 16}, stress.Quantiles(upTo(16), 0.5, 0.9, 0.99), "16 values")
	assert.Equal(t, []time.Duration{time.Duration(stress.BucketUpper(30)), time.Duration(stress.BucketUpper(54)), 60},
		stress.Quantiles(upTo(60), 0.5, 0.9, 0.99), "60 values, in buckets")
}

func TestHistogramBuckets(t *testing.T) {
	prev := uint64(0)
	for _, v := range []uint64{0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 1 << 20, 1<<40 + 12345, 1<<63 - 1, 1 << 63, ^uint64(0)} {
		up := stress.BucketUpper(v)
		assert.GreaterOrEqual(t, up, v, "v=%d", v)
		assert.GreaterOrEqual(t, up, prev, "bounds increase")
		if v >= 8 {
			assert.LessOrEqual(t, float64(up-v), float64(v)/8, "v=%d", v)
		}
		prev = up
	}
}
