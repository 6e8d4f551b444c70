// Package etcd mirrors candidates and selections from etcd into registries,
// so that a fleet of hosts resolves the same way: [Publish] writes an owner's
// set of candidates in one transaction, and [Mirror] keeps a
// [registry.Registry] equal to what etcd holds, through etcd's watch API.
//
// It is a module of its own (github.com/oneiric-go/oneiric/etcd), so that the
// core module keeps xxhash as its only dependency.
//
// # Key layout
//
// Everything lives under a prefix that the publishers and the mirrors share
// ("/oneiric/prod", say; trailing slashes are dropped):
//
//	PREFIX/candidates/OWNER/DOMAIN/KEY/PROVIDER   one candidate, in the manifest JSON format
//	PREFIX/selections/DOMAIN/KEY                  the selected provider, as plain text
//	PREFIX/owners/OWNER                           the owner's generation: written by every Publish that changes the owner
//
// Each name is escaped with [url.PathEscape], so a name may hold "/" (it
// becomes "%2F") or "%" ("%25"); [CandidateKey], [SelectionKey] and
// [GenerationKey] build the keys. A mirror accepts only that canonical
// escaping, so a candidate has exactly one key. One key per (owner, domain,
// key, provider) means one candidate per provider per key per owner. The
// value of a candidate key is the object a manifest's "candidates" array
// holds (docs/manifest.md), its factory a name that each host looks up in
// its own table. An owner's generation key is the publishers' guard against
// each other ([Publish]); mirrors ignore it (it is neither a candidate nor a
// skipped value), and it goes when the owner's set becomes empty.
//
// # Guarantees
//
// A [Publish] is one etcd revision; a mirror applies each revision's changes
// to an owner with one [registry.Registry.Apply], so a reader of the
// registry sees an owner's old set or its new one, never a mix. Mirrors apply
// revisions in order, so two mirrors that followed the same stream hold the
// same entries, registered in the same order, and agree on every winner, ties
// included. After a failure a mirror loads the prefix again and converges to
// what etcd holds; a mirror that loaded (rather than followed) an owner's set
// registers that owner's candidates in their order of modification, which
// reproduces the followed order except across owners whose writes
// interleaved: candidates of different owners that tie on every other part
// of the score may then rank differently on that host. Give competing
// candidates distinct priorities or stack levels, or a selection, when every
// host must agree.
//
// A value a mirror cannot use (see [Status].Skipped) is logged, counted and
// left out; it never stops the mirror.
//
// All exported functions and methods are safe to be used concurrently.
//
// # Example
//
//	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{"http://etcd:2379"}})
//	// …
//	r := registry.New()
//	m, err := etcd.Mirror(ctx, cli, "/oneiric/prod", r, map[string]any{
//		"billing.cache:Redis": newRedisCache, // factory names → the host's code
//	})
//	// …
//	rev, err := etcd.Publish(ctx, cli, "/oneiric/prod", "billing", []registry.Candidate{
//		{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(90), Factory: "billing.cache:Redis"},
//	})
//	// …
//	err = m.WaitRevision(ctx, rev) // the registry now shows billing's set
//	e, _ := r.Resolve("adapter", "cache")
//
// docs/scale-out.md describes the design, the failure modes and the tests.
package etcd
