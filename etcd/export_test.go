package etcd

import (
	"context"

	"github.com/oneiric-go/oneiric/registry"
)

// WithBeforeWatch makes the mirror call f after each load, with the loaded
// revision, and start its watch only when f returns: a test holds the mirror
// at a revision with it.
func WithBeforeWatch(f func(ctx context.Context, rev int64)) Option {
	return func(o *options) { o.beforeWatch = f }
}

// ParseKey exposes parseKey: kind is "candidate", "selection" or
// "generation".
func ParseKey(prefix, k string) (kind, owner, domain, key, provider string, err error) {
	a, err := parseKey(cleanPrefix(prefix)+"/", k)
	if err != nil {
		return "", "", "", "", "", err
	}
	kind = map[keyKind]string{kindCandidate: "candidate", kindSelection: "selection", kindGeneration: "generation"}[a.kind]
	return kind, a.owner, a.domain, a.key, a.provider, nil
}

// EncodeCandidate and DecodeCandidate expose the value codec.
func EncodeCandidate(owner string, c registry.Candidate) ([]byte, error) {
	return encodeCandidate(owner, c)
}

func DecodeCandidate(name, owner string, value []byte) (registry.Candidate, error) {
	return decodeCandidate(name, owner, value)
}

// SetHeldRevision makes m believe that it holds etcd key k at revision rev,
// so that the next watch event of k does not follow from what it holds (a
// diverged event). It must run on the mirror's goroutine: call it from a
// [WithBeforeWatch] function.
func SetHeldRevision(m *Replica, k string, rev int64) {
	if it := m.kvs[k]; it != nil {
		it.modRev = rev
	}
}
