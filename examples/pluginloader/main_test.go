package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	t.Setenv("ONEIRIC_STACK_ORDER", "myapp.scripts.tool:999") // ignored: the example sets its own order
	var out bytes.Buffer
	res, err := run(&out)
	require.NoError(t, err)

	t.Run("inferred priorities", func(t *testing.T) {
		assert.Equal(t, map[string]int{
			"myapp.adapters.cache": 76, // adapters 80 - 4 parts
			"myapp.services.auth":  66,
			"myapp.tasks.email":    56,
			"acme.cache":           85, // vendor 90 - 5 parts
			"myapp.core":           100,
			"myapp.scripts.tool":   0,
		}, res.priorities)
		for _, p := range discovered {
			assert.Contains(t, out.String(), p.pkg)
		}
	})

	t.Run("no growth after 100 reloads", func(t *testing.T) {
		assert.Equal(t, 10, res.before, "7 from packages, 3 from the manifest")
		assert.Equal(t, res.before, res.after)
		assert.Equal(t, 303, res.naive, "what Register on every load would do")
		assert.Contains(t, out.String(), "Candidates before the reloads: 10\n")
		assert.Contains(t, out.String(), "Candidates after 100 reloads:   10 (added 0, removed 0 in all)\n")
	})

	t.Run("a reload that changes one candidate", func(t *testing.T) {
		ch := res.change
		require.Len(t, ch.Added, 1)
		require.Len(t, ch.Kept, 2)
		require.Len(t, ch.Removed, 1)
		assert.Equal(t, "redis-streams", ch.Added[0].Provider())
		assert.Equal(t, 40, ch.Added[0].Priority())
		assert.Equal(t, "redis-streams", ch.Removed[0].Provider())
		assert.Equal(t, 80, ch.Removed[0].Priority())
		assert.Equal(t, uint64(11), ch.Added[0].Sequence(), "the 100 reloads consumed no sequence number")
		for _, e := range ch.Kept {
			assert.Equal(t, "remote-plugins", e.Owner())
		}
		assert.Contains(t, out.String(), "ApplyResult: 1 added, 2 kept, 1 removed\n")
		assert.Contains(t, out.String(), "adapter/queue: redis-streams before, nats after; candidates: 10.\n")
	})

	t.Run("deterministic", func(t *testing.T) {
		var again bytes.Buffer
		_, err := run(&again)
		require.NoError(t, err)
		assert.Equal(t, out.String(), again.String())
		assert.False(t, strings.Contains(out.String(), "\r"))
	})
}
