package etcd_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	oetcd "github.com/oneiric-go/oneiric/etcd"
	"github.com/oneiric-go/oneiric/etcd/internal/etcdtest"
	"github.com/oneiric-go/oneiric/registry"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// startServer starts an embedded etcd member for the test and stops it at
// the end.
func startServer(t *testing.T) *etcdtest.Server {
	t.Helper()
	s, err := etcdtest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// newClient returns a client of s (or of url), closed at the end of the test.
func newClient(t *testing.T, s *etcdtest.Server, url ...string) *clientv3.Client {
	t.Helper()
	c, err := s.NewClient(url...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// quiet is a logger for mirrors whose warnings a test expects.
func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// mirror starts a mirror of prefix into a new registry; the returned stop
// ends it and waits until it has stopped (also run at the end of the test,
// before the client closes).
func mirror(t *testing.T, c *clientv3.Client, prefix string, factories map[string]any, opts ...oetcd.Option) (*registry.Registry, *oetcd.Replica, func()) {
	t.Helper()
	r := registry.New()
	m, stop := mirrorInto(t, c, prefix, r, factories, opts...)
	return r, m, stop
}

// mirrorInto is mirror into the given registry.
func mirrorInto(t *testing.T, c *clientv3.Client, prefix string, r *registry.Registry, factories map[string]any, opts ...oetcd.Option) (*oetcd.Replica, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m, err := oetcd.Mirror(ctx, c, prefix, r, factories, append([]oetcd.Option{oetcd.WithLogger(quiet())}, opts...)...)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stop := func() {
		cancel()
		select {
		case <-m.Done():
		case <-time.After(30 * time.Second):
			t.Errorf("the mirror did not stop within 30 s of its context ending")
		}
	}
	t.Cleanup(stop)
	return m, stop
}

// waitRev waits up to a minute for m to reach rev.
func waitRev(t *testing.T, m *oetcd.Replica, rev int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.WaitRevision(ctx, rev); err != nil {
		t.Fatalf("%v (status %+v)", err, m.Status())
	}
}

// eventually polls cond every 10 ms for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
