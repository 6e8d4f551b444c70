package etcd_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"

	oetcd "github.com/oneiric-go/oneiric/etcd"
	"github.com/oneiric-go/oneiric/etcd/internal/etcdtest"
	"github.com/oneiric-go/oneiric/registry"
)

// A host mirrors a prefix into its registry; a publisher replaces the
// "billing" owner's set; the host's registry shows it at the revision
// Publish returns.
func ExampleMirror() {
	dir, err := os.MkdirTemp("", "oneiric-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	srv, err := etcdtest.Start(dir) // an in-process etcd on loopback
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	cli, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()

	ctx, cancel := context.WithCancel(context.Background())
	r := registry.New()
	m, err := oetcd.Mirror(ctx, cli, "/oneiric/prod", r, map[string]any{
		"cache:Redis": "a constructor of this host",
	}, oetcd.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	defer func() { cancel(); <-m.Done() }()

	rev, err := oetcd.Publish(ctx, cli, "/oneiric/prod", "billing", []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(90), Factory: "cache:Redis"},
		{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(50)},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := m.WaitRevision(ctx, rev); err != nil {
		log.Fatal(err)
	}
	e, _ := r.Resolve("adapter", "cache")
	fmt.Println(e.Provider(), e.Owner(), e.Factory())
	fmt.Println(oetcd.CandidateKey("/oneiric/prod", "billing", "adapter", "cache", "redis"))
	st := m.Status()
	fmt.Println(st.Healthy, st.Owners, st.Candidates, st.Skipped)
	// Output:
	// redis billing a constructor of this host
	// /oneiric/prod/candidates/billing/adapter/cache/redis
	// true 1 2 0
}
