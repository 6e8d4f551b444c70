package domain

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"reflect"
	"unsafe"
)

// digestSeed seeds every Digest of the process, so that digests of one
// process compare.
var digestSeed = maphash.MakeSeed()

// Digest returns a hash of what [Entry.SameAs] compares, such that
// e.SameAs(o) implies e.Digest() == o.Digest(): entries with different
// digests are never the same, so a caller matching many entries (as
// [Registry.Apply] matches an owner's set) compares only those of one
// digest. Of the metadata and the factory it hashes the values it meets
// within 3 levels of containers of at most 16 elements each, and of a longer
// container, a pointer, a func or a channel, the type (and length) alone.
// Digests are of one process: its seed is random.
//
// [Registry.Apply]: https://pkg.go.dev/github.com/oneiric-go/oneiric/registry#Registry.Apply
func (e *Entry) Digest() uint64 {
	var h maphash.Hash
	h.SetSeed(digestSeed)
	for _, s := range [...]string{e.domain, e.key, e.provider, e.owner} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	var b [32]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(e.priority))
	binary.LittleEndian.PutUint64(b[8:], uint64(e.stackLevel))
	binary.LittleEndian.PutUint64(b[16:], uint64(e.source))
	binary.LittleEndian.PutUint64(b[24:], digestOf(reflect.ValueOf(e.factory), 0))
	h.Write(b[:])
	for _, c := range e.caps {
		h.WriteString(c)
		h.WriteByte(0)
	}
	// The metadata's entries in any order: the sum of a hash of each.
	var meta uint64
	for k, v := range e.meta {
		meta += mix(maphash.String(digestSeed, k), digestOf(reflect.ValueOf(v), 0))
	}
	binary.LittleEndian.PutUint64(b[0:], meta)
	h.Write(b[:8])
	return h.Sum64()
}

// digestDepth and digestWidth bound what Digest reads: containers (maps,
// slices, arrays, structs) down to digestDepth levels, of at most
// digestWidth elements or fields; digestBytes bounds a string or a slice of
// numbers read whole. Beyond them a value counts by its type and length,
// which values the comparison finds equal share. The bounds depend on the
// values' shape alone, which two equal values share, never on an order of
// iteration.
const (
	digestDepth = 3
	digestWidth = 16
	digestBytes = 4096
)

// mix combines two hashes, in order.
func mix(a, b uint64) uint64 {
	return (a^b)*0x9e3779b97f4a7c15 + b>>29
}

// digestOf hashes v as the metadata comparison (comparer) compares it at
// depth: equal values, by its rules, hash alike. Numbers by value, 0 and -0
// alike (== finds them equal); a slice of numbers and the like by its
// memory, as the comparison compares it; a map's entries in any order;
// pointers, funcs and channels by type alone, as the comparison follows or
// compares them in ways a hash of the value cannot match.
func digestOf(v reflect.Value, depth int) uint64 {
	if !v.IsValid() {
		return 0
	}
	t := v.Type()
	h := maphash.Comparable(digestSeed, t)
	switch t.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return mix(h, 1)
		}
		return mix(h, 2)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return mix(h, uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return mix(h, v.Uint())
	case reflect.Float32, reflect.Float64:
		return mix(h, floatBits(v.Float()))
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		return mix(mix(h, floatBits(real(c))), floatBits(imag(c)))
	case reflect.String:
		if v.Len() > digestBytes {
			return mix(h, uint64(v.Len()))
		}
		return mix(h, maphash.String(digestSeed, v.String()))
	case reflect.Interface:
		if v.IsNil() {
			return h
		}
		return mix(h, digestOf(v.Elem(), depth))
	case reflect.Map:
		h = mix(h, uint64(v.Len()))
		if depth >= digestDepth || v.Len() > digestWidth {
			return h
		}
		var sum uint64
		for it := v.MapRange(); it.Next(); {
			sum += mix(digestOf(it.Key(), depth+1), digestOf(it.Value(), depth+1))
		}
		return mix(h, sum)
	case reflect.Slice:
		n := v.Len()
		h = mix(h, uint64(n))
		if elem := t.Elem(); memOnly(elem) {
			// Compared by its memory: hash its memory.
			size := uintptr(n) * elem.Size()
			if n == 0 || size > digestBytes {
				return h
			}
			return mix(h, maphash.Bytes(digestSeed, unsafeBytes(v, size)))
		}
		if depth >= digestDepth || n > digestWidth {
			return h
		}
		for i := range n {
			h = mix(h, digestOf(v.Index(i), depth+1))
		}
		return h
	case reflect.Array:
		// Compared by == or element by element: alike for each element.
		if depth >= digestDepth || v.Len() > digestWidth {
			return h
		}
		for i := range v.Len() {
			h = mix(h, digestOf(v.Index(i), depth+1))
		}
		return h
	case reflect.Struct:
		if depth >= digestDepth || v.NumField() > digestWidth {
			return h
		}
		for i := range v.NumField() {
			h = mix(h, digestOf(v.Field(i), depth+1))
		}
		return h
	}
	return h // pointers, funcs, channels, unsafe pointers
}

// floatBits is f's bits, with -0 as 0 (== finds them equal; a NaN equals
// nothing, so its bits do not matter).
func floatBits(f float64) uint64 {
	if f == 0 {
		return 0
	}
	return math.Float64bits(f)
}

// unsafeBytes is the memory of the first n bytes of slice v's elements.
func unsafeBytes(v reflect.Value, n uintptr) []byte {
	return unsafe.Slice((*byte)(v.UnsafePointer()), n)
}
