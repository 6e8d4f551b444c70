package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// goleak checks, after every test, that the watcher's goroutine ended when
// its context was cancelled.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	text := out.String()
	for _, want := range []string{
		// handles
		"acme: cache=redis, db=postgres-primary\n",
		"globex: db=mysql\n",
		`acme registering into globex: cannot register "globex"/"db" through the handle of "acme": invalid candidate: another domain than the handle's`,
		"errors.Is(err, ErrWrongDomain) = true",
		"globex resolving cache (only acme has one): found = false",
		// limits
		"acme/search + meilisearch ok\n",
		`acme/search + typesense   cannot register "acme"/"search": limit exceeded: at most 3 candidates per key in "acme"/"search"`,
		`LimitError{Limit: "candidates per key", Max: 3, Domain: "acme", Key: "search"}`,
		"acme/search still has 3 candidates",
		// watch and failover
		"acme/db winner: postgres-primary\n",
		"  watch: acme/db: postgres-primary → postgres-replica (health)\n",
		"acme/db winner: postgres-replica\n",
		"unhealthy; matched selection override postgres-primary; priority=100",
		"  watch: acme/db: postgres-replica → postgres-primary (health)\n",
		"acme/db winner: postgres-primary (the same entry as before the failover: true)\n",
		"cancelled: the range over Watch ended",
	} {
		assert.Contains(t, text, want)
	}
	assert.Equal(t, 2, strings.Count(text, "watch: "), "the watcher saw the failover and the recovery only: not the selection, not globex")
	assert.NotContains(t, text, "globex/db: ", "globex's change never reached acme's watcher")
}

// TestRunIsDeterministic: the output is the same on every run, the watcher's
// lines included.
func TestRunIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	require.NoError(t, run(&a))
	for range 20 {
		b.Reset()
		require.NoError(t, run(&b))
		require.Equal(t, a.String(), b.String())
	}
}
