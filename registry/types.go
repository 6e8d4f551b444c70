package registry

import "github.com/oneiric-go/oneiric/domain"

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
