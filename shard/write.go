package shard

import (
	"cmp"
	"slices"
	"time"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/internal/trie"
)

// Change reports that a write changed the winner of a key. Writers return
// Changes so that the caller can log them after every lock is released.
type Change struct {
	Domain, Key string
	Old, New    *domain.Entry // nil when the key had, or has, no candidates
}

// Register stamps d with the next sequence number and adds it to its key
// under the routed shard's lock. It returns the stored entry and, when the
// key's winner changed, the change.
func (s *Set) Register(r Route, d *domain.Draft) (*domain.Entry, *Change) {
	sh := &s.shards[r.Index]
	stale := sh.staleRead(r) // regtest only: the lost-update bug reads before locking
	s.lock(r.Index)
	defer s.unlock(r.Index)
	t, v := stale.or(sh.viewLocked(r))
	yield()
	e := d.Finish(s.seq.Next(), time.Now())
	old := v.Key(e.Key())
	ks := old.insert(e, sh.selectionLocked(r.Domain, e.Key()))
	sh.publishLocked(r, t, v.withKey(e.Key(), ks, 1))
	return e, changed(r.Domain, e.Key(), old, ks)
}

// RegisterBatch registers drafts, routed by routes (one per draft), in one
// step: they get consecutive sequence numbers in the order given, and every
// reader sees all of them or none, across domains too (see the package doc).
func (s *Set) RegisterBatch(routes []Route, drafts []*domain.Draft) ([]*domain.Entry, []Change) {
	if len(drafts) == 0 {
		return nil, nil
	}
	multi := false
	idx := make([]int, len(routes))
	for i, r := range routes {
		idx[i] = r.Index
		multi = multi || r.Domain != routes[0].Domain
	}
	if multi {
		s.lockBatch() // lock order 1
		defer s.unlockBatch()
	}
	unlock := s.lockShards(idx) // lock order 2
	defer unlock()

	type work struct {
		route Route
		t     *table
		cur   *View // published before this batch
		next  *View
		old   map[string]*KeyState // each touched key's state before the batch
	}
	var domains []*work
	byName := map[string]*work{}
	first := s.seq.Reserve(len(drafts))
	now := time.Now()
	entries := make([]*domain.Entry, len(drafts))
	for i, d := range drafts {
		r := routes[i]
		w := byName[r.Domain]
		if w == nil {
			t, v := s.shards[r.Index].viewLocked(r)
			w = &work{route: r, t: t, cur: v, next: v, old: map[string]*KeyState{}}
			byName[r.Domain] = w
			domains = append(domains, w)
		}
		e := d.Finish(first+uint64(i), now)
		entries[i] = e
		ks := w.next.Key(e.Key())
		if _, seen := w.old[e.Key()]; !seen {
			w.old[e.Key()] = ks
		}
		sel := s.shards[r.Index].selectionLocked(r.Domain, e.Key())
		w.next = w.next.withKey(e.Key(), ks.insert(e, sel), 1)
	}

	var epoch uint64
	if multi {
		s.epoch++
		epoch = s.epoch
	}
	var changes []Change
	for _, w := range domains {
		if multi {
			w.next.epoch, w.next.prev = epoch, w.cur.withoutHistory()
		}
		s.shards[w.route.Index].publishLocked(w.route, w.t, w.next)
		yield()
		for key, old := range w.old {
			if c := changed(w.route.Domain, key, old, w.next.Key(key)); c != nil {
				changes = append(changes, *c)
			}
		}
	}
	if multi {
		s.committed.Store(epoch) // the batch becomes visible here, all at once
	}
	slices.SortFunc(changes, func(a, b Change) int { return cmp.Compare(a.New.Sequence(), b.New.Sequence()) })
	return entries, changes
}

// Unregister removes every candidate of provider from (domain, key) and
// returns how many it removed.
func (s *Set) Unregister(r Route, key, provider string) (int, *Change) {
	sh := &s.shards[r.Index]
	s.lock(r.Index)
	defer s.unlock(r.Index)
	t, v := sh.viewLocked(r)
	old := v.Key(key)
	if old == nil {
		return 0, nil
	}
	ks, n := old.without(provider)
	if n == 0 {
		return 0, nil
	}
	sh.publishLocked(r, t, v.withKey(key, ks, -n))
	return n, changed(r.Domain, key, old, ks)
}

// Select sets (or, with provider "", clears) the selection of (domain, key)
// and re-ranks the key's candidates at once.
func (s *Set) Select(r Route, key, provider string) *Change {
	sh := &s.shards[r.Index]
	s.lock(r.Index)
	defer s.unlock(r.Index)
	if provider == "" {
		if m := sh.sel[r.Domain]; m != nil {
			delete(m, key)
			if len(m) == 0 {
				delete(sh.sel, r.Domain)
			}
		}
	} else {
		if sh.sel == nil {
			sh.sel = map[string]map[string]string{}
		}
		if sh.sel[r.Domain] == nil {
			sh.sel[r.Domain] = map[string]string{}
		}
		sh.sel[r.Domain][key] = provider
	}
	t, v := sh.viewLocked(r)
	old := v.Key(key)
	if old == nil || old.Selected == provider {
		return nil
	}
	ks := old.reselect(provider)
	sh.publishLocked(r, t, v.withKey(key, ks, 0))
	return changed(r.Domain, key, old, ks)
}

// Snapshot returns the current View of each routed domain that has
// candidates, or of every domain when routes is nil, read under the locks of
// the shards involved so that the Views form one consistent cut.
func (s *Set) Snapshot(routes []Route) map[string]*View {
	if torn, ok := s.tornSnapshot(routes); ok { // regtest only: the torn-snapshot bug
		return torn
	}
	out := map[string]*View{}
	if routes == nil {
		all := make([]int, len(s.shards))
		for i := range all {
			all[i] = i
		}
		unlock := s.lockShards(all) // lock order 2
		defer unlock()
		for i := range s.shards {
			if m := s.shards[i].domains.Load(); m != nil {
				for name, t := range m.All() {
					if v := t.root.Load(); v.Len() > 0 {
						out[name] = v
					}
				}
			}
		}
		return out
	}
	idx := make([]int, len(routes))
	for i, r := range routes {
		idx[i] = r.Index
	}
	unlock := s.lockShards(idx) // lock order 2
	defer unlock()
	for _, r := range routes {
		if _, v := s.shards[r.Index].viewLocked(r); v.Len() > 0 {
			out[r.Domain] = v
		}
		yield()
	}
	return out
}

// lockShards locks the shards with the given indices (duplicates allowed) in
// ascending order, as the package doc requires, and returns the function
// that unlocks them.
func (s *Set) lockShards(idx []int) func() {
	idx = slices.Clone(idx)
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		s.lock(i)
	}
	return func() {
		for j := len(idx) - 1; j >= 0; j-- {
			s.unlock(idx[j])
		}
	}
}

// batchLock stands for the batch mutex in lock-order checks: it comes before
// every shard.
const batchLock = -1

// lock takes shard i's mutex. Every shard lock is taken here, so that a
// regtest build can check the lock order (package doc) on each acquisition.
func (s *Set) lock(i int) {
	lockOrderAcquire(s, i)
	s.shards[i].mu.Lock()
}

// unlock releases shard i's mutex.
func (s *Set) unlock(i int) {
	s.shards[i].mu.Unlock()
	lockOrderRelease(s, i)
}

// unlockBatch releases the batch mutex.
func (s *Set) unlockBatch() {
	s.batchMu.Unlock()
	lockOrderRelease(s, batchLock)
}

// lockBatch takes the batch mutex, lock order 1.
func (s *Set) lockBatch() {
	lockOrderAcquire(s, batchLock)
	s.batchMu.Lock()
}

// viewLocked returns the routed domain's table (nil if none) and current View.
// The caller holds sh.mu, so no batch is half-published in this shard.
func (sh *Shard) viewLocked(r Route) (*table, *View) {
	m := sh.domains.Load()
	if m == nil {
		return nil, nil
	}
	t, ok := m.Get(r.Hash, r.Domain)
	if !ok {
		return nil, nil
	}
	return t, t.root.Load()
}

// publishLocked makes v the routed domain's current View, adding the domain's
// table when t is nil and removing it when v is empty. The caller holds sh.mu.
func (sh *Shard) publishLocked(r Route, t *table, v *View) {
	if v.Len() == 0 && v.epoch == 0 {
		if t != nil {
			t.root.Store(nil) // a reader still holding t sees an empty domain
			next := sh.domains.Load().Delete(r.Hash, r.Domain)
			sh.domains.Store(&next)
		}
		return
	}
	if t == nil {
		t = &table{name: r.Domain}
		var m trie.Map[*table]
		if cur := sh.domains.Load(); cur != nil {
			m = *cur
		}
		t.root.Store(v)
		next := m.Set(r.Hash, r.Domain, t)
		sh.domains.Store(&next)
		return
	}
	t.root.Store(v)
}

// selectionLocked returns the provider selected for (domain, key), or "".
// The caller holds sh.mu.
func (sh *Shard) selectionLocked(domain, key string) string {
	return sh.sel[domain][key]
}

// changed returns the Change from old to next, or nil when the winner is the
// same entry.
func changed(dom, key string, old, next *KeyState) *Change {
	var o, n *domain.Entry
	if old != nil {
		o = old.Winner()
	}
	if next != nil {
		n = next.Winner()
	}
	if o == n {
		return nil
	}
	return &Change{Domain: dom, Key: key, Old: o, New: n}
}
