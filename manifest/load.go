package manifest

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/oneiric-go/oneiric/registry"
)

// Load loads manifests into r. It first validates every manifest
// ([Manifest.Validate]) and checks them against each other (two manifests
// selecting different providers for one key is an error matching
// [ErrConflict]); any problem is returned before r changes at all. Then, for
// each owner in the order the manifests give them, it makes the owner's set
// of candidates in r equal to the candidates of that owner's manifests,
// through [registry.Registry.Apply]: candidates that did not change keep
// their entries and sequence numbers, those gone from the manifests are
// removed. Manifests with the same owner are merged, in the order given.
// Last, it sets the manifests' selections with [registry.Registry.Select].
// It never clears a selection: one dropped from a manifest stays, since
// selections have no owner in the registry, until Select(domain, key, "")
// clears it.
//
// Loading the same manifests again changes nothing and consumes no sequence
// number. Owners of r that none of ms names are left alone.
//
// Each owner's change is atomic for every reader of r, but Load as a whole is
// not: a concurrent reader may see one owner's new set before another's, and
// the selections last. If an Apply fails (a limit of r, see
// [registry.WithLimits]: the error matches [registry.ErrLimitExceeded]), Load
// puts back the sets of the owners it had already changed, with the same
// candidates (those it had removed come back with new sequence numbers), and
// returns the error; r then holds what it held before, as far as Load's own
// writes go. A selection refused by [registry.Limits].MaxMarksPerDomain
// returns its error after the sets were changed, with the selections before
// it set.
func Load(r *registry.Registry, ms ...*Manifest) error {
	if r == nil {
		return errors.New("manifest: Load needs a registry, got nil")
	}
	type selection struct {
		provider string
		m        *Manifest
	}
	var owners []*ownerSet
	byOwner := map[string]*ownerSet{}
	var selOrder [][2]string
	sels := map[[2]string]selection{}
	for i, m := range ms {
		if m == nil {
			return fmt.Errorf("manifest: Load: manifest %d is nil", i)
		}
		if err := m.Validate(); err != nil {
			return err
		}
		s := byOwner[m.Owner]
		if s == nil {
			s = &ownerSet{owner: m.Owner}
			byOwner[m.Owner] = s
			owners = append(owners, s)
		}
		s.files = append(s.files, m.File)
		s.cs = append(s.cs, m.Candidates...)
		for _, d := range sortedKeys(m.Selections) {
			for _, k := range sortedKeys(m.Selections[d]) {
				a, p := [2]string{d, k}, m.Selections[d][k]
				prev, ok := sels[a]
				switch {
				case !ok:
					sels[a] = selection{provider: p, m: m}
					selOrder = append(selOrder, a)
				case prev.provider != p:
					where := prev.m.File
					if at := prev.m.at.selection(d, k); at.line > 0 {
						where = fmt.Sprintf("%s:%d:%d", where, at.line, at.col)
					}
					if where == "" {
						where = fmt.Sprintf("the manifest of owner %q", prev.m.Owner)
					}
					return errorAt(m.File, m.at.selection(d, k), selectionEntry(d, k),
						fmt.Errorf("%w: %q here, %q in %s", ErrConflict, p, prev.provider, where))
				}
			}
		}
	}

	type applied struct {
		owner string
		prev  []*registry.Entry // the owner's set before Load
	}
	var done []applied
	for _, s := range owners {
		res, err := r.Apply(s.owner, s.cs)
		if err != nil {
			err = fmt.Errorf("%s: %w", s.describe(), err)
			for _, a := range slices.Backward(done) {
				if _, rerr := r.Apply(a.owner, candidatesOf(a.prev)); rerr != nil {
					err = errors.Join(err, fmt.Errorf("and cannot put back the set of %q: %w", a.owner, rerr))
				}
			}
			return err
		}
		prev := slices.Concat(res.Kept, res.Removed)
		slices.SortFunc(prev, func(a, b *registry.Entry) int { return cmp.Compare(a.Sequence(), b.Sequence()) })
		done = append(done, applied{owner: s.owner, prev: prev})
	}
	for _, a := range selOrder {
		if err := r.Select(a[0], a[1], sels[a].provider); err != nil { // names validated above: only a limit
			return fmt.Errorf("manifest: %w", err)
		}
	}
	return nil
}

// candidatesOf returns candidates equal to the entries es (see
// [registry.Entry.SameAs]), for putting them back.
// ownerSet is what Load applies for one owner: the candidates of all its
// manifests.
type ownerSet struct {
	owner string
	files []string // of its manifests, in order
	cs    []registry.Candidate
}

// describe names an owner's set by its files, or by the owner when its
// manifests were built in code.
func (s *ownerSet) describe() string {
	var files []string
	for _, f := range s.files {
		if f != "" {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return fmt.Sprintf("owner %q", s.owner)
	}
	return strings.Join(files, ", ")
}

func candidatesOf(es []*registry.Entry) []registry.Candidate {
	cs := make([]registry.Candidate, len(es))
	for i, e := range es {
		cs[i] = registry.Candidate{
			Domain: e.Domain(), Key: e.Key(), Provider: e.Provider(), Priority: new(e.Priority()),
			StackLevel: e.StackLevel(), Capabilities: e.Capabilities(), Metadata: e.Metadata(),
			Factory: e.Factory(), Source: e.Source(),
		}
	}
	return cs
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
