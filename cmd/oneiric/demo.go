package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/oneiric-go/oneiric/explain"
	"github.com/oneiric-go/oneiric/registry"
	"github.com/oneiric-go/oneiric/stress"
)

// sample is the demo's registrations: a small application with adapters
// (cache, queue, storage), services and tasks.
var sample = []registry.Candidate{
	{Domain: "adapter", Key: "cache", Provider: "redis", Priority: new(90), Capabilities: []string{"ttl", "cluster"},
		Metadata: map[string]any{"url": "redis://cache:6379/0"}, Source: registry.SourceManual},
	{Domain: "adapter", Key: "cache", Provider: "in-memory", Priority: new(10), Capabilities: []string{"ttl"}},
	{Domain: "adapter", Key: "queue", Provider: "redis-streams", Priority: new(80), Capabilities: []string{"persistence", "cluster"}},
	{Domain: "adapter", Key: "queue", Provider: "nats", Priority: new(60), Capabilities: []string{"cluster"}},
	{Domain: "adapter", Key: "storage", Provider: "local-fs", Priority: new(20)},
	{Domain: "adapter", Key: "storage", Provider: "s3", Priority: new(60), Capabilities: []string{"cluster"}},
	{Domain: "adapter", Key: "storage", Provider: "gcs", Priority: new(60), StackLevel: 1, Capabilities: []string{"cluster"}},
	{Domain: "service", Key: "auth", Provider: "oauth", Priority: new(50)},
	{Domain: "service", Key: "auth", Provider: "ldap", Priority: new(70)},
	{Domain: "service", Key: "payments", Provider: "stripe", Priority: new(50), Source: registry.SourceEntryPoint},
	{Domain: "service", Key: "payments", Provider: "adyen", Priority: new(50), Source: registry.SourceEntryPoint},
	{Domain: "task", Key: "email", Provider: "sendgrid", Priority: new(60), Capabilities: []string{"templates"}},
	{Domain: "task", Key: "email", Provider: "smtp", Priority: new(20)},
}

// The plugin package the demo registers, as a plugin loader would find it.
const (
	samplePkg  = "myapp.cache"
	samplePath = "/app/adapters/cache.py"
)

var samplePackage = []registry.Candidate{
	{Domain: "adapter", Key: "cache", Provider: "memcached", Capabilities: []string{"ttl"}},
	{Domain: "task", Key: "cache-warmup", Provider: "memcached-warmer"},
}

// runDemo is "oneiric demo".
func runDemo(ctx context.Context, args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(errOut)
	duration := fs.Duration("duration", 3*time.Second, "how long the concurrent readers and writers run")
	goroutines := fs.Int("goroutines", stress.DefaultWorkload().Goroutines, "number of concurrent readers and writers")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "Usage: oneiric demo [flags]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Registers a sample application's components, shows which candidate wins each key")
		fmt.Fprintln(w, "and why, then runs concurrent readers and writers and checks the registry's")
		fmt.Fprintln(w, "invariants. Exit status 1 if any invariant fails.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(errOut, "oneiric demo: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *goroutines <= 0 || *duration <= 0 {
		fmt.Fprintln(errOut, "oneiric demo: -goroutines and -duration must be positive")
		return exitUsage
	}

	fmt.Fprintln(out, "oneiric keeps, for every (domain, key), one active candidate (the winner) and")
	fmt.Fprintln(out, "shadows the others. Candidates are compared by score, highest first:")
	fmt.Fprintln(out, "  (selection override, capabilities matched, priority, stack level, registration order)")
	fmt.Fprintln(out)

	// 1. Register the sample.
	r := registry.New(
		registry.WithSelections(map[string]map[string]string{"adapter": {"queue": "nats"}}),
		registry.WithStackOrder(""), // ignore $ONEIRIC_STACK_ORDER: the same output everywhere
	)
	heading(out, "1. Registering a sample application")
	for _, c := range sample {
		if _, err := r.Register(c); err != nil {
			fmt.Fprintf(errOut, "oneiric demo: %v\n", err)
			return exitFail
		}
	}
	fmt.Fprintf(out, "%d candidates with Register, from adapter/cache to task/email.\n", len(sample))
	es, err := r.RegisterPackage(samplePkg, samplePath, samplePackage, nil)
	if err != nil {
		fmt.Fprintf(errOut, "oneiric demo: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(out, "RegisterPackage(%q, %q) adds %d candidates in one atomic step:\n", samplePkg, samplePath, len(es))
	fmt.Fprintf(out, "  %s for %s/%s and %s for %s/%s, with priority %d\n",
		es[0].Provider(), es[0].Domain(), es[0].Key(), es[1].Provider(), es[1].Domain(), es[1].Key(), es[0].Priority())
	fmt.Fprintln(out, `  inferred from the path ("adapters" gives 80, minus 4 path parts).`)
	fmt.Fprintln(out, `Selection at New: adapter/queue prefers "nats", whatever the priorities.`)
	before, _ := r.Resolve("service", "auth")
	if err := r.Select("service", "auth", "oauth"); err != nil {
		fmt.Fprintf(errOut, "oneiric demo: %v\n", err)
		return exitFail
	}
	after, _ := r.Resolve("service", "auth")
	fmt.Fprintf(out, "Selection at run time: Select(\"service\", \"auth\", \"oauth\") moves the winner from %s to %s.\n",
		before.Provider(), after.Provider())
	fmt.Fprintln(out)

	// 2. Active and shadowed, from one consistent snapshot.
	heading(out, "2. Active and shadowed candidates, per domain")
	snap := r.Snapshot()
	for _, d := range snap.Domains() {
		printDomain(out, snap, d)
	}

	// 3. One explanation.
	heading(out, "3. Why adapter/cache resolves the way it does: Explain")
	fmt.Fprint(out, r.Explain("adapter", "cache"))
	fmt.Fprintln(out, "(score = override, capabilities matched, priority, stack level, sequence; * marks the winner)")
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Resolve with options ranks only the candidates that qualify:")
	resolves := []struct {
		call    string
		domain  string
		key     string
		options []registry.ResolveOption
	}{
		{`Resolve("adapter", "cache")`, "adapter", "cache", nil},
		{`Resolve("adapter", "cache", Provider("memcached"))`, "adapter", "cache", []registry.ResolveOption{registry.Provider("memcached")}},
		{`Resolve("adapter", "queue")`, "adapter", "queue", nil},
		{`Resolve("adapter", "queue", Require("persistence"))`, "adapter", "queue", []registry.ResolveOption{registry.Require("persistence")}},
		{`Resolve("task", "email", Require("sms"))`, "task", "email", []registry.ResolveOption{registry.Require("sms")}},
	}
	var rows [][]string
	for _, rv := range resolves {
		e, ok := r.Resolve(rv.domain, rv.key, rv.options...)
		got := "no candidate qualifies"
		if ok {
			got = e.Provider()
		}
		rows = append(rows, []string{rv.call, "→", got})
	}
	writeTable(out, "  ", rows)
	fmt.Fprintln(out)

	// 4. Concurrency.
	w := stress.DefaultWorkload()
	w.Duration = *duration
	w.Goroutines = *goroutines
	heading(out, "4. Concurrent readers and writers")
	fmt.Fprintf(out, "For %s, %d goroutines share this registry, in %d domains of their own (stress.d0 to\n",
		w.Duration, w.Goroutines, w.Domains)
	fmt.Fprintf(out, "stress.d%d, one of them hot). They resolve (%d%% of operations), register (%d%%), explain, list,\n",
		w.Domains-1, w.Mix.Resolve*100/w.Mix.Total(), w.Mix.Register*100/w.Mix.Total())
	fmt.Fprintln(out, "unregister, select, snapshot and register packages, checking the registry's guarantees as they go.")
	fmt.Fprintln(out)
	cache, _ := r.Resolve("adapter", "cache")
	p := newProgress(out, w)
	rep, err := stress.Run(ctx, r, w, stress.WithProgress(0, p.update))
	p.finish()
	if err != nil {
		fmt.Fprintf(errOut, "oneiric demo: %v\n", err)
		return exitFail
	}
	fmt.Fprint(out, rep)
	fmt.Fprintln(out)
	code := exitCode(rep)
	if now, _ := r.Resolve("adapter", "cache"); now != cache {
		fmt.Fprintf(out, "FAIL: adapter/cache changed from %s to %s while only other domains were written\n",
			cache.Provider(), now.Provider())
		code = exitFail
	} else {
		fmt.Fprintf(out, "The sample was not disturbed: adapter/cache still resolves to the same %s entry (seq %d).\n",
			cache.Provider(), cache.Sequence())
	}
	if code == exitFail {
		fmt.Fprintln(out, verdict(rep))
		return exitFail
	}
	fmt.Fprintln(out, verdict(rep))
	fmt.Fprintln(out)
	fmt.Fprintln(out, `Next: "make test" runs every test with the race detector; "go run ./cmd/oneiric stress -h"`)
	fmt.Fprintln(out, "lists the knobs of a longer stress run.")
	return code
}

func heading(w io.Writer, title string) {
	fmt.Fprintln(w, title)
	fmt.Fprintln(w, strings.Repeat("-", len(title)))
}

// printDomain prints one table of domain d's candidates: each key's winner
// (from ListActive) followed by its shadowed candidates (from ListShadowed),
// with the reason the winner wins or the candidate loses.
func printDomain(w io.Writer, s *registry.Snapshot, d string) {
	fmt.Fprintf(w, "domain %q\n", d)
	rows := [][]string{{"KEY", "STATE", "PROVIDER", "PRIORITY", "STACK", "SEQ", "CAPABILITIES", "SOURCE", "WHY"}}
	shadowed := s.ListShadowed(d)
	for _, a := range s.ListActive(d) {
		x := s.Explain(d, a.Key())
		rows = append(rows, entryRow(a, "active", whyWins(x)))
		for len(shadowed) > 0 && shadowed[0].Key() <= a.Key() {
			e := shadowed[0]
			shadowed = shadowed[1:]
			rows = append(rows, entryRow(e, "shadowed", whyLoses(x, e)))
		}
	}
	writeTable(w, "  ", rows, 3, 4, 5)
	fmt.Fprintln(w)
}

func entryRow(e *registry.Entry, state, why string) []string {
	caps := strings.Join(e.Capabilities(), ",")
	if caps == "" {
		caps = "-"
	}
	return []string{e.Key(), state, quoteProvider(e.Provider()), strconv.Itoa(e.Priority()), strconv.Itoa(e.StackLevel()),
		strconv.FormatUint(e.Sequence(), 10), caps, e.Source().String(), why}
}

// whyWins says why the first rank of x beats the second.
func whyWins(x *explain.Explanation) string {
	if len(x.Ordered) < 2 {
		return "only candidate"
	}
	a, b := x.Ordered[0], x.Ordered[1]
	other := quoteProvider(b.Entry.Provider())
	switch d := decisive(a.Score, b.Score); d {
	case "override":
		return "the key's selection names it"
	case "capabilities":
		return fmt.Sprintf("more required capabilities than %s", other)
	case "priority":
		return fmt.Sprintf("higher priority than %s (%d > %d)", other, a.Score.Priority, b.Score.Priority)
	case "stack level":
		return fmt.Sprintf("same priority as %s, higher stack level (%d > %d)", other, a.Score.StackLevel, b.Score.StackLevel)
	default:
		return fmt.Sprintf("ties with %s, registered later (seq %d > %d)", other, a.Score.Sequence, b.Score.Sequence)
	}
}

// whyLoses says why e, a shadowed candidate in x, loses to the first rank.
func whyLoses(x *explain.Explanation, e *registry.Entry) string {
	if len(x.Ordered) == 0 {
		return ""
	}
	win := x.Ordered[0]
	var mine *explain.Rank
	for i := range x.Ordered {
		if x.Ordered[i].Entry == e {
			mine = &x.Ordered[i]
		}
	}
	if mine == nil {
		return "" // not in this explanation: cannot happen on one snapshot
	}
	w := quoteProvider(win.Entry.Provider())
	switch decisive(win.Score, mine.Score) {
	case "override":
		return fmt.Sprintf("the key's selection names %s", w)
	case "capabilities":
		return fmt.Sprintf("%s matches more required capabilities", w)
	case "priority":
		return fmt.Sprintf("%s has higher priority (%d > %d)", w, win.Score.Priority, mine.Score.Priority)
	case "stack level":
		return fmt.Sprintf("%s has a higher stack level (%d > %d)", w, win.Score.StackLevel, mine.Score.StackLevel)
	default:
		return fmt.Sprintf("%s registered later (seq %d > %d)", w, win.Score.Sequence, mine.Score.Sequence)
	}
}

// decisive names the first score component in which a and b differ.
func decisive(a, b explain.Score) string {
	switch {
	case a.Override != b.Override:
		return "override"
	case a.CapabilityMatch != b.CapabilityMatch:
		return "capabilities"
	case a.Priority != b.Priority:
		return "priority"
	case a.StackLevel != b.StackLevel:
		return "stack level"
	default:
		return "sequence"
	}
}
