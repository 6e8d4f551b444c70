package bench

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/internal/model"
	"github.com/oneiric-go/oneiric/registry"
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
			// A writer's round trip leaves the key as it was. Its
			// Register, at a key whose winner it beats, shows in Resolve
			// and in a listing made before.
			i := slices.IndexFunc(ds.addrs, func(a addr) bool {
				e, _ := want.Resolve(a.domain, a.key)
				return e.Priority() < writerPriority
			})
			a := ds.addrs[i]
			before, _ := s.Resolve(a.domain, a.key)
			s.ListActive(a.domain) // a listing for the write to make stale
			w := newWriter(s, 1)
			w.step(&a)
			wantWinner := w.provider
			if got, _ := s.Resolve(a.domain, a.key); got.Provider() != wantWinner {
				t.Fatalf("after the writer's Register the winner is %q, want %q", got.Provider(), wantWinner)
			}
			listed := false
			for _, e := range s.ListActive(a.domain) {
				if e.Key() == a.key {
					listed = true
					if e.Provider() != wantWinner {
						t.Fatalf("after the writer's Register ListActive shows %q for the key, want %q", e.Provider(), wantWinner)
					}
				}
			}
			if !listed {
				t.Fatal("after the writer's Register ListActive leaves out its key")
			}
			w.finish()
			if after, _ := s.Resolve(a.domain, a.key); after != before || w.errs != 0 {
				t.Fatalf("after the writer's round trip the winner is %v (was %v), %d errors", after, before, w.errs)
			}
			for _, d := range ds.domains {
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
			if im.floor {
				return // the floor has no Explain or Snapshot
			}
			for _, a := range ds.addrs {
				agreeExplain(t, s, want, a)
			}
			agreeSnapshots(t, s.Snapshot(), want.Snapshot(), len(ds.addrs))
			agreeSnapshots(t, s.Snapshot(ds.domains[0]), want.Snapshot(ds.domains[0]), stdKeys)
		})
	}
}

// TestStoresAgreeOnRandomWrites drives every implementation, the floor
// included, with the same random Register, Unregister, Resolve and
// ListActive calls over a few addresses, so that keys appear and empty,
// domains vanish and come back and winners change both ways, and checks
// each against the seed's design after every call. It writes over every
// listing it gets, which must be the caller's own.
func TestStoresAgreeOnRandomWrites(t *testing.T) {
	doms := []string{"tenant-b", "tenant-a"}
	keys := []string{"queue", "cache", "storage"}
	provs := []string{"redis", "memcached", "valkey"}
	for _, im := range impls[1:] {
		t.Run(im.name, func(t *testing.T) {
			for run := range uint64(50) {
				rng := rand.New(rand.NewPCG(seed, run))
				s, want := im.new(), impls[0].new()
				for step := range 300 {
					d, k, p := doms[rng.IntN(len(doms))], keys[rng.IntN(len(keys))], provs[rng.IntN(len(provs))]
					switch rng.IntN(4) {
					case 0, 1:
						c := domain.Candidate{Domain: d, Key: k, Provider: p, Priority: new(rng.IntN(3))}
						if _, err := s.Register(c); err != nil {
							t.Fatal(err)
						}
						if _, err := want.Register(c); err != nil {
							t.Fatal(err)
						}
					case 2:
						if got, exp := s.Unregister(d, k, p), want.Unregister(d, k, p); got != exp {
							t.Fatalf("run %d, step %d: Unregister(%q, %q, %q) removed %d, want %d", run, step, d, k, p, got, exp)
						}
					case 3:
						got, exp := s.ListActive(d), want.ListActive(d)
						if len(got) != len(exp) {
							t.Fatalf("run %d, step %d: ListActive(%q) has %d winners, want %d", run, step, d, len(got), len(exp))
						}
						for i := range got {
							if !same(got[i], exp[i]) || got[i].Key() != exp[i].Key() {
								t.Fatalf("run %d, step %d: ListActive(%q)[%d] = %q of %q, want %q of %q", run, step, d, i,
									got[i].Provider(), got[i].Key(), exp[i].Provider(), exp[i].Key())
							}
							got[i] = nil
						}
					}
					for _, dd := range doms {
						for _, kk := range keys {
							got, ok := s.Resolve(dd, kk)
							exp, wok := want.Resolve(dd, kk)
							if ok != wok || ok && !same(got, exp) {
								t.Fatalf("run %d, step %d: Resolve(%q, %q) = %v, %v; want %v, %v", run, step, dd, kk, got, ok, exp, wok)
							}
						}
					}
				}
			}
		})
	}
}

// TestStoresAgreeOnRegisterWorkloads: the data sets of BenchmarkRegister
// (keys of 1, 10, 100 and 2,000 candidates), a round of its registrations and
// its reset, and BenchmarkRegisterOneKey's 2,000 registrations into one key,
// leave every implementation with the same rankings. Under the race
// detector the keys of 2,000 leave out the seed's stores, which take most of
// a minute there; they are package model, which the registry's differential
// tests check against the registry at every size.
func TestStoresAgreeOnRegisterWorkloads(t *testing.T) {
	skip := func(im impl, size int) bool {
		return im.floor || raceEnabled && size >= 2000 && strings.HasPrefix(im.name, "seed-")
	}
	for _, size := range registerSizes {
		t.Run(fmt.Sprint("cands=", size), func(t *testing.T) {
			ds := registerData()[size]
			stores := make([]store, 0, len(impls))
			for _, im := range impls {
				if skip(im, size) {
					continue
				}
				s := im.new()
				ds.load(t, s)
				a := ds.addrs[len(ds.addrs)/2]
				if _, err := s.Register(domain.Candidate{Domain: a.domain, Key: a.key, Provider: newProvider, Priority: new(50)}); err != nil {
					t.Fatal(err)
				}
				stores = append(stores, s)
			}
			a := ds.addrs[len(ds.addrs)/2]
			compare := func() {
				t.Helper()
				for _, s := range stores[1:] {
					for _, b := range ds.addrs[:min(len(ds.addrs), 50)] {
						agreeExplain(t, s, stores[0], b)
					}
					agreeExplain(t, s, stores[0], a)
					agreeSnapshots(t, s.Snapshot(), stores[0].Snapshot(), len(ds.addrs))
				}
			}
			compare()
			// BenchmarkRegister's reset.
			for i, s := range stores {
				if n := s.Unregister(a.domain, a.key, newProvider); n != 1 {
					t.Fatalf("store %d: the reset removed %d candidates, want 1", i, n)
				}
			}
			compare()
		})
	}
	t.Run("one key of 2,000", func(t *testing.T) {
		var stores []store
		for _, im := range impls {
			if skip(im, 2000) {
				continue
			}
			s := im.new()
			for i := range 2000 {
				c := domain.Candidate{Domain: domainName(0), Key: keyName(0), Provider: fmt.Sprintf("provider-%04d", i), Priority: new(i * 7919 % 100)}
				if _, err := s.Register(c); err != nil {
					t.Fatal(err)
				}
			}
			stores = append(stores, s)
		}
		for _, s := range stores[1:] {
			agreeExplain(t, s, stores[0], addr{domainName(0), keyName(0)})
		}
	})
}

// agreeExplain checks that s ranks a's candidates as want does, with the
// same scores.
func agreeExplain(t *testing.T, s, want store, a addr) {
	t.Helper()
	got, exp := s.Explain(a.domain, a.key).Ordered, want.Explain(a.domain, a.key).Ordered
	if len(got) != len(exp) {
		t.Fatalf("Explain(%q, %q) ranks %d, want %d", a.domain, a.key, len(got), len(exp))
	}
	for i := range got {
		if !same(got[i].Entry, exp[i].Entry) || got[i].Score != exp[i].Score {
			t.Fatalf("Explain(%q, %q) rank %d = %q %v, want %q %v", a.domain, a.key, i, got[i].Entry.Provider(), got[i].Score, exp[i].Entry.Provider(), exp[i].Score)
		}
	}
}

// agreeSnapshots checks that two snapshots, of whatever implementation, hold
// the same keys, each with the same candidates in the same rank order, and
// that they hold keys keys.
func agreeSnapshots(t *testing.T, got, want any, keys int) {
	t.Helper()
	g, w := snapshotRanks(t, got), snapshotRanks(t, want)
	if len(g) != keys || len(w) != keys {
		t.Fatalf("snapshots hold %d and %d keys, want %d", len(g), len(w), keys)
	}
	for _, a := range slices.SortedFunc(maps.Keys(w), func(x, y addr) int {
		return cmpAddr(x, y)
	}) {
		ge, we := g[a], w[a]
		if len(ge) != len(we) {
			t.Fatalf("snapshot of %v: %d candidates, want %d", a, len(ge), len(we))
		}
		for i := range ge {
			if !same(ge[i], we[i]) {
				t.Fatalf("snapshot of %v, rank %d: %q seq %d, want %q seq %d", a, i, ge[i].Provider(), ge[i].Sequence(), we[i].Provider(), we[i].Sequence())
			}
		}
	}
}

func cmpAddr(x, y addr) int {
	if x.domain != y.domain {
		if x.domain < y.domain {
			return -1
		}
		return 1
	}
	switch {
	case x.key < y.key:
		return -1
	case x.key > y.key:
		return 1
	}
	return 0
}

// snapshotRanks returns every key of a snapshot with its candidates in rank
// order, whichever implementation made it.
func snapshotRanks(t *testing.T, snap any) map[addr][]*domain.Entry {
	t.Helper()
	out := map[addr][]*domain.Entry{}
	switch s := snap.(type) {
	case *registry.Snapshot:
		for _, d := range s.Domains() {
			for _, e := range s.ListActive(d) {
				var ranked []*domain.Entry
				for _, r := range s.Explain(d, e.Key()).Ordered {
					ranked = append(ranked, r.Entry)
				}
				out[addr{d, e.Key()}] = ranked
			}
		}
	case map[model.Addr][]*domain.Entry:
		for a, es := range s {
			out[addr{a.Domain, a.Key}] = es
		}
	case map[addr]*ranked:
		for a, r := range s {
			out[a] = r.entries
		}
	default:
		t.Fatalf("unknown snapshot type %T", snap)
	}
	return out
}

// same reports whether two entries, from different stores loaded with the
// same candidates in the same order, are the same registration.
func same(a, b *domain.Entry) bool {
	return a != nil && b != nil && a.Provider() == b.Provider() && a.Sequence() == b.Sequence()
}
