package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/registry"
)

// runExplain is "oneiric explain": the ranking of one key's candidates over
// the manifests given, with scores and reasons.
func runExplain(ctx context.Context, args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(errOut)
	asJSON := fs.Bool("json", false, `print the explanation as JSON: {"domain", "key", "ordered": [{"provider", "score", "selected", "reasons"}]}`)
	q := addQueryFlags(fs)
	fs.Usage = manifestUsage(fs, "explain", "DOMAIN KEY FILE...",
		"Loads the manifests FILE... into a fresh registry and explains DOMAIN/KEY: every",
		"candidate that qualifies, in rank order, with its score (selection override,",
		"capabilities matched, priority, stack level, registration order) and the reasons;",
		"* marks the winner. --provider and --require rank only the candidates that qualify.")
	pos, code, ok := parseManifestArgs(fs, args, 3, "DOMAIN KEY FILE...")
	if !ok {
		return code
	}
	d, k, files := pos[0], pos[1], pos[2:]
	if err := q.check(d, k); err != nil {
		fmt.Fprintf(errOut, "oneiric explain: %v\n", err)
		return exitUsage
	}
	l, code := loadManifests("explain", files, errOut)
	if l == nil {
		return code
	}
	x := l.r.Explain(d, k, q.options()...)
	if *asJSON {
		code = writeJSON("explain", out, errOut, x)
	} else {
		fmt.Fprint(out, x)
		if len(x.Ordered) > 0 {
			fmt.Fprintln(out, "(score = override, capabilities matched, priority, stack level, sequence; * marks the winner)")
		}
	}
	if len(x.Ordered) == 0 {
		fmt.Fprintf(errOut, "oneiric explain: %s\n", l.whyNone(d, k, q))
	}
	return code
}

// query is the --provider, --require and --any flags of explain and resolve.
type query struct {
	provider string
	require  []string
	any      bool
}

func addQueryFlags(fs *flag.FlagSet) *query {
	q := &query{}
	fs.StringVar(&q.provider, "provider", "", "only candidates of this provider")
	fs.Func("require", "only candidates with capability `CAP`; repeat it for more (all of them, or any with --any)", func(s string) error {
		// Trimmed, as the registry trims capabilities; an empty one would
		// be dropped there and still be shown in the query.
		if s = strings.TrimSpace(s); s == "" {
			return fmt.Errorf("an empty capability")
		}
		q.require = append(q.require, s)
		return nil
	})
	fs.BoolVar(&q.any, "any", false, "with --require: candidates with at least one of the capabilities qualify")
	return q
}

// check refuses names no candidate can have, and --any without --require.
func (q *query) check(d, k string) error {
	if err := domain.CheckAddress(d, k, q.provider); err != nil {
		return err
	}
	if q.any && len(q.require) == 0 {
		return fmt.Errorf("--any needs at least one --require")
	}
	return nil
}

func (q *query) options() []registry.ResolveOption {
	var opts []registry.ResolveOption
	if q.provider != "" {
		opts = append(opts, registry.Provider(q.provider))
	}
	switch {
	case len(q.require) == 0:
	case q.any:
		opts = append(opts, registry.RequireAny(q.require...))
	default:
		opts = append(opts, registry.Require(q.require...))
	}
	return opts
}

// String describes the query: `provider "memcached", requiring ttl and
// cluster`; "" when it has no filter.
func (q *query) String() string {
	var parts []string
	if q.provider != "" {
		parts = append(parts, fmt.Sprintf("provider %q", q.provider))
	}
	if len(q.require) > 0 {
		sep := " and "
		if q.any {
			sep = " or "
		}
		parts = append(parts, "requiring "+strings.Join(q.require, sep))
	}
	return strings.Join(parts, ", ")
}

// whyNone says why nothing qualifies for (d, k) under q: the domain or key has
// no candidates (and which ones exist), or none of its candidates fits.
func (l *loaded) whyNone(d, k string, q *query) string {
	snap := l.r.Snapshot(d)
	if len(snap.ListActive(d)) == 0 {
		msg := fmt.Sprintf("no candidates in domain %q", d)
		if ds := l.r.Domains(); len(ds) > 0 {
			msg += fmt.Sprintf("; the manifests have the domains %s", strings.Join(ds, ", "))
		}
		return msg
	}
	all := l.r.Explain(d, k)
	if len(all.Ordered) == 0 {
		var keys []string
		for _, e := range snap.ListActive(d) {
			keys = append(keys, e.Key())
		}
		return fmt.Sprintf("no candidates for %s/%s; the keys of %s are %s", d, k, d, strings.Join(keys, ", "))
	}
	var cands []string
	for _, r := range all.Ordered {
		c := quoteProvider(r.Entry.Provider())
		if caps := r.Entry.Capabilities(); len(caps) > 0 {
			c += " (" + strings.Join(caps, ", ") + ")"
		}
		cands = append(cands, c)
	}
	return fmt.Sprintf("no candidate of %s/%s qualifies, %s; its candidates: %s", d, k, q, strings.Join(cands, "; "))
}

// quoteProvider shows a provider as it is when that is unambiguous, and
// quoted (strconv.Quote) when it is empty or holds a space or a quote, so
// that the empty provider reads "" and a provider named `""` reads "\"\"",
// and a name with a space stays one column of a table.
func quoteProvider(p string) string {
	if p == "" || strings.ContainsAny(p, " \"") {
		return strconv.Quote(p)
	}
	return p
}
