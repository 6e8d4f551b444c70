package etcd_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	oetcd "github.com/oneiric-go/oneiric/etcd"
	"github.com/oneiric-go/oneiric/registry"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// records keeps the messages and attributes a logger receives.
type records struct {
	mu    sync.Mutex
	lines []string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *records) WithGroup(string) slog.Handler            { return r }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Level.String() + " " + rec.Message)
	rec.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	r.mu.Lock()
	r.lines = append(r.lines, b.String())
	r.mu.Unlock()
	return nil
}

func (r *records) find(parts ...string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// The bad values of TestMirrorSkipsBadValues: key (under the prefix) →
// value, and what the warning about it says.
var badValues = []struct{ key, value, says string }{
	{"candidates/o/adapter/cache/json", `redis`, "not one JSON object"},
	{"candidates/o/adapter/cache/array", `[{"domain":"adapter","key":"cache","provider":"array"}]`, "not one JSON object"},
	{"candidates/o/adapter/cache/typo", `{"domain":"adapter","key":"cache","provider":"typo","prioirty":1}`, `unknown field "prioirty"`},
	{"candidates/o/adapter/cache/liar", `{"domain":"adapter","key":"cache","provider":"redis"}`, "its key names"},
	{"candidates/o/adapter/cache/nofactory", `{"domain":"adapter","key":"cache","provider":"nofactory","factory":"nope"}`, `unknown factory "nope"`},
	{"candidates/o/adapter/cache/ctrl", `{"domain":"adapter","key":"cache","provider":"ctrl","metadata":{"a":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 41) + `}`, "invalid candidate"},
	{"candidates/o/adapter/cache/a%2fb", `{"domain":"adapter","key":"cache","provider":"a/b"}`, "not escaped as url.PathEscape"},
	{"candidates/o/adapter/cache", `{"domain":"adapter","key":"cache"}`, "want 4 parts"},
	{"candidates/o%01/adapter/cache/x", `{"domain":"adapter","key":"cache","provider":"x"}`, "control character"},
	{"other/thing", `x`, "key not in the layout"},
	{"owners/o/extra", `1`, "want 1 parts"},
	{"owners/o%01", `1`, "control character"},
	{"selections/adapter/cache", "bad\x01provider", "selection"},
	{"selections/%01/cache", "redis", "control character"},
}

// Values the mirror cannot use (not JSON, not one candidate, an unknown or
// misspelt field, a key and value that disagree, an unknown factory, a key
// outside the layout, a generation key with a segment too many or an invalid
// owner, an invalid
// selection) are logged with their key, counted and skipped, whether the
// mirror finds them in its first load or in its watch; the good candidates
// next to them are applied (and the good owner's generation key is not
// counted). A bad value replaced by a good one is applied; deleting the bad
// keys clears the count of invalid keys but not of skipped values.
func TestMirrorSkipsBadValues(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	const prefix = "/bad"
	put := func(k, v string) int64 {
		t.Helper()
		resp, err := c.Put(ctx, prefix+"/"+k, v)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Revision
	}
	good := []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(90), Factory: "redis"},
		{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(50)},
	}

	// Half the bad values before the mirror starts (its load), half after (its watch).
	half := len(badValues) / 2
	for _, b := range badValues[:half] {
		put(b.key, b.value)
	}
	if _, err := oetcd.Publish(ctx, c, prefix, "good", good); err != nil {
		t.Fatal(err)
	}
	logs := &records{}
	r, m, _ := mirror(t, newClient(t, s), prefix, factories, oetcd.WithLogger(slog.New(logs)))
	<-m.Ready()
	var rev int64
	for _, b := range badValues[half:] {
		rev = put(b.key, b.value)
	}
	waitRev(t, m, rev)

	st := m.Status()
	if st.Skipped != uint64(len(badValues)) || st.Invalid != len(badValues) {
		t.Fatalf("skipped %d, invalid %d; want %d and %d (%+v)", st.Skipped, st.Invalid, len(badValues), len(badValues), st)
	}
	if st.Candidates != 2 || !st.Healthy || st.LastError != nil {
		t.Fatalf("status %+v, want 2 usable candidates, healthy and no error: a skipped value is not a failure", st)
	}
	for _, b := range badValues {
		if !logs.find("WARN", "skipping a value", prefix+"/"+b.key, b.says) {
			t.Errorf("no warning naming %q and saying %q in:\n%s", b.key, b.says, strings.Join(logs.lines, "\n"))
		}
	}
	got, _ := registryState(r)
	if len(got) != 2 || !strings.Contains(got[0], `"memcached"`) || !strings.Contains(got[1], `"redis"`) || !strings.Contains(got[1], "factory=REDIS") {
		t.Fatalf("registry holds:\n%s", strings.Join(got, "\n"))
	}

	// A bad value fixed: the candidate appears.
	rev = put("candidates/o/adapter/cache/typo", `{"domain":"adapter","key":"cache","provider":"typo","priority":99}`)
	waitRev(t, m, rev)
	if e, _ := r.Resolve("adapter", "cache"); e.Provider() != "typo" || m.Status().Invalid != len(badValues)-1 {
		t.Fatalf("after the fix: winner %s, status %+v", entryLine(e), m.Status())
	}
	// A good value broken: the candidate goes, the rest of its owner stays.
	rev = put("candidates/o/adapter/cache/typo", `{"domain":"adapter","key":"cache","provider":"typo","priority":"high"}`)
	waitRev(t, m, rev)
	if e, _ := r.Resolve("adapter", "cache"); e.Provider() != "redis" {
		t.Fatalf("after breaking typo: winner %s, want redis", entryLine(e))
	}
	// Every bad key deleted: nothing invalid left, the count of skipped values stays.
	resp, err := c.Txn(ctx).Then(
		clientv3.OpDelete(prefix+"/candidates/o/adapter/cache/typo"),
		clientv3.OpDelete(prefix+"/other/thing"),
		clientv3.OpDelete(prefix+"/selections/adapter/cache"),
		clientv3.OpDelete(prefix+"/selections/%01/cache"),
	).Commit()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range badValues {
		if (strings.HasPrefix(b.key, "candidates/") || strings.HasPrefix(b.key, "owners/")) && b.key != "candidates/o/adapter/cache/typo" {
			d, err := c.Delete(ctx, prefix+"/"+b.key)
			if err != nil {
				t.Fatal(err)
			}
			resp.Header = d.Header
		}
	}
	waitRev(t, m, resp.Header.Revision)
	st = m.Status()
	if st.Invalid != 0 || st.Skipped != uint64(len(badValues))+1 || st.Candidates != 2 {
		t.Fatalf("after deleting the bad keys: %+v", st)
	}
}

// An owner's set the registry refuses (a limit) is counted and reported;
// the registry keeps the owner's previous set, and a later acceptable set,
// or a reload, applies.
func TestMirrorCountsRefusedSets(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	r := registry.New(registry.WithLimits(registry.Limits{MaxCandidatesPerKey: 2}))
	m, _ := mirrorInto(t, newClient(t, s), "/limit", r, nil)
	rev, err := oetcd.Publish(ctx, c, "/limit", "o", []registry.Candidate{cand("a", "k", "p1", 1), cand("a", "k", "p2", 2)})
	if err != nil {
		t.Fatal(err)
	}
	waitRev(t, m, rev)
	rev, err = oetcd.Publish(ctx, c, "/limit", "o", []registry.Candidate{cand("a", "k", "p1", 1), cand("a", "k", "p2", 2), cand("a", "k", "p3", 3)})
	if err != nil {
		t.Fatal(err)
	}
	waitRev(t, m, rev)
	st := m.Status()
	if st.Rejected != 1 || !errors.Is(st.LastError, registry.ErrLimitExceeded) {
		t.Fatalf("status %+v, want one refused set and a limit error", st)
	}
	if e, _ := r.Resolve("a", "k"); e.Provider() != "p2" {
		t.Fatalf("winner %s, want p2 from the previous set", entryLine(e))
	}
	rev, err = oetcd.Publish(ctx, c, "/limit", "o", []registry.Candidate{cand("a", "k", "p3", 3)})
	if err != nil {
		t.Fatal(err)
	}
	waitRev(t, m, rev)
	if e, _ := r.Resolve("a", "k"); e.Provider() != "p3" || len(r.ListShadowed("a")) != 0 {
		t.Fatalf("winner %s, want p3 alone", entryLine(e))
	}
}
