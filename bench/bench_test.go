package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/oneiric-go/oneiric/domain"
)

// Every benchmark runs every implementation of the table impls on the same
// workload, named "<workload>/impl=<implementation>", so that
// "benchstat -col /impl" puts the implementations side by side. Setup (loading
// the data set) is outside the timer; every benchmark reports allocations.
//
// Resolve, Mix and Writers are parallel: they use b.RunParallel, so -cpu
// 1,2,4 sets how many goroutines run them. The others run on one goroutine,
// and make bench runs them at -cpu 1 only; among them ResolveSerial,
// Register and ListActive run the floor too (impl=map): plain maps meant for
// one goroutine, a reference for what a workload itself costs.
// (A benchmark cannot skip itself by GOMAXPROCS: the testing package probes
// each one at whatever GOMAXPROCS the previous one left, so the Makefile
// selects by name.)

// dists is the workload table of the read-only and mixed benchmarks: which
// addresses the goroutines visit.
var dists = []struct {
	name  string
	order func() []addr
}{
	{"dist=uniform", stdOrder}, // every key of the 1,000 domains
	{"dist=hot", hotOrder},     // the 10 keys of one domain
}

// mixes is the workload table of BenchmarkMix: the share of Resolve among
// the operations and where they go. The rest are writes (see writer).
var mixes = []struct {
	name    string
	readPct int
	hot     bool
}{
	{"read=99/dist=uniform", 99, false},
	{"read=90/dist=uniform", 90, false},
	{"read=50/dist=uniform", 50, false},
	{"read=90/dist=hot", 90, true},
}

// BenchmarkResolve resolves keys of the standard data set (1,000 domains ×
// 10 keys × 3 candidates) in a precomputed random order, from every
// goroutine, with no writer. The floor is in BenchmarkResolveSerial.
func BenchmarkResolve(b *testing.B) {
	for _, dist := range dists {
		for _, im := range impls {
			if im.floor {
				continue
			}
			b.Run(dist.name+"/impl="+im.name, func(b *testing.B) {
				s := build(b, im, "std", stdData())
				ord := dist.order()
				var start, misses atomic.Int64
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					i, miss := int(start.Add(1))*stride, 0
					for pb.Next() {
						a := &ord[i&(orderLen-1)]
						if _, ok := s.Resolve(a.domain, a.key); !ok {
							miss++
						}
						i++
					}
					misses.Add(int64(miss))
				})
				if n := misses.Load(); n > 0 {
					b.Fatalf("%d lookups found nothing", n)
				}
			})
		}
	}
}

// BenchmarkResolveSerial is BenchmarkResolve on one goroutine, in a plain
// loop, with the floor (impl=map): the comparison of Resolve with a plain
// map lookup.
func BenchmarkResolveSerial(b *testing.B) {
	for _, dist := range dists {
		for _, im := range impls {
			b.Run(dist.name+"/impl="+im.name, func(b *testing.B) {
				s := build(b, im, "std", stdData())
				ord := dist.order()
				misses := 0
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					a := &ord[i&(orderLen-1)]
					if _, ok := s.Resolve(a.domain, a.key); !ok {
						misses++
					}
				}
				if misses > 0 {
					b.Fatalf("%d lookups found nothing", misses)
				}
			})
		}
	}
}

// BenchmarkMix mixes Resolve with writes on the standard data set, from
// every goroutine: read=90 means 90 % Resolve and 10 % writes, spread
// evenly (every 10th operation). A write is a Register or an Unregister, in
// turn (see writer), so keys return to their 3 candidates and every
// operation is timed.
func BenchmarkMix(b *testing.B) {
	for _, mx := range mixes {
		for _, im := range impls {
			if im.floor {
				continue
			}
			b.Run(mx.name+"/impl="+im.name, func(b *testing.B) {
				s := build(b, im, "std", stdData())
				ord := stdOrder()
				if mx.hot {
					ord = hotOrder()
				}
				every := 100 / (100 - mx.readPct) // one write in every
				var gid, errs atomic.Int64
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					g := int(gid.Add(1))
					w := newWriter(s, g)
					i, n := g*stride, 0
					for pb.Next() {
						a := &ord[i&(orderLen-1)]
						i++
						if n++; n == every {
							n = 0
							w.step(a)
							continue
						}
						s.Resolve(a.domain, a.key)
					}
					w.finish()
					errs.Add(int64(w.errs))
				})
				if n := errs.Load(); n > 0 {
					b.Fatalf("%d writes failed", n)
				}
			})
		}
	}
}

// BenchmarkWriters runs writers only (see writer), either all on the keys
// of one domain or each goroutine on the keys of its own domain (goroutine
// g writes domain g-1; on the registry's 64 shards two such domains may
// share a shard, as they may in a host).
func BenchmarkWriters(b *testing.B) {
	for _, spread := range []string{"one", "own"} {
		for _, im := range impls {
			if im.floor {
				continue
			}
			b.Run("domains="+spread+"/impl="+im.name, func(b *testing.B) {
				ds := stdData()
				s := build(b, im, "std", ds)
				var gid, errs atomic.Int64
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					g := int(gid.Add(1))
					d := 0
					if spread == "own" {
						d = (g - 1) % stdDomains
					}
					keys := ds.addrs[d*stdKeys : (d+1)*stdKeys]
					w := newWriter(s, g)
					for i := g; pb.Next(); i++ {
						w.step(&keys[i%stdKeys])
					}
					w.finish()
					errs.Add(int64(w.errs))
				})
				if n := errs.Load(); n > 0 {
					b.Fatalf("%d writes failed", n)
				}
			})
		}
	}
}

// writer is one goroutine's writes: a Register of its own provider into
// the address it is given, then the Unregister of that provider from that
// same address, in turn. A key thus holds at most its data set's candidates
// plus one per writer, and finish leaves it with exactly its own.
type writer struct {
	s        store
	provider string
	prio     *int
	pending  *addr // registered, not yet unregistered
	errs     int
}

// writerPriority beats about one key in eight of the standard data set
// (priorities are uniform in [0, 100) and a key has 3), so some writes
// change the winner and most do not.
const writerPriority = 50

func newWriter(s store, g int) *writer {
	return &writer{s: s, provider: "writer-" + strconv.Itoa(g), prio: new(writerPriority)}
}

func (w *writer) step(a *addr) {
	if w.pending == nil {
		if _, err := w.s.Register(domain.Candidate{Domain: a.domain, Key: a.key, Provider: w.provider, Priority: w.prio}); err != nil {
			w.errs++
		}
		w.pending = a
		return
	}
	if w.s.Unregister(w.pending.domain, w.pending.key, w.provider) != 1 {
		w.errs++
	}
	w.pending = nil
}

func (w *writer) finish() {
	if w.pending != nil {
		w.step(nil)
	}
}

// registerSizes are the key sizes of BenchmarkRegister: how many candidates
// a key holds when one more is registered into it.
var registerSizes = []int{1, 3, 10, 100, 2000}

// registerData returns the data set of BenchmarkRegister for keys of size
// candidates: the standard one for 3, else about 4,096 candidates' worth of
// keys (at least 2), so that a round of registrations touches many keys.
var registerData = sync.OnceValue(func() map[int]*dataset {
	out := map[int]*dataset{}
	for _, size := range registerSizes {
		if size == stdCands {
			out[size] = stdData()
			continue
		}
		keys := max(2, 4096/size)
		nd := max(1, keys/stdKeys)
		out[size] = newDataset(nd, min(keys, stdKeys), size)
	}
	return out
})

// newProvider is the provider of every candidate BenchmarkRegister adds.
const newProvider = "provider-new"

// BenchmarkRegister registers one candidate into keys that hold 1, 3, 10,
// 100 or 2,000, in every implementation and the floor. A round visits every
// key of the data set in random order, max(1, size/100) times (so a key of
// 2,000 grows by at most 1 %); between rounds, with the timer stopped, the
// new candidates are unregistered.
func BenchmarkRegister(b *testing.B) {
	for _, size := range registerSizes {
		for _, im := range impls {
			b.Run(fmt.Sprintf("cands=%d/impl=%s", size, im.name), func(b *testing.B) {
				ds := registerData()[size]
				s := build(b, im, "register-"+strconv.Itoa(size), ds)
				rng := rand.New(rand.NewPCG(seed, uint64(size)))
				var round []domain.Candidate
				for _, a := range order(ds.addrs)[:max(1, size/100)*len(ds.addrs)] {
					round = append(round, domain.Candidate{Domain: a.domain, Key: a.key,
						Provider: newProvider, Priority: new(rng.IntN(100))})
				}
				reset := func() {
					for _, a := range ds.addrs {
						s.Unregister(a.domain, a.key, newProvider)
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				j := 0
				for range b.N {
					if j == len(round) {
						b.StopTimer()
						reset()
						b.StartTimer()
						j = 0
					}
					if _, err := s.Register(round[j]); err != nil {
						b.Fatal(err)
					}
					j++
				}
				b.StopTimer()
				reset()
			})
		}
	}
}

// BenchmarkRegisterOneKey registers 2,000 candidates (distinct providers,
// random priorities) into one empty key of a new store; one op is all 2,000.
// It reports the total as ms/2000regs.
func BenchmarkRegisterOneKey(b *testing.B) {
	const n = 2000
	rng := rand.New(rand.NewPCG(seed, n))
	cands := make([]domain.Candidate, n)
	for i := range cands {
		cands[i] = domain.Candidate{Domain: domainName(0), Key: keyName(0),
			Provider: fmt.Sprintf("provider-%04d", i), Priority: new(rng.IntN(100))}
	}
	for _, im := range impls {
		if im.floor {
			continue
		}
		b.Run("cands=2000/impl="+im.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				s := im.new()
				b.StartTimer()
				for _, c := range cands {
					if _, err := s.Register(c); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/2000regs")
		})
	}
}

// BenchmarkLoad registers the standard data set (30,000 candidates without
// metadata) into a new store; one op is all 30,000. It also reports the
// bytes the store holds per candidate (B/cand): the live heap after a GC
// with the store loaded, less the live heap before, over 30,000. The
// candidates' strings are the caller's and are not counted.
func BenchmarkLoad(b *testing.B) {
	for _, im := range impls {
		if im.floor {
			continue
		}
		b.Run("cands=30000/impl="+im.name, func(b *testing.B) {
			ds := stdData()
			b.ReportAllocs()
			for range b.N {
				ds.load(b, im.new())
			}
			b.StopTimer()
			b.ReportMetric(bytesPerCandidate(b, im, ds), "B/cand")
		})
	}
}

// bytesPerCandidate loads ds into a new store of im and returns the growth
// of the live heap over the number of candidates.
func bytesPerCandidate(b *testing.B, im impl, ds *dataset) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := im.new()
	ds.load(b, s)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(len(ds.cands))
}

// listDomains are the registry sizes of BenchmarkListActive, in domains of
// 10 keys × 3 candidates.
var listDomains = []int{10, 1000, 10000}

var listData = sync.OnceValue(func() map[int]*dataset {
	out := map[int]*dataset{}
	for _, nd := range listDomains {
		if nd == stdDomains {
			out[nd] = stdData()
			continue
		}
		out[nd] = newDataset(nd, stdKeys, stdCands)
	}
	return out
})

// BenchmarkListActive lists the winners of one domain (10 keys), domains
// visited in random order, in registries of 10, 1,000 and 10,000 domains,
// in every implementation and the floor.
func BenchmarkListActive(b *testing.B) {
	for _, nd := range listDomains {
		for _, im := range impls {
			b.Run(fmt.Sprintf("domains=%d/impl=%s", nd, im.name), func(b *testing.B) {
				ds := listData()[nd]
				key := "list-" + strconv.Itoa(nd)
				if nd == stdDomains {
					key = "std"
				}
				s := build(b, im, key, ds)
				ord := order(ds.domains)
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					if n := len(s.ListActive(ord[i&(orderLen-1)])); n != stdKeys {
						b.Fatalf("ListActive returned %d winners, want %d", n, stdKeys)
					}
				}
			})
		}
	}
}

// BenchmarkListAfterWrite lists a domain of the standard data set right
// after a write to one of its keys, domains in random order: one op is a
// writer's step (a Register of its provider, or the Unregister of the one
// before, in turn) and then ListActive of the domain written. It is the
// read-after-write pattern of a host that lists what a plugin has just
// registered, and the cold counterpart of BenchmarkListActive: the
// registry's listing of a domain is rebuilt after every write to it, while
// in BenchmarkListActive, which never writes, it is built once and reused.
// Compare it with BenchmarkWriters at -cpu 1 for the cost of the write.
func BenchmarkListAfterWrite(b *testing.B) {
	for _, im := range impls {
		if im.floor {
			continue
		}
		b.Run("domains=1000/impl="+im.name, func(b *testing.B) {
			ds := stdData()
			s := build(b, im, "std", ds)
			ord := stdOrder()
			w := newWriter(s, 1)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				a := &ord[i&(orderLen-1)]
				if w.pending != nil {
					a = w.pending // the Unregister writes where the Register did
				}
				w.step(a)
				if n := len(s.ListActive(a.domain)); n != stdKeys {
					b.Fatalf("ListActive returned %d winners, want %d", n, stdKeys)
				}
			}
			b.StopTimer()
			w.finish()
			if w.errs > 0 {
				b.Fatalf("%d writes failed", w.errs)
			}
		})
	}
}

// BenchmarkExplain explains keys of the standard data set in random order.
func BenchmarkExplain(b *testing.B) {
	for _, im := range impls {
		if im.floor {
			continue
		}
		b.Run("impl="+im.name, func(b *testing.B) {
			s := build(b, im, "std", stdData())
			ord := stdOrder()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				a := &ord[i&(orderLen-1)]
				if n := len(s.Explain(a.domain, a.key).Ordered); n != stdCands {
					b.Fatalf("Explain ranked %d candidates, want %d", n, stdCands)
				}
			}
		})
	}
}

// BenchmarkSnapshot takes a snapshot of one domain (in random order) or of
// all 1,000 of the standard data set.
func BenchmarkSnapshot(b *testing.B) {
	for _, which := range []string{"one", "all"} {
		for _, im := range impls {
			if im.floor {
				continue
			}
			b.Run("domains="+which+"/impl="+im.name, func(b *testing.B) {
				ds := stdData()
				s := build(b, im, "std", ds)
				ord := order(ds.domains)
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					if which == "one" {
						s.Snapshot(ord[i&(orderLen-1)])
					} else {
						s.Snapshot()
					}
				}
			})
		}
	}
}
