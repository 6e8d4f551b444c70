package bench

import (
	"cmp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/puzpuzpuz/xsync/v4"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/explain"
	"github.com/oneiric-go/oneiric/internal/model"
	"github.com/oneiric-go/oneiric/registry"
)

// store is the one interface every workload drives. Each implementation
// keeps, for every (domain, key), its candidates in rank order and the winner
// precomputed, so that Resolve is a lookup in all of them; they differ in how
// readers and writers synchronise. No workload uses selections or resolve
// options: those paths are the same code (package explain) in every design.
type store interface {
	Resolve(dom, key string) (*domain.Entry, bool)
	Register(c domain.Candidate) (*domain.Entry, error)
	Unregister(dom, key, provider string) int
	ListActive(dom string) []*domain.Entry
	Explain(dom, key string) *explain.Explanation
	Snapshot(domains ...string) any
}

// impl is one row of the implementation table.
type impl struct {
	name string
	new  func() store
	// floor marks the plain maps: not safe for concurrent use, so they run
	// only single-goroutine workloads (ResolveSerial, Register, ListActive),
	// as a reference for what the workload itself costs.
	floor bool
}

// impls is every implementation, in the column order of the benchstat
// tables: the seed's design first, so that benchstat compares every other
// column with it.
var impls = []impl{
	{name: "seed-mutex", new: func() store { return modelStore{model.New(model.Config{})} }},
	{name: "seed-rwmutex", new: func() store { return modelStore{model.New(model.Config{ReadLock: true})} }},
	{name: "registry", new: func() store { return regStore{registry.New()} }},
	{name: "xsync", new: func() store { return &xsyncStore{m: xsync.NewMap[addr, *ranked]()} }},
	{name: "syncmap", new: func() store { return &syncMapStore{} }},
	{name: "map", new: func() store { return newMapStore() }, floor: true},
}

// addr is a (domain, key) pair.
type addr struct{ domain, key string }

// regStore is the registry under test, through its public API.
type regStore struct{ r *registry.Registry }

func (s regStore) Resolve(d, k string) (*domain.Entry, bool)          { return s.r.Resolve(d, k) }
func (s regStore) Register(c domain.Candidate) (*domain.Entry, error) { return s.r.Register(c) }
func (s regStore) Unregister(d, k, p string) int                      { return s.r.Unregister(d, k, p) }
func (s regStore) ListActive(d string) []*domain.Entry                { return s.r.ListActive(d) }
func (s regStore) Explain(d, k string) *explain.Explanation           { return s.r.Explain(d, k) }
func (s regStore) Snapshot(ds ...string) any                          { return s.r.Snapshot(ds...) }

// modelStore is the seed's design ported faithfully (package model): one
// lock around the candidate lists and the map of precomputed winners;
// sync.Mutex, or sync.RWMutex with readers sharing it.
type modelStore struct{ m *model.Model }

func (s modelStore) Resolve(d, k string) (*domain.Entry, bool) {
	return s.m.Resolve(d, k, explain.Query{})
}
func (s modelStore) Register(c domain.Candidate) (*domain.Entry, error) { return s.m.Register(c) }
func (s modelStore) Unregister(d, k, p string) int                      { return s.m.Unregister(d, k, p) }
func (s modelStore) ListActive(d string) []*domain.Entry                { return s.m.ListActive(d) }
func (s modelStore) Explain(d, k string) *explain.Explanation {
	return s.m.Explain(d, k, explain.Query{})
}
func (s modelStore) Snapshot(ds ...string) any { return s.m.Snapshot(ds...) }

// ranked is one key's candidates in rank order, best first, immutable once
// stored in a map: writers replace it whole. winner is entries[0], kept in
// the first field so that Resolve reads one word.
type ranked struct {
	winner  *domain.Entry
	entries []*domain.Entry
}

// with returns r plus e, inserted at its rank (r may be nil).
func (r *ranked) with(e *domain.Entry) *ranked {
	if r == nil {
		return &ranked{winner: e, entries: []*domain.Entry{e}}
	}
	pos, _ := slices.BinarySearchFunc(r.entries, e, rankCompare)
	es := make([]*domain.Entry, len(r.entries)+1)
	copy(es, r.entries[:pos])
	es[pos] = e
	copy(es[pos+1:], r.entries[pos:])
	return &ranked{winner: es[0], entries: es}
}

// without returns r less every candidate of provider (nil when none is
// left) and how many it removed.
func (r *ranked) without(provider string) (*ranked, int) {
	if r == nil {
		return nil, 0
	}
	kept := make([]*domain.Entry, 0, len(r.entries))
	for _, e := range r.entries {
		if e.Provider() != provider {
			kept = append(kept, e)
		}
	}
	n := len(r.entries) - len(kept)
	switch {
	case n == 0:
		return r, 0
	case len(kept) == 0:
		return nil, n
	}
	return &ranked{winner: kept[0], entries: kept}, n
}

// rankCompare orders entries best first by the score (priority,
// stack_level, sequence): the workloads use no selection and no required
// capabilities, so override and capability_match are 0 for every candidate.
func rankCompare(a, b *domain.Entry) int {
	if c := cmp.Compare(b.Priority(), a.Priority()); c != 0 {
		return c
	}
	if c := cmp.Compare(b.StackLevel(), a.StackLevel()); c != 0 {
		return c
	}
	return cmp.Compare(b.Sequence(), a.Sequence())
}

// explainRanked is Explain over a ranked list: the score and reasons of each
// candidate, as the registry gives them without selection or required
// capabilities.
func explainRanked(d, k string, r *ranked) *explain.Explanation {
	x := &explain.Explanation{Domain: d, Key: k, Ordered: []explain.Rank{}}
	if r == nil {
		return x
	}
	x.Ordered = make([]explain.Rank, len(r.entries))
	for i, e := range r.entries {
		x.Ordered[i] = explain.Rank{Entry: e, Selected: i == 0,
			Score: explain.Score{Priority: e.Priority(), StackLevel: e.StackLevel(), Sequence: e.Sequence()},
			Reasons: []string{"priority=" + strconv.Itoa(e.Priority()), "stack_level=" + strconv.Itoa(e.StackLevel()),
				"registration_order=" + strconv.FormatUint(e.Sequence(), 10)}}
	}
	return x
}

// sortActive sorts a domain's winners by key, as ListActive returns them.
func sortActive(out []*domain.Entry) []*domain.Entry {
	slices.SortFunc(out, func(a, b *domain.Entry) int { return cmp.Compare(a.Key(), b.Key()) })
	return out
}

// xsyncStore is a map of precomputed winners in xsync.Map, the fastest
// general concurrent map in Go: Resolve is one Load; a writer recomputes the
// key's ranked list inside Compute, which holds that key's bucket lock, so
// writers of one key are serialised and writers of other keys mostly are
// not. It has no per-domain index: ListActive and Snapshot range over the
// whole map, and Range is not a snapshot.
type xsyncStore struct {
	m   *xsync.Map[addr, *ranked]
	seq atomic.Uint64
}

func (s *xsyncStore) Resolve(d, k string) (*domain.Entry, bool) {
	r, ok := s.m.Load(addr{d, k})
	if !ok {
		return nil, false
	}
	return r.winner, true
}

func (s *xsyncStore) Register(c domain.Candidate) (*domain.Entry, error) {
	dr, err := domain.Prepare(c, 0, "")
	if err != nil {
		return nil, err
	}
	var e *domain.Entry
	s.m.Compute(addr{c.Domain, c.Key}, func(old *ranked, _ bool) (*ranked, xsync.ComputeOp) {
		e = dr.Finish(s.seq.Add(1), time.Now())
		return old.with(e), xsync.UpdateOp
	})
	return e, nil
}

func (s *xsyncStore) Unregister(d, k, p string) int {
	n := 0
	s.m.Compute(addr{d, k}, func(old *ranked, loaded bool) (*ranked, xsync.ComputeOp) {
		var next *ranked
		next, n = old.without(p)
		switch {
		case n == 0:
			return old, xsync.CancelOp
		case next == nil:
			return nil, xsync.DeleteOp
		}
		return next, xsync.UpdateOp
	})
	return n
}

func (s *xsyncStore) ListActive(d string) []*domain.Entry {
	var out []*domain.Entry
	s.m.Range(func(a addr, r *ranked) bool {
		if a.domain == d {
			out = append(out, r.winner)
		}
		return true
	})
	return sortActive(out)
}

func (s *xsyncStore) Explain(d, k string) *explain.Explanation {
	r, _ := s.m.Load(addr{d, k})
	return explainRanked(d, k, r)
}

func (s *xsyncStore) Snapshot(ds ...string) any {
	out := map[addr]*ranked{}
	s.m.Range(func(a addr, r *ranked) bool {
		if len(ds) == 0 || slices.Contains(ds, a.domain) {
			out[a] = r
		}
		return true
	})
	return out
}

// syncMapStore is a map of precomputed winners in sync.Map: Resolve is one
// Load; a writer builds the key's next ranked list and installs it with
// CompareAndSwap, retrying if another writer of that key won the race. Like
// xsyncStore it has no per-domain index.
type syncMapStore struct {
	m   sync.Map // addr → *ranked
	seq atomic.Uint64
}

func (s *syncMapStore) Resolve(d, k string) (*domain.Entry, bool) {
	v, ok := s.m.Load(addr{d, k})
	if !ok {
		return nil, false
	}
	return v.(*ranked).winner, true
}

func (s *syncMapStore) Register(c domain.Candidate) (*domain.Entry, error) {
	dr, err := domain.Prepare(c, 0, "")
	if err != nil {
		return nil, err
	}
	a := addr{c.Domain, c.Key}
	e := dr.Finish(s.seq.Add(1), time.Now()) // the rank is by sequence, so retries keep it
	for {
		old, loaded := s.m.Load(a)
		if !loaded {
			if _, raced := s.m.LoadOrStore(a, (*ranked)(nil).with(e)); !raced {
				return e, nil
			}
			continue
		}
		if s.m.CompareAndSwap(a, old, old.(*ranked).with(e)) {
			return e, nil
		}
	}
}

func (s *syncMapStore) Unregister(d, k, p string) int {
	a := addr{d, k}
	for {
		old, loaded := s.m.Load(a)
		if !loaded {
			return 0
		}
		next, n := old.(*ranked).without(p)
		switch {
		case n == 0:
			return 0
		case next == nil:
			if s.m.CompareAndDelete(a, old) {
				return n
			}
		default:
			if s.m.CompareAndSwap(a, old, next) {
				return n
			}
		}
	}
}

func (s *syncMapStore) ListActive(d string) []*domain.Entry {
	var out []*domain.Entry
	s.m.Range(func(k, v any) bool {
		if k.(addr).domain == d {
			out = append(out, v.(*ranked).winner)
		}
		return true
	})
	return sortActive(out)
}

func (s *syncMapStore) Explain(d, k string) *explain.Explanation {
	v, _ := s.m.Load(addr{d, k})
	r, _ := v.(*ranked)
	return explainRanked(d, k, r)
}

func (s *syncMapStore) Snapshot(ds ...string) any {
	out := map[addr]*ranked{}
	s.m.Range(func(k, v any) bool {
		if a := k.(addr); len(ds) == 0 || slices.Contains(ds, a.domain) {
			out[a] = v.(*ranked)
		}
		return true
	})
	return out
}

// mapStore is the floor: plain maps, for one goroutine and with no lock. It
// keeps each key's candidates in rank order in one map keyed by (domain,
// key), edited in place, its winner in a second map for Resolve, and for
// ListActive a record of each domain: its keys in order and the listing of
// their winners, built on the first ListActive after a write that added or
// removed a key of the domain or changed a winner. It is what a program
// that needs no concurrency would write, with none of the registry's
// guarantees, and so a reference for what each operation itself costs on
// this machine. Benchmarks run it on one goroutine only (ResolveSerial,
// Register, ListActive). Explain and Snapshot are not part of the floor.
type mapStore struct {
	winners map[addr]*domain.Entry
	lists   map[addr][]*domain.Entry
	domains map[string]*mapDomain
	seq     uint64
}

// mapDomain is the floor's record of one domain.
type mapDomain struct {
	keys   []string        // the domain's keys, sorted
	active []*domain.Entry // the winners of keys, in their order; nil when stale
}

func newMapStore() *mapStore {
	return &mapStore{winners: map[addr]*domain.Entry{}, lists: map[addr][]*domain.Entry{}, domains: map[string]*mapDomain{}}
}

func (s *mapStore) Resolve(d, k string) (*domain.Entry, bool) {
	e, ok := s.winners[addr{d, k}]
	return e, ok
}

func (s *mapStore) Register(c domain.Candidate) (*domain.Entry, error) {
	dr, err := domain.Prepare(c, 0, "")
	if err != nil {
		return nil, err
	}
	s.seq++
	e := dr.Finish(s.seq, time.Now())
	a := addr{c.Domain, c.Key}
	es := s.lists[a]
	pos, _ := slices.BinarySearchFunc(es, e, rankCompare)
	s.lists[a] = slices.Insert(es, pos, e)
	if pos > 0 {
		return e, nil // the winner stays
	}
	s.winners[a] = e
	d := s.domains[c.Domain]
	if d == nil {
		d = &mapDomain{}
		s.domains[c.Domain] = d
	}
	if len(es) == 0 {
		i, _ := slices.BinarySearch(d.keys, c.Key)
		d.keys = slices.Insert(d.keys, i, c.Key)
	}
	d.active = nil
	return e, nil
}

func (s *mapStore) Unregister(dom, k, p string) int {
	a := addr{dom, k}
	es := s.lists[a]
	if len(es) == 0 {
		return 0
	}
	winner, n := es[0], len(es)
	es = slices.DeleteFunc(es, func(e *domain.Entry) bool { return e.Provider() == p })
	switch {
	case len(es) == n:
		return 0
	case len(es) == 0:
		delete(s.lists, a)
		delete(s.winners, a)
		d := s.domains[dom]
		if i, ok := slices.BinarySearch(d.keys, k); ok {
			d.keys = slices.Delete(d.keys, i, i+1)
		}
		d.active = nil
		if len(d.keys) == 0 {
			delete(s.domains, dom)
		}
	default:
		s.lists[a] = es
		if es[0] != winner {
			s.winners[a] = es[0]
			s.domains[dom].active = nil
		}
	}
	return n - len(es)
}

// ListActive returns a copy of the domain's listing, built first if a write
// made it stale.
func (s *mapStore) ListActive(dom string) []*domain.Entry {
	d := s.domains[dom]
	if d == nil {
		return nil
	}
	if d.active == nil {
		d.active = make([]*domain.Entry, len(d.keys))
		for i, k := range d.keys {
			d.active[i] = s.winners[addr{dom, k}]
		}
	}
	return slices.Clone(d.active)
}

func (s *mapStore) Explain(string, string) *explain.Explanation { panic("the floor has no Explain") }
func (s *mapStore) Snapshot(...string) any                      { panic("the floor has no Snapshot") }
