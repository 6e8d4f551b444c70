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
// digest. Its work is bounded: of the metadata it reads the top-level keys
// and at most about 4,096 values below them, shared among the keys and down
// the containers, and of a string or a slice of numbers the first 64 bytes
// and the length; of a pointer, a func or a channel, the type alone.
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
	var d digester
	binary.LittleEndian.PutUint64(b[24:], d.of(reflect.ValueOf(e.factory), factoryBudget))
	h.Write(b[:])
	for _, c := range e.caps {
		h.WriteString(c)
		h.WriteByte(0)
	}
	// The metadata's entries in any order: the sum of a hash of each, each
	// with an equal share of the budget (len(e.meta) is the same for equal
	// metadata).
	var meta uint64
	share := metaBudget / max(len(e.meta), 1)
	for k, v := range e.meta {
		meta += mix(prefixHash(k), d.of(reflect.ValueOf(v), share))
	}
	binary.LittleEndian.PutUint64(b[0:], meta)
	h.Write(b[:8])
	return h.Sum64()
}

// The bounds of Digest's work. A value gets a budget of values to read; a
// container reads itself and shares what is left equally among its elements
// (fields), or reads its type and length alone when that leaves less than
// one each. The shares depend only on the values' shape, which two equal
// values share, never on an order of iteration or on what sharing the
// values do; a string or slice of numbers counts one value, of which its
// first digestPrefix bytes are read.
const (
	metaBudget    = 4096
	factoryBudget = 256
	digestPrefix  = 64
)

// mix combines two hashes, in order.
func mix(a, b uint64) uint64 {
	return (a^b)*0x9e3779b97f4a7c15 + b>>29
}

// prefixHash hashes the length of s and its first digestPrefix bytes: equal
// strings hash alike.
func prefixHash(s string) uint64 {
	return mix(uint64(len(s)), maphash.String(digestSeed, s[:min(len(s), digestPrefix)]))
}

// digester computes one Digest. It remembers the maps it has hashed: a map
// costs its capacity to range over, not its length, and one map may be met
// from many places. A map and a share give one hash, so this changes no
// digest.
type digester struct {
	maps map[mapShare]uint64
}

// mapShare is a map met with a share of the budget.
type mapShare struct {
	m     unsafe.Pointer
	share int
}

// of hashes v as the metadata comparison (comparer) compares it,
// reading at most budget values: equal values, by its rules, hash alike.
// Numbers by value, 0 and -0 alike (== finds them equal); a slice of numbers
// and the like by its memory, as the comparison compares it; a map's
// entries in any order; a struct's fields but its blank ones, which == and
// map keys ignore; pointers, funcs and channels by type alone, as the
// comparison follows or compares them in ways a hash of the value cannot
// match.
func (d *digester) of(v reflect.Value, budget int) uint64 {
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
		return mix(h, prefixHash(v.String()))
	case reflect.Interface:
		if v.IsNil() {
			return h
		}
		return mix(h, d.of(v.Elem(), budget))
	case reflect.Map:
		n := v.Len()
		h = mix(h, uint64(n))
		share := shareOf(budget, 2*n) // a key and a value each
		if share == 0 {
			return h
		}
		memo := mapShare{v.UnsafePointer(), share}
		if sum, ok := d.maps[memo]; ok {
			return mix(h, sum)
		}
		var sum uint64
		for it := v.MapRange(); it.Next(); {
			sum += mix(d.of(it.Key(), share), d.of(it.Value(), share))
		}
		if d.maps == nil {
			d.maps = map[mapShare]uint64{}
		}
		d.maps[memo] = sum
		return mix(h, sum)
	case reflect.Slice, reflect.Array:
		n := v.Len()
		if t.Kind() == reflect.Slice {
			h = mix(h, uint64(n)) // an array's length is in its type
			if elem := t.Elem(); memOnly(elem) {
				// Compared by its memory: hash the first bytes of it.
				size := min(uintptr(n)*elem.Size(), digestPrefix)
				if size == 0 {
					return h
				}
				return mix(h, maphash.Bytes(digestSeed, unsafe.Slice((*byte)(v.UnsafePointer()), size)))
			}
		}
		// Compared element by element, or an array by == (alike for each
		// element).
		share := shareOf(budget, n)
		if share == 0 {
			return h
		}
		for i := range n {
			h = mix(h, d.of(v.Index(i), share))
		}
		return h
	case reflect.Struct:
		share := shareOf(budget, v.NumField())
		if share == 0 {
			return h
		}
		for i := range v.NumField() {
			if t.Field(i).Name != "_" {
				h = mix(h, d.of(v.Field(i), share))
			}
		}
		return h
	}
	return h // pointers, funcs, channels, unsafe pointers
}

// shareOf is what each of n elements gets of a container's budget once the
// container has read itself; 0 when that is less than one each.
func shareOf(budget, n int) int {
	if n == 0 || budget <= 1 {
		return 0
	}
	return (budget - 1) / n
}

// floatBits is f's bits, with -0 as 0 (== finds them equal; a NaN equals
// nothing, so its bits do not matter).
func floatBits(f float64) uint64 {
	if f == 0 {
		return 0
	}
	return math.Float64bits(f)
}
