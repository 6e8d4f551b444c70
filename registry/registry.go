package registry

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync/atomic"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/sequence"
	"github.com/oneiric-go/oneiric/shard"
)

// Registry holds candidates by (domain, key) and keeps, for every key, the
// active winner by precedence. Create one with [New]; the zero value is not
// usable. A Registry is safe for concurrent use by any number of goroutines,
// every method is linearizable, and Resolve takes no lock and allocates
// nothing. It must not be copied.
type Registry struct {
	set        *shard.Set
	seq        sequence.Counter
	defPrio    int
	stackOrder stackOrder
	logger     *slog.Logger
	panics     atomic.Uint64 // user code (log handlers) that panicked and was recovered
}

// New returns an empty Registry configured by opts.
func New(opts ...Option) *Registry {
	var c config
	for _, o := range opts {
		o(&c)
	}
	r := &Registry{defPrio: c.defaultPriority, logger: c.logger}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	spec := c.stackOrder
	if !c.stackOrderSet {
		spec = os.Getenv(StackOrderEnv)
	}
	r.stackOrder = parseStackOrder(spec)
	var setOpts []shard.Option
	if c.hash != nil {
		setOpts = append(setOpts, shard.WithHash(c.hash))
	}
	r.set = shard.NewSet(c.shards, &r.seq, setOpts...)
	for _, d := range sortedKeys(c.selections) {
		for _, k := range sortedKeys(c.selections[d]) {
			p := c.selections[d][k]
			if err := r.Select(d, k, p); err != nil || p == "" {
				r.warn("skipping selection", slog.String("domain", d), slog.String("key", k),
					slog.String("provider", p), slog.Any("error", err))
			}
		}
	}
	return r
}

// Register stores a deep copy of c under (c.Domain, c.Key) with the next
// sequence number and recomputes the key's winner before it returns. A
// candidate that fails validation returns an error matching
// [ErrInvalidCandidate] and changes nothing.
func (r *Registry) Register(c Candidate) (*Entry, error) {
	d, err := domain.Prepare(c, r.defPrio, "")
	if err != nil {
		return nil, fmt.Errorf("cannot register %q/%q: %w", c.Domain, c.Key, err)
	}
	e, ch := r.set.Register(r.set.Route(c.Domain), d)
	if ch.Changed() {
		r.logChange(ch)
	}
	return e, nil
}

// Unregister removes every candidate of provider from (domain, key) and
// recomputes the key's winner. It returns how many candidates it removed (0
// for names that cannot be registered). A key left with no candidates
// disappears from listings, a domain left with no keys from [Registry.Domains];
// a selection for the key stays.
func (r *Registry) Unregister(domainName, key, provider string) int {
	if domain.CheckAddress(domainName, key, provider) != nil {
		return 0
	}
	n, ch := r.set.Unregister(r.set.Route(domainName), key, provider)
	if ch.Changed() {
		r.logChange(ch)
	}
	return n
}

// Select makes provider the selection of (domain, key): its candidates rank
// above all others. An empty provider clears the selection. The key's winner
// is recomputed at once. A selection outlives its candidates and waits for the
// provider to be registered. Invalid names return an error matching
// [ErrInvalidCandidate] and change nothing.
func (r *Registry) Select(domainName, key, provider string) error {
	if err := domain.CheckAddress(domainName, key, provider); err != nil {
		return fmt.Errorf("cannot select %q for %q/%q: %w", provider, domainName, key, err)
	}
	if ch := r.set.Select(r.set.Route(domainName), key, provider); ch.Changed() {
		r.logChange(ch)
	}
	return nil
}

// Domains returns, sorted, every domain that has at least one candidate. It
// is consistent across shards (it locks them in ascending order, briefly).
func (r *Registry) Domains() []string {
	return sortedKeys(r.set.Snapshot(nil))
}

// Shards returns the number of shards the registry uses.
func (r *Registry) Shards() int { return r.set.Len() }

// logChange reports a winner change at Debug level. It runs after every lock
// is released; a handler that panics is recovered and counted.
func (r *Registry) logChange(c shard.Change) {
	defer r.contain()
	ctx := context.Background()
	if !r.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	var prev, provider string
	var seq uint64
	if c.Old != nil {
		prev = c.Old.Provider()
	}
	if c.New != nil {
		provider, seq = c.New.Provider(), c.New.Sequence()
	}
	r.logger.LogAttrs(ctx, slog.LevelDebug, "winner changed",
		slog.String("domain", c.Domain), slog.String("key", c.Key),
		slog.String("provider", provider), slog.String("previous", prev),
		slog.Uint64("sequence", seq), slog.Bool("removed", c.New == nil))
}

func (r *Registry) warn(msg string, attrs ...slog.Attr) {
	defer r.contain()
	r.logger.LogAttrs(context.Background(), slog.LevelWarn, msg, attrs...)
}

// contain recovers a panic of user code; the operation's result stands.
func (r *Registry) contain() {
	if recover() != nil {
		r.panics.Add(1)
	}
}

// RecoveredPanics returns how many times user code called by the registry (a
// log handler) panicked and was recovered.
func (r *Registry) RecoveredPanics() uint64 { return r.panics.Load() }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
