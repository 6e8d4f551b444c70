package registry

import (
	"log/slog"
	"maps"
)

// Option configures a [Registry] at [New].
type Option func(*config)

type config struct {
	shards          int
	defaultPriority int
	selections      map[string]map[string]string
	stackOrder      string
	stackOrderSet   bool
	logger          *slog.Logger
	hash            func(string) uint64 // tests only, through export_test.go
}

// WithShards sets the number of shards, rounded up to a power of two. Zero or
// a negative n means the default (64); values above 4096 are capped at 4096,
// because operations over all domains lock every shard while more shards no
// longer reduce contention.
func WithShards(n int) Option { return func(c *config) { c.shards = n } }

// WithDefaultPriority sets the priority of candidates registered with a nil
// Priority (0 unless set). RegisterPackage does not use it.
func WithDefaultPriority(p int) Option { return func(c *config) { c.defaultPriority = p } }

// WithSelections sets the initial selections: domain → key → provider. The
// map is copied. Entries with an invalid domain, key or provider, or an empty
// provider, are skipped and logged at Warn level.
func WithSelections(sel map[string]map[string]string) Option {
	return func(c *config) {
		c.selections = make(map[string]map[string]string, len(sel))
		for d, keys := range sel {
			c.selections[d] = maps.Clone(keys)
		}
	}
}

// WithStackOrder sets the stack order used by [Registry.InferPriority] and
// RegisterPackage, in the format "name:value,name,…" (see [InferPriority]).
// Without this option the registry reads $ONEIRIC_STACK_ORDER once, at New.
// WithStackOrder("") means an empty order.
func WithStackOrder(spec string) Option {
	return func(c *config) { c.stackOrder, c.stackOrderSet = spec, true }
}

// WithLogger sets the logger that receives winner changes (at Debug level)
// and skipped options (at Warn). The default discards everything. Handlers
// run after every lock is released; a handler that panics is recovered.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }
