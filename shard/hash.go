package shard

import (
	"runtime"
	"unsafe"
)

// memhash is the runtime's hash of n bytes at p, the function behind
// hash/maphash and Go's own maps: AES-based where the CPU has AES
// instructions, keyed by per-process random keys as well as by seed. The
// runtime keeps this linkname working for outside packages (its comment on
// memhash: "Do not remove or change the type signature", go.dev/issue/67401).
//
//go:linkname memhash runtime.memhash
//go:noescape
func memhash(p unsafe.Pointer, seed, n uintptr) uintptr

// hash64 reports whether memhash returns 64 bits: where a uintptr has 64
// bits, except on wasm, whose runtime uses its 32-bit hash (the condition
// hash/maphash uses). It is a constant, so strhash compiles to one path.
const hash64 = unsafe.Sizeof(uintptr(0)) == 8 && runtime.GOARCH != "wasm"

// strhash hashes s with seed as hash/maphash.String does, through the same
// runtime function, without maphash's two wrapper calls, which the compiler
// does not inline and which cost about a tenth of Resolve. Where memhash
// returns 32 bits, it hashes twice, with each half of seed, as maphash does,
// so that every bit of the result varies.
func strhash(s string, seed uint64) uint64 {
	p := unsafe.Pointer(unsafe.StringData(s))
	if hash64 {
		return uint64(memhash(p, uintptr(seed), uintptr(len(s))))
	}
	return strhash32(p, seed, len(s))
}

// strhash32 is strhash where memhash returns 32 bits. It keeps the low 32
// bits of each hash and of each half of the seed, which changes nothing
// there, so that tests on 64-bit machines exercise the same combination of
// the two halves.
func strhash32(p unsafe.Pointer, seed uint64, n int) uint64 {
	lo := uint32(memhash(p, uintptr(uint32(seed)), uintptr(n)))
	hi := uint32(memhash(p, uintptr(uint32(seed>>32)), uintptr(n)))
	return uint64(hi)<<32 | uint64(lo)
}
