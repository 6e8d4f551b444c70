package domain

import (
	"errors"
	"fmt"
)

// ErrInvalidCandidate is matched (with [errors.Is]) by every error that reports a
// candidate, a name or an option the registry refuses: an empty domain or key,
// a name that is not valid UTF-8, holds a control character or is too long,
// metadata nested too deeply or containing a cycle, or an unknown [Source].
var ErrInvalidCandidate = errors.New("invalid candidate")

// invalid returns an error wrapping ErrInvalidCandidate with a reason.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidCandidate, fmt.Sprintf(format, args...))
}

// ErrLimitExceeded is matched (with [errors.Is]) by every error that reports
// an operation refused because it would exceed one of the registry's
// [Limits]. Such an operation changes nothing. Use [errors.As] with a
// *[LimitError] to learn which limit.
var ErrLimitExceeded = errors.New("limit exceeded")

// Limits bound what a registry holds. A zero or negative field means no
// limit.
type Limits struct {
	MaxDomains          int // domains with at least one candidate
	MaxKeysPerDomain    int // keys with at least one candidate, per domain
	MaxCandidatesPerKey int // candidates per (domain, key)
	MaxMetadataBytes    int // per candidate, as [Entry.MetadataBytes] counts them
	// MaxMarksPerDomain bounds a domain's selections plus its unhealthy
	// marks (one per key, provider), which outlive candidates and so
	// count whether or not the domain has any.
	MaxMarksPerDomain int
}

// LimitError reports which limit an operation would have exceeded. It
// matches [ErrLimitExceeded].
type LimitError struct {
	Limit       string // "domains", "keys per domain", "candidates per key", "metadata bytes" or "marks per domain"
	Max         int    // the configured limit
	Domain, Key string // where it was hit ("" when not applicable)
}

// Error names the limit, its maximum and where it was hit, as in
// `limit exceeded: at most 3 candidates per key in "adapter"/"cache"`.
func (e *LimitError) Error() string {
	where := ""
	switch {
	case e.Key != "":
		where = fmt.Sprintf(" in %q/%q", e.Domain, e.Key)
	case e.Domain != "":
		where = fmt.Sprintf(" in %q", e.Domain)
	}
	return fmt.Sprintf("%v: at most %d %s%s", ErrLimitExceeded, e.Max, e.Limit, where)
}

// Unwrap returns [ErrLimitExceeded].
func (e *LimitError) Unwrap() error { return ErrLimitExceeded }
