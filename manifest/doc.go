// Package manifest reads the JSON manifest format of oneiric (candidates,
// selections and their owner) with errors that name the file, the position
// and the entry, and loads manifests into a [registry.Registry]: nothing
// when a manifest is invalid or an owner's set exceeds a limit of the
// registry ([Load] says the one exception, a selection beyond a limit).
//
// A manifest is one JSON object:
//
//	{
//	  "owner": "billing",
//	  "candidates": [
//	    {"domain": "adapter", "key": "cache", "provider": "redis", "priority": 90,
//	     "capabilities": ["ttl"], "metadata": {"url": "redis://cache:6379/0"},
//	     "source": "manual", "factory": "billing.cache:RedisCache"}
//	  ],
//	  "selections": {"adapter": {"cache": "redis"}}
//	}
//
// docs/manifest.md describes every field. [Parse] and [ParseFile] validate
// everything the registry would (names, sources, metadata) and the format
// itself (unknown or repeated fields, wrong types), so a [Manifest] they
// return can be loaded. Their errors about the content are *[Error] values,
// which name the file, the line and column, and the entry ("candidates[3]
// (adapter/cache)"), and match [registry.ErrInvalidCandidate] for what the
// registry would refuse, [ErrMalformed] for JSON that is not a manifest; a
// file ParseFile cannot read gives its *[io/fs.PathError] unchanged.
//
// [Load] validates every manifest it is given before it changes anything,
// then makes each owner's set of candidates equal to its manifests' through
// [registry.Registry.Apply], so reloading the same manifests changes nothing
// and never piles up duplicates.
//
// The package holds no state; its functions are safe for concurrent use.
// A [Manifest] is a plain value: do not change one while another goroutine
// reads it.
package manifest
