package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/oneiric-go/oneiric/registry"
)

// runResolve is "oneiric resolve": the candidate DOMAIN/KEY resolves to over
// the manifests given, as Registry.Resolve returns it.
func runResolve(ctx context.Context, args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("resolve", flag.ContinueOnError)
	fs.SetOutput(errOut)
	asJSON := fs.Bool("json", false, `print {"domain", "key", "query", "winner"} as JSON; winner is null when none qualifies`)
	q := addQueryFlags(fs)
	fs.Usage = manifestUsage(fs, "resolve", "DOMAIN KEY FILE...",
		"Loads the manifests FILE... into a fresh registry and resolves DOMAIN/KEY: the active",
		"candidate or, with --provider and --require, the best-ranked candidate that qualifies.",
		"Exit status 1, with the reason on stderr, when no candidate qualifies.")
	pos, code, ok := parseManifestArgs(fs, args, 3, "DOMAIN KEY FILE...")
	if !ok {
		return code
	}
	d, k, files := pos[0], pos[1], pos[2:]
	if err := q.check(d, k); err != nil {
		fmt.Fprintf(errOut, "oneiric resolve: %v\n", err)
		return exitUsage
	}
	l, code := loadManifests("resolve", files, errOut)
	if l == nil {
		return code
	}
	e, found := l.r.Resolve(d, k, q.options()...)

	if *asJSON {
		res := struct {
			Domain string `json:"domain"`
			Key    string `json:"key"`
			Query  struct {
				Provider string   `json:"provider,omitempty"`
				Require  []string `json:"require,omitempty"`
				Any      bool     `json:"any,omitempty"`
			} `json:"query"`
			Winner *entryJSON `json:"winner"`
		}{Domain: d, Key: k}
		res.Query.Provider, res.Query.Require, res.Query.Any = q.provider, q.require, q.any
		if found {
			w := toJSON(e)
			res.Winner = &w
		}
		if code := writeJSON("resolve", out, errOut, res); code != exitOK {
			return code
		}
	} else if found {
		head := fmt.Sprintf("%s/%s", d, k)
		if s := q.String(); s != "" {
			head += ", " + s
		}
		fmt.Fprintf(out, "%s: %s\n", head, quoteProvider(e.Provider()))
		writeTable(out, "  ", entryDetails(l, e))
	}
	if !found {
		fmt.Fprintf(errOut, "oneiric resolve: %s\n", l.whyNone(d, k, q))
		return exitFail
	}
	return exitOK
}

// entryDetails returns the rows that describe e: one field a row.
func entryDetails(l *loaded, e *registry.Entry) [][]string {
	caps := strings.Join(e.Capabilities(), ", ")
	if caps == "" {
		caps = "-"
	}
	var why string
	if w, _ := l.r.Resolve(e.Domain(), e.Key()); w == e {
		why = "the key's active candidate: " + whyWins(l.r.Explain(e.Domain(), e.Key()))
	} else {
		why = fmt.Sprintf("the best of those that qualify; the key's active candidate is %s", quoteProvider(w.Provider()))
	}
	rows := [][]string{
		{"provider", quoteProvider(e.Provider())},
		{"priority", strconv.Itoa(e.Priority())},
		{"stack level", strconv.Itoa(e.StackLevel())},
		{"sequence", strconv.FormatUint(e.Sequence(), 10)},
		{"capabilities", caps},
		{"source", e.Source().String()},
		{"owner", e.Owner()},
	}
	if p := l.selection(e.Domain(), e.Key()); p != "" {
		rows = append(rows, []string{"selection", p})
	}
	if f := e.Factory(); f != nil {
		rows = append(rows, []string{"factory", fmt.Sprint(f)})
	}
	if m := e.Metadata(); len(m) > 0 {
		b, err := json.Marshal(m)
		if err != nil {
			b = []byte(fmt.Sprint(m))
		}
		rows = append(rows, []string{"metadata", string(b)})
	}
	return append(rows, []string{"why", why})
}
