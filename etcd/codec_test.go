package etcd_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	oetcd "github.com/oneiric-go/oneiric/etcd"
	"github.com/oneiric-go/oneiric/manifest"
	"github.com/oneiric-go/oneiric/registry"
)

// A candidate's value is exactly the object a manifest's "candidates" array
// holds, and reads back to an equal candidate.
func TestValueIsAManifestCandidate(t *testing.T) {
	c := registry.Candidate{
		Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(90), StackLevel: 2,
		Capabilities: []string{"ttl", "cluster"}, Metadata: map[string]any{"url": "redis://x", "pool": map[string]any{"size": 16.0}},
		Source: registry.SourceManual, Factory: "billing.cache:Redis",
	}
	v, err := oetcd.EncodeCandidate("billing", c)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := (&manifest.Manifest{Owner: "billing", Candidates: []registry.Candidate{c}}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Candidates []json.RawMessage }
	if err := json.Unmarshal(whole, &m); err != nil {
		t.Fatal(err)
	}
	if string(v) != string(m.Candidates[0]) {
		t.Fatalf("value %s\nmanifest candidate %s", v, m.Candidates[0])
	}
	const want = `{"domain":"adapter","key":"cache","provider":"redis","priority":90,"stack_level":2,"capabilities":["ttl","cluster"],"metadata":{"pool":{"size":16},"url":"redis://x"},"source":"manual","factory":"billing.cache:Redis"}`
	if string(v) != want {
		t.Fatalf("value\n%s\nwant\n%s", v, want)
	}
	back, err := oetcd.DecodeCandidate("k", "billing", v)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("read back %+v\nwant %+v", back, c)
	}
}

func TestValueErrors(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		is          error
		msg         string // a part of the message
	}{
		{"not JSON", `redis`, manifest.ErrMalformed, "not one JSON object"},
		{"two candidates", `[{"domain":"a","key":"b"},{"domain":"a","key":"c"}]`, manifest.ErrMalformed, "not one JSON object"},
		{"escape from the array", `{"domain":"a","key":"b"}],"selections":{"a":{"b":"x"}},"x":[{"domain":"a","key":"b"}`, manifest.ErrMalformed, "not one JSON object"},
		{"unknown field, positioned", `{"domain":"adapter","key":"cache","prioirty":1}`, manifest.ErrMalformed, `k:1:35: candidate (adapter/cache): unknown field "prioirty"`},
		{"second line", "{\"domain\":\"adapter\",\n \"key\":\"\"}", registry.ErrInvalidCandidate, "k:2:8: candidate"},
		{"empty factory", `{"domain":"adapter","key":"cache","factory":""}`, registry.ErrInvalidCandidate, "factory is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oetcd.DecodeCandidate("k", "o", []byte(tc.value))
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v; want one matching %v and containing %q", err, tc.is, tc.msg)
			}
		})
	}
}
