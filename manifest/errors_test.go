package manifest_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/manifest"
	"github.com/oneiric-go/oneiric/registry"
)

// TestErrorLeavesOutWhatIsNotKnown: Error writes file, position, entry and
// cause, and leaves out the parts that are empty, with no stray separator;
// an Error without a cause does not panic.
func TestErrorLeavesOutWhatIsNotKnown(t *testing.T) {
	cause := errors.New("key is empty")
	tests := []struct {
		name string
		e    manifest.Error
		want string
	}{
		{"everything", manifest.Error{File: "a.json", Line: 2, Column: 3, Entry: "owner", Err: cause}, "a.json:2:3: owner: key is empty"},
		{"no position", manifest.Error{File: "a.json", Entry: "owner", Err: cause}, "a.json: owner: key is empty"},
		{"no file", manifest.Error{Line: 2, Column: 3, Entry: "owner", Err: cause}, "2:3: owner: key is empty"},
		{"no entry", manifest.Error{File: "a.json", Line: 2, Column: 3, Err: cause}, "a.json:2:3: key is empty"},
		{"only the cause", manifest.Error{Err: cause}, "key is empty"},
		{"no cause", manifest.Error{File: "a.json"}, "a.json: invalid manifest"},
		{"nothing", manifest.Error{}, "invalid manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.e.Error())
		})
	}
}

// TestParseWithoutAFileName: the error of data parsed without a file name
// starts with its position.
func TestParseWithoutAFileName(t *testing.T) {
	_, err := manifest.Parse("", []byte(`{"owner": "o", "candidates": [{"domain": "a", "key": ""}]}`))
	require.ErrorIs(t, err, registry.ErrInvalidCandidate)
	assert.Equal(t, `1:54: candidates[0] (a/""): invalid candidate: key is empty`, err.Error())
}

// TestValidateNil: a nil *Manifest is refused with an error, not a panic.
func TestValidateNil(t *testing.T) {
	var m *manifest.Manifest
	err := m.Validate()
	assert.ErrorIs(t, err, registry.ErrInvalidCandidate)
	var me *manifest.Error
	assert.ErrorAs(t, err, &me)
	assert.Equal(t, "invalid candidate: the manifest is nil", err.Error())
}
