package registry

import (
	"context"
	"fmt"
	"iter"

	"github.com/oneiric-go/oneiric/explain"
	"github.com/oneiric-go/oneiric/shard"
)

// Handle is a view of one domain of a registry, for a tenant: it has the
// registry's per-domain operations and can neither read nor change any other
// domain. It hashes its domain once, when it is made, so its calls skip the
// hashing. A Handle is safe for concurrent use and cheap to copy by pointer;
// it holds no lock and no resource.
type Handle struct {
	r     *Registry
	route shard.Route
}

// Domain returns a handle bound to the named domain. A name that cannot be
// registered gives a handle whose writes fail with [ErrInvalidCandidate] and
// whose reads find nothing.
func (r *Registry) Domain(name string) *Handle { return &Handle{r: r, route: r.set.Route(name)} }

// Name returns the handle's domain.
func (h *Handle) Name() string { return h.route.Domain }

// Register is [Registry.Register] for the handle's domain. A candidate with an
// empty Domain takes the handle's; one that names another domain is rejected
// with an error matching [ErrWrongDomain] (and so [ErrInvalidCandidate]), and
// nothing changes.
func (h *Handle) Register(c Candidate) (*Entry, error) {
	switch c.Domain {
	case "":
		c.Domain = h.route.Domain
	case h.route.Domain:
	default:
		return nil, fmt.Errorf("cannot register %q/%q through the handle of %q: %w", c.Domain, c.Key, h.route.Domain, ErrWrongDomain)
	}
	return h.r.register(h.route, c)
}

// Resolve is [Registry.Resolve] in the handle's domain.
func (h *Handle) Resolve(key string, opts ...ResolveOption) (*Entry, bool) {
	return h.r.resolveAt(h.route, key, opts)
}

// Explain is [Registry.Explain] in the handle's domain.
func (h *Handle) Explain(key string, opts ...ResolveOption) *explain.Explanation {
	return explainIn(h.r.set.Lookup(h.route, key), h.route.Domain, key, opts)
}

// ListActive is [Registry.ListActive] of the handle's domain.
func (h *Handle) ListActive() []*Entry { return h.r.set.View(h.route).Active() }

// ListShadowed is [Registry.ListShadowed] of the handle's domain.
func (h *Handle) ListShadowed() []*Entry { return h.r.set.View(h.route).Shadowed() }

// Unregister is [Registry.Unregister] in the handle's domain.
func (h *Handle) Unregister(key, provider string) int { return h.r.unregister(h.route, key, provider) }

// Select is [Registry.Select] in the handle's domain.
func (h *Handle) Select(key, provider string) error {
	return h.r.selectProvider(h.route, key, provider)
}

// SetHealth is [Registry.SetHealth] in the handle's domain.
func (h *Handle) SetHealth(key, provider string, healthy bool) error {
	return h.r.setHealth(h.route, key, provider, healthy)
}

// Watch is [Registry.Watch] of the handle's domain only.
func (h *Handle) Watch(ctx context.Context) iter.Seq[Change] {
	return h.r.watch(ctx, []string{h.route.Domain})
}
