package domain

import (
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
