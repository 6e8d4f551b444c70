// Package sequence hands out the registry's sequence numbers: 1, 2, 3, … from
// one atomic counter, so that numbers are unique across every shard and a
// registration that returns before another starts always holds the smaller
// number.
//
// A [Counter] is safe for concurrent use. Its zero value is ready and hands out
// 1 first. It must not be copied after first use.
package sequence

import "sync/atomic"

// Counter is a registry-wide source of sequence numbers.
type Counter struct {
	_    noCopy
	last atomic.Uint64 // the last number handed out
}

// Next returns the next sequence number.
func (c *Counter) Next() uint64 { return c.last.Add(1) }

// Reserve returns the first of n consecutive sequence numbers, all reserved
// for the caller. Reserve(0) reserves nothing and returns the number the next
// call would get.
func (c *Counter) Reserve(n int) uint64 {
	if n <= 0 {
		return c.last.Load() + 1
	}
	return c.last.Add(uint64(n)) - uint64(n) + 1
}

// Last returns the last number handed out, 0 if none.
func (c *Counter) Last() uint64 { return c.last.Load() }

// noCopy lets go vet's copylocks check flag copies of a Counter.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
