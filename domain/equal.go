package domain

import (
	"bytes"
	"reflect"
	"sync"
	"unsafe"
)

// sameMetadata reports whether two stored metadata maps are equal, as
// [Entry.SameAs] compares them: deeply through maps, slices, arrays,
// interfaces, struct fields and pointers (a time.Time's zone, made anew by
// each parse, is one); channels and unsafe pointers by identity; funcs
// never, unless both nil; floats by ==, so a NaN is never equal (but in a
// slice of numbers, compared by its memory, a NaN equals itself and -0
// differs from 0); arrays and structs of numbers, channels and the like all
// through (memOnly) by == at once. Unlike
// reflect.DeepEqual it spends at most a budget of steps, counted as the copy
// counts values (sameBudget; a string counts a step a 64 bytes), follows at
// most maxSameDepth levels (a struct may hold a cycle), and answers false
// once either is spent: metadata that costs more
// to compare is "not the same", which costs Apply a re-registration, never a
// wrong "same". DeepEqual's work has no such bound: two values that share
// their containers differently make it compare every pair, and an array of
// no size takes it one step an element however long.
func sameMetadata(a, b map[string]any) bool {
	c := comparer{budget: sameBudget}
	return c.equal(reflect.ValueOf(a), reflect.ValueOf(b))
}

// sameBudget is the most steps sameMetadata takes: twice what the copy of
// one side may have counted.
const sameBudget = 2 * MaxMetadataValues

// comparer compares two values within its budget of steps and a depth of
// at most maxSameDepth: a struct, kept as given, may hold a slice that holds
// itself, and two such cycles of one shape would otherwise be followed
// until the stack ran out.
type comparer struct {
	budget, depth int
	identity      bool                       // pointers by identity, as ==, not by what they point to
	equalMaps     map[[2]unsafe.Pointer]bool // pairs of maps found equal
}

// maxSameDepth bounds the nesting a comparison follows; the copy accepts at
// most MaxMetadataDepth levels of maps and slices, but a struct's fields are
// not counted there.
const maxSameDepth = 4 * MaxMetadataDepth

// spend takes n steps from the budget and reports whether it lasted.
func (c *comparer) spend(n int) bool {
	c.budget -= n
	return c.budget >= 0
}

func (c *comparer) equal(a, b reflect.Value) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() || !c.spend(1) || c.depth >= maxSameDepth {
		return false
	}
	c.depth++
	defer func() { c.depth-- }()
	if t := a.Type(); t.Size() == 0 && t.Comparable() {
		// Values of no size are all equal; == on one may still take a step
		// an element (an array of structs with a blank field), and there
		// may be 2^62 of them.
		return true
	} else if (t.Kind() == reflect.Array || t.Kind() == reflect.Struct) &&
		memOnly(t) && t.Comparable() && a.CanInterface() && b.CanInterface() {
		// Numbers and the like all through: == compares the
		// memory at once, at the cost the copy counted for it.
		return c.spend(lines(1, t)) && a.Interface() == b.Interface()
	}
	switch a.Kind() {
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() && b.IsNil()
		}
		return c.equal(a.Elem(), b.Elem())
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		if a.UnsafePointer() == b.UnsafePointer() {
			return true
		}
		pair := [2]unsafe.Pointer{a.UnsafePointer(), b.UnsafePointer()}
		if c.equalMaps[pair] {
			return true // met before: a map shared from many places is compared once
		}
		if !c.spend(lines(a.Len(), a.Type().Key())) {
			return false
		}
		it := a.MapRange()
		for it.Next() {
			k := it.Key()
			if k.Kind() == reflect.String && !c.spend(k.Len()/64) { // looking it up compares it whole
				return false
			}
			bv := b.MapIndex(k)
			if !bv.IsValid() || !c.equal(it.Value(), bv) {
				return false
			}
		}
		if c.equalMaps == nil {
			c.equalMaps = map[[2]unsafe.Pointer]bool{}
		}
		c.equalMaps[pair] = true
		return true
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		if a.Len() == 0 || a.UnsafePointer() == b.UnsafePointer() {
			return true
		}
		if elem := a.Type().Elem(); memOnly(elem) {
			// Numbers and the like: their memory, at the cost the copy
			// counted for it. Equal memory is equal values; the converse
			// fails only for padding, a NaN or -0, which then are "not the
			// same", the safe answer.
			n := a.Len() * int(elem.Size())
			return c.spend(lines(a.Len(), elem)) &&
				bytes.Equal(unsafe.Slice((*byte)(a.UnsafePointer()), n), unsafe.Slice((*byte)(b.UnsafePointer()), n))
		}
		return c.elements(a, b)
	case reflect.Array:
		return c.elements(a, b)
	case reflect.Struct:
		for i := range a.NumField() {
			if !c.equal(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if a.UnsafePointer() == b.UnsafePointer() {
			return true
		}
		if c.identity || a.IsNil() || b.IsNil() {
			return false
		}
		return c.equal(a.Elem(), b.Elem())
	case reflect.Chan, reflect.UnsafePointer:
		return a.UnsafePointer() == b.UnsafePointer()
	case reflect.Func:
		return a.IsNil() && b.IsNil()
	case reflect.String:
		x, y := a.String(), b.String()
		if len(x) != len(y) {
			return false
		}
		if len(x) == 0 || unsafe.StringData(x) == unsafe.StringData(y) {
			return true
		}
		return c.spend(len(x)/64) && x == y
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		return a.Float() == b.Float()
	case reflect.Complex64, reflect.Complex128:
		return a.Complex() == b.Complex()
	}
	return false
}

// memOnly reports whether == on values of type t compares their memory and
// nothing else, as the comparison would: no string, interface, map, slice,
// pointer (followed) or func (never equal) anywhere in it, struct fields
// included. (== on a struct holding an interface may panic, and on
// one holding a string compares what the string points to, which the
// budget must see.)
func memOnly(t reflect.Type) bool {
	if t.Size() == 0 {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Interface, reflect.Map, reflect.Slice, reflect.Pointer, reflect.Func:
		return false
	case reflect.Array:
		return memOnly(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !memOnly(t.Field(i).Type) {
				return false
			}
		}
	}
	return true
}

// elements compares two slices or arrays of one length, element by element.
func (c *comparer) elements(a, b reflect.Value) bool {
	for i := range a.Len() {
		if !c.equal(a.Index(i), b.Index(i)) {
			return false
		}
	}
	return true
}

// comparableValue reports whether == can compare v without a panic, as
// reflect.Value.Comparable does, but within c's budget and depth: it walks
// only where an interface may hold a value of an incomparable type, and
// answers false once either is spent. Value.Comparable takes a step for
// every element of an array, even of one with no interface in it.
func (c *comparer) comparableValue(v reflect.Value) bool {
	t := v.Type()
	if !t.Comparable() || !c.spend(1) || c.depth >= maxSameDepth {
		return false
	}
	if !holdsInterface(t) {
		return true
	}
	c.depth++
	defer func() { c.depth-- }()
	switch t.Kind() {
	case reflect.Interface:
		return v.IsNil() || c.comparableValue(v.Elem())
	case reflect.Array:
		for i := range v.Len() {
			if !c.comparableValue(v.Index(i)) {
				return false
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if !c.comparableValue(v.Field(i)) {
				return false
			}
		}
	}
	return true
}

// holdsInterface reports whether a value of type t may hold an interface:
// t is one, or an array or struct with one inside. Cached per type, as
// nested is.
func holdsInterface(t reflect.Type) bool {
	if h, ok := interfaceIn.Load(t); ok {
		return h.(bool)
	}
	h := false
	switch t.Kind() {
	case reflect.Interface:
		h = true
	case reflect.Array:
		h = holdsInterface(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsInterface(t.Field(i).Type) {
				h = true
				break
			}
		}
	}
	interfaceIn.Store(t, h)
	return h
}

// interfaceIn caches holdsInterface.
var interfaceIn sync.Map // reflect.Type → bool
