package etcd_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	oetcd "github.com/oneiric-go/oneiric/etcd"
	"github.com/oneiric-go/oneiric/registry"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// The universe the random workloads draw from: names with "/" and "%" (which
// the key layout escapes) and the empty provider, small enough that sets
// overlap, keys are contested, and priorities tie.
var (
	owners    = []string{"billing", "ops", "team/a", "100%", "edge"}
	domains   = []string{"adapter", "service", "tenant/acme"}
	keys      = []string{"cache", "queue", "k%1"}
	providers = []string{"redis", "memcached", "nats", "", "s3/eu"}
	capsPool  = []string{"ttl", "cluster", "acl"}
	factories = map[string]any{"redis": "REDIS", "nats": "NATS", "generic": "GENERIC"}
)

// randomSet returns a random set of candidates: each (domain, key, provider)
// of the universe with probability p, with priorities 0 to 2 and stack levels
// 0 or 1 (so that exact ties are common), some capabilities, metadata and a
// factory name.
func randomSet(rng *rand.Rand, p float64) []registry.Candidate {
	var cs []registry.Candidate
	for _, d := range domains {
		for _, k := range keys {
			for _, pr := range providers {
				if rng.Float64() >= p {
					continue
				}
				c := registry.Candidate{Domain: d, Key: k, Provider: pr, Priority: new(rng.IntN(3)), StackLevel: rng.IntN(2)}
				for _, cp := range capsPool {
					if rng.IntN(2) == 0 {
						c.Capabilities = append(c.Capabilities, cp)
					}
				}
				if rng.IntN(2) == 0 {
					c.Metadata = map[string]any{"n": float64(rng.IntN(3)), "tags": []any{"a", "b"}}
				}
				switch rng.IntN(4) {
				case 0:
					c.Factory = "redis"
				case 1:
					c.Factory = "generic"
				}
				cs = append(cs, c)
			}
		}
	}
	return cs
}

// Two registries mirroring one prefix reach identical snapshots (the same
// candidates, owners, priorities and winners, ties included) after 1,000
// random publishes from several goroutines, some of them racing on the same
// owner, and about 100 selection changes; both equal what etcd holds. A third
// mirror started afterwards loads the same candidates.
func TestTwoMirrorsConverge(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	const prefix = "/converge"
	r1, m1, _ := mirror(t, newClient(t, s), prefix, factories)
	r2, m2, _ := mirror(t, newClient(t, s), prefix, factories)
	<-m1.Ready()
	<-m2.Ready()

	const writers, publishes = 4, 1000
	var done, selections atomic.Int64
	var last atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			note := func(rev int64) {
				for cur := last.Load(); rev > cur && !last.CompareAndSwap(cur, rev); cur = last.Load() {
				}
			}
			for done.Add(1) <= publishes {
				rev, err := oetcd.Publish(ctx, c, prefix, owners[rng.IntN(len(owners))], randomSet(rng, 0.3))
				if err != nil {
					t.Error(err)
					return
				}
				note(rev)
				if rng.IntN(10) == 0 { // and a selection change now and then
					p := providers[rng.IntN(len(providers))]
					rev, err := oetcd.PublishSelection(ctx, c, prefix, domains[rng.IntN(len(domains))], keys[rng.IntN(len(keys))], p)
					if err != nil {
						t.Error(err)
						return
					}
					selections.Add(1)
					note(rev)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	waitRev(t, m1, last.Load())
	waitRev(t, m2, last.Load())

	c1, w1 := registryState(r1)
	c2, w2 := registryState(r2)
	if !slices.Equal(c1, c2) {
		t.Fatalf("the mirrors hold different candidates:\n%s", diff(c1, c2))
	}
	if !slices.Equal(w1, w2) {
		t.Fatalf("the mirrors have different winners:\n%s", diff(w1, w2))
	}
	sameState(t, "first mirror", r1, c, prefix, factories)
	ties := 0
	for _, d := range r1.Domains() {
		for _, e := range r1.ListActive(d) {
			ex := r1.Explain(d, e.Key())
			if len(ex.Ordered) > 1 && ex.Ordered[0].Score.Override == ex.Ordered[1].Score.Override &&
				ex.Ordered[0].Score.Priority == ex.Ordered[1].Score.Priority && ex.Ordered[0].Score.StackLevel == ex.Ordered[1].Score.StackLevel {
				ties++
			}
		}
	}
	st1, st2 := m1.Status(), m2.Status()
	t.Logf("%d publishes and %d selection changes up to revision %d; %d candidates, %d winners, %d of them decided by registration order; loads %d and %d",
		publishes, selections.Load(), last.Load(), len(c1), len(w1), ties, st1.Loads, st2.Loads)
	if !st1.Healthy || !st2.Healthy || st1.Skipped+st2.Skipped != 0 {
		t.Fatalf("status %+v and %+v", st1, st2)
	}

	// A mirror that starts now loads the same candidates.
	r3, m3, _ := mirror(t, newClient(t, s), prefix, factories)
	waitRev(t, m3, last.Load())
	if c3, _ := registryState(r3); !slices.Equal(c1, c3) {
		t.Fatalf("a late mirror holds different candidates:\n%s", diff(c1, c3))
	}
}

// publishCount publishes n random sets for the owners of one writer, retrying
// each until it is acknowledged, and records the last acknowledged set of
// each owner in model. It returns the highest revision acknowledged.
func publishCount(ctx context.Context, c *clientv3.Client, prefix string, seed uint64, writerOwners []string, n int, model map[string][]registry.Candidate, mu *sync.Mutex) (int64, error) {
	rng := rand.New(rand.NewPCG(seed, 7))
	var last int64
	for range n {
		o := writerOwners[rng.IntN(len(writerOwners))]
		set := randomSet(rng, 0.1)
		for {
			rev, err := oetcd.Publish(ctx, c, prefix, o, set)
			if err == nil {
				last = max(last, rev)
				mu.Lock()
				model[o] = set
				mu.Unlock()
				break
			}
			if ctx.Err() != nil {
				return last, fmt.Errorf("publish for %q: %w", o, err)
			}
		}
	}
	return last, nil
}
