package registry_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
)

// ccKeys returns the set of keys of es.
func ccKeys(es []*registry.Entry) map[string]bool {
	out := make(map[string]bool, len(es))
	for _, e := range es {
		out[e.Key()] = true
	}
	return out
}

// TestSnapshotNeverHoldsYWithoutX has a writer register X in domain A and
// then Y in domain B (another shard), over and over, while readers take
// snapshots of A and B (in both orders), of everything, and read without
// locks: since X's Register returns before Y's is called, no reader may see Y
// and then miss X.
func TestSnapshotNeverHoldsYWithoutX(t *testing.T) {
	const rounds, readers = 400, 4
	r := ccSpreadRegistry(t)
	require.NotEqual(t, registry.ShardOf(r, "A"), registry.ShardOf(r, "B"))
	var written atomic.Int64 // rounds whose Y has been registered
	var snapshots, reads atomic.Int64

	// checkSnapshot fails if s holds a key in B that it lacks in A.
	checkSnapshot := func(s *registry.Snapshot, how string) bool {
		inA := ccKeys(s.ListActive("A"))
		for _, y := range s.ListActive("B") {
			if !inA[y.Key()] {
				t.Errorf("%s holds Y %s in B without X in A", how, y.Key())
				return false
			}
			if x, ok := s.Resolve("A", y.Key()); !ok || x.Sequence() >= y.Sequence() {
				t.Errorf("%s: X of %s missing or not older than Y", how, y.Key())
				return false
			}
		}
		return true
	}

	ccRun(t, readers+1, func(g int, tick func()) {
		if g == readers {
			defer written.Store(-1) // tells readers to stop
			for i := range rounds {
				key := fmt.Sprint("k", i)
				_, errX := r.Register(registry.Candidate{Domain: "A", Key: key, Provider: "X"})
				_, errY := r.Register(registry.Candidate{Domain: "B", Key: key, Provider: "Y"})
				if !assert.NoError(t, errX) || !assert.NoError(t, errY) {
					return
				}
				written.Store(int64(i))
				tick()
			}
			return
		}
		for n := 0; ; n++ {
			last := written.Load()
			if last < 0 {
				return
			}
			ok := true
			switch (g + n) % 4 {
			case 0:
				ok = checkSnapshot(r.Snapshot("A", "B"), `Snapshot("A", "B")`)
			case 1:
				ok = checkSnapshot(r.Snapshot("B", "A"), `Snapshot("B", "A")`)
			case 2:
				ok = checkSnapshot(r.Snapshot(), "Snapshot()")
			case 3:
				// Lock-free reads: Y of the round in progress, then its X.
				key := fmt.Sprint("k", last+1)
				_, seenY := r.Resolve("B", key)
				if _, seenX := r.Resolve("A", key); seenY && !seenX {
					t.Errorf("Resolve saw Y %s in B and then missed X in A", key)
					ok = false
				}
				reads.Add(1)
			}
			if !ok {
				return
			}
			snapshots.Add(1)
			tick()
		}
	})
	s := r.Snapshot("B", "A")
	assert.Len(t, s.ListActive("A"), rounds)
	assert.Len(t, s.ListActive("B"), rounds)
	assert.Equal(t, []string{"A", "B"}, s.Domains())
	t.Logf("%d checks (%d lock-free) during %d rounds", snapshots.Load(), reads.Load(), rounds)
}

// TestRegisterPackageAtomicForReaders has a writer register packages whose
// candidates span four domains (on four shards, and, in a second run, all on
// one) while readers read those domains in varying orders, without locks and
// through snapshots. A package is registered all at once: a reader that has
// seen one of its entries must see every other one in any later call, and a
// snapshot holds all of a package or none of it.
func TestRegisterPackageAtomicForReaders(t *testing.T) {
	for _, c := range []struct {
		name string
		new  func(t *testing.T) *registry.Registry
	}{
		{"four shards", func(t *testing.T) *registry.Registry { return ccSpreadRegistry(t) }},
		{"one shard", func(t *testing.T) *registry.Registry {
			return registry.New(registry.WithHash(func(string) uint64 { return 0 }))
		}},
	} {
		t.Run(c.name, func(t *testing.T) { ccPackageAtomic(t, c.new(t)) })
	}
}

func ccPackageAtomic(t *testing.T, r *registry.Registry) {
	const packages, readers = 300, 4
	var started atomic.Int64 // index of the package being registered; -1 when done

	// The package's candidates, in a different domain order each time; A
	// gets two keys.
	candidates := func(i int) []registry.Candidate {
		key := fmt.Sprint("k", i)
		order := slices.Clone(ccDomains)
		rand.New(rand.NewPCG(uint64(i), 0)).Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		cs := []registry.Candidate{{Domain: "A", Key: "x" + key, Provider: "pkg"}}
		for _, d := range order {
			cs = append(cs, registry.Candidate{Domain: d, Key: key, Provider: "pkg"})
		}
		return cs
	}

	// packagesIn returns the packages visible in the active entries es, by
	// their key "k<i>" (A's second key "xk<i>" is left out).
	packagesIn := func(es []*registry.Entry) map[string]bool {
		out := map[string]bool{}
		for _, e := range es {
			if e.Key()[0] == 'k' {
				out[e.Key()] = true
			}
		}
		return out
	}

	ccRun(t, readers+1, func(g int, tick func()) {
		if g == readers {
			defer started.Store(-1)
			for i := range packages {
				started.Store(int64(i))
				es, err := r.RegisterPackage(fmt.Sprint("pkg", i), "/x", candidates(i), nil)
				if !assert.NoError(t, err) || !assert.Len(t, es, len(ccDomains)+1) {
					return
				}
				tick()
			}
			return
		}
		rng := rand.New(rand.NewPCG(uint64(g), 1))
		for {
			i := started.Load()
			if i < 0 {
				return
			}
			order := slices.Clone(ccDomains)
			rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
			switch rng.IntN(3) {
			case 0:
				// Resolve each entry of the package being registered, in
				// random order: once one is seen, every later one must be.
				key := fmt.Sprint("k", i)
				type addr struct{ d, k string }
				reads := make([]addr, 0, len(order)+1)
				for _, d := range order {
					reads = append(reads, addr{d, key})
				}
				reads = slices.Insert(reads, rng.IntN(len(reads)+1), addr{"A", "x" + key})
				var seen *addr
				for j, a := range reads {
					_, ok := r.Resolve(a.d, a.k)
					if seen != nil && !ok {
						t.Errorf("package %d: Resolve saw %s/%s, then missed %s/%s", i, seen.d, seen.k, a.d, a.k)
						return
					}
					if ok && seen == nil {
						seen = &reads[j]
					}
				}
			case 1:
				// ListActive domain by domain: each call must see every
				// package an earlier call saw.
				var before map[string]bool
				var prev string
				for _, d := range order {
					now := packagesIn(r.ListActive(d))
					for k := range before {
						if !now[k] {
							t.Errorf("ListActive(%s) saw package %s, then ListActive(%s) missed it", prev, k, d)
							return
						}
					}
					before, prev = now, d
				}
				x := ccKeys(r.ListActive("A"))
				for k := range before {
					if !x["x"+k] {
						t.Errorf("ListActive saw package %s, then missed its second key in A", k)
						return
					}
				}
			case 2:
				// A snapshot holds every package whole or not at all.
				var s *registry.Snapshot
				if rng.IntN(2) == 0 {
					s = r.Snapshot(order...)
				} else {
					s = r.Snapshot()
				}
				want := packagesIn(s.ListActive(order[0]))
				for _, d := range order[1:] {
					if got := packagesIn(s.ListActive(d)); !maps.Equal(got, want) {
						t.Errorf("snapshot holds part of a package: %s has %d packages, %s has %d", order[0], len(want), d, len(got))
						return
					}
				}
				if n := s.Len(); n != len(want)*(len(ccDomains)+1) {
					t.Errorf("snapshot holds %d entries for %d whole packages", n, len(want))
					return
				}
			}
			tick()
		}
	})
	for _, d := range ccDomains {
		assert.Len(t, packagesIn(r.ListActive(d)), packages, d)
	}
	assert.Equal(t, packages*(len(ccDomains)+1), r.Snapshot().Len())
}
