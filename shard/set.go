package shard

import (
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/internal/trie"
	"github.com/oneiric-go/oneiric/sequence"
)

// Shard counts.
const (
	// DefaultShards is used when no count is given: 64 shards keep the chance
	// that two writers of different domains share a lock low on machines with
	// tens of cores, and cost 4 KiB (one cache line a shard).
	DefaultShards = 64
	// MaxShards caps the count. Snapshot and Domains lock every shard they
	// read, so each shard costs them a lock and an unlock whether or not it
	// holds a domain. At 4096 shards two writers of different domains share
	// a lock with probability 1/4096; more shards would not measurably lower
	// contention but would keep slowing every operation over all domains.
	MaxShards = 4096
)

// Set is the registry's array of shards, a power of two long, with the batch
// mutex and the epoch that make multi-key writes atomic for readers (see the
// package doc). It is safe for concurrent use and must not be copied.
type Set struct {
	shards []Shard
	shift  uint                // 64 - log2(len(shards)): a domain's shard is hash >> shift
	hash   func(string) uint64 // domain hash replacing the seeded one, for tests; nil: strhash with seed
	seed   uint64              // random; seeds the domain and key hashes, so names cannot be chosen to collide
	seq    *sequence.Counter   // hands out every entry's sequence number

	limits  domain.Limits // fixed at NewSet
	notify  func(Change)  // called under a write's locks with each change; must not block; nil: none
	domainN atomic.Int64  // domains with keys: reserved before a domain is created, released after one is removed (a batch nets the two; see reserveDomains)

	batchMu   sync.Mutex                // serialises batches; lock order 1 (package doc)
	epoch     uint64                    // last batch epoch handed out; guarded by batchMu
	owners    map[string]map[Addr]Route // where each owner's entries may be; guarded by batchMu
	committed atomic.Uint64             // last batch epoch whose states are all published
}

// Addr is a (domain, key) pair: the key of a shard's key index.
type Addr struct{ Domain, Key string }

// Shard is one lock and the domains hashed to it.
type Shard struct {
	// mu is taken by every writer of this shard's domains and selections, and
	// by Snapshot and Domains; readers never take it, but for the fallback
	// of a domain read that keeps losing races with writers. Lock order 2
	// (package doc): with other shards, in ascending index.
	mu sync.Mutex
	// keys indexes every key of the shard's domains by (domain, key), for
	// Resolve: one probe from shard to key. Loaded and probed without a lock;
	// changed, or replaced by a larger copy, under mu when a key appears or
	// disappears (see [index]).
	keys atomic.Pointer[index]
	// domains indexes the table of each domain that has keys. Loaded and
	// probed without a lock; changed, or replaced by a new copy, under mu
	// when a domain appears or disappears (see [domainIndex]).
	domains atomic.Pointer[domainIndex]
	// sel holds the selections of this shard's domains: domain → key →
	// provider. Guarded by mu.
	sel map[string]map[string]string
	// sick holds the providers marked unhealthy: domain → key → provider →
	// true. Guarded by mu.
	sick map[string]map[string]map[string]bool

	_ [cacheLine - unsafe.Sizeof(sync.Mutex{}) - 4*unsafe.Sizeof(uintptr(0))]byte
}

// cacheLine is the size of a shard: one x86-64 or arm64 cache line, so that
// writers on neighbouring shards do not contend for the same line.
const cacheLine = 64

// table is one domain within its shard.
type table struct {
	// version is a sequence lock: writers (holding the shard's mu) make it
	// odd before they change any of the domain's keys and even after, so a
	// reader of several keys can tell whether it saw one version.
	version atomic.Uint64
	// keys maps the domain's keys to their slots. Loaded without a lock;
	// replaced under the shard's mu when a key appears or disappears.
	keys atomic.Pointer[trie.Map[string, *slot]]
	// view is the last View a reader built of a settled version, or nil.
	// Any reader stores it, without a lock; it is current while its
	// version equals version, as every change of the domain moves that.
	// A writer clears it as it moves the version (see table.keep).
	view atomic.Pointer[View]
	// name is the domain's, for its shard's domain index and listings; set
	// at creation.
	name string
}

// slot is the stable identity of one key, for writers and for listings:
// its bucket in the shard's current index holds the pointer to its state
// (see [index]). A slot outlives index rebuilds, which move it to a new
// bucket.
type slot struct {
	bkt  atomic.Pointer[bucket] // loaded without a lock; stored under the shard's mu; nil once removed
	hash uint64                 // the key's hash in the shard's index; set at creation
	addr Addr                   // the key; set at creation
}

// Option configures a Set.
type Option func(*Set)

// WithHash replaces the domain hash; tests use it to force every domain onto
// one shard or onto chosen shards.
func WithHash(h func(string) uint64) Option { return func(s *Set) { s.hash = h } }

// WithLimits bounds what the set holds; see [domain.Limits].
func WithLimits(l domain.Limits) Option { return func(s *Set) { s.limits = l } }

// WithNotify sets the function that receives every winner change while the
// write that made it still holds its locks, so that consumers see the
// changes of a key in order. It must not block or call back into the set:
// the registry's watch hub only appends to bounded buffers.
func WithNotify(f func(Change)) Option { return func(s *Set) { s.notify = f } }

// NewSet returns a Set of n shards (see [RoundShards]) that numbers entries
// with seq.
func NewSet(n int, seq *sequence.Counter, opts ...Option) *Set {
	n = RoundShards(n)
	s := &Set{shards: make([]Shard, n), shift: uint(64 - bits.TrailingZeros(uint(n))), seed: rand.Uint64(), seq: seq}
	for _, o := range opts {
		o(s)
	}
	return s
}

// RoundShards returns the shard count used for a requested n: [DefaultShards]
// for n <= 0, else n rounded up to a power of two and capped at [MaxShards].
func RoundShards(n int) int {
	switch {
	case n <= 0:
		return DefaultShards
	case n >= MaxShards:
		return MaxShards
	}
	return 1 << bits.Len(uint(n-1))
}

// Len returns the number of shards.
func (s *Set) Len() int { return len(s.shards) }

// Route is a domain's hash and shard index, computed once.
type Route struct {
	Domain string
	Hash   uint64
	Index  int
}

// Route hashes domain once and returns its shard. The hash is seeded per
// Set, so a domain's shard is chosen independently in each Set, and tenants
// cannot choose domain names that crowd one shard.
func (s *Set) Route(domain string) Route {
	h := s.domainHash(domain)
	return Route{Domain: domain, Hash: h, Index: int(h >> s.shift)}
}

// domainHash is the hash of a domain's name: seeded [strhash], or the hash
// [WithHash] gave.
func (s *Set) domainHash(domain string) uint64 {
	if s.hash == nil {
		return strhash(domain, s.seed)
	}
	return s.hash(domain)
}

// keyHash is the hash of a key of the domain whose hash is dh, in a shard's
// key index: the key's name hashed with the Set's seed mixed with dh, so
// that one key name hashes independently in each domain (unless a [WithHash]
// hook gives two domains one hash). strhash is the runtime's hash, AES-based
// where the CPU has AES instructions: the cheapest string hash on Resolve's
// path.
func (s *Set) keyHash(dh uint64, key string) uint64 {
	return strhash(key, s.seed^dh)
}
