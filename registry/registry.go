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
// every method is linearizable, and Resolve takes no lock and, without
// options, allocates nothing. It must not be copied.
type Registry struct {
	set        *shard.Set
	seq        sequence.Counter
	defPrio    int
	limits     Limits
	stackOrder stackOrder
	logger     *slog.Logger
	hook       func(Decision) // nil: none
	hub        *watchHub
	panics     atomic.Uint64 // user code (log handlers, hooks) that panicked and was recovered
}

// New returns an empty Registry configured by opts. A nil Option is
// skipped.
func New(opts ...Option) *Registry {
	c := config{watchBuffer: defaultWatchBuffer}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	r := &Registry{defPrio: c.defaultPriority, limits: c.limits, logger: c.logger, hook: c.hook}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	spec := c.stackOrder
	if !c.stackOrderSet {
		spec = os.Getenv(StackOrderEnv)
	}
	r.stackOrder = parseStackOrder(spec)
	r.hub = newWatchHub(c.watchBuffer)
	setOpts := []shard.Option{shard.WithLimits(c.limits), shard.WithNotify(r.hub.notify)}
	if c.hash != nil {
		setOpts = append(setOpts, shard.WithHash(c.hash))
	}
	r.set = shard.NewSet(c.shards, &r.seq, setOpts...)
	for _, d := range sortedKeys(c.selections) {
		for _, k := range sortedKeys(c.selections[d]) {
			p := c.selections[d][k]
			err := fmt.Errorf("cannot select for %q/%q: %w: the selection names no provider", d, k, ErrInvalidCandidate)
			if p != "" {
				err = r.Select(d, k, p)
			}
			if err != nil {
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
// [ErrInvalidCandidate], one that would exceed a limit an error matching
// [ErrLimitExceeded]; either changes nothing.
func (r *Registry) Register(c Candidate) (*Entry, error) {
	return r.register(r.set.Route(c.Domain), c)
}

func (r *Registry) register(route shard.Route, c Candidate) (*Entry, error) {
	d, err := r.prepare(c, r.defPrio, "")
	if err != nil {
		return nil, fmt.Errorf("cannot register %q/%q: %w", c.Domain, c.Key, err)
	}
	e, ch, err := r.set.Register(route, d)
	if err != nil {
		return nil, fmt.Errorf("cannot register %q/%q: %w", c.Domain, c.Key, err)
	}
	r.report(ch)
	return e, nil
}

// prepare validates c and checks the per-candidate limit.
func (r *Registry) prepare(c Candidate, defPrio int, owner string) (*domain.Draft, error) {
	d, err := domain.Prepare(c, defPrio, owner)
	if err != nil {
		return nil, err
	}
	if m := r.limits.MaxMetadataBytes; m > 0 && d.Entry().MetadataBytes() > m {
		return nil, &LimitError{Limit: "metadata bytes", Max: m, Domain: c.Domain, Key: c.Key}
	}
	return d, nil
}

// Unregister removes every candidate of provider from (domain, key) and
// recomputes the key's winner. It returns how many candidates it removed (0
// for names that cannot be registered). A key left with no candidates
// disappears from listings, a domain left with no keys from [Registry.Domains];
// a selection for the key stays.
func (r *Registry) Unregister(domainName, key, provider string) int {
	return r.unregister(r.set.Route(domainName), key, provider)
}

func (r *Registry) unregister(route shard.Route, key, provider string) int {
	if domain.CheckAddress(route.Domain, key, provider) != nil {
		return 0
	}
	n, ch := r.set.Unregister(route, key, provider)
	r.report(ch)
	return n
}

// Select makes provider the selection of (domain, key): its candidates rank
// above all others (healthy ones above unhealthy ones, see
// [Registry.SetHealth]). An empty provider clears the selection. The key's
// winner is recomputed at once. A selection outlives its candidates and waits
// for the provider to be registered. Invalid names return an error matching
// [ErrInvalidCandidate], and a new selection beyond [Limits].MaxMarksPerDomain
// one matching [ErrLimitExceeded]; either changes nothing.
func (r *Registry) Select(domainName, key, provider string) error {
	return r.selectProvider(r.set.Route(domainName), key, provider)
}

func (r *Registry) selectProvider(route shard.Route, key, provider string) error {
	if err := domain.CheckAddress(route.Domain, key, provider); err != nil {
		return fmt.Errorf("cannot select %q for %q/%q: %w", provider, route.Domain, key, err)
	}
	c, err := r.set.Select(route, key, provider)
	if err != nil {
		return fmt.Errorf("cannot select %q for %q/%q: %w", provider, route.Domain, key, err)
	}
	r.report(c)
	return nil
}

// SetHealth marks the candidates of provider for (domain, key) healthy or
// unhealthy. An unhealthy candidate never wins while a healthy one
// qualifies, even over a selection; Explain lists it below the healthy ones
// with the reason "unhealthy". Marking it healthy again restores the ranking
// it had. The mark outlives the candidates, like a selection. Invalid names
// return an error matching [ErrInvalidCandidate], and a new unhealthy mark
// beyond [Limits].MaxMarksPerDomain one matching [ErrLimitExceeded]; either
// changes nothing.
func (r *Registry) SetHealth(domainName, key, provider string, healthy bool) error {
	return r.setHealth(r.set.Route(domainName), key, provider, healthy)
}

func (r *Registry) setHealth(route shard.Route, key, provider string, healthy bool) error {
	if err := domain.CheckAddress(route.Domain, key, provider); err != nil {
		return fmt.Errorf("cannot set the health of %q for %q/%q: %w", provider, route.Domain, key, err)
	}
	c, err := r.set.SetHealth(route, key, provider, healthy)
	if err != nil {
		return fmt.Errorf("cannot mark %q unhealthy for %q/%q: %w", provider, route.Domain, key, err)
	}
	r.report(c)
	return nil
}

// Domains returns, sorted, every domain that has at least one candidate. It
// is consistent across shards (it locks them in ascending order, briefly).
func (r *Registry) Domains() []string {
	return sortedKeys(r.set.Snapshot(nil))
}

// Shards returns the number of shards the registry uses.
func (r *Registry) Shards() int { return r.set.Len() }

// report logs winner changes at Debug level and passes them to the decision
// hook. It runs after every lock is released; a handler or hook that panics
// is recovered and counted, and the others still run.
func (r *Registry) report(cs ...shard.Change) {
	for _, c := range cs {
		if c.Changed() {
			r.logChange(c)
			r.callHook(c)
		}
	}
}

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
		slog.Uint64("sequence", seq), slog.String("reason", c.Reason), slog.Bool("removed", c.New == nil))
}

func (r *Registry) callHook(c shard.Change) {
	if r.hook == nil {
		return
	}
	defer r.contain()
	r.hook(decision(c))
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
// log handler, a decision hook) panicked and was recovered.
func (r *Registry) RecoveredPanics() uint64 { return r.panics.Load() }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
