package registry

import (
	"github.com/oneiric-go/oneiric/explain"
	"github.com/oneiric-go/oneiric/shard"
)

// ResolveOption narrows or rescores a resolution: [Provider], [Require],
// [RequireAny].
type ResolveOption func(*explain.Query)

// Provider restricts resolution to candidates of provider p. Provider("")
// means no provider filter.
func Provider(p string) ResolveOption { return func(q *explain.Query) { q.Provider = p } }

// Require makes a candidate qualify only if it has all of caps. Capabilities
// are trimmed, empty ones dropped and duplicates counted once. Require and
// RequireAny both set the required set and the mode; the last one given wins.
func Require(caps ...string) ResolveOption {
	req := explain.NewQuery("", caps, false).Required
	return func(q *explain.Query) { q.Required, q.Any = req, false }
}

// RequireAny makes a candidate qualify if it has at least one of caps; see
// [Require].
func RequireAny(caps ...string) ResolveOption {
	req := explain.NewQuery("", caps, true).Required
	return func(q *explain.Query) { q.Required, q.Any = req, true }
}

// Resolve returns the winner of (domain, key): with no options the active
// candidate, the one [Registry.Explain] names; with options the best-ranked
// candidate that qualifies. It takes no lock and, without options, allocates
// nothing.
func (r *Registry) Resolve(domain, key string, opts ...ResolveOption) (*Entry, bool) {
	if len(opts) == 0 {
		e := r.set.Resolve(domain, key) // resolveAt's first case, in fewer calls
		return e, e != nil
	}
	return resolveIn(r.set.Lookup(r.set.Route(domain), key), opts)
}

// resolveAt is Resolve in the routed domain: without options, the winner
// the key's bucket holds (one load, see shard.Set.Winner); with options, the
// best of the key's state.
func (r *Registry) resolveAt(route shard.Route, key string, opts []ResolveOption) (*Entry, bool) {
	if len(opts) == 0 {
		e := r.set.Winner(route, key)
		return e, e != nil
	}
	return resolveIn(r.set.Lookup(route, key), opts)
}

// Explain returns every candidate of (domain, key) that qualifies under opts,
// in rank order with scores and reasons, the first marked selected. It takes
// no lock.
func (r *Registry) Explain(domain, key string, opts ...ResolveOption) *explain.Explanation {
	return explainIn(r.set.Lookup(r.set.Route(domain), key), domain, key, opts)
}

// ListActive returns the winner of every key of domain, sorted by key. Its cost
// is proportional to the domain's size, and it sees one consistent version
// of the domain. It takes no lock, unless writers of that same domain finish
// during several attempts in a row; then it reads under the domain's shard
// lock, and may wait for any writer of that shard.
func (r *Registry) ListActive(domain string) []*Entry {
	return r.set.View(r.set.Route(domain)).Active()
}

// ListShadowed returns every candidate of domain that is not its key's winner,
// by key, then rank. Like ListActive it takes no lock but when writers of
// the domain keep changing it.
func (r *Registry) ListShadowed(domain string) []*Entry {
	return r.set.View(r.set.Route(domain)).Shadowed()
}

func query(opts []ResolveOption) explain.Query {
	var q explain.Query
	for _, o := range opts {
		if o != nil {
			o(&q)
		}
	}
	return q
}

func resolveIn(ks *shard.KeyState, opts []ResolveOption) (*Entry, bool) {
	if ks == nil {
		return nil, false
	}
	if len(opts) == 0 {
		return ks.Winner(), true
	}
	q := query(opts)
	return ks.Policy.Best(ks.Entries(), &q)
}

func explainIn(ks *shard.KeyState, domain, key string, opts []ResolveOption) *explain.Explanation {
	q := query(opts)
	if ks == nil {
		return &explain.Explanation{Domain: domain, Key: key, Ordered: []explain.Rank{}}
	}
	return ks.Policy.Build(domain, key, ks.Entries(), &q)
}
