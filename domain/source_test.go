package domain_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/domain"
)

// TestSourceTextRoundTrip checks every defined Source: its String, its text
// form, and that ParseSource and UnmarshalText read that form back.
func TestSourceTextRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		source domain.Source
		text   string
	}{
		{"local_pkg", domain.SourceLocalPkg, "local_pkg"},
		{"remote_manifest", domain.SourceRemoteManifest, "remote_manifest"},
		{"entry_point", domain.SourceEntryPoint, "entry_point"},
		{"manual", domain.SourceManual, "manual"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.True(t, tt.source.Valid())
			assert.Equal(t, tt.text, tt.source.String())

			b, err := tt.source.MarshalText()
			require.NoError(t, err)
			assert.Equal(t, tt.text, string(b))

			parsed, err := domain.ParseSource(tt.text)
			require.NoError(t, err)
			assert.Equal(t, tt.source, parsed)

			var u domain.Source = 99 // overwritten on success
			require.NoError(t, u.UnmarshalText([]byte(tt.text)))
			assert.Equal(t, tt.source, u)
		})
	}
}

// TestSourceOrder pins the numeric values: the zero value is SourceLocalPkg,
// then remote_manifest, entry_point, manual.
func TestSourceOrder(t *testing.T) {
	var zero domain.Source
	assert.Equal(t, domain.SourceLocalPkg, zero)
	assert.Equal(t, "local_pkg", zero.String())
	assert.Equal(t, []domain.Source{0, 1, 2, 3},
		[]domain.Source{domain.SourceLocalPkg, domain.SourceRemoteManifest, domain.SourceEntryPoint, domain.SourceManual})
	assert.False(t, domain.Source(4).Valid())
}

// TestSourceJSON checks that encoding/json uses the text form, alone and as
// a struct field, both ways.
func TestSourceJSON(t *testing.T) {
	type doc struct {
		Source domain.Source `json:"source"`
	}
	tests := []struct {
		name   string
		source domain.Source
		json   string
	}{
		{"local_pkg", domain.SourceLocalPkg, `{"source":"local_pkg"}`},
		{"remote_manifest", domain.SourceRemoteManifest, `{"source":"remote_manifest"}`},
		{"entry_point", domain.SourceEntryPoint, `{"source":"entry_point"}`},
		{"manual", domain.SourceManual, `{"source":"manual"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(doc{Source: tt.source})
			require.NoError(t, err)
			assert.JSONEq(t, tt.json, string(b))
			assert.Equal(t, tt.json, string(b))

			var back doc
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, tt.source, back.Source)
		})
	}
}

// TestSourceInvalid checks that every way into or out of the text form
// rejects what is not one of the four sources, with ErrInvalidCandidate.
func TestSourceInvalid(t *testing.T) {
	t.Run("String of an out-of-range value", func(t *testing.T) {
		assert.Equal(t, "Source(4)", domain.Source(4).String())
		assert.Equal(t, "Source(255)", domain.Source(255).String())
	})
	t.Run("MarshalText of an out-of-range value", func(t *testing.T) {
		b, err := domain.Source(4).MarshalText()
		require.ErrorIs(t, err, domain.ErrInvalidCandidate)
		assert.Nil(t, b)
	})
	t.Run("json.Marshal of an out-of-range value", func(t *testing.T) {
		_, err := json.Marshal(domain.Source(7))
		require.Error(t, err)
		assert.True(t, errors.Is(err, domain.ErrInvalidCandidate), "json should keep the error matchable: %v", err)
	})

	names := []struct {
		name string
		text string
	}{
		{"empty", ""},
		{"upper case", "MANUAL"},
		{"surrounding space", " manual"},
		{"the Go constant's name", "SourceManual"},
		{"the number", "3"},
		{"invalid form", "Source(4)"},
	}
	for _, tt := range names {
		t.Run("parse "+tt.name, func(t *testing.T) {
			_, err := domain.ParseSource(tt.text)
			require.ErrorIs(t, err, domain.ErrInvalidCandidate)

			s := domain.SourceManual
			require.ErrorIs(t, s.UnmarshalText([]byte(tt.text)), domain.ErrInvalidCandidate)
			assert.Equal(t, domain.SourceManual, s, "a failed UnmarshalText leaves the value alone")
		})
	}
	t.Run("json.Unmarshal of an unknown name", func(t *testing.T) {
		var s domain.Source
		require.Error(t, json.Unmarshal([]byte(`"bogus"`), &s))
	})
}
