package manifest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/manifest"
	"github.com/oneiric-go/oneiric/registry"
)

func TestParseGood(t *testing.T) {
	tests := []struct {
		file       string
		owner      string
		candidates int
		check      func(t *testing.T, m *manifest.Manifest)
	}{
		{file: "app.json", owner: "billing", candidates: 7, check: func(t *testing.T, m *manifest.Manifest) {
			redis := m.Candidates[0]
			assert.Equal(t, registry.Candidate{
				Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(90),
				Capabilities: []string{"ttl", "cluster"}, Metadata: map[string]any{"url": "redis://cache:6379/0"},
				Source: registry.SourceManual, Factory: "billing.adapters.cache:RedisCache",
			}, redis)
			assert.Nil(t, m.Candidates[2].Priority, "no priority: the registry's default")
			assert.Nil(t, m.Candidates[2].Factory, "no factory: nil, not an empty string")
			assert.Equal(t, registry.SourceLocalPkg, m.Candidates[2].Source, "no source: the zero value")
			assert.Equal(t, 1, m.Candidates[5].StackLevel)
			assert.Equal(t, registry.SourceRemoteManifest, m.Candidates[5].Source)
			assert.Equal(t, map[string]map[string]string{"adapter": {"queue": "nats"}}, m.Selections)
		}},
		{file: "ops.json", owner: "ops.json", candidates: 3, check: func(t *testing.T, m *manifest.Manifest) {
			meta := m.Candidates[0].Metadata
			assert.Equal(t, map[string]any{"size": 16.0, "timeout_ms": 250.5}, meta["pool"], "numbers are float64")
			assert.Equal(t, []any{"eu-west-1", "us-east-1"}, meta["regions"])
			assert.Equal(t, true, meta["tls"])
			assert.Contains(t, meta, "comment", "a null inside metadata is kept")
			assert.Nil(t, meta["comment"])
			assert.Nil(t, m.Selections)
		}},
		{file: "minimal.json", owner: "minimal.json", candidates: 1, check: func(t *testing.T, m *manifest.Manifest) {
			assert.Equal(t, registry.Candidate{Domain: "adapter", Key: "cache"}, m.Candidates[0])
		}},
		{file: "empty.json", owner: "empty.json", candidates: 0},
		{file: "nulls.json", owner: "nulls.json", candidates: 1, check: func(t *testing.T, m *manifest.Manifest) {
			assert.Equal(t, registry.Candidate{Domain: "service", Key: "auth", Provider: "oauth"}, m.Candidates[0],
				"null is the same as absent")
			assert.Nil(t, m.Selections)
		}},
		{file: "explicit.json", owner: "tenant-acme", candidates: 3, check: func(t *testing.T, m *manifest.Manifest) {
			pg := m.Candidates[0]
			require.NotNil(t, pg.Priority)
			assert.Equal(t, 0, *pg.Priority, "an explicit 0 stays 0")
			assert.Equal(t, -1, pg.StackLevel)
			assert.Nil(t, pg.Capabilities, "an empty list is nil")
			assert.Nil(t, pg.Metadata, "an empty object is nil")
			assert.Equal(t, "", m.Candidates[1].Provider, "an empty provider is allowed")
			assert.Equal(t, 9007199254740993, *m.Candidates[2].Priority, "integers are exact, not float64")
		}},
		{file: "selections-only.json", owner: "operator", candidates: 0, check: func(t *testing.T, m *manifest.Manifest) {
			assert.Equal(t, map[string]map[string]string{"adapter": {"cache": "memcached", "queue": "redis-streams"}}, m.Selections)
		}},
	}
	files, err := filepath.Glob("testdata/good/*.json")
	require.NoError(t, err)
	require.Len(t, files, len(tests), "every good file has a case")
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "good", tt.file)
			m, err := manifest.ParseFile(path)
			require.NoError(t, err)
			assert.Equal(t, path, m.File)
			assert.Equal(t, tt.owner, m.Owner)
			assert.Len(t, m.Candidates, tt.candidates)
			assert.NoError(t, m.Validate())
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		file         string
		line, column int
		entry        string
		msg          string // the cause, after the entry
		is           error
	}{
		{"empty-file.json", 0, 0, "", "the file is empty; a manifest is a JSON object", manifest.ErrMalformed},
		{"syntax.json", 3, 3, "", `invalid JSON: invalid character '"' after object key:value pair`, manifest.ErrMalformed},
		{"trailing.json", 2, 1, "", "invalid JSON: invalid character '{' after top-level value", manifest.ErrMalformed},
		{"truncated.json", 4, 1, "", "invalid JSON: unexpected end of JSON input", manifest.ErrMalformed},
		{"array.json", 1, 1, "", "a manifest is a JSON object, not an array", manifest.ErrMalformed},
		{"unknown-top.json", 1, 16, "", `unknown field "candiates" (did you mean "candidates"?); the fields of a manifest are owner, candidates, selections`, manifest.ErrMalformed},
		{"unknown-field.json", 4, 68, "candidates[1] (adapter/cache)", `unknown field "prioirty" (did you mean "priority"?); the fields of a candidate are domain, key, provider, priority, stack_level, capabilities, metadata, source, factory`, manifest.ErrMalformed},
		{"duplicate-field.json", 1, 76, "candidates[0] (adapter/cache)", `field "provider" appears twice`, manifest.ErrMalformed},
		{"metadata-duplicate.json", 3, 76, "candidates[0] (adapter/cache)", `field "size" appears twice in metadata.pool`, manifest.ErrMalformed},
		{"empty-key.json", 6, 34, `candidates[3] (adapter/"")`, "invalid candidate: key is empty", registry.ErrInvalidCandidate},
		{"missing-domain.json", 3, 5, `candidates[0] (""/cache)`, "invalid candidate: domain is empty", registry.ErrInvalidCandidate},
		{"long-key.json", 1, 46, "candidates[0] (adapter/kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk…)", "invalid candidate: key is 257 bytes long, over the limit of 256", registry.ErrInvalidCandidate},
		{"control-char.json", 3, 55, "candidates[0] (adapter/cache)", `invalid candidate: provider "red\ais" contains the control character U+0007`, registry.ErrInvalidCandidate},
		{"bad-source.json", 3, 74, "candidates[0] (adapter/cache)", `invalid candidate: unknown source "pypi" (want local_pkg, remote_manifest, entry_point or manual)`, registry.ErrInvalidCandidate},
		{"deep-metadata.json", 3, 16, "candidates[0] (adapter/cache)", "invalid candidate: metadata is nested deeper than 32 levels", registry.ErrInvalidCandidate},
		{"factory-empty.json", 1, 66, "candidates[0] (adapter/cache)", "invalid candidate: factory is empty; leave it out when there is none", registry.ErrInvalidCandidate},
		{"factory-number.json", 1, 66, "candidates[0] (adapter/cache)", "factory: want a string, got the number 42", manifest.ErrMalformed},
		{"priority-string.json", 3, 76, "candidates[0] (adapter/cache)", `priority: want an integer, got the string "high"`, manifest.ErrMalformed},
		{"priority-fraction.json", 3, 76, "candidates[0] (adapter/cache)", "priority: want an integer (no fraction, no exponent), got the number 1.5", manifest.ErrMalformed},
		{"priority-overflow.json", 1, 67, "candidates[0] (adapter/cache)", "priority: 100000000000000000000 is out of the range of an int", manifest.ErrMalformed},
		{"capabilities-mixed.json", 1, 79, "candidates[0] (adapter/cache)", "capabilities[1]: want a string, got the number 7", manifest.ErrMalformed},
		{"metadata-array.json", 1, 67, "candidates[0] (adapter/cache)", "metadata: want an object, got an array", manifest.ErrMalformed},
		{"candidate-string.json", 1, 56, "candidates[1]", `want a candidate (an object), got the string "adapter/queue"`, manifest.ErrMalformed},
		{"candidates-object.json", 1, 16, "", "candidates: want an array of candidates, got an object", manifest.ErrMalformed},
		{"owner-empty.json", 1, 11, "owner", "invalid candidate: owner is empty", registry.ErrInvalidCandidate},
		{"owner-number.json", 1, 11, "owner", "want a string, got the number 7", manifest.ErrMalformed},
		{"selection-empty-provider.json", 3, 44, "selections.adapter.queue", "invalid candidate: the selection names no provider", registry.ErrInvalidCandidate},
		{"selection-not-string.json", 1, 38, "selections.adapter.cache", "want a provider (a string), got an array", manifest.ErrMalformed},
		{"selection-flat.json", 1, 28, "selections.adapter", `want an object of keys and providers, got the string "redis"`, manifest.ErrMalformed},
	}
	files, err := filepath.Glob("testdata/bad/*.json")
	require.NoError(t, err)
	require.Len(t, files, len(tests), "every bad file has a case")
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tt.file)
			m, err := manifest.ParseFile(path)
			require.Error(t, err)
			assert.Nil(t, m)
			var me *manifest.Error
			require.ErrorAs(t, err, &me)
			assert.Equal(t, path, me.File, "the error names the file")
			assert.Equal(t, tt.line, me.Line, "line")
			assert.Equal(t, tt.column, me.Column, "column")
			assert.Equal(t, tt.entry, me.Entry, "entry")
			assert.Equal(t, tt.msg, me.Err.Error())
			assert.ErrorIs(t, err, tt.is)
			other := map[error]error{manifest.ErrMalformed: registry.ErrInvalidCandidate, registry.ErrInvalidCandidate: manifest.ErrMalformed}[tt.is]
			assert.NotErrorIs(t, err, other, "a problem is either malformed or invalid, not both")

			want := path
			if tt.line > 0 {
				want += ":" + itoa(tt.line) + ":" + itoa(tt.column)
			}
			want += ": "
			if tt.entry != "" {
				want += tt.entry + ": "
			}
			assert.Equal(t, want+tt.msg, err.Error())
		})
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func TestParseSyntaxErrorUnwrapsToJSON(t *testing.T) {
	_, err := manifest.Parse("x.json", []byte(`{"owner": }`))
	var se *json.SyntaxError
	require.ErrorAs(t, err, &se)
	assert.EqualValues(t, 11, se.Offset)
	assert.Equal(t, `x.json:1:11: invalid JSON: invalid character '}' looking for beginning of value`, err.Error())
}

func TestParseColumnsCountCharacters(t *testing.T) {
	data := "{\"candidates\": [{\"domain\": \"café\", \"key\": \"\"}]}"
	_, err := manifest.Parse("é.json", []byte(data))
	var me *manifest.Error
	require.ErrorAs(t, err, &me)
	assert.Equal(t, 1, me.Line)
	assert.Equal(t, 43, me.Column, "é is one column, though two bytes (the byte column is 44)")
	assert.Equal(t, "candidates[0] (café/\"\")", me.Entry)
}

func TestParseOwner(t *testing.T) {
	tests := []struct {
		name, file, data, owner string
		wantErr                 bool
	}{
		{name: "explicit", file: "conf/a.json", data: `{"owner": "billing"}`, owner: "billing"},
		{name: "base name of the file", file: "conf/tenants/acme.json", data: `{}`, owner: "acme.json"},
		{name: "null is absent", file: "conf/b.json", data: `{"owner": null}`, owner: "b.json"},
		{name: "no file, no owner", file: "", data: `{}`, wantErr: true},
		{name: "explicit empty", file: "c.json", data: `{"owner": ""}`, wantErr: true},
		{name: "control character", file: "c.json", data: `{"owner": "a\nb"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := manifest.Parse(tt.file, []byte(tt.data))
			if tt.wantErr {
				require.ErrorIs(t, err, registry.ErrInvalidCandidate)
				var me *manifest.Error
				require.ErrorAs(t, err, &me)
				assert.Equal(t, "owner", me.Entry)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.owner, m.Owner)
		})
	}
}

// TestRoundTrip: every good manifest marshals to JSON that parses back to an
// equal manifest, and marshals again to the same bytes.
func TestRoundTrip(t *testing.T) {
	files, err := filepath.Glob("testdata/good/*.json")
	require.NoError(t, err)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			m, err := manifest.ParseFile(f)
			require.NoError(t, err)
			b, err := json.MarshalIndent(m, "", "  ")
			require.NoError(t, err)
			back, err := manifest.Parse("elsewhere.json", b)
			require.NoError(t, err, "%s", b)
			assert.Equal(t, m.Owner, back.Owner, "the owner is written, so the new file name does not change it")
			assert.Equal(t, m.Candidates, back.Candidates)
			assert.Equal(t, m.Selections, back.Selections)
			again, err := json.MarshalIndent(back, "", "  ")
			require.NoError(t, err)
			assert.Equal(t, string(b), string(again))
		})
	}
}

// TestMarshalValueAndPointerAlike: a Manifest value marshals in the manifest
// format, as a *Manifest does, not as a Go struct.
func TestMarshalValueAndPointerAlike(t *testing.T) {
	m := &manifest.Manifest{Owner: "o", Candidates: []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(10), Factory: "pkg:New"}}}
	byPointer, err := json.Marshal(m)
	require.NoError(t, err)
	byValue, err := json.Marshal(*m)
	require.NoError(t, err)
	assert.JSONEq(t, string(byPointer), string(byValue))
	assert.JSONEq(t, `{"owner": "o", "candidates": [{"domain": "adapter", "key": "cache", "provider": "redis",
		"priority": 10, "source": "local_pkg", "factory": "pkg:New"}]}`, string(byValue))
}

func TestMarshalRefusesWhatIsNotAManifest(t *testing.T) {
	tests := []struct {
		name string
		m    *manifest.Manifest
		is   error
	}{
		{"factory that is a func", &manifest.Manifest{Owner: "o", Candidates: []registry.Candidate{
			{Domain: "adapter", Key: "cache", Factory: func() {}}}}, registry.ErrInvalidCandidate},
		{"no owner", &manifest.Manifest{}, registry.ErrInvalidCandidate},
		{"invalid source", &manifest.Manifest{Owner: "o", Candidates: []registry.Candidate{
			{Domain: "adapter", Key: "cache", Source: registry.Source(9)}}}, registry.ErrInvalidCandidate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := json.Marshal(tt.m)
			assert.ErrorIs(t, err, tt.is)
		})
	}
}

func TestValidateBuiltInCode(t *testing.T) {
	tests := []struct {
		name  string
		m     manifest.Manifest
		entry string
		msg   string
	}{
		{name: "valid", m: manifest.Manifest{Owner: "o", Candidates: []registry.Candidate{{Domain: "adapter", Key: "cache", Factory: "pkg:New"}},
			Selections: map[string]map[string]string{"adapter": {"cache": "redis"}}}},
		{name: "empty owner", m: manifest.Manifest{}, entry: "owner", msg: "owner: invalid candidate: owner is empty"},
		{name: "func factory", m: manifest.Manifest{Owner: "o", Candidates: []registry.Candidate{
			{Domain: "adapter", Key: "cache"}, {Domain: "adapter", Key: "queue", Factory: func() {}}}},
			entry: "candidates[1] (adapter/queue)", msg: "candidates[1] (adapter/queue): invalid candidate: factory must be a name (a string), not a func()"},
		{name: "metadata cycle", m: manifest.Manifest{Owner: "o", Candidates: []registry.Candidate{
			{Domain: "adapter", Key: "cache", Metadata: cyclic()}}},
			entry: "candidates[0] (adapter/cache)"},
		{name: "selection with an empty key", m: manifest.Manifest{Owner: "o", Selections: map[string]map[string]string{"adapter": {"": "redis"}}},
			entry: `selections.adapter.""`, msg: `selections.adapter."": invalid candidate: key is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			if tt.entry == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, registry.ErrInvalidCandidate)
			var me *manifest.Error
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tt.entry, me.Entry)
			assert.Zero(t, me.Line, "no position for a manifest built in code")
			if tt.msg != "" {
				assert.Equal(t, tt.msg, err.Error())
			}
		})
	}
}

func cyclic() map[string]any {
	m := map[string]any{}
	m["self"] = m
	return m
}

func TestParseFileNotFound(t *testing.T) {
	_, err := manifest.ParseFile(filepath.Join("testdata", "no-such-file.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	var me *manifest.Error
	assert.False(t, errors.As(err, &me), "a file that cannot be read is not a malformed manifest")
}

// FuzzParse: Parse never panics; what it accepts is valid, marshals, and
// parses back to an equal manifest; what it refuses is an *Error that
// matches ErrMalformed or registry.ErrInvalidCandidate.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*/*.json")
	require.NoError(f, err)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := manifest.Parse("fuzz.json", data)
		if err != nil {
			var me *manifest.Error
			require.ErrorAs(t, err, &me)
			require.Equal(t, "fuzz.json", me.File)
			require.True(t, errors.Is(err, manifest.ErrMalformed) || errors.Is(err, registry.ErrInvalidCandidate), "%v", err)
			return
		}
		require.NoError(t, m.Validate())
		b, err := json.Marshal(m)
		require.NoError(t, err)
		back, err := manifest.Parse("other.json", b)
		require.NoError(t, err, "%s", b)
		require.Equal(t, m.Owner, back.Owner)
		require.Equal(t, m.Candidates, back.Candidates)
		require.Equal(t, m.Selections, back.Selections)
	})
}

// TestParseRefusesWhatJSONWouldReplace: bytes that are not UTF-8 and escapes
// of half a UTF-16 pair alone are errors at their place. encoding/json makes
// both U+FFFD, so the keys "ca\xffche" and "ca\xfeche" became one.
func TestParseRefusesWhatJSONWouldReplace(t *testing.T) {
	tests := []struct {
		name, data string
		col        int    // 0: parses
		msg        string // the cause; when it parses, the owner
	}{
		{"a byte that is not UTF-8", "{\"candidates\": [{\"domain\": \"adapter\", \"key\": \"ca\xffche\"}]}", 49, "invalid UTF-8 (byte 0xff)"},
		{"a truncated character", "{\"owner\": \"caf\xc3\"}", 15, "invalid UTF-8 (byte 0xc3)"},
		{"a lone low surrogate", `{"owner": "p\udc00"}`, 13, `a lone surrogate (\udc00)`},
		{"a lone high surrogate", `{"owner": "p\ud83dx"}`, 13, `a lone surrogate (\ud83d)`},
		{"a high surrogate before another high", `{"owner": "p\ud83d\ud83d"}`, 13, `a lone surrogate (\ud83d)`},
		{"in metadata too", `{"candidates": [{"domain": "d", "key": "k", "metadata": {"a": "\udfff"}}]}`, 64, `a lone surrogate (\udfff)`},
		{"a pair", `{"owner": "p\ud83d\ude00"}`, 0, "p\U0001F600"},
		{"a character outside the BMP", "{\"owner\": \"p\U0001F600\"}", 0, "p\U0001F600"},
		{"U+FFFD written as is", "{\"owner\": \"p\uFFFD\"}", 0, "p\uFFFD"},
		{"an escaped backslash before u", `{"owner": "p\\ud800"}`, 0, `p\ud800`},
		{"an escaped quote", `{"owner": "p\"\ud800"}`, 15, `a lone surrogate (\ud800)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := manifest.Parse("x.json", []byte(tt.data))
			if tt.col == 0 {
				require.NoError(t, err)
				assert.Equal(t, tt.msg, m.Owner)
				return
			}
			require.ErrorIs(t, err, manifest.ErrMalformed)
			var me *manifest.Error
			require.ErrorAs(t, err, &me)
			assert.Equal(t, [2]int{1, tt.col}, [2]int{me.Line, me.Column})
			assert.Equal(t, tt.msg+"; a manifest is UTF-8 text, and encoding/json would silently make it U+FFFD", me.Err.Error())
		})
	}
}

// TestParseReportsTheFirstProblemOfTheFile: the format and what the registry
// would refuse are checked together, entry by entry, so that the error points
// at the first problem in the file, not at a later one of another kind.
func TestParseReportsTheFirstProblemOfTheFile(t *testing.T) {
	tests := []struct {
		name, data string
		line       int
		entry      string
	}{
		{"an empty owner before a bad source", `{
  "owner": "",
  "candidates": [
    {"domain": "adapter", "key": "cache", "source": "pypi"}]}`, 2, "owner"},
		{"an empty key before a bad source", `{
  "candidates": [
    {"domain": "adapter", "key": ""},
    {"domain": "adapter", "key": "cache", "source": "pypi"}]}`, 3, `candidates[0] (adapter/"")`},
		{"an empty key before an unknown field", `{
  "candidates": [
    {"domain": "adapter", "key": ""},
    {"domain": "adapter", "key": "cache", "prio": 1}]}`, 3, `candidates[0] (adapter/"")`},
		{"an empty selection before a bad candidate", `{
  "selections": {"adapter": {"cache": ""}},
  "candidates": [
    {"domain": "adapter", "key": ""}]}`, 2, "selections.adapter.cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := manifest.Parse("x.json", []byte(tt.data))
			var me *manifest.Error
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tt.line, me.Line, err.Error())
			assert.Equal(t, tt.entry, me.Entry)
		})
	}
}

// BenchmarkParse parses manifests of 1,000 to 32,000 candidates: the time
// per candidate stays flat, where counting each position from the start of
// the file made it grow with the file.
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{1000, 8000, 32000} {
		var buf bytes.Buffer
		buf.WriteString(`{"owner": "bench", "candidates": [`)
		for i := range n {
			if i > 0 {
				buf.WriteString(",\n")
			}
			fmt.Fprintf(&buf, `{"domain": "adapter", "key": "k%d", "provider": "p", "priority": %d, "metadata": {"url": "redis://x"}}`, i, i%100)
		}
		buf.WriteString("]}")
		b.Run(fmt.Sprintf("candidates=%d", n), func(b *testing.B) {
			b.SetBytes(int64(buf.Len()))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := manifest.Parse("bench.json", buf.Bytes()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/candidate")
		})
	}
}
