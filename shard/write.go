package shard

import (
	"cmp"
	"slices"
	"time"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/internal/trie"
)

// Change reports a key's winner before and after a write. Writers return
// Changes so that the caller can log them after every lock is released.
type Change struct {
	Domain, Key string
	Old, New    *domain.Entry // nil when the key had, or has, no candidates
}

// Changed reports whether the winner changed.
func (c Change) Changed() bool { return c.Old != c.New }

// Register stamps d with the next sequence number and adds it to its key
// under the routed shard's lock.
func (s *Set) Register(r Route, d *domain.Draft) (*domain.Entry, Change) {
	sh := &s.shards[r.Index]
	key := d.Key()
	stale := sh.staleRead(r, key) // regtest only: the lost-update bug reads before locking
	s.lock(r.Index)               // lock order 2
	defer s.unlock(r.Index)
	t, sl := sh.slotLocked(r, key)
	old := stale.or(sl.load())
	yield()
	e := d.Finish(s.seq.Next(), time.Now())
	ks := old.insert(e, sh.selectionLocked(r.Domain, key))
	s.installLocked(r, t, sl, key, ks, 1)
	return e, change(r.Domain, key, old, ks)
}

// RegisterBatch registers drafts, routed by routes (one per draft), in one
// step: they get consecutive sequence numbers in the order given, and every
// reader sees all of them or none, across keys and domains (see the package
// doc). It returns the entries and the winner changes, in sequence order.
func (s *Set) RegisterBatch(routes []Route, drafts []*domain.Draft) ([]*domain.Entry, []Change) {
	if len(drafts) == 0 {
		return nil, nil
	}
	multi := false // more than one key: needs an epoch
	idx := make([]int, len(routes))
	for i, r := range routes {
		idx[i] = r.Index
		multi = multi || r.Domain != routes[0].Domain || drafts[i].Key() != drafts[0].Key()
	}
	if multi {
		s.lockBatch() // lock order 1
		defer s.unlockBatch()
	}
	unlock := s.lockShards(idx) // lock order 2
	defer unlock()

	type work struct {
		route Route
		key   string
		old   *KeyState // before the batch
		next  *KeyState
	}
	var order []*work
	byAddr := map[Addr]*work{}
	first := s.seq.Reserve(len(drafts))
	now := time.Now()
	entries := make([]*domain.Entry, len(drafts))
	for i, d := range drafts {
		r, key := routes[i], d.Key()
		w := byAddr[Addr{r.Domain, key}]
		if w == nil {
			_, sl := s.shards[r.Index].slotLocked(r, key)
			w = &work{route: r, key: key, old: sl.load()}
			w.next = w.old
			byAddr[Addr{r.Domain, key}] = w
			order = append(order, w)
		}
		e := d.Finish(first+uint64(i), now)
		entries[i] = e
		w.next = w.next.insert(e, s.shards[r.Index].selectionLocked(r.Domain, key))
	}

	var epoch uint64
	if multi {
		s.epoch++
		epoch = s.epoch
	}
	changes := make([]Change, 0, len(order))
	for _, w := range order {
		if multi {
			w.next.epoch, w.next.prev = epoch, w.old.withoutHistory()
		}
		sh := &s.shards[w.route.Index]
		t, sl := sh.slotLocked(w.route, w.key)
		s.installLocked(w.route, t, sl, w.key, w.next, len(w.next.Entries)-len(w.old.entries()))
		yield()
		if c := change(w.route.Domain, w.key, w.old, w.next); c.Changed() {
			changes = append(changes, c)
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
func (s *Set) Unregister(r Route, key, provider string) (int, Change) {
	sh := &s.shards[r.Index]
	s.lock(r.Index) // lock order 2
	defer s.unlock(r.Index)
	t, sl := sh.slotLocked(r, key)
	old := sl.load()
	if old == nil {
		return 0, Change{}
	}
	ks, n := old.without(provider)
	if n == 0 {
		return 0, Change{}
	}
	s.installLocked(r, t, sl, key, ks, -n)
	return n, change(r.Domain, key, old, ks)
}

// Select sets (or, with provider "", clears) the selection of (domain, key)
// and re-ranks the key's candidates at once.
func (s *Set) Select(r Route, key, provider string) Change {
	sh := &s.shards[r.Index]
	s.lock(r.Index) // lock order 2
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
	t, sl := sh.slotLocked(r, key)
	old := sl.load()
	if old == nil || old.Selected == provider {
		return Change{}
	}
	ks := old.reselect(provider)
	s.installLocked(r, t, sl, key, ks, 0)
	return change(r.Domain, key, old, ks)
}

// Snapshot returns the current View of each routed domain that has
// candidates, or of every domain when routes is nil, read under the locks of
// the shards involved so that the Views form one consistent cut. Its cost is
// proportional to the number of keys read.
func (s *Set) Snapshot(routes []Route) map[string]*View {
	if torn, ok := s.tornSnapshot(routes); ok { // regtest only: the torn-snapshot bug
		return torn
	}
	var idx []int
	if routes == nil {
		idx = make([]int, len(s.shards))
		for i := range idx {
			idx[i] = i
		}
	} else {
		idx = make([]int, len(routes))
		for i, r := range routes {
			idx[i] = r.Index
		}
	}
	unlock := s.lockShards(idx) // lock order 2
	defer unlock()
	return s.viewsLocked(routes)
}

// viewsLocked reads the Views of the routed domains, or of all, from shards
// the caller has locked. No batch is half-published in a locked shard.
func (s *Set) viewsLocked(routes []Route) map[string]*View {
	out := map[string]*View{}
	w := s.committed.Load()
	if routes == nil {
		for i := range s.shards {
			s.shardViewsLocked(i, w, out)
		}
		return out
	}
	for _, r := range routes {
		if t, _ := s.shards[r.Index].tableLocked(r); t != nil {
			if v := newView(t.states(w)); v != nil {
				out[r.Domain] = v
			}
		}
		yield()
	}
	return out
}

// shardViewsLocked adds the View of every domain of shard i to out. The
// caller holds shard i's lock and loaded the committed epoch w.
func (s *Set) shardViewsLocked(i int, w uint64, out map[string]*View) {
	if dm := s.shards[i].domains.Load(); dm != nil {
		for name, t := range dm.All() {
			if v := newView(t.states(w)); v != nil {
				out[name] = v
			}
		}
	}
}

// batchLock stands for the batch mutex in lock-order checks: it comes before
// every shard.
const batchLock = -1

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

// lockBatch takes the batch mutex, lock order 1.
func (s *Set) lockBatch() {
	lockOrderAcquire(s, batchLock)
	s.batchMu.Lock()
}

// unlockBatch releases the batch mutex.
func (s *Set) unlockBatch() {
	s.batchMu.Unlock()
	lockOrderRelease(s, batchLock)
}

// tableLocked returns the routed domain's table, nil if it has none, and the
// shard's domain index. The caller holds sh.mu.
func (sh *Shard) tableLocked(r Route) (*table, trie.Map[string, *table]) {
	var dm trie.Map[string, *table]
	if p := sh.domains.Load(); p != nil {
		dm = *p
	}
	t, _ := dm.Get(r.Hash, r.Domain)
	return t, dm
}

// slotLocked returns the routed domain's table and key's slot; either may be
// nil. The caller holds sh.mu.
func (sh *Shard) slotLocked(r Route, key string) (*table, *slot) {
	t, _ := sh.tableLocked(r)
	if t == nil {
		return nil, nil
	}
	km := t.keys.Load()
	if km == nil {
		return t, nil
	}
	sl, _ := km.Get(trie.Hash(key), key)
	return t, sl
}

// installLocked makes ks the state of (r.Domain, key), whose table and slot
// (either may be nil) the caller found with slotLocked. A nil ks removes the
// key; a domain left without keys is removed. delta is the change in the
// domain's number of candidates. The caller holds the routed shard's mu.
func (s *Set) installLocked(r Route, t *table, sl *slot, key string, ks *KeyState, delta int) {
	sh := &s.shards[r.Index]
	if t == nil {
		if ks == nil {
			return
		}
		t = &table{}
		t.keys.Store(&trie.Map[string, *slot]{})
		_, dm := sh.tableLocked(r)
		dm = dm.Set(r.Hash, r.Domain, t)
		sh.domains.Store(&dm)
	}
	t.version.Add(1) // odd: readers of several keys retry
	defer t.version.Add(1)
	t.candidates += delta
	switch {
	case sl != nil && ks != nil:
		sl.state.Store(ks)
	case sl == nil && ks != nil:
		sl = &slot{}
		sl.state.Store(ks)
		km := t.keys.Load().Set(trie.Hash(key), key, sl)
		t.keys.Store(&km)
		sh.setKey(r, s.keyHash(r, key), key, sl)
	case sl != nil && ks == nil:
		sl.state.Store(nil) // a reader still holding sl sees no candidates
		km := t.keys.Load().Delete(trie.Hash(key), key)
		t.keys.Store(&km)
		sh.setKey(r, s.keyHash(r, key), key, nil)
		if km.Len() == 0 {
			_, dm := sh.tableLocked(r)
			dm = dm.Delete(r.Hash, r.Domain)
			sh.domains.Store(&dm)
		}
	}
}

// setKey adds (sl != nil) or removes the key in the shard's key index. The
// caller holds sh.mu.
func (sh *Shard) setKey(r Route, h uint64, key string, sl *slot) {
	var km trie.Map[Addr, *slot]
	if p := sh.keys.Load(); p != nil {
		km = *p
	}
	if sl == nil {
		km = km.Delete(h, Addr{r.Domain, key})
	} else {
		km = km.Set(h, Addr{r.Domain, key}, sl)
	}
	sh.keys.Store(&km)
}

// selectionLocked returns the provider selected for (domain, key), or "".
// The caller holds sh.mu.
func (sh *Shard) selectionLocked(domain, key string) string {
	return sh.sel[domain][key]
}

// load returns the slot's state; a nil slot has none.
func (sl *slot) load() *KeyState {
	if sl == nil {
		return nil
	}
	return sl.state.Load()
}

// entries returns the state's entries; a nil state has none.
func (k *KeyState) entries() []*domain.Entry {
	if k == nil {
		return nil
	}
	return k.Entries
}

// change returns the winner change from old to next.
func change(dom, key string, old, next *KeyState) Change {
	c := Change{Domain: dom, Key: key}
	if old != nil {
		c.Old = old.Winner()
	}
	if next != nil {
		c.New = next.Winner()
	}
	return c
}
