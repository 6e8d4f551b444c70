package etcd_test

import (
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"

	oetcd "github.com/oneiric-go/oneiric/etcd"
	"github.com/oneiric-go/oneiric/registry"
)

// The owners' generation keys are neither candidates nor invalid for a
// mirror, whether it finds them in its load or in its watch: nothing is
// skipped, counted or logged as bad, and the registry holds exactly the
// published candidates. Publishing an owner empty removes its generation key
// with its candidates.
func TestGenerationKeyIgnoredByMirror(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	const prefix = "/gen"
	billing := []registry.Candidate{cand("adapter", "cache", "redis", 90), cand("adapter", "cache", "memcached", 50)}
	ops := []registry.Candidate{cand("adapter", "queue", "nats", 60)}
	// One owner before the mirror starts (its load), one after (its watch).
	if _, err := oetcd.Publish(ctx, c, prefix, "billing", billing); err != nil {
		t.Fatal(err)
	}
	logs := &records{}
	r, m, _ := mirror(t, newClient(t, s), prefix, nil, oetcd.WithLogger(slog.New(logs)))
	<-m.Ready()
	if _, err := oetcd.Publish(ctx, c, prefix, "team/ops", ops); err != nil {
		t.Fatal(err)
	}
	billing[0] = cand("adapter", "cache", "redis", 95) // a change: the generation key is written again
	rev, err := oetcd.Publish(ctx, c, prefix, "billing", billing)
	if err != nil {
		t.Fatal(err)
	}
	waitRev(t, m, rev)
	all := keysUnder(t, c, prefix+"/")
	for _, o := range []string{"billing", "team/ops"} {
		if _, ok := all[oetcd.GenerationKey(prefix, o)]; !ok {
			t.Fatalf("no generation key for %q in %q", o, slices.Sorted(maps.Keys(all)))
		}
	}
	check := func(what string, r *registry.Registry, m *oetcd.Replica, owners, cands int) {
		t.Helper()
		st := m.Status()
		if st.Skipped != 0 || st.Invalid != 0 || st.Owners != owners || st.Candidates != cands {
			t.Fatalf("%s: status %+v, want nothing skipped or invalid, %d owners, %d candidates", what, st, owners, cands)
		}
		sameState(t, what, r, c, prefix, nil)
		if got, _ := registryState(r); len(got) != cands {
			t.Fatalf("%s: the registry holds\n%s\nwant %d candidates", what, strings.Join(got, "\n"), cands)
		}
	}
	check("the first mirror", r, m, 2, 3)
	// A mirror that loads them.
	r2, m2, _ := mirror(t, newClient(t, s), prefix, nil, oetcd.WithLogger(slog.New(logs)))
	waitRev(t, m2, rev)
	check("a mirror that loaded", r2, m2, 2, 3)

	// billing published empty: its candidates and its generation key go.
	if rev, err = oetcd.Publish(ctx, c, prefix, "billing", nil); err != nil {
		t.Fatal(err)
	}
	waitRev(t, m, rev)
	waitRev(t, m2, rev)
	want := []string{oetcd.CandidateKey(prefix, "team/ops", "adapter", "queue", "nats"), oetcd.GenerationKey(prefix, "team/ops")}
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(keysUnder(t, c, prefix+"/"))); !slices.Equal(got, want) {
		t.Fatalf("after removing billing etcd holds %q, want %q", got, want)
	}
	check("the first mirror, billing removed", r, m, 1, 1)
	check("the second mirror, billing removed", r2, m2, 1, 1)
	if logs.find("WARN") {
		t.Fatalf("warnings logged:\n%s", strings.Join(logs.lines, "\n"))
	}
}
