package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The manifests of package manifest's tests serve these too.
const (
	appJSON  = "../../manifest/testdata/good/app.json"
	opsJSON  = "../../manifest/testdata/good/ops.json"
	selsJSON = "../../manifest/testdata/good/selections-only.json"
	badJSON  = "../../manifest/testdata/bad/empty-key.json"
)

// cli runs "oneiric args..." in process and returns its exit status,
// stdout and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// squeezed returns the lines of s with runs of spaces made one, so that
// tests need not know column widths.
func squeezed(s string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		out = append(out, strings.Join(strings.Fields(line), " "))
	}
	return out
}

// writeManifest writes a manifest file into a temporary directory.
func writeManifest(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
	return path
}

func TestListText(t *testing.T) {
	code, out, errOut := cli(t, "list", appJSON, opsJSON)
	require.Equal(t, exitOK, code, "stderr:\n%s", errOut)
	assert.Empty(t, errOut)
	lines := squeezed(out)
	for _, want := range []string{
		"MANIFEST OWNER CANDIDATES SELECTIONS",
		appJSON + " billing 7 1",
		opsJSON + " ops.json 3 0",
		`domain "adapter"`,
		"KEY STATE PROVIDER PRIORITY STACK SEQ CAPABILITIES SOURCE OWNER WHY",
		"cache active redis 90 0 1 cluster,ttl manual billing higher priority than valkey (90 > 70)",
		"cache shadowed valkey 70 0 8 acl,cluster,ttl remote_manifest ops.json redis has higher priority (90 > 70)",
		"cache shadowed in-memory 0 0 3 ttl local_pkg billing redis has higher priority (90 > 0)",
		"queue active nats 60 0 5 cluster entry_point billing the key's selection names it",
		"queue shadowed redis-streams 80 0 4 cluster,persistence local_pkg billing the key's selection names nats",
		`domain "service"`,
		"payments active stripe 50 1 6 - remote_manifest billing same priority as adyen, higher stack level (1 > 0)",
		`domain "task"`,
		"email active sendgrid 60 0 9 templates local_pkg ops.json higher priority than smtp (60 > 0)",
		"selections",
		"adapter/queue → nats " + appJSON,
	} {
		assert.Contains(t, lines, want)
	}
	// Domains in order, each key's winner before its shadowed candidates.
	assert.Less(t, strings.Index(out, `domain "adapter"`), strings.Index(out, `domain "service"`))
	assert.Less(t, strings.Index(out, "cache  active"), strings.Index(out, "cache  shadowed"))
}

// TestListEmptyProvider: the empty provider, which the registry allows, is
// shown as "" in the table and in the reasons, as explain and resolve show
// it, not as a blank that shifts the columns; a provider that holds a quote
// or a space is quoted, so that neither reads as another.
func TestListEmptyProvider(t *testing.T) {
	path := writeManifest(t, "empty.json", `{"owner": "o", "candidates": [
		{"domain": "d", "key": "k", "provider": "", "priority": 9},
		{"domain": "d", "key": "k", "provider": "x"},
		{"domain": "d", "key": "j", "provider": "y", "priority": 9},
		{"domain": "d", "key": "j", "provider": ""},
		{"domain": "d", "key": "q", "provider": "\"\"", "priority": 9},
		{"domain": "d", "key": "q", "provider": "fast cache"}]}`)
	code, out, errOut := cli(t, "list", path)
	require.Equal(t, exitOK, code, "stderr:\n%s", errOut)
	lines := squeezed(out)
	for _, want := range []string{
		`k active "" 9 0 1 - local_pkg o higher priority than x (9 > 0)`,
		`k shadowed x 0 0 2 - local_pkg o "" has higher priority (9 > 0)`,
		`j active y 9 0 3 - local_pkg o higher priority than "" (9 > 0)`,
		`j shadowed "" 0 0 4 - local_pkg o y has higher priority (9 > 0)`,
		`q active "\"\"" 9 0 5 - local_pkg o higher priority than "fast cache" (9 > 0)`,
		`q shadowed "fast cache" 0 0 6 - local_pkg o "\"\"" has higher priority (9 > 0)`,
	} {
		assert.Contains(t, lines, want, "output:\n%s", out)
	}
}

func TestListSelectionWaiting(t *testing.T) {
	f := writeManifest(t, "ops.json", `{"selections": {"adapter": {"cache": "dragonfly"}}}`)
	code, out, errOut := cli(t, "list", appJSON, f)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, squeezed(out), "adapter/cache → dragonfly "+f+" (no candidate of that provider yet: the selection waits for one)")
	assert.Contains(t, squeezed(out), "cache active redis 90 0 1 cluster,ttl manual billing higher priority than memcached (90 > 50)",
		"a selection without its provider changes no winner")
}

func TestListEmpty(t *testing.T) {
	f := writeManifest(t, "empty.json", `{}`)
	code, out, _ := cli(t, "list", f)
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "no candidates")

	code, out, _ = cli(t, "list", "-json", f)
	require.Equal(t, exitOK, code)
	assert.JSONEq(t, `{"manifests": [{"file": "`+f+`", "owner": "empty.json", "candidates": 0, "selections": 0}], "domains": [], "selections": []}`, out)
}

func TestListJSON(t *testing.T) {
	code, out, errOut := cli(t, "list", "--json", appJSON, opsJSON)
	require.Equal(t, exitOK, code, errOut)
	var got struct {
		Manifests []struct {
			File, Owner            string
			Candidates, Selections int
		}
		Domains []struct {
			Domain           string
			Active, Shadowed []struct {
				Domain, Key, Provider, Owner, Source string
				Priority                             int
				StackLevel                           int `json:"stack_level"`
				Sequence                             uint64
				Capabilities                         []string
				Factory                              any
				Metadata                             map[string]any
			}
		}
		Selections []struct{ Domain, Key, Provider, File string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	require.Len(t, got.Manifests, 2)
	assert.Equal(t, "billing", got.Manifests[0].Owner)
	assert.Equal(t, 7, got.Manifests[0].Candidates)
	assert.Equal(t, 1, got.Manifests[0].Selections)
	require.Len(t, got.Domains, 3)
	ad := got.Domains[0]
	assert.Equal(t, "adapter", ad.Domain)
	require.Len(t, ad.Active, 2)
	redis := ad.Active[0]
	assert.Equal(t, []any{"cache", "redis", 90, uint64(1), "manual", "billing", "billing.adapters.cache:RedisCache"},
		[]any{redis.Key, redis.Provider, redis.Priority, redis.Sequence, redis.Source, redis.Owner, redis.Factory})
	assert.Equal(t, []string{"cluster", "ttl"}, redis.Capabilities)
	assert.Equal(t, map[string]any{"url": "redis://cache:6379/0"}, redis.Metadata)
	assert.Equal(t, "nats", ad.Active[1].Provider)
	var shadowed []string
	for _, e := range ad.Shadowed {
		shadowed = append(shadowed, e.Key+"/"+e.Provider)
	}
	assert.Equal(t, []string{"cache/valkey", "cache/memcached", "cache/in-memory", "queue/redis-streams"}, shadowed)
	assert.Equal(t, []struct{ Domain, Key, Provider, File string }{{"adapter", "queue", "nats", appJSON}}, got.Selections)
	assert.NotContains(t, out, "MANIFEST", "no table in JSON mode")
}

// TestManifestCommandErrors: for list, explain and resolve alike, a
// malformed or unreadable manifest and a bad command line exit with status
// 2, an error on stderr naming the file and the entry, and nothing on
// stdout.
func TestManifestCommandErrors(t *testing.T) {
	conflict := writeManifest(t, "conflict.json", `{"selections": {"adapter": {"queue": "redis-streams"}}}`)
	tests := []struct {
		name    string
		args    []string // after the command and before its arguments
		operand []string // DOMAIN KEY for explain and resolve
		files   []string
		wantErr []string
	}{
		{name: "malformed manifest", files: []string{appJSON, badJSON},
			wantErr: []string{badJSON + `:6:34: candidates[3] (adapter/""): invalid candidate: key is empty`}},
		{name: "every malformed manifest is reported", files: []string{"../../manifest/testdata/bad/syntax.json", badJSON},
			wantErr: []string{"syntax.json:3:3: invalid JSON", "empty-key.json:6:34: candidates[3]"}},
		{name: "missing file", files: []string{appJSON, "no-such.json"}, wantErr: []string{"open no-such.json: no such file or directory"}},
		{name: "conflicting selections", files: []string{appJSON, conflict},
			wantErr: []string{conflict + `:1:38: selections.adapter.queue: conflicting selections: "redis-streams" here, "nats" in ` + appJSON + ":18:39"}},
		{name: "no file", wantErr: []string{"got ", "argument"}},
		{name: "flag after the arguments", files: []string{appJSON, "-json"}, wantErr: []string{`flag "-json" after the arguments: flags come first`}},
		{name: "-- after the arguments", files: []string{appJSON, "--", "-x.json"}, wantErr: []string{`-- after the arguments: it ends the flags, so it goes before the first argument`}},
		{name: "unknown flag", args: []string{"--frobnicate"}, files: []string{appJSON}, wantErr: []string{"frobnicate"}},
	}
	for _, cmd := range []string{"list", "explain", "resolve"} {
		for _, tt := range tests {
			t.Run(cmd+"/"+tt.name, func(t *testing.T) {
				args := append([]string{cmd}, tt.args...)
				if cmd != "list" {
					args = append(args, "adapter", "cache")
				}
				code, out, errOut := cli(t, append(args, tt.files...)...)
				assert.Equal(t, exitUsage, code, "stderr:\n%s", errOut)
				assert.Empty(t, out, "nothing half-loaded is shown")
				for _, w := range tt.wantErr {
					assert.Contains(t, errOut, w)
				}
				assert.True(t, strings.HasPrefix(errOut, "oneiric "+cmd+": ") || tt.name == "unknown flag", errOut)
			})
		}
	}
}

func TestManifestCommandsFlagsBeforeArguments(t *testing.T) {
	for _, args := range [][]string{
		{"list", "-json", appJSON},
		{"list", "--json", "--", appJSON},
		{"explain", "--json", "--require", "ttl", "adapter", "cache", appJSON},
		{"resolve", "-provider", "memcached", "-json", "adapter", "cache", appJSON},
	} {
		code, out, errOut := cli(t, args...)
		require.Equal(t, exitOK, code, "%v: %s", args, errOut)
		assert.True(t, json.Valid([]byte(out)), "%v: %s", args, out)
	}
}

func TestManifestCommandsHelp(t *testing.T) {
	code, out, _ := cli(t, "help")
	require.Equal(t, exitOK, code)
	for _, c := range []string{"list", "explain", "resolve"} {
		assert.Contains(t, out, "  "+c+" ")
	}
	for _, tt := range []struct {
		cmd  string
		want []string
	}{
		{"list", []string{"Usage: oneiric list [flags] FILE...", "-json", "Flags come first"}},
		{"explain", []string{"Usage: oneiric explain [flags] DOMAIN KEY FILE...", "-json", "-provider", "-require", "-any"}},
		{"resolve", []string{"Usage: oneiric resolve [flags] DOMAIN KEY FILE...", "Exit status 1", "-require CAP", "repeat it"}},
	} {
		code, out, _ := cli(t, "help", tt.cmd)
		assert.Equal(t, exitOK, code)
		for _, w := range tt.want {
			assert.Contains(t, out, w, tt.cmd)
		}
		code, _, errOut := cli(t, tt.cmd, "-h")
		assert.Equal(t, exitOK, code)
		assert.Contains(t, errOut, "Usage: oneiric "+tt.cmd)
	}
}
