// Package registry is a sharded, per-domain candidate registry: programs
// register candidates (implementations of a component) under a domain and a
// key, and the registry keeps, for every key, one active winner by
// well-defined precedence, lists the shadowed ones, and explains every
// decision.
//
// # Precedence
//
// Candidates of one key are ranked by the score (override, capability_match,
// priority, stack_level, sequence), compared lexicographically, higher first.
// override is 1 for candidates of the provider a selection names (see
// [Registry.Select] and [WithSelections]); capability_match counts the
// required capabilities a candidate has (see [Require]); sequence is unique,
// so the later registration wins an otherwise equal tie.
//
// # Concurrency
//
// All exported functions and methods are safe to be used concurrently, and
// every operation is linearizable. Domains are hashed onto shards, each with
// its own writer lock; readers take no lock but in one fallback: [Registry.Resolve],
// [Registry.Explain], [Registry.ListActive] and [Registry.ListShadowed] read an
// immutable version of the domain published atomically by the last writer,
// and a reader never waits for a writer of another key: Resolve retries only
// while a writer of its key is between two stores, and ListActive and
// ListShadowed retry, then lock that one shard, only while writers of their
// domain keep changing it. Writes that change several domains
// ([Registry.RegisterPackage]) become visible to every reader at once.
// [Registry.Snapshot] and [Registry.Domains] lock the shards they read in
// ascending order, so they are consistent across domains. No lock is held
// while a logger runs.
//
// Nothing a caller passes in or gets back can change what the registry holds:
// candidates are deep-copied on registration and entries are immutable.
//
// # Example
//
//	r := registry.New(registry.WithSelections(map[string]map[string]string{
//		"adapter": {"cache": "redis"},
//	}))
//	if _, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "memcached", Priority: new(50)}); err != nil {
//		log.Fatal(err)
//	}
//	if _, err := r.Register(registry.Candidate{Domain: "adapter", Key: "cache", Provider: "redis"}); err != nil {
//		log.Fatal(err)
//	}
//	e, _ := r.Resolve("adapter", "cache") // redis: the selection overrides priority
//	fmt.Println(e.Provider())
//	fmt.Print(r.Explain("adapter", "cache"))
package registry
