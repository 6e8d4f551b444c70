package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/oneiric-go/oneiric/domain"
)

// The standard data set of the issue: 1,000 domains × 10 keys × 3
// candidates.
const (
	stdDomains = 1000
	stdKeys    = 10
	stdCands   = 3
)

// orderLen is the length of every precomputed visiting order: a power of
// two, so that a goroutine steps through it with a mask, and long enough
// (64 Ki addresses, 2 MiB) that the order does not repeat within a cache.
const orderLen = 1 << 16

// seed makes every data set and order the same from run to run.
const seed = 20260101

// componentKeys names the keys of the standard data set, as a host would.
var componentKeys = [stdKeys]string{"cache", "queue", "storage", "secrets", "monitoring",
	"logging", "email", "payments", "search", "auth"}

// dataset is a set of candidates to load and the addresses they fill.
type dataset struct {
	domains []string
	addrs   []addr             // every (domain, key), domain-major
	cands   []domain.Candidate // registration order: domain-major, then key, then provider
}

// domainName is the name of the i-th domain of every data set.
func domainName(i int) string { return fmt.Sprintf("tenant-%05d", i) }

// keyName is the name of the i-th key of every data set.
func keyName(i int) string {
	if i < stdKeys {
		return componentKeys[i]
	}
	return fmt.Sprintf("component-%05d", i)
}

// newDataset returns domains × keys × per candidates without metadata, each
// with its own provider within its key and a random priority in [0, 100).
func newDataset(domains, keys, per int) *dataset {
	rng := rand.New(rand.NewPCG(seed, uint64(domains*keys*per)))
	ds := &dataset{}
	for d := range domains {
		dn := domainName(d)
		ds.domains = append(ds.domains, dn)
		for k := range keys {
			kn := keyName(k)
			ds.addrs = append(ds.addrs, addr{dn, kn})
			for p := range per {
				ds.cands = append(ds.cands, domain.Candidate{Domain: dn, Key: kn,
					Provider: fmt.Sprintf("provider-%04d", p), Priority: new(rng.IntN(100))})
			}
		}
	}
	return ds
}

// load registers every candidate of ds into s.
func (ds *dataset) load(tb testing.TB, s store) {
	for _, c := range ds.cands {
		if _, err := s.Register(c); err != nil {
			tb.Fatal(err)
		}
	}
}

// order returns orderLen addresses from as: whole random permutations of
// as, one after the other, so that every address is visited equally often in
// an order that no cache can predict.
func order[T any](as []T) []T {
	rng := rand.New(rand.NewPCG(seed, uint64(len(as))))
	out := make([]T, 0, orderLen+len(as))
	for len(out) < orderLen {
		perm := rng.Perm(len(as))
		for _, i := range perm {
			out = append(out, as[i])
		}
	}
	return out[:orderLen]
}

// stride separates the starting points of the goroutines of a parallel
// benchmark in an order, so that they do not visit the same addresses in
// lockstep. It is odd, so every start is a different address.
const stride = 9973

// cached holds the last store built, with its key: a benchmark function runs
// several times (to find b.N, then for each -count and -cpu), and building
// 300,000 candidates each time would dominate the run. Benchmarks that write
// restore what they changed before they return, so a cached store always
// holds exactly its data set.
var cached struct {
	key string
	s   store
}

// build returns a store of implementation im loaded with ds, built once per
// key and reused while the same benchmark repeats. The build is outside the
// timer: callers reset it.
func build(tb testing.TB, im impl, key string, ds *dataset) store {
	k := im.name + "/" + key
	if cached.key == k {
		return cached.s
	}
	cached.key, cached.s = "", nil
	runtime.GC() // the previous store is garbage: do not bill the next run for it
	s := im.new()
	ds.load(tb, s)
	cached.key, cached.s = k, s
	return s
}

// The standard data set and its orders, made on first use (not when the
// package's tests run without -bench) and read-only.
var (
	stdData = sync.OnceValue(func() *dataset { return newDataset(stdDomains, stdKeys, stdCands) })
	// stdOrder visits every key of the standard data set.
	stdOrder = sync.OnceValue(func() []addr { return order(stdData().addrs) })
	// hotOrder visits only the keys of the first domain.
	hotOrder = sync.OnceValue(func() []addr { return order(stdData().addrs[:stdKeys]) })
)
