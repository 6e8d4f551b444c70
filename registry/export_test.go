package registry

// WithHash replaces the domain hash, so that tests can force domains onto
// chosen shards (or all onto one).
func WithHash(h func(string) uint64) Option { return func(c *config) { c.hash = h } }

// ShardOf returns the index of the shard that holds domain.
func ShardOf(r *Registry, domain string) int { return r.set.Route(domain).Index }

// WatchersSeenBy returns how many watchers a write into domain looks at,
// and how many watchers r has in all.
func WatchersSeenBy(r *Registry, domain string) (seen, live int) {
	r.hub.mu.RLock()
	defer r.hub.mu.RUnlock()
	return len(r.hub.all) + len(r.hub.byDomain[domain]), int(r.hub.live.Load())
}
