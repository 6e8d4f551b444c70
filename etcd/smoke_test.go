package etcd_test

import (
	"testing"

	oetcd "github.com/oneiric-go/oneiric/etcd"
	"github.com/oneiric-go/oneiric/registry"
)

func TestSmoke(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	r, m, _ := mirror(t, c, "/smoke", map[string]any{"redis": "REDIS"})
	rev, err := oetcd.Publish(ctx, c, "/smoke", "billing", []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(90), Factory: "redis"},
		{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(50)},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitRev(t, m, rev)
	e, ok := r.Resolve("adapter", "cache")
	if !ok || e.Provider() != "redis" || e.Factory() != "REDIS" || e.Owner() != "billing" {
		t.Fatalf("got %v %v", e, ok)
	}
	t.Logf("%+v", m.Status())
}
