package shard

import (
	"slices"
	"time"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/explain"
	"github.com/oneiric-go/oneiric/internal/trie"
)

// Reasons a winner changes, as [Change].Reason gives them.
const (
	ReasonRegister   = "register"
	ReasonPackage    = "register-package"
	ReasonApply      = "apply"
	ReasonUnregister = "unregister"
	ReasonSelect     = "select"
	ReasonHealth     = "health"
)

// Change reports a key's winner before and after a write. Writers return
// Changes so that the caller can log them after every lock is released.
type Change struct {
	Domain, Key string
	Old, New    *domain.Entry // nil when the key had, or has, no candidates
	Reason      string        // one of the Reason constants
}

// Changed reports whether the winner changed.
func (c Change) Changed() bool { return c.Old != c.New }

// Register stamps d with the next sequence number and adds it to its key
// under the routed shard's lock. A limit it would exceed returns a
// *domain.LimitError, and nothing changes.
func (s *Set) Register(r Route, d *domain.Draft) (*domain.Entry, Change, error) {
	sh := &s.shards[r.Index]
	key := d.Key()
	stale := s.staleRead(r, key) // regtest only: the lost-update bug reads before locking
	s.lock(r.Index)              // lock order 2
	defer s.unlock(r.Index)
	t, sl := s.keyLocked(r, key)
	old := stale.or(sl.load())
	if err := s.checkKeyLocked(r, key, t, old.size()+1, old == nil); err != nil {
		return nil, Change{}, err
	}
	if t == nil {
		if err := s.reserveDomains(r.Domain, 1, 0); err != nil {
			return nil, Change{}, err
		}
	}
	yield()
	e := d.Finish(s.seq.Next(), time.Now())
	var p *explain.Policy // an existing key keeps its own
	if old == nil {
		p = sh.policyLocked(r.Domain, key)
	}
	ks := old.insert(e, p)
	s.installLocked(r, t, sl, key, ks)
	c := change(r.Domain, key, old, ks, ReasonRegister)
	s.emit(c)
	return e, c, nil
}

// checkKeyLocked checks the per-key and per-domain limits for a key that
// will hold n candidates, and is new when isNew. The caller holds the routed
// shard's mu.
func (s *Set) checkKeyLocked(r Route, key string, t *table, n int, isNew bool) error {
	if m := s.limits.MaxCandidatesPerKey; m > 0 && n > m {
		return &domain.LimitError{Limit: "candidates per key", Max: m, Domain: r.Domain, Key: key}
	}
	if m := s.limits.MaxKeysPerDomain; m > 0 && isNew && t != nil && t.keys.Load().Len() >= m {
		return &domain.LimitError{Limit: "keys per domain", Max: m, Domain: r.Domain}
	}
	return nil
}

// reserveDomains reserves room for n new domains, or fails without reserving
// any. Creating a table consumes a reservation; removing one releases it.
// freed is how many domains the same write removes (an Apply that swaps one
// domain for another). The limit judges the state the write leaves. The
// count moves at once by n - freed when that is positive, and by nothing
// otherwise; the write releases the rest (freed - n) only once it has
// removed the freed domains (see [Set.batch]). So the count is never below
// the domains a reader can see, and the limit always holds; and a swap
// (n = freed) leaves it unchanged, so a concurrent write of another domain
// is not refused for a domain the swap is about to release, which either
// order of the two allows.
func (s *Set) reserveDomains(dom string, n, freed int) error {
	grow := int64(max(n-freed, 0))
	if grow == 0 {
		return nil
	}
	m := int64(s.limits.MaxDomains)
	for {
		cur := s.domainN.Load()
		if m > 0 && cur+grow > m {
			return &domain.LimitError{Limit: "domains", Max: int(m), Domain: dom}
		}
		if s.domainN.CompareAndSwap(cur, cur+grow) {
			return nil
		}
	}
}

// emit passes a change to the notify function. The caller holds the locks
// of the write that made it.
func (s *Set) emit(c Change) {
	if s.notify != nil && c.Changed() {
		s.notify(c)
	}
}

// BatchResult says what a batch did.
type BatchResult struct {
	Added   []*domain.Entry // in the order the drafts were given
	Kept    []*domain.Entry // owned entries equal to a draft, left in place
	Removed []*domain.Entry // owned entries no draft matched
	Changes []Change        // winner changes, by key in the order first touched
}

// RegisterBatch registers drafts, routed by routes (one per draft), in one
// step: they get consecutive sequence numbers in the order given, and every
// reader sees all of them or none, across keys and domains (see the package
// doc). A limit it would exceed returns a *domain.LimitError and nothing
// changes.
func (s *Set) RegisterBatch(routes []Route, drafts []*domain.Draft) (BatchResult, error) {
	return s.batch("", false, routes, drafts, ReasonPackage)
}

// Apply makes the set of entries owned by owner equal to drafts (routed by
// routes), in one step that every reader sees whole or not at all: an owned
// entry equal to a draft ([domain.Entry.SameAs]) is kept with its sequence
// number, owned entries no draft matches are removed, and the other drafts
// are registered. A limit it would exceed returns a *domain.LimitError and
// nothing changes.
func (s *Set) Apply(owner string, routes []Route, drafts []*domain.Draft) (BatchResult, error) {
	return s.batch(owner, true, routes, drafts, ReasonApply)
}

// batchKey is the work a batch does on one key.
type batchKey struct {
	route   Route
	key     string
	t       *table // as found before the batch changed anything
	old     *KeyState
	gone    map[*domain.Entry]bool
	adds    []int // indices of drafts added to this key
	next    *KeyState
	newKey  bool
	emptied bool
	// owned holds the owner's entries of old not yet matched to a draft, by
	// digest (built on the first draft of the key), so that matching a set
	// of k drafts costs O(k) comparisons, not O(k²).
	owned map[uint64][]*domain.Entry
}

func (s *Set) batch(owner string, replace bool, routes []Route, drafts []*domain.Draft, reason string) (BatchResult, error) {
	var res BatchResult
	s.lockBatch() // lock order 1
	defer s.unlockBatch()

	// Every key the batch may touch: the drafts', and the owner's.
	var order []*batchKey
	byAddr := map[Addr]*batchKey{}
	touch := func(r Route, key string) *batchKey {
		a := Addr{r.Domain, key}
		if w := byAddr[a]; w != nil {
			return w
		}
		w := &batchKey{route: r, key: key}
		byAddr[a] = w
		order = append(order, w)
		return w
	}
	for i, d := range drafts {
		touch(routes[i], d.Key())
	}
	if replace {
		for a, r := range s.owners[owner] {
			touch(r, a.Key)
		}
	}
	idx := make([]int, len(order))
	for i, w := range order {
		idx[i] = w.route.Index
	}
	unlock := s.lockShards(idx) // lock order 2
	defer unlock()
	for _, w := range order {
		var k keyRef
		w.t, k = s.keyLocked(w.route, w.key)
		w.old = k.load()
	}

	// Match drafts to owned entries: equal ones are kept, the rest added.
	matched := map[*domain.Entry]bool{}
	for i, d := range drafts {
		w := byAddr[Addr{routes[i].Domain, d.Key()}]
		if replace {
			if e := w.takeOwned(owner, d.Entry()); e != nil {
				matched[e] = true
				res.Kept = append(res.Kept, e)
				continue
			}
		}
		w.adds = append(w.adds, i)
	}
	if replace {
		for _, w := range order {
			for _, e := range w.old.entries() {
				if e.Owner() == owner && !matched[e] {
					if w.gone == nil {
						w.gone = map[*domain.Entry]bool{}
					}
					w.gone[e] = true
					res.Removed = append(res.Removed, e)
				}
			}
		}
	}

	// Check every limit before anything changes. A limit error names the
	// first domain, in the order the drafts touch them, that exceeds it.
	newDomains := map[string]bool{}
	firstNew := "" // the first of newDomains
	keysAfter := map[string]int{}
	var domains []string // of keysAfter, in order
	for _, w := range order {
		n := w.old.size() - len(w.gone) + len(w.adds)
		w.newKey, w.emptied = w.old == nil && n > 0, w.old != nil && n == 0
		if len(w.adds) > 0 {
			if m := s.limits.MaxCandidatesPerKey; m > 0 && n > m {
				return BatchResult{}, &domain.LimitError{Limit: "candidates per key", Max: m, Domain: w.route.Domain, Key: w.key}
			}
		}
		d := w.route.Domain
		if _, ok := keysAfter[d]; !ok && w.t != nil {
			keysAfter[d] = w.t.keys.Load().Len()
			domains = append(domains, d)
		}
		switch {
		case w.newKey:
			if _, ok := keysAfter[d]; !ok {
				domains = append(domains, d)
			}
			keysAfter[d]++
			if w.t == nil {
				if len(newDomains) == 0 {
					firstNew = d
				}
				newDomains[d] = true
			}
		case w.emptied:
			keysAfter[d]--
		}
	}
	if m := s.limits.MaxKeysPerDomain; m > 0 {
		for _, d := range domains {
			if n := keysAfter[d]; n > m {
				return BatchResult{}, &domain.LimitError{Limit: "keys per domain", Max: m, Domain: d}
			}
		}
	}
	if len(res.Removed) == 0 && len(drafts) == len(res.Kept) {
		return res, nil // nothing to change: no sequence number is consumed
	}
	freed := 0 // domains this batch empties
	for _, n := range keysAfter {
		if n == 0 {
			freed++
		}
	}
	if err := s.reserveDomains(firstNew, len(newDomains), freed); err != nil {
		return BatchResult{}, err
	}

	// Stamp the added drafts, in the order given.
	if n := len(drafts) - len(res.Kept); n > 0 { // else nil, as Kept and Removed are when empty
		res.Added = make([]*domain.Entry, 0, n)
	}
	var added []int
	for _, w := range order {
		added = append(added, w.adds...)
	}
	slices.Sort(added)
	first := s.seq.Reserve(len(added))
	now := time.Now()
	stamped := map[int]*domain.Entry{}
	for j, i := range added {
		e := drafts[i].Finish(first+uint64(j), now)
		stamped[i] = e
		res.Added = append(res.Added, e)
	}

	// Build each key's next state; publish; commit.
	changed := 0
	for _, w := range order {
		if len(w.gone) == 0 && len(w.adds) == 0 {
			continue
		}
		changed++
		w.next = w.old.removing(w.gone)
		var p *explain.Policy
		if w.old != nil {
			p = w.old.Policy
		} else {
			p = s.shards[w.route.Index].policyLocked(w.route.Domain, w.key)
		}
		for _, i := range w.adds {
			w.next = w.next.insert(stamped[i], p)
		}
	}
	multi := changed > 1
	removed := 0 // domains this batch's installs removed
	var epoch uint64
	if multi {
		s.epoch++
		epoch = s.epoch
	}
	for _, w := range order {
		if len(w.gone) == 0 && len(w.adds) == 0 {
			continue
		}
		next := w.next
		if multi {
			if next == nil { // a tombstone, removed from the indexes after the commit
				next = &KeyState{addr: Addr{w.route.Domain, w.key}, Policy: noPolicy}
			}
			next.epoch, next.prev = epoch, w.old.withoutHistory()
		}
		// Look the table and slot up again: an earlier key of this batch may
		// have created the domain's table.
		t, sl := s.keyLocked(w.route, w.key)
		if s.installLocked(w.route, t, sl, w.key, next) {
			removed++
		}
		yield()
		if c := change(w.route.Domain, w.key, w.old, w.next, reason); c.Changed() {
			res.Changes = append(res.Changes, c)
		}
	}
	if multi {
		s.committed.Store(epoch) // the batch becomes visible here, all at once
		for _, w := range order {
			if len(w.gone) == 0 && len(w.adds) == 0 {
				continue // not written by this batch
			}
			t, sl := s.keyLocked(w.route, w.key)
			switch {
			case w.emptied:
				if s.installLocked(w.route, t, sl, w.key, nil) {
					removed++
				}
			case sl.b != nil:
				// Committed: readers may take the winner from the bucket again.
				sl.b.publish(sl.load(), epoch)
			}
		}
	}
	// reserveDomains counted n - freed new domains when positive; the
	// installs created n and removed `removed` (freed, as checked before).
	// Release what is left, now that the removed domains are gone.
	if d := int64(len(newDomains)-removed) - int64(max(len(newDomains)-freed, 0)); d != 0 {
		s.domainN.Add(d)
	}
	if replace {
		s.recordOwnerLocked(owner, order)
	}
	for _, c := range res.Changes {
		s.emit(c)
	}
	return res, nil
}

// takeOwned returns an entry of w.old owned by owner, the same as want
// (domain.Entry.SameAs) and not taken before, or nil. Of equal ones, it
// takes the first in the key's order.
func (w *batchKey) takeOwned(owner string, want *domain.Entry) *domain.Entry {
	if w.owned == nil {
		w.owned = map[uint64][]*domain.Entry{}
		for _, e := range w.old.entries() {
			if e.Owner() == owner {
				d := e.Digest()
				w.owned[d] = append(w.owned[d], e)
			}
		}
	}
	d := want.Digest()
	for i, e := range w.owned[d] {
		if e.SameAs(want) {
			w.owned[d] = slices.Delete(w.owned[d], i, i+1)
			return e
		}
	}
	return nil
}

// recordOwnerLocked records where owner's entries now are. The caller holds
// batchMu and the shards of order.
func (s *Set) recordOwnerLocked(owner string, order []*batchKey) {
	if s.owners == nil {
		s.owners = map[string]map[Addr]Route{}
	}
	where := map[Addr]Route{}
	for _, w := range order {
		_, sl := s.keyLocked(w.route, w.key)
		for _, e := range sl.load().entries() {
			if e.Owner() == owner {
				where[Addr{w.route.Domain, w.key}] = w.route
				break
			}
		}
	}
	if len(where) == 0 {
		delete(s.owners, owner)
		return
	}
	s.owners[owner] = where
}

// Unregister removes every candidate of provider from (domain, key) and
// returns how many it removed.
func (s *Set) Unregister(r Route, key, provider string) (int, Change) {
	s.lock(r.Index) // lock order 2
	defer s.unlock(r.Index)
	t, sl := s.keyLocked(r, key)
	old := sl.load()
	if old == nil {
		return 0, Change{}
	}
	ks, n := old.without(provider)
	if n == 0 {
		return 0, Change{}
	}
	if s.installLocked(r, t, sl, key, ks) {
		s.domainN.Add(-1)
	}
	c := change(r.Domain, key, old, ks, ReasonUnregister)
	s.emit(c)
	return n, c
}

// Select sets (or, with provider "", clears) the selection of (domain, key)
// and re-ranks the key's candidates at once. A new selection that would
// exceed Limits.MaxMarksPerDomain returns a *domain.LimitError, and nothing
// changes.
func (s *Set) Select(r Route, key, provider string) (Change, error) {
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
		if _, ok := sh.sel[r.Domain][key]; !ok {
			if err := sh.roomForMarkLocked(r.Domain, s.limits.MaxMarksPerDomain); err != nil {
				return Change{}, err
			}
		}
		if sh.sel == nil {
			sh.sel = map[string]map[string]string{}
		}
		if sh.sel[r.Domain] == nil {
			sh.sel[r.Domain] = map[string]string{}
		}
		sh.sel[r.Domain][key] = provider
	}
	return s.rerankLocked(r, key, ReasonSelect), nil
}

// roomForMarkLocked returns a *domain.LimitError when one more selection or
// unhealthy mark of dom would exceed max (if positive). It counts the marks
// held, at most max of them, so it costs nothing without a limit and keeps
// no count that could drift. The caller holds sh's mu.
func (sh *Shard) roomForMarkLocked(dom string, max int) error {
	if max <= 0 {
		return nil
	}
	n := len(sh.sel[dom])
	for _, provs := range sh.sick[dom] {
		n += len(provs)
	}
	if n >= max {
		return &domain.LimitError{Limit: "marks per domain", Max: max, Domain: dom}
	}
	return nil
}

// SetHealth marks provider's candidates of (domain, key) healthy or not, and
// re-ranks the key's candidates at once: an unhealthy candidate never wins
// while a healthy one qualifies. The mark outlives the candidates. A new
// unhealthy mark that would exceed Limits.MaxMarksPerDomain returns a
// *domain.LimitError, and nothing changes.
func (s *Set) SetHealth(r Route, key, provider string, healthy bool) (Change, error) {
	sh := &s.shards[r.Index]
	s.lock(r.Index) // lock order 2
	defer s.unlock(r.Index)
	if healthy {
		if m := sh.sick[r.Domain][key]; m != nil {
			delete(m, provider)
			if len(m) == 0 {
				delete(sh.sick[r.Domain], key)
				if len(sh.sick[r.Domain]) == 0 {
					delete(sh.sick, r.Domain)
				}
			}
		}
	} else {
		if !sh.sick[r.Domain][key][provider] {
			if err := sh.roomForMarkLocked(r.Domain, s.limits.MaxMarksPerDomain); err != nil {
				return Change{}, err
			}
		}
		if sh.sick == nil {
			sh.sick = map[string]map[string]map[string]bool{}
		}
		if sh.sick[r.Domain] == nil {
			sh.sick[r.Domain] = map[string]map[string]bool{}
		}
		if sh.sick[r.Domain][key] == nil {
			sh.sick[r.Domain][key] = map[string]bool{}
		}
		sh.sick[r.Domain][key][provider] = true
	}
	return s.rerankLocked(r, key, ReasonHealth), nil
}

// rerankLocked re-ranks (domain, key) under its current policy. The caller
// holds the routed shard's mu.
func (s *Set) rerankLocked(r Route, key, reason string) Change {
	sh := &s.shards[r.Index]
	t, sl := s.keyLocked(r, key)
	old := sl.load()
	if old == nil {
		return Change{}
	}
	p := sh.policyLocked(r.Domain, key)
	if p.Selected == old.Policy.Selected && slices.Equal(p.Unhealthy, old.Policy.Unhealthy) {
		return Change{}
	}
	ks := old.reranked(p)
	s.installLocked(r, t, sl, key, ks)
	c := change(r.Domain, key, old, ks, reason)
	s.emit(c)
	return c
}

// Snapshot returns the current View of each routed domain that has
// candidates, or of every domain when routes is nil, read under the locks of
// the shards involved so that the Views form one consistent cut. Its cost is
// proportional to the number of keys read.
func (s *Set) Snapshot(routes []Route) map[string]*View { return s.SnapshotAnd(routes, nil) }

// SnapshotAnd is Snapshot that also runs under, if not nil, while it holds
// the locks: the watch hub uses it to reset a watcher's buffer at exactly
// the point the snapshot shows. under must not block or call into the set.
func (s *Set) SnapshotAnd(routes []Route, under func()) map[string]*View {
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
	if under != nil {
		under()
	}
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
		if t := s.shards[r.Index].tableLocked(r); t != nil {
			if v := t.viewLocked(w); v != nil {
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
	s.shards[i].domains.Load().tables(func(t *table) {
		if v := t.viewLocked(w); v != nil {
			out[t.name] = v
		}
	})
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

// tableLocked returns the routed domain's table, nil if it has none. The
// caller holds sh.mu.
func (sh *Shard) tableLocked(r Route) *table {
	return sh.domains.Load().get(r.Hash, r.Domain)
}

// keyRef is where a writer found a key: its bucket in the shard's current
// index and its slot, or neither when the key has no state. It holds while
// the caller keeps the shard's mu and adds or removes no key of that shard
// (either may rebuild the index); look the key up again after that.
type keyRef struct {
	b  *bucket
	sl *slot
}

// load returns the key's state, nil when it has none.
func (k keyRef) load() *KeyState {
	if k.b == nil {
		return nil
	}
	return k.b.state.Load()
}

// keyLocked returns the routed domain's table (nil if it has none) and
// where its key is. An existing key is found with one probe of the shard's
// key index, which gives its state, and the state knows its table; neither
// the slot nor anything else is read. The caller holds the routed shard's
// mu.
func (s *Set) keyLocked(r Route, key string) (*table, keyRef) {
	sh := &s.shards[r.Index]
	if x := sh.keys.Load(); x != nil {
		if b, ks := x.find(s.keyHash(r.Hash, key), Addr{r.Domain, key}); b != nil {
			return ks.t, keyRef{b, b.sl.Load()}
		}
	}
	return sh.tableLocked(r), keyRef{}
}

// installLocked makes ks, which is not yet published, the state of
// (r.Domain, key), whose table and place the caller found with keyLocked. A
// nil ks removes the key; a domain left without keys is removed, and then
// installLocked reports true: the caller releases the domain's place in the
// count of domains (domainN); a batch releases its freed domains itself
// (see reserveDomains). The caller holds the routed shard's mu.
func (s *Set) installLocked(r Route, t *table, k keyRef, key string, ks *KeyState) (removedDomain bool) {
	sh := &s.shards[r.Index]
	if t == nil {
		if ks == nil {
			return false
		}
		t = &table{name: r.Domain} // its domain was reserved by the caller (reserveDomains)
		t.keys.Store(&trie.Map[string, *slot]{})
		sh.addDomainLocked(r.Hash, t)
	}
	t.version.Add(1) // odd: readers of several keys retry
	defer t.version.Add(1)
	if t.view.Load() != nil {
		t.view.Store(nil) // stale from now: it must not keep replaced states alive (see table.keep)
	}
	if ks != nil {
		ks.t = t
	}
	switch {
	case k.b != nil && ks != nil:
		k.b.publish(ks, s.committed.Load())
	case k.b == nil && ks != nil:
		sl := &slot{hash: s.keyHash(r.Hash, key), addr: Addr{r.Domain, key}}
		x := sh.keys.Load()
		if y := x.put(sl, ks, s.committed.Load()); y != x {
			sh.keys.Store(y)
		}
		km := t.keys.Load().Set(sl.hash, key, sl) // seeded: a tenant cannot pick keys that deepen the trie
		t.keys.Store(&km)
	case k.b != nil && ks == nil:
		x := sh.keys.Load() // a reader still holding the slot sees no candidates
		if y := x.remove(k.sl, s.committed.Load()); y != x {
			sh.keys.Store(y)
		}
		km := t.keys.Load().Delete(k.sl.hash, key)
		t.keys.Store(&km)
		if km.Len() == 0 {
			sh.removeDomainLocked(r.Hash, t)
			return true
		}
	}
	return false
}

// policyLocked returns the ranking policy of (domain, key): its selection and
// its unhealthy providers. The caller holds sh.mu.
func (sh *Shard) policyLocked(domain, key string) *explain.Policy {
	sel, sick := sh.sel[domain][key], sh.sick[domain][key]
	if sel == "" && len(sick) == 0 {
		return noPolicy
	}
	p := &explain.Policy{Selected: sel}
	for prov := range sick {
		p.Unhealthy = append(p.Unhealthy, prov)
	}
	slices.Sort(p.Unhealthy)
	return p
}

// load returns the slot's state; a nil or removed slot has none.
func (sl *slot) load() *KeyState {
	if sl == nil {
		return nil
	}
	if b := sl.bkt.Load(); b != nil {
		return b.state.Load()
	}
	return nil
}

// size returns the state's number of entries; a nil state has none.
func (k *KeyState) size() int {
	if k == nil {
		return 0
	}
	return k.n
}

// entries returns the state's entries; a nil state has none.
func (k *KeyState) entries() []*domain.Entry {
	if k == nil {
		return nil
	}
	return k.Entries()
}

// change returns the winner change from old to next.
func change(dom, key string, old, next *KeyState, reason string) Change {
	c := Change{Domain: dom, Key: key, Reason: reason}
	if old != nil {
		c.Old = old.Winner()
	}
	if next != nil {
		c.New = next.Winner()
	}
	return c
}
