package domain_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/domain"
)

// digestGen builds random metadata twice over, from one stream of choices,
// so that the two copies share no memory. Where it picks a zero float it
// makes one copy's -0; sometimes it makes a NaN, which equals nothing. So
// the copies are often SameAs, sometimes not, and Digest must agree with
// SameAs whenever SameAs holds.
type digestGen struct{ r *rand.Rand }

type point3 struct {
	X, Y float64
	N    string
}

func (g digestGen) value(depth int) (any, any) {
	k := g.r.IntN(14)
	if depth >= 5 {
		k %= 6
	}
	switch k {
	case 0:
		s := []string{"", "a", "redis://x", "ünïcode"}[g.r.IntN(4)]
		return s, s
	case 1:
		i := g.r.IntN(5) - 2
		return i, i
	case 2:
		switch g.r.IntN(4) {
		case 0:
			return 0.0, math.Copysign(0, -1)
		case 1:
			return math.NaN(), math.NaN()
		}
		f := float64(g.r.IntN(4)) / 2
		return f, f
	case 3:
		b := g.r.IntN(2) == 0
		return b, b
	case 4:
		return nil, nil
	case 5:
		return dsn("x"), dsn("x")
	case 6:
		n := g.r.IntN(20)
		a, b := make([]any, n), make([]any, n)
		for i := range a {
			a[i], b[i] = g.value(depth + 1)
		}
		return a, b
	case 7:
		n := g.r.IntN(20)
		a, b := map[string]any{}, map[string]any{}
		for i := range n {
			k := string(rune('a' + i))
			a[k], b[k] = g.value(depth + 1)
		}
		return a, b
	case 8:
		n := g.r.IntN(6)
		a, b := make([]float64, n), make([]float64, n)
		for i := range a {
			a[i] = float64(g.r.IntN(3))
			b[i] = a[i]
			if a[i] == 0 && g.r.IntN(3) == 0 {
				b[i] = math.Copysign(0, -1) // by memory: not the same
			}
		}
		return a, b
	case 9:
		x := float64(g.r.IntN(2))
		y := x
		if x == 0 && g.r.IntN(2) == 0 {
			y = math.Copysign(0, -1)
		}
		return point3{X: x, N: "p"}, point3{X: y, N: "p"}
	case 10:
		return [3]float64{0, 1, 2}, [3]float64{math.Copysign(0, -1), 1, 2}
	case 11:
		t := time.Date(2026, 11, 28, 4, 0, 0, 0, time.FixedZone("IST", 5*3600+1800))
		return t, t.In(time.FixedZone("IST", 5*3600+1800))
	case 12:
		p, q := &point3{N: "a"}, &point3{N: "a"}
		return p, q
	default:
		n := g.r.IntN(20)
		a, b := map[float64]any{}, map[float64]any{}
		for i := range n {
			a[float64(i)], b[float64(i)] = g.value(depth + 1)
		}
		return a, b
	}
}

// TestDigestAgreesWithSameAs: over random metadata, two entries that are
// SameAs always have one digest; and entries that differ within the reach of
// Digest mostly have different ones (the point of the digest).
func TestDigestAgreesWithSameAs(t *testing.T) {
	g := digestGen{rand.New(rand.NewPCG(1, 2))}
	same := 0
	for i := range 3000 {
		ma, mb := map[string]any{}, map[string]any{}
		for k := range 1 + g.r.IntN(4) {
			key := string(rune('k' + k))
			ma[key], mb[key] = g.value(0)
		}
		a := entryOf(t, domain.Candidate{Domain: "d", Key: "k", Provider: "p", Metadata: ma})
		b := entryOf(t, domain.Candidate{Domain: "d", Key: "k", Provider: "p", Metadata: mb})
		if a.SameAs(b) {
			same++
			require.Equal(t, a.Digest(), b.Digest(), "case %d: the same entries, different digests:\n%#v\n%#v", i, ma, mb)
		}
	}
	assert.Greater(t, same, 500, "enough pairs are the same to test the implication")

	// Differences below the top level, within Digest's reach, separate
	// digests: Apply then compares a draft with few owned entries.
	nested := func(id string) *domain.Entry {
		return entryOf(t, domain.Candidate{Domain: "d", Key: "k", Provider: "p", Metadata: map[string]any{
			"conn": map[string]any{"pool": map[string]any{"id": id}}, "tags": []any{"a", id}}})
	}
	distinct := map[uint64]bool{}
	for i := range 100 {
		distinct[nested(string(rune('A'+i))).Digest()] = true
	}
	assert.Len(t, distinct, 100, "ids two levels down give 100 digests")
}

// padded has a blank field, which == and map keys ignore.
type padded struct {
	A int64
	_ int64
}

// TestDigestIgnoresBlankFields: two values that differ only in a blank
// field (set through unsafe, as cgo or syscall structs may hold) are ==, so
// SameAs, and have one digest, in metadata, as a map key and as a factory.
func TestDigestIgnoresBlankFields(t *testing.T) {
	x := padded{A: 1}
	y := x
	(*[2]int64)(unsafe.Pointer(&y))[1] = 7
	require.True(t, x == y, "== ignores the blank field")
	for name, pair := range map[string][2]domain.Candidate{
		"metadata": {{Metadata: map[string]any{"p": x}}, {Metadata: map[string]any{"p": y}}},
		"map key":  {{Metadata: map[string]any{"p": map[padded]int{x: 1}}}, {Metadata: map[string]any{"p": map[padded]int{y: 1}}}},
		"factory":  {{Factory: x}, {Factory: y}},
	} {
		for i := range pair {
			pair[i].Domain, pair[i].Key, pair[i].Provider = "d", "k", "p"
		}
		a, b := entryOf(t, pair[0]), entryOf(t, pair[1])
		require.True(t, a.SameAs(b), name)
		assert.Equal(t, a.Digest(), b.Digest(), name)
	}
}
