package domain

import (
	"unicode"
	"unicode/utf8"
)

// Limits on what a candidate may hold. They bound the work and memory one
// registration can cost, and they are what [ErrInvalidCandidate] reports.
const (
	// MaxNameLen is the longest domain, key or provider accepted, in bytes.
	// 256 bytes fits any component or tenant name and keeps entries small.
	MaxNameLen = 256
	// MaxMetadataDepth is the deepest metadata nesting accepted. The
	// Metadata map itself is level 1, a map or slice inside it level 2, and
	// so on; an array counts as a level when it holds maps, slices or
	// interfaces (one of plain values is kept as it is). The limit bounds
	// the recursion of copying, and it is what stops a cycle that the path
	// check does not see (a slice holding itself).
	MaxMetadataDepth = 32
	// MaxMetadataValues is the most values a candidate's metadata may hold,
	// counted as they are copied: every map entry, every element of a slice
	// or array whose elements may hold maps, slices or interfaces, and one
	// for every 64 bytes of a slice or array of plain values (a 1 MiB
	// []byte is 16,384; an element counts at least a byte, and an array at
	// least the array elements nested in it, so [64][1 << 24][0]string,
	// which takes no bytes, counts its 2^30 elements). A map or slice met
	// at several places is counted once at each depth it is met, a
	// []string once, an array each time. It bounds the work of copying,
	// comparing and counting whatever the metadata's shape, before
	// MaxMetadataBytes is checked: a million values is far more than any
	// configuration needs.
	MaxMetadataValues = 1 << 20
)

// CheckName reports whether s may be used as a domain, key or provider name:
// valid UTF-8, no control character, at most [MaxNameLen] bytes, and non-empty
// unless allowEmpty. what names the field in the error, which matches
// [ErrInvalidCandidate].
func CheckName(what, s string, allowEmpty bool) error {
	switch {
	case s == "" && !allowEmpty:
		return invalid("%s is empty", what)
	case len(s) > MaxNameLen:
		return invalid("%s is %d bytes long, over the limit of %d", what, len(s), MaxNameLen)
	}
	// Names are almost always ASCII: one pass over the bytes settles them.
	ascii := true
	for i := 0; i < len(s); i++ {
		if b := s[i]; b >= utf8.RuneSelf {
			ascii = false
			break
		} else if b < 0x20 || b == 0x7f {
			return invalid("%s %q contains the control character %U", what, s, rune(b))
		}
	}
	if ascii {
		return nil
	}
	if !utf8.ValidString(s) {
		return invalid("%s %q is not valid UTF-8", what, s)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalid("%s %q contains the control character %U", what, s, r)
		}
	}
	return nil
}

// CheckAddress checks a domain, a key and a provider (which may be empty)
// with [CheckName].
func CheckAddress(domain, key, provider string) error {
	if err := CheckName("domain", domain, false); err != nil {
		return err
	}
	if err := CheckName("key", key, false); err != nil {
		return err
	}
	return CheckName("provider", provider, true)
}
