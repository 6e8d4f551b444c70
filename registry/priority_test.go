package registry_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
)

// The tests in this file follow SPEC.md, "Priority inference" and
// RegisterPackage.

// TestStackOrderFormat pins how a stack order "name:value,name,…" is read:
// names and values trimmed, a name without a value gets 10 × the number of
// distinct names read before it, blank and malformed tokens are ignored (and
// not counted).
func TestStackOrderFormat(t *testing.T) {
	const none = "nowhere/x.py" // a path no hint matches
	tests := []struct {
		name  string
		order string
		want  map[string]int // package → inferred priority
	}{
		{"explicit value", "core:5", map[string]int{"core": 5, "other": 0}},
		{"negative value", "core:-3", map[string]int{"core": -3}},
		{"names without values count up by ten", "a,b,c", map[string]int{"a": 0, "b": 10, "c": 20}},
		{"mixed: a valued name counts as read", "a,b:7,c", map[string]int{"a": 0, "b": 7, "c": 20}},
		{"names and values trimmed", "  a : 5 ,  b  ", map[string]int{"a": 5, "b": 10}},
		{"blank tokens ignored", ",, a ,, ,b,", map[string]int{"a": 0, "b": 10}},
		{"non-numeric value ignored and not counted", "a:x,b", map[string]int{"a": 0, "b": 0}},
		{"empty value ignored", "a:,b", map[string]int{"a": 0, "b": 0}},
		{"two colons ignored", "a:1:2,b", map[string]int{"a": 0, "b": 0}},
		{"blank name ignored", ":5, :6,b", map[string]int{"b": 0, "": 0}},
		{"a name given again without value: 10 × distinct names before", "a:5,b,a", map[string]int{"a": 20, "b": 10}},
		{"a name given again with a value keeps the last", "a:5,a:6", map[string]int{"a": 6}},
		{"names are case-sensitive", "Core:5", map[string]int{"Core": 5, "core": 0}},
		{"empty order", "", map[string]int{"a": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New(registry.WithStackOrder(tt.order))
			for pkg, want := range tt.want {
				assert.Equal(t, want, r.InferPriority(pkg, none), "package %q", pkg)
			}
		})
	}
	t.Run("the stack order comes before the path hints", func(t *testing.T) {
		r := registry.New(registry.WithStackOrder("core:5,zero:0"))
		assert.Equal(t, 5, r.InferPriority("core", "/project/adapters/x.py"))
		assert.Equal(t, 0, r.InferPriority("zero", "/project/adapters/x.py"), "an explicit 0 in the order is used")
		assert.Equal(t, 76, r.InferPriority("other", "/project/adapters/x.py"))
	})
}

// TestInferPriorityPathHints pins the path hints: adapters 80, services 70,
// tasks 60, events 60, workflows 60, vendor 90, checked in that order, minus
// min(number of path components, 10), a leading "/" counting as one.
func TestInferPriorityPathHints(t *testing.T) {
	tests := []struct {
		path string
		want int
	}{
		{"/project/adapters/x.py", 76}, // "/", project, adapters, x.py
		{"project/adapters/x.py", 77},
		{"adapters", 79},
		{"adapters/", 79},
		{"/srv/services/auth.py", 66},
		{"tasks/x.py", 58},
		{"events/x.py", 58},
		{"workflows/x.py", 58},
		{"vendor/lib/x.py", 87},
		{"/vendor/adapters/x.py", 76},         // adapters is checked before vendor
		{"/services/adapters/x.py", 76},       // adapters is checked before services
		{"/workflows/events/tasks/x.py", 55},  // tasks before events before workflows
		{"./adapters/x.py", 78},               // "." is no component
		{"a//adapters//x.py", 77},             // empty components vanish
		{"a/b/c/d/e/f/g/adapters/x.py", 71},   // 9 components
		{"a/b/c/d/e/f/g/h/adapters/x.py", 70}, // 10 components
		{"/a/b/c/d/e/f/g/h/i/adapters/x", 70}, // 12 components: the penalty stops at 10
		{"../adapters/x.py", 77},              // ".." is a component
		{"myadapters/x.py", 0},                // a hint must be a whole component
		{"/project/adapters.py", 0},
		{"Adapters/x.py", 0}, // case-sensitive
		{"/project/plugins/x.py", 0},
		{"", 0},
		{"/", 0},
	}
	r := registry.New(registry.WithStackOrder(""))
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			assert.Equal(t, tt.want, r.InferPriority("pkg", tt.path))
			t.Setenv("ONEIRIC_STACK_ORDER", "")
			assert.Equal(t, tt.want, registry.InferPriority("pkg", tt.path), "the package function agrees")
		})
	}
}

// TestInferPriorityEnvironment: the package function reads
// $ONEIRIC_STACK_ORDER at each call; a registry reads it once, at New,
// unless WithStackOrder gives the order (WithStackOrder("") is an empty
// order).
func TestInferPriorityEnvironment(t *testing.T) {
	require.Equal(t, "ONEIRIC_STACK_ORDER", registry.StackOrderEnv)
	const path = "/project/adapters/x.py" // 76 by its path

	t.Setenv("ONEIRIC_STACK_ORDER", "core:5")
	assert.Equal(t, 5, registry.InferPriority("core", path))
	fromEnv := registry.New()
	explicit := registry.New(registry.WithStackOrder("core:9"))
	empty := registry.New(registry.WithStackOrder(""))

	t.Setenv("ONEIRIC_STACK_ORDER", "core:7")
	tests := []struct {
		name string
		got  int
		want int
	}{
		{"package function reads the environment at each call", registry.InferPriority("core", path), 7},
		{"registry read the environment at New", fromEnv.InferPriority("core", path), 5},
		{"WithStackOrder replaces the environment", explicit.InferPriority("core", path), 9},
		{"WithStackOrder(\"\") is an empty order", empty.InferPriority("core", path), 76},
		{"a registry made now reads the new value", registry.New().InferPriority("core", path), 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
		})
	}

	t.Run("RegisterPackage uses the registry's order", func(t *testing.T) {
		es, err := fromEnv.RegisterPackage("core", path, []registry.Candidate{{Domain: "adapter", Key: "cache"}}, nil)
		require.NoError(t, err)
		assert.Equal(t, 5, es[0].Priority())
	})
	t.Run("unset variable", func(t *testing.T) {
		require.NoError(t, os.Unsetenv("ONEIRIC_STACK_ORDER")) // t.Setenv restores it
		assert.Equal(t, 76, registry.InferPriority("core", path))
		assert.Equal(t, 76, registry.New().InferPriority("core", path))
	})
}

// TestRegisterPackagePriority: each candidate keeps its own priority, else
// takes the given one, else the one the registry's stack order infers; 0
// when nothing matches, whatever the default priority.
func TestRegisterPackagePriority(t *testing.T) {
	r := registry.New(registry.WithStackOrder("core:40"), registry.WithDefaultPriority(33))
	tests := []struct {
		name  string
		pkg   string
		path  string
		own   *int
		given *int
		want  int
	}{
		{"own priority beats the given one", "core", "/p/adapters/x.py", new(3), new(20), 3},
		{"own explicit zero is kept", "core", "/p/adapters/x.py", new(0), new(20), 0},
		{"given priority beats inference", "core", "/p/adapters/x.py", nil, new(20), 20},
		{"given explicit zero is kept", "core", "/p/adapters/x.py", nil, new(0), 0},
		{"stack order", "core", "/p/adapters/x.py", nil, nil, 40},
		{"path hint", "other", "/p/adapters/x.py", nil, nil, 76},
		{"nothing matches: 0, not the default priority", "other", "/p/plugins/x.py", nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := r.RegisterPackage(tt.pkg, tt.path, []registry.Candidate{{Domain: "adapter", Key: "cache", Priority: tt.own}}, tt.given)
			require.NoError(t, err)
			require.Len(t, es, 1)
			assert.Equal(t, tt.want, es[0].Priority())
		})
	}
	t.Run("Register still uses the default priority", func(t *testing.T) {
		e, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache"})
		require.NoError(t, err)
		assert.Equal(t, 33, e.Priority())
	})
}

// TestRegisterPackageMetadata: each candidate gets {"package", "path"}
// overlaid by its own metadata.
func TestRegisterPackageMetadata(t *testing.T) {
	r := registry.New()
	cs := []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "plain"},
		{Domain: "adapter", Key: "cache", Provider: "own", Metadata: map[string]any{"version": "1.2", "tags": []string{"fast"}}},
		{Domain: "adapter", Key: "cache", Provider: "override", Metadata: map[string]any{"path": "/elsewhere", "package": "renamed"}},
	}
	es, err := r.RegisterPackage("core", "/project/adapters/cache.py", cs, nil)
	require.NoError(t, err)
	require.Len(t, es, 3)
	tests := []struct {
		name string
		want map[string]any
	}{
		{"plain", map[string]any{"package": "core", "path": "/project/adapters/cache.py"}},
		{"own keys added", map[string]any{"package": "core", "path": "/project/adapters/cache.py", "version": "1.2", "tags": []string{"fast"}}},
		{"own keys win", map[string]any{"package": "renamed", "path": "/elsewhere"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, es[i].Metadata())
		})
	}
}

// TestRegisterPackageDoesNotMutate: the caller's candidates, slice and
// metadata are never modified, and later changes to them reach nothing.
func TestRegisterPackageDoesNotMutate(t *testing.T) {
	build := func() []registry.Candidate {
		return []registry.Candidate{
			{Domain: "adapter", Key: "cache", Provider: "redis", Metadata: map[string]any{"path": "own", "nested": map[string]any{"a": 1}}},
			{Domain: "service", Key: "auth", Provider: "oidc", Capabilities: []string{"sso"}},
			{Domain: "adapter", Key: "queue", Provider: "nats", Priority: new(4)},
		}
	}
	cs, want := build(), build()
	r := registry.New()
	es, err := r.RegisterPackage("core", "/project/adapters/x.py", cs, nil)
	require.NoError(t, err)
	assert.Equal(t, want, cs, "RegisterPackage changed its input")
	assert.Nil(t, cs[0].Priority, "the inferred priority is not written back")
	assert.Nil(t, cs[1].Metadata, "no metadata map is given to a candidate that had none")
	assert.Len(t, cs[0].Metadata, 2, "package and path are not added to the caller's map")

	cs[0].Metadata["nested"].(map[string]any)["a"] = 2
	cs[0].Metadata["path"] = "changed"
	cs[1].Capabilities[0] = "changed"
	*cs[2].Priority = 99
	assert.Equal(t, map[string]any{"package": "core", "path": "own", "nested": map[string]any{"a": 1}}, es[0].Metadata())
	assert.Equal(t, []string{"sso"}, es[1].Capabilities())
	assert.Equal(t, 4, es[2].Priority())
}

// TestRegisterPackageSequences: the candidates get consecutive sequence
// numbers in the order given, across domains, following what came before.
func TestRegisterPackageSequences(t *testing.T) {
	r := registry.New()
	semRegister(t, r, semCache("before", 0)) // 1
	cs := []registry.Candidate{
		{Domain: "service", Key: "auth", Provider: "oidc"},
		{Domain: "adapter", Key: "cache", Provider: "redis"},
		{Domain: "adapter", Key: "queue", Provider: "nats"},
		{Domain: "adapter", Key: "cache", Provider: "memcached"},
	}
	es, err := r.RegisterPackage("core", "/p/x.py", cs, nil)
	require.NoError(t, err)
	assert.Equal(t, []uint64{2, 3, 4, 5}, semSeqs(es))
	assert.Equal(t, []string{"oidc", "redis", "nats", "memcached"}, semProviders(es), "entries are returned in the order given")
	assert.Equal(t, uint64(6), semRegister(t, r, semCache("after", 0)).Sequence())

	// Equal priorities: the later in the package wins.
	x := r.Explain("adapter", "cache")
	assert.Equal(t, []uint64{6, 5, 3, 1}, semSeqs(semRanked(x)))
	assert.Equal(t, []string{"adapter", "service"}, r.Domains())

	t.Run("one domain, several keys", func(t *testing.T) {
		r := registry.New()
		es, err := r.RegisterPackage("core", "/p/x.py", []registry.Candidate{
			{Domain: "adapter", Key: "cache", Provider: "redis"},
			{Domain: "adapter", Key: "queue", Provider: "nats"},
			{Domain: "adapter", Key: "cache", Provider: "memcached"},
			{Domain: "adapter", Key: "storage", Provider: "s3"},
		}, nil)
		require.NoError(t, err)
		assert.Equal(t, []uint64{1, 2, 3, 4}, semSeqs(es))
		assert.Equal(t, []uint64{3, 2, 4}, semSeqs(r.ListActive("adapter")))
		assert.Equal(t, []uint64{1}, semSeqs(r.ListShadowed("adapter")))
		for _, e := range es {
			assert.Contains(t, semRanked(r.Explain("adapter", e.Key())), e)
		}
	})
	t.Run("an empty package registers nothing", func(t *testing.T) {
		es, err := r.RegisterPackage("core", "/p/x.py", nil, nil)
		require.NoError(t, err)
		assert.Empty(t, es)
		assert.Equal(t, uint64(7), semRegister(t, r, semCache("next", 0)).Sequence(), "no sequence number was used")
	})
}

// TestRegisterPackageAllOrNothing: one invalid candidate rejects the whole
// package: an error matching ErrInvalidCandidate, nothing registered, no
// sequence number consumed.
func TestRegisterPackageAllOrNothing(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	tests := []struct {
		name string
		bad  registry.Candidate
	}{
		{"empty domain", registry.Candidate{Key: "cache"}},
		{"empty key", registry.Candidate{Domain: "adapter"}},
		{"control character in key", registry.Candidate{Domain: "adapter", Key: "ca\nche"}},
		{"invalid UTF-8 provider", registry.Candidate{Domain: "adapter", Key: "cache", Provider: "\xff"}},
		{"provider too long", registry.Candidate{Domain: "adapter", Key: "cache", Provider: strings.Repeat("p", 257)}},
		{"metadata cycle", registry.Candidate{Domain: "adapter", Key: "cache", Metadata: cyclic}},
		{"metadata too deep", registry.Candidate{Domain: "adapter", Key: "cache", Metadata: semNested(33)}},
		{"unknown source", registry.Candidate{Domain: "adapter", Key: "cache", Source: registry.Source(9)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			semRegister(t, r, registry.Candidate{Domain: "event", Key: "tick", Provider: "cron"}) // 1
			cs := []registry.Candidate{
				{Domain: "service", Key: "auth", Provider: "oidc"},
				tt.bad,
				{Domain: "adapter", Key: "queue", Provider: "nats"},
			}
			es, err := r.RegisterPackage("core", "/project/adapters/x.py", cs, nil)
			require.ErrorIs(t, err, registry.ErrInvalidCandidate)
			assert.Contains(t, err.Error(), "candidate 1", "the error names the invalid candidate")
			assert.Nil(t, es)

			assert.Equal(t, []string{"event"}, r.Domains())
			assert.Empty(t, r.ListActive("service"))
			assert.Empty(t, r.ListActive("adapter"))
			_, ok := r.Resolve("service", "auth")
			assert.False(t, ok)
			assert.Equal(t, uint64(2), semRegister(t, r, semCache("next", 0)).Sequence(), "no sequence number was consumed")
		})
	}
}
