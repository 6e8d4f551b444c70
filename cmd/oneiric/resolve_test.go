package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
)

func TestResolveText(t *testing.T) {
	code, out, errOut := cli(t, "resolve", "adapter", "cache", appJSON, opsJSON)
	require.Equal(t, exitOK, code, errOut)
	assert.Empty(t, errOut)
	assert.Equal(t, []string{
		"adapter/cache: redis",
		"provider redis",
		"priority 90",
		"stack level 0",
		"sequence 1",
		"capabilities cluster, ttl",
		"source manual",
		"owner billing",
		"factory billing.adapters.cache:RedisCache",
		`metadata {"url":"redis://cache:6379/0"}`,
		"why the key's active candidate: higher priority than valkey (90 > 70)",
	}, squeezed(out))
}

func TestResolveQueries(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     string // the first line; "" when nothing qualifies
		wantErr  string
		wantWhy  string
		wantCode int
	}{
		{name: "selection", args: []string{"adapter", "queue"}, want: "adapter/queue: nats",
			wantWhy: "why the key's active candidate: the key's selection names it"},
		{name: "provider", args: []string{"--provider", "memcached", "adapter", "cache"}, want: `adapter/cache, provider "memcached": memcached`,
			wantWhy: "why the best of those that qualify; the key's active candidate is redis"},
		{name: "require all", args: []string{"--require", "ttl", "--require", "acl", "adapter", "cache"}, want: "adapter/cache, requiring ttl and acl: valkey"},
		{name: "require any", args: []string{"--require", "acl", "--require", "nope", "--any", "adapter", "cache"}, want: "adapter/cache, requiring acl or nope: valkey"},
		{name: "require, trimmed", args: []string{"--require", " acl ", "adapter", "cache"}, want: "adapter/cache, requiring acl: valkey"},
		{name: "require and provider", args: []string{"-provider", "redis", "-require", "cluster", "adapter", "cache"}, want: `adapter/cache, provider "redis", requiring cluster: redis`},
		{name: "nothing qualifies", args: []string{"--require", "persistence", "adapter", "cache"}, wantCode: exitFail,
			wantErr: "oneiric resolve: no candidate of adapter/cache qualifies, requiring persistence; its candidates: redis (cluster, ttl); valkey (acl, cluster, ttl); memcached (ttl); in-memory (ttl)\n"},
		{name: "no such provider", args: []string{"--provider", "dragonfly", "adapter", "cache"}, wantCode: exitFail,
			wantErr: `oneiric resolve: no candidate of adapter/cache qualifies, provider "dragonfly"; its candidates: redis (cluster, ttl); valkey (acl, cluster, ttl); memcached (ttl); in-memory (ttl)` + "\n"},
		{name: "no such key", args: []string{"task", "sms"}, wantCode: exitFail,
			wantErr: "oneiric resolve: no candidates for task/sms; the keys of task are email\n"},
		{name: "no such domain", args: []string{"tenant", "db"}, wantCode: exitFail,
			wantErr: `oneiric resolve: no candidates in domain "tenant"; the manifests have the domains adapter, service, task` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, append(append([]string{"resolve"}, tt.args...), appJSON, opsJSON)...)
			assert.Equal(t, tt.wantCode, code, "stderr:\n%s", errOut)
			if tt.want == "" {
				assert.Empty(t, out)
				assert.Equal(t, tt.wantErr, errOut)
				return
			}
			assert.Empty(t, errOut)
			lines := squeezed(out)
			assert.Equal(t, tt.want, lines[0])
			if tt.wantWhy != "" {
				assert.Equal(t, tt.wantWhy, lines[len(lines)-1])
			}
		})
	}
}

// TestResolveJSON: the winner --json prints is the entry the registry
// resolves to, and null with exit status 1 when none qualifies.
func TestResolveJSON(t *testing.T) {
	r := loadForTest(t, appJSON, opsJSON)
	tests := []struct {
		name string
		args []string
		opts []registry.ResolveOption
	}{
		{name: "plain"},
		{name: "provider", args: []string{"--provider", "in-memory"}, opts: []registry.ResolveOption{registry.Provider("in-memory")}},
		{name: "require", args: []string{"--require", "acl"}, opts: []registry.ResolveOption{registry.Require("acl")}},
		{name: "require any", args: []string{"--any", "--require", "acl", "--require", "ttl"}, opts: []registry.ResolveOption{registry.RequireAny("acl", "ttl")}},
		{name: "none", args: []string{"--require", "persistence"}, opts: []registry.ResolveOption{registry.Require("persistence")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"resolve", "--json"}, tt.args...), "adapter", "cache", appJSON, opsJSON)
			code, out, errOut := cli(t, args...)
			var got struct {
				Domain, Key string
				Query       struct {
					Provider string
					Require  []string
					Any      bool
				}
				Winner *struct {
					Provider, Owner, Source string
					Sequence                uint64
					Capabilities            []string
					Metadata                map[string]any
				}
			}
			require.NoError(t, json.Unmarshal([]byte(out), &got), out)
			assert.Equal(t, "adapter", got.Domain)
			assert.Equal(t, "cache", got.Key)
			want, ok := r.Resolve("adapter", "cache", tt.opts...)
			if !ok {
				assert.Equal(t, exitFail, code)
				assert.Nil(t, got.Winner)
				assert.Contains(t, errOut, "no candidate of adapter/cache qualifies")
				return
			}
			require.Equal(t, exitOK, code, errOut)
			require.NotNil(t, got.Winner)
			assert.Equal(t, want.Provider(), got.Winner.Provider)
			assert.Equal(t, want.Sequence(), got.Winner.Sequence)
			assert.Equal(t, want.Owner(), got.Winner.Owner)
			assert.Equal(t, want.Source().String(), got.Winner.Source)
			assert.Equal(t, want.Capabilities(), got.Winner.Capabilities)
		})
	}
}

func TestResolveEmptyProvider(t *testing.T) {
	f := writeManifest(t, "anon.json", `{"candidates": [{"domain": "adapter", "key": "cache", "provider": ""}]}`)
	code, out, _ := cli(t, "resolve", "adapter", "cache", f)
	require.Equal(t, exitOK, code)
	assert.Equal(t, `adapter/cache: ""`, squeezed(out)[0])
}

func TestResolveUsage(t *testing.T) {
	for _, args := range [][]string{
		{"resolve", "--any", "adapter", "cache", appJSON},
		{"resolve", "adapter", "cache"},
		{"resolve", "adapter", "cache", appJSON, "--provider", "redis"},
		{"resolve", "--require"},
	} {
		code, out, errOut := cli(t, args...)
		assert.Equal(t, exitUsage, code, "%q: %s", args, errOut)
		assert.Empty(t, out)
	}
}

// TestResolveRefusesAnEmptyCapability: --require "" is bad usage, not a
// requirement the registry would drop while the output still showed it.
func TestResolveRefusesAnEmptyCapability(t *testing.T) {
	for _, cmd := range []string{"resolve", "explain"} {
		code, out, errOut := cli(t, cmd, "--require", " ", "adapter", "cache", appJSON)
		assert.Equal(t, exitUsage, code, cmd)
		assert.Empty(t, out)
		assert.Contains(t, errOut, `invalid value " " for flag -require: an empty capability`, cmd)
	}
}
