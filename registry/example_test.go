package registry_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"

	"github.com/oneiric-go/oneiric/registry"
)

// Register candidates for a key and resolve its winner: the highest priority
// wins, and an equal priority goes to the later registration.
func ExampleNew() {
	r := registry.New()

	for _, c := range []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(10)},
		{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(20)},
		{Domain: "adapter", Key: "queue", Provider: "rabbitmq"}, // nil Priority: the default, 0
		{Domain: "adapter", Key: "queue", Provider: "nats"},     // the same priority, registered later: wins
	} {
		if _, err := r.Register(c); err != nil {
			log.Fatal(err)
		}
	}

	cache, ok := r.Resolve("adapter", "cache")
	fmt.Println(cache.Provider(), cache.Priority(), ok)

	queue, _ := r.Resolve("adapter", "queue")
	fmt.Println(queue.Provider(), queue.Priority())

	_, ok = r.Resolve("adapter", "storage")
	fmt.Println("storage:", ok)
	// Output:
	// redis 20 true
	// nats 0
	// storage: false
}

// Resolve can require capabilities, all of them by default or any of them,
// and can ask for one provider.
func ExampleRegistry_Resolve() {
	r := registry.New()
	must := func(_ *registry.Entry, err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	must(r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(50)}))
	must(r.Register(registry.Candidate{
		Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(10),
		Capabilities: []string{"ttl"},
		Metadata:     map[string]any{"capability_descriptors": []any{map[string]any{"name": "cluster"}}},
	}))

	e, _ := r.Resolve("adapter", "cache")
	fmt.Println("default:", e.Provider())
	e, _ = r.Resolve("adapter", "cache", registry.Require("ttl", "cluster"))
	fmt.Println("ttl and cluster:", e.Provider(), e.Capabilities())
	_, ok := r.Resolve("adapter", "cache", registry.Require("ttl", "acl"))
	fmt.Println("ttl and acl:", ok)
	e, _ = r.Resolve("adapter", "cache", registry.RequireAny("ttl", "acl"))
	fmt.Println("ttl or acl:", e.Provider())
	e, _ = r.Resolve("adapter", "cache", registry.Provider("memcached"))
	fmt.Println("memcached:", e.Provider(), e.Sequence())
	// Output:
	// default: memcached
	// ttl and cluster: redis [cluster ttl]
	// ttl and acl: false
	// ttl or acl: redis
	// memcached: memcached 1
}

// Explain shows every qualifying candidate in rank order with its score
// (override, capability_match, priority, stack_level, sequence) and the
// reasons behind it; the winner is marked with "*".
func ExampleRegistry_Explain() {
	r := registry.New(registry.WithSelections(map[string]map[string]string{
		"adapter": {"cache": "redis"},
	}))
	for _, c := range []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(50), StackLevel: 1},
		{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(10)},
		{Domain: "adapter", Key: "cache", Provider: "valkey", Priority: new(50)},
	} {
		if _, err := r.Register(c); err != nil {
			log.Fatal(err)
		}
	}

	x := r.Explain("adapter", "cache")
	fmt.Print(x)
	w, _ := x.Winner()
	fmt.Println("winner:", w.Provider())
	// Output:
	// adapter/cache: winner redis
	// RANK  PROVIDER   SCORE (o,c,p,s,seq)  REASONS
	// *1    redis      (1,0,10,0,2)         matched selection override redis; priority=10; stack_level=0; registration_order=2
	//  2    memcached  (0,0,50,1,1)         selection override prefers redis; priority=50; stack_level=1; registration_order=1
	//  3    valkey     (0,0,50,0,3)         selection override prefers redis; priority=50; stack_level=0; registration_order=3
	// winner: redis
}

// An Explanation marshals to the JSON form Oneiric's explain produces.
func ExampleRegistry_Explain_json() {
	r := registry.New()
	if _, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis", Capabilities: []string{"ttl"}}); err != nil {
		log.Fatal(err)
	}
	b, err := json.Marshal(r.Explain("adapter", "cache", registry.Require("ttl")))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output:
	// {"domain":"adapter","key":"cache","ordered":[{"provider":"redis","score":[0,1,0,0,1],"selected":true,"reasons":["priority=0","capability_match=1/1","stack_level=0","registration_order=1"]}]}
}

// A selection makes one provider win its key whatever the priorities; it
// takes effect at once and outlives the provider's candidates. An empty
// provider clears it.
func ExampleRegistry_Select() {
	r := registry.New()
	for _, c := range []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(50)},
		{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(10)},
	} {
		if _, err := r.Register(c); err != nil {
			log.Fatal(err)
		}
	}
	winner := func() string {
		if e, ok := r.Resolve("adapter", "cache"); ok {
			return e.Provider()
		}
		return "none"
	}

	fmt.Println("by priority:", winner())
	if err := r.Select("adapter", "cache", "redis"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("selected redis:", winner())

	n := r.Unregister("adapter", "cache", "redis")
	fmt.Println("unregistered", n, "redis:", winner())
	if _, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis"}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("redis is back:", winner())

	if err := r.Select("adapter", "cache", ""); err != nil {
		log.Fatal(err)
	}
	fmt.Println("cleared:", winner())
	// Output:
	// by priority: memcached
	// selected redis: redis
	// unregistered 1 redis: memcached
	// redis is back: redis
	// cleared: memcached
}

// RegisterPackage registers what a plugin loader found in one package, all
// or nothing. Candidates without a priority get the one inferred from the
// stack order or, failing that, from the path; each gets the package and
// path as metadata.
func ExampleRegistry_RegisterPackage() {
	r := registry.New(registry.WithStackOrder("core:100,extras"))

	es, err := r.RegisterPackage("acme", "/project/adapters/acme.py", []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "acme-cache"},
		{Domain: "adapter", Key: "queue", Provider: "acme-queue", Priority: new(5)},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range es {
		pkg, _ := e.Meta("package")
		path, _ := e.Meta("path")
		fmt.Println(e.Key(), e.Provider(), e.Priority(), e.Sequence(), pkg, path)
	}

	es, err = r.RegisterPackage("core", "/project/core.py", []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "core-cache"},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(es[0].Provider(), es[0].Priority())

	_, err = r.RegisterPackage("broken", "/project/broken.py", []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "fine"},
		{Domain: "adapter", Key: "", Provider: "no key"},
	}, nil)
	fmt.Println(errors.Is(err, registry.ErrInvalidCandidate), len(r.ListShadowed("adapter")))
	// Output:
	// cache acme-cache 76 1 acme /project/adapters/acme.py
	// queue acme-queue 5 2 acme /project/adapters/acme.py
	// core-cache 100
	// true 1
}

// A Snapshot is a consistent, immutable view: later writes do not change it.
func ExampleRegistry_Snapshot() {
	r := registry.New()
	if _, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "memcached"}); err != nil {
		log.Fatal(err)
	}
	snap := r.Snapshot()

	if _, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(10)}); err != nil {
		log.Fatal(err)
	}
	if _, err := r.Register(registry.Candidate{Domain: "service", Key: "auth", Provider: "oidc"}); err != nil {
		log.Fatal(err)
	}

	then, _ := snap.Resolve("adapter", "cache")
	now, _ := r.Resolve("adapter", "cache")
	fmt.Println("snapshot:", then.Provider(), snap.Domains())
	fmt.Println("registry:", now.Provider(), r.Domains())
	// Output:
	// snapshot: memcached [adapter]
	// registry: redis [adapter service]
}
