// Command oneiric-etcd-demo starts a local, in-process etcd, publishes two
// manifests into it, and shows two mirrors (two "hosts", each with its own
// registry and factory table) agreeing on every winner, before and after an
// update; then it stops everything. Run it from the repository root with
//
//	go -C etcd run ./cmd/oneiric-etcd-demo
//
// It writes etcd's data to a temporary directory that it removes at the end.
package main

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	oetcd "github.com/oneiric-go/oneiric/etcd"
	"github.com/oneiric-go/oneiric/etcd/internal/etcdtest"
	"github.com/oneiric-go/oneiric/manifest"
	"github.com/oneiric-go/oneiric/registry"
	clientv3 "go.etcd.io/etcd/client/v3"
)

const prefix = "/oneiric/demo"

// Two manifests, in the format of docs/manifest.md.
const (
	billingJSON = `{
  "owner": "billing",
  "candidates": [
    {"domain": "adapter", "key": "cache", "provider": "redis", "priority": 90,
     "capabilities": ["ttl", "cluster"], "factory": "cache:Redis"},
    {"domain": "adapter", "key": "cache", "provider": "memcached", "priority": 50,
     "capabilities": ["ttl"], "factory": "cache:Memcached"},
    {"domain": "adapter", "key": "queue", "provider": "redis-streams", "priority": 80,
     "factory": "queue:RedisStreams"},
    {"domain": "adapter", "key": "queue", "provider": "nats", "priority": 60, "factory": "queue:NATS"},
    {"domain": "service", "key": "payments", "provider": "stripe", "priority": 50, "stack_level": 1},
    {"domain": "service", "key": "payments", "provider": "adyen", "priority": 50}
  ],
  "selections": {"adapter": {"queue": "nats"}}
}`
	opsJSON = `{
  "owner": "ops",
  "candidates": [
    {"domain": "adapter", "key": "cache", "provider": "valkey", "priority": 70, "factory": "cache:Valkey"},
    {"domain": "tenant/acme", "key": "storage", "provider": "s3/eu-west-1", "priority": 10}
  ]
}`
	// The update: ops raises valkey above redis.
	opsUpdateJSON = `{
  "owner": "ops",
  "candidates": [
    {"domain": "adapter", "key": "cache", "provider": "valkey", "priority": 95, "factory": "cache:Valkey"},
    {"domain": "tenant/acme", "key": "storage", "provider": "s3/eu-west-1", "priority": 10}
  ]
}`
)

// factory stands for a constructor in a host's factory table. It is
// comparable, so an unchanged candidate keeps its entry across reloads.
type factory struct{ host, name string }

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	dir, err := os.MkdirTemp("", "oneiric-etcd-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := etcdtest.Start(dir)
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Printf("etcd: a single member on %s (data in a temporary directory)\n", srv.Client)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type host struct {
		name string
		r    *registry.Registry
		m    *oetcd.Replica
		cli  *clientv3.Client
	}
	var hosts []*host
	quiet := slog.New(slog.DiscardHandler)
	for _, name := range []string{"host-a", "host-b"} {
		cli, err := srv.NewClient()
		if err != nil {
			return err
		}
		defer cli.Close()
		table := map[string]any{}
		for _, f := range []string{"cache:Redis", "cache:Memcached", "cache:Valkey", "queue:RedisStreams", "queue:NATS"} {
			table[f] = factory{host: name, name: f}
		}
		r := registry.New()
		m, err := oetcd.Mirror(ctx, cli, prefix, r, table, oetcd.WithLogger(quiet))
		if err != nil {
			return err
		}
		hosts = append(hosts, &host{name: name, r: r, m: m, cli: cli})
	}
	defer func() {
		cancel()
		for _, h := range hosts {
			<-h.m.Done()
		}
	}()

	pub, err := srv.NewClient()
	if err != nil {
		return err
	}
	defer pub.Close()
	publish := func(name, data string) (int64, error) {
		m, err := manifest.Parse(name, []byte(data))
		if err != nil {
			return 0, err
		}
		rev, err := oetcd.PublishManifest(ctx, pub, prefix, m)
		if err != nil {
			return 0, err
		}
		fmt.Printf("published %s (owner %q, %d candidates, %d selections) at revision %d\n",
			name, m.Owner, len(m.Candidates), len(m.Selections), rev)
		return rev, nil
	}
	show := func(rev int64) error {
		var tables []string
		for _, h := range hosts {
			wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
			err := h.m.WaitRevision(wctx, rev)
			wcancel()
			if err != nil {
				return fmt.Errorf("%s: %w", h.name, err)
			}
			tables = append(tables, winners(h.r))
		}
		for i, h := range hosts {
			st := h.m.Status()
			fmt.Printf("\n%s at revision %d (healthy %v, owners %d, candidates %d, values skipped %d):\n%s",
				h.name, st.Revision, st.Healthy, st.Owners, st.Candidates, st.Skipped, tables[i])
		}
		if tables[0] != tables[1] {
			return fmt.Errorf("the hosts disagree")
		}
		fmt.Printf("\nboth hosts agree on every winner\n\n")
		return nil
	}

	if _, err := publish("billing.json", billingJSON); err != nil {
		return err
	}
	rev, err := publish("ops.json", opsJSON)
	if err != nil {
		return err
	}
	// A value no host can use: its factory is in nobody's table.
	bad := oetcd.CandidateKey(prefix, "intern", "adapter", "cache", "mystery")
	put, err := pub.Put(ctx, bad, `{"domain":"adapter","key":"cache","provider":"mystery","priority":1000,"factory":"cache:Mystery"}`)
	if err != nil {
		return err
	}
	fmt.Printf("put %s with an unknown factory at revision %d\n", bad, put.Header.Revision)
	if err := show(max(rev, put.Header.Revision)); err != nil {
		return err
	}

	if _, err = publish("ops.json (valkey raised to 95)", opsUpdateJSON); err != nil {
		return err
	}
	if rev, err = oetcd.PublishSelection(ctx, pub, prefix, "service", "payments", "adyen"); err != nil {
		return err
	}
	fmt.Printf("selected adyen for service/payments at revision %d\n", rev)
	return show(rev)
}

// winners renders the winner of every key of r, with the entry's owner,
// priority, sequence and factory. The factory column shows the factory's
// name, the same on both hosts, though each host's table holds its own value.
func winners(r *registry.Registry) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 2, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  DOMAIN\tKEY\tWINNER\tOWNER\tPRIORITY\tSEQ\tFACTORY\tWHY")
	s := r.Snapshot()
	for _, d := range s.Domains() {
		for _, e := range s.ListActive(d) {
			f := "-"
			if fv, ok := e.Factory().(factory); ok {
				f = fv.name
			}
			why := slices.DeleteFunc(s.Explain(d, e.Key()).Ordered[0].Reasons, func(r string) bool {
				return strings.HasPrefix(r, "registration_order")
			})
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", d, e.Key(), e.Provider(), e.Owner(), e.Priority(), e.Sequence(), f, strings.Join(why, "; "))
		}
	}
	tw.Flush()
	return b.String()
}
