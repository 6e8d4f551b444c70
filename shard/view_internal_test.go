package shard

import (
	"runtime"
	"strconv"
	"testing"
	"time"
	"weak"

	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/sequence"
)

// register adds a candidate of priority prio to adapter/key.
func register(t *testing.T, s *Set, key, provider string, prio int) *domain.Entry {
	t.Helper()
	d, err := domain.Prepare(domain.Candidate{Domain: "adapter", Key: key, Provider: provider, Priority: new(prio)}, 0, "")
	require.NoError(t, err)
	e, _, err := s.Register(s.Route("adapter"), d)
	require.NoError(t, err)
	return e
}

// providersOf renders a listing as providers.
func providersOf(es []*domain.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Provider()
	}
	return out
}

// TestViewCacheFollowsVersion checks that a domain's cached View is reused
// only while its version stands: every write replaces it, and the cached
// winners are copied out, not shared.
func TestViewCacheFollowsVersion(t *testing.T) {
	s := NewSet(4, new(sequence.Counter))
	r := s.Route("adapter")
	register(t, s, "cache", "redis", 5)
	register(t, s, "queue", "nats", 5)

	v1 := s.View(r)
	require.Same(t, v1, s.View(r), "a second read of the same version reuses the View")
	got := v1.Active()
	require.Equal(t, []string{"redis", "nats"}, providersOf(got))
	got[0] = nil
	require.Equal(t, []string{"redis", "nats"}, providersOf(s.View(r).Active()), "Active returns a copy")

	register(t, s, "cache", "memcached", 9)
	v2 := s.View(r)
	require.NotSame(t, v1, v2)
	require.Equal(t, []string{"memcached", "nats"}, providersOf(v2.Active()))
	require.Equal(t, []string{"redis", "nats"}, providersOf(v1.Active()), "an old View keeps its version")
}

// TestViewCacheSkipsUncommittedBatch publishes a state the way a batch does
// (with an epoch not yet committed) and checks that a View read before the
// commit shows the previous state and is not cached, so that the first read
// after the commit, at the same table version, shows the new one.
func TestViewCacheSkipsUncommittedBatch(t *testing.T) {
	s := NewSet(4, new(sequence.Counter))
	r := s.Route("adapter")
	register(t, s, "cache", "redis", 5)
	require.Equal(t, []string{"redis"}, providersOf(s.View(r).Active()))

	d, err := domain.Prepare(domain.Candidate{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(9)}, 0, "")
	require.NoError(t, err)
	e := d.Finish(s.seq.Next(), time.Now())

	s.lock(r.Index)
	t0, sl := s.keyLocked(r, "cache")
	old := sl.load()
	next := old.insert(e, old.Policy)
	next.epoch, next.prev = s.committed.Load()+1, old
	s.installLocked(r, t0, sl, "cache", next)
	s.unlock(r.Index)

	require.Equal(t, []string{"redis"}, providersOf(s.View(r).Active()), "before the commit")
	require.Nil(t, t0.cached(t0.version.Load()), "a View with an uncommitted state is not cached")

	s.committed.Store(next.epoch)
	require.Equal(t, []string{"memcached"}, providersOf(s.View(r).Active()), "after the commit")
	require.NotNil(t, t0.cached(t0.version.Load()), "a settled View is cached")
}

// TestViewReadsOnlyItsDomain pins what makes a listing cost in proportion to
// its domain: a domain's table holds its own keys and no other's, even when
// a large domain shares its shard, and a View is built from that table
// alone (registry's TestListingCostIsPerDomain checks the allocations; a
// listing that scanned the shard and filtered would allocate the same).
func TestViewReadsOnlyItsDomain(t *testing.T) {
	s := NewSet(1, new(sequence.Counter)) // one shard: every domain shares it
	add := func(dom, key string) {
		d, err := domain.Prepare(domain.Candidate{Domain: dom, Key: key, Provider: "p"}, 0, "")
		require.NoError(t, err)
		_, _, err = s.Register(s.Route(dom), d)
		require.NoError(t, err)
	}
	add("small", "cache")
	add("small", "queue")
	for i := range 2000 {
		add("large", "key-"+strconv.Itoa(i))
	}
	r := s.Route("small")
	tb := s.shards[r.Index].domains.Load().get(r.Hash, r.Domain)
	require.NotNil(t, tb)
	require.Equal(t, 2, tb.keys.Load().Len(), "the small domain's table holds its two keys only")
	states, settled := tb.states(s.committed.Load())
	require.True(t, settled)
	require.Len(t, states, 2, "a View of the small domain reads two states")
	require.Equal(t, 2, s.View(r).Len())
}

// TestStaleViewReleasesItsStates: a cached View that a write has made stale
// does not keep the states it holds, and their entries, alive until the
// domain is listed again: an unregistered entry is collected at once.
func TestStaleViewReleasesItsStates(t *testing.T) {
	s := NewSet(4, new(sequence.Counter))
	r := s.Route("adapter")
	gone := weak.Make(register(t, s, "cache", "redis", 5))
	register(t, s, "queue", "nats", 5)
	require.Equal(t, 2, s.View(r).Len(), "a listing caches the domain's View")
	n, _ := s.Unregister(r, "cache", "redis")
	require.Equal(t, 1, n)
	for i := 0; i < 10 && gone.Value() != nil; i++ {
		runtime.GC()
	}
	require.Nil(t, gone.Value(), "the unregistered entry is still reachable")
	require.Equal(t, 1, s.View(r).Len())
	runtime.KeepAlive(s)
}
