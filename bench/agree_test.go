package bench

import (
	"testing"

	"github.com/oneiric-go/oneiric/domain"
)

// TestStoresAgree checks that every implementation of the benchmarks keeps
// the same winners, rankings and listings on a small data set, so that the
// benchmarks compare designs that do the same work. It is quick: the
// benchmarks themselves run only with -bench.
func TestStoresAgree(t *testing.T) {
	ds := newDataset(20, stdKeys, stdCands)
	want := impls[0].new()
	ds.load(t, want)
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			s := im.new()
			ds.load(t, s)
			for _, a := range ds.addrs {
				got, ok := s.Resolve(a.domain, a.key)
				exp, _ := want.Resolve(a.domain, a.key)
				if !ok || !same(got, exp) {
					t.Fatalf("Resolve(%q, %q) = %v, want provider %q seq %d", a.domain, a.key, got, exp.Provider(), exp.Sequence())
				}
			}
			if _, ok := s.Resolve("tenant-99999", "cache"); ok {
				t.Fatal("Resolve of a missing domain found something")
			}
			// A writer's round trip leaves the key as it was.
			a := ds.addrs[7]
			before, _ := s.Resolve(a.domain, a.key)
			w := newWriter(s, 1)
			w.step(&a)
			wantWinner := before.Provider()
			if writerPriority > before.Priority() {
				wantWinner = w.provider
			}
			if got, _ := s.Resolve(a.domain, a.key); got.Provider() != wantWinner {
				t.Fatalf("after the writer's Register the winner is %q, want %q", got.Provider(), wantWinner)
			}
			w.finish()
			if after, _ := s.Resolve(a.domain, a.key); after != before || w.errs != 0 {
				t.Fatalf("after the writer's round trip the winner is %v (was %v), %d errors", after, before, w.errs)
			}
			if im.floor {
				return
			}
			for _, d := range ds.domains[:3] {
				got, exp := s.ListActive(d), want.ListActive(d)
				if len(got) != len(exp) {
					t.Fatalf("ListActive(%q) has %d winners, want %d", d, len(got), len(exp))
				}
				for i := range got {
					if !same(got[i], exp[i]) {
						t.Fatalf("ListActive(%q)[%d] = %q, want %q", d, i, got[i].Provider(), exp[i].Provider())
					}
				}
			}
			got, exp := s.Explain(a.domain, a.key).Ordered, want.Explain(a.domain, a.key).Ordered
			if len(got) != len(exp) {
				t.Fatalf("Explain ranks %d, want %d", len(got), len(exp))
			}
			for i := range got {
				if !same(got[i].Entry, exp[i].Entry) || got[i].Score != exp[i].Score {
					t.Fatalf("Explain rank %d = %q %v, want %q %v", i, got[i].Entry.Provider(), got[i].Score, exp[i].Entry.Provider(), exp[i].Score)
				}
			}
			if s.Snapshot() == nil || s.Snapshot(ds.domains[0]) == nil {
				t.Fatal("Snapshot returned nil")
			}
		})
	}
}

// same reports whether two entries, from different stores loaded with the
// same candidates in the same order, are the same registration.
func same(a, b *domain.Entry) bool {
	return a != nil && b != nil && a.Provider() == b.Provider() && a.Sequence() == b.Sequence()
}
