//go:build regtest

package registry_test

import (
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
	"github.com/oneiric-go/oneiric/shard"
)

// These tests run only with -tags regtest, which compiles yield points and
// two deliberate bugs into package shard. They show that the
// linearizability checks above would catch each bug: a check that cannot
// fail proves nothing. Run them at -cpu 1 and -cpu 2 (make test does).

// flagged records histories with a bug switched on and returns how many of
// them porcupine finds not linearizable.
func flagged(t *testing.T, bug interface{ Store(bool) }, w linWorkload, perKey bool, histories int) int {
	bug.Store(true)
	defer bug.Store(false)
	n := 0
	for h := range histories {
		hist, _ := record(registry.New(), w, uint64(1000+h))
		if res, _ := porcupine.CheckOperationsVerbose(linModel(perKey), hist, 0); res == porcupine.Illegal {
			n++
		}
	}
	return n
}

func TestLinearizabilityCatchesLostUpdate(t *testing.T) {
	requireSpread(t, linDomains)
	w := linWorkload{clients: 8, ops: 400, domains: linDomains, keys: linKeys, providers: linProviders}
	n := flagged(t, &shard.Bugs.LostUpdate, w, true, 20)
	t.Logf("lost update flagged in %d of 20 histories", n)
	require.GreaterOrEqual(t, n, 15)
}

func TestLinearizabilityCatchesTornSnapshot(t *testing.T) {
	requireSpread(t, linDomains)
	w := linWorkload{clients: 8, ops: 400, domains: linDomains, keys: linKeys, providers: linProviders, crossDomain: true}
	n := flagged(t, &shard.Bugs.TornSnapshot, w, false, 20)
	t.Logf("torn snapshot flagged in %d of 20 histories", n)
	require.GreaterOrEqual(t, n, 15)
}

// TestLockOrderHolds runs the cross-domain workload, whose Snapshots and
// RegisterPackages take several shard locks, and requires that no lock was
// ever taken out of the order shard's package doc gives.
func TestLockOrderHolds(t *testing.T) {
	w := linWorkload{clients: 8, ops: 2000, domains: linDomains, keys: linKeys, providers: linProviders, crossDomain: true}
	for _, opts := range linConfigs() {
		record(registry.New(opts...), w, 7)
	}
	n, last := shard.LockOrderViolations()
	require.Zero(t, n, last)
}
