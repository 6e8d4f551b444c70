package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	oetcd "github.com/oneiric-go/oneiric/etcd"
	"github.com/oneiric-go/oneiric/manifest"
	"github.com/oneiric-go/oneiric/registry"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// keysUnder returns key → value under prefix.
func keysUnder(t *testing.T, c *clientv3.Client, prefix string) map[string]string {
	t.Helper()
	resp, err := c.Get(context.Background(), prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		out[string(kv.Key)] = string(kv.Value)
	}
	return out
}

func cand(d, k, p string, prio int) registry.Candidate {
	return registry.Candidate{Domain: d, Key: k, Provider: p, Priority: new(prio)}
}

// A Publish puts what is new or changed and deletes what the set no longer
// has, and bumps the owner's generation key, all at one revision; publishing
// the same set again writes nothing; publishing no candidates removes the
// owner's keys and its generation key.
func TestPublishIsOneRevision(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	rev1, err := oetcd.Publish(ctx, c, "/p", "billing", []registry.Candidate{
		cand("adapter", "cache", "redis", 90), cand("adapter", "cache", "memcached", 50), cand("adapter", "queue", "nats", 60),
	})
	if err != nil {
		t.Fatal(err)
	}
	other, err := oetcd.Publish(ctx, c, "/p", "ops", []registry.Candidate{cand("adapter", "cache", "valkey", 70)})
	if err != nil {
		t.Fatal(err)
	}
	// Change redis, keep memcached, drop nats, add kafka.
	rev2, err := oetcd.Publish(ctx, c, "/p", "billing", []registry.Candidate{
		cand("adapter", "cache", "redis", 95), cand("adapter", "cache", "memcached", 50), cand("adapter", "queue", "kafka", 10),
	})
	if err != nil {
		t.Fatal(err)
	}
	if rev2 != other+1 {
		t.Fatalf("the second publish is at revision %d, want %d: one transaction", rev2, other+1)
	}
	// Replay the change: every event at rev2, exactly the three changes.
	w := c.Watch(ctx, "/p/", clientv3.WithPrefix(), clientv3.WithRev(other+1))
	resp := <-w
	var got []string
	for _, ev := range resp.Events {
		if ev.Kv.ModRevision != rev2 {
			t.Errorf("event %s %s at revision %d, want %d", ev.Type, ev.Kv.Key, ev.Kv.ModRevision, rev2)
		}
		got = append(got, fmt.Sprintf("%s %s", ev.Type, ev.Kv.Key))
	}
	slices.Sort(got)
	want := []string{
		"DELETE /p/candidates/billing/adapter/queue/nats",
		"PUT /p/candidates/billing/adapter/cache/redis",
		"PUT /p/candidates/billing/adapter/queue/kafka",
		"PUT /p/owners/billing",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events of the second publish:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	keys := slices.Sorted(maps.Keys(keysUnder(t, c, "/p/")))
	if len(keys) != 6 { // 3 + 1 candidates, 2 generation keys
		t.Fatalf("keys %q", keys)
	}
	// The same set again: nothing written, the current revision returned.
	rev3, err := oetcd.Publish(ctx, c, "/p", "billing", []registry.Candidate{
		cand("adapter", "cache", "memcached", 50), cand("adapter", "queue", "kafka", 10), cand("adapter", "cache", "redis", 95),
	})
	if err != nil || rev3 != rev2 {
		t.Fatalf("republish: rev %d (want %d), %v", rev3, rev2, err)
	}
	// No candidates: the owner is gone, the other owner stays.
	if _, err := oetcd.Publish(ctx, c, "/p", "billing", nil); err != nil {
		t.Fatal(err)
	}
	keys = slices.Sorted(maps.Keys(keysUnder(t, c, "/p/")))
	if want := []string{oetcd.CandidateKey("/p", "ops", "adapter", "cache", "valkey"), oetcd.GenerationKey("/p", "ops")}; !slices.Equal(keys, want) {
		t.Fatalf("after removing billing: %q, want %q", keys, want)
	}
	_ = rev1
}

// Publish refuses, before writing anything, what a mirror could not read
// back as the same set.
func TestPublishRefuses(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	for _, tc := range []struct {
		name, prefix, owner string
		cs                  []registry.Candidate
		is                  error
	}{
		{"two of one provider", "/p", "o", []registry.Candidate{cand("a", "k", "redis", 1), cand("a", "k", "redis", 2)}, registry.ErrInvalidCandidate},
		{"a factory that is not a name", "/p", "o", []registry.Candidate{{Domain: "a", Key: "k", Factory: func() {}}}, registry.ErrInvalidCandidate},
		{"empty key", "/p", "o", []registry.Candidate{{Domain: "a"}}, registry.ErrInvalidCandidate},
		{"empty owner", "/p", "", []registry.Candidate{cand("a", "k", "p", 1)}, registry.ErrInvalidCandidate},
		{"control character in the owner", "/p", "o\x01", []registry.Candidate{cand("a", "k", "p", 1)}, registry.ErrInvalidCandidate},
		{"empty prefix", "/", "o", []registry.Candidate{cand("a", "k", "p", 1)}, nil},
		// Values JSON cannot encode: the error says why.
		{"NaN in the metadata", "/p", "o", []registry.Candidate{{Domain: "a", Key: "k", Metadata: map[string]any{"x": math.NaN()}}}, registry.ErrInvalidCandidate},
		{"+Inf in the metadata", "/p", "o", []registry.Candidate{{Domain: "a", Key: "k", Metadata: map[string]any{"x": []any{math.Inf(1)}}}}, registry.ErrInvalidCandidate},
		{"a chan in the metadata", "/p", "o", []registry.Candidate{{Domain: "a", Key: "k", Metadata: map[string]any{"x": make(chan int)}}}, registry.ErrInvalidCandidate},
		// Values whose JSON a mirror would skip, though the Go value passed.
		{"a struct nested deeper than the limit", "/p", "o", []registry.Candidate{{Domain: "a", Key: "k", Metadata: map[string]any{"x": deepStruct(40)}}}, registry.ErrInvalidCandidate},
		{"map keys that are not UTF-8", "/p", "o", []registry.Candidate{{Domain: "a", Key: "k", Metadata: map[string]any{"\xff": 1, "\xfe": 2}}}, registry.ErrInvalidCandidate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oetcd.Publish(ctx, c, tc.prefix, tc.owner, tc.cs)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("err = %v, want one matching %v", err, tc.is)
			}
			if strings.Contains(tc.name, "in the metadata") && !strings.Contains(err.Error(), "json: unsupported") {
				t.Fatalf("err = %v, want json's reason in it", err)
			}
		})
	}
	if keys := keysUnder(t, c, ""); len(keys) != 0 {
		t.Fatalf("refused publishes wrote %v", keys)
	}
}

// nest is a struct a caller might put in metadata, kept as given.
type nest struct{ A any }

// deepStruct is n structs, each holding the next.
func deepStruct(n int) any {
	var v any = "x"
	for range n {
		v = nest{A: v}
	}
	return v
}

// A publish that writes more keys than etcd allows in one transaction
// (--max-txn-ops, 128 by default, which the test server keeps), its
// generation key included, is refused whole: it is never split. 127
// candidates and the generation key fit.
func TestPublishTooManyKeys(t *testing.T) {
	s := startServer(t)
	if s.MaxOps != 0 {
		t.Fatalf("the test server's MaxOps is %d, want etcd's default", s.MaxOps)
	}
	c := newClient(t, s)
	var cs []registry.Candidate
	for i := range 128 {
		cs = append(cs, cand("adapter", fmt.Sprintf("k%03d", i), "p", 1))
	}
	_, err := oetcd.Publish(ctxT(t), c, "/p", "big", cs)
	if err == nil || !strings.Contains(err.Error(), "too many operations") {
		t.Fatalf("err = %v, want etcd's too many operations", err)
	}
	if keys := keysUnder(t, c, "/p/"); len(keys) != 0 {
		t.Fatalf("a refused publish wrote %d keys", len(keys))
	}
	if _, err := oetcd.Publish(ctxT(t), c, "/p", "big", cs[:127]); err != nil {
		t.Fatalf("127 keys: %v", err)
	}
	cs[0] = cand("adapter", "k000", "p", 2)
	if _, err := oetcd.Publish(ctxT(t), c, "/p", "big", cs[:127]); err != nil {
		t.Fatalf("127 keys, one changed: %v", err)
	}
	if _, err := oetcd.Publish(ctxT(t), c, "/p", "big", cs[1:128]); err != nil {
		t.Fatalf("127 keys, one replaced: %v", err)
	}
	if keys := keysUnder(t, c, "/p/candidates/"); len(keys) != 127 || keys[oetcd.CandidateKey("/p", "big", "adapter", "k127", "p")] == "" {
		t.Fatalf("after replacing a key: %d keys", len(keys))
	}
}

// An owner that grew past etcd's limit on a transaction's operations (128
// for the test server) in publishes that each fit can still publish a small
// change: the transaction compares the owner's generation key and directory,
// two compares, not one per key it keeps. (With a compare per kept key, the
// one-key change below made 200 compares and etcd refused it with "too many
// operations in txn request".)
func TestPublishLargeOwnerSmallChange(t *testing.T) {
	s := startServer(t)
	if s.MaxOps != 0 {
		t.Fatalf("the test server's MaxOps is %d, want etcd's default (128)", s.MaxOps)
	}
	c := newClient(t, s)
	ctx := ctxT(t)
	var cs []registry.Candidate
	for i := range 200 {
		cs = append(cs, cand("adapter", fmt.Sprintf("k%03d", i), "p", 1))
	}
	if _, err := oetcd.Publish(ctx, c, "/p", "big", cs[:100]); err != nil {
		t.Fatalf("100 keys: %v", err)
	}
	if _, err := oetcd.Publish(ctx, c, "/p", "big", cs); err != nil {
		t.Fatalf("100 more keys: %v", err)
	}
	cs[7] = cand("adapter", "k007", "p", 2)
	rev, err := oetcd.Publish(ctx, c, "/p", "big", cs)
	if err != nil {
		t.Fatalf("one key changed among 200: %v", err)
	}
	keys := keysUnder(t, c, "/p/candidates/")
	if len(keys) != 200 || !strings.Contains(keys[oetcd.CandidateKey("/p", "big", "adapter", "k007", "p")], `"priority":2`) {
		t.Fatalf("after the change: %d keys, k007 = %s", len(keys), keys[oetcd.CandidateKey("/p", "big", "adapter", "k007", "p")])
	}
	g, err := c.Get(ctx, oetcd.GenerationKey("/p", "big"))
	if err != nil || len(g.Kvs) != 1 || g.Kvs[0].ModRevision != rev {
		t.Fatalf("generation key: %v, %v; want it written at %d", g, err, rev)
	}
}

// Concurrent publishes of one owner never leave a mix of their sets, at any
// revision: the revision compare makes the loser read again and retry.
func TestConcurrentPublishesOfOneOwnerNeverMix(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	const writers, rounds = 4, 40
	// Writer w publishes keys k0..k(w+1) with provider "w<w>": sets of
	// different sizes and contents, so a mix is visible.
	set := func(w int) []registry.Candidate {
		var cs []registry.Candidate
		for i := range w + 2 {
			cs = append(cs, cand("adapter", fmt.Sprintf("k%d", i), fmt.Sprintf("w%d", w), w))
		}
		return cs
	}
	sets := map[string]int{} // the rendering of each writer's set → writer
	render := func(keys []string) string { slices.Sort(keys); return strings.Join(keys, ",") }
	for w := range writers {
		var keys []string
		for _, cd := range set(w) {
			keys = append(keys, oetcd.CandidateKey("/p", "shared", cd.Domain, cd.Key, cd.Provider))
		}
		sets[render(keys)] = w
	}
	start, err := c.Get(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var last int64
	var mu sync.Mutex
	for w := range writers {
		wg.Go(func() {
			for range rounds {
				rev, err := oetcd.Publish(ctx, c, "/p", "shared", set(w))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				last = max(last, rev)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// Replay every revision: after each, the owner's keys are one writer's set.
	state := map[string]bool{}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The owner's candidate keys only: its generation key is no part of a set.
	w := c.Watch(wctx, "/p/candidates/", clientv3.WithPrefix(), clientv3.WithRev(start.Header.Revision+1))
	revs := 0
	for rev := int64(0); rev < last; {
		resp := <-w
		if err := resp.Err(); err != nil {
			t.Fatal(err)
		}
		for i, ev := range resp.Events {
			if ev.Type == clientv3.EventTypePut {
				state[string(ev.Kv.Key)] = true
			} else {
				delete(state, string(ev.Kv.Key))
			}
			rev = ev.Kv.ModRevision
			if i == len(resp.Events)-1 || resp.Events[i+1].Kv.ModRevision != rev {
				revs++
				if _, ok := sets[render(slices.Collect(maps.Keys(state)))]; !ok {
					t.Fatalf("revision %d holds a mix: %v", rev, slices.Sorted(maps.Keys(state)))
				}
			}
		}
	}
	t.Logf("%d publishes made %d revisions, each one writer's whole set", writers*rounds, revs)
}

// PublishManifest writes the owner's candidates and the selections in one
// transaction.
func TestPublishManifest(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	m, err := manifest.ParseFile("../manifest/testdata/good/app.json")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := oetcd.PublishManifest(ctxT(t), c, "/p", m)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(context.Background(), "/p/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != len(m.Candidates)+2 {
		t.Fatalf("%d keys, want %d candidates, a selection and the owner's generation key", len(resp.Kvs), len(m.Candidates))
	}
	for _, kv := range resp.Kvs {
		if kv.ModRevision != rev {
			t.Errorf("%s written at revision %d, want %d", kv.Key, kv.ModRevision, rev)
		}
	}
	if v := keysUnder(t, c, "/p/selections/")["/p/selections/adapter/queue"]; v != "nats" {
		t.Fatalf("selection = %q", v)
	}
}

// A nil client is an error, as it is for Mirror, not a panic.
func TestPublishNilClient(t *testing.T) {
	ctx := ctxT(t)
	if _, err := oetcd.Publish(ctx, nil, "/p", "o", []registry.Candidate{cand("a", "k", "p", 1)}); err == nil {
		t.Fatal("Publish with a nil client: no error")
	}
	if _, err := oetcd.PublishManifest(ctx, nil, "/p", &manifest.Manifest{Owner: "o"}); err == nil {
		t.Fatal("PublishManifest with a nil client: no error")
	}
	if _, err := oetcd.PublishSelection(ctx, nil, "/p", "a", "k", "p"); err == nil {
		t.Fatal("PublishSelection with a nil client: no error")
	}
}

// interleavingKV is a clientv3.KV that calls between before the first
// transaction it builds: after a Publish has read the owner's keys, before
// it commits.
type interleavingKV struct {
	clientv3.KV
	once    sync.Once
	between func()
	txns    atomic.Int32
}

func (k *interleavingKV) Txn(ctx context.Context) clientv3.Txn {
	k.once.Do(k.between)
	k.txns.Add(1)
	return k.KV.Txn(ctx)
}

// interleaved returns a client that uses c's KV through an interleavingKV
// calling between.
func interleaved(t *testing.T, c *clientv3.Client, between func()) (*clientv3.Client, *interleavingKV) {
	t.Helper()
	kv := &interleavingKV{KV: c.KV, between: between}
	w := clientv3.NewCtxClient(context.Background())
	w.KV = kv
	t.Cleanup(func() { w.Close() })
	return w, kv
}

// A key that a Publish keeps unchanged, deleted by another Publish between
// its read and its commit, makes it read again: it does not commit its set
// without that key. B publishes {p1,p2}; A reads it; B publishes {p1}; A
// publishes {p1,p2,p3}: etcd must hold A's set whole, not {p1,p3}.
func TestPublishSeesAKeptKeyDeleted(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	keys := func(ps ...string) string {
		var ks []string
		for _, p := range ps {
			ks = append(ks, oetcd.CandidateKey("/p", "o", "adapter", "cache", p))
		}
		return strings.Join(ks, ",")
	}
	if _, err := oetcd.Publish(ctx, c, "/p", "o", cacheSet("p1", "p2")); err != nil {
		t.Fatal(err)
	}
	var bRev int64
	a, kv := interleaved(t, c, func() {
		var err error
		if bRev, err = oetcd.Publish(ctx, c, "/p", "o", cacheSet("p1")); err != nil {
			t.Error(err)
		}
	})
	aRev, err := oetcd.Publish(ctx, a, "/p", "o", cacheSet("p1", "p2", "p3"))
	if err != nil {
		t.Fatal(err)
	}
	if aRev <= bRev {
		t.Fatalf("A committed at revision %d, B at %d: A is the last", aRev, bRev)
	}
	got := strings.Join(slices.Sorted(maps.Keys(keysUnder(t, c, "/p/candidates/"))), ",")
	if got != keys("p1", "p2", "p3") {
		t.Fatalf("etcd holds %s; want A's set %s (or B's %s), whole", got, keys("p1", "p2", "p3"), keys("p1"))
	}
	if n := kv.txns.Load(); n != 2 {
		t.Fatalf("A built %d transactions, want 2: the first fails, the second commits", n)
	}
}

// An owner whose keys have no generation key (written by an older version,
// or by hand) is emptied by other publishes while one that keeps its keys is
// between its read and its commit: by one, or by two in a row (the second
// finding nothing to do, or, were a generation key put and then deleted, its
// revision back at 0). A publish that read no generation key writes every
// key it wants, so etcd holds its set whole; a final empty publish leaves
// nothing of the owner.
func TestPublishEmptiesAnOwnerWithoutGeneration(t *testing.T) {
	for _, empties := range []int{1, 2} {
		t.Run(fmt.Sprint(empties, " empty publishes in between"), func(t *testing.T) {
			s := startServer(t)
			c := newClient(t, s)
			ctx := ctxT(t)
			if _, err := oetcd.Publish(ctx, c, "/p", "o", cacheSet("p1", "p2")); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Delete(ctx, oetcd.GenerationKey("/p", "o")); err != nil { // as an older version left it
				t.Fatal(err)
			}
			a, _ := interleaved(t, c, func() {
				for range empties {
					if _, err := oetcd.Publish(ctx, c, "/p", "o", nil); err != nil {
						t.Error(err)
					}
				}
			})
			if _, err := oetcd.Publish(ctx, a, "/p", "o", cacheSet("p1", "p2", "p3")); err != nil {
				t.Fatal(err)
			}
			got := slices.Sorted(maps.Keys(keysUnder(t, c, "/p/candidates/")))
			want := []string{
				oetcd.CandidateKey("/p", "o", "adapter", "cache", "p1"),
				oetcd.CandidateKey("/p", "o", "adapter", "cache", "p2"),
				oetcd.CandidateKey("/p", "o", "adapter", "cache", "p3"),
			}
			if !slices.Equal(got, want) {
				t.Fatalf("etcd holds %v; want the last set, whole: %v", got, want)
			}
			emptyAndCheckNothingLeft(t, c)
		})
	}
}

// An owner without a generation key emptied by one publish leaves nothing
// behind either.
func TestPublishEmptyOfAnOwnerWithoutGenerationLeavesNothing(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	if _, err := oetcd.Publish(ctx, c, "/p", "o", cacheSet("p1")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(ctx, oetcd.GenerationKey("/p", "o")); err != nil {
		t.Fatal(err)
	}
	emptyAndCheckNothingLeft(t, c)
}

// cacheSet is owner "o"'s set of adapter/cache candidates of providers ps.
func cacheSet(ps ...string) []registry.Candidate {
	var cs []registry.Candidate
	for _, p := range ps {
		cs = append(cs, cand("adapter", "cache", p, 1))
	}
	return cs
}

// emptyAndCheckNothingLeft publishes owner "o" of prefix /p empty and checks
// that nothing of it, its generation key included, is left under /p.
func emptyAndCheckNothingLeft(t *testing.T, c *clientv3.Client) {
	t.Helper()
	if _, err := oetcd.Publish(ctxT(t), c, "/p", "o", nil); err != nil {
		t.Fatal(err)
	}
	if left := keysUnder(t, c, "/p/"); len(left) != 0 {
		t.Fatalf("after emptying the owner etcd still holds %v", slices.Sorted(maps.Keys(left)))
	}
}

// Publishing the same manifest twice writes nothing the second time, like
// Publish: its selections are not written again either.
func TestPublishManifestTwiceWritesNothing(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	m, err := manifest.ParseFile("../manifest/testdata/good/app.json")
	if err != nil {
		t.Fatal(err)
	}
	rev1, err := oetcd.PublishManifest(ctx, c, "/p", m)
	if err != nil {
		t.Fatal(err)
	}
	rev2, err := oetcd.PublishManifest(ctx, c, "/p", m)
	if err != nil {
		t.Fatal(err)
	}
	now, err := c.Get(ctx, "/p/")
	if err != nil {
		t.Fatal(err)
	}
	if rev2 != rev1 || now.Header.Revision != rev1 {
		t.Fatalf("first publish at revision %d, second returned %d, etcd at %d: want all equal", rev1, rev2, now.Header.Revision)
	}
}

// A selection that PublishManifest leaves in place because it already has
// the manifest's provider is neither written nor compared (a compare per
// selection would grow without bound, and etcd limits a transaction's
// compares): a change of it between the read and the commit stands, as if
// it came just after the publish, which commits its candidates at once.
func TestPublishManifestLeavesKeptSelections(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	m, err := manifest.ParseFile("../manifest/testdata/good/app.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oetcd.PublishManifest(ctx, c, "/p", m); err != nil {
		t.Fatal(err)
	}
	m.Candidates[0].Priority = new(91) // a change, so that there is a transaction
	var selRev int64
	a, kv := interleaved(t, c, func() {
		var err error
		if selRev, err = oetcd.PublishSelection(ctx, c, "/p", "adapter", "queue", "redis-streams"); err != nil {
			t.Error(err)
		}
	})
	rev, err := oetcd.PublishManifest(ctx, a, "/p", m)
	if err != nil {
		t.Fatal(err)
	}
	if rev <= selRev {
		t.Fatalf("the manifest committed at revision %d, the selection at %d", rev, selRev)
	}
	if v := keysUnder(t, c, "/p/selections/")["/p/selections/adapter/queue"]; v != "redis-streams" {
		t.Fatalf("selection = %q, want the concurrent redis-streams", v)
	}
	c0 := m.Candidates[0]
	if v := keysUnder(t, c, "/p/candidates/")[oetcd.CandidateKey("/p", m.Owner, c0.Domain, c0.Key, c0.Provider)]; !strings.Contains(v, `"priority":91`) {
		t.Fatalf("the changed candidate holds %s", v)
	}
	if n := kv.txns.Load(); n != 1 {
		t.Fatalf("%d transactions, want 1: nothing compares the kept selection", n)
	}
}

// A value rewritten as a candidate the registry cannot tell from the one
// stored (capabilities in another order, with spaces or repeated) is not
// written again: a mirror that loads the owner afterwards then breaks a tie
// as the mirror that followed the writes does, by the revision that wrote
// the candidate first. Before, the first kept its entry and sequence number
// while the second ordered the candidate by the rewrite, and they chose
// different winners.
func TestPublishKeepsAValueOfTheSameCandidate(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	set := func(caps ...string) []registry.Candidate {
		return []registry.Candidate{
			{Domain: "d", Key: "k", Provider: "a", Priority: new(5), Capabilities: caps},
			{Domain: "d", Key: "k", Provider: "b", Priority: new(5)},
		}
	}
	r1, m1, _ := mirror(t, newClient(t, s), "/p", nil)
	<-m1.Ready()
	rev1, err := oetcd.Publish(ctx, c, "/p", "o", set("x", "y"))
	if err != nil {
		t.Fatal(err)
	}
	rev2, err := oetcd.Publish(ctx, c, "/p", "o", set("y", " x", "x"))
	if err != nil {
		t.Fatal(err)
	}
	if rev2 != rev1 {
		t.Fatalf("the second publish wrote at %d (the first at %d): want nothing written", rev2, rev1)
	}
	waitRev(t, m1, rev2)
	r2, m2, _ := mirror(t, newClient(t, s), "/p", nil)
	waitRev(t, m2, rev2)
	w1, _ := r1.Resolve("d", "k")
	w2, _ := r2.Resolve("d", "k")
	if w1 == nil || w2 == nil || w1.Provider() != w2.Provider() {
		t.Fatalf("followed: winner %s; loaded: winner %s", entryLine(w1), entryLine(w2))
	}

	// A real change is written.
	rev3, err := oetcd.Publish(ctx, c, "/p", "o", set("z"))
	if err != nil {
		t.Fatal(err)
	}
	waitRev(t, m1, rev3)
	if e, _ := r1.Resolve("d", "k", registry.Require("z")); e == nil || e.Provider() != "a" || rev3 == rev2 {
		t.Fatalf("after a change of capabilities: %s at %d", entryLine(e), rev3)
	}
}
