package etcd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/oneiric-go/oneiric/manifest"
	"github.com/oneiric-go/oneiric/registry"
)

// The value of a candidate key is one candidate in the manifest format
// (docs/manifest.md): the object that a manifest's "candidates" array
// holds. Package manifest exports whole manifests only, so encoding wraps
// the candidate in a manifest of one candidate and takes it back out, and
// decoding wraps the value in one and parses it with [manifest.Parse]. Both
// therefore follow the manifest format exactly, its validation and its
// error messages included, with no second definition to drift apart.

// encodeCandidate returns the value of c's key: c in the manifest format.
// c.Factory must be nil or a factory's name (a string). It fails for what
// [manifest.Manifest.Validate] refuses.
func encodeCandidate(owner string, c registry.Candidate) ([]byte, error) {
	m := &manifest.Manifest{Owner: owner, Candidates: []registry.Candidate{c}}
	data, err := m.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var out struct {
		Candidates []json.RawMessage `json:"candidates"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	if len(out.Candidates) != 1 {
		return nil, fmt.Errorf("manifest of one candidate encoded %d", len(out.Candidates))
	}
	// What a mirror will make of it: JSON can judge what the Go value passed
	// (a struct in metadata nested deeper than the limit; map keys that are
	// not UTF-8, which all become "\ufffd" and so one repeated field). A
	// value every mirror would skip is refused here, and nothing written.
	if _, err := decodeCandidate("candidate", owner, out.Candidates[0]); err != nil {
		return nil, fmt.Errorf("%w: its JSON would not load: %w", registry.ErrInvalidCandidate, err)
	}
	return out.Candidates[0], nil
}

// errNotObject is the cause of a value that is not one JSON object.
var errNotObject = errors.New("the value is not one JSON object")

// decodeCandidate parses value, the value of the etcd key name, as one
// candidate of owner in the manifest format. Its errors are those of
// [manifest.Parse], naming the key instead of a file, with line and column
// within value; they match [manifest.ErrMalformed] or
// [registry.ErrInvalidCandidate].
func decodeCandidate(name, owner string, value []byte) (registry.Candidate, error) {
	// The value must be exactly one object, so that wrapping it in an array
	// cannot turn it into several candidates ("{…},{…}") or smuggle in
	// other manifest fields ("{…}],\"selections\":{…").
	trimmed := bytes.TrimSpace(value)
	if !json.Valid(trimmed) || len(trimmed) == 0 || trimmed[0] != '{' {
		return registry.Candidate{}, &manifest.Error{File: name, Err: fmt.Errorf("%w: %w", manifest.ErrMalformed, errNotObject)}
	}
	// The value starts a line of its own, so that positions in it keep their
	// columns; lines are shifted back by one below.
	var doc bytes.Buffer
	ownerJSON, err := json.Marshal(owner)
	if err != nil {
		return registry.Candidate{}, err
	}
	doc.WriteString(`{"owner":`)
	doc.Write(ownerJSON)
	doc.WriteString(`,"candidates":[` + "\n")
	doc.Write(value)
	doc.WriteString("\n]}")
	m, err := manifest.Parse(name, doc.Bytes())
	if err != nil {
		var me *manifest.Error
		if errors.As(err, &me) {
			me.Entry = strings.Replace(me.Entry, "candidates[0]", "candidate", 1)
			if me.Line > 0 {
				me.Line--
				if me.Line == 0 { // in the wrapper itself: the position says nothing
					me.Column = 0
				}
			}
		}
		return registry.Candidate{}, err
	}
	if len(m.Candidates) != 1 { // cannot happen for one object; keep the check
		return registry.Candidate{}, &manifest.Error{File: name, Err: fmt.Errorf("%w: %w", manifest.ErrMalformed, errNotObject)}
	}
	return m.Candidates[0], nil
}
