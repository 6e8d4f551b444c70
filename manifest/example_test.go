package manifest_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/oneiric-go/oneiric/manifest"
	"github.com/oneiric-go/oneiric/registry"
)

// Parse a manifest, load it into a registry, and load it again: the second
// load changes nothing.
func ExampleLoad() {
	m, err := manifest.Parse("cache.json", []byte(`{
		"owner": "billing",
		"candidates": [
			{"domain": "adapter", "key": "cache", "provider": "redis", "priority": 90, "factory": "billing:Redis"},
			{"domain": "adapter", "key": "cache", "provider": "memcached", "priority": 50}
		],
		"selections": {"adapter": {"cache": "memcached"}}
	}`))
	if err != nil {
		log.Fatal(err)
	}
	r := registry.New()
	for range 3 {
		if err := manifest.Load(r, m); err != nil {
			log.Fatal(err)
		}
	}
	e, _ := r.Resolve("adapter", "cache")
	fmt.Println(e.Provider(), e.Owner(), e.Sequence(), r.Snapshot().Len())
	e, _ = r.Resolve("adapter", "cache", registry.Provider("redis"))
	fmt.Println(e.Provider(), e.Factory())
	// Output:
	// memcached billing 2 2
	// redis billing:Redis
}

// A malformed manifest gets an error naming the file, the position and the
// entry.
func ExampleParse_error() {
	_, err := manifest.Parse("cache.json", []byte(`{
  "candidates": [
    {"domain": "adapter", "key": "cache", "provider": "redis"},
    {"domain": "adapter", "key": "", "provider": "memcached"}
  ]
}`))
	fmt.Println(err)
	fmt.Println(errors.Is(err, registry.ErrInvalidCandidate))
	var me *manifest.Error
	if errors.As(err, &me) {
		fmt.Println(me.File, me.Line, me.Column, me.Entry)
	}
	// Output:
	// cache.json:4:34: candidates[1] (adapter/""): invalid candidate: key is empty
	// true
	// cache.json 4 34 candidates[1] (adapter/"")
}
