package registry

import (
	"fmt"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/shard"
)

// RegisterPackage registers the candidates a plugin loader found in package
// pkg at path, all or nothing. Each candidate keeps its own priority, else
// takes priority, else the one [Registry.InferPriority] gives (0 when nothing
// matches; the registry's default priority does not apply). Each gets the
// metadata {"package": pkg, "path": path} overlaid by its own. The candidates
// get consecutive sequence numbers in the order given, and every reader (the
// lock-free Resolve included) sees all of them or none, even across domains.
// If any candidate is invalid, the error names it, matches
// [ErrInvalidCandidate], and nothing is registered; the same holds for a
// limit, with [ErrLimitExceeded]. cs is never modified.
func (r *Registry) RegisterPackage(pkg, path string, cs []Candidate, priority *int) ([]*Entry, error) {
	prio := 0
	if priority != nil {
		prio = *priority
	} else {
		prio = r.InferPriority(pkg, path)
	}
	drafts := make([]*domain.Draft, len(cs))
	routes := make([]shard.Route, len(cs))
	for i, c := range cs {
		meta := make(map[string]any, len(c.Metadata)+2)
		meta["package"], meta["path"] = pkg, path
		for k, v := range c.Metadata {
			meta[k] = v
		}
		c.Metadata = meta // c is a copy; the caller's candidate is untouched
		d, err := r.prepare(c, prio, "")
		if err != nil {
			return nil, fmt.Errorf("cannot register package %q: candidate %d (%q/%q): %w", pkg, i, c.Domain, c.Key, err)
		}
		drafts[i], routes[i] = d, r.set.Route(c.Domain)
	}
	res, err := r.set.RegisterBatch(routes, drafts)
	if err != nil {
		return nil, fmt.Errorf("cannot register package %q: %w", pkg, err)
	}
	r.report(res.Changes...)
	if res.Added == nil {
		return []*Entry{}, nil
	}
	return res.Added, nil
}
