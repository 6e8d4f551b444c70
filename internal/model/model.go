// Package model is the reference model of the registry: the public behaviour
// of package registry written for clarity, not speed, as one mutex around
// plain maps. It is the design the registry replaces (the Python original's
// CandidateRegistry: candidate lists and a map of precomputed winners under
// one lock), so it serves three purposes: the oracle of the differential fuzz
// test and the model-based tests, and the baseline of the benchmarks.
//
// Only tests and benchmarks import it. Every method is safe for concurrent
// use: each takes the one lock for its whole duration.
package model

import (
	"cmp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/explain"
)

// Addr is a (domain, key) pair.
type Addr struct{ Domain, Key string }

// Model is the reference registry.
type Model struct {
	// mu guards every field below; with ReadLock set, readers take it shared.
	mu       sync.RWMutex
	readLock bool

	seq     uint64
	defPrio int
	infer   func(pkg, path string) int

	cands  map[Addr][]*domain.Entry // in registration order
	active map[Addr]*domain.Entry   // the precomputed winner of every key with candidates
	sel    map[Addr]string          // selections; they outlive candidates
}

// Config configures a Model.
type Config struct {
	DefaultPriority int
	// Infer gives RegisterPackage's priority when neither the candidate nor
	// the call gives one; nil means 0.
	Infer func(pkg, path string) int
	// Selections are the initial selections, domain → key → provider.
	Selections map[string]map[string]string
	// ReadLock makes readers take the lock shared (the sync.RWMutex variant);
	// by default every operation takes it exclusively, as the original does.
	ReadLock bool
}

// New returns an empty Model.
func New(c Config) *Model {
	m := &Model{defPrio: c.DefaultPriority, infer: c.Infer, readLock: c.ReadLock,
		cands: map[Addr][]*domain.Entry{}, active: map[Addr]*domain.Entry{}, sel: map[Addr]string{}}
	if m.infer == nil {
		m.infer = func(string, string) int { return 0 }
	}
	for d, keys := range c.Selections {
		for k, p := range keys {
			if domain.CheckAddress(d, k, p) == nil && p != "" {
				m.sel[Addr{d, k}] = p
			}
		}
	}
	return m
}

func (m *Model) rlock() {
	if m.readLock {
		m.mu.RLock()
	} else {
		m.mu.Lock()
	}
}

func (m *Model) runlock() {
	if m.readLock {
		m.mu.RUnlock()
	} else {
		m.mu.Unlock()
	}
}

// Register validates c, stamps it and recomputes its key's winner.
func (m *Model) Register(c domain.Candidate) (*domain.Entry, error) {
	d, err := domain.Prepare(c, m.defPrio, "")
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	e := d.Finish(m.seq, time.Now())
	a := Addr{e.Domain(), e.Key()}
	m.cands[a] = append(m.cands[a], e)
	m.recompute(a)
	return e, nil
}

// RegisterPackage registers cs all or nothing, as registry.RegisterPackage.
func (m *Model) RegisterPackage(pkg, path string, cs []domain.Candidate, priority *int) ([]*domain.Entry, error) {
	prio := 0
	if priority != nil {
		prio = *priority
	} else {
		prio = m.infer(pkg, path)
	}
	drafts := make([]*domain.Draft, len(cs))
	for i, c := range cs {
		meta := map[string]any{"package": pkg, "path": path}
		for k, v := range c.Metadata {
			meta[k] = v
		}
		c.Metadata = meta
		d, err := domain.Prepare(c, prio, "")
		if err != nil {
			return nil, err
		}
		drafts[i] = d
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	out := make([]*domain.Entry, len(drafts))
	for i, d := range drafts {
		m.seq++
		e := d.Finish(m.seq, now)
		a := Addr{e.Domain(), e.Key()}
		m.cands[a] = append(m.cands[a], e)
		m.recompute(a)
		out[i] = e
	}
	return out, nil
}

// Unregister removes every candidate of provider from (dom, key).
func (m *Model) Unregister(dom, key, provider string) int {
	if domain.CheckAddress(dom, key, provider) != nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	a := Addr{dom, key}
	kept := m.cands[a][:0:0]
	for _, e := range m.cands[a] {
		if e.Provider() != provider {
			kept = append(kept, e)
		}
	}
	n := len(m.cands[a]) - len(kept)
	if n > 0 {
		m.cands[a] = kept
		m.recompute(a)
	}
	return n
}

// Select sets or (with "") clears the selection of (dom, key).
func (m *Model) Select(dom, key, provider string) error {
	if err := domain.CheckAddress(dom, key, provider); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	a := Addr{dom, key}
	if provider == "" {
		delete(m.sel, a)
	} else {
		m.sel[a] = provider
	}
	m.recompute(a)
	return nil
}

// Resolve returns the best candidate under q; the zero Query gives the
// precomputed winner.
func (m *Model) Resolve(dom, key string, q explain.Query) (*domain.Entry, bool) {
	m.rlock()
	defer m.runlock()
	a := Addr{dom, key}
	if q.IsZero() {
		e, ok := m.active[a]
		return e, ok
	}
	ranks := m.rank(a, q)
	if len(ranks) == 0 {
		return nil, false
	}
	return ranks[0].Entry, true
}

// Explain ranks the candidates of (dom, key) under q.
func (m *Model) Explain(dom, key string, q explain.Query) *explain.Explanation {
	m.rlock()
	defer m.runlock()
	ranks := m.rank(Addr{dom, key}, q)
	if len(ranks) > 0 {
		ranks[0].Selected = true
	}
	return &explain.Explanation{Domain: dom, Key: key, Ordered: ranks}
}

// ListActive scans every winner, as the original does, keeping dom's.
func (m *Model) ListActive(dom string) []*domain.Entry {
	m.rlock()
	defer m.runlock()
	var out []*domain.Entry
	for a, e := range m.active {
		if a.Domain == dom {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(x, y *domain.Entry) int { return cmp.Compare(x.Key(), y.Key()) })
	return out
}

// ListShadowed returns every non-winner of dom by key, then rank.
func (m *Model) ListShadowed(dom string) []*domain.Entry {
	m.rlock()
	defer m.runlock()
	var keys []string
	for a := range m.cands {
		if a.Domain == dom && len(m.cands[a]) > 0 {
			keys = append(keys, a.Key)
		}
	}
	slices.Sort(keys)
	var out []*domain.Entry
	for _, k := range keys {
		for _, r := range m.rank(Addr{dom, k}, explain.Query{})[1:] {
			out = append(out, r.Entry)
		}
	}
	return out
}

// Domains returns every domain with candidates, sorted.
func (m *Model) Domains() []string {
	m.rlock()
	defer m.runlock()
	seen := map[string]bool{}
	for a, cs := range m.cands {
		if len(cs) > 0 {
			seen[a.Domain] = true
		}
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// Snapshot returns a copy of the winners and candidate lists of the named
// domains (all when none is named), taken under the lock.
func (m *Model) Snapshot(domains ...string) map[Addr][]*domain.Entry {
	m.rlock()
	defer m.runlock()
	want := map[string]bool{}
	for _, d := range domains {
		want[d] = true
	}
	out := map[Addr][]*domain.Entry{}
	for a := range m.cands {
		if len(m.cands[a]) > 0 && (len(domains) == 0 || want[a.Domain]) {
			out[a] = m.order(a)
		}
	}
	return out
}

// Len returns the number of candidates held.
func (m *Model) Len() int {
	m.rlock()
	defer m.runlock()
	n := 0
	for _, cs := range m.cands {
		n += len(cs)
	}
	return n
}

// recompute sets the precomputed winner of a. The caller holds mu.
func (m *Model) recompute(a Addr) {
	ranks := m.rank(a, explain.Query{})
	if len(ranks) == 0 {
		delete(m.active, a)
		delete(m.cands, a)
		return
	}
	m.active[a] = ranks[0].Entry
}

// rank scores every candidate of a that qualifies under q, best first, with
// reasons. It is written out in full rather than shared with package
// explain, so that the model checks explain too. The caller holds mu.
func (m *Model) rank(a Addr, q explain.Query) []explain.Rank {
	sel := m.sel[a]
	ranks := []explain.Rank{}
	for _, e := range m.cands[a] {
		if q.Provider != "" && e.Provider() != q.Provider {
			continue
		}
		match := 0
		for _, c := range q.Required {
			if slices.Contains(e.Capabilities(), c) {
				match++
			}
		}
		if len(q.Required) > 0 && ((q.Any && match == 0) || (!q.Any && match < len(q.Required))) {
			continue
		}
		s := explain.Score{CapabilityMatch: match, Priority: e.Priority(), StackLevel: e.StackLevel(), Sequence: e.Sequence()}
		var reasons []string
		if sel != "" {
			if e.Provider() == sel {
				s.Override = 1
				reasons = append(reasons, "matched selection override "+sel)
			} else {
				reasons = append(reasons, "selection override prefers "+sel)
			}
		}
		reasons = append(reasons, "priority="+strconv.Itoa(s.Priority))
		if len(q.Required) > 0 {
			reasons = append(reasons, "capability_match="+strconv.Itoa(match)+"/"+strconv.Itoa(len(q.Required)))
		}
		reasons = append(reasons, "stack_level="+strconv.Itoa(s.StackLevel), "registration_order="+strconv.FormatUint(s.Sequence, 10))
		ranks = append(ranks, explain.Rank{Entry: e, Score: s, Reasons: reasons})
	}
	slices.SortFunc(ranks, func(x, y explain.Rank) int { return better(x.Score, y.Score) })
	return ranks
}

// better orders scores best first: negative when x ranks above y.
func better(x, y explain.Score) int {
	for _, c := range [...]int{
		cmp.Compare(y.Override, x.Override),
		cmp.Compare(y.CapabilityMatch, x.CapabilityMatch),
		cmp.Compare(y.Priority, x.Priority),
		cmp.Compare(y.StackLevel, x.StackLevel),
		cmp.Compare(y.Sequence, x.Sequence),
	} {
		if c != 0 {
			return c
		}
	}
	return 0
}

// order returns a's candidates in the order rank gives them under the zero
// Query, without the reasons rank writes for Explain: what Snapshot needs.
func (m *Model) order(a Addr) []*domain.Entry {
	type scored struct {
		e *domain.Entry
		s explain.Score
	}
	sel := m.sel[a]
	xs := make([]scored, len(m.cands[a]))
	for i, e := range m.cands[a] {
		xs[i] = scored{e, explain.Score{Priority: e.Priority(), StackLevel: e.StackLevel(), Sequence: e.Sequence()}}
		if sel != "" && e.Provider() == sel {
			xs[i].s.Override = 1
		}
	}
	slices.SortFunc(xs, func(x, y scored) int { return better(x.s, y.s) })
	out := make([]*domain.Entry, len(xs))
	for i, x := range xs {
		out[i] = x.e
	}
	return out
}
