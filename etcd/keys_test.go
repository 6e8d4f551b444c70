package etcd_test

import (
	"errors"
	"testing"

	oetcd "github.com/oneiric-go/oneiric/etcd"
)

func TestKeyLayout(t *testing.T) {
	for _, tc := range []struct {
		name                         string
		owner, domain, key, provider string
		want                         string
	}{
		{"plain", "billing", "adapter", "cache", "redis", "/p/candidates/billing/adapter/cache/redis"},
		{"slash in every name", "team/a", "tenant/x", "k/v", "red/is", "/p/candidates/team%2Fa/tenant%2Fx/k%2Fv/red%2Fis"},
		{"percent", "100%", "adapter", "cache", "50%off", "/p/candidates/100%25/adapter/cache/50%25off"},
		{"empty provider", "o", "adapter", "cache", "", "/p/candidates/o/adapter/cache/"},
		{"space and unicode", "ops team", "adapter", "café", "redis", "/p/candidates/ops%20team/adapter/caf%C3%A9/redis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := oetcd.CandidateKey("/p/", tc.owner, tc.domain, tc.key, tc.provider)
			if k != tc.want {
				t.Fatalf("CandidateKey = %q, want %q", k, tc.want)
			}
			kind, owner, domain, key, provider, err := oetcd.ParseKey("/p", k)
			if err != nil || kind != "candidate" || owner != tc.owner || domain != tc.domain || key != tc.key || provider != tc.provider {
				t.Fatalf("ParseKey(%q) = %q %q %q %q %q %v", k, kind, owner, domain, key, provider, err)
			}
		})
	}
	k := oetcd.SelectionKey("/p", "tenant/x", "cache")
	if k != "/p/selections/tenant%2Fx/cache" {
		t.Fatalf("SelectionKey = %q", k)
	}
	if kind, _, d, key, _, err := oetcd.ParseKey("/p", k); err != nil || kind != "selection" || d != "tenant/x" || key != "cache" {
		t.Fatalf("ParseKey(%q) = %q %q %q %v", k, kind, d, key, err)
	}
	// The owner's generation key: outside the candidates directory, the
	// owner escaped as in its candidate keys.
	k = oetcd.GenerationKey("/p/", "team/a 100%")
	if k != "/p/owners/team%2Fa%20100%25" {
		t.Fatalf("GenerationKey = %q", k)
	}
	if kind, owner, _, _, _, err := oetcd.ParseKey("/p", k); err != nil || kind != "generation" || owner != "team/a 100%" {
		t.Fatalf("ParseKey(%q) = %q %q %v", k, kind, owner, err)
	}
}

// Keys not in the layout are refused, non-canonical escapes included: one
// candidate has exactly one key.
func TestKeyLayoutRefuses(t *testing.T) {
	for name, k := range map[string]string{
		"lower-case escape":   "/p/candidates/o/adapter/cache/a%2fb",
		"needless escape":     "/p/candidates/o/adapter/cache/re%64is",
		"raw space":           "/p/candidates/o/adapter/ca che/redis",
		"bad escape":          "/p/candidates/o/adapter/cache/%zz",
		"too few parts":       "/p/candidates/o/adapter/cache",
		"too many parts":      "/p/candidates/o/adapter/cache/redis/x",
		"selection too long":  "/p/selections/adapter/cache/redis",
		"unknown directory":   "/p/other/x",
		"generation too long": "/p/owners/o/x",
		"generation alone":    "/p/owners",
		"generation escape":   "/p/owners/a%2fb",
		"outside the prefix":  "/q/candidates/o/adapter/cache/redis",
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, _, _, _, err := oetcd.ParseKey("/p", k); !errors.Is(err, oetcd.ErrBadKey) {
				t.Fatalf("ParseKey(%q): err = %v, want ErrBadKey", k, err)
			}
		})
	}
}
