package registry

// WithHash replaces the domain hash, so that tests can force domains onto
// chosen shards (or all onto one).
func WithHash(h func(string) uint64) Option { return func(c *config) { c.hash = h } }

// ShardOf returns the index of the shard that holds domain.
func ShardOf(r *Registry, domain string) int { return r.set.Route(domain).Index }
