package manifest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrMalformed is matched (with [errors.Is]) by every error that reports a
// file that is not a manifest: invalid JSON, a value of the wrong type, an
// unknown or repeated field. Errors about values the registry would refuse
// (an empty key, an unknown source) match [registry.ErrInvalidCandidate]
// instead.
var ErrMalformed = errors.New("malformed manifest")

// ErrConflict is matched by the error [Load] returns when two manifests
// select different providers for the same (domain, key).
var ErrConflict = errors.New("conflicting selections")

// Error is the error of a manifest that cannot be parsed or loaded. It names
// the file, the position when it is known, and the entry:
//
//	cache.json:14:5: candidates[3] (adapter/cache): invalid candidate: key is empty
//
// Err is the cause; Error unwraps to it, so [errors.Is] matches
// [ErrMalformed], [ErrConflict] or [registry.ErrInvalidCandidate] through it,
// and [errors.As] finds a *[encoding/json.SyntaxError] for invalid JSON.
type Error struct {
	File string // the name the manifest was parsed from; "" for one built in code
	// Line and Column locate the problem, both counted from 1; Column counts
	// characters (runes), not bytes. Both are 0 when the position is not
	// known (a Manifest built in code).
	Line, Column int
	// Entry names the part of the manifest at fault: "owner",
	// "candidates[3] (adapter/cache)", "selections.adapter.cache"; "" for
	// the file as a whole.
	Entry string
	Err   error
}

// Error gives the file, the position, the entry at fault and the cause, in
// the form file:line:column: entry: cause, leaving out the parts that are not
// known (a manifest built in code has neither file nor position).
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%d:%d", e.Line, e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Entry != "" {
		b.WriteString(e.Entry)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("invalid manifest")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// formatError is a cause that matches ErrMalformed without repeating its
// text in every message.
type formatError struct {
	msg string
	err error // an underlying error, such as a *json.SyntaxError; may be nil
}

func (e *formatError) Error() string        { return e.msg }
func (e *formatError) Is(target error) bool { return target == ErrMalformed }
func (e *formatError) Unwrap() error        { return e.err }

func malformed(format string, args ...any) error {
	return &formatError{msg: fmt.Sprintf(format, args...)}
}

// pos is a position in a manifest file; the zero pos is unknown.
type pos struct{ line, col int }

// errorAt returns an *Error for file at p.
func errorAt(file string, p pos, entry string, err error) *Error {
	return &Error{File: file, Line: p.line, Column: p.col, Entry: entry, Err: err}
}

// candidateEntry names candidates[i] with its address: "candidates[3]
// (adapter/cache)". Names that are empty or hold unusual characters are
// quoted, so that the message stays on one readable line.
func candidateEntry(i int, domainName, key string) string {
	return fmt.Sprintf("candidates[%d] (%s/%s)", i, shown(domainName), shown(key))
}

// selectionEntry names the selection of (domain, key):
// "selections.adapter.cache".
// Names that hold a dot are shown as selections["a.b"]["c"].
func selectionEntry(domainName, key string) string {
	if !strings.Contains(domainName+key, ".") {
		return "selections." + shown(domainName) + "." + shown(key)
	}
	return fmt.Sprintf("selections[%s][%s]", strconv.Quote(domainName), strconv.Quote(key))
}

// shown returns s as is when it is plain, else quoted; a name longer than
// maxShown characters is cut to that length and ends with "…".
func shown(s string) string {
	if utf8.RuneCountInString(s) > maxShown {
		s = string([]rune(s)[:maxShown]) + "…"
	}
	if plain(s) {
		return s
	}
	return strconv.Quote(s)
}

// maxShown is the longest name an entry shows in full: enough for any name
// a person would write, short enough to keep the message on one line.
const maxShown = 40

// plain reports whether s is non-empty and made of printable characters
// other than spaces, quotes and slashes.
func plain(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) || r == '"' || r == '/' || r == '\\' || r == unicode.ReplacementChar {
			return false
		}
	}
	return true
}
