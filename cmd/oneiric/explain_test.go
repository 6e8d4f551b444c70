package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/manifest"
	"github.com/oneiric-go/oneiric/registry"
)

// loadForTest loads the files as the commands do, for comparisons.
func loadForTest(t *testing.T, files ...string) *registry.Registry {
	t.Helper()
	r := registry.New(registry.WithStackOrder(""))
	var ms []*manifest.Manifest
	for _, f := range files {
		m, err := manifest.ParseFile(f)
		require.NoError(t, err)
		ms = append(ms, m)
	}
	require.NoError(t, manifest.Load(r, ms...))
	return r
}

func TestExplainText(t *testing.T) {
	code, out, errOut := cli(t, "explain", "adapter", "cache", appJSON, opsJSON)
	require.Equal(t, exitOK, code, errOut)
	assert.Empty(t, errOut)
	assert.Equal(t, `adapter/cache: winner redis
RANK  PROVIDER   SCORE (o,c,p,s,seq)  REASONS
*1    redis      (0,0,90,0,1)         priority=90; stack_level=0; registration_order=1
 2    valkey     (0,0,70,0,8)         priority=70; stack_level=0; registration_order=8
 3    memcached  (0,0,50,0,2)         priority=50; stack_level=0; registration_order=2
 4    in-memory  (0,0,0,0,3)          priority=0; stack_level=0; registration_order=3
(score = override, capabilities matched, priority, stack level, sequence; * marks the winner)
`, out)
}

func TestExplainSelection(t *testing.T) {
	code, out, _ := cli(t, "explain", "adapter", "queue", appJSON)
	require.Equal(t, exitOK, code)
	assert.Contains(t, squeezed(out), "*1 nats (1,0,60,0,5) matched selection override nats; priority=60; stack_level=0; registration_order=5")
	assert.Contains(t, squeezed(out), "2 redis-streams (0,0,80,0,4) selection override prefers nats; priority=80; stack_level=0; registration_order=4")
}

// TestExplainJSON: --json prints exactly the registry's JSON form of the
// explanation, for every query.
func TestExplainJSON(t *testing.T) {
	r := loadForTest(t, appJSON, opsJSON)
	tests := []struct {
		name string
		args []string
		opts []registry.ResolveOption
	}{
		{name: "plain"},
		{name: "require", args: []string{"--require", "ttl", "--require", "cluster"}, opts: []registry.ResolveOption{registry.Require("ttl", "cluster")}},
		{name: "require any", args: []string{"--any", "--require", "acl", "--require", "ttl"}, opts: []registry.ResolveOption{registry.RequireAny("acl", "ttl")}},
		{name: "provider", args: []string{"--provider", "memcached"}, opts: []registry.ResolveOption{registry.Provider("memcached")}},
		{name: "nothing qualifies", args: []string{"--require", "persistence"}, opts: []registry.ResolveOption{registry.Require("persistence")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"explain", "-json"}, tt.args...), "adapter", "cache", appJSON, opsJSON)
			code, out, _ := cli(t, args...)
			require.Equal(t, exitOK, code)
			want, err := json.Marshal(r.Explain("adapter", "cache", tt.opts...))
			require.NoError(t, err)
			assert.JSONEq(t, string(want), out)
		})
	}
}

func TestExplainNothingQualifies(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown key", []string{"adapter", "storage"}, "oneiric explain: no candidates for adapter/storage; the keys of adapter are cache, queue\n"},
		{"unknown domain", []string{"tenant", "db"}, `oneiric explain: no candidates in domain "tenant"; the manifests have the domains adapter, service` + "\n"},
		{"requirement", []string{"--require", "acl", "adapter", "cache"},
			"oneiric explain: no candidate of adapter/cache qualifies, requiring acl; its candidates: redis (cluster, ttl); memcached (ttl); in-memory (ttl)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, append(append([]string{"explain"}, tt.args...), appJSON)...)
			assert.Equal(t, exitOK, code, "an explanation of nothing is still an explanation")
			assert.Contains(t, out, "no qualifying candidate")
			assert.Equal(t, tt.wantErr, errOut)
		})
	}
}

func TestExplainBadQuery(t *testing.T) {
	for _, args := range [][]string{
		{"explain", "--any", "adapter", "cache", appJSON},
		{"explain", "adapter", "", appJSON},
		{"explain", "", "cache", appJSON},
		{"explain", "--provider", "a\x01b", "adapter", "cache", appJSON},
	} {
		code, out, errOut := cli(t, args...)
		assert.Equal(t, exitUsage, code, "%q", args)
		assert.Empty(t, out)
		assert.Contains(t, errOut, "oneiric explain: ")
	}
}
