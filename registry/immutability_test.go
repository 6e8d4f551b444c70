package registry_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
)

// The tests in this file follow SPEC.md's contract "Nothing a caller passes
// in or gets back can change what the registry holds."

// semFingerprint renders everything the registry holds about adapter (and
// the entries' metadata and capabilities) as text, to compare before and
// after a caller meddles.
func semFingerprint(t *testing.T, r *registry.Registry) string {
	t.Helper()
	type entry struct {
		Provider     string
		Priority     int
		Sequence     uint64
		Capabilities []string
		Metadata     map[string]any
	}
	var doc struct {
		Domains  []string
		Active   []entry
		Shadowed []entry
		Explain  json.RawMessage
		Require  json.RawMessage
	}
	conv := func(es []*registry.Entry) []entry {
		out := make([]entry, len(es))
		for i, e := range es {
			out[i] = entry{e.Provider(), e.Priority(), e.Sequence(), e.Capabilities(), e.Metadata()}
		}
		return out
	}
	doc.Domains = r.Domains()
	doc.Active = conv(r.ListActive("adapter"))
	doc.Shadowed = conv(r.ListShadowed("adapter"))
	var err error
	doc.Explain, err = json.Marshal(r.Explain("adapter", "cache"))
	require.NoError(t, err)
	doc.Require, err = json.Marshal(r.Explain("adapter", "cache", registry.Require("ttl")))
	require.NoError(t, err)
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	return string(b)
}

// TestCallerCandidateChangesReachNothing: after Register, changing the
// caller's Candidate (its metadata at any depth, its capabilities, the
// priority it points to) changes nothing in the registry.
func TestCallerCandidateChangesReachNothing(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *registry.Candidate)
	}{
		{"top-level metadata value", func(c *registry.Candidate) { c.Metadata["version"] = "9" }},
		{"metadata key added", func(c *registry.Candidate) { c.Metadata["capabilities"] = "cluster" }},
		{"metadata key deleted", func(c *registry.Candidate) { delete(c.Metadata, "version") }},
		{"nested map value", func(c *registry.Candidate) { c.Metadata["conn"].(map[string]any)["host"] = "elsewhere" }},
		{"nested slice element", func(c *registry.Candidate) { c.Metadata["hosts"].([]any)[0] = "elsewhere" }},
		{"map inside a slice", func(c *registry.Candidate) {
			c.Metadata["capability_descriptors"].([]any)[0].(map[string]any)["name"] = "changed"
		}},
		{"typed slice element", func(c *registry.Candidate) { c.Metadata["tags"].([]string)[0] = "changed" }},
		{"typed map value", func(c *registry.Candidate) { c.Metadata["weights"].(map[string]int)["a"] = 100 }},
		{"Capabilities element", func(c *registry.Candidate) { c.Capabilities[0] = "changed" }},
		{"Capabilities appended to in place", func(c *registry.Candidate) {
			_ = append(c.Capabilities[:1], "cluster")
		}},
		{"*Priority", func(c *registry.Candidate) { *c.Priority = 1000 }},
		{"Priority pointer replaced", func(c *registry.Candidate) { c.Priority = new(-1000) }},
		{"scalar fields", func(c *registry.Candidate) {
			c.Domain, c.Key, c.Provider, c.StackLevel = "service", "queue", "other", 50
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := registry.Candidate{
				Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(10),
				Capabilities: make([]string, 1, 4), // spare capacity: an in-place append would show
				Metadata: map[string]any{
					"version":                "1",
					"conn":                   map[string]any{"host": "localhost"},
					"hosts":                  []any{"a", "b"},
					"tags":                   []string{"fast"},
					"weights":                map[string]int{"a": 1},
					"capability_descriptors": []any{map[string]any{"name": "stream"}},
				},
			}
			c.Capabilities[0] = "ttl"
			r := registry.New()
			semRegister(t, r, semCache("memcached", 5))
			e := semRegister(t, r, c)
			before := semFingerprint(t, r)

			tt.change(&c)

			assert.Equal(t, before, semFingerprint(t, r))
			assert.Equal(t, 10, e.Priority())
			assert.Equal(t, []string{"stream", "ttl"}, e.Capabilities())
			assert.Equal(t, "localhost", e.Metadata()["conn"].(map[string]any)["host"])
		})
	}
}

// TestReturnedValuesChangeNothing: whatever a caller gets back (entry
// metadata and its nested values, Meta values, capability slices,
// explanations, listings, domain lists) is the caller's to change.
func TestReturnedValuesChangeNothing(t *testing.T) {
	setup := func(t *testing.T) (*registry.Registry, *registry.Entry) {
		r := registry.New()
		semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(5), Capabilities: []string{"ttl"}})
		e := semRegister(t, r, registry.Candidate{
			Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(10),
			Capabilities: []string{"ttl", "cluster"},
			Metadata: map[string]any{
				"conn":    map[string]any{"host": "localhost", "ports": []any{6379}},
				"tags":    []string{"fast"},
				"weights": map[string]int{"a": 1},
			},
		})
		semRegister(t, r, registry.Candidate{Domain: "adapter", Key: "queue", Provider: "nats"})
		return r, e
	}
	tests := []struct {
		name   string
		meddle func(r *registry.Registry, e *registry.Entry)
	}{
		{"Metadata map", func(_ *registry.Registry, e *registry.Entry) {
			m := e.Metadata()
			m["new"] = 1
			delete(m, "tags")
		}},
		{"Metadata nested values", func(_ *registry.Registry, e *registry.Entry) {
			m := e.Metadata()
			m["conn"].(map[string]any)["host"] = "elsewhere"
			m["conn"].(map[string]any)["ports"].([]any)[0] = 1
			m["tags"].([]string)[0] = "slow"
			m["weights"].(map[string]int)["a"] = 9
		}},
		{"Meta composite values", func(_ *registry.Registry, e *registry.Entry) {
			v, _ := e.Meta("conn")
			v.(map[string]any)["host"] = "elsewhere"
			v.(map[string]any)["ports"].([]any)[0] = 1
			s, _ := e.Meta("tags")
			s.([]string)[0] = "slow"
			w, _ := e.Meta("weights")
			w.(map[string]int)["a"] = 9
		}},
		{"Capabilities slice", func(_ *registry.Registry, e *registry.Entry) {
			c := e.Capabilities()
			c[0] = "changed"
			_ = append(c[:0], "x", "y", "z")
		}},
		{"Explanation slices", func(r *registry.Registry, _ *registry.Entry) {
			x := r.Explain("adapter", "cache")
			x.Ordered[0].Reasons[0] = "changed"
			x.Ordered[0].Reasons = append(x.Ordered[0].Reasons, "extra")
			x.Ordered[0].Score.Priority = -1
			x.Ordered[0].Selected = false
			x.Ordered[1].Selected = true
			x.Ordered[0], x.Ordered[1] = x.Ordered[1], x.Ordered[0]
			x.Ordered = x.Ordered[:1]
			y := r.Explain("adapter", "cache", registry.Require("ttl"))
			y.Ordered[1].Reasons[2] = "changed"
			y.Ordered[0].Entry = nil
		}},
		{"ListActive slice", func(r *registry.Registry, _ *registry.Entry) {
			a := r.ListActive("adapter")
			a[0], a[1] = a[1], a[0]
			_ = append(a[:1], nil)
		}},
		{"ListShadowed slice", func(r *registry.Registry, _ *registry.Entry) {
			s := r.ListShadowed("adapter")
			s[0] = nil
			_ = append(s[:0], nil, nil)
		}},
		{"Domains slice", func(r *registry.Registry, _ *registry.Entry) {
			d := r.Domains()
			d[0] = "changed"
		}},
		{"Snapshot listings", func(r *registry.Registry, _ *registry.Entry) {
			s := r.Snapshot()
			s.ListActive("adapter")[0] = nil
			s.ListShadowed("adapter")[0] = nil
			s.Explain("adapter", "cache").Ordered[0].Reasons[0] = "changed"
			s.Domains()[0] = "changed"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, e := setup(t)
			before := semFingerprint(t, r)
			tt.meddle(r, e)
			assert.Equal(t, before, semFingerprint(t, r))
			assert.Equal(t, map[string]any{
				"conn":    map[string]any{"host": "localhost", "ports": []any{6379}},
				"tags":    []string{"fast"},
				"weights": map[string]int{"a": 1},
			}, e.Metadata())
			assert.Equal(t, []string{"cluster", "ttl"}, e.Capabilities())
			assert.True(t, e.HasCapability("cluster"))
		})
	}
}

// TestRegisterPackageResultChangesNothing: the slice RegisterPackage returns
// is the caller's.
func TestRegisterPackageResultChangesNothing(t *testing.T) {
	r := registry.New()
	es, err := r.RegisterPackage("core", "/p/x.py", []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "redis"},
		{Domain: "adapter", Key: "cache", Provider: "memcached"},
	}, new(1))
	require.NoError(t, err)
	before := semFingerprint(t, r)
	es[0], es[1] = nil, nil
	assert.Equal(t, before, semFingerprint(t, r))
}
