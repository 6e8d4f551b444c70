package etcd

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// The directories of the key layout, under the prefix.
const (
	candidatesDir = "candidates"
	selectionsDir = "selections"
	ownersDir     = "owners" // the owners' generation keys, which mirrors ignore
)

// ErrBadKey is matched by the error of a key under the prefix that is not in
// the layout (see the package documentation): a wrong number of parts, a
// part that is not in canonical escaped form, an unknown directory.
var ErrBadKey = errors.New("key not in the layout")

// CandidateKey returns the etcd key of one candidate:
// prefix/candidates/OWNER/DOMAIN/KEY/PROVIDER, each name escaped with
// [url.PathEscape] (so "/" becomes "%2F" and "%" becomes "%25"). An empty
// provider gives an empty last part: the key ends with "/".
func CandidateKey(prefix, owner, domain, key, provider string) string {
	return ownerDir(prefix, owner) + esc(domain) + "/" + esc(key) + "/" + esc(provider)
}

// SelectionKey returns the etcd key of the selection of (domain, key):
// prefix/selections/DOMAIN/KEY, each name escaped with [url.PathEscape]. Its
// value is the selected provider, as plain text.
func SelectionKey(prefix, domain, key string) string {
	return cleanPrefix(prefix) + "/" + selectionsDir + "/" + esc(domain) + "/" + esc(key)
}

// GenerationKey returns the etcd key of owner's generation:
// prefix/owners/OWNER, the owner escaped as in [CandidateKey]. Every
// [Publish] that writes anything for owner puts it in its transaction (and
// deletes it when the owner's set becomes empty), and commits only if it
// was not written since its read: so a concurrent publisher of the same
// owner that committed any change, a deletion included, makes the other
// read again. Its value (the number of candidates the owner holds) is
// informative only; mirrors ignore the key. A program that writes an
// owner's candidate keys itself should put it in the same transaction.
func GenerationKey(prefix, owner string) string {
	return cleanPrefix(prefix) + "/" + ownersDir + "/" + esc(owner)
}

// ownerDir returns the directory of owner's candidates, ending with "/".
func ownerDir(prefix, owner string) string {
	return cleanPrefix(prefix) + "/" + candidatesDir + "/" + esc(owner) + "/"
}

func esc(name string) string { return url.PathEscape(name) }

// cleanPrefix drops the trailing slashes of prefix: "/oneiric/" and
// "/oneiric" name the same tree.
func cleanPrefix(prefix string) string { return strings.TrimRight(prefix, "/") }

// checkPrefix refuses a prefix that names no tree of its own: "" or "/"
// would mirror the whole keyspace.
func checkPrefix(prefix string) error {
	if cleanPrefix(prefix) == "" {
		return fmt.Errorf("prefix %q is empty once its trailing slashes are dropped", prefix)
	}
	return nil
}

// keyKind says what an etcd key under the prefix holds.
type keyKind uint8

const (
	kindCandidate keyKind = iota + 1
	kindSelection
	kindGeneration // an owner's generation key: neither a candidate nor invalid
)

// address is what a key under the prefix names: a candidate (owner, domain,
// key, provider), a selection (domain, key) or an owner's generation key
// (owner).
type address struct {
	kind                         keyKind
	owner, domain, key, provider string
}

// parseKey reads a key under root (the clean prefix followed by "/"). Every
// part must be in the canonical form [url.PathEscape] gives, so that one
// candidate or selection has exactly one key.
func parseKey(root, k string) (address, error) {
	rest, ok := strings.CutPrefix(k, root)
	if !ok {
		return address{}, fmt.Errorf("%w: %q is not under %q", ErrBadKey, k, root)
	}
	parts := strings.Split(rest, "/")
	var a address
	var want int
	switch parts[0] {
	case candidatesDir:
		a.kind, want = kindCandidate, 5
	case selectionsDir:
		a.kind, want = kindSelection, 3
	case ownersDir:
		a.kind, want = kindGeneration, 2
	default:
		return address{}, fmt.Errorf("%w: %q: want %s/…, %s/… or %s/… under the prefix", ErrBadKey, k, candidatesDir, selectionsDir, ownersDir)
	}
	if len(parts) != want {
		return address{}, fmt.Errorf("%w: %q: want %d parts after %q, got %d", ErrBadKey, k, want-1, root+parts[0]+"/", len(parts)-1)
	}
	names := make([]string, len(parts)-1)
	for i, p := range parts[1:] {
		n, err := url.PathUnescape(p)
		if err != nil {
			return address{}, fmt.Errorf("%w: %q: part %q: %w", ErrBadKey, k, p, err)
		}
		if esc(n) != p {
			return address{}, fmt.Errorf("%w: %q: part %q is not escaped as url.PathEscape does it (want %q)", ErrBadKey, k, p, esc(n))
		}
		names[i] = n
	}
	switch a.kind {
	case kindCandidate:
		a.owner, a.domain, a.key, a.provider = names[0], names[1], names[2], names[3]
	case kindSelection:
		a.domain, a.key = names[0], names[1]
	case kindGeneration:
		a.owner = names[0]
	}
	return a, nil
}
