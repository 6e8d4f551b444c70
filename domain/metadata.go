package domain

import (
	"math"
	"reflect"
	"sync"
)

// copyMetadata returns a deep copy of m, or an error matching
// ErrInvalidCandidate when m is nested deeper than MaxMetadataDepth or holds a
// map or slice that contains itself. Maps and slices of any type are copied
// and keep their type; every other value (scalars, pointers, funcs, structs,
// channels) is kept as it is.
func copyMetadata(m map[string]any) (map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	var c copier
	v, err := c.copy(m, 1)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// copier copies JSON-like values, remembering the containers on the path from
// the root so that a cycle is reported rather than followed, and the
// containers it has copied so that one met again at the same depth is not
// copied again. Without that memo, metadata that refers to one container
// from several places (v = []any{v, v}, repeated) would cost a copy
// exponential in its depth, though it holds only a few containers; with it,
// the copy refers to one copy from the same places, as the original does.
type copier struct {
	path   []container    // the maps and slices being copied, root first
	done   map[copied]any // the copies made so far; nil until the first
	values int            // map entries and elements copied so far
}

// count adds n values to what the copy has made, or fails beyond
// MaxMetadataValues.
func (c *copier) count(n int) error {
	if c.values += n; c.values > MaxMetadataValues {
		return invalid("metadata holds more than %d values", MaxMetadataValues)
	}
	return nil
}

// copied identifies a container copied at a depth: its type, since one
// address may be seen as slices of different types, and the depth, since
// the depth limit judges what is below a container by where it is met.
type copied struct {
	t     reflect.Type
	c     container
	depth int
}

// lookup returns the copy of the container k of type t made at depth, if any.
func (c *copier) lookup(t reflect.Type, k container, depth int) (any, bool) {
	v, ok := c.done[copied{t, k, depth}]
	return v, ok
}

// remember records v as the copy of the container k of type t at depth.
func (c *copier) remember(t reflect.Type, k container, depth int, v any) {
	if c.done == nil {
		c.done = make(map[copied]any)
	}
	c.done[copied{t, k, depth}] = v
}

// container identifies a map (its pointer, n = -1) or a non-empty slice (its
// first element's address and its length). A slice's contents are its
// elements, so two slices with one address and one length hold the same
// values, and a copy that meets one inside the other would never end; a
// shorter slice from the same address (s[:1] inside s) holds fewer values
// and is no cycle by itself.
type container struct {
	p uintptr
	n int
}

// deep returns an error when a container at depth is nested too deeply. It
// applies to every container, nil and empty ones included.
func deep(depth int) error {
	if depth > MaxMetadataDepth {
		return invalid("metadata is nested deeper than %d levels", MaxMetadataDepth)
	}
	return nil
}

// open starts the copy of the container k of type t at depth, which costs
// work values: it returns the copy made before at that depth, if any (done);
// else it puts k on the path, where the caller must leave it, and counts
// the work. On an error nothing is left on the path.
func (c *copier) open(t reflect.Type, k container, depth, work int) (cv any, done bool, err error) {
	if cv, ok := c.lookup(t, k, depth); ok {
		return cv, true, nil
	}
	if err := c.enter(k); err != nil {
		return nil, false, err
	}
	if err := c.count(work); err != nil {
		c.leave()
		return nil, false, err
	}
	return nil, false, nil
}

// enter puts the container k on the path, or fails on a cycle.
func (c *copier) enter(k container) error {
	for _, q := range c.path {
		if q == k {
			return invalid("metadata contains a cycle")
		}
	}
	c.path = append(c.path, k)
	return nil
}

func (c *copier) leave() { c.path = c.path[:len(c.path)-1] }

// Types of the containers copy handles without reflection.
var (
	mapType    = reflect.TypeFor[map[string]any]()
	sliceType  = reflect.TypeFor[[]any]()
	stringsTyp = reflect.TypeFor[[]string]()
)

// copy deep-copies v, found at the given depth (the root map is depth 1).
func (c *copier) copy(v any, depth int) (any, error) {
	switch x := v.(type) {
	case nil, string, bool, int, int64, float64, uint64, int32, float32, uint, uint32:
		return v, nil
	case map[string]any:
		if err := deep(depth); err != nil || x == nil {
			return x, err
		}
		k := container{reflect.ValueOf(x).Pointer(), -1}
		if cv, done, err := c.open(mapType, k, depth, len(x)); done || err != nil {
			return cv, err
		}
		defer c.leave()
		out := make(map[string]any, len(x))
		for key, e := range x {
			ce, err := c.copy(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[key] = ce
		}
		c.remember(mapType, k, depth, out)
		return out, nil
	case []any:
		if err := deep(depth); err != nil || x == nil {
			return x, err
		}
		if len(x) == 0 {
			return []any{}, nil
		}
		k := container{reflect.ValueOf(x).Pointer(), len(x)}
		if cv, done, err := c.open(sliceType, k, depth, len(x)); done || err != nil {
			return cv, err
		}
		defer c.leave()
		out := make([]any, len(x))
		for i, e := range x {
			ce, err := c.copy(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = ce
		}
		c.remember(sliceType, k, depth, out)
		return out, nil
	case []string:
		if err := deep(depth); err != nil || x == nil {
			return x, err
		}
		if len(x) == 0 {
			return []string{}, nil
		}
		// Strings hold no containers, so one copy serves every depth.
		k := container{reflect.ValueOf(x).Pointer(), len(x)}
		if cv, ok := c.lookup(stringsTyp, k, 0); ok {
			return cv, nil
		}
		if err := c.count(len(x)); err != nil {
			return nil, err
		}
		out := make([]string, len(x))
		copy(out, x)
		c.remember(stringsTyp, k, 0, out)
		return out, nil
	}
	return c.copyReflect(reflect.ValueOf(v), depth)
}

// copyReflect copies maps and slices of types other than the common JSON ones,
// keeping their type. Anything else is returned unchanged.
func (c *copier) copyReflect(rv reflect.Value, depth int) (any, error) {
	switch rv.Kind() {
	case reflect.Map:
		if err := deep(depth); err != nil || rv.IsNil() {
			return rv.Interface(), err
		}
		// An entry, and its key's and (if copied as it is) its value's
		// bytes: a key is copied whole, and may be a large array.
		work := rv.Len() + lines(rv.Len(), rv.Type().Key())
		if elem := rv.Type().Elem(); plain(elem) {
			work += lines(rv.Len(), elem)
		}
		k := container{rv.Pointer(), -1}
		if cv, done, err := c.open(rv.Type(), k, depth, work); done || err != nil {
			return cv, err
		}
		defer c.leave()
		out := reflect.MakeMapWithSize(rv.Type(), rv.Len())
		it := rv.MapRange()
		for it.Next() {
			ce, err := c.element(it.Value(), rv.Type().Elem(), depth+1)
			if err != nil {
				return nil, err
			}
			out.SetMapIndex(it.Key(), ce)
		}
		c.remember(rv.Type(), k, depth, out.Interface())
		return out.Interface(), nil
	case reflect.Slice:
		if err := deep(depth); err != nil || rv.IsNil() {
			return rv.Interface(), err
		}
		if rv.Len() == 0 {
			return reflect.MakeSlice(rv.Type(), 0, 0).Interface(), nil
		}
		// Plain elements need no deep copy: one copy of them all, counted by
		// the line (a byte slice of 1 MiB is 16,384 values, not 2^20).
		elem := rv.Type().Elem()
		work := rv.Len()
		if plain(elem) {
			work = lines(rv.Len(), elem)
		}
		k := container{rv.Pointer(), rv.Len()}
		if cv, done, err := c.open(rv.Type(), k, depth, work); done || err != nil {
			return cv, err
		}
		defer c.leave()
		out := reflect.MakeSlice(rv.Type(), rv.Len(), rv.Len())
		if plain(elem) {
			reflect.Copy(out, rv)
		} else {
			for i := range rv.Len() {
				ce, err := c.element(rv.Index(i), elem, depth+1)
				if err != nil {
					return nil, err
				}
				out.Index(i).Set(ce)
			}
		}
		c.remember(rv.Type(), k, depth, out.Interface())
		return out.Interface(), nil
	case reflect.Array:
		// An array is a value: one of plain values is kept as it is (the
		// interface holding it holds its own copy). One whose elements may
		// be maps or slices the caller still holds is copied like a slice,
		// and is a level like one; it cannot hold itself, so it needs no
		// path.
		if plain(rv.Type().Elem()) {
			// Counted by the line like a slice of plain values, so that one
			// large array met in many places bounds the count's work too.
			if err := c.count(lines(rv.Len(), rv.Type().Elem())); err != nil {
				return nil, err
			}
			return rv.Interface(), nil
		}
		if err := deep(depth); err != nil {
			return nil, err
		}
		if err := c.count(rv.Len()); err != nil {
			return nil, err
		}
		out := reflect.New(rv.Type()).Elem()
		for i := range rv.Len() {
			ce, err := c.element(rv.Index(i), rv.Type().Elem(), depth+1)
			if err != nil {
				return nil, err
			}
			out.Index(i).Set(ce)
		}
		return out.Interface(), nil
	case reflect.Struct:
		// Kept as given, but counted like an element of plain values, so
		// that a large struct, or one nesting a large array of no size,
		// counts the work of copying and comparing it.
		if err := c.count(lines(1, rv.Type())); err != nil {
			return nil, err
		}
	}
	return rv.Interface(), nil
}

// lines is the values n elements of type elem count as when they are
// copied at once: one a 64 bytes, and at least one. An element counts at
// least one byte, and an array at least the array elements nested in it, so
// that arrays of no size (of [0]string, say), which take no bytes but which
// a comparison still walks, count their work too. The result saturates just
// above MaxMetadataValues.
func lines(n int, elem reflect.Type) int {
	unit := max(int(min(elem.Size(), uintptr(math.MaxInt))), 1+nested(elem))
	if n > 64*MaxMetadataValues/unit {
		return MaxMetadataValues + 1
	}
	return max(1, (n*unit+63)/64)
}

// nested is how many array elements a value of type t holds, at every
// level and in every field of a struct, saturating just above what lines
// can accept.
func nested(t reflect.Type) int {
	if n, ok := nestedOf.Load(t); ok {
		return n.(int)
	}
	n := nestedWalk(t)
	nestedOf.Store(t, n)
	return n
}

// nestedOf caches nested by type. A struct type whose fields are two of the
// type below, repeated k times (reflect.StructOf makes one in k calls), has
// 2^k paths to walk but only k types: the cache makes it k steps.
var nestedOf sync.Map // reflect.Type → int

// nestedWalk is nested without the cache for t itself.
func nestedWalk(t reflect.Type) int {
	const most = 64*MaxMetadataValues + 1
	switch t.Kind() {
	case reflect.Array:
		n, inner := t.Len(), 1+nested(t.Elem())
		if n > most/inner {
			return most
		}
		return n * inner
	case reflect.Struct:
		n := 0
		for i := range t.NumField() {
			n = min(n+nested(t.Field(i).Type), most)
		}
		return n
	}
	return 0
}

// plain reports whether values of type t are copied as they are, without a
// deep copy: they hold no map, slice or interface of their own (strings are
// immutable). A struct, pointer, func or channel is plain too, being kept as
// given: a slice inside a struct stays the caller's, as the docs say.
func plain(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Map, reflect.Slice, reflect.Interface:
		return false
	case reflect.Array:
		return plain(t.Elem())
	}
	return true
}

// element copies one element of a map or slice whose element type is elem.
func (c *copier) element(v reflect.Value, elem reflect.Type, depth int) (reflect.Value, error) {
	if v.Kind() == reflect.Interface {
		if v.IsNil() {
			return reflect.Zero(elem), nil
		}
		v = v.Elem()
	}
	if !v.CanInterface() {
		return v, nil
	}
	ce, err := c.copy(v.Interface(), depth)
	if err != nil {
		return reflect.Value{}, err
	}
	if ce == nil {
		return reflect.Zero(elem), nil
	}
	return reflect.ValueOf(ce), nil
}

// cloneValue deep-copies a value already accepted by copyMetadata. It cannot
// fail: the value was checked when it was stored.
func cloneValue(v any) any {
	var c copier
	out, err := c.copy(v, 1)
	if err != nil {
		// Unreachable for stored values; returning the stored value would
		// expose it, so return nothing instead.
		return nil
	}
	return out
}

// metadataBytes estimates the memory a metadata value holds, as
// Entry.MetadataBytes documents: 8 bytes for every map key and every value,
// plus the bytes of strings, map keys and slices of numbers; an array, a
// struct, a pointer, a func or a channel its inline size, at least 8, and an
// array also what its elements refer to. A container the value refers to from
// several places is counted once, as it is held once. It is what
// Limits.MaxMetadataBytes bounds; metadata with no entries counts 0.
func metadataBytes(m map[string]any) int {
	var z sizer
	n := 0
	for k, v := range m {
		n = plus(n, 8+len(k), z.size(v))
	}
	return n
}

// plus adds counts of metadataBytes, which are never negative, saturating
// at math.MaxInt: a string counts each place it appears, so a few long
// strings repeated in a slice would wrap a 32-bit int and pass any limit.
func plus(n int, more ...int) int {
	for _, m := range more {
		if m > math.MaxInt-n {
			return math.MaxInt
		}
		n += m
	}
	return n
}

// times multiplies counts of metadataBytes, saturating like plus.
func times(n, m int) int {
	if m != 0 && n > math.MaxInt/m {
		return math.MaxInt
	}
	return n * m
}

// sizer adds up metadataBytes, remembering the containers it has counted.
type sizer struct {
	seen map[copied]bool // depth unused: a container is held once wherever it is
}

// first reports whether the container k of type t is met for the first time.
func (z *sizer) first(t reflect.Type, k container) bool {
	if z.seen[copied{t: t, c: k}] {
		return false
	}
	if z.seen == nil {
		z.seen = make(map[copied]bool)
	}
	z.seen[copied{t: t, c: k}] = true
	return true
}

// size returns the bytes v counts, itself included.
func (z *sizer) size(v any) int {
	switch x := v.(type) {
	case nil:
		return 8
	case string:
		return plus(8, len(x))
	case map[string]any:
		n := 8
		if len(x) == 0 || !z.first(mapType, container{reflect.ValueOf(x).Pointer(), -1}) {
			return n
		}
		for k, e := range x {
			n = plus(n, 8+len(k), z.size(e))
		}
		return n
	case []any:
		n := 8
		if len(x) == 0 || !z.first(sliceType, container{reflect.ValueOf(x).Pointer(), len(x)}) {
			return n
		}
		for _, e := range x {
			n = plus(n, z.size(e))
		}
		return n
	case []string:
		n := 8
		if len(x) == 0 || !z.first(stringsTyp, container{reflect.ValueOf(x).Pointer(), len(x)}) {
			return n
		}
		for _, e := range x {
			n = plus(n, 8, len(e))
		}
		return n
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return plus(8, rv.Len())
	case reflect.Map:
		n := 8
		if rv.Len() == 0 || !z.first(rv.Type(), container{rv.Pointer(), -1}) {
			return n
		}
		it := rv.MapRange()
		for it.Next() {
			n = plus(n, z.value(it.Key()), z.value(it.Value()))
		}
		return n
	case reflect.Slice:
		n := 8
		if rv.Len() == 0 || !z.first(rv.Type(), container{rv.Pointer(), rv.Len()}) {
			return n
		}
		if elem := rv.Type().Elem(); flat(elem) {
			return plus(n, times(rv.Len(), int(elem.Size())))
		}
		return plus(n, z.elements(rv))
	case reflect.Array:
		// Its values inline, at least 8, and what its elements refer to
		// beyond their own 8 (a string's bytes, a slice's elements).
		n := max(8, int(rv.Type().Size()))
		if flat(rv.Type().Elem()) {
			return n
		}
		for i := range rv.Len() {
			// What the element refers to beyond its inline part, which n
			// already counts.
			n = plus(n, max(z.value(rv.Index(i))-inline(rv.Type().Elem()), 0))
		}
		return n
	}
	return max(8, int(rv.Type().Size()))
}

// flat reports whether values of type t refer to nothing the count follows:
// all of one is inline (numbers, bools, arrays of them; structs, pointers,
// funcs and channels count their inline size).
func flat(t reflect.Type) bool {
	if t.Size() == 0 {
		return true // holds no string, map, slice or interface
	}
	switch t.Kind() {
	case reflect.String, reflect.Map, reflect.Slice, reflect.Interface:
		return false
	case reflect.Array:
		return flat(t.Elem())
	}
	return true
}

// value is size of a map key or element, or 8 when it cannot be read.
func (z *sizer) value(v reflect.Value) int {
	if !v.CanInterface() {
		return 8
	}
	return z.size(v.Interface())
}

// inline is the part of size's count of a value of static type t that the
// inline size of an array of t already counts: 8 for a string, map, slice
// or interface (whatever it holds, whose count is all beyond the array's
// own bytes but for those 8), else its inline size, at least 8.
func inline(t reflect.Type) int {
	switch t.Kind() {
	case reflect.String, reflect.Map, reflect.Slice, reflect.Interface:
		return 8
	}
	return max(8, int(t.Size()))
}

// elements adds up the elements of a slice or array.
func (z *sizer) elements(rv reflect.Value) int {
	n := 0
	for i := range rv.Len() {
		n = plus(n, z.value(rv.Index(i)))
	}
	return n
}
