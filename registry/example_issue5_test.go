package registry_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"

	"github.com/oneiric-go/oneiric/registry"
)

// Apply makes the set of candidates an owner (here, a manifest file)
// registered equal to a new set: a reload. Unchanged candidates keep their
// entry and sequence number, so reloading the same manifest changes nothing.
func ExampleRegistry_Apply() {
	r := registry.New()
	manifest := []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(20)},
		{Domain: "adapter", Key: "queue", Provider: "nats"},
		{Domain: "service", Key: "mail", Provider: "smtp"},
	}
	show := func(what string, res registry.ApplyResult) {
		name := func(es []*registry.Entry) []string {
			out := []string{}
			for _, e := range es {
				out = append(out, fmt.Sprintf("%s/%s/%s#%d", e.Domain(), e.Key(), e.Provider(), e.Sequence()))
			}
			slices.Sort(out) // Removed comes in no particular order
			return out
		}
		fmt.Printf("%s: added %v, kept %v, removed %v\n", what, name(res.Added), name(res.Kept), name(res.Removed))
	}

	res, err := r.Apply("manifest.json", manifest)
	if err != nil {
		log.Fatal(err)
	}
	show("load", res)

	for range 100 {
		if res, err = r.Apply("manifest.json", manifest); err != nil {
			log.Fatal(err)
		}
	}
	show("reload ×100", res)

	// The new manifest changes the cache, keeps the queue and drops the mail.
	res, err = r.Apply("manifest.json", []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "valkey", Priority: new(20)},
		{Domain: "adapter", Key: "queue", Provider: "nats"},
	})
	if err != nil {
		log.Fatal(err)
	}
	show("edit", res)

	e, _ := r.Resolve("adapter", "cache")
	fmt.Println("cache:", e.Provider(), "owner:", e.Owner(), "domains:", r.Domains())

	// One invalid candidate rejects the whole call; nothing changes.
	_, err = r.Apply("manifest.json", []registry.Candidate{{Domain: "adapter", Key: ""}})
	fmt.Println(errors.Is(err, registry.ErrInvalidCandidate), r.Snapshot().Len())
	// Output:
	// load: added [adapter/cache/redis#1 adapter/queue/nats#2 service/mail/smtp#3], kept [], removed []
	// reload ×100: added [], kept [adapter/cache/redis#1 adapter/queue/nats#2 service/mail/smtp#3], removed []
	// edit: added [adapter/cache/valkey#4], kept [adapter/queue/nats#2], removed [adapter/cache/redis#1 service/mail/smtp#3]
	// cache: valkey owner: manifest.json domains: [adapter]
	// true 2
}

// A Handle serves one tenant: it reads and writes its own domain only.
func ExampleRegistry_Domain() {
	r := registry.New()
	acme, globex := r.Domain("acme"), r.Domain("globex")

	// An empty Domain takes the handle's.
	if _, err := acme.Register(registry.Candidate{Key: "db", Provider: "postgres"}); err != nil {
		log.Fatal(err)
	}
	if _, err := globex.Register(registry.Candidate{Key: "db", Provider: "mysql"}); err != nil {
		log.Fatal(err)
	}
	if _, err := globex.Register(registry.Candidate{Key: "secrets", Provider: "vault"}); err != nil {
		log.Fatal(err)
	}

	e, _ := acme.Resolve("db")
	fmt.Println("acme db:", e.Provider())
	_, ok := acme.Resolve("secrets")
	fmt.Println("acme sees globex's secrets:", ok)

	// A candidate naming another domain is refused.
	_, err := acme.Register(registry.Candidate{Domain: "globex", Key: "db", Provider: "evil"})
	fmt.Println(errors.Is(err, registry.ErrWrongDomain))

	for _, e := range globex.ListActive() {
		fmt.Println("globex", e.Key(), e.Provider())
	}
	// Output:
	// acme db: postgres
	// acme sees globex's secrets: false
	// true
	// globex db mysql
	// globex secrets vault
}

// Watch delivers every change of a key's winner in the named domains. Here
// the changes are made first and read afterwards: the watch buffers them from
// the moment Watch is called. Cancelling the context ends the loop.
func ExampleRegistry_Watch() {
	r := registry.New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := r.Watch(ctx, "adapter")

	must := func(_ *registry.Entry, err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	must(r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(10)}))
	must(r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(20)}))
	must(r.Register(registry.Candidate{Domain: "service", Key: "mail", Provider: "smtp"})) // not watched
	if err := r.SetHealth("adapter", "cache", "redis", false); err != nil {
		log.Fatal(err)
	}
	r.Unregister("adapter", "cache", "memcached")

	name := func(e *registry.Entry) string {
		if e == nil {
			return "none"
		}
		return e.Provider()
	}
	for c := range changes {
		fmt.Printf("%s/%s: %s -> %s (%s)\n", c.Domain, c.Key, name(c.Previous), name(c.Current), c.Reason)
		if c.Reason == "unregister" {
			cancel() // the last change made: end the loop
		}
	}
	fmt.Println("done")
	// Output:
	// adapter/cache: none -> memcached (register)
	// adapter/cache: memcached -> redis (register)
	// adapter/cache: redis -> memcached (health)
	// adapter/cache: memcached -> redis (unregister)
	// done
}

// SetHealth fails a provider over: an unhealthy candidate never wins while a
// healthy one qualifies, even when selected, and Explain says why.
func ExampleRegistry_SetHealth() {
	r := registry.New(registry.WithSelections(map[string]map[string]string{"adapter": {"cache": "redis"}}))
	for _, c := range []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(20)},
		{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(10)},
	} {
		if _, err := r.Register(c); err != nil {
			log.Fatal(err)
		}
	}
	winner := func() string { e, _ := r.Resolve("adapter", "cache"); return e.Provider() }
	fmt.Println("healthy:", winner())

	if err := r.SetHealth("adapter", "cache", "redis", false); err != nil {
		log.Fatal(err)
	}
	fmt.Println("redis down:", winner())
	for _, rk := range r.Explain("adapter", "cache").Ordered {
		fmt.Println(" ", rk.Entry.Provider(), rk.Reasons)
	}

	if err := r.SetHealth("adapter", "cache", "memcached", false); err != nil {
		log.Fatal(err)
	}
	fmt.Println("both down, the best still wins:", winner())

	if err := r.SetHealth("adapter", "cache", "redis", true); err != nil {
		log.Fatal(err)
	}
	fmt.Println("redis back:", winner())
	// Output:
	// healthy: redis
	// redis down: memcached
	//   memcached [selection override prefers redis priority=10 stack_level=0 registration_order=2]
	//   redis [unhealthy matched selection override redis priority=20 stack_level=0 registration_order=1]
	// both down, the best still wins: redis
	// redis back: redis
}

// A limit refuses what would exceed it, changes nothing, and names itself in
// a *LimitError.
func ExampleWithLimits() {
	r := registry.New(registry.WithLimits(registry.Limits{MaxCandidatesPerKey: 2}))
	for _, p := range []string{"redis", "memcached", "valkey"} {
		_, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: p})
		var le *registry.LimitError
		if errors.As(err, &le) {
			fmt.Printf("%s refused: %v (limit %q, max %d)\n", p, errors.Is(err, registry.ErrLimitExceeded), le.Limit, le.Max)
			continue
		}
		fmt.Println(p, "registered")
	}
	// Output:
	// redis registered
	// memcached registered
	// valkey refused: true (limit "candidates per key", max 2)
}
