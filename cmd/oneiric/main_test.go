package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/oneiric-go/oneiric/stress"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// oneiric runs the command line args and returns its exit status, stdout and
// stderr.
func oneiric(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{name: "no arguments", args: nil, wantOut: []string{"Usage:", "demo", "stress", "help"}},
		{name: "help", args: []string{"help"}, wantOut: []string{"Usage:", "demo", "stress"}},
		{name: "-h", args: []string{"-h"}, wantOut: []string{"Usage:"}},
		{name: "help stress", args: []string{"help", "stress"}, wantOut: []string{
			"Usage: oneiric stress", "-goroutines", "-duration", "-ops", "-domains", "-keys", "-hot", "-mix",
			"-shards", "-seed", "-json", "register-package"}},
		{name: "help demo", args: []string{"help", "demo"}, wantOut: []string{"Usage: oneiric demo", "-duration"}},
		{name: "help help", args: []string{"help", "help"}, wantOut: []string{"Usage:"}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: exitUsage, wantErr: []string{`unknown command "frobnicate"`, "Usage:"}},
		{name: "help unknown", args: []string{"help", "frobnicate"}, wantCode: exitUsage, wantErr: []string{`unknown command "frobnicate"`}},
		{name: "stress bad flag", args: []string{"stress", "-nope"}, wantCode: exitUsage, wantErr: []string{"-nope"}},
		{name: "stress bad mix", args: []string{"stress", "-mix", "flush=1"}, wantCode: exitUsage, wantErr: []string{"-mix", "flush"}},
		{name: "stress bad hot", args: []string{"stress", "-hot", "2", "-ops", "10"}, wantCode: exitUsage, wantErr: []string{"hot fraction"}},
		{name: "stress zero goroutines", args: []string{"stress", "-goroutines", "0"}, wantCode: exitUsage, wantErr: []string{"must be positive"}},
		{name: "stress zero duration", args: []string{"stress", "-duration", "0"}, wantCode: exitUsage, wantErr: []string{"-duration must be positive"}},
		{name: "stress negative duration with ops", args: []string{"stress", "-ops", "10", "-duration", "-1s"}, wantCode: exitUsage, wantErr: []string{"-duration must not be negative"}},
		{name: "stress negative ops", args: []string{"stress", "-ops", "-5"}, wantCode: exitUsage, wantErr: []string{"-ops must not be negative"}},
		{name: "stress zero sample", args: []string{"stress", "-ops", "10", "-sample", "0"}, wantCode: exitUsage, wantErr: []string{"-sample must be at least 1"}},
		{name: "stress negative shards", args: []string{"stress", "-ops", "10", "-shards", "-5"}, wantCode: exitUsage, wantErr: []string{"-shards must not be negative"}},
		{name: "stress extra argument", args: []string{"stress", "now"}, wantCode: exitUsage, wantErr: []string{`unexpected argument "now"`}},
		{name: "demo zero duration", args: []string{"demo", "-duration", "0s"}, wantCode: exitUsage, wantErr: []string{"must be positive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := oneiric(t, context.Background(), tt.args...)
			assert.Equal(t, tt.wantCode, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			for _, w := range tt.wantOut {
				assert.Contains(t, out, w)
			}
			for _, w := range tt.wantErr {
				assert.Contains(t, errOut, w)
			}
		})
	}
}

func TestStressText(t *testing.T) {
	code, out, errOut := oneiric(t, context.Background(), "stress", "-ops", "3000", "-goroutines", "3", "-domains", "4", "-keys", "8")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	for _, w := range []string{
		"workload: 3 goroutines, 3,000 ops, 4 domains × 8 keys",
		"operation", "ops/s", "p50", "p99", "resolve", "total",
		"invariant", stress.InvariantNoLostRegistration, stress.InvariantSnapshotCausality,
		"PASS: every invariant held",
	} {
		assert.Contains(t, out, w)
	}
	assert.NotContains(t, out, "\r", "no in-place progress when stdout is not a terminal")
	assert.NotContains(t, out, "FAIL")
}

func TestStressJSON(t *testing.T) {
	code, out, errOut := oneiric(t, context.Background(), "stress", "-json", "-ops", "2000", "-goroutines", "2",
		"-mix", "register=20,resolve=50,snapshot=10,unregister=20", "-shards", "4", "-seed", "7")
	require.Equal(t, exitOK, code, "stderr:\n%s", errOut)
	var rep struct {
		Passed   bool `json:"passed"`
		Ops      int64
		Shards   int
		Workload struct {
			Seed uint64
			Mix  map[string]int
		}
		Kinds []struct {
			Kind string
			Ops  int64
		}
		Invariants []struct {
			Name, Status string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.True(t, rep.Passed)
	assert.EqualValues(t, 2000, rep.Ops)
	assert.Equal(t, 4, rep.Shards)
	assert.EqualValues(t, 7, rep.Workload.Seed)
	assert.Equal(t, 0, rep.Workload.Mix["explain"])
	assert.Equal(t, 20, rep.Workload.Mix["register"])
	for _, k := range rep.Kinds {
		assert.Contains(t, []string{"register", "resolve", "snapshot", "unregister", "marker"}, k.Kind)
	}
	require.Len(t, rep.Invariants, 5)
	for _, inv := range rep.Invariants {
		assert.Equal(t, "PASS", inv.Status, inv.Name)
	}
}

func TestStressInterrupted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	code, out, _ := oneiric(t, ctx, "stress", "-duration", "1h", "-goroutines", "2")
	assert.Equal(t, exitInterrupted, code)
	assert.Contains(t, out, "(canceled)")
	assert.Contains(t, out, "interrupted: every invariant checked so far held")
}

func TestDemo(t *testing.T) {
	code, out, errOut := oneiric(t, context.Background(), "demo", "-duration", "200ms", "-goroutines", "2")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	for _, w := range []string{
		"1. Registering a sample application",
		`priority 76`,
		"moves the winner from ldap to oauth",
		"2. Active and shadowed candidates, per domain",
		`domain "adapter"`, `domain "service"`, `domain "task"`,
		"higher priority than memcached (90 > 76)",
		"the key's selection names it",
		"same priority as s3, higher stack level (1 > 0)",
		"ties with stripe, registered later",
		"only candidate",
		"3. Why adapter/cache resolves the way it does: Explain",
		"adapter/cache: winner redis",
		`Require("persistence"))  →  redis-streams`,
		"no candidate qualifies",
		"4. Concurrent readers and writers",
		"ops/s",
		stress.InvariantWinnerIsBest,
		"adapter/cache still resolves to the same redis entry",
		"PASS: every invariant held",
	} {
		assert.Contains(t, out, w)
	}
	assert.NotContains(t, out, "FAIL")
}

func TestProgressLinesWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	w := stress.DefaultWorkload()
	p := newProgress(&buf, w)
	for i := 1; i <= 12; i++ {
		p.update(stress.Progress{Elapsed: time.Duration(i) * 199 * time.Millisecond, Ops: int64(i) * 1000, OpsPerSec: 5000})
	}
	p.finish()
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	require.Len(t, lines, 2, buf.String())
	assert.Equal(t, "running: 1.2s of 10s, 6,000 ops, 5,000 ops/s", lines[0])
	assert.Equal(t, "running: 2.2s of 10s, 11,000 ops, 5,000 ops/s", lines[1])
	assert.True(t, strings.HasSuffix(buf.String(), "\n\n"), "a blank line before the report")
	assert.NotContains(t, buf.String(), "\r")
}

func TestGroup(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		assert.Equal(t, want, group(in))
	}
}
