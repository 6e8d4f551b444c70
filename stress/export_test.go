package stress

import "time"

// SequencesInvariant runs the end-of-run sequence check on seqs, as Run does
// with every sequence number it was handed.
func SequencesInvariant(seqs []uint64) Invariant { return sequencesInvariant(tally{}, seqs) }

// Quantiles records values in a latency histogram and reads quantiles qs.
func Quantiles(values []time.Duration, qs ...float64) []time.Duration {
	var h histogram
	for _, v := range values {
		h.record(v)
	}
	out := make([]time.Duration, len(qs))
	for i, q := range qs {
		out[i] = h.quantile(q)
	}
	return out
}

// BucketUpper returns the largest value in the histogram bucket of v.
func BucketUpper(v uint64) uint64 { return bucketUpper(bucketOf(v)) }
