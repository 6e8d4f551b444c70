package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	oetcd "github.com/oneiric-go/oneiric/etcd"
	"github.com/oneiric-go/oneiric/registry"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// modelState renders the publishers' model as entryLine does.
func modelState(model map[string][]registry.Candidate) []string {
	var out []string
	for o, cs := range model {
		for _, c := range cs {
			caps := slices.Sorted(slices.Values(c.Capabilities))
			if caps == nil {
				caps = []string{}
			}
			var f any
			if name, ok := c.Factory.(string); ok {
				f = factories[name]
			}
			out = append(out, fmt.Sprintf("%q/%q/%q owner=%q priority=%d stack=%d caps=%v factory=%v",
				c.Domain, c.Key, c.Provider, o, *c.Priority, c.StackLevel, caps, f))
		}
	}
	slices.Sort(out)
	return out
}

// Stopping the etcd server in the middle of a stream of publishes, and
// starting it again on the same ports and data directory, loses and
// duplicates nothing: once the mirror has caught up, it holds exactly the
// last acknowledged set of every owner (each publisher retries a publish
// until it is acknowledged, so that set is what etcd holds), each candidate
// once. While the server is down the mirror reports itself unhealthy.
func TestMirrorSurvivesServerRestart(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	const prefix = "/restart"
	r, m, _ := mirror(t, newClient(t, s), prefix, factories, oetcd.WithProgressInterval(100*time.Millisecond),
		oetcd.WithBackoff(20*time.Millisecond, 200*time.Millisecond))
	<-m.Ready()

	model := map[string][]registry.Candidate{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	revs := make([]int64, 2)
	errs := make([]error, 2)
	for w := range 2 {
		ws := []string{fmt.Sprintf("w%d-a", w), fmt.Sprintf("w%d-b", w), fmt.Sprintf("w%d/c", w)}
		wg.Go(func() { revs[w], errs[w] = publishCount(ctx, c, prefix, uint64(w), ws, 150, model, &mu) })
	}
	// Let the stream run, then take the server away mid-stream.
	eventually(t, time.Minute, "the mirror did not reach revision 40", func() bool { return m.Revision() >= 40 })
	s.Stop()
	eventually(t, 10*time.Second, "the mirror still reports itself healthy with the server down", func() bool { return !m.Status().Healthy })
	down := m.Status()
	time.Sleep(500 * time.Millisecond)
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	waitRev(t, m, max(revs[0], revs[1]))

	got, _ := registryState(r)
	want := modelState(model)
	if !slices.Equal(got, want) {
		t.Fatalf("the mirror (-) differs from the acknowledged sets (+):\n%s", diff(got, want))
	}
	sameState(t, "after the restart", r, c, prefix, factories)
	eventually(t, 10*time.Second, "the mirror is not healthy again", func() bool { return m.Status().Healthy })
	st := m.Status()
	t.Logf("down at revision %d (healthy %v, last error %v); caught up to revision %d with %d candidates; loads %d",
		down.Revision, down.Healthy, down.LastError, st.Revision, len(got), st.Loads)
}

// A compaction past the mirror's revision, while the mirror is held before
// its watch, is recovered by a reload: the watch from the old revision
// fails with ErrCompacted, the mirror loads the prefix again, and converges:
// a changed owner gets its new set, a vanished owner an empty one, a new
// owner its set, a removed selection is cleared and a new one set.
func TestMirrorReloadsAfterCompaction(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	const prefix = "/compact"
	mustPublish := func(owner string, cs ...registry.Candidate) int64 {
		t.Helper()
		rev, err := oetcd.Publish(ctx, c, prefix, owner, cs)
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
	mustPublish("billing", cand("adapter", "cache", "redis", 90), cand("adapter", "cache", "memcached", 50))
	mustPublish("legacy", cand("adapter", "queue", "rabbit", 10))
	if _, err := oetcd.PublishSelection(ctx, c, prefix, "adapter", "cache", "memcached"); err != nil {
		t.Fatal(err)
	}

	// Hold the mirror after its first load until the test has compacted.
	release := make(chan struct{})
	var loads int
	hold := oetcd.WithBeforeWatch(func(ctx context.Context, rev int64) {
		loads++
		if loads == 1 {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
	})
	r, m, _ := mirror(t, newClient(t, s), prefix, factories, hold)
	<-m.Ready()
	if e, _ := r.Resolve("adapter", "cache"); e.Provider() != "memcached" {
		t.Fatalf("before: adapter/cache is won by %q, want the selected memcached", e.Provider())
	}
	held := m.Revision()

	mustPublish("billing", cand("adapter", "cache", "redis", 95)) // changed, memcached gone
	mustPublish("legacy")                                         // vanished
	mustPublish("ops", cand("adapter", "queue", "nats", 60))      // new
	if _, err := oetcd.PublishSelection(ctx, c, prefix, "adapter", "cache", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := oetcd.PublishSelection(ctx, c, prefix, "adapter", "queue", "nats"); err != nil {
		t.Fatal(err)
	}
	last := int64(0)
	for i := range 50 { // more revisions, elsewhere in etcd
		resp, err := c.Put(ctx, "/elsewhere", fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		last = resp.Header.Revision
	}
	if _, err := c.Compact(ctx, last); err != nil {
		t.Fatal(err)
	}
	close(release)

	eventually(t, time.Minute, "the mirror did not reload after the compaction", func() bool { return m.Status().Loads >= 2 })
	waitRev(t, m, last)
	st := m.Status()
	if !errors.Is(st.LastError, rpctypes.ErrCompacted) {
		t.Fatalf("last error %v, want one matching ErrCompacted", st.LastError)
	}
	sameState(t, "after the reload", r, c, prefix, factories)
	if e, _ := r.Resolve("adapter", "cache"); e.Provider() != "redis" || e.Priority() != 95 {
		t.Fatalf("adapter/cache is won by %s, want redis at 95 (the cleared selection no longer applies)", entryLine(e))
	}
	if e, _ := r.Resolve("adapter", "queue"); e.Provider() != "nats" || e.Owner() != "ops" {
		t.Fatalf("adapter/queue is won by %s, want ops's nats", entryLine(e))
	}
	t.Logf("held at revision %d, compacted at %d; %+v", held, last, st)
}

// The same recovery without a hook: the mirror's connection is cut (a TCP
// proxy between its client and etcd) while others publish and compact; when
// the connection returns, clientv3 resumes the watch from the mirror's
// revision, etcd answers that it is compacted, and the mirror reloads. It
// reports itself unhealthy while cut off.
func TestMirrorReloadsAfterCompactionWhileCutOff(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	const prefix = "/cut"
	p := startProxy(t, s.Client[len("http://"):])
	r, m, _ := mirror(t, newClient(t, s, p.URL()), prefix, factories,
		oetcd.WithProgressInterval(100*time.Millisecond), oetcd.WithBackoff(20*time.Millisecond, 200*time.Millisecond))
	rev, err := oetcd.Publish(ctx, c, prefix, "billing", []registry.Candidate{cand("adapter", "cache", "redis", 90)})
	if err != nil {
		t.Fatal(err)
	}
	waitRev(t, m, rev)

	p.Cut()
	eventually(t, 10*time.Second, "the mirror still reports itself healthy while cut off", func() bool { return !m.Status().Healthy })
	for i := range 20 {
		if _, err = oetcd.Publish(ctx, c, prefix, "billing", []registry.Candidate{cand("adapter", "cache", "redis", 100+i)}); err != nil {
			t.Fatal(err)
		}
	}
	if rev, err = oetcd.Publish(ctx, c, prefix, "ops", []registry.Candidate{cand("adapter", "queue", "nats", 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	loadsBefore := m.Status().Loads
	p.Restore()

	waitRev(t, m, rev)
	sameState(t, "after the cut", r, c, prefix, factories)
	st := m.Status()
	if st.Loads <= loadsBefore {
		t.Fatalf("the mirror caught up without a reload across a compaction: %+v", st)
	}
	eventually(t, 10*time.Second, "the mirror is not healthy again", func() bool { return m.Status().Healthy })
	t.Logf("%+v", st)
}
