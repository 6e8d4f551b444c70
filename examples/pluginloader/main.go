// Command pluginloader shows oneiric under a plugin loader: it discovers
// plugin packages, registers each with RegisterPackage at the priority the
// registry infers from the stack order or the package's path, then reloads a
// manifest 100 times through Apply and shows that the registry does not grow,
// and what a reload that changes one candidate does.
//
// Run it with:
//
//	go run ./examples/pluginloader
//
// The discovery is simulated (an in-memory list of packages); everything
// else is the registry's and the manifest package's public API.
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/oneiric-go/oneiric/manifest"
	"github.com/oneiric-go/oneiric/registry"
)

// plugin is a package the loader found: its import name, its file, and the
// candidates it declares (none gives a priority: the registry infers it).
type plugin struct {
	pkg, path  string
	why        string // how the priority is inferred, for the reader; the test checks the numbers
	candidates []registry.Candidate
}

// discovered is what a scan of /app would find.
var discovered = []plugin{
	{"myapp.adapters.cache", "/app/adapters/cache.py", "path hint adapters: 80 - 4 parts", []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "redis", Capabilities: []string{"ttl", "cluster"}},
		{Domain: "adapter", Key: "cache", Provider: "memcached", Capabilities: []string{"ttl"}},
	}},
	{"myapp.services.auth", "/app/services/auth.py", "path hint services: 70 - 4 parts", []registry.Candidate{
		{Domain: "service", Key: "auth", Provider: "oauth"},
	}},
	{"myapp.tasks.email", "/app/tasks/email.py", "path hint tasks: 60 - 4 parts", []registry.Candidate{
		{Domain: "task", Key: "email", Provider: "smtp"},
	}},
	{"acme.cache", "/app/vendor/acme/cache.py", "path hint vendor: 90 - 5 parts", []registry.Candidate{
		{Domain: "adapter", Key: "cache", Provider: "acme-cache", Capabilities: []string{"ttl"}},
	}},
	{"myapp.core", "/app/core.py", "the stack order", []registry.Candidate{
		{Domain: "service", Key: "config", Provider: "env"},
	}},
	{"myapp.scripts.tool", "/app/scripts/tool.py", "nothing matches", []registry.Candidate{
		{Domain: "task", Key: "email", Provider: "sendmail"},
	}},
}

// stackOrder is the operator's stack order (as $ONEIRIC_STACK_ORDER would
// give it): myapp.core first, at 100.
const stackOrder = "myapp.core:100"

// pluginsJSON is the manifest the loader reloads, as a remote source would
// serve it; pluginsJSONv2 is the next version, in which redis-streams drops
// from priority 80 to 40.
const (
	pluginsJSON = `{
  "owner": "remote-plugins",
  "candidates": [
    {"domain": "adapter", "key": "queue", "provider": "redis-streams", "priority": 80,
     "capabilities": ["persistence"], "source": "remote_manifest", "factory": "plugins.queue:RedisStreams"},
    {"domain": "adapter", "key": "queue", "provider": "nats", "priority": 60,
     "source": "remote_manifest", "factory": "plugins.queue:Nats"},
    {"domain": "service", "key": "auth", "provider": "ldap", "priority": 50,
     "source": "remote_manifest", "factory": "plugins.auth:LDAP"}
  ]
}`
	reloads = 100
)

var pluginsJSONv2 = strings.Replace(pluginsJSON, `"priority": 80`, `"priority": 40`, 1)

// result is what the run shows, for the test.
type result struct {
	priorities    map[string]int // inferred, by package
	before, after int            // candidates before and after the reloads
	naive         int            // candidates if every reload re-registered everything
	change        registry.ApplyResult
}

func main() {
	if _, err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pluginloader:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) (*result, error) {
	res := &result{priorities: map[string]int{}}
	// WithStackOrder fixes the order, whatever $ONEIRIC_STACK_ORDER says.
	r := registry.New(registry.WithStackOrder(stackOrder))

	heading(w, "1. Discover plugin packages and register them with RegisterPackage")
	fmt.Fprintf(w, "Priority from the stack order %q, else from the first path hint (adapters 80,\n", stackOrder)
	fmt.Fprintln(w, "services 70, tasks/events/workflows 60, vendor 90) minus the path's parts (\"/\" counts; at most 10).")
	rows := [][]string{{"PACKAGE", "PATH", "PRIORITY", "FROM", "REGISTERED (SEQ)"}}
	for _, p := range discovered {
		prio := r.InferPriority(p.pkg, p.path)
		res.priorities[p.pkg] = prio
		es, err := r.RegisterPackage(p.pkg, p.path, p.candidates, nil)
		if err != nil {
			return nil, err
		}
		var got []string
		for _, e := range es {
			if e.Priority() != prio {
				return nil, fmt.Errorf("%s: registered at priority %d, inferred %d", e.Provider(), e.Priority(), prio)
			}
			got = append(got, fmt.Sprintf("%s/%s %s (%d)", e.Domain(), e.Key(), e.Provider(), e.Sequence()))
		}
		rows = append(rows, []string{p.pkg, p.path, strconv.Itoa(prio), p.why, strings.Join(got, ", ")})
	}
	table(w, rows)
	for _, k := range [][2]string{{"adapter", "cache"}, {"service", "auth"}, {"task", "email"}} {
		e, _ := r.Resolve(k[0], k[1])
		fmt.Fprintf(w, "%s/%s resolves to %s (priority %d)\n", k[0], k[1], e.Provider(), e.Priority())
	}
	fmt.Fprintln(w)

	heading(w, "2. Reload a manifest through Apply, 100 times")
	m, err := manifest.Parse("plugins.json", []byte(pluginsJSON))
	if err != nil {
		return nil, err
	}
	first, err := r.Apply(m.Owner, m.Candidates)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "First load of %s (owner %q): %s\n", m.File, m.Owner, summary(first))
	res.before = r.Snapshot().Len()
	var added, removed int
	for range reloads {
		again, err := manifest.Parse("plugins.json", []byte(pluginsJSON)) // a fresh fetch each time
		if err != nil {
			return nil, err
		}
		ar, err := r.Apply(again.Owner, again.Candidates)
		if err != nil {
			return nil, err
		}
		added, removed = added+len(ar.Added), removed+len(ar.Removed)
	}
	res.after = r.Snapshot().Len()
	fmt.Fprintf(w, "Candidates before the reloads: %d\n", res.before)
	fmt.Fprintf(w, "Candidates after %d reloads:   %d (added %d, removed %d in all)\n", reloads, res.after, added, removed)
	rs, _ := r.Resolve("adapter", "queue", registry.Provider("redis-streams"))
	fmt.Fprintf(w, "redis-streams kept its entry: still sequence %d, registered once.\n", rs.Sequence())

	// What re-registering every entry on each refresh, as Oneiric's Python
	// registry does, would have left.
	naive := registry.New(registry.WithStackOrder(stackOrder))
	for range reloads + 1 {
		for _, c := range m.Candidates {
			if _, err := naive.Register(c); err != nil {
				return nil, err
			}
		}
	}
	res.naive = naive.Snapshot().Len()
	fmt.Fprintf(w, "Register on every load instead would leave %d entries for these %d candidates.\n", res.naive, len(m.Candidates))
	fmt.Fprintln(w)

	heading(w, "3. Reload a version that changes one candidate")
	fmt.Fprintln(w, "In the new version redis-streams drops from priority 80 to 40.")
	old, _ := r.Resolve("adapter", "queue")
	v2, err := manifest.Parse("plugins.json", []byte(pluginsJSONv2))
	if err != nil {
		return nil, err
	}
	res.change, err = r.Apply(v2.Owner, v2.Candidates)
	if err != nil {
		return nil, err
	}
	now, _ := r.Resolve("adapter", "queue")
	fmt.Fprintf(w, "ApplyResult: %s\n", summary(res.change))
	for _, part := range []struct {
		name string
		es   []*registry.Entry
	}{{"added", res.change.Added}, {"kept", res.change.Kept}, {"removed", res.change.Removed}} {
		for _, e := range part.es {
			fmt.Fprintf(w, "  %-8s %s/%s %s, priority %d, seq %d\n", part.name, e.Domain(), e.Key(), e.Provider(), e.Priority(), e.Sequence())
		}
	}
	fmt.Fprintf(w, "adapter/queue: %s before, %s after; candidates: %d.\n", old.Provider(), now.Provider(), r.Snapshot().Len())
	return res, nil
}

func summary(ar registry.ApplyResult) string {
	return fmt.Sprintf("%d added, %d kept, %d removed", len(ar.Added), len(ar.Kept), len(ar.Removed))
}

func heading(w io.Writer, title string) {
	fmt.Fprintln(w, title)
	fmt.Fprintln(w, strings.Repeat("-", len(title)))
}

// table writes rows as left-aligned columns two spaces apart.
func table(w io.Writer, rows [][]string) {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len(cell))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			if i > 0 {
				b.WriteString("  ")
			}
			fmt.Fprintf(&b, "%-*s", widths[i], cell)
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
