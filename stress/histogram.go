package stress

import (
	"math"
	"math/bits"
	"time"
)

// histogram counts latencies in log-linear buckets: 8 buckets per power of
// two, so a bucket's width is at most 1/8 of its lower bound and a percentile
// read from it is within 12.5 % of the true value. Values below 8 ns have a
// bucket each. 496 buckets cover every uint64; at 8 bytes each a histogram is
// about 4 KiB, small enough to keep one per goroutine and kind and merge them
// at the end, so recording takes no lock and shares no cache line.
//
// The zero value is empty and ready to use. A histogram is not safe for
// concurrent use.
type histogram struct {
	counts [histBuckets]uint64
	n      uint64
	max    uint64
}

const (
	subBits     = 3 // 2^3 = 8 buckets per power of two: 12.5 % resolution
	subBuckets  = 1 << subBits
	histBuckets = subBuckets + (64-subBits)*subBuckets // 8 exact + 61 octaves of 8
)

// bucketOf returns the bucket of v.
func bucketOf(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	b := bits.Len64(v) // ≥ subBits+1
	shift := b - subBits - 1
	mant := (v >> shift) & (subBuckets - 1)
	return subBuckets + (b-subBits-1)*subBuckets + int(mant)
}

// bucketUpper returns the largest value bucket i holds.
func bucketUpper(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	octave := (i - subBuckets) / subBuckets
	mant := uint64((i-subBuckets)%subBuckets) | subBuckets
	if octave+subBits+1 >= 64 && mant == 2*subBuckets-1 {
		return ^uint64(0)
	}
	return (mant+1)<<octave - 1
}

// record adds one observation.
func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	h.n++
	h.max = max(h.max, v)
}

// merge adds o's observations to h.
func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the upper bound of the bucket holding the q-th quantile
// (0 < q ≤ 1) by nearest rank, the smallest value at or below which at least
// a fraction q of the values lie, capped at the largest value recorded; 0
// when empty.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketUpper(i), h.max))
		}
	}
	return time.Duration(h.max)
}
