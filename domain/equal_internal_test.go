package domain

import (
	"math"
	"reflect"
	"testing"
)

// chain is a value nesting itself in an interface, level after level.
type chain struct{ next any }

// TestComparableValueStopsAtTheDepthLimit: asking whether a factory's value
// is comparable follows interfaces at most maxSameDepth levels, as the
// comparison does; it followed them until the budget ran out, 2 million
// levels deep, with a stack of 256 MiB.
func TestComparableValueStopsAtTheDepthLimit(t *testing.T) {
	var v any
	for range 10 * maxSameDepth {
		v = chain{v}
	}
	c := comparer{budget: sameBudget}
	if c.comparableValue(reflect.ValueOf(v)) {
		t.Error("a value deeper than the limit counts as comparable")
	}
	if steps := sameBudget - c.budget; steps > 2*maxSameDepth+2 {
		t.Errorf("took %d steps for a limit of %d levels", steps, maxSameDepth)
	}
	if c.depth != 0 {
		t.Errorf("depth %d after the walk", c.depth)
	}
}

// TestKeyBytes: what a map key costs to look up beyond its inline size.
// Ordinary keys (short strings, small structs) cost nothing more, so that
// large ordinary metadata stays within the comparison's budget; long strings
// and large values held in interfaces cost their bytes.
func TestKeyBytes(t *testing.T) {
	type four struct{ A, B, C, D any }
	var deep any = "x"
	for range 2 * maxSameDepth {
		deep = [1]any{deep}
	}
	for _, tc := range []struct {
		name string
		key  any
		want int
	}{
		{"a short string", "cache", 5},
		{"eight short strings", [8]string{"a", "b"}, 2},
		{"a struct of four interfaces", four{"a", 1, nil, [0]string{}}, int(reflect.TypeFor[string]().Size()) + 1 + int(reflect.TypeFor[int]().Size())},
		{"a number", 7, 0},
		{"a 1 MiB string", string(make([]byte, 1<<20)), 1 << 20},
		{"a 1 MiB array in an interface", [1]any{[1 << 17]uint64{}}, 1 << 20},
		{"zero-size arrays", [math.MaxInt / 2][0]string{}, 0},
		{"interfaces nested past the limit", deep, math.MaxInt},
	} {
		got := keyBytes(reflect.ValueOf(tc.key), 0)
		if got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
