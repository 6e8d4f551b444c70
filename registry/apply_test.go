package registry_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
)

// The tests of issue 5 (Apply, domain handles, limits, watch, health,
// decision hooks) share the helpers below; their names start with i5.

// i5C returns a candidate with an explicit priority.
func i5C(dom, key, provider string, prio int) registry.Candidate {
	return registry.Candidate{Domain: dom, Key: key, Provider: provider, Priority: new(prio)}
}

// i5Label names an entry by address, provider and priority: what the tests'
// expectations are written in.
func i5Label(e *registry.Entry) string {
	return fmt.Sprintf("%s/%s/%s:%d", e.Domain(), e.Key(), e.Provider(), e.Priority())
}

// i5LabelOrNone is i5Label, with "none" for nil, and the sequence number.
func i5LabelOrNone(e *registry.Entry) string {
	if e == nil {
		return "none"
	}
	return fmt.Sprintf("%s#%d", i5Label(e), e.Sequence())
}

// i5Labels returns the labels of es, in order.
func i5Labels(es []*registry.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = i5Label(e)
	}
	return out
}

// i5Dump describes everything r holds, domain by domain and key by key, each
// key's candidates in rank order with sequence number and owner. Two equal
// dumps mean nothing changed in between.
func i5Dump(r *registry.Registry) []string {
	s := r.Snapshot()
	var out []string
	for _, d := range s.Domains() {
		for _, a := range s.ListActive(d) {
			var b strings.Builder
			fmt.Fprintf(&b, "%s/%s:", d, a.Key())
			for _, rk := range s.Explain(d, a.Key()).Ordered {
				fmt.Fprintf(&b, " %s#%d[%s]p%d", rk.Entry.Provider(), rk.Entry.Sequence(), rk.Entry.Owner(), rk.Entry.Priority())
			}
			out = append(out, b.String())
		}
	}
	return out
}

// i5NextSeq registers a probe candidate in a domain of its own and returns
// its sequence number: one more than the last one handed out before. It
// changes r, so tests call it last.
func i5NextSeq(t *testing.T, r *registry.Registry) uint64 {
	t.Helper()
	e, err := r.Register(registry.Candidate{Domain: "zz-probe", Key: "probe", Provider: "probe"})
	require.NoError(t, err)
	return e.Sequence()
}

// i5Register registers c and fails the test if that fails.
func i5Register(t *testing.T, r *registry.Registry, c registry.Candidate) *registry.Entry {
	t.Helper()
	e, err := r.Register(c)
	require.NoError(t, err)
	return e
}

// i5Apply applies cs for owner and fails the test if that fails.
func i5Apply(t *testing.T, r *registry.Registry, owner string, cs []registry.Candidate) registry.ApplyResult {
	t.Helper()
	res, err := r.Apply(owner, cs)
	require.NoError(t, err)
	return res
}

// i5SpreadDomains returns n domain names that r puts on n different shards,
// and checks that it does.
func i5SpreadDomains(t *testing.T, r *registry.Registry, n int) []string {
	t.Helper()
	var out []string
	seen := map[int]bool{}
	for i := 0; len(out) < n && i < 1000; i++ {
		d := fmt.Sprintf("tenant-%d", i)
		if s := registry.ShardOf(r, d); !seen[s] {
			seen[s] = true
			out = append(out, d)
		}
	}
	require.Len(t, out, n, "need %d domains on different shards", n)
	shards := map[int]bool{}
	for _, d := range out {
		shards[registry.ShardOf(r, d)] = true
	}
	require.Len(t, shards, n, "the domains must be on %d different shards", n)
	return out
}

// i5Watchdog fails the test, from the test goroutine, if done is not closed
// within limit: the sign of a deadlock or of a writer blocked by a watcher.
func i5Watchdog(t *testing.T, limit time.Duration, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("%s did not finish within %v: deadlock or blocked writer", what, limit)
	}
}

// i5Go runs f in a goroutine and waits for it under a watchdog of several
// seconds.
func i5Go(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	i5Watchdog(t, 10*time.Second, done, what)
}

// TestApplyResult: Apply makes the owner's set equal to the candidates given;
// unchanged candidates keep their *Entry and sequence number, those no longer
// present are removed, new or changed ones are added, and ApplyResult says
// exactly which.
func TestApplyResult(t *testing.T) {
	base := []registry.Candidate{
		i5C("adapter", "cache", "redis", 20),
		i5C("adapter", "cache", "memcached", 10),
		i5C("adapter", "queue", "nats", 5),
		i5C("service", "mail", "smtp", 1),
	}
	tests := []struct {
		name                 string
		next                 []registry.Candidate
		added, kept, removed []string
		wantActive           map[string]string // "domain/key" → provider
	}{
		{
			name:       "same set again keeps everything",
			next:       base,
			kept:       []string{"adapter/cache/redis:20", "adapter/cache/memcached:10", "adapter/queue/nats:5", "service/mail/smtp:1"},
			wantActive: map[string]string{"adapter/cache": "redis", "adapter/queue": "nats", "service/mail": "smtp"},
		},
		{
			name:       "same set reordered keeps everything",
			next:       []registry.Candidate{base[3], base[2], base[1], base[0]},
			kept:       []string{"service/mail/smtp:1", "adapter/queue/nats:5", "adapter/cache/memcached:10", "adapter/cache/redis:20"},
			wantActive: map[string]string{"adapter/cache": "redis", "adapter/queue": "nats", "service/mail": "smtp"},
		},
		{
			name:       "a changed candidate is removed and added",
			next:       []registry.Candidate{base[0], i5C("adapter", "cache", "memcached", 30), base[2], base[3]},
			added:      []string{"adapter/cache/memcached:30"},
			kept:       []string{"adapter/cache/redis:20", "adapter/queue/nats:5", "service/mail/smtp:1"},
			removed:    []string{"adapter/cache/memcached:10"},
			wantActive: map[string]string{"adapter/cache": "memcached", "adapter/queue": "nats", "service/mail": "smtp"},
		},
		{
			name:       "a candidate no longer given is removed",
			next:       []registry.Candidate{base[1], base[2], base[3]},
			kept:       []string{"adapter/cache/memcached:10", "adapter/queue/nats:5", "service/mail/smtp:1"},
			removed:    []string{"adapter/cache/redis:20"},
			wantActive: map[string]string{"adapter/cache": "memcached", "adapter/queue": "nats", "service/mail": "smtp"},
		},
		{
			name:       "new candidates are added",
			next:       append(slices.Clone(base), i5C("adapter", "cache", "valkey", 25), i5C("task", "cron", "tick", 0)),
			added:      []string{"adapter/cache/valkey:25", "task/cron/tick:0"},
			kept:       []string{"adapter/cache/redis:20", "adapter/cache/memcached:10", "adapter/queue/nats:5", "service/mail/smtp:1"},
			wantActive: map[string]string{"adapter/cache": "valkey", "adapter/queue": "nats", "service/mail": "smtp", "task/cron": "tick"},
		},
		{
			name:       "every candidate replaced",
			next:       []registry.Candidate{i5C("event", "bus", "kafka", 1)},
			added:      []string{"event/bus/kafka:1"},
			removed:    []string{"adapter/cache/redis:20", "adapter/cache/memcached:10", "adapter/queue/nats:5", "service/mail/smtp:1"},
			wantActive: map[string]string{"event/bus": "kafka"},
		},
		{
			name:       "an empty set removes everything",
			next:       nil,
			removed:    []string{"adapter/cache/redis:20", "adapter/cache/memcached:10", "adapter/queue/nats:5", "service/mail/smtp:1"},
			wantActive: map[string]string{},
		},
		{
			name:       "a duplicate candidate is added once more",
			next:       append(slices.Clone(base), base[2]),
			added:      []string{"adapter/queue/nats:5"},
			kept:       []string{"adapter/cache/redis:20", "adapter/cache/memcached:10", "adapter/queue/nats:5", "service/mail/smtp:1"},
			wantActive: map[string]string{"adapter/cache": "redis", "adapter/queue": "nats", "service/mail": "smtp"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			first := i5Apply(t, r, "loader", base)
			require.Equal(t, []string{"adapter/cache/redis:20", "adapter/cache/memcached:10", "adapter/queue/nats:5", "service/mail/smtp:1"}, i5Labels(first.Added))
			require.Empty(t, first.Kept)
			require.Empty(t, first.Removed)
			before := map[string]*registry.Entry{}
			for _, e := range first.Added {
				before[i5Label(e)] = e
			}

			res := i5Apply(t, r, "loader", tt.next)
			for name, l := range map[string][]*registry.Entry{"added": res.Added, "kept": res.Kept, "removed": res.Removed} {
				if len(l) == 0 {
					assert.Nil(t, l, "an empty list is nil: %s", name)
				}
			}
			assert.Equal(t, tt.added, nilIfEmpty(i5Labels(res.Added)), "added")
			assert.Equal(t, tt.kept, nilIfEmpty(i5Labels(res.Kept)), "kept, in the order given")
			assert.ElementsMatch(t, tt.removed, i5Labels(res.Removed), "removed")
			for _, e := range res.Kept {
				assert.Same(t, before[i5Label(e)], e, "a kept candidate keeps its entry (and so its sequence number)")
			}
			for _, e := range res.Removed {
				assert.Same(t, before[i5Label(e)], e, "removed entries are the ones registered before")
			}
			for i, e := range res.Added {
				assert.Equal(t, uint64(5+i), e.Sequence(), "added entries get consecutive sequence numbers in the order given")
				assert.Equal(t, "loader", e.Owner())
			}

			active := map[string]string{}
			for _, d := range r.Domains() {
				for _, e := range r.ListActive(d) {
					active[d+"/"+e.Key()] = e.Provider()
				}
			}
			assert.Equal(t, tt.wantActive, active)
			for _, e := range res.Removed {
				for _, rk := range r.Explain(e.Domain(), e.Key()).Ordered {
					assert.NotSame(t, e, rk.Entry, "a removed entry is gone")
				}
			}
			n := 0
			for _, d := range r.Domains() {
				n += len(r.ListActive(d)) + len(r.ListShadowed(d))
			}
			assert.Equal(t, len(res.Added)+len(res.Kept), n, "the registry holds exactly the owner's new set")
			assert.Equal(t, uint64(5+len(res.Added)), i5NextSeq(t, r), "only added candidates consumed sequence numbers")
		})
	}
}

// nilIfEmpty returns nil for an empty slice, so that expectations can leave
// a field out.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// TestApplySequencesInOrderGiven: new and changed candidates get consecutive
// sequence numbers in the order cs gives them, whatever their domains, with
// kept ones interleaved; ApplyResult.Added is in that order.
func TestApplySequencesInOrderGiven(t *testing.T) {
	r := registry.New(registry.WithShards(8))
	doms := i5SpreadDomains(t, r, 3)
	i5Apply(t, r, "loader", []registry.Candidate{i5C(doms[1], "kept", "k", 1)})
	i5Register(t, r, i5C("other", "x", "plain", 1)) // sequence 2, not the owner's
	cs := []registry.Candidate{
		i5C(doms[2], "z", "p", 1),
		i5C(doms[1], "kept", "k", 1),
		i5C(doms[0], "a", "p", 1),
		i5C(doms[2], "b", "p", 1),
		i5C(doms[1], "a", "p", 1),
	}
	res := i5Apply(t, r, "loader", cs)
	require.Len(t, res.Kept, 1)
	assert.Equal(t, uint64(1), res.Kept[0].Sequence())
	assert.Equal(t, []string{
		doms[2] + "/z/p:1", doms[0] + "/a/p:1", doms[2] + "/b/p:1", doms[1] + "/a/p:1",
	}, i5Labels(res.Added))
	for i, e := range res.Added {
		assert.Equal(t, uint64(3+i), e.Sequence(), "entry %d", i)
	}
	assert.Equal(t, uint64(7), i5NextSeq(t, r))
}

// TestApplyRecordsOwner: Entry.Owner is the owner that applied the entry, and
// "" for entries of Register and RegisterPackage.
func TestApplyRecordsOwner(t *testing.T) {
	tests := []struct {
		name string
		add  func(r *registry.Registry) ([]*registry.Entry, error)
		want string
	}{
		{"Register has no owner", func(r *registry.Registry) ([]*registry.Entry, error) {
			e, err := r.Register(i5C("adapter", "cache", "redis", 1))
			return []*registry.Entry{e}, err
		}, ""},
		{"RegisterPackage has no owner", func(r *registry.Registry) ([]*registry.Entry, error) {
			return r.RegisterPackage("pkg", "/app/x.py", []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("service", "mail", "smtp", 1)}, nil)
		}, ""},
		{"a handle's Register has no owner", func(r *registry.Registry) ([]*registry.Entry, error) {
			e, err := r.Domain("adapter").Register(i5C("", "cache", "redis", 1))
			return []*registry.Entry{e}, err
		}, ""},
		{"Apply records its owner", func(r *registry.Registry) ([]*registry.Entry, error) {
			res, err := r.Apply("plugins/loader", []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("service", "mail", "smtp", 1)})
			return res.Added, err
		}, "plugins/loader"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			es, err := tt.add(r)
			require.NoError(t, err)
			require.NotEmpty(t, es)
			for _, e := range es {
				assert.Equal(t, tt.want, e.Owner(), "returned entry")
				got, ok := r.Resolve(e.Domain(), e.Key())
				require.True(t, ok)
				assert.Equal(t, tt.want, got.Owner(), "stored entry")
			}
		})
	}
}

// TestApplyRejectsInvalid: one bad candidate, or a bad owner, rejects the
// whole call with an error matching ErrInvalidCandidate; nothing changes
// (the owner's earlier set stays) and no sequence number is consumed.
func TestApplyRejectsInvalid(t *testing.T) {
	good := []registry.Candidate{i5C("adapter", "cache", "valkey", 1), i5C("service", "mail", "ses", 1)}
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	with := func(bad registry.Candidate, at int) []registry.Candidate {
		return slices.Insert(slices.Clone(good), at, bad)
	}
	tests := []struct {
		name  string
		owner string
		cs    []registry.Candidate
	}{
		{"empty domain first", "loader", with(registry.Candidate{Key: "cache", Provider: "x"}, 0)},
		{"empty key in the middle", "loader", with(registry.Candidate{Domain: "adapter", Provider: "x"}, 1)},
		{"control character last", "loader", with(registry.Candidate{Domain: "adapter", Key: "ca\nche", Provider: "x"}, 2)},
		{"provider too long", "loader", with(registry.Candidate{Domain: "adapter", Key: "cache", Provider: strings.Repeat("p", 257)}, 1)},
		{"invalid UTF-8", "loader", with(registry.Candidate{Domain: "adapter\xff", Key: "cache"}, 0)},
		{"unknown source", "loader", with(registry.Candidate{Domain: "adapter", Key: "cache", Source: registry.Source(200)}, 2)},
		{"metadata cycle", "loader", with(registry.Candidate{Domain: "adapter", Key: "cache", Metadata: cyclic}, 1)},
		{"empty owner", "", good},
		{"empty owner, empty set", "", nil},
		{"owner with a control character", "load\x00er", good},
		{"owner too long", strings.Repeat("o", 257), good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var decisions atomic.Int64
			r := registry.New(registry.WithDecisionHook(func(registry.Decision) { decisions.Add(1) }))
			i5Apply(t, r, "loader", []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("task", "cron", "tick", 1)})
			i5Register(t, r, i5C("adapter", "cache", "plain", 0))
			dump, hooked := i5Dump(r), decisions.Load()

			res, err := r.Apply(tt.owner, tt.cs)
			require.Error(t, err)
			assert.ErrorIs(t, err, registry.ErrInvalidCandidate)
			assert.Equal(t, registry.ApplyResult{}, res)
			assert.Equal(t, dump, i5Dump(r), "nothing changes")
			assert.Equal(t, hooked, decisions.Load(), "no winner changed")
			assert.Equal(t, uint64(4), i5NextSeq(t, r), "no sequence number consumed")
		})
	}
}

// TestApplyAcrossDomains: one Apply spans domains on different shards, adds
// and removes in all of them, and a domain it empties leaves Domains().
func TestApplyAcrossDomains(t *testing.T) {
	r := registry.New(registry.WithShards(8))
	d := i5SpreadDomains(t, r, 4)
	res := i5Apply(t, r, "tenant-host", []registry.Candidate{
		i5C(d[0], "cache", "redis", 1), i5C(d[1], "cache", "redis", 1),
		i5C(d[2], "queue", "nats", 1), i5C(d[3], "store", "s3", 1),
	})
	require.Len(t, res.Added, 4)
	assert.Equal(t, sortedCopy(d), r.Domains())

	res = i5Apply(t, r, "tenant-host", []registry.Candidate{
		i5C(d[0], "cache", "redis", 1), // kept
		i5C(d[2], "queue", "kafka", 1), // replaces nats
		i5C(d[2], "mail", "smtp", 1),   // new key
	})
	assert.Equal(t, []string{d[2] + "/queue/kafka:1", d[2] + "/mail/smtp:1"}, i5Labels(res.Added))
	assert.Equal(t, []string{d[0] + "/cache/redis:1"}, i5Labels(res.Kept))
	assert.ElementsMatch(t, []string{d[1] + "/cache/redis:1", d[2] + "/queue/nats:1", d[3] + "/store/s3:1"}, i5Labels(res.Removed))
	assert.Equal(t, sortedCopy([]string{d[0], d[2]}), r.Domains(), "emptied domains are no longer listed")
	assert.Empty(t, r.ListActive(d[1]))
	assert.Empty(t, r.ListActive(d[3]))
	assert.Equal(t, []string{d[2] + "/mail/smtp:1", d[2] + "/queue/kafka:1"}, i5Labels(r.ListActive(d[2])))
	assert.Equal(t, 3, r.Snapshot().Len())
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestApplyEmptiesKeysAndDomains: a key Apply leaves without candidates
// disappears from listings, a domain without keys from Domains(), and
// candidates of other owners keep keys and domains alive.
func TestApplyEmptiesKeysAndDomains(t *testing.T) {
	tests := []struct {
		name        string
		others      []registry.Candidate // registered by plain Register
		first, next []registry.Candidate
		wantDomains []string
		wantActive  map[string][]string // domain → active labels
	}{
		{
			name:        "an empty set empties everything",
			first:       []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("adapter", "queue", "nats", 1), i5C("service", "mail", "smtp", 1)},
			next:        nil,
			wantDomains: []string{},
			wantActive:  map[string][]string{"adapter": nil, "service": nil},
		},
		{
			name:        "one key emptied, its domain kept",
			first:       []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("adapter", "queue", "nats", 1)},
			next:        []registry.Candidate{i5C("adapter", "queue", "nats", 1)},
			wantDomains: []string{"adapter"},
			wantActive:  map[string][]string{"adapter": {"adapter/queue/nats:1"}},
		},
		{
			name:        "one domain emptied, another kept",
			first:       []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("service", "mail", "smtp", 1)},
			next:        []registry.Candidate{i5C("service", "mail", "smtp", 1)},
			wantDomains: []string{"service"},
			wantActive:  map[string][]string{"adapter": nil, "service": {"service/mail/smtp:1"}},
		},
		{
			name:        "only key of a domain emptied in a single-key apply",
			first:       []registry.Candidate{i5C("adapter", "cache", "redis", 1)},
			next:        []registry.Candidate{},
			wantDomains: []string{},
			wantActive:  map[string][]string{"adapter": nil},
		},
		{
			name:        "another owner's candidate keeps the key",
			others:      []registry.Candidate{i5C("adapter", "cache", "memcached", 0)},
			first:       []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("service", "mail", "smtp", 1)},
			next:        nil,
			wantDomains: []string{"adapter"},
			wantActive:  map[string][]string{"adapter": {"adapter/cache/memcached:0"}, "service": nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			for _, c := range tt.others {
				i5Register(t, r, c)
			}
			i5Apply(t, r, "loader", tt.first)
			i5Apply(t, r, "loader", tt.next)
			assert.Equal(t, tt.wantDomains, r.Domains())
			assert.Equal(t, tt.wantDomains, r.Snapshot().Domains())
			for d, want := range tt.wantActive {
				assert.Equal(t, want, nilIfEmpty(i5Labels(r.ListActive(d))), "ListActive(%s)", d)
				assert.Equal(t, want, nilIfEmpty(i5Labels(r.Snapshot().ListActive(d))), "Snapshot().ListActive(%s)", d)
				assert.Empty(t, r.ListShadowed(d))
			}
			_, ok := r.Resolve("adapter", "cache")
			assert.Equal(t, len(tt.others) > 0, ok)
			// The emptied keys and domains come back when applied again.
			res := i5Apply(t, r, "loader", tt.first)
			assert.Len(t, res.Added, len(tt.first)-len(tt.next))
			for _, c := range tt.first {
				_, ok := r.Resolve(c.Domain, c.Key)
				assert.True(t, ok, "%s/%s is back", c.Domain, c.Key)
			}
		})
	}
}

// TestApplyOwnersIndependent: two owners (and plain Register) with candidates
// on the same key do not disturb each other: Apply replaces only its own
// owner's entries.
func TestApplyOwnersIndependent(t *testing.T) {
	r := registry.New()
	plain := i5Register(t, r, i5C("adapter", "cache", "builtin", 0))
	i5Apply(t, r, "owner-a", []registry.Candidate{i5C("adapter", "cache", "redis", 10), i5C("adapter", "queue", "nats", 1)})
	b := i5Apply(t, r, "owner-b", []registry.Candidate{i5C("adapter", "cache", "redis", 10), i5C("adapter", "cache", "memcached", 5)})
	require.Len(t, b.Added, 2, "an equal candidate of another owner is not the same candidate")
	assert.Equal(t, 5, r.Snapshot().Len())

	steps := []struct {
		name                 string
		owner                string
		cs                   []registry.Candidate
		added, kept, removed []string
		wantCache            []string // ranked labels of adapter/cache
	}{
		{
			name: "owner a changes its candidate", owner: "owner-a",
			cs:        []registry.Candidate{i5C("adapter", "cache", "redis", 30), i5C("adapter", "queue", "nats", 1)},
			added:     []string{"adapter/cache/redis:30"},
			kept:      []string{"adapter/queue/nats:1"},
			removed:   []string{"adapter/cache/redis:10"},
			wantCache: []string{"adapter/cache/redis:30", "adapter/cache/redis:10", "adapter/cache/memcached:5", "adapter/cache/builtin:0"},
		},
		{
			name: "owner b reapplies and keeps everything", owner: "owner-b",
			cs:        []registry.Candidate{i5C("adapter", "cache", "redis", 10), i5C("adapter", "cache", "memcached", 5)},
			kept:      []string{"adapter/cache/redis:10", "adapter/cache/memcached:5"},
			wantCache: []string{"adapter/cache/redis:30", "adapter/cache/redis:10", "adapter/cache/memcached:5", "adapter/cache/builtin:0"},
		},
		{
			name: "owner a empties its set", owner: "owner-a",
			removed:   []string{"adapter/cache/redis:30", "adapter/queue/nats:1"},
			wantCache: []string{"adapter/cache/redis:10", "adapter/cache/memcached:5", "adapter/cache/builtin:0"},
		},
		{
			name: "owner b empties its set", owner: "owner-b",
			removed:   []string{"adapter/cache/redis:10", "adapter/cache/memcached:5"},
			wantCache: []string{"adapter/cache/builtin:0"},
		},
	}
	bEntries := map[string]*registry.Entry{}
	for _, e := range b.Added {
		bEntries[i5Label(e)] = e
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			res := i5Apply(t, r, st.owner, st.cs)
			assert.Equal(t, st.added, nilIfEmpty(i5Labels(res.Added)))
			assert.Equal(t, st.kept, nilIfEmpty(i5Labels(res.Kept)))
			assert.ElementsMatch(t, st.removed, i5Labels(res.Removed))
			for _, e := range append(res.Kept, res.Removed...) {
				assert.Equal(t, st.owner, e.Owner(), "only the owner's entries are kept or removed")
			}
			ranked := semRanked(r.Explain("adapter", "cache"))
			assert.Equal(t, st.wantCache, i5Labels(ranked))
			for _, e := range ranked {
				if e.Owner() == "owner-b" && st.owner != "owner-b" {
					assert.Same(t, bEntries[i5Label(e)], e, "the other owner's entries are untouched")
				}
			}
			assert.Contains(t, ranked, plain, "the plain entry is untouched")
		})
	}
}

// TestApplyWithUnregister: Unregister removes owned entries like any other;
// the next Apply re-adds what the owner still wants and does not report as
// removed what Unregister already took.
func TestApplyWithUnregister(t *testing.T) {
	set := []registry.Candidate{i5C("adapter", "cache", "redis", 2), i5C("adapter", "cache", "memcached", 1), i5C("service", "mail", "smtp", 1)}
	tests := []struct {
		name                 string
		plain                []registry.Candidate
		unregister           [][3]string
		wantUnregistered     []int
		next                 []registry.Candidate
		added, kept, removed []string
		wantDomains          []string
	}{
		{
			name:             "an unregistered entry still in the set is added again",
			unregister:       [][3]string{{"adapter", "cache", "redis"}},
			wantUnregistered: []int{1},
			next:             set,
			added:            []string{"adapter/cache/redis:2"},
			kept:             []string{"adapter/cache/memcached:1", "service/mail/smtp:1"},
			wantDomains:      []string{"adapter", "service"},
		},
		{
			name:             "an unregistered entry no longer in the set is not reported removed",
			unregister:       [][3]string{{"adapter", "cache", "redis"}},
			wantUnregistered: []int{1},
			next:             set[1:],
			kept:             []string{"adapter/cache/memcached:1", "service/mail/smtp:1"},
			wantDomains:      []string{"adapter", "service"},
		},
		{
			name:             "unregister removes owned and plain candidates of the provider",
			plain:            []registry.Candidate{i5C("adapter", "cache", "redis", 9)},
			unregister:       [][3]string{{"adapter", "cache", "redis"}},
			wantUnregistered: []int{2},
			next:             set,
			added:            []string{"adapter/cache/redis:2"},
			kept:             []string{"adapter/cache/memcached:1", "service/mail/smtp:1"},
			wantDomains:      []string{"adapter", "service"},
		},
		{
			name:             "a domain emptied by unregister comes back",
			unregister:       [][3]string{{"service", "mail", "smtp"}},
			wantUnregistered: []int{1},
			next:             set,
			added:            []string{"service/mail/smtp:1"},
			kept:             []string{"adapter/cache/redis:2", "adapter/cache/memcached:1"},
			wantDomains:      []string{"adapter", "service"},
		},
		{
			name:             "everything unregistered, then an empty set",
			unregister:       [][3]string{{"adapter", "cache", "redis"}, {"adapter", "cache", "memcached"}, {"service", "mail", "smtp"}},
			wantUnregistered: []int{1, 1, 1},
			next:             nil,
			wantDomains:      []string{},
		},
		{
			name:             "partly unregistered, then removed by Apply",
			unregister:       [][3]string{{"adapter", "cache", "memcached"}},
			wantUnregistered: []int{1},
			next:             nil,
			removed:          []string{"adapter/cache/redis:2", "service/mail/smtp:1"},
			wantDomains:      []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			for _, c := range tt.plain {
				i5Register(t, r, c)
			}
			i5Apply(t, r, "loader", set)
			for i, u := range tt.unregister {
				assert.Equal(t, tt.wantUnregistered[i], r.Unregister(u[0], u[1], u[2]), "Unregister(%v)", u)
			}
			res := i5Apply(t, r, "loader", tt.next)
			assert.Equal(t, tt.added, nilIfEmpty(i5Labels(res.Added)))
			assert.Equal(t, tt.kept, nilIfEmpty(i5Labels(res.Kept)))
			assert.ElementsMatch(t, tt.removed, i5Labels(res.Removed))
			assert.Equal(t, tt.wantDomains, r.Domains())
			again := i5Apply(t, r, "loader", tt.next)
			assert.Empty(t, again.Added, "a second Apply of the same set changes nothing")
			assert.Empty(t, again.Removed)
		})
	}
}

// TestApplyConcurrentNeverMixed: one goroutine alternates Apply(owner, A)
// and Apply(owner, B) over domains on different shards, every key differing
// between A and B and every Apply carrying its version in the metadata;
// readers using Resolve, ListActive, Explain and Snapshot, and a watcher,
// must never see a half-applied Apply. Linearizability gives each reader a
// checkable rule: the versions it observes never decrease, one Snapshot,
// ListActive or Explain shows one version, and a version is never seen
// before its Apply started.
func TestApplyConcurrentNeverMixed(t *testing.T) {
	applies := 3000
	if raceEnabled {
		applies = 1000
	}
	r := registry.New(registry.WithShards(8))
	doms := i5SpreadDomains(t, r, 3)
	keys := []string{"cache", "queue", "store"}
	setOf := func(v int) string {
		if v%2 == 1 {
			return "A"
		}
		return "B"
	}
	// expected returns, for version v, the keys of each domain: every key of
	// keys in each domain, plus "only-a" in doms[0] in set A and "only-b" in
	// doms[1] in set B, so that keys also appear and disappear.
	expected := func(v int) map[string][]string {
		m := map[string][]string{}
		for _, d := range doms {
			m[d] = slices.Clone(keys)
		}
		if setOf(v) == "A" {
			m[doms[0]] = append(m[doms[0]], "only-a")
		} else {
			m[doms[1]] = append(m[doms[1]], "only-b")
		}
		for _, ks := range m {
			slices.Sort(ks)
		}
		return m
	}
	build := func(v int) []registry.Candidate {
		var cs []registry.Candidate
		set := setOf(v)
		for _, d := range doms {
			for _, k := range expected(v)[d] {
				for _, p := range []struct {
					name string
					prio int
				}{{"primary", 20}, {"backup", 10}} {
					cs = append(cs, registry.Candidate{
						Domain: d, Key: k, Provider: set + "-" + p.name, Priority: new(p.prio),
						Metadata: map[string]any{"set": set, "v": v},
					})
				}
			}
		}
		return cs
	}

	var started atomic.Int64 // the version of the latest Apply begun
	started.Store(1)
	first := i5Apply(t, r, "loader", build(1))
	require.Len(t, first.Added, 20)

	// version reads an entry's version and checks that its set matches.
	version := func(e *registry.Entry) (int, error) {
		v, _ := e.Meta("v")
		s, _ := e.Meta("set")
		n, ok := v.(int)
		if !ok || s != setOf(n) || !strings.HasPrefix(e.Provider(), setOf(n)+"-") {
			return 0, fmt.Errorf("entry %s has v=%v set=%v", i5Label(e), v, s)
		}
		return n, nil
	}
	type reader struct {
		lb  int // the lowest version this reader may still see
		err error
	}
	// see records that a reader observed version v.
	see := func(rd *reader, v int, what string) {
		if rd.err != nil {
			return
		}
		if v < rd.lb {
			rd.err = fmt.Errorf("%s: saw version %d after version %d", what, v, rd.lb)
			return
		}
		if s := int(started.Load()); v > s {
			rd.err = fmt.Errorf("%s: saw version %d before its Apply started (latest %d)", what, v, s)
			return
		}
		rd.lb = v
	}
	// sameVersion checks that es all carry one version, and returns it.
	sameVersion := func(es []*registry.Entry, what string) (int, error) {
		v := -1
		for _, e := range es {
			n, err := version(e)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", what, err)
			}
			if v >= 0 && n != v {
				return 0, fmt.Errorf("%s: a mix of versions %d and %d: %v", what, v, n, i5Labels(es))
			}
			v = n
		}
		return v, nil
	}
	ops := []func(rd *reader, i int){
		// One Snapshot, of all domains or of some in any order: one version,
		// exactly its keys, winners and shadowed candidates.
		func(rd *reader, i int) {
			var s *registry.Snapshot
			if i%3 == 0 {
				s = r.Snapshot()
			} else {
				s = r.Snapshot(doms[2], doms[0], doms[1])
			}
			var all []*registry.Entry
			for _, d := range doms {
				all = append(all, s.ListActive(d)...)
				all = append(all, s.ListShadowed(d)...)
			}
			v, err := sameVersion(all, "Snapshot")
			if err != nil {
				rd.err = err
				return
			}
			want := expected(v)
			for _, d := range doms {
				var ks []string
				for _, e := range s.ListActive(d) {
					ks = append(ks, e.Key())
					if !strings.HasSuffix(e.Provider(), "-primary") {
						rd.err = fmt.Errorf("Snapshot: the winner of %s/%s is %s", d, e.Key(), e.Provider())
					}
				}
				if !slices.Equal(ks, want[d]) {
					rd.err = fmt.Errorf("Snapshot of version %d: keys of %s are %v, want %v", v, d, ks, want[d])
				}
			}
			if n := s.Len(); n != 2*(len(want[doms[0]])+len(want[doms[1]])+len(want[doms[2]])) {
				rd.err = fmt.Errorf("Snapshot of version %d holds %d candidates", v, n)
			}
			see(rd, v, "Snapshot")
		},
		// Lock-free Resolves of every key, one after the other.
		func(rd *reader, i int) {
			type addr struct{ d, k string }
			var as []addr
			for _, d := range doms {
				for _, k := range append(slices.Clone(keys), "only-a", "only-b") {
					as = append(as, addr{d, k})
				}
			}
			for j := range as {
				a := as[(i+j)%len(as)]
				e, ok := r.Resolve(a.d, a.k)
				switch {
				case ok:
					v, err := version(e)
					if err != nil {
						rd.err = err
						return
					}
					if !slices.Contains(expected(v)[a.d], a.k) || !strings.HasSuffix(e.Provider(), "-primary") {
						rd.err = fmt.Errorf("Resolve(%s, %s) = %s in version %d", a.d, a.k, i5Label(e), v)
						return
					}
					see(rd, v, "Resolve "+a.d+"/"+a.k)
				case a.d == doms[0] && a.k == "only-a":
					// Absent: the current version is B (even).
					if rd.lb%2 == 1 {
						see(rd, rd.lb+1, "Resolve (absent) "+a.d+"/"+a.k)
					}
				case a.d == doms[1] && a.k == "only-b":
					if rd.lb%2 == 0 {
						see(rd, rd.lb+1, "Resolve (absent) "+a.d+"/"+a.k)
					}
				case a.k == "only-a" || a.k == "only-b":
				default:
					rd.err = fmt.Errorf("Resolve(%s, %s) found nothing", a.d, a.k)
				}
				if rd.err != nil {
					return
				}
			}
		},
		// Lock-free ListActive and ListShadowed of each domain.
		func(rd *reader, i int) {
			for j := range doms {
				d := doms[(i+j)%len(doms)]
				act := r.ListActive(d)
				v, err := sameVersion(act, "ListActive "+d)
				if err != nil {
					rd.err = err
					return
				}
				if len(act) != len(expected(v)[d]) {
					rd.err = fmt.Errorf("ListActive(%s) of version %d: %v", d, v, i5Labels(act))
					return
				}
				see(rd, v, "ListActive "+d)
				sh := r.ListShadowed(d)
				if v, err = sameVersion(sh, "ListShadowed "+d); err != nil {
					rd.err = err
					return
				}
				see(rd, v, "ListShadowed "+d)
			}
		},
		// Explain of each common key: both candidates of one version.
		func(rd *reader, i int) {
			for _, d := range doms {
				k := keys[(i+len(d))%len(keys)]
				x := r.Explain(d, k)
				ranked := semRanked(x)
				v, err := sameVersion(ranked, "Explain "+d+"/"+k)
				if err != nil {
					rd.err = err
					return
				}
				if len(ranked) != 2 || !strings.HasSuffix(ranked[0].Provider(), "-primary") || !x.Ordered[0].Selected {
					rd.err = fmt.Errorf("Explain(%s, %s): %v", d, k, i5Labels(ranked))
					return
				}
				see(rd, v, "Explain "+d+"/"+k)
			}
		},
	}

	// The watcher: per key, each change's Previous is the Current it saw
	// last and versions increase; a resync's state is one version.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	known := map[string]*registry.Entry{} // the winners the watcher starts from
	for _, d := range doms {
		for _, e := range r.ListActive(d) {
			known[d+"/"+e.Key()] = e
		}
	}
	changes := r.Watch(ctx) // no write until the writer starts below
	var watchErr error
	var watched, resyncs int
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		resyncV := -1
		for c := range changes {
			watched++
			if c.Resync {
				resyncs++
				clear(known)
				resyncV = -1
				continue
			}
			k := c.Domain + "/" + c.Key
			if c.Reason == "resync" {
				v, err := version(c.Current)
				if err == nil && resyncV >= 0 && v != resyncV {
					err = fmt.Errorf("a resync shows versions %d and %d", resyncV, v)
				}
				if err != nil {
					watchErr = err
					return
				}
				resyncV, known[k] = v, c.Current
				continue
			}
			if c.Previous != known[k] {
				watchErr = fmt.Errorf("change of %s: previous %s, last seen %s", k, i5LabelOrNone(c.Previous), i5LabelOrNone(known[k]))
				return
			}
			if c.Current != nil && c.Previous != nil {
				nv, err1 := version(c.Current)
				pv, err2 := version(c.Previous)
				if err := errors.Join(err1, err2); err != nil || nv <= pv {
					watchErr = fmt.Errorf("change of %s from version %d to %d: %v", k, pv, nv, err)
					return
				}
			}
			if c.Current == nil {
				delete(known, k)
			} else {
				known[k] = c.Current
			}
		}
	}()

	var stop atomic.Bool
	var wg sync.WaitGroup
	readers := make([]*reader, 4)
	var reads atomic.Int64
	for n := range readers {
		rd := &reader{lb: 1}
		readers[n] = rd
		wg.Go(func() {
			for i := 0; !stop.Load() && rd.err == nil; i++ {
				ops[(i+n)%len(ops)](rd, i)
				reads.Add(1)
			}
		})
	}
	writerDone := make(chan struct{})
	var writeErr error
	go func() {
		defer close(writerDone)
		for v := 2; v <= applies; v++ {
			started.Store(int64(v))
			res, err := r.Apply("loader", build(v))
			switch {
			case err != nil:
				writeErr = err
			case len(res.Added) != len(build(v)) || len(res.Kept) != 0 || len(res.Removed) != len(build(v-1)):
				writeErr = fmt.Errorf("Apply %d: %d added, %d kept, %d removed", v, len(res.Added), len(res.Kept), len(res.Removed))
			}
			if writeErr != nil {
				return
			}
		}
	}()
	i5Watchdog(t, 30*time.Second, writerDone, "the writer")
	stop.Store(true)
	wg.Wait()
	cancel()
	i5Watchdog(t, 10*time.Second, watchDone, "the watcher")

	require.NoError(t, writeErr)
	for n, rd := range readers {
		require.NoError(t, rd.err, "reader %d", n)
	}
	require.NoError(t, watchErr)
	assert.Equal(t, uint64(20*applies+1), i5NextSeq(t, r), "every Apply consumed one sequence number per candidate")
	t.Logf("%d applies, %d reads, %d changes watched (%d resyncs)", applies, reads.Load(), watched, resyncs)
}

// TestApplyConcurrentWithOtherWriters: Applys of two owners race with
// Register and Unregister (of owned and plain entries), Select and SetHealth
// on the same keys. Every Apply accounts for each candidate given (added or
// kept) and touches only its owner's entries; at the end one more Apply per
// owner leaves each owner with exactly its set.
func TestApplyConcurrentWithOtherWriters(t *testing.T) {
	rounds := 400
	if raceEnabled {
		rounds = 150
	}
	r := registry.New(registry.WithShards(4))
	doms := i5SpreadDomains(t, r, 3)
	randomSet := func(rng *rand.Rand) []registry.Candidate {
		cs := make([]registry.Candidate, rng.IntN(7))
		for i := range cs {
			// Few distinct values, so that sets often share candidates.
			cs[i] = i5C(doms[rng.IntN(len(doms))], fmt.Sprint("k", rng.IntN(3)), fmt.Sprint("p", rng.IntN(3)), rng.IntN(2))
		}
		return cs
	}
	owners := []string{"owner-a", "owner-b"}
	var wg sync.WaitGroup
	for n, owner := range owners {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(n), 1))
			for range rounds {
				cs := randomSet(rng)
				res, err := r.Apply(owner, cs)
				if err != nil {
					t.Error(err)
					return
				}
				if len(res.Added)+len(res.Kept) != len(cs) {
					t.Errorf("%s: %d candidates, %d added and %d kept", owner, len(cs), len(res.Added), len(res.Kept))
				}
				for _, e := range slices.Concat(res.Added, res.Kept, res.Removed) {
					if e.Owner() != owner {
						t.Errorf("%s's Apply touched %s of %q", owner, i5Label(e), e.Owner())
					}
				}
			}
		})
	}
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(7, 7))
		for range rounds {
			d, k, p := doms[rng.IntN(len(doms))], fmt.Sprint("k", rng.IntN(3)), fmt.Sprint("p", rng.IntN(3))
			switch rng.IntN(4) {
			case 0:
				if _, err := r.Register(i5C(d, k, "plain-"+p, 1)); err != nil {
					t.Error(err)
				}
			case 1:
				r.Unregister(d, k, p) // owned entries
			case 2:
				r.Unregister(d, k, "plain-"+p)
			case 3:
				if err := errors.Join(r.Select(d, k, p), r.SetHealth(d, k, p, rng.IntN(2) == 0)); err != nil {
					t.Error(err)
				}
			}
		}
	})
	i5Go(t, "racing writers", wg.Wait)

	final := map[string][]registry.Candidate{
		"owner-a": {i5C(doms[0], "k0", "p0", 1), i5C(doms[1], "k1", "p1", 0), i5C(doms[1], "k1", "p1", 0)},
		"owner-b": {i5C(doms[0], "k0", "p0", 1), i5C(doms[2], "k2", "p2", 1)},
	}
	for _, owner := range owners {
		i5Apply(t, r, owner, final[owner])
	}
	s := r.Snapshot()
	for _, owner := range owners {
		var want, got []string
		for _, c := range final[owner] {
			want = append(want, fmt.Sprintf("%s/%s/%s:%d", c.Domain, c.Key, c.Provider, *c.Priority))
		}
		for _, d := range s.Domains() {
			for _, e := range slices.Concat(s.ListActive(d), s.ListShadowed(d)) {
				if e.Owner() == owner {
					got = append(got, i5Label(e))
				}
			}
		}
		assert.ElementsMatch(t, want, got, "%s holds exactly its last set", owner)
		res := i5Apply(t, r, owner, final[owner])
		assert.Empty(t, res.Added)
		assert.Empty(t, res.Removed)
	}
}

// TestApplyReloadTenThousandTimes: applying the same manifest (the same
// []Candidate) 10,000 times keeps every entry: the candidate count and the
// sequence counter do not move, no winner changes, and the candidates passed
// in are not modified.
func TestApplyReloadTenThousandTimes(t *testing.T) {
	var decisions atomic.Int64
	r := registry.New(registry.WithShards(8), registry.WithDecisionHook(func(registry.Decision) { decisions.Add(1) }))
	doms := i5SpreadDomains(t, r, 3)
	factory := func() any { return "conn" }
	shared := &struct{ name string }{"shared config"}
	cs := []registry.Candidate{
		{Domain: doms[0], Key: "cache", Provider: "redis", Priority: new(20), Capabilities: []string{"ttl"},
			Metadata: map[string]any{"dsn": "redis://x", "pool": map[string]any{"size": 8, "tags": []any{"a", "b"}}, "capabilities": []string{"cluster"}}},
		{Domain: doms[0], Key: "cache", Provider: "memcached", Factory: factory},
		{Domain: doms[1], Key: "queue", Provider: "nats", StackLevel: 3, Source: registry.SourceManual, Factory: shared},
		{Domain: doms[1], Key: "queue", Provider: "nats", StackLevel: 3, Source: registry.SourceManual, Factory: shared}, // a duplicate
		{Domain: doms[2], Key: "mail", Provider: "smtp", Metadata: map[string]any{"capability_descriptors": []any{map[string]any{"name": "tls"}}}},
		{Domain: doms[2], Key: "sms", Provider: "", Priority: new(0)},
	}
	before := fmt.Sprintf("%#v", cs)

	first := i5Apply(t, r, "manifest.json", cs)
	require.Len(t, first.Added, len(cs))
	count, hooked := r.Snapshot().Len(), decisions.Load()
	require.Equal(t, len(cs), count)

	start := time.Now()
	const reloads = 10_000
	for i := range reloads {
		res, err := r.Apply("manifest.json", cs)
		if err != nil || len(res.Added) != 0 || len(res.Removed) != 0 || len(res.Kept) != len(cs) {
			t.Fatalf("reload %d: %d added, %d kept, %d removed, error %v", i, len(res.Added), len(res.Kept), len(res.Removed), err)
		}
		if i == reloads-1 {
			// The same entries (two equal candidates are interchangeable,
			// so which of the two duplicates each matches is not fixed).
			assert.ElementsMatch(t, first.Added, res.Kept)
		}
	}
	elapsed := time.Since(start)

	assert.Equal(t, count, r.Snapshot().Len(), "the candidate count is unchanged")
	n := 0
	for _, d := range r.Domains() {
		n += len(r.ListActive(d)) + len(r.ListShadowed(d))
	}
	assert.Equal(t, count, n, "ListActive + ListShadowed count the same")
	assert.Equal(t, hooked, decisions.Load(), "no winner changed")
	assert.Equal(t, before, fmt.Sprintf("%#v", cs), "the candidates passed in are unchanged")
	assert.Equal(t, 20, *cs[0].Priority)
	assert.Equal(t, uint64(len(cs)+1), i5NextSeq(t, r), "no sequence number consumed")
	t.Logf("%d reloads in %v (%v each)", reloads, elapsed.Round(time.Millisecond), (elapsed / reloads).Round(time.Microsecond/10))
}

// TestApplyReplacesAClosureThatCapturedSomethingElse: re-applying a set whose
// factory is a new closure of the same literal, over another configuration,
// registers the new factory and removes the old one; re-applying the same
// closure keeps it.
func TestApplyReplacesAClosureThatCapturedSomethingElse(t *testing.T) {
	r := registry.New()
	var factories []func() any
	for _, dsn := range []string{"redis://old", "redis://new"} {
		factories = append(factories, func() any { return dsn }) // one literal, so one code pointer
	}
	apply := func(f func() any) registry.ApplyResult {
		t.Helper()
		res, err := r.Apply("manifest.json", []registry.Candidate{{Domain: "adapter", Key: "cache", Provider: "redis", Factory: f}})
		require.NoError(t, err)
		return res
	}
	first := apply(factories[0])
	require.Len(t, first.Added, 1)

	same := apply(factories[0])
	assert.Equal(t, first.Added, same.Kept, "the same closure is kept")
	assert.Empty(t, same.Added)

	next := apply(factories[1])
	require.Len(t, next.Added, 1, "a closure over another configuration is registered")
	assert.Equal(t, first.Added, next.Removed, "and the old one removed")
	e, ok := r.Resolve("adapter", "cache")
	require.True(t, ok)
	assert.Equal(t, "redis://new", e.Factory().(func() any)())
}

// TestApplyFactoryHoldingAFunc: a factory whose type is comparable but holds
// a func in an interface field cannot be compared with ==; Apply must not
// panic on it. Such a factory is the same as no other value, so applying it
// again replaces its entry.
func TestApplyFactoryHoldingAFunc(t *testing.T) {
	type plugin struct {
		Name string
		New  any
	}
	r := registry.New()
	cs := []registry.Candidate{{Domain: "adapter", Key: "cache", Provider: "redis", Factory: plugin{"redis", func() any { return "conn" }}}}
	for i := range 2 {
		var res registry.ApplyResult
		var err error
		require.NotPanics(t, func() { res, err = r.Apply("plugins", cs) }, "apply %d", i)
		require.NoError(t, err)
		assert.Len(t, res.Added, 1, "apply %d", i)
		assert.Len(t, res.Removed, i, "apply %d", i)
	}
	assert.Len(t, r.ListActive("adapter"), 1)
}

// BenchmarkApplyGenerations applies, in turn, two sets of k candidates of
// one key that differ only in one metadata field of each ("id", at the top
// or two maps down): a new
// generation each time, where every draft matches none of the owned
// entries. Matching by digest compares each draft with the entries of its
// digest only, where it compared it with every owned entry (k², each a
// comparison of 50 fields).
func BenchmarkApplyGenerations(b *testing.B) {
	for _, bc := range []struct {
		k      int
		nested bool // the id two maps down, not at the top
	}{{100, false}, {400, false}, {400, true}} {
		name := fmt.Sprintf("k=%d", bc.k)
		if bc.nested {
			name += "/id=nested"
		}
		k := bc.k
		b.Run(name, func(b *testing.B) {
			gen := func(g int) []registry.Candidate {
				cs := make([]registry.Candidate, k)
				for i := range cs {
					meta := map[string]any{"id": fmt.Sprintf("%d-%d", g, i)}
					if bc.nested {
						meta = map[string]any{"conn": map[string]any{"pool": map[string]any{"id": meta["id"]}}}
					}
					for f := range 49 {
						meta[fmt.Sprintf("field%02d", f)] = "value"
					}
					cs[i] = registry.Candidate{Domain: "d", Key: "k", Provider: "p", Metadata: meta}
				}
				return cs
			}
			gens := [2][]registry.Candidate{gen(0), gen(1)}
			r := registry.New()
			if _, err := r.Apply("o", gens[0]); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if _, err := r.Apply("o", gens[i%2]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
