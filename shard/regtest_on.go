//go:build regtest

package shard

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// This file is compiled only with the regtest build tag, which only tests
// use. It adds three things to the package:
//
//   - yield points at internal interleavings (between loading the epoch and
//     the View, between reading and publishing, between publishing the Views
//     of a batch, between the shards of a Snapshot), so that a linearizability
//     checker sees the interleavings that matter even on one CPU;
//   - two deliberate bugs, off unless a test switches them on through [Bugs]:
//     a lost update (Register reads the domain's View before taking the
//     shard lock) and a torn snapshot (Snapshot locks one shard at a time);
//   - a lock-order checker: every shard lock acquisition asserts, per
//     goroutine, the order the package doc gives.

// Bugs switches on deliberate bugs, so that tests can show their checkers
// catch them.
var Bugs struct {
	LostUpdate   atomic.Bool
	TornSnapshot atomic.Bool
}

func yield() { runtime.Gosched() }

type stale struct {
	ok bool
	ks *KeyState
}

// staleRead is the lost-update bug: it reads the key's state without the
// lock, so that two concurrent writers both build on the same version.
func (s *Set) staleRead(r Route, key string) stale {
	if !Bugs.LostUpdate.Load() {
		return stale{}
	}
	_, sl := s.keyLocked(r, key)
	ks := sl.load()
	runtime.Gosched()
	return stale{ok: true, ks: ks}
}

func (st stale) or(ks *KeyState) *KeyState {
	if st.ok {
		return st.ks
	}
	return ks
}

// tornSnapshot is the torn-snapshot bug: it reads each shard under its own
// lock, released before the next is taken, so writes can land in between.
func (s *Set) tornSnapshot(routes []Route) (map[string]*View, bool) {
	if !Bugs.TornSnapshot.Load() {
		return nil, false
	}
	out := map[string]*View{}
	if routes == nil {
		for i := range s.shards {
			s.lock(i)
			s.shardViewsLocked(i, s.committed.Load(), out)
			s.unlock(i)
			yield()
		}
		return out, true
	}
	for _, r := range routes {
		s.lock(r.Index)
		for d, v := range s.viewsLocked([]Route{r}) {
			out[d] = v
		}
		s.unlock(r.Index)
		yield()
	}
	return out, true
}

// lockOrder records, per set and goroutine, the locks held, in the order
// they were taken.
var lockOrder struct {
	mu         sync.Mutex // guards held and last
	held       map[heldKey][]int
	last       string
	violations atomic.Int64
}

type heldKey struct {
	set *Set
	g   uint64
}

func lockOrderAcquire(s *Set, i int) {
	k := heldKey{s, goid()}
	lockOrder.mu.Lock()
	defer lockOrder.mu.Unlock()
	if lockOrder.held == nil {
		lockOrder.held = map[heldKey][]int{}
	}
	h := lockOrder.held[k]
	if n := len(h); n > 0 && h[n-1] >= i {
		lockOrder.violations.Add(1)
		lockOrder.last = fmt.Sprintf("goroutine %d took lock %d while holding %v", k.g, i, h)
	}
	lockOrder.held[k] = append(h, i)
}

func lockOrderRelease(s *Set, i int) {
	k := heldKey{s, goid()}
	lockOrder.mu.Lock()
	defer lockOrder.mu.Unlock()
	h := lockOrder.held[k]
	for j := len(h) - 1; j >= 0; j-- {
		if h[j] == i {
			h = append(h[:j], h[j+1:]...)
			break
		}
	}
	if len(h) == 0 {
		delete(lockOrder.held, k)
	} else {
		lockOrder.held[k] = h
	}
}

// LockOrderViolations returns how many lock acquisitions broke the lock
// order since the process started, and a description of the last one.
func LockOrderViolations() (int64, string) {
	lockOrder.mu.Lock()
	defer lockOrder.mu.Unlock()
	return lockOrder.violations.Load(), lockOrder.last
}

// goid returns the current goroutine's id, parsed from its stack header.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
