package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/domain"
)

// TestEntryCapabilities checks every source of a candidate's capabilities:
// the Capabilities field, Metadata["capabilities"] as a string or a list,
// and the "name" of each map in Metadata["capability_descriptors"]. The
// result is trimmed, de-duplicated and sorted.
func TestEntryCapabilities(t *testing.T) {
	tests := []struct {
		name string
		own  []string
		meta map[string]any
		want []string
	}{
		{"none", nil, nil, nil},
		{"field only", []string{"ttl", "cluster"}, nil, []string{"cluster", "ttl"}},
		{"metadata string", nil, map[string]any{"capabilities": "ttl"}, []string{"ttl"}},
		{"metadata string is one name, not split", nil, map[string]any{"capabilities": "ttl,cluster"}, []string{"ttl,cluster"}},
		{"metadata []string", nil, map[string]any{"capabilities": []string{"b", "a"}}, []string{"a", "b"}},
		{"metadata []any, non-strings ignored", nil, map[string]any{"capabilities": []any{"a", 1, nil, true, "b"}}, []string{"a", "b"}},
		{"metadata of another type ignored", nil, map[string]any{"capabilities": 42}, nil},
		{"descriptors []any of map[string]any", nil, map[string]any{"capability_descriptors": []any{
			map[string]any{"name": "stream", "version": 2},
			map[string]any{"version": 3}, // no name
			map[string]any{"name": 7},    // not a string
			"not a map",
		}}, []string{"stream"}},
		{"descriptors []any of map[string]string", nil, map[string]any{"capability_descriptors": []any{
			map[string]string{"name": "stream"},
		}}, []string{"stream"}},
		{"descriptors []map[string]any", nil, map[string]any{"capability_descriptors": []map[string]any{
			{"name": "stream"}, {"name": "batch"},
		}}, []string{"batch", "stream"}},
		{"descriptors []map[string]string", nil, map[string]any{"capability_descriptors": []map[string]string{
			{"name": "stream"}, {"description": "no name"},
		}}, []string{"stream"}},
		{"all sources together, duplicates once", []string{"ttl", "stream"}, map[string]any{
			"capabilities":           []any{"ttl", "cluster"},
			"capability_descriptors": []any{map[string]any{"name": "stream"}, map[string]any{"name": "acl"}},
		}, []string{"acl", "cluster", "stream", "ttl"}},
		{"trimmed, empty dropped", []string{" ttl ", "", "   "}, map[string]any{"capabilities": "  "}, []string{"ttl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := domain.Prepare(domain.Candidate{Domain: "adapter", Key: "cache", Capabilities: tt.own, Metadata: tt.meta}, 0, "")
			require.NoError(t, err)
			e := d.Finish(1, time.Now())
			assert.Equal(t, tt.want, e.Capabilities())
			for _, c := range tt.want {
				assert.True(t, e.HasCapability(c), c)
			}
			assert.False(t, e.HasCapability("absent"))
		})
	}
}

// TestEntryCapabilitiesAreCopies checks that neither the caller's slice nor
// the returned one reaches the entry's set.
func TestEntryCapabilitiesAreCopies(t *testing.T) {
	own := []string{"a", "b"}
	d, err := domain.Prepare(domain.Candidate{Domain: "adapter", Key: "cache", Capabilities: own}, 0, "")
	require.NoError(t, err)
	e := d.Finish(1, time.Now())

	own[0] = "changed"
	got := e.Capabilities()
	got[1] = "changed"
	_ = append(got[:1], "appended")

	assert.Equal(t, []string{"a", "b"}, e.Capabilities())
	assert.True(t, e.HasCapability("a"))
	assert.False(t, e.HasCapability("changed"))
}

// TestNormalizeRequired checks how required capabilities are normalised:
// trimmed, empty ones dropped, duplicates once, sorted; nil when none remain.
func TestNormalizeRequired(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"nil", nil, nil},
		{"only blanks", []string{"", " ", "\t"}, nil},
		{"trimmed", []string{" ttl ", "cluster\n"}, []string{"cluster", "ttl"}},
		{"duplicates once", []string{"ttl", " ttl", "ttl "}, []string{"ttl"}},
		{"sorted", []string{"c", "a", "b"}, []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, domain.NormalizeRequired(tt.in))
		})
	}
}
