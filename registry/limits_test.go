package registry_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
)

// i5LimitCase is an operation that must be refused by a limit.
type i5LimitCase struct {
	name string
	op   func(r *registry.Registry) error
}

// i5RunLimitCases runs each case on a fresh registry made by setup (which
// returns how many sequence numbers it consumed) and checks that the
// operation is refused with a *LimitError naming limit, and that nothing
// changes and no sequence number is consumed: probe, a candidate within every
// limit, registered afterwards, gets the next one.
func i5RunLimitCases(t *testing.T, limits registry.Limits, setup func(t *testing.T, r *registry.Registry) uint64, probe registry.Candidate, limit string, cases []i5LimitCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			var decisions atomic.Int64
			r := registry.New(registry.WithLimits(limits), registry.WithDecisionHook(func(registry.Decision) { decisions.Add(1) }))
			used := setup(t, r)
			dump, hooked := i5Dump(r), decisions.Load()
			err := tt.op(r)
			i5RequireLimit(t, err, limit)
			assert.Equal(t, dump, i5Dump(r), "nothing changes")
			assert.Equal(t, hooked, decisions.Load(), "no winner changes")
			e, err := r.Register(probe)
			require.NoError(t, err)
			assert.Equal(t, used+1, e.Sequence(), "no sequence number consumed")
		})
	}
}

// i5RequireLimit checks that err reports limit with the registry's limit.
func i5RequireLimit(t *testing.T, err error, limit string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, registry.ErrLimitExceeded)
	assert.False(t, errors.Is(err, registry.ErrInvalidCandidate), "a limit is not an invalid candidate")
	var le *registry.LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, limit, le.Limit)
	assert.Equal(t, 2, le.Max, "every limit in these tests is 2")
	assert.Contains(t, err.Error(), limit)
}

// TestLimitMaxDomains: a third domain is refused when MaxDomains is 2, by
// every operation that can add one, all or nothing.
func TestLimitMaxDomains(t *testing.T) {
	setup := func(t *testing.T, r *registry.Registry) uint64 {
		i5Register(t, r, i5C("adapter", "cache", "redis", 1))
		i5Apply(t, r, "loader", []registry.Candidate{i5C("service", "mail", "smtp", 1)})
		return 2
	}
	probe := i5C("adapter", "probe", "p", 1)
	i5RunLimitCases(t, registry.Limits{MaxDomains: 2}, setup, probe, "domains", []i5LimitCase{
		{"Register", func(r *registry.Registry) error {
			_, err := r.Register(i5C("task", "cron", "tick", 1))
			return err
		}},
		{"a handle's Register", func(r *registry.Registry) error {
			_, err := r.Domain("task").Register(i5C("", "cron", "tick", 1))
			return err
		}},
		{"RegisterPackage", func(r *registry.Registry) error {
			_, err := r.RegisterPackage("pkg", "/app/x.py", []registry.Candidate{i5C("adapter", "queue", "nats", 1), i5C("task", "cron", "tick", 1)}, nil)
			return err
		}},
		{"Apply", func(r *registry.Registry) error {
			_, err := r.Apply("loader", []registry.Candidate{i5C("service", "mail", "smtp", 1), i5C("adapter", "queue", "nats", 1), i5C("task", "cron", "tick", 1)})
			return err
		}},
		{"Apply of another owner adding two domains", func(r *registry.Registry) error {
			_, err := r.Apply("other", []registry.Candidate{i5C("task", "cron", "tick", 1), i5C("event", "bus", "kafka", 1)})
			return err
		}},
	})
}

// TestLimitMaxKeysPerDomain: a third key in a domain is refused when
// MaxKeysPerDomain is 2.
func TestLimitMaxKeysPerDomain(t *testing.T) {
	setup := func(t *testing.T, r *registry.Registry) uint64 {
		i5Register(t, r, i5C("adapter", "cache", "redis", 1))
		i5Apply(t, r, "loader", []registry.Candidate{i5C("adapter", "queue", "nats", 1), i5C("service", "mail", "smtp", 1)})
		return 3
	}
	probe := i5C("probe", "probe", "p", 1)
	i5RunLimitCases(t, registry.Limits{MaxKeysPerDomain: 2}, setup, probe, "keys per domain", []i5LimitCase{
		{"Register", func(r *registry.Registry) error {
			_, err := r.Register(i5C("adapter", "store", "s3", 1))
			return err
		}},
		{"a handle's Register", func(r *registry.Registry) error {
			_, err := r.Domain("adapter").Register(i5C("", "store", "s3", 1))
			return err
		}},
		{"RegisterPackage", func(r *registry.Registry) error {
			_, err := r.RegisterPackage("pkg", "/app/x.py", []registry.Candidate{i5C("service", "sms", "twilio", 1), i5C("adapter", "store", "s3", 1)}, nil)
			return err
		}},
		{"RegisterPackage of three keys in a new domain", func(r *registry.Registry) error {
			_, err := r.RegisterPackage("pkg", "/app/x.py", []registry.Candidate{i5C("task", "a", "p", 1), i5C("task", "b", "p", 1), i5C("task", "c", "p", 1)}, nil)
			return err
		}},
		{"Apply", func(r *registry.Registry) error {
			_, err := r.Apply("loader", []registry.Candidate{i5C("adapter", "queue", "nats", 1), i5C("adapter", "store", "s3", 1), i5C("service", "mail", "smtp", 1)})
			return err
		}},
	})
}

// TestLimitMaxCandidatesPerKey: a third candidate of a key is refused when
// MaxCandidatesPerKey is 2.
func TestLimitMaxCandidatesPerKey(t *testing.T) {
	setup := func(t *testing.T, r *registry.Registry) uint64 {
		i5Register(t, r, i5C("adapter", "cache", "redis", 1))
		i5Apply(t, r, "loader", []registry.Candidate{i5C("adapter", "cache", "memcached", 1), i5C("service", "mail", "smtp", 1)})
		return 3
	}
	probe := i5C("adapter", "probe", "p", 1)
	i5RunLimitCases(t, registry.Limits{MaxCandidatesPerKey: 2}, setup, probe, "candidates per key", []i5LimitCase{
		{"Register", func(r *registry.Registry) error {
			_, err := r.Register(i5C("adapter", "cache", "valkey", 1))
			return err
		}},
		{"Register of the same provider again", func(r *registry.Registry) error {
			_, err := r.Register(i5C("adapter", "cache", "redis", 1))
			return err
		}},
		{"a handle's Register", func(r *registry.Registry) error {
			_, err := r.Domain("adapter").Register(i5C("", "cache", "valkey", 1))
			return err
		}},
		{"RegisterPackage", func(r *registry.Registry) error {
			_, err := r.RegisterPackage("pkg", "/app/x.py", []registry.Candidate{i5C("service", "mail", "ses", 1), i5C("adapter", "cache", "valkey", 1)}, nil)
			return err
		}},
		{"RegisterPackage of three candidates of a new key", func(r *registry.Registry) error {
			_, err := r.RegisterPackage("pkg", "/app/x.py", []registry.Candidate{i5C("task", "a", "p", 1), i5C("task", "a", "q", 1), i5C("task", "a", "r", 1)}, nil)
			return err
		}},
		{"Apply", func(r *registry.Registry) error {
			_, err := r.Apply("loader", []registry.Candidate{i5C("adapter", "cache", "memcached", 1), i5C("adapter", "cache", "valkey", 1), i5C("service", "mail", "smtp", 1)})
			return err
		}},
	})
}

// TestLimitMaxMetadataBytes: a candidate with more metadata bytes than
// MaxMetadataBytes (as Entry.MetadataBytes counts them) is refused.
func TestLimitMaxMetadataBytes(t *testing.T) {
	t.Run("at the limit", func(t *testing.T) {
		r := registry.New(registry.WithLimits(registry.Limits{MaxMetadataBytes: 18}))
		e := i5Register(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis", Metadata: map[string]any{"k": "x"}})
		require.Equal(t, 18, e.MetadataBytes(), "at the limit is accepted: 8+1 for the key, 8+1 for the value")
		_, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "memcached", Metadata: map[string]any{"k": "xx"}})
		assert.ErrorIs(t, err, registry.ErrLimitExceeded)
	})
	big := map[string]any{"k": "xx"} // 19 bytes
	setup := func(t *testing.T, r *registry.Registry) uint64 {
		e := i5Register(t, r, registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis", Metadata: map[string]any{}})
		require.Zero(t, e.MetadataBytes(), "empty metadata counts nothing")
		return 1
	}
	probe := i5C("adapter", "probe", "p", 1)
	i5RunLimitCases(t, registry.Limits{MaxMetadataBytes: 2}, setup, probe, "metadata bytes", []i5LimitCase{
		{"Register", func(r *registry.Registry) error {
			_, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "memcached", Metadata: big})
			return err
		}},
		{"a handle's Register", func(r *registry.Registry) error {
			_, err := r.Domain("adapter").Register(registry.Candidate{Key: "cache", Metadata: big})
			return err
		}},
		{"RegisterPackage (its package and path count)", func(r *registry.Registry) error {
			_, err := r.RegisterPackage("pkg", "/app/x.py", []registry.Candidate{i5C("adapter", "queue", "nats", 1)}, nil)
			return err
		}},
		{"Apply", func(r *registry.Registry) error {
			_, err := r.Apply("loader", []registry.Candidate{i5C("service", "mail", "smtp", 1), {Domain: "service", Key: "sms", Metadata: big}})
			return err
		}},
	})
}

// TestLimitsFreedByRemoval: unregistering, or an Apply that removes
// candidates, frees room under every limit; an Apply is judged by the state
// it leaves, so it may swap a key, a candidate or a domain at the limit.
func TestLimitsFreedByRemoval(t *testing.T) {
	tests := []struct {
		name   string
		limits registry.Limits
		setup  []registry.Candidate // applied by "loader"
		free   func(t *testing.T, r *registry.Registry)
		then   func(r *registry.Registry) error
	}{
		{
			name: "unregister frees a domain", limits: registry.Limits{MaxDomains: 2},
			setup: []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("service", "mail", "smtp", 1)},
			free:  func(t *testing.T, r *registry.Registry) { assert.Equal(t, 1, r.Unregister("service", "mail", "smtp")) },
			then: func(r *registry.Registry) error {
				_, err := r.Register(i5C("task", "cron", "tick", 1))
				return err
			},
		},
		{
			name: "apply frees a domain", limits: registry.Limits{MaxDomains: 2},
			setup: []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("service", "mail", "smtp", 1)},
			free:  func(t *testing.T, r *registry.Registry) { i5Apply(t, r, "loader", nil) },
			then: func(r *registry.Registry) error {
				_, err := r.RegisterPackage("pkg", "/x", []registry.Candidate{i5C("task", "cron", "tick", 1), i5C("event", "bus", "kafka", 1)}, nil)
				return err
			},
		},
		{
			name: "apply swaps a domain at the limit", limits: registry.Limits{MaxDomains: 2},
			setup: []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("service", "mail", "smtp", 1)},
			free:  func(t *testing.T, r *registry.Registry) {},
			then: func(r *registry.Registry) error {
				_, err := r.Apply("loader", []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("task", "cron", "tick", 1)})
				return err
			},
		},
		{
			name: "unregister frees a key", limits: registry.Limits{MaxKeysPerDomain: 2},
			setup: []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("adapter", "queue", "nats", 1)},
			free:  func(t *testing.T, r *registry.Registry) { assert.Equal(t, 1, r.Unregister("adapter", "queue", "nats")) },
			then: func(r *registry.Registry) error {
				_, err := r.Domain("adapter").Register(i5C("", "store", "s3", 1))
				return err
			},
		},
		{
			name: "apply swaps a key at the limit", limits: registry.Limits{MaxKeysPerDomain: 2},
			setup: []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("adapter", "queue", "nats", 1)},
			free:  func(t *testing.T, r *registry.Registry) {},
			then: func(r *registry.Registry) error {
				_, err := r.Apply("loader", []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("adapter", "store", "s3", 1)})
				return err
			},
		},
		{
			name: "unregister frees a candidate", limits: registry.Limits{MaxCandidatesPerKey: 2},
			setup: []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("adapter", "cache", "memcached", 1)},
			free: func(t *testing.T, r *registry.Registry) {
				assert.Equal(t, 1, r.Unregister("adapter", "cache", "redis"))
			},
			then: func(r *registry.Registry) error {
				_, err := r.Register(i5C("adapter", "cache", "valkey", 1))
				return err
			},
		},
		{
			name: "apply swaps a candidate at the limit", limits: registry.Limits{MaxCandidatesPerKey: 2},
			setup: []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("adapter", "cache", "memcached", 1)},
			free:  func(t *testing.T, r *registry.Registry) {},
			then: func(r *registry.Registry) error {
				_, err := r.Apply("loader", []registry.Candidate{i5C("adapter", "cache", "redis", 1), i5C("adapter", "cache", "valkey", 1)})
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New(registry.WithLimits(tt.limits))
			i5Apply(t, r, "loader", tt.setup)
			tt.free(t, r)
			require.NoError(t, tt.then(r))
			if tt.limits.MaxDomains > 0 {
				assert.LessOrEqual(t, len(r.Domains()), tt.limits.MaxDomains)
			}
			// And the limit still holds afterwards.
			_, err := r.Apply("more", []registry.Candidate{
				i5C("d1", "k", "p", 1), i5C("d2", "k", "p", 1), i5C("d3", "k", "p", 1),
				i5C("adapter", "k1", "p", 1), i5C("adapter", "k2", "p", 1), i5C("adapter", "k3", "p", 1),
				i5C("adapter", "cache", "p1", 1), i5C("adapter", "cache", "p2", 1), i5C("adapter", "cache", "p3", 1),
			})
			assert.ErrorIs(t, err, registry.ErrLimitExceeded)
		})
	}
}

// TestLimitMaxDomainsConcurrent: many goroutines creating domains at once,
// through Register, RegisterPackage and Apply (some swapping domains), and
// removing them again, never make the registry hold more domains than
// MaxDomains; exactly MaxDomains single-domain creations succeed from empty,
// also after the churn (the count of domains did not drift).
func TestLimitMaxDomainsConcurrent(t *testing.T) {
	const maxDomains = 5
	t.Run("exactly the limit succeeds", func(t *testing.T) {
		r := registry.New(registry.WithLimits(registry.Limits{MaxDomains: maxDomains}))
		var ok, refused atomic.Int64
		start := make(chan struct{})
		var wg sync.WaitGroup
		for g := range 64 {
			wg.Go(func() {
				<-start
				var err error
				switch g % 3 {
				case 0:
					_, err = r.Register(i5C(fmt.Sprint("tenant-", g), "cache", "redis", 1))
				case 1:
					_, err = r.Domain(fmt.Sprint("tenant-", g)).Register(i5C("", "cache", "redis", 1))
				default:
					_, err = r.Apply(fmt.Sprint("owner-", g), []registry.Candidate{i5C(fmt.Sprint("tenant-", g), "cache", "redis", 1), i5C(fmt.Sprint("tenant-", g), "queue", "nats", 1)})
				}
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, registry.ErrLimitExceeded):
					refused.Add(1)
				default:
					t.Errorf("unexpected error: %v", err)
				}
			})
		}
		i5Go(t, "domain creators", func() {
			close(start)
			wg.Wait()
		})
		assert.Equal(t, int64(maxDomains), ok.Load())
		assert.Equal(t, int64(64-maxDomains), refused.Load())
		assert.Len(t, r.Domains(), maxDomains)
	})

	t.Run("churn never exceeds the limit", func(t *testing.T) {
		rounds := 400
		if raceEnabled {
			rounds = 150
		}
		r := registry.New(registry.WithShards(8), registry.WithLimits(registry.Limits{MaxDomains: maxDomains}))
		var stop atomic.Bool
		var most atomic.Int64
		var observers sync.WaitGroup
		for range 2 {
			observers.Go(func() {
				for !stop.Load() {
					if n := int64(len(r.Domains())); n > most.Load() {
						most.Store(n)
					}
					if n := int64(len(r.Snapshot().Domains())); n > most.Load() {
						most.Store(n)
					}
				}
			})
		}
		var created atomic.Int64
		var writers sync.WaitGroup
		for g := range 12 {
			writers.Go(func() {
				for i := range rounds {
					d := fmt.Sprintf("tenant-%d-%d", g, i%3)
					e := fmt.Sprintf("extra-%d-%d", g, i%2)
					var err error
					switch i % 4 {
					case 0:
						_, err = r.Register(i5C(d, "cache", "redis", 1))
					case 1:
						_, err = r.RegisterPackage("pkg", "/x", []registry.Candidate{i5C(d, "cache", "redis", 1), i5C(e, "cache", "redis", 1)}, nil)
					case 2:
						_, err = r.Apply(fmt.Sprint("owner-", g), []registry.Candidate{i5C(d, "queue", "nats", 1), i5C(e, "queue", "nats", 1)})
					case 3: // swaps the owner's domains for another
						_, err = r.Apply(fmt.Sprint("owner-", g), []registry.Candidate{i5C(fmt.Sprintf("swap-%d-%d", g, i%5), "queue", "nats", 1)})
					}
					if err == nil {
						created.Add(1)
					} else if !errors.Is(err, registry.ErrLimitExceeded) {
						t.Errorf("unexpected error: %v", err)
					}
					r.Unregister(d, "cache", "redis")
					r.Unregister(e, "cache", "redis")
				}
			})
		}
		i5Go(t, "churning writers", writers.Wait)
		stop.Store(true)
		observers.Wait()
		assert.LessOrEqual(t, most.Load(), int64(maxDomains), "never more domains than the limit")
		assert.Positive(t, created.Load())
		// Everything removed: the full limit is available again.
		for g := range 12 {
			i5Apply(t, r, fmt.Sprint("owner-", g), nil)
		}
		require.Empty(t, r.Domains())
		for i := range maxDomains {
			i5Register(t, r, i5C(fmt.Sprint("final-", i), "k", "p", 1))
		}
		_, err := r.Register(i5C("one-too-many", "k", "p", 1))
		i5RequireLimitMax(t, err, "domains", maxDomains)
		t.Logf("%d successful creations, at most %d domains seen", created.Load(), most.Load())
	})
}

// TestLimitMaxDomainsSwapRefusesNothingAllowed: an Apply that swaps its
// owner's domain for another, at MaxDomains, does not make a concurrent
// Register of a third domain fail: the registry holds one domain of the swap
// and the third either way, so every order allows it. (The count of domains
// once held the swap's new domain before it released the old one, and
// refused about half of these registrations.)
func TestLimitMaxDomainsSwapRefusesNothingAllowed(t *testing.T) {
	rounds := 2000
	if raceEnabled {
		rounds = 500
	}
	r := registry.New(registry.WithLimits(registry.Limits{MaxDomains: 2}))
	i5Apply(t, r, "owner", []registry.Candidate{i5C("swap-a", "cache", "redis", 1)})
	var refused atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range rounds {
			d := []string{"swap-b", "swap-a"}[i%2]
			if _, err := r.Apply("owner", []registry.Candidate{i5C(d, "cache", "redis", 1)}); err != nil {
				t.Errorf("swap %d: %v", i, err)
				return
			}
		}
	})
	wg.Go(func() {
		for i := range rounds {
			if _, err := r.Register(i5C("third", "cache", "redis", 1)); err != nil {
				if !errors.Is(err, registry.ErrLimitExceeded) {
					t.Errorf("register %d: %v", i, err)
					return
				}
				refused.Add(1)
			}
			r.Unregister("third", "cache", "redis")
		}
	})
	i5Go(t, "swapper and registrar", wg.Wait)
	assert.Zero(t, refused.Load(), "registrations of a third domain refused")
	// The count did not drift: one domain held, so one more fits, two do not.
	require.Len(t, r.Domains(), 1)
	i5Register(t, r, i5C("third", "cache", "redis", 1))
	_, err := r.Register(i5C("fourth", "cache", "redis", 1))
	i5RequireLimitMax(t, err, "domains", 2)
}

// TestLimitMaxDomainsHeldWhileAnApplyEmptiesADomain: an Apply that empties
// a domain releases its place in the limit only once the domain is gone. A
// Register of another domain that succeeds while readers can still resolve
// the emptied domain would make the registry hold more than MaxDomains.
func TestLimitMaxDomainsHeldWhileAnApplyEmptiesADomain(t *testing.T) {
	keys, rounds := 2000, 40
	if raceEnabled {
		keys, rounds = 500, 20
	}
	r := registry.New(registry.WithLimits(registry.Limits{MaxDomains: 2}))
	i5Register(t, r, i5C("other", "cache", "redis", 1))
	big := make([]registry.Candidate, keys) // many keys: a long Apply
	for i := range big {
		big[i] = i5C("big", fmt.Sprint("k", i), "redis", 1)
	}
	i5Apply(t, r, "owner", big)
	var over, registered atomic.Int64
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		defer done.Store(true)
		for range rounds {
			if _, err := r.Apply("owner", nil); err != nil {
				t.Errorf("empty: %v", err)
				return
			}
			if _, err := r.Apply("owner", big); err != nil && !errors.Is(err, registry.ErrLimitExceeded) {
				t.Errorf("refill: %v", err)
				return
			}
		}
	})
	wg.Go(func() {
		for !done.Load() {
			if _, err := r.Register(i5C("third", "cache", "redis", 1)); err != nil {
				continue // at the limit: refused, as it should be
			}
			registered.Add(1)
			// "other" and "third" are held; "big" must not be visible.
			if _, ok := r.Resolve("big", "k0"); ok {
				over.Add(1)
			}
			r.Unregister("third", "cache", "redis")
		}
	})
	i5Go(t, "apply and register", wg.Wait)
	assert.Zero(t, over.Load(), "times three domains were visible under MaxDomains 2")
	t.Logf("%d registrations of the third domain succeeded", registered.Load())
}

// i5RequireLimitMax is i5RequireLimit for any max.
func i5RequireLimitMax(t *testing.T, err error, limit string, limitMax int) {
	t.Helper()
	require.ErrorIs(t, err, registry.ErrLimitExceeded)
	var le *registry.LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, limit, le.Limit)
	assert.Equal(t, limitMax, le.Max)
	assert.True(t, strings.Contains(err.Error(), limit))
}

// TestLimitMaxMarksPerDomain: selections and unhealthy marks, which outlive
// candidates, count together against MaxMarksPerDomain, through the
// registry and through a Handle; one more is refused and changes nothing.
func TestLimitMaxMarksPerDomain(t *testing.T) {
	setup := func(t *testing.T, r *registry.Registry) uint64 {
		i5Register(t, r, i5C("adapter", "cache", "redis", 2))
		i5Register(t, r, i5C("adapter", "cache", "memcached", 1))
		i5Register(t, r, i5C("adapter", "queue", "nats", 2))
		i5Register(t, r, i5C("adapter", "queue", "kafka", 1))
		require.NoError(t, r.Select("adapter", "cache", "memcached"))
		require.NoError(t, r.SetHealth("adapter", "cache", "memcached", false))
		return 4
	}
	probe := i5C("probe", "probe", "p", 1)
	i5RunLimitCases(t, registry.Limits{MaxMarksPerDomain: 2}, setup, probe, "marks per domain", []i5LimitCase{
		{"Select", func(r *registry.Registry) error { return r.Select("adapter", "queue", "kafka") }},
		{"a handle's Select", func(r *registry.Registry) error { return r.Domain("adapter").Select("queue", "kafka") }},
		{"SetHealth", func(r *registry.Registry) error { return r.SetHealth("adapter", "queue", "nats", false) }},
		{"a handle's SetHealth", func(r *registry.Registry) error {
			return r.Domain("adapter").SetHealth("queue", "nats", false)
		}},
		{"SetHealth of another provider of a marked key", func(r *registry.Registry) error {
			return r.SetHealth("adapter", "cache", "redis", false)
		}},
		{"Select of a key without candidates", func(r *registry.Registry) error { return r.Select("adapter", "store", "s3") }},
	})
}

// TestLimitMaxMarksPerDomainCounts: what a domain's marks count is exact.
// Changing a selection or marking an unhealthy provider again adds nothing;
// clearing frees one; clearing what is not there frees nothing; domains
// count apart; selections given to New count too, the ones beyond the limit
// skipped and logged.
func TestLimitMaxMarksPerDomainCounts(t *testing.T) {
	r := registry.New(registry.WithLimits(registry.Limits{MaxMarksPerDomain: 2}))
	require.NoError(t, r.Select("adapter", "cache", "redis"))
	require.NoError(t, r.SetHealth("adapter", "cache", "redis", false))
	i5RequireLimit(t, r.Select("adapter", "queue", "nats"), "marks per domain")

	require.NoError(t, r.Select("adapter", "cache", "memcached"), "changing a selection")
	require.NoError(t, r.SetHealth("adapter", "cache", "redis", false), "marking again")
	require.NoError(t, r.Select("adapter", "queue", ""), "clearing a selection that is not there")
	require.NoError(t, r.SetHealth("adapter", "queue", "nats", true), "healing a provider that is not marked")
	require.NoError(t, r.SetHealth("adapter", "cache", "memcached", true), "healing an unmarked provider of a marked key")
	i5RequireLimit(t, r.SetHealth("adapter", "queue", "nats", false), "marks per domain")

	require.NoError(t, r.Select("service", "mail", "smtp"), "another domain counts apart")
	require.NoError(t, r.Domain("service").SetHealth("mail", "sendgrid", false))

	require.NoError(t, r.Select("adapter", "cache", ""))
	require.NoError(t, r.Select("adapter", "queue", "nats"), "a cleared selection frees its place")
	require.NoError(t, r.SetHealth("adapter", "cache", "redis", true))
	require.NoError(t, r.SetHealth("adapter", "queue", "kafka", false), "a healed provider frees its place")
	i5RequireLimit(t, r.Select("adapter", "store", "s3"), "marks per domain")

	var logs strings.Builder
	r = registry.New(
		registry.WithLimits(registry.Limits{MaxMarksPerDomain: 2}),
		registry.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		registry.WithSelections(map[string]map[string]string{"adapter": {"a": "p", "b": "p", "c": "p"}}),
	)
	i5RequireLimit(t, r.Select("adapter", "d", "p"), "marks per domain")
	assert.Contains(t, logs.String(), `key=c`)
	assert.Contains(t, logs.String(), "marks per domain")
}

// TestLimitErrorNamesTheFirstDomain: a batch over several domains that
// exceeds a limit names the first domain, in the order of its candidates,
// that exceeds it, the same on every call.
func TestLimitErrorNamesTheFirstDomain(t *testing.T) {
	cs := []registry.Candidate{i5C("b", "k", "p", 1), i5C("c", "k", "p", 1), i5C("a", "k", "p", 1),
		i5C("b", "k2", "p", 1), i5C("c", "k2", "p", 1), i5C("a", "k2", "p", 1)}
	for _, tc := range []struct {
		limits registry.Limits
		limit  string
	}{
		{registry.Limits{MaxDomains: 2}, "domains"},
		{registry.Limits{MaxKeysPerDomain: 1}, "keys per domain"},
	} {
		t.Run(tc.limit, func(t *testing.T) {
			r := registry.New(registry.WithLimits(tc.limits))
			for range 50 {
				_, err := r.Apply("o", cs)
				var le *registry.LimitError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, tc.limit, le.Limit)
				require.Equal(t, "b", le.Domain)
				_, err = r.RegisterPackage("pkg", "/app/x.py", cs, nil)
				require.ErrorAs(t, err, &le)
				require.Equal(t, "b", le.Domain)
			}
		})
	}
}
