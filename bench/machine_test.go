package bench

import (
	"sync/atomic"
	"testing"
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
// system gives a loop of independent random loads over a table that size:
// the ceiling for any lookup that misses the cache once per call. It
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
