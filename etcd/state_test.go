package etcd_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/oneiric-go/oneiric/registry"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// registryState renders what r holds: one line per candidate
// (domain/key/provider, owner, priority, stack level, capabilities, factory)
// and one per winner, sorted.
func registryState(r *registry.Registry) (cands, winners []string) {
	s := r.Snapshot()
	for _, d := range s.Domains() {
		for _, e := range s.ListActive(d) {
			cands = append(cands, entryLine(e))
			winners = append(winners, fmt.Sprintf("%s/%s -> %s (owner %s)", d, e.Key(), e.Provider(), e.Owner()))
		}
		for _, e := range s.ListShadowed(d) {
			cands = append(cands, entryLine(e))
		}
	}
	slices.Sort(cands)
	slices.Sort(winners)
	return cands, winners
}

func entryLine(e *registry.Entry) string {
	return fmt.Sprintf("%q/%q/%q owner=%q priority=%d stack=%d caps=%v factory=%v",
		e.Domain(), e.Key(), e.Provider(), e.Owner(), e.Priority(), e.StackLevel(), e.Capabilities(), e.Factory())
}

// etcdState renders what etcd holds under prefix, read independently of the
// package: the key's parts unescaped, the value decoded with encoding/json.
// factories maps factory names as the mirror's table does. It returns the
// candidate lines (as entryLine renders them) and the selections.
func etcdState(t *testing.T, c *clientv3.Client, prefix string, factories map[string]any) (cands []string, sels map[[2]string]string, rev int64) {
	t.Helper()
	resp, err := c.Get(context.Background(), prefix+"/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	sels = map[[2]string]string{}
	for _, kv := range resp.Kvs {
		parts := strings.Split(strings.TrimPrefix(string(kv.Key), prefix+"/"), "/")
		for i := range parts {
			if parts[i], err = url.PathUnescape(parts[i]); err != nil {
				t.Fatal(err)
			}
		}
		if parts[0] == "owners" {
			continue // the owners' generation keys: neither candidates nor selections
		}
		if parts[0] == "selections" {
			sels[[2]string{parts[1], parts[2]}] = string(kv.Value)
			continue
		}
		var v struct {
			Priority     int      `json:"priority"`
			StackLevel   int      `json:"stack_level"`
			Capabilities []string `json:"capabilities"`
			Factory      string   `json:"factory"`
		}
		if err := json.Unmarshal(kv.Value, &v); err != nil {
			t.Fatal(err)
		}
		caps := slices.Sorted(slices.Values(v.Capabilities))
		if caps == nil {
			caps = []string{}
		}
		var f any
		if v.Factory != "" {
			f = factories[v.Factory]
		}
		cands = append(cands, fmt.Sprintf("%q/%q/%q owner=%q priority=%d stack=%d caps=%v factory=%v",
			parts[2], parts[3], parts[4], parts[1], v.Priority, v.StackLevel, caps, f))
	}
	slices.Sort(cands)
	return cands, sels, resp.Header.Revision
}

// diff returns the lines only in a and only in b, for a readable failure.
func diff(a, b []string) string {
	in := func(x string, s []string) bool { _, ok := slices.BinarySearch(s, x); return ok }
	var out []string
	for _, x := range a {
		if !in(x, b) {
			out = append(out, "- "+x)
		}
	}
	for _, x := range b {
		if !in(x, a) {
			out = append(out, "+ "+x)
		}
	}
	if len(out) > 20 {
		out = append(out[:20], fmt.Sprintf("… and %d more", len(out)-20))
	}
	return strings.Join(out, "\n")
}

// sameState fails t unless r holds exactly what etcd holds under prefix,
// and each of its winners is a candidate etcd's selection names, when that
// key has one that names a candidate.
func sameState(t *testing.T, what string, r *registry.Registry, c *clientv3.Client, prefix string, factories map[string]any) {
	t.Helper()
	want, sels, _ := etcdState(t, c, prefix, factories)
	got, _ := registryState(r)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: the registry (-) differs from etcd (+):\n%s", what, diff(got, want))
	}
	for a, p := range sels {
		if _, ok := r.Resolve(a[0], a[1], registry.Provider(p)); !ok {
			continue // the selection waits for its provider
		}
		if e, _ := r.Resolve(a[0], a[1]); e.Provider() != p {
			t.Fatalf("%s: %s/%s is won by %q, the selection names %q", what, a[0], a[1], e.Provider(), p)
		}
	}
}
