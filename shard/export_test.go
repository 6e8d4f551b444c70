package shard

import (
	"time"

	"github.com/oneiric-go/oneiric/domain"
)

// This file gives the black-box tests (package shard_test) the few internals
// they need: the shard and batch mutexes, the lock-order helper, and a batch
// stopped between publishing its Views and committing its epoch.

// LockShardForTest locks shard i's mutex and returns the function that
// unlocks it.
func (s *Set) LockShardForTest(i int) (unlock func()) {
	s.shards[i].mu.Lock()
	return s.shards[i].mu.Unlock
}

// TryLockShardForTest tries to lock shard i's mutex; see [sync.Mutex.TryLock].
func (s *Set) TryLockShardForTest(i int) bool { return s.shards[i].mu.TryLock() }

// UnlockShardForTest unlocks shard i's mutex.
func (s *Set) UnlockShardForTest(i int) { s.shards[i].mu.Unlock() }

// LockBatchForTest locks the batch mutex and returns the function that
// unlocks it.
func (s *Set) LockBatchForTest() (unlock func()) {
	s.batchMu.Lock()
	return s.batchMu.Unlock
}

// LockShardsForTest is the lock-order helper lockShards.
func (s *Set) LockShardsForTest(idx []int) (unlock func()) { return s.lockShards(idx) }

// BeginBatchForTest does what RegisterBatch does for a batch of one draft
// per key (routes and keys must name distinct keys), up to and not including
// the commit of its epoch: every state is published, and the batch mutex and
// the shard mutexes stay locked. commit stores the epoch and unlocks, as
// RegisterBatch does.
func (s *Set) BeginBatchForTest(routes []Route, drafts []*domain.Draft) (entries []*domain.Entry, commit func()) {
	s.batchMu.Lock()
	idx := make([]int, len(routes))
	for i, r := range routes {
		idx[i] = r.Index
	}
	unlock := s.lockShards(idx)
	s.epoch++
	epoch := s.epoch
	first := s.seq.Reserve(len(drafts))
	for i, d := range drafts {
		r := routes[i]
		sh := &s.shards[r.Index]
		t, sl := s.keyLocked(r, d.Key())
		old := sl.load()
		e := d.Finish(first+uint64(i), time.Now())
		entries = append(entries, e)
		next := old.insert(e, sh.policyLocked(r.Domain, d.Key()))
		next.epoch, next.prev = epoch, old.withoutHistory()
		s.installLocked(r, t, sl, d.Key(), next)
	}
	return entries, func() {
		s.committed.Store(epoch)
		unlock()
		s.batchMu.Unlock()
	}
}

// EpochForTest returns the batch epoch that published ks (0 for a write of
// one key).
func EpochForTest(ks *KeyState) uint64 { return ks.epoch }

// HistoryForTest returns how many earlier states ks keeps reachable through
// its prev links.
func HistoryForTest(ks *KeyState) int {
	n := 0
	for ks != nil && ks.prev != nil {
		n++
		ks = ks.prev
	}
	return n
}
