package manifest_test

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/manifest"
	"github.com/oneiric-go/oneiric/registry"
)

func parse(t *testing.T, name, data string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Parse(name, []byte(data))
	require.NoError(t, err)
	return m
}

func parseFile(t *testing.T, name string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.ParseFile(filepath.Join("testdata", "good", name))
	require.NoError(t, err)
	return m
}

// state is what a test compares before and after: every entry of r, by
// domain, key and rank, with its sequence number and owner.
type entryState struct {
	Domain, Key, Provider, Owner string
	Priority                     int
	Seq                          uint64
}

func state(r *registry.Registry) []entryState {
	var out []entryState
	snap := r.Snapshot()
	for _, d := range snap.Domains() {
		for _, es := range [][]*registry.Entry{snap.ListActive(d), snap.ListShadowed(d)} {
			for _, e := range es {
				out = append(out, entryState{e.Domain(), e.Key(), e.Provider(), e.Owner(), e.Priority(), e.Sequence()})
			}
		}
	}
	return out
}

func winner(t *testing.T, r *registry.Registry, domain, key string) string {
	t.Helper()
	e, ok := r.Resolve(domain, key)
	if !ok {
		return "(none)"
	}
	return e.Provider()
}

func TestLoad(t *testing.T) {
	r := registry.New()
	require.NoError(t, manifest.Load(r, parseFile(t, "app.json"), parseFile(t, "ops.json")))

	assert.Equal(t, []string{"adapter", "service", "task"}, r.Domains())
	assert.Equal(t, 10, r.Snapshot().Len())
	assert.Equal(t, "redis", winner(t, r, "adapter", "cache"), "priority 90 beats valkey's 70")
	assert.Equal(t, "nats", winner(t, r, "adapter", "queue"), "the selection beats priority 80")
	assert.Equal(t, "stripe", winner(t, r, "service", "payments"), "same priority, higher stack level")
	assert.Equal(t, "sendgrid", winner(t, r, "task", "email"))

	redis, _ := r.Resolve("adapter", "cache")
	assert.Equal(t, "billing", redis.Owner())
	assert.Equal(t, "billing.adapters.cache:RedisCache", redis.Factory(), "the factory name, as is")
	assert.Equal(t, registry.SourceManual, redis.Source())
	valkey, ok := r.Resolve("adapter", "cache", registry.Require("acl"))
	require.True(t, ok)
	assert.Equal(t, "valkey", valkey.Provider())
	assert.Equal(t, "ops.json", valkey.Owner(), "no owner in the file: its base name")
	assert.Equal(t, []string{"acl", "cluster", "ttl"}, valkey.Capabilities(), "capabilities from metadata count")

	inMemory, ok := r.Resolve("adapter", "cache", registry.Provider("in-memory"))
	require.True(t, ok)
	assert.Equal(t, 0, inMemory.Priority(), "no priority: the registry's default")
}

func TestLoadDefaultPriority(t *testing.T) {
	r := registry.New(registry.WithDefaultPriority(40))
	require.NoError(t, manifest.Load(r, parseFile(t, "minimal.json")))
	e, _ := r.Resolve("adapter", "cache")
	assert.Equal(t, 40, e.Priority())
}

// TestReloadDoesNotGrow: loading the same manifests again, any number of
// times, keeps every entry and its sequence number.
func TestReloadDoesNotGrow(t *testing.T) {
	r := registry.New()
	ms := []*manifest.Manifest{parseFile(t, "app.json"), parseFile(t, "ops.json")}
	require.NoError(t, manifest.Load(r, ms...))
	before := state(r)
	for range 1000 {
		require.NoError(t, manifest.Load(r, ms...))
	}
	assert.Equal(t, before, state(r))

	// A fresh parse of the same files is just as equal.
	require.NoError(t, manifest.Load(r, parseFile(t, "app.json"), parseFile(t, "ops.json")))
	assert.Equal(t, before, state(r))

	// And so is a round trip through JSON.
	e, err := ms[0].MarshalJSON()
	require.NoError(t, err)
	require.NoError(t, manifest.Load(r, parse(t, "app-copy.json", string(e))))
	assert.Equal(t, before, state(r))
}

// TestReloadReplacesTheOwnersSet: a manifest that drops a candidate removes
// it; one that changes a candidate replaces that one only; other owners are
// untouched.
func TestReloadReplacesTheOwnersSet(t *testing.T) {
	r := registry.New()
	require.NoError(t, manifest.Load(r,
		parse(t, "a.json", `{"candidates": [
			{"domain": "adapter", "key": "cache", "provider": "redis", "priority": 90},
			{"domain": "adapter", "key": "cache", "provider": "memcached", "priority": 50},
			{"domain": "adapter", "key": "queue", "provider": "nats"}]}`),
		parse(t, "b.json", `{"candidates": [{"domain": "adapter", "key": "cache", "provider": "valkey", "priority": 70}]}`)))
	seqOf := func(p string) uint64 {
		e, ok := r.Resolve("adapter", "cache", registry.Provider(p))
		require.True(t, ok, p)
		return e.Sequence()
	}
	memcached, valkey := seqOf("memcached"), seqOf("valkey")

	require.NoError(t, manifest.Load(r, parse(t, "a.json", `{"candidates": [
		{"domain": "adapter", "key": "cache", "provider": "redis", "priority": 60},
		{"domain": "adapter", "key": "cache", "provider": "memcached", "priority": 50}]}`)))
	assert.Equal(t, "valkey", winner(t, r, "adapter", "cache"), "redis dropped to 60")
	assert.Equal(t, memcached, seqOf("memcached"), "unchanged: same entry")
	assert.Equal(t, valkey, seqOf("valkey"), "another owner: untouched")
	assert.Equal(t, "(none)", winner(t, r, "adapter", "queue"), "gone from the manifest: removed")
	assert.Equal(t, 3, r.Snapshot().Len())
}

func TestLoadMergesManifestsOfOneOwner(t *testing.T) {
	r := registry.New()
	a := parse(t, "a.json", `{"owner": "team", "candidates": [{"domain": "adapter", "key": "cache", "provider": "redis"}]}`)
	b := parse(t, "b.json", `{"owner": "team", "candidates": [{"domain": "adapter", "key": "queue", "provider": "nats"}]}`)
	require.NoError(t, manifest.Load(r, a, b))
	assert.Equal(t, 2, r.Snapshot().Len(), "the second manifest does not replace the first")
	for _, k := range []string{"cache", "queue"} {
		e, ok := r.Resolve("adapter", k)
		require.True(t, ok)
		assert.Equal(t, "team", e.Owner())
	}
}

func TestLoadSelections(t *testing.T) {
	r := registry.New()
	operator := parse(t, "operator.json", `{"selections": {"adapter": {"cache": "memcached", "queue": "nats"}, "task": {"email": "ses"}}}`)
	require.NoError(t, manifest.Load(r, parseFile(t, "app.json"), operator),
		"app.json selects nats too: the same selection twice is no conflict")
	assert.Equal(t, "memcached", winner(t, r, "adapter", "cache"), "selected over redis's priority")
	assert.Equal(t, "nats", winner(t, r, "adapter", "queue"))

	// A selection waits for its provider, as the registry's do.
	_, ok := r.Resolve("task", "email")
	assert.False(t, ok)
	require.NoError(t, manifest.Load(r, parse(t, "mail.json", `{"candidates": [
		{"domain": "task", "key": "email", "provider": "smtp", "priority": 90},
		{"domain": "task", "key": "email", "provider": "ses"}]}`)))
	assert.Equal(t, "ses", winner(t, r, "task", "email"))

	// selections-only.json selects redis-streams for the queue: a conflict with app.json.
	err := manifest.Load(registry.New(), parseFile(t, "app.json"), parseFile(t, "selections-only.json"))
	assert.ErrorIs(t, err, manifest.ErrConflict)
}

// TestLoadChangesNothingWhenAManifestIsBad: Load validates every manifest,
// and checks them against each other, before it changes anything.
func TestLoadChangesNothingWhenAManifestIsBad(t *testing.T) {
	good := parseFile(t, "app.json")
	tests := []struct {
		name  string
		ms    []*manifest.Manifest
		is    error
		entry string
	}{
		{name: "an invalid candidate in the last manifest", ms: []*manifest.Manifest{
			good,
			{Owner: "code", Candidates: []registry.Candidate{{Domain: "adapter", Key: "queue", Provider: "sqs"}, {Domain: "adapter"}}},
		}, is: registry.ErrInvalidCandidate, entry: `candidates[1] (adapter/"")`},
		{name: "a manifest without an owner", ms: []*manifest.Manifest{good, {Candidates: good.Candidates}},
			is: registry.ErrInvalidCandidate, entry: "owner"},
		{name: "conflicting selections", ms: []*manifest.Manifest{
			good,
			parse(t, "ops.json", `{"candidates": [{"domain": "adapter", "key": "queue", "provider": "sqs"}], "selections": {"adapter": {"queue": "sqs"}}}`),
		}, is: manifest.ErrConflict, entry: "selections.adapter.queue"},
		{name: "a nil manifest", ms: []*manifest.Manifest{good, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			require.NoError(t, manifest.Load(r, parse(t, "billing.json", `{"owner": "billing", "candidates": [
				{"domain": "adapter", "key": "cache", "provider": "old", "priority": 1}]}`)))
			before := state(r)

			err := manifest.Load(r, tt.ms...)
			require.Error(t, err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
				var me *manifest.Error
				require.ErrorAs(t, err, &me)
				assert.Equal(t, tt.entry, me.Entry)
			}
			assert.Equal(t, before, state(r), "nothing loaded, not even the good manifest")
			assert.Equal(t, "old", winner(t, r, "adapter", "cache"))
			_, ok := r.Resolve("adapter", "queue")
			assert.False(t, ok)
		})
	}
}

func TestLoadConflictNamesBothFiles(t *testing.T) {
	a := parse(t, "conf/a.json", `{"selections": {"adapter": {"cache": "redis"}}}`)
	b := parse(t, "conf/b.json", "{\n  \"selections\": {\"adapter\": {\"cache\": \"memcached\"}}\n}")
	err := manifest.Load(registry.New(), a, b)
	assert.ErrorIs(t, err, manifest.ErrConflict)
	assert.EqualError(t, err, `conf/b.json:2:39: selections.adapter.cache: conflicting selections: "memcached" here, "redis" in conf/a.json:1:38`)
}

// TestLoadConflictOfManifestsBuiltInCode: with no file to name, the conflict
// names the other manifest's owner.
func TestLoadConflictOfManifestsBuiltInCode(t *testing.T) {
	a := &manifest.Manifest{Owner: "base", Selections: map[string]map[string]string{"adapter": {"cache": "redis"}}}
	b := &manifest.Manifest{Owner: "site", Selections: map[string]map[string]string{"adapter": {"cache": "memcached"}}}
	err := manifest.Load(registry.New(), a, b)
	assert.ErrorIs(t, err, manifest.ErrConflict)
	assert.EqualError(t, err, `selections.adapter.cache: conflicting selections: "memcached" here, "redis" in the manifest of owner "base"`)
}

// TestLoadPutsBackOnALimit: when an owner's Apply exceeds a limit of the
// registry, the owners Load already changed get their sets back.
func TestLoadPutsBackOnALimit(t *testing.T) {
	r := registry.New(registry.WithLimits(registry.Limits{MaxCandidatesPerKey: 3}))
	require.NoError(t, manifest.Load(r,
		parse(t, "a.json", `{"candidates": [
			{"domain": "adapter", "key": "cache", "provider": "redis"},
			{"domain": "adapter", "key": "queue", "provider": "nats"}]}`)))
	before := state(r)

	err := manifest.Load(r,
		// a drops nats and adds memcached to the cache: fine on its own.
		parse(t, "a.json", `{"candidates": [
			{"domain": "adapter", "key": "cache", "provider": "redis"},
			{"domain": "adapter", "key": "cache", "provider": "memcached"}]}`),
		// b then adds two more: four candidates for the key, over the limit.
		parse(t, "b.json", `{"candidates": [
			{"domain": "adapter", "key": "cache", "provider": "valkey"},
			{"domain": "adapter", "key": "cache", "provider": "dragonfly"}]}`))
	require.ErrorIs(t, err, registry.ErrLimitExceeded)
	var le *registry.LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "candidates per key", le.Limit)
	assert.Contains(t, err.Error(), "b.json: ")

	after := state(r)
	require.Len(t, after, len(before))
	for i := range before {
		b, a := before[i], after[i]
		assert.Equal(t, [4]string{b.Domain, b.Key, b.Provider, b.Owner}, [4]string{a.Domain, a.Key, a.Provider, a.Owner})
		if b.Provider == "redis" {
			assert.Equal(t, b.Seq, a.Seq, "kept by both Applies: the same entry")
		}
	}
	assert.Equal(t, "nats", winner(t, r, "adapter", "queue"), "put back (with a new sequence number)")
	_, ok := r.Resolve("adapter", "cache", registry.Provider("memcached"))
	assert.False(t, ok, "a's addition is undone")
}

func TestLoadNilRegistry(t *testing.T) {
	assert.Error(t, manifest.Load(nil, parseFile(t, "app.json")))
}

func TestLoadNothing(t *testing.T) {
	r := registry.New()
	require.NoError(t, manifest.Load(r))
	assert.Empty(t, r.Domains())
}

// TestConcurrentReloads: goroutines reloading the same manifests while
// others read never change what a reader sees: every Snapshot has the same
// entries, and every Resolve the same winner.
func TestConcurrentReloads(t *testing.T) {
	r := registry.New()
	ms := []*manifest.Manifest{parseFile(t, "app.json"), parseFile(t, "ops.json")}
	require.NoError(t, manifest.Load(r, ms...))
	want := state(r)
	redis, _ := r.Resolve("adapter", "cache")

	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if err := manifest.Load(r, ms...); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if got := state(r); !assert.Equal(t, want, got) {
					return
				}
				if e, _ := r.Resolve("adapter", "cache"); e != redis {
					t.Errorf("adapter/cache resolved to %v, want the same redis entry", e)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, want, state(r))
}

// TestLoadSelectionRefusedByALimit: a selection refused by
// MaxMarksPerDomain is returned as Load's doc says: after the sets were
// applied, which stay, with the selections before it set and those after it
// not tried.
func TestLoadSelectionRefusedByALimit(t *testing.T) {
	r := registry.New(registry.WithLimits(registry.Limits{MaxMarksPerDomain: 1}))
	err := manifest.Load(r, parse(t, "a.json", `{"candidates": [
			{"domain": "adapter", "key": "cache", "provider": "redis", "priority": 5},
			{"domain": "adapter", "key": "cache", "provider": "memcached"},
			{"domain": "adapter", "key": "queue", "provider": "nats", "priority": 5},
			{"domain": "adapter", "key": "queue", "provider": "kafka"}],
		"selections": {"adapter": {"cache": "memcached", "queue": "kafka"}}}`))
	require.ErrorIs(t, err, registry.ErrLimitExceeded)
	var le *registry.LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, [2]string{"marks per domain", "adapter"}, [2]string{le.Limit, le.Domain})
	assert.Len(t, state(r), 4, "the set stays")
	assert.Equal(t, "memcached", winner(t, r, "adapter", "cache"), "the first selection, in key order, is set")
	assert.Equal(t, "nats", winner(t, r, "adapter", "queue"), "the second is refused")
}

func TestLoadLimitErrorNamesTheOwnerOfCodeBuiltManifests(t *testing.T) {
	r := registry.New(registry.WithLimits(registry.Limits{MaxCandidatesPerKey: 1}))
	err := manifest.Load(r, &manifest.Manifest{Owner: "plugins", Candidates: []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "redis"},
		{Domain: "adapter", Key: "cache", Provider: "memcached"},
	}})
	require.ErrorIs(t, err, registry.ErrLimitExceeded)
	assert.True(t, strings.HasPrefix(err.Error(), `owner "plugins": `), err.Error())
	assert.Empty(t, r.Domains())
}

// TestLoadNeverClearsASelection: a selection dropped from a manifest stays
// after a reload, as Load's doc says, until Select clears it.
func TestLoadNeverClearsASelection(t *testing.T) {
	r := registry.New()
	const cands = `{"domain": "d", "key": "k", "provider": "a", "priority": 10},
		{"domain": "d", "key": "k", "provider": "b", "priority": 1}`
	require.NoError(t, manifest.Load(r, parse(t, "m.json", `{"candidates": [`+cands+`], "selections": {"d": {"k": "b"}}}`)))
	assert.Equal(t, "b", winner(t, r, "d", "k"))
	require.NoError(t, manifest.Load(r, parse(t, "m.json", `{"candidates": [`+cands+`]}`)))
	assert.Equal(t, "b", winner(t, r, "d", "k"), "the selection stays")
	require.NoError(t, r.Select("d", "k", ""))
	assert.Equal(t, "a", winner(t, r, "d", "k"))
}
