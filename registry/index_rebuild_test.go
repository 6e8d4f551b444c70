package registry_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
)

// TestApplyAcrossIndexRebuilds makes every Apply grow or shrink the one
// shard's key index several times: odd versions hold 4 common keys and 60
// more, even versions only the 4. Readers that take no lock check that what
// they see is atomic and moves forward: Resolves one after another never see
// an older version than an earlier one did (a key of the 60 found or missed
// says which half it read), and a ListActive shows exactly the keys of one
// version, all of that version.
func TestApplyAcrossIndexRebuilds(t *testing.T) {
	applies := 400
	if raceEnabled {
		applies = 100
	}
	const dom = "tenant"
	r := registry.New(registry.WithShards(1))
	common := []string{"c0", "c1", "c2", "c3"}
	var extra []string
	for i := range 60 {
		extra = append(extra, fmt.Sprintf("x%02d", i))
	}
	build := func(v int) []registry.Candidate {
		keys := common
		if v%2 == 1 {
			keys = append(append([]string(nil), common...), extra...)
		}
		var cs []registry.Candidate
		for _, k := range keys {
			cs = append(cs, registry.Candidate{Domain: dom, Key: k, Provider: "p", Priority: new(1), Metadata: map[string]any{"v": v}})
		}
		return cs
	}
	version := func(e *registry.Entry) int {
		v, _ := e.Meta("v")
		return v.(int)
	}
	i5Apply(t, r, "loader", build(1))

	var done atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() { // Resolves, one after another
		lb := 1 // no later read may show an older version
		for n := 0; !done.Load(); n++ {
			k := common[n%len(common)]
			if n%2 == 1 {
				k = extra[n%len(extra)]
			}
			e, ok := r.Resolve(dom, k)
			switch {
			case ok && version(e) < lb:
				errs <- fmt.Errorf("Resolve %s: version %d after %d", k, version(e), lb)
				return
			case ok:
				lb = version(e)
			case k[0] == 'c':
				errs <- fmt.Errorf("Resolve %s: missing", k)
				return
			case lb%2 == 1:
				lb++ // an even version at least: the extra keys were gone
			}
		}
	})
	wg.Go(func() { // ListActive: one whole version
		for !done.Load() {
			es := r.ListActive(dom)
			v := version(es[0])
			want := len(common)
			if v%2 == 1 {
				want += len(extra)
			}
			if len(es) != want {
				errs <- fmt.Errorf("ListActive of version %d: %d keys, want %d", v, len(es), want)
				return
			}
			for _, e := range es {
				if version(e) != v {
					errs <- fmt.Errorf("ListActive: versions %d and %d mixed", v, version(e))
					return
				}
			}
		}
	})
	for v := 2; v <= applies; v++ {
		i5Apply(t, r, "loader", build(v))
	}
	done.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, r.ListActive(dom), len(common)+len(extra)*(applies%2))
}
