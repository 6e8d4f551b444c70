package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/domain"
)

// TestCheckName covers each rule for a domain, key or provider name: valid
// UTF-8, no control character, at most MaxNameLen bytes, non-empty unless
// allowed.
func TestCheckName(t *testing.T) {
	tests := []struct {
		name       string
		s          string
		allowEmpty bool
		ok         bool
	}{
		{"plain", "cache", false, true},
		{"non-ASCII", "café-缓存", false, true},
		{"inner space", "my cache", false, true},
		{"empty refused", "", false, false},
		{"empty allowed", "", true, true},
		{"exactly MaxNameLen bytes", strings.Repeat("a", domain.MaxNameLen), false, true},
		{"MaxNameLen bytes of multi-byte runes", strings.Repeat("é", domain.MaxNameLen/2), false, true},
		{"one byte over", strings.Repeat("a", domain.MaxNameLen+1), false, false},
		{"multi-byte rune crossing the limit", strings.Repeat("a", domain.MaxNameLen-1) + "é", false, false},
		{"invalid UTF-8", "ca\xffche", false, false},
		{"truncated rune", "caf\xc3", false, false},
		{"NUL", "ca\x00che", false, false},
		{"newline", "cache\n", false, false},
		{"tab", "\tcache", false, false},
		{"DEL", "cache\x7f", false, false},
		{"C1 control NEL", "cache\u0085", false, false},
		{"NUL after a multi-byte rune", "café\x00", false, false},
		{"DEL before a multi-byte rune", "ca\x7fché", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := domain.CheckName("key", tt.s, tt.allowEmpty)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, domain.ErrInvalidCandidate)
			assert.Contains(t, err.Error(), "key", "the error names the field")
		})
	}
}

// TestCheckAddress checks that domain and key must be non-empty while the
// provider may be empty, and that each field is checked.
func TestCheckAddress(t *testing.T) {
	long := strings.Repeat("x", domain.MaxNameLen+1)
	tests := []struct {
		name                  string
		domain, key, provider string
		field                 string // named in the error; "" when valid
	}{
		{"all set", "adapter", "cache", "redis", ""},
		{"empty provider", "adapter", "cache", "", ""},
		{"empty domain", "", "cache", "redis", "domain"},
		{"empty key", "adapter", "", "redis", "key"},
		{"long domain", long, "cache", "redis", "domain"},
		{"long key", "adapter", long, "redis", "key"},
		{"long provider", "adapter", "cache", long, "provider"},
		{"control in provider", "adapter", "cache", "re\x01dis", "provider"},
		{"invalid UTF-8 in provider", "adapter", "cache", "\xfe", "provider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := domain.CheckAddress(tt.domain, tt.key, tt.provider)
			if tt.field == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, domain.ErrInvalidCandidate)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
}

// TestPrepareRejects checks that Prepare applies every check: names, source
// and metadata.
func TestPrepareRejects(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	tests := []struct {
		name string
		c    domain.Candidate
	}{
		{"zero candidate", domain.Candidate{}},
		{"empty key", domain.Candidate{Domain: "adapter"}},
		{"unknown source", domain.Candidate{Domain: "adapter", Key: "cache", Source: domain.Source(4)}},
		{"cyclic metadata", domain.Candidate{Domain: "adapter", Key: "cache", Metadata: cyclic}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := domain.Prepare(tt.c, 0, "")
			require.ErrorIs(t, err, domain.ErrInvalidCandidate)
			assert.Nil(t, d)
		})
	}
}

// TestPreparePriority checks that a nil Priority takes the default while an
// explicit value, zero included, is kept.
func TestPreparePriority(t *testing.T) {
	tests := []struct {
		name     string
		priority *int
		def      int
		want     int
	}{
		{"nil takes the default", nil, 7, 7},
		{"nil with a zero default", nil, 0, 0},
		{"explicit zero stays zero", new(0), 7, 0},
		{"explicit negative", new(-3), 7, -3},
		{"explicit positive", new(40), 7, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := domain.Prepare(domain.Candidate{Domain: "adapter", Key: "cache", Priority: tt.priority}, tt.def, "")
			require.NoError(t, err)
			e := d.Finish(1, time.Unix(0, 0))
			assert.Equal(t, tt.want, e.Priority())
		})
	}
}

// TestDraftFinish checks that Finish stamps the sequence number and converts
// the registration time to UTC, keeping the instant.
func TestDraftFinish(t *testing.T) {
	d, err := domain.Prepare(domain.Candidate{Domain: "adapter", Key: "cache", Provider: "redis", StackLevel: 2, Source: domain.SourceManual}, 0, "")
	require.NoError(t, err)
	assert.Equal(t, "adapter", d.Domain())
	assert.Equal(t, "cache", d.Key())

	at := time.Date(2024, 5, 6, 7, 8, 9, 10, time.FixedZone("CEST", 2*60*60))
	e := d.Finish(42, at)
	assert.Equal(t, uint64(42), e.Sequence())
	assert.Equal(t, time.UTC, e.RegisteredAt().Location())
	assert.True(t, at.Equal(e.RegisteredAt()))
	assert.Equal(t, "adapter", e.Domain())
	assert.Equal(t, "cache", e.Key())
	assert.Equal(t, "redis", e.Provider())
	assert.Equal(t, 2, e.StackLevel())
	assert.Equal(t, domain.SourceManual, e.Source())
}

// TestRegisteredAtKeepsEveryInstant checks that an entry gives back exactly
// the time its registration was stamped with, in UTC, from the zero time to
// the far future, to the nanosecond, whatever zone or monotonic reading the
// stamp carried.
func TestRegisteredAtKeepsEveryInstant(t *testing.T) {
	for _, at := range []time.Time{
		{},
		time.Now(), // with a monotonic reading, which UTC drops
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(1600, 2, 29, 23, 59, 59, 999_999_999, time.FixedZone("X", -5*3600)),
		time.Date(2262, 4, 12, 0, 0, 0, 0, time.UTC), // past what int64 nanoseconds hold
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Unix(-1, 5),
	} {
		d, err := domain.Prepare(domain.Candidate{Domain: "adapter", Key: "cache"}, 0, "")
		require.NoError(t, err)
		e := d.Finish(1, at)
		assert.Equal(t, at.UTC(), e.RegisteredAt(), "stamped %v", at)
		assert.Equal(t, time.UTC, e.RegisteredAt().Location())
	}
}
