package registry

import (
	"github.com/oneiric-go/oneiric/explain"
	"github.com/oneiric-go/oneiric/shard"
)

// Snapshot is an immutable, point-in-time view of some or all domains of a
// Registry, consistent across domains: it reflects every write that completed
// before [Registry.Snapshot] was called and no part of a write that started
// after it returned. Later writes never change it. A snapshot of named domains
// holds only those; other domains read as empty. It is safe for concurrent use.
type Snapshot struct {
	views map[string]*shard.View
}

// Snapshot returns a consistent view of the named domains, or of every domain
// when none is named. It locks the shards involved, in ascending order, only
// long enough to collect the current state of each key: its cost is
// proportional to the number of keys read.
func (r *Registry) Snapshot(domains ...string) *Snapshot {
	var routes []shard.Route
	if len(domains) > 0 {
		routes = make([]shard.Route, len(domains))
		for i, d := range domains {
			routes[i] = r.set.Route(d)
		}
	}
	return &Snapshot{views: r.set.Snapshot(routes)}
}

// Resolve is [Registry.Resolve] on the snapshot.
func (s *Snapshot) Resolve(domain, key string, opts ...ResolveOption) (*Entry, bool) {
	return resolveIn(s.views[domain].Key(key), opts)
}

// Explain is [Registry.Explain] on the snapshot.
func (s *Snapshot) Explain(domain, key string, opts ...ResolveOption) *explain.Explanation {
	return explainIn(s.views[domain].Key(key), domain, key, opts)
}

// ListActive is [Registry.ListActive] on the snapshot.
func (s *Snapshot) ListActive(domain string) []*Entry { return s.views[domain].Active() }

// ListShadowed is [Registry.ListShadowed] on the snapshot.
func (s *Snapshot) ListShadowed(domain string) []*Entry { return s.views[domain].Shadowed() }

// Domains returns, sorted, the snapshot's domains that have candidates.
func (s *Snapshot) Domains() []string { return sortedKeys(s.views) }

// Len returns the number of candidates in the snapshot.
func (s *Snapshot) Len() int {
	n := 0
	for _, v := range s.views {
		n += v.Candidates()
	}
	return n
}
