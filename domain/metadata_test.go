package domain_test

import (
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/domain"
)

// entryWith prepares and finishes a candidate holding meta.
func entryWith(t *testing.T, meta map[string]any) (*domain.Entry, error) {
	t.Helper()
	d, err := domain.Prepare(domain.Candidate{Domain: "adapter", Key: "cache", Provider: "redis", Metadata: meta}, 0, "")
	if err != nil {
		return nil, err
	}
	return d.Finish(1, time.Now()), nil
}

// nested returns metadata whose deepest container, innermost, sits at the
// given level: the Metadata map itself is level 1 and maps fill the levels
// in between. levels must be at least 2.
func nested(levels int, innermost any) map[string]any {
	v := innermost
	for i := levels - 1; i >= 2; i-- {
		v = map[string]any{"n": v}
	}
	return map[string]any{"n": v}
}

// TestMetadataDepth pins MaxMetadataDepth: 32 levels of containers are
// accepted and 33 rejected, whatever the innermost container's type, empty
// containers included.
func TestMetadataDepth(t *testing.T) {
	require.Equal(t, 32, domain.MaxMetadataDepth)
	inner := []struct {
		name string
		make func() any
	}{
		{"map[string]any", func() any { return map[string]any{"leaf": 1} }},
		{"empty map[string]any", func() any { return map[string]any{} }},
		{"[]any", func() any { return []any{"leaf"} }},
		{"empty []any", func() any { return []any{} }},
		{"[]string", func() any { return []string{"leaf"} }},
		{"map[string]int", func() any { return map[string]int{"leaf": 1} }},
		{"[]int", func() any { return []int{1} }},
		{"nil map[string]any", func() any { return map[string]any(nil) }},
		{"nil []any", func() any { return []any(nil) }},
		{"nil []string", func() any { return []string(nil) }},
		{"nil map[string]int", func() any { return map[string]int(nil) }},
		{"nil []int", func() any { return []int(nil) }},
	}
	for _, in := range inner {
		t.Run(in.name+" at level 32 accepted", func(t *testing.T) {
			_, err := entryWith(t, nested(domain.MaxMetadataDepth, in.make()))
			assert.NoError(t, err)
		})
		t.Run(in.name+" at level 33 rejected", func(t *testing.T) {
			_, err := entryWith(t, nested(domain.MaxMetadataDepth+1, in.make()))
			assert.ErrorIs(t, err, domain.ErrInvalidCandidate)
		})
	}

	slices := func(levels int) map[string]any { // the root map, then levels-1 []any
		var v any = "leaf"
		for i := 2; i <= levels; i++ {
			v = []any{v}
		}
		return map[string]any{"s": v}
	}
	t.Run("chain of []any, 32 levels accepted", func(t *testing.T) {
		_, err := entryWith(t, slices(32))
		assert.NoError(t, err)
	})
	t.Run("chain of []any, 33 levels rejected", func(t *testing.T) {
		_, err := entryWith(t, slices(33))
		assert.ErrorIs(t, err, domain.ErrInvalidCandidate)
	})
	t.Run("scalars do not count as a level", func(t *testing.T) {
		// The innermost map is level 32; the string inside it is no level.
		_, err := entryWith(t, nested(32, map[string]any{"s": "deep", "n": 3, "b": true}))
		assert.NoError(t, err)
	})
}

// TestMetadataCycles checks that a map or slice that contains itself is
// reported (not followed), while a value merely shared by two branches is
// accepted and copied.
func TestMetadataCycles(t *testing.T) {
	tests := []struct {
		name string
		meta func() map[string]any
	}{
		{"root map holds itself", func() map[string]any {
			m := map[string]any{}
			m["self"] = m
			return m
		}},
		{"two maps hold each other", func() map[string]any {
			a, b := map[string]any{}, map[string]any{}
			a["b"], b["a"] = b, a
			return map[string]any{"a": a}
		}},
		{"slice holds itself", func() map[string]any {
			s := []any{nil}
			s[0] = s
			return map[string]any{"s": s}
		}},
		{"slice holds a map that holds the slice", func() map[string]any {
			s := []any{nil}
			m := map[string]any{"s": s}
			s[0] = m
			return map[string]any{"m": m}
		}},
		{"typed slice of maps holding its parent", func() map[string]any {
			m := map[string]any{}
			m["list"] = []map[string]any{m}
			return map[string]any{"m": m}
		}},
		{"prefix of a slice holds itself", func() map[string]any {
			s := make([]any, 2)
			s[0], s[1] = s[:1], "leaf" // s[:1] is [s[:1]]
			return map[string]any{"s": s}
		}},
		{"typed slice holds itself", func() map[string]any {
			s := make([][]any, 1)
			s[0] = []any{s}
			return map[string]any{"s": s}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := entryWith(t, tt.meta())
			require.ErrorIs(t, err, domain.ErrInvalidCandidate)
			assert.Nil(t, e)
		})
	}

	t.Run("a prefix of a slice inside it, not cyclic", func(t *testing.T) {
		s := make([]any, 2)
		s[0], s[1] = "leaf", s[:1] // s[:1] is ["leaf"]
		e, err := entryWith(t, map[string]any{"s": s})
		require.NoError(t, err)
		assert.Equal(t, []any{"leaf", []any{"leaf"}}, e.Metadata()["s"])
	})

	t.Run("shared, not cyclic", func(t *testing.T) {
		shared := map[string]any{"x": 1}
		list := []any{"a"}
		e, err := entryWith(t, map[string]any{"a": shared, "b": shared, "l1": list, "l2": list})
		require.NoError(t, err)
		shared["x"] = 2
		list[0] = "changed"
		got := e.Metadata()
		assert.Equal(t, map[string]any{"x": 1}, got["a"])
		assert.Equal(t, map[string]any{"x": 1}, got["b"])
		assert.Equal(t, []any{"a"}, got["l1"])
		assert.Equal(t, []any{"a"}, got["l2"])
	})
}

type point struct{ X, Y int }

// TestMetadataDeepCopyKeepsTypes checks that maps and slices are copied with
// their types, JSON-like or not, and that other values (pointers, funcs,
// structs) are kept as given.
func TestMetadataDeepCopyKeepsTypes(t *testing.T) {
	ptr := &point{1, 2}
	fn := func() string { return "f" }
	meta := map[string]any{
		"map":     map[string]any{"a": 1, "inner": []any{"x", map[string]any{"y": "z"}}},
		"list":    []any{"a", 2, map[string]any{"b": true}},
		"strings": []string{"s1", "s2"},
		"ints":    map[string]int{"one": 1},
		"typed":   []map[string]any{{"name": "t"}},
		"nilmap":  map[string]any(nil),
		"nillist": []string(nil),
		"ptr":     ptr,
		"fn":      fn,
		"struct":  point{3, 4},
		"scalar":  3.5,
	}
	e, err := entryWith(t, meta)
	require.NoError(t, err)

	// Change everything the caller still holds.
	meta["map"].(map[string]any)["a"] = 99
	meta["map"].(map[string]any)["inner"].([]any)[1].(map[string]any)["y"] = "changed"
	meta["list"].([]any)[0] = "changed"
	meta["list"].([]any)[2].(map[string]any)["b"] = false
	meta["strings"].([]string)[0] = "changed"
	meta["ints"].(map[string]int)["one"] = 100
	meta["typed"].([]map[string]any)[0]["name"] = "changed"
	meta["added"] = "late"
	delete(meta, "scalar")

	got := e.Metadata()
	tests := []struct {
		name string
		key  string
		want any
	}{
		{"map[string]any", "map", map[string]any{"a": 1, "inner": []any{"x", map[string]any{"y": "z"}}}},
		{"[]any", "list", []any{"a", 2, map[string]any{"b": true}}},
		{"[]string", "strings", []string{"s1", "s2"}},
		{"map[string]int", "ints", map[string]int{"one": 1}},
		{"[]map[string]any", "typed", []map[string]any{{"name": "t"}}},
		{"nil map keeps its type", "nilmap", map[string]any(nil)},
		{"nil slice keeps its type", "nillist", []string(nil)},
		{"struct value", "struct", point{3, 4}},
		{"scalar", "scalar", 3.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, got, tt.key)
			assert.IsType(t, tt.want, got[tt.key])
			assert.Equal(t, tt.want, got[tt.key])
		})
	}
	t.Run("pointer kept by reference", func(t *testing.T) {
		assert.Same(t, ptr, got["ptr"])
	})
	t.Run("func kept by reference", func(t *testing.T) {
		f, ok := got["fn"].(func() string)
		require.True(t, ok)
		assert.Equal(t, reflect.ValueOf(fn).Pointer(), reflect.ValueOf(f).Pointer())
	})
	t.Run("keys added later are not seen", func(t *testing.T) {
		assert.NotContains(t, got, "added")
		assert.Len(t, got, 11)
	})
}

// TestEntryMetadataAccessorsCopy checks that what Metadata and Meta return is
// the caller's: changing it changes nothing in the Entry.
func TestEntryMetadataAccessorsCopy(t *testing.T) {
	e, err := entryWith(t, map[string]any{
		"map":     map[string]any{"a": 1},
		"list":    []any{map[string]any{"b": 2}},
		"strings": []string{"s"},
		"ints":    map[string]int{"one": 1},
		"scalar":  "v",
	})
	require.NoError(t, err)
	want := e.Metadata()

	t.Run("Metadata", func(t *testing.T) {
		m := e.Metadata()
		m["map"].(map[string]any)["a"] = 9
		m["list"].([]any)[0].(map[string]any)["b"] = 9
		m["strings"].([]string)[0] = "x"
		m["ints"].(map[string]int)["one"] = 9
		m["scalar"] = "changed"
		m["new"] = 1
		assert.Equal(t, want, e.Metadata())
	})
	t.Run("Meta", func(t *testing.T) {
		v, ok := e.Meta("map")
		require.True(t, ok)
		v.(map[string]any)["a"] = 9
		l, _ := e.Meta("list")
		l.([]any)[0].(map[string]any)["b"] = 9
		s, _ := e.Meta("strings")
		s.([]string)[0] = "x"
		i, _ := e.Meta("ints")
		i.(map[string]int)["one"] = 9
		assert.Equal(t, want, e.Metadata())

		sc, ok := e.Meta("scalar")
		require.True(t, ok)
		assert.Equal(t, "v", sc)
	})
	t.Run("Meta of a missing key", func(t *testing.T) {
		v, ok := e.Meta("missing")
		assert.False(t, ok)
		assert.Nil(t, v)
	})
	t.Run("no metadata", func(t *testing.T) {
		e, err := entryWith(t, nil)
		require.NoError(t, err)
		assert.Nil(t, e.Metadata())
		_, ok := e.Meta("any")
		assert.False(t, ok)
	})
}

// sharedChain returns metadata of depth+1 containers where each []any holds
// the one below it twice: unfolded, a tree of 2^depth - 1 slices.
func sharedChain(depth int) map[string]any {
	var v any = "leaf"
	for range depth {
		v = []any{v, v}
	}
	return map[string]any{"v": v}
}

// TestMetadataSharedContainersCopiedOnce: a container referred to from
// several places is copied, counted and cloned once, so metadata of a few
// containers costs a few containers' work however often they are shared. The
// copy keeps the sharing; the caller's value stays apart from it.
func TestMetadataSharedContainersCopiedOnce(t *testing.T) {
	const depth = 24 // unfolded: 16,777,215 slices
	meta := sharedChain(depth)
	var e *domain.Entry
	allocs := testing.AllocsPerRun(1, func() {
		var err error
		e, err = entryWith(t, meta)
		require.NoError(t, err)
	})
	// 25 containers and their memo; unfolding would take millions.
	assert.Less(t, allocs, 1000.0, "preparing metadata of %d shared containers", depth+1)
	assert.Len(t, e.Metadata(), 1)
	// Counted as held: each slice once. The innermost holds two strings,
	// 8 + 2×(8+4) = 32; each level above, 8, its first reference counted
	// through, and 8 for the second; and the root's key, 8+1.
	assert.Equal(t, 8+1+32+(depth-1)*16, e.MetadataBytes())

	allocs = testing.AllocsPerRun(1, func() { _ = e.Metadata() })
	assert.Less(t, allocs, 1000.0, "cloning the stored metadata")

	top := e.Metadata()["v"].([]any)
	assert.Equal(t, reflect.ValueOf(top[0]).Pointer(), reflect.ValueOf(top[1]).Pointer(), "the copy keeps the sharing")
	assert.NotEqual(t, reflect.ValueOf(meta["v"].([]any)[0]).Pointer(), reflect.ValueOf(top[0]).Pointer(), "and shares nothing with the caller")

	d, err := domain.Prepare(domain.Candidate{Domain: "adapter", Key: "cache", Provider: "redis", Metadata: sharedChain(3)}, 0, "")
	require.NoError(t, err)
	other, err := entryWith(t, sharedChain(3))
	require.NoError(t, err)
	assert.True(t, d.Entry().SameAs(other), "equal shared structures compare equal")
}

// TestMetadataEmptyContainersStayEmpty: an empty container is copied as an
// empty one, not nil, whatever its type; a nil one stays nil.
func TestMetadataEmptyContainersStayEmpty(t *testing.T) {
	e, err := entryWith(t, map[string]any{
		"strings": []string{}, "list": []any{}, "ints": []int{}, "map": map[string]any{},
		"nil strings": []string(nil), "nil list": []any(nil),
	})
	require.NoError(t, err)
	m := e.Metadata()
	for _, k := range []string{"strings", "list", "ints", "map"} {
		v := reflect.ValueOf(m[k])
		assert.False(t, v.IsNil(), k)
		assert.Zero(t, v.Len(), k)
	}
	assert.Nil(t, m["nil strings"])
	assert.Nil(t, m["nil list"])
}

type dsn string

// TestMetadataBytesCountsEveryString: MetadataBytes counts 8 bytes for
// every map key and value, empty ones included, plus the length of a string
// of any string type, of a byte slice and of a map key, so neither a named
// string type nor a mass of empty values slips past MaxMetadataBytes.
func TestMetadataBytesCountsEveryString(t *testing.T) {
	const long = 1000
	const word = strconv.IntSize / 8 // an int's or a pointer's size: 4 or 8
	big := string(make([]byte, long))
	tests := []struct {
		name string
		v    any
		want int // of the value under key "v"
	}{
		{"string", big, 8 + long},
		{"empty string", "", 8},
		{"nil", nil, 8},
		{"named string", dsn(big), 8 + long},
		{"slice of named strings", []dsn{dsn(big), "ab"}, 8 + 8 + long + 8 + 2},
		// An array counts its inline size, at least 8, and what its
		// elements refer to: here a string's bytes.
		{"array of strings", [2]string{big, "ab"}, 4*word + long + 2},
		{"array of any", [2]any{big, 3}, 4*word + long},
		{"byte slice", []byte(big), 8 + long},
		{"slice of int64", make([]int64, 100), 8 + 800},
		{"byte array", [4]byte{}, 8},
		{"large array", [1000]int64{}, 8000},
		{"empty array", [0]int{}, 8},
		{"nested arrays", [2][2]string{{"a", ""}, {"", "bc"}}, 8*word + 1 + 2},
		// An array of interfaces: their 2 words each, and what each holds
		// beyond 8.
		{"array of any holding an array", [1]any{[1 << 20]byte{}}, 2*word + 1<<20 - 8},
		{"array of any holding a struct", [1]any{point{}}, 2*word + max(8, 2*word) - 8},
		{"array of any holding nil", [2]any{}, 4 * word},
		{"map of named strings", map[dsn]dsn{"k": dsn(big)}, 8 + 8 + 1 + 8 + long},
		{"slice of nils", make([]any, 1000), 8 + 8*1000},
		{"slice of empty strings", make([]string, 1000), 8 + 8*1000},
		{"slice of empty slices", []any{[]any{}, []any{}}, 8 + 8 + 8},
		{"int", 3, 8},
		{"struct", point{1, 2}, max(8, 2*word)},
		{"large struct", struct{ A [1 << 16]byte }{}, 1 << 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := entryWith(t, map[string]any{"v": tt.v})
			require.NoError(t, err)
			assert.Equal(t, 8+len("v")+tt.want, e.MetadataBytes())
		})
	}
	e, err := entryWith(t, map[string]any{"region": "eu"})
	require.NoError(t, err)
	assert.Equal(t, 24, e.MetadataBytes(), "the example of the doc")
	e, err = entryWith(t, map[string]any{})
	require.NoError(t, err)
	assert.Zero(t, e.MetadataBytes())
}

// TestMetadataBytesSaturates: a string counts each place it appears, so a
// slice repeating one long string counts far more than it holds. The count
// saturates at math.MaxInt instead of wrapping: on a 32-bit platform 4 GiB
// of references wrapped to a small count and passed any MaxMetadataBytes.
// GOARCH=386 go test ./domain runs this where it wraps.
func TestMetadataBytesSaturates(t *testing.T) {
	const refs, long = 4096, 1 << 20
	big := string(make([]byte, long))
	many := make([]string, refs)
	for i := range many {
		many[i] = big
	}
	e, err := entryWith(t, map[string]any{"v": many, "w": []any{many[0], many[1]}})
	require.NoError(t, err)
	// Key "v" (8+1), its slice (8) and each string (8 + long); key "w"
	// (8+1), its slice (8) and two strings.
	want := int64(8+1+8) + refs*(8+long) + int64(8+1+8) + 2*(8+long)
	assert.Equal(t, int(min(want, math.MaxInt)), e.MetadataBytes())
	if strconv.IntSize == 32 {
		assert.Equal(t, math.MaxInt, e.MetadataBytes())
	}
}

// TestMetadataValuesBounded: the copy refuses metadata of more than
// MaxMetadataValues values, whatever its shape, so its work is bounded even
// where sharing cannot help: each prefix of one slice is a slice of its own.
func TestMetadataValuesBounded(t *testing.T) {
	require.Equal(t, 1<<20, domain.MaxMetadataValues)
	backing := make([]any, 3000)
	prefixes := make([]any, 3000)
	for i := range prefixes {
		prefixes[i] = backing[:i+1] // 4.5 million elements in all
	}
	_, err := entryWith(t, map[string]any{"p": prefixes})
	require.ErrorIs(t, err, domain.ErrInvalidCandidate)
	assert.Contains(t, err.Error(), "more than 1048576 values")

	_, err = entryWith(t, map[string]any{"p": make([]any, domain.MaxMetadataValues-1)})
	assert.NoError(t, err, "one root entry and the elements: at the bound")
	_, err = entryWith(t, map[string]any{"p": make([]any, domain.MaxMetadataValues)})
	assert.ErrorIs(t, err, domain.ErrInvalidCandidate)
	_, err = entryWith(t, map[string]any{"p": make([]any, 1<<19), "q": make([]any, 1<<19)})
	assert.ErrorIs(t, err, domain.ErrInvalidCandidate, "values count across the metadata")

	// One large array met in many places counts each time, like a slice of
	// plain values, so the count's work stays bounded too.
	var arr any = [100000]string{}
	many := make([]any, 1000)
	for i := range many {
		many[i] = arr
	}
	_, err = entryWith(t, map[string]any{"a": many})
	assert.ErrorIs(t, err, domain.ErrInvalidCandidate, "a large array in many places")
	_, err = entryWith(t, map[string]any{"z": make([]struct{}, math.MaxInt/2)})
	assert.ErrorIs(t, err, domain.ErrInvalidCandidate, "elements of no size count as a byte")
	_, err = entryWith(t, map[string]any{"z": make([]struct{}, math.MaxInt)})
	assert.ErrorIs(t, err, domain.ErrInvalidCandidate, "the count saturates")
	_, err = entryWith(t, map[string]any{"z": [64][1 << 24][0]string{}})
	assert.ErrorIs(t, err, domain.ErrInvalidCandidate, "arrays of no size count the elements they nest")
	_, err = entryWith(t, map[string]any{"z": make([][1 << 24][0]string, 64)})
	assert.ErrorIs(t, err, domain.ErrInvalidCandidate, "a slice of them too")
	_, err = entryWith(t, map[string]any{"k": map[[1 << 14][1 << 14][0]string]int{{}: 1}})
	assert.ErrorIs(t, err, domain.ErrInvalidCandidate, "a map's keys count the work of copying them")
	_, err = entryWith(t, map[string]any{"s": struct{ A [1 << 30]struct{} }{}})
	assert.ErrorIs(t, err, domain.ErrInvalidCandidate, "so does a struct, kept as it is")
	_, err = entryWith(t, map[string]any{"m": map[string][1 << 20]byte{"a": {}, "b": {}}})
	require.NoError(t, err, "a map of large values, within the bound")
	e, err := entryWith(t, map[string]any{"z": [1 << 10][0]string{}, "k": map[[4]int]int{{}: 1}})
	require.NoError(t, err, "a few nested elements of no size, and a map with an array key")
	assert.Equal(t, 8+1+8+8+1+8+4*strconv.IntSize/8+8, e.MetadataBytes())
	_, err = entryWith(t, map[string]any{"cert": make([]byte, 64<<20)})
	assert.ErrorIs(t, err, domain.ErrInvalidCandidate, "a blob of 64 MiB is 2^20 values, and the root entry one more")

	// A slice of plain values counts one value a 64 bytes: a blob of 8 MiB
	// is within the bound, as is a large array, which is kept as it is.
	e, err = entryWith(t, map[string]any{"cert": make([]byte, 8<<20-64), "a": [1 << 16]int64{}})
	require.NoError(t, err)
	assert.Equal(t, 8+4+8+(8<<20-64)+8+1+8*(1<<16), e.MetadataBytes())

	shared := make([]string, 10000)
	many = make([]any, 100)
	for i := range many {
		many[i] = shared
	}
	e, err = entryWith(t, map[string]any{"s": many})
	require.NoError(t, err, "a []string met in many places is copied once")
	// The key, 8+1; the []any, 8; the []string once, 8 + 10,000×8, and 8
	// for each of the 99 other references to it.
	assert.Equal(t, 8+1+8+(8+10000*8)+99*8, e.MetadataBytes())
}

// TestMetadataArraysAreCopied: a map or slice inside an array is copied like
// one inside a slice, so neither the caller's value nor a Metadata result
// can change what the registry holds.
func TestMetadataArraysAreCopied(t *testing.T) {
	inner := []any{"kept"}
	e, err := entryWith(t, map[string]any{"v": [1][]any{inner}})
	require.NoError(t, err)
	inner[0] = "changed by the caller"
	got := e.Metadata()["v"].([1][]any)
	assert.Equal(t, "kept", got[0][0])
	got[0][0] = "changed through Metadata"
	assert.Equal(t, "kept", e.Metadata()["v"].([1][]any)[0][0])
}

type samples []int32

// TestMetadataPlainSlicesAreCopied: a slice of plain values (numbers, here),
// copied at once rather than element by element, is still the registry's
// own: neither the caller's slice nor a Metadata result changes it.
func TestMetadataPlainSlicesAreCopied(t *testing.T) {
	ints, blob, named := []int{1, 2}, []byte("ab"), samples{7}
	e, err := entryWith(t, map[string]any{"ints": ints, "blob": blob, "named": named})
	require.NoError(t, err)
	ints[0], blob[0], named[0] = 9, 'x', 9
	m := e.Metadata()
	assert.Equal(t, []int{1, 2}, m["ints"])
	assert.Equal(t, []byte("ab"), m["blob"])
	assert.Equal(t, samples{7}, m["named"])
	m["ints"].([]int)[0], m["blob"].([]byte)[0], m["named"].(samples)[0] = 8, 'y', 8
	m = e.Metadata()
	assert.Equal(t, []int{1, 2}, m["ints"])
	assert.Equal(t, []byte("ab"), m["blob"])
	assert.Equal(t, samples{7}, m["named"])
}
