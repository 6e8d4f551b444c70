package shard

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// domainTable returns a new table of test domain i.
func domainTable(i int) *table { return &table{name: fmt.Sprintf("domain-%d", i)} }

// domainHash is the hash of test domain i. It puts every domain on one of
// five probe starts, so that probe sequences cross many filled and removed
// slots.
func domainHash(i int) uint64 { return uint64(i%5) * 0x9e3779b97f4a7c15 }

// TestDomainIndexMatchesMap adds and removes domains at random, then removes
// them all, and checks the index against a map after every step: lookups of
// every name, the live tables it lists, its load and its size.
func TestDomainIndexMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var sh Shard
	model := map[int]*table{}
	shrank := 0
	check := func(step int) {
		t.Helper()
		x := sh.domains.Load()
		require.Equal(t, len(model), x.live, "step %d: live count", step)
		require.LessOrEqual(t, 2*x.used, len(x.slots), "step %d: load above one half", step)
		require.True(t, len(x.slots) == minDomainSlots || 16*x.live >= len(x.slots),
			"step %d: %d slots for %d domains", step, len(x.slots), x.live)
		listed := map[*table]bool{}
		x.tables(func(tb *table) { listed[tb] = true })
		require.Len(t, listed, len(model), "step %d: tables listed", step)
		for j := range 40 {
			got := x.get(domainHash(j), domainTable(j).name)
			if tb := model[j]; tb != nil {
				require.Same(t, tb, got, "step %d: domain %d", step, j)
				require.True(t, listed[tb], "step %d: domain %d not listed", step, j)
			} else {
				require.Nil(t, got, "step %d: domain %d", step, j)
			}
		}
	}
	remove := func(i int) {
		before := len(sh.domains.Load().slots)
		sh.removeDomainLocked(domainHash(i), model[i])
		delete(model, i)
		if len(sh.domains.Load().slots) < before {
			shrank++
		}
	}
	for step := range 5000 {
		i := rng.IntN(40)
		if _, ok := model[i]; ok && rng.IntN(2) == 0 {
			remove(i)
		} else if !ok {
			model[i] = domainTable(i)
			sh.addDomainLocked(domainHash(i), model[i])
		}
		check(step)
	}
	for i := range 40 {
		if _, ok := model[i]; ok {
			remove(i)
			check(5000 + i)
		}
	}
	x := sh.domains.Load()
	require.Zero(t, x.live)
	require.Len(t, x.slots, minDomainSlots, "an emptied index shrinks to the least size")
	require.Positive(t, shrank, "no removal shrank the index")
	var empty *domainIndex
	require.Nil(t, empty.get(0, "domain-0"), "a shard without domains finds none")
}

// TestDomainIndexConcurrentReaders churns domains in a shard's index
// (removed slots, copies as it grows and shrinks) under the shard's mutex,
// while readers, without it, look up domains that stay: they must always
// find their tables.
func TestDomainIndexConcurrentReaders(t *testing.T) {
	var sh Shard
	const kept = 10
	// Domains that come and go are added first, so that they sit before the
	// kept ones in the probe sequences they share.
	live := map[int]*table{}
	for i := kept; i < kept+30; i++ {
		live[i] = domainTable(i)
		sh.addDomainLocked(domainHash(i), live[i])
	}
	keptTables := make([]*table, kept)
	for i := range kept {
		keptTables[i] = domainTable(i)
		sh.addDomainLocked(domainHash(i), keptTables[i])
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	var misses, lookups atomic.Int64
	for r := range 2 {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				i := (n + r) % kept
				want := keptTables[i]
				if sh.domains.Load().get(domainHash(i), want.name) != want {
					misses.Add(1)
				}
				lookups.Add(1)
				if n%64 == 63 {
					runtime.Gosched() // where goroutines share one thread (js/wasm), let the writer run
				}
			}
		})
	}
	for lookups.Load() == 0 {
		runtime.Gosched() // the readers are probing before the churn starts
	}
	// Rounds of adding 600 domains, then removing them all but a few, so
	// that the index grows to 2,048 slots or more and shrinks back to 128 or
	// fewer.
	rng := rand.New(rand.NewPCG(9, 10))
	grew, shrank, most := 0, 0, 0
	for range 10 {
		for _, i := range rng.Perm(600) {
			if _, ok := live[kept+i]; ok {
				continue
			}
			sh.mu.Lock()
			before := len(sh.domains.Load().slots)
			live[kept+i] = domainTable(kept + i)
			sh.addDomainLocked(domainHash(kept+i), live[kept+i])
			if n := len(sh.domains.Load().slots); n > before {
				grew++
				most = max(most, n)
			}
			sh.mu.Unlock()
		}
		for _, i := range rng.Perm(600)[:595] {
			tb, ok := live[kept+i]
			if !ok {
				continue
			}
			sh.mu.Lock()
			before := len(sh.domains.Load().slots)
			sh.removeDomainLocked(domainHash(kept+i), tb)
			delete(live, kept+i)
			if len(sh.domains.Load().slots) < before {
				shrank++
			}
			sh.mu.Unlock()
		}
		require.LessOrEqual(t, len(sh.domains.Load().slots), 128, "the index did not shrink back")
	}
	// Then adds and removes mixed at random, so that domains are added
	// while removed slots lie in the probe sequences (the rounds above
	// rebuild between their phases, and leave none): an add must not refill
	// a removed slot, whose hash a reader may be comparing.
	for range 20000 {
		i := kept + rng.IntN(200)
		sh.mu.Lock()
		if tb, ok := live[i]; ok {
			sh.removeDomainLocked(domainHash(i), tb)
			delete(live, i)
		} else {
			live[i] = domainTable(i)
			sh.addDomainLocked(domainHash(i), live[i])
		}
		sh.mu.Unlock()
	}
	for i, tb := range live {
		require.Same(t, tb, sh.domains.Load().get(domainHash(i), tb.name), "domain %d", i)
	}
	stop.Store(true)
	wg.Wait()
	require.Positive(t, grew, "the index never grew")
	require.GreaterOrEqual(t, most, 2048, "the index never grew to 2,048 slots")
	require.Positive(t, shrank, "no removal shrank the index")
	require.Zero(t, misses.Load(), "lookups of present domains that did not find their table")
}

// TestDomainIndexNeverRefillsARemovedSlot: a removed domain's slot keeps its
// hash for readers that may still be comparing it, so a domain added later
// with the same hash takes another slot, though the removed one comes first
// in its probe sequence.
func TestDomainIndexNeverRefillsARemovedSlot(t *testing.T) {
	var sh Shard
	keep := domainTable(100) // keeps the index from shrinking away
	sh.addDomainLocked(domainHash(100), keep)
	a, b := domainTable(1), domainTable(6) // one hash: 1 % 5 == 6 % 5
	sh.addDomainLocked(domainHash(1), a)
	x := sh.domains.Load()
	slotOf := func(tb *table) int {
		for i := range x.slots {
			if x.slots[i].t.Load() == tb {
				return i
			}
		}
		return -1
	}
	at := slotOf(a)
	require.GreaterOrEqual(t, at, 0)
	sh.removeDomainLocked(domainHash(1), a)
	require.Same(t, x, sh.domains.Load(), "no rebuild in between")
	sh.addDomainLocked(domainHash(6), b)
	require.Same(t, x, sh.domains.Load(), "no rebuild in between")
	require.NotEqual(t, at, slotOf(b), "the new domain refilled the removed one's slot")
	require.Same(t, b, x.get(domainHash(6), b.name))
	require.Nil(t, x.get(domainHash(1), a.name))
}
