package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
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
// has, all at one revision; publishing the same set again writes nothing.
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
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events of the second publish:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	keys := slices.Sorted(maps.Keys(keysUnder(t, c, "/p/")))
	if len(keys) != 4 {
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
	if keys := slices.Collect(maps.Keys(keysUnder(t, c, "/p/"))); len(keys) != 1 || !strings.Contains(keys[0], "/ops/") {
		t.Fatalf("after removing billing: %q", keys)
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oetcd.Publish(ctx, c, tc.prefix, tc.owner, tc.cs)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("err = %v, want one matching %v", err, tc.is)
			}
		})
	}
	if keys := keysUnder(t, c, ""); len(keys) != 0 {
		t.Fatalf("refused publishes wrote %v", keys)
	}
}

// A set of more keys than etcd allows in one transaction (--max-txn-ops,
// 128 by default) is refused whole: it is never split.
func TestPublishTooManyKeys(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	var cs []registry.Candidate
	for i := range 129 {
		cs = append(cs, cand("adapter", fmt.Sprintf("k%03d", i), "p", 1))
	}
	_, err := oetcd.Publish(ctxT(t), c, "/p", "big", cs)
	if err == nil || !strings.Contains(err.Error(), "too many operations") {
		t.Fatalf("err = %v, want etcd's too many operations", err)
	}
	if keys := keysUnder(t, c, "/p/"); len(keys) != 0 {
		t.Fatalf("a refused publish wrote %d keys", len(keys))
	}
	if _, err := oetcd.Publish(ctxT(t), c, "/p", "big", cs[:128]); err != nil {
		t.Fatalf("128 keys: %v", err)
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
	w := c.Watch(wctx, "/p/", clientv3.WithPrefix(), clientv3.WithRev(start.Header.Revision+1))
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
	if len(resp.Kvs) != len(m.Candidates)+1 {
		t.Fatalf("%d keys, want %d candidates and a selection", len(resp.Kvs), len(m.Candidates))
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
