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
	limits          Limits
	hook            func(Decision)
	watchBuffer     int
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
// provider, are skipped and logged at Warn level, and so are those beyond
// [Limits].MaxMarksPerDomain (set in order of domain, then key).
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

// WithLimits bounds what the registry holds: domains, keys per domain,
// candidates per key, metadata bytes per candidate, and selections plus
// unhealthy marks per domain (zero or negative fields mean no limit). An
// operation that would exceed one returns an error matching
// [ErrLimitExceeded], naming the limit in a *[LimitError], and changes
// nothing. With a limit on each, a tenant confined to its domain by a
// [Handle] cannot grow what the registry holds without bound; its watches
// ([Handle.Watch]) are not counted, and the host bounds how many it starts.
// MaxDomains counts domains that hold candidates: a [Registry.Select] or
// [Registry.SetHealth] of a domain without any, which a Handle cannot make
// outside its own domain, is bounded per domain by MaxMarksPerDomain only.
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// WithDecisionHook sets a function called with every change of a key's
// winner, after every lock is released. Calls for one key come in order
// unless writers of that key race; use [Registry.Watch] for a strictly
// ordered stream. A hook that panics is recovered and counted
// ([Registry.RecoveredPanics]); the operation's result stands.
func WithDecisionHook(f func(Decision)) Option { return func(c *config) { c.hook = f } }

// defaultWatchBuffer is how many changes a watcher may fall behind before it
// is resynchronised: enough to absorb a burst of writes between two wake-ups
// of a busy consumer, at 72 bytes a change (72 KiB a watcher at most).
const defaultWatchBuffer = 1024

// WithWatchBuffer sets how many changes a watcher may fall behind before it
// overflows and is resynchronised (see [Registry.Watch]); n <= 0 means the
// default, 1024.
func WithWatchBuffer(n int) Option {
	return func(c *config) {
		if n <= 0 {
			n = defaultWatchBuffer
		}
		c.watchBuffer = n
	}
}
