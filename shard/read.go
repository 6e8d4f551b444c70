package shard

// Lookup returns the state of (domain, key), or nil when the key has no
// candidates. It takes no lock and allocates nothing.
func (s *Set) Lookup(r Route, key string) *KeyState {
	w := s.committed.Load() // before the state: see the package doc
	yield()
	x := s.shards[r.Index].keys.Load()
	if x == nil {
		return nil
	}
	sl := x.get(s.keyHash(r, key), Addr{r.Domain, key})
	if sl == nil {
		return nil
	}
	return visible(sl.state.Load(), w)
}

// optimisticReads is how many times View reads a domain without a lock
// before it gives up racing writers and takes the shard lock. Each attempt
// fails only if a writer of that very domain finished in between, so a few
// attempts suffice unless the domain is written continuously.
const optimisticReads = 4

// View returns one consistent version of the routed domain. It takes no lock
// unless writers of the same domain make [optimisticReads] attempts in a row
// fail; readers never wait for writers of other domains.
func (s *Set) View(r Route) *View {
	sh := &s.shards[r.Index]
	dm := sh.domains.Load()
	if dm == nil {
		return nil
	}
	t, ok := dm.Get(r.Hash, r.Domain)
	if !ok {
		return nil
	}
	for range optimisticReads {
		v1 := t.version.Load()
		if v1&1 == 1 {
			yield()
			continue
		}
		w := s.committed.Load()
		states := t.states(w)
		yield()
		if t.version.Load() == v1 {
			return newView(states)
		}
	}
	s.lock(r.Index) // lock order 2
	defer s.unlock(r.Index)
	t, _ = sh.tableLocked(r)
	if t == nil {
		return nil
	}
	return newView(t.states(s.committed.Load()))
}

// states collects the visible states of t's keys, in no particular order.
func (t *table) states(w uint64) []*KeyState {
	km := t.keys.Load()
	if km == nil {
		return nil
	}
	out := make([]*KeyState, 0, km.Len())
	for _, sl := range km.All() {
		if ks := visible(sl.state.Load(), w); ks != nil {
			out = append(out, ks)
		}
	}
	return out
}
