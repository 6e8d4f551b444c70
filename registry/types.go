package registry

import (
	"fmt"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/shard"
)

// Candidate is what a caller registers; see [domain.Candidate].
type Candidate = domain.Candidate

// Entry is a registered candidate, immutable; see [domain.Entry].
type Entry = domain.Entry

// Source says where a candidate came from; see [domain.Source].
type Source = domain.Source

// The sources a candidate may come from.
const (
	SourceLocalPkg       = domain.SourceLocalPkg
	SourceRemoteManifest = domain.SourceRemoteManifest
	SourceEntryPoint     = domain.SourceEntryPoint
	SourceManual         = domain.SourceManual
)

// ErrInvalidCandidate is matched by every error reporting input the registry
// refuses; see [domain.ErrInvalidCandidate]. Such an operation changes
// nothing and consumes no sequence number.
var ErrInvalidCandidate = domain.ErrInvalidCandidate

// ParseSource returns the Source whose text form is name; see
// [domain.ParseSource].
func ParseSource(name string) (Source, error) { return domain.ParseSource(name) }

// ErrLimitExceeded is matched by every error reporting an operation that
// would exceed one of the registry's [Limits]; see [domain.ErrLimitExceeded].
// Such an operation changes nothing and consumes no sequence number.
var ErrLimitExceeded = domain.ErrLimitExceeded

// Limits bound what a registry holds; see [WithLimits] and [domain.Limits].
type Limits = domain.Limits

// LimitError names the limit an operation would have exceeded; it matches
// [ErrLimitExceeded]. See [domain.LimitError].
type LimitError = domain.LimitError

// ErrWrongDomain is matched by the error a [Handle] returns for a candidate
// that names a domain other than the handle's. Being refused input, that
// error also matches [ErrInvalidCandidate].
var ErrWrongDomain = fmt.Errorf("%w: another domain than the handle's", ErrInvalidCandidate)

// Decision reports a change of a key's winner, to the hook set by
// [WithDecisionHook] and, inside a [Change], to watchers.
type Decision struct {
	Domain, Key       string
	Previous, Current *Entry // nil when the key had, or has, no candidates
	// Reason is what changed the winner: "register", "register-package",
	// "apply", "unregister", "select", "health", or "resync" for the current
	// state a watcher is sent after its buffer overflowed.
	Reason string
}

func decision(c shard.Change) Decision {
	return Decision{Domain: c.Domain, Key: c.Key, Previous: c.Old, Current: c.New, Reason: c.Reason}
}
