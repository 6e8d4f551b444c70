package shard

import "unsafe"

// memhash is the runtime's hash of n bytes at p, the function behind
// hash/maphash and Go's own maps: AES-based where the CPU has AES
// instructions, keyed by per-process random keys as well as by seed. The
// runtime keeps this linkname working for outside packages (go.dev/issue/67401).
//
//go:linkname memhash runtime.memhash
//go:noescape
func memhash(p unsafe.Pointer, seed, n uintptr) uintptr

// strhash is hash/maphash.String(seed, s) without its two wrapper calls,
// which the compiler does not inline and which cost about a tenth of
// Resolve. Like maphash, it hashes twice with the two halves of seed where a
// uintptr has 32 bits, so that every bit of the result varies.
func strhash(s string, seed uint64) uint64 {
	p := unsafe.Pointer(unsafe.StringData(s))
	if unsafe.Sizeof(uintptr(0)) == 8 {
		return uint64(memhash(p, uintptr(seed), uintptr(len(s))))
	}
	return strhash32(p, seed, len(s))
}

// strhash32 is strhash where a uintptr has 32 bits. It keeps 32 bits of
// each hash and of each half of the seed on every platform, so that tests
// on 64-bit machines run it as 32-bit ones do.
func strhash32(p unsafe.Pointer, seed uint64, n int) uint64 {
	lo := uint32(memhash(p, uintptr(uint32(seed)), uintptr(n)))
	hi := uint32(memhash(p, uintptr(uint32(seed>>32)), uintptr(n)))
	return uint64(hi)<<32 | uint64(lo)
}
