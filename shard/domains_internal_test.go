package shard

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// domainTable returns the table of test domain i. Its hash puts every
// domain on one of five probe starts, so that probe sequences cross many
// filled and removed slots.
func domainTable(i int) *table {
	return &table{name: fmt.Sprintf("domain-%d", i), hash: uint64(i%5) * 0x9e3779b97f4a7c15}
}

// TestDomainIndexMatchesMap adds and removes domains at random and checks
// the index against a map after every step: lookups of every name, the
// live tables it lists, its load and its size.
func TestDomainIndexMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var sh Shard
	model := map[int]*table{}
	for step := range 5000 {
		i := rng.IntN(40)
		if tb, ok := model[i]; ok && rng.IntN(2) == 0 {
			sh.removeDomainLocked(tb)
			delete(model, i)
		} else if !ok {
			tb := domainTable(i)
			sh.addDomainLocked(tb)
			model[i] = tb
		}
		x := sh.domains.Load()
		require.Equal(t, len(model), x.live, "step %d: live count", step)
		require.LessOrEqual(t, 2*x.used, len(x.slots), "step %d: load above one half", step)
		require.True(t, len(x.slots) == minDomainSlots || 16*x.live >= len(x.slots),
			"step %d: %d slots for %d domains", step, len(x.slots), x.live)
		listed := map[*table]bool{}
		x.tables(func(tb *table) { listed[tb] = true })
		require.Len(t, listed, len(model), "step %d: tables listed", step)
		for j := range 40 {
			probe := domainTable(j)
			got := x.get(probe.hash, probe.name)
			if tb := model[j]; tb != nil {
				require.Same(t, tb, got, "step %d: domain %d", step, j)
				require.True(t, listed[tb], "step %d: domain %d not listed", step, j)
			} else {
				require.Nil(t, got, "step %d: domain %d", step, j)
			}
		}
	}
	var empty *domainIndex
	require.Nil(t, empty.get(0, "domain-0"), "a shard without domains finds none")
}

// TestDomainIndexConcurrentReaders churns domains in a shard's index
// (removed slots, rebuilds as it grows and shrinks) under the shard's mutex,
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
		sh.addDomainLocked(live[i])
	}
	keptTables := make([]*table, kept)
	for i := range kept {
		keptTables[i] = domainTable(i)
		sh.addDomainLocked(keptTables[i])
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	var misses, lookups atomic.Int64
	for r := range 2 {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				want := keptTables[(n+r)%kept]
				if sh.domains.Load().get(want.hash, want.name) != want {
					misses.Add(1)
				}
				lookups.Add(1)
			}
		})
	}
	// Phases of mostly adding and mostly removing, so that the index grows
	// past 500 domains and shrinks back below 30, again and again.
	rng := rand.New(rand.NewPCG(9, 10))
	grew, shrank := 0, 0
	for step := range 20000 {
		adding := step/1000%2 == 0
		sh.mu.Lock()
		before := len(sh.domains.Load().slots)
		i := kept + rng.IntN(600)
		if tb, ok := live[i]; ok && (!adding || rng.IntN(8) == 0) {
			sh.removeDomainLocked(tb)
			delete(live, i)
		} else if !ok && (adding || rng.IntN(8) == 0) {
			live[i] = domainTable(i)
			sh.addDomainLocked(live[i])
		}
		switch after := len(sh.domains.Load().slots); {
		case after > before:
			grew++
		case after < before:
			shrank++
		}
		sh.mu.Unlock()
	}
	stop.Store(true)
	wg.Wait()
	require.Positive(t, lookups.Load())
	require.Positive(t, grew, "the index never grew")
	require.Positive(t, shrank, "the index never shrank")
	require.Zero(t, misses.Load(), "lookups of present domains that did not find their table")
}
