package domain

import "fmt"

// Source says where a candidate came from. Its zero value is [SourceLocalPkg].
// Its text form (used by encoding/json through MarshalText and UnmarshalText) is
// one of "local_pkg", "remote_manifest", "entry_point" and "manual"; any other
// value is invalid and a candidate carrying it is rejected.
type Source uint8

// The sources a candidate may come from.
const (
	SourceLocalPkg       Source = iota // a package found on the local file system
	SourceRemoteManifest               // a manifest fetched from elsewhere
	SourceEntryPoint                   // a plugin entry point
	SourceManual                       // registered by hand in code
	numSources
)

var sourceNames = [numSources]string{"local_pkg", "remote_manifest", "entry_point", "manual"}

// Valid reports whether s is one of the defined sources.
func (s Source) Valid() bool { return s < numSources }

// String returns the text form of s, or "Source(N)" for an invalid value.
func (s Source) String() string {
	if !s.Valid() {
		return fmt.Sprintf("Source(%d)", uint8(s))
	}
	return sourceNames[s]
}

// MarshalText implements [encoding.TextMarshaler]. It fails for an invalid value.
func (s Source) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, invalid("unknown source %d", uint8(s))
	}
	return []byte(sourceNames[s]), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler]; it accepts exactly the
// forms [Source.String] produces for valid values.
func (s *Source) UnmarshalText(text []byte) error {
	v, err := ParseSource(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSource returns the Source whose text form is name. An unknown name
// returns an error matching [ErrInvalidCandidate].
func ParseSource(name string) (Source, error) {
	for i, n := range sourceNames {
		if n == name {
			return Source(i), nil
		}
	}
	return 0, invalid("unknown source %q", name)
}
