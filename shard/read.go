package shard

import "github.com/oneiric-go/oneiric/domain"

// Lookup returns the state of (domain, key), or nil when the key has no
// candidates. It takes no lock and allocates nothing.
func (s *Set) Lookup(r Route, key string) *KeyState {
	w := s.committed.Load() // before the state: see the package doc
	yield()
	x := s.shards[r.Index].keys.Load()
	if x == nil {
		return nil
	}
	_, ks := x.find(s.keyHash(r.Hash, key), Addr{r.Domain, key})
	return visible(ks, w)
}

// Winner returns the winner of (domain, key), or nil when the key has no
// candidates: Lookup(r, key).Winner(), in one bucket load rather than a
// bucket and a state (see the bucket type). It takes no lock and allocates nothing;
// it retries only while a writer is between the two stores that publish the
// key's next state.
func (s *Set) Winner(r Route, key string) *domain.Entry {
	w := s.committed.Load() // before the state: see the package doc
	yield()
	x := s.shards[r.Index].keys.Load()
	if x == nil {
		return nil
	}
	return x.winner(s.keyHash(r.Hash, key), Addr{r.Domain, key}, w)
}

// Resolve is Winner(s.Route(dom), key) in one call: Registry.Resolve's path
// without options, where the calls to Route and Winner, and the Route passed
// between them, cost about a tenth of a lookup. It takes no lock and
// allocates nothing.
func (s *Set) Resolve(dom, key string) *domain.Entry {
	var h uint64 // s.domainHash(dom), written out: the compiler does not inline it
	if s.hash == nil {
		h = strhash(dom, s.seed)
	} else {
		h = s.hash(dom)
	}
	w := s.committed.Load() // before the state: see the package doc
	yield()
	x := s.shards[h>>s.shift].keys.Load()
	if x == nil {
		return nil
	}
	return x.winner(s.keyHash(h, key), Addr{dom, key}, w)
}

// optimisticReads is how many times View reads a domain without a lock
// before it gives up racing writers and takes the shard lock. Each attempt
// fails only if a writer of that very domain finished in between, so a few
// attempts suffice unless the domain is written continuously.
const optimisticReads = 4

// View returns one consistent version of the routed domain. It takes no lock
// unless writers of the same domain make optimisticReads attempts in a row
// fail; only then does it take the shard's lock, and it may then wait for a
// writer of any domain of that shard.
func (s *Set) View(r Route) *View {
	sh := &s.shards[r.Index]
	t := sh.domains.Load().get(r.Hash, r.Domain)
	if t == nil {
		return nil
	}
	for range optimisticReads {
		v1 := t.version.Load()
		if v1&1 == 1 {
			yield()
			continue
		}
		if cv := t.cached(v1); cv != nil {
			return cv
		}
		w := s.committed.Load()
		states, settled := t.states(w)
		yield()
		if t.version.Load() == v1 {
			return t.keep(states, v1, settled)
		}
	}
	s.lock(r.Index) // lock order 2
	defer s.unlock(r.Index)
	t = sh.tableLocked(r)
	if t == nil {
		return nil
	}
	return t.viewLocked(s.committed.Load())
}

// cached returns t's cached View if it shows version ver, else nil.
func (t *table) cached(ver uint64) *View {
	if cv := t.view.Load(); cv != nil && cv.ver == ver {
		return cv
	}
	return nil
}

// keep returns the View of states, which a reader collected at version ver
// of t. When they are settled (no state belonged to an uncommitted batch)
// the View is also t's cached View, with its winners listed: every later
// reader of the same version gets it without touching a key.
//
// A writer clears the cached View when it moves the version, so that a
// stale View does not keep the states it replaced, and their entries,
// alive until the domain's next listing. A reader that parks its View
// after such a clear takes it back: it checks the version after storing,
// and a writer that moved the version later clears it itself.
func (t *table) keep(states []*KeyState, ver uint64, settled bool) *View {
	v := newView(states)
	if v != nil && settled {
		v.ver = ver
		v.active = v.winners()
		t.view.Store(v)
		if t.version.Load() != ver {
			t.view.CompareAndSwap(v, nil)
		}
	}
	return v
}

// viewLocked returns the View of t for a caller that holds its shard's mu
// and loaded the committed epoch w.
func (t *table) viewLocked(w uint64) *View {
	ver := t.version.Load() // even: writers of t hold the same mu
	if cv := t.cached(ver); cv != nil {
		return cv
	}
	states, settled := t.states(w)
	return t.keep(states, ver, settled)
}

// states collects the visible states of t's keys, in no particular order,
// and reports whether they are settled: whether no key's state belonged to
// a batch not yet committed at w. Settled states stay the visible ones at
// every later committed epoch, until t's version moves.
func (t *table) states(w uint64) ([]*KeyState, bool) {
	km := t.keys.Load()
	if km == nil {
		return nil, true
	}
	out := make([]*KeyState, 0, km.Len())
	settled := true
	for _, sl := range km.All() {
		raw := sl.load()
		if raw != nil && raw.epoch > w {
			settled = false
		}
		if ks := visible(raw, w); ks != nil {
			out = append(out, ks)
		}
	}
	return out, settled
}
