package shard

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/domain"
)

// indexKey returns the slot of key i. Its hash has few distinct values, so
// keys share probe sequences and removals leave tombstones inside them; its
// high half, the bucket's tag, takes three values, so that keys of one
// probe sequence differ in their tags, and some share their whole hash.
func indexKey(i int) *slot {
	return &slot{hash: uint64(i%5) | uint64(i%3)<<32, addr: Addr{"d", fmt.Sprint(i)}}
}

// stateOf returns a new state for sl's key, with a winner of its own.
func stateOf(sl *slot) *KeyState {
	d, err := domain.Prepare(domain.Candidate{Domain: sl.addr.Domain, Key: sl.addr.Key}, 0, "")
	if err != nil {
		panic(err)
	}
	e := d.Finish(1, time.Time{})
	return &KeyState{n: 1, win: e, addr: sl.addr}
}

// isWinnerOf reports whether e is the winner of a state of key a.
func isWinnerOf(e *domain.Entry, a Addr) bool {
	return e != nil && e.Domain() == a.Domain && e.Key() == a.Key
}

// TestIndexMatchesMap applies random adds and removes to an index and a map
// and checks after each that every key is found exactly when the map has it,
// by writers' find and by Resolve's winner.
func TestIndexMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var x *index
	model := map[int]*slot{}
	for step := range 5000 {
		i := rng.IntN(40)
		if sl, ok := model[i]; ok && rng.IntN(2) == 0 {
			x = x.remove(sl, 0)
			delete(model, i)
		} else if !ok {
			sl := indexKey(i)
			x = x.put(sl, stateOf(sl), 0)
			model[i] = sl
		}
		require.Equal(t, len(model), x.live, "step %d: live count", step)
		require.LessOrEqual(t, 2*x.used, len(x.b), "step %d: load above one half", step)
		require.True(t, len(x.b) == minBuckets || 8*x.live > len(x.b), "step %d: %d buckets for %d keys", step, len(x.b), x.live)
		for j := range 40 {
			probe := indexKey(j)
			sl := model[j]
			b, ks := x.find(probe.hash, probe.addr)
			e := x.winner(probe.hash, probe.addr, 0)
			if sl == nil {
				require.Nil(t, b, "step %d: key %d", step, j)
				require.Nil(t, ks, "step %d: key %d", step, j)
				require.Nil(t, e, "step %d: key %d", step, j)
				continue
			}
			require.Same(t, sl.load().win, e, "step %d: key %d: the bucket's winner is its state's", step, j)
			require.NotNil(t, b, "step %d: key %d", step, j)
			require.Same(t, sl, b.sl.Load(), "step %d: key %d", step, j)
			require.Same(t, b, sl.bkt.Load(), "step %d: key %d: the slot knows its bucket", step, j)
			require.Same(t, sl.load(), ks, "step %d: key %d: the slot and the index agree on the state", step, j)
			require.Equal(t, sl.addr, sl.load().addr, "step %d: key %d: the state is the key's", step, j)
		}
	}
}

// TestIndexConcurrentReaders churns keys in an index (tombstones,
// rebuilds in both directions) and replaces the states of the keys
// that stay, under a mutex, while readers, without it, look those keys up:
// they must always find a state of the right key.
func TestIndexConcurrentReaders(t *testing.T) {
	var mu sync.Mutex // the shard's mu, for the writer
	var cur atomic.Pointer[index]
	const kept = 10
	var x *index
	// Keys that come and go are put first, so that they sit before the kept
	// keys in the probe sequences they share.
	live := map[int]*slot{}
	for i := kept; i < kept+30; i++ {
		live[i] = indexKey(i)
		x = x.put(live[i], stateOf(live[i]), 0)
	}
	keptSlots := make([]*slot, kept)
	for i := range kept {
		keptSlots[i] = indexKey(i)
		x = x.put(keptSlots[i], stateOf(keptSlots[i]), 0)
	}
	cur.Store(x)

	var stop atomic.Bool
	var wg sync.WaitGroup
	var misses atomic.Int64
	for r := range 2 {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				probe := indexKey((n + r) % kept)
				if n%2 == 0 {
					if _, ks := cur.Load().find(probe.hash, probe.addr); ks == nil || ks.addr != probe.addr {
						misses.Add(1)
					}
				} else if !isWinnerOf(cur.Load().winner(probe.hash, probe.addr, 0), probe.addr) {
					misses.Add(1)
				}
			}
		})
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		mu.Lock()
		x := cur.Load()
		// A new state for a kept key, through its slot, as a writer does.
		sl := keptSlots[rng.IntN(kept)]
		sl.bkt.Load().publish(stateOf(sl), 0)
		i := kept + rng.IntN(60)
		if sl, ok := live[i]; ok {
			if y := x.remove(sl, 0); y != x {
				cur.Store(y)
			}
			delete(live, i)
		} else {
			sl := indexKey(i)
			if y := x.put(sl, stateOf(sl), 0); y != x {
				cur.Store(y)
			}
			live[i] = sl
		}
		mu.Unlock()
	}
	stop.Store(true)
	wg.Wait()
	require.Zero(t, misses.Load(), "lookups of present keys that found nothing")
}

// TestLookupReadsOneCacheLine checks what the bucket's layout relies on:
// the fields a lookup reads (meta, win, addr, sl) lie in one 64-byte cache
// line of every bucket, for indexes of every size. (An array of buckets
// starts on a 64-byte boundary, or 8 bytes past one when the runtime puts
// its allocation header first; state, which only writers and batch reads
// load, may spill into the next line.)
func TestLookupReadsOneCacheLine(t *testing.T) {
	skipUnless64Bit(t)
	require.Equal(t, uintptr(64), unsafe.Sizeof(bucket{}))
	var b bucket
	last := unsafe.Offsetof(b.sl) + unsafe.Sizeof(b.sl) - 1
	require.Greater(t, unsafe.Offsetof(b.sl), unsafe.Offsetof(b.addr), "sl must be the last field a lookup reads")
	require.Greater(t, unsafe.Offsetof(b.state), unsafe.Offsetof(b.sl))
	for n := 0; n <= 1<<14; n = max(1, 2*n) { // every array size up to 64 Ki buckets
		x := newIndex(n)
		for i := range x.b {
			start := uintptr(unsafe.Pointer(&x.b[i]))
			require.Equal(t, start/64, (start+last)/64, "index for %d keys: bucket %d of %d", n, i, len(x.b))
		}
	}
}

// TestIndexChurnRebuildsRarely: a shard whose keys come and go copies its
// index once per many writes, whatever its size. A removed key's bucket is a
// tombstone until the next rebuild, so unregistering and registering one
// key again uses a bucket each time; a rebuild must leave room for many.
// With L live keys just under half the table, a rebuild used to leave room
// for none or one, and nearly every other write copied the whole index.
func TestIndexChurnRebuildsRarely(t *testing.T) {
	for _, live := range []int{100, 1000, 1022, 4000, 8189} {
		t.Run(fmt.Sprint(live), func(t *testing.T) {
			var x *index
			for i := range live {
				sl := &slot{hash: uint64(i) * 0x9e3779b97f4a7c15, addr: Addr{"d", fmt.Sprint(i)}}
				x = x.put(sl, stateOf(sl), 0)
			}
			const toggles = 4000
			sl := &slot{hash: 12345, addr: Addr{"d", "toggled"}}
			ks := stateOf(sl)
			rebuilds := 0
			for range toggles {
				before := x
				x = x.put(sl, ks, 0)
				if x != before {
					rebuilds++
				}
				before = x
				x = x.remove(sl, 0)
				if x != before {
					rebuilds++
				}
			}
			// Each rebuild leaves room for at least len/8 - 1 new buckets:
			// at most toggles / (len/8 - 1) rebuilds, plus one.
			limit := toggles/(len(x.b)/8-1) + 1
			require.LessOrEqual(t, rebuilds, limit, "%d rebuilds of a %d-bucket index in %d toggles", rebuilds, len(x.b), toggles)
			require.Equal(t, live, x.live)
		})
	}
}

// skipUnless64Bit skips a test of a memory layout planned for 64-bit
// pointers: on 386 or arm a bucket is 40 bytes and a large 32.
func skipUnless64Bit(t *testing.T) {
	t.Helper()
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is planned for 64-bit pointers")
	}
}
