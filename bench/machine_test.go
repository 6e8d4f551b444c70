package bench

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// machineLines is the number of 64-byte lines BenchmarkMachine reads from:
// 2 MiB, about the size of the registry's key index for the standard data
// set with its default 64 shards (1.9 MB).
const machineLines = 1 << 15

// line is one cache line of BenchmarkMachine's table.
type line struct{ v [8]uint64 }

// BenchmarkMachine measures the machine, not an implementation: it loads
// one word from each of the lines of a 2 MiB table in a precomputed random
// order, from every goroutine, as BenchmarkResolve loads one bucket of the
// registry's index per call. Its scaling across -cpu is what the memory
// system gives a loop of independent random loads over a table that size: a
// reference for the scaling of a lookup that loads one random line per call,
// not a ceiling (at about 1.3 ns a load it runs mostly from the caches, and
// Resolve, at about 26 ns a call, has scaled past it in some runs). It
// appears in the tables as impl=machine.
func BenchmarkMachine(b *testing.B) {
	b.Run("loads=random/impl=machine", func(b *testing.B) {
		table := make([]line, machineLines)
		for i := range table {
			table[i].v[0] = uint64(i)
		}
		idx := make([]int, machineLines)
		for i := range idx {
			idx[i] = i
		}
		ord := order(idx)
		var start atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i, sum := int(start.Add(1))*stride, uint64(0)
			for pb.Next() {
				sum += table[ord[i&(orderLen-1)]].v[0]
				i++
			}
			machineSink.Add(sum) // keeps the loads
		})
	})
}

// machineSink receives BenchmarkMachine's sums, so that the compiler cannot
// drop its loads.
var machineSink atomic.Uint64

// chaseBytes is the size of BenchmarkChase's table: 96 MiB, about the heap
// of the registry BenchmarkListActive lists at 10,000 domains (300,000
// candidates at the 325 B each that BenchmarkLoad measures).
const chaseBytes = 96 << 20

// chaseTable is BenchmarkChase's table: one line each, every line holding
// the index of the next in one random cycle through all of them. Built once.
var chaseTable = sync.OnceValue(func() []line {
	n := chaseBytes / int(unsafe.Sizeof(line{}))
	perm := rand.New(rand.NewPCG(seed, uint64(n))).Perm(n)
	t := make([]line, n)
	for i, p := range perm {
		t[p].v[0] = uint64(perm[(i+1)%n])
	}
	return t
})

// BenchmarkChase measures the machine, not an implementation: one op is one
// load whose address depends on the load before, over a 96 MiB table in
// random order, from one goroutine. It is the latency of a cache miss into
// a heap the size of the 10,000-domain registry of BenchmarkListActive,
// TLB miss included: the least that a lookup of a random domain pays, in
// any design, for each line it reads that the 10-domain registry keeps in
// cache. It appears in the tables as impl=machine.
func BenchmarkChase(b *testing.B) {
	b.Run("bytes=96MiB/impl=machine", func(b *testing.B) {
		t := chaseTable()
		b.ReportAllocs()
		b.ResetTimer()
		i := uint64(0)
		for range b.N {
			i = t[i].v[0]
		}
		machineSink.Add(i) // keeps the loads
	})
}
