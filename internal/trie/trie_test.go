package trie

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestMapAgainstBuiltin applies random sets and deletes to a Map and to a
// built-in map and checks they agree, including that older versions are
// untouched by later updates.
func TestMapAgainstBuiltin(t *testing.T) {
	hashes := map[string]func(string) uint64{
		"xxhash":     Hash,
		"degenerate": func(string) uint64 { return 42 },            // every key collides
		"fewbits":    func(s string) uint64 { return Hash(s) & 7 }, // deep shared paths
		"highbits":   func(s string) uint64 { return Hash(s) &^ (1<<60 - 1) },
	}
	for name, hash := range hashes {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			var m Map[string, int]
			ref := map[string]int{}
			type version struct {
				m   Map[string, int]
				ref map[string]int
			}
			var versions []version
			for i := range 3000 {
				k := strconv.Itoa(rng.IntN(200))
				if rng.IntN(3) == 0 {
					m = m.Delete(hash(k), k)
					delete(ref, k)
				} else {
					m = m.Set(hash(k), k, i)
					ref[k] = i
				}
				if i%300 == 0 {
					cp := make(map[string]int, len(ref))
					for k, v := range ref {
						cp[k] = v
					}
					versions = append(versions, version{m, cp})
				}
			}
			versions = append(versions, version{m, ref})
			for _, v := range versions {
				require.Equal(t, len(v.ref), v.m.Len())
				got := map[string]int{}
				for k, x := range v.m.All() {
					got[k] = x
				}
				require.Equal(t, v.ref, got)
			}
		})
	}
}

func TestDeleteAbsentReturnsSameMap(t *testing.T) {
	var m Map[string, int]
	m = m.Set(Hash("a"), "a", 1)
	m2 := m.Delete(Hash("b"), "b")
	require.Equal(t, m, m2)
	m3 := m.Delete(Hash("a"), "a").Delete(Hash("a"), "a")
	require.Zero(t, m3.Len())
}
