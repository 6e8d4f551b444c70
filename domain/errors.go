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
