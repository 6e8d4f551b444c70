//go:build regtest

package shard

import (
	"testing"

	"github.com/oneiric-go/oneiric/sequence"
)

// TestLockOrderCheckerFlagsViolations shows that the lock-order checker counts
// an acquisition that breaks the order: shard 3 then shard 1, and the batch
// mutex taken while a shard is held. Ascending acquisitions count nothing.
func TestLockOrderCheckerFlagsViolations(t *testing.T) {
	var seq sequence.Counter
	s := NewSet(8, &seq)
	before, _ := LockOrderViolations()

	unlock := s.lockShards([]int{5, 1, 3, 1})
	unlock()
	if n, last := LockOrderViolations(); n != before {
		t.Fatalf("ascending acquisition flagged: %s", last)
	}

	s.lock(3)
	s.lock(1)
	s.unlock(1)
	s.unlock(3)
	s.lock(2)
	s.lockBatch()
	s.unlockBatch()
	s.unlock(2)
	if n, _ := LockOrderViolations(); n != before+2 {
		t.Fatalf("violations counted: %d, want %d", n-before, 2)
	}
}
