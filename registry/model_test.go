package registry_test

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/oneiric-go/oneiric/internal/model"
	"github.com/oneiric-go/oneiric/registry"
)

// modelConfigs are the registry layouts TestRegistryMatchesModel draws
// from, simplest first (rapid shrinks a failure towards the first).
var modelConfigs = []struct {
	name   string
	shards int
	hash   func(string) uint64
}{
	{"shards=1", 1, nil},
	{"shards=4", 4, nil},
	{"shards=default", 0, nil},
	// Every domain hashes to the same value: one shard of eight holds them
	// all, and they collide in its domain table.
	{"degenerate-hash", 8, func(string) uint64 { return 0x9e3779b97f4a7c15 }},
}

// TestRegistryMatchesModel is a rapid state machine: random sequences of
// operations run against a Registry and against the reference model
// (internal/model), every result is compared, and after every step Check
// compares the whole state and verifies the invariants (see harness.check).
// Each run draws its registry layout from modelConfigs (1, 4 and the default
// number of shards, and a degenerate hash), its default priority and its
// initial selections.
//
// The number of runs and the mean number of steps per run are rapid's own
// flags, -rapid.checks (default 100) and -rapid.steps (default 30):
//
//	go test -run TestRegistryMatchesModel ./registry/ -rapid.checks=1000 -rapid.steps=100
//
// With ./... use the environment instead (RAPID_CHECKS=1000 RAPID_STEPS=100),
// as packages that do not import rapid reject its flags.
func TestRegistryMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := rapid.IntRange(0, len(modelConfigs)-1).Draw(t, "config")
		cfg := harnessConfig{
			shards:     modelConfigs[c].shards,
			hash:       modelConfigs[c].hash,
			defPrio:    rapid.SampledFrom([]int{0, 5, -1}).Draw(t, "defaultPriority"),
			selections: selectionsGen().Draw(t, "selections"),
		}
		t.Logf("config %s: %v", modelConfigs[c].name, cfg)
		t.Repeat(rapid.StateMachineActions(&machine{h: newHarness(cfg)}))
	})
}

// machine is the rapid state machine: each exported method taking a
// *rapid.T is an action.
type machine struct {
	h *harness
	// The last snapshot taken and the model's at the same point: Check and
	// the next Snapshot verify that later operations do not change it.
	snap     *registry.Snapshot
	snapWant map[model.Addr][]*registry.Entry
}

func (m *machine) Check(t *rapid.T) {
	if err := m.h.check(false); err != nil {
		t.Fatal(err)
	}
	if m.snap != nil {
		if err := diffSnapshot(m.snap, m.snapWant, false); err != nil {
			t.Fatalf("an earlier snapshot changed: %v", err)
		}
	}
}

// Register registers one to three candidates, one after the other.
func (m *machine) Register(t *rapid.T) {
	for _, c := range rapid.SliceOfN(candGen(16), 1, 3).Draw(t, "candidates") {
		if err := m.h.register(c); err != nil {
			t.Fatal(err)
		}
	}
}

// RegisterPackage registers zero to four candidates, spanning domains; an
// invalid one must make the whole call fail.
func (m *machine) RegisterPackage(t *rapid.T) {
	pkg := rapid.SampledFrom(testPackages).Draw(t, "pkg")
	path := rapid.SampledFrom(testPaths).Draw(t, "path")
	prio := rapid.Ptr(rapid.IntRange(-2, 3), true).Draw(t, "priority")
	cs := rapid.SliceOfN(candGen(48), 0, 4).Draw(t, "candidates")
	if err := m.h.registerPackage(pkg, path, cs, prio); err != nil {
		t.Fatal(err)
	}
}

func (m *machine) Unregister(t *rapid.T) {
	d, k, p := addrGen(t)
	if err := m.h.unregister(d, k, p); err != nil {
		t.Fatal(err)
	}
}

// Select sets a selection, or clears it with an empty provider.
func (m *machine) Select(t *rapid.T) {
	d, k, p := addrGen(t)
	if err := m.h.selectProvider(d, k, p); err != nil {
		t.Fatal(err)
	}
}

func (m *machine) Resolve(t *rapid.T) {
	d, k, _ := addrGen(t)
	if err := m.h.resolve(d, k, optsGen().Draw(t, "options")); err != nil {
		t.Fatal(err)
	}
}

func (m *machine) Explain(t *rapid.T) {
	d, k, _ := addrGen(t)
	if err := m.h.explain(d, k, optsGen().Draw(t, "options")); err != nil {
		t.Fatal(err)
	}
}

func (m *machine) ListActive(t *rapid.T) {
	if err := m.h.listActive(nameGen(testDomains, 16).Draw(t, "domain")); err != nil {
		t.Fatal(err)
	}
}

func (m *machine) ListShadowed(t *rapid.T) {
	if err := m.h.listShadowed(nameGen(testDomains, 16).Draw(t, "domain")); err != nil {
		t.Fatal(err)
	}
}

// Snapshot takes a snapshot of zero (meaning all) to three domains, after
// checking in full that the previous one has not changed (Check does so only
// lightly).
func (m *machine) Snapshot(t *rapid.T) {
	if m.snap != nil {
		if err := diffSnapshot(m.snap, m.snapWant, true); err != nil {
			t.Fatalf("an earlier snapshot changed: %v", err)
		}
	}
	ds := rapid.SliceOfN(nameGen(testDomains, 8), 0, 3).Draw(t, "domains")
	s, want, err := m.h.snapshot(ds)
	if err != nil {
		t.Fatal(err)
	}
	m.snap, m.snapWant = s, want
}

func (m *machine) Domains(t *rapid.T) {
	if err := m.h.domains(); err != nil {
		t.Fatal(err)
	}
}

// nameGen draws from an alphabet of four valid names followed by four
// invalid ones, picking an invalid one once in oneIn draws.
func nameGen(alphabet []string, oneIn int) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		if rapid.IntRange(1, oneIn).Draw(t, "invalid") == oneIn {
			return rapid.SampledFrom(alphabet[4:]).Draw(t, "bad")
		}
		return rapid.SampledFrom(alphabet[:4]).Draw(t, "good")
	})
}

func addrGen(t *rapid.T) (d, k, p string) {
	return nameGen(testDomains, 16).Draw(t, "domain"), nameGen(testKeys, 16).Draw(t, "key"),
		nameGen(testProviders, 16).Draw(t, "provider")
}

// candGen draws candidates; about one draw in oneIn of each name, and one in
// four of the metadata variants, is invalid.
func candGen(oneIn int) *rapid.Generator[cand] {
	return rapid.Custom(func(t *rapid.T) cand {
		d := nameGen(testDomains, oneIn).Draw(t, "domain")
		k := nameGen(testKeys, oneIn).Draw(t, "key")
		p := nameGen(testProviders, oneIn).Draw(t, "provider")
		prio := rapid.Ptr(rapid.IntRange(-2, 3), true).Draw(t, "priority")
		stack := rapid.IntRange(-1, 2).Draw(t, "stackLevel")
		caps := rapid.SliceOfN(rapid.SampledFrom(testCaps), 0, 3).Draw(t, "capabilities")
		meta := 0
		if rapid.IntRange(0, 3).Draw(t, "hasMetadata") == 3 {
			meta = rapid.IntRange(1, len(metaVariants)-1).Draw(t, "metadata")
		}
		badSource := rapid.IntRange(1, 2*oneIn).Draw(t, "badSource") == 2*oneIn
		return newCand(d, k, p, prio, stack, caps, meta, badSource)
	})
}

func optsGen() *rapid.Generator[[]opt] {
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) opt {
		return opt{
			kind:     optKind(rapid.IntRange(0, int(numOptKinds)-1).Draw(t, "kind")),
			provider: nameGen(testProviders, 16).Draw(t, "provider"),
			caps:     rapid.SliceOfN(rapid.SampledFrom(testCaps), 0, 3).Draw(t, "caps"),
		}
	}), 0, 3)
}

// selectionsGen draws the initial selections: up to three, some of which
// (invalid names, an empty provider) the registry must skip.
func selectionsGen() *rapid.Generator[map[string]map[string]string] {
	return rapid.Custom(func(t *rapid.T) map[string]map[string]string {
		n := rapid.IntRange(0, 3).Draw(t, "selections")
		if n == 0 {
			return nil
		}
		sel := map[string]map[string]string{}
		for range n {
			d, k, p := addrGen(t)
			if sel[d] == nil {
				sel[d] = map[string]string{}
			}
			sel[d][k] = p
		}
		return sel
	})
}
