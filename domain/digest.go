package domain

import (
	"encoding/binary"
	"hash/maphash"
	"reflect"
)

// digestSeed seeds every Digest of the process, so that digests of one
// process compare.
var digestSeed = maphash.MakeSeed()

// Digest returns a hash of what [Entry.SameAs] compares, such that
// e.SameAs(o) implies e.Digest() == o.Digest(): entries with different
// digests are never the same, so a caller matching many entries (as
// [Registry.Apply] matches an owner's set) compares only those of one
// digest. Of the metadata it hashes the top-level keys, the values that are
// numbers, strings or bools, and the type of the others; of the factory, its
// type. Digests are of one process: its seed is random.
//
// [Registry.Apply]: https://pkg.go.dev/github.com/oneiric-go/oneiric/registry#Registry.Apply
func (e *Entry) Digest() uint64 {
	var h maphash.Hash
	h.SetSeed(digestSeed)
	for _, s := range [...]string{e.domain, e.key, e.provider, e.owner} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	var b [24]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(e.priority))
	binary.LittleEndian.PutUint64(b[8:], uint64(e.stackLevel))
	binary.LittleEndian.PutUint64(b[16:], uint64(e.source))
	h.Write(b[:])
	for _, c := range e.caps {
		h.WriteString(c)
		h.WriteByte(0)
	}
	maphash.WriteComparable(&h, reflect.TypeOf(e.factory))
	// The metadata's entries in any order: the sum of a hash of each.
	var meta uint64
	for k, v := range e.meta {
		meta += maphash.String(digestSeed, k) ^ scalarHash(v)
	}
	binary.LittleEndian.PutUint64(b[0:], meta)
	h.Write(b[:8])
	return h.Sum64()
}

// scalarHash hashes v as the metadata comparison compares it at the top
// level: a number, string or bool by its type and value, with == (so 0 and
// -0 hash alike), anything else by its type alone.
func scalarHash(v any) uint64 {
	// An interface's hash is its value's alone: mix in the type.
	typ := maphash.Comparable(digestSeed, reflect.TypeOf(v))
	switch reflect.ValueOf(v).Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return maphash.Comparable(digestSeed, v) ^ typ*0x9e3779b97f4a7c15
	}
	return typ
}
