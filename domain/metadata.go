package domain

import (
	"reflect"
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
// the root so that a cycle is reported rather than followed.
type copier struct {
	path []container // the maps and slices being copied, root first
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

func (c *copier) enter(k container, depth int) error {
	if depth > MaxMetadataDepth {
		return invalid("metadata is nested deeper than %d levels", MaxMetadataDepth)
	}
	for _, q := range c.path {
		if q == k {
			return invalid("metadata contains a cycle")
		}
	}
	c.path = append(c.path, k)
	return nil
}

func (c *copier) leave() { c.path = c.path[:len(c.path)-1] }

// copy deep-copies v, found at the given depth (the root map is depth 1).
func (c *copier) copy(v any, depth int) (any, error) {
	switch x := v.(type) {
	case nil, string, bool, int, int64, float64, uint64, int32, float32, uint, uint32:
		return v, nil
	case map[string]any:
		if x == nil {
			return x, nil
		}
		if err := c.enter(container{reflect.ValueOf(x).Pointer(), -1}, depth); err != nil {
			return nil, err
		}
		defer c.leave()
		out := make(map[string]any, len(x))
		for k, e := range x {
			ce, err := c.copy(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = ce
		}
		return out, nil
	case []any:
		if x == nil {
			return x, nil
		}
		if len(x) > 0 {
			if err := c.enter(container{reflect.ValueOf(x).Pointer(), len(x)}, depth); err != nil {
				return nil, err
			}
			defer c.leave()
		} else if depth > MaxMetadataDepth {
			return nil, invalid("metadata is nested deeper than %d levels", MaxMetadataDepth)
		}
		out := make([]any, len(x))
		for i, e := range x {
			ce, err := c.copy(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = ce
		}
		return out, nil
	case []string:
		if x == nil {
			return x, nil
		}
		if depth > MaxMetadataDepth {
			return nil, invalid("metadata is nested deeper than %d levels", MaxMetadataDepth)
		}
		return append([]string(nil), x...)[:len(x):len(x)], nil
	}
	return c.copyReflect(reflect.ValueOf(v), depth)
}

// copyReflect copies maps and slices of types other than the common JSON ones,
// keeping their type. Anything else is returned unchanged.
func (c *copier) copyReflect(rv reflect.Value, depth int) (any, error) {
	switch rv.Kind() {
	case reflect.Map:
		if rv.IsNil() {
			return rv.Interface(), nil
		}
		if err := c.enter(container{rv.Pointer(), -1}, depth); err != nil {
			return nil, err
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
		return out.Interface(), nil
	case reflect.Slice:
		if rv.IsNil() {
			return rv.Interface(), nil
		}
		if depth > MaxMetadataDepth {
			return nil, invalid("metadata is nested deeper than %d levels", MaxMetadataDepth)
		}
		if rv.Len() > 0 {
			if err := c.enter(container{rv.Pointer(), rv.Len()}, depth); err != nil {
				return nil, err
			}
			defer c.leave()
		}
		out := reflect.MakeSlice(rv.Type(), rv.Len(), rv.Len())
		for i := range rv.Len() {
			ce, err := c.element(rv.Index(i), rv.Type().Elem(), depth+1)
			if err != nil {
				return nil, err
			}
			out.Index(i).Set(ce)
		}
		return out.Interface(), nil
	}
	return rv.Interface(), nil
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

// metadataBytes estimates the memory a metadata value holds: the length of
// every string and map key, plus 8 bytes for every other value. It is what
// Limits.MaxMetadataBytes bounds.
func metadataBytes(v any) int {
	switch x := v.(type) {
	case nil:
		return 0
	case string:
		return len(x)
	case map[string]any:
		n := 0
		for k, e := range x {
			n += len(k) + metadataBytes(e)
		}
		return n
	case []any:
		n := 0
		for _, e := range x {
			n += metadataBytes(e)
		}
		return n
	case []string:
		n := 0
		for _, e := range x {
			n += len(e)
		}
		return n
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		n := 0
		it := rv.MapRange()
		for it.Next() {
			if it.Key().CanInterface() && it.Value().CanInterface() {
				n += metadataBytes(it.Key().Interface()) + metadataBytes(it.Value().Interface())
			}
		}
		return n
	case reflect.Slice:
		n := 0
		for i := range rv.Len() {
			if e := rv.Index(i); e.CanInterface() {
				n += metadataBytes(e.Interface())
			}
		}
		return n
	}
	return 8
}
