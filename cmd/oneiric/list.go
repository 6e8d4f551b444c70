package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/oneiric-go/oneiric/manifest"
	"github.com/oneiric-go/oneiric/registry"
)

// This file holds "oneiric list" and what the three manifest commands (list,
// explain, resolve) share: argument parsing, loading and the JSON form of an
// entry.

// runList is "oneiric list": every domain's active and shadowed candidates
// over the manifests given.
func runList(ctx context.Context, args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(errOut)
	asJSON := fs.Bool("json", false, "print the listing as JSON")
	fs.Usage = manifestUsage(fs, "list", "FILE...",
		"Loads the manifests FILE... into a fresh registry and lists, per domain, each key's",
		"active candidate and its shadowed ones, with why the winner wins, then the selections.")
	files, code, ok := parseManifestArgs(fs, args, 1, "FILE...")
	if !ok {
		return code
	}
	l, code := loadManifests("list", files, errOut)
	if l == nil {
		return code
	}
	snap := l.r.Snapshot()
	if *asJSON {
		return writeJSON("list", out, errOut, listJSON(l, snap))
	}

	rows := [][]string{{"MANIFEST", "OWNER", "CANDIDATES", "SELECTIONS"}}
	for _, m := range l.ms {
		rows = append(rows, []string{m.File, m.Owner, strconv.Itoa(len(m.Candidates)), strconv.Itoa(countSelections(m))})
	}
	writeTable(out, "", rows, 2, 3)
	fmt.Fprintln(out)
	domains := snap.Domains()
	if len(domains) == 0 {
		fmt.Fprintln(out, "no candidates")
	}
	for _, d := range domains {
		listDomain(out, snap, d)
	}
	if sels := l.selections(); len(sels) > 0 {
		fmt.Fprintln(out, "selections")
		rows := [][]string{}
		for _, s := range sels {
			note := ""
			if _, ok := snap.Resolve(s.Domain, s.Key, registry.Provider(s.Provider)); !ok {
				note = "(no candidate of that provider yet: the selection waits for one)"
			}
			rows = append(rows, []string{s.Domain + "/" + s.Key, "→", s.Provider, s.File, note})
		}
		writeTable(out, "  ", rows)
	}
	return exitOK
}

// listDomain prints one table of domain d: each key's winner, then its
// shadowed candidates, with their owner and why they win or lose.
func listDomain(w io.Writer, s *registry.Snapshot, d string) {
	fmt.Fprintf(w, "domain %q\n", d)
	rows := [][]string{{"KEY", "STATE", "PROVIDER", "PRIORITY", "STACK", "SEQ", "CAPABILITIES", "SOURCE", "OWNER", "WHY"}}
	shadowed := s.ListShadowed(d)
	for _, a := range s.ListActive(d) {
		x := s.Explain(d, a.Key())
		rows = append(rows, withOwner(entryRow(a, "active", whyWins(x)), a.Owner()))
		for len(shadowed) > 0 && shadowed[0].Key() <= a.Key() {
			e := shadowed[0]
			shadowed = shadowed[1:]
			rows = append(rows, withOwner(entryRow(e, "shadowed", whyLoses(x, e)), e.Owner()))
		}
	}
	writeTable(w, "  ", rows, 3, 4, 5)
	fmt.Fprintln(w)
}

// withOwner inserts the owner before the last cell of a row of entryRow (the
// demo's), which is WHY.
func withOwner(row []string, owner string) []string {
	n := len(row)
	return append(slices.Clone(row[:n-1]), owner, row[n-1])
}

// manifestUsage returns the usage function of a manifest command.
func manifestUsage(fs *flag.FlagSet, name, operands string, about ...string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: oneiric %s [flags] %s\n", name, operands)
		fmt.Fprintln(w)
		for _, line := range about {
			fmt.Fprintln(w, line)
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Flags come first, before the arguments: Go's flag package stops at the first")
		fmt.Fprintln(w, `argument. When a file name starts with "-", put -- before the first argument.`)
		fmt.Fprintln(w, "-json and --json are the same. docs/manifest.md describes the manifest format.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Exit status 2 for bad usage or a manifest that cannot be read, is malformed or")
		fmt.Fprintln(w, "conflicts with another; the error names the file, the line and column, and the entry.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
	}
}

// parseManifestArgs parses args with fs and returns the positional
// arguments, at least min of them (operands names them in messages). When ok
// is false the command returns code: exitOK after -h, exitUsage otherwise.
func parseManifestArgs(fs *flag.FlagSet, args []string, min int, operands string) (pos []string, code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitOK, false
		}
		return nil, exitUsage, false
	}
	pos = fs.Args()
	dashdash := len(pos) < len(args) && args[len(args)-len(pos)-1] == "--"
	if !dashdash {
		for _, a := range pos {
			if a == "--" {
				fmt.Fprintf(fs.Output(), "oneiric %s: -- after the arguments: it ends the flags, so it goes before the first argument, as in\n  oneiric %s [flags] -- %s\n",
					fs.Name(), fs.Name(), operands)
				return nil, exitUsage, false
			}
			if len(a) > 1 && a[0] == '-' {
				fmt.Fprintf(fs.Output(), "oneiric %s: flag %q after the arguments: flags come first, as in\n  oneiric %s [flags] %s\n",
					fs.Name(), a, fs.Name(), operands)
				return nil, exitUsage, false
			}
		}
	}
	if len(pos) < min {
		fmt.Fprintf(fs.Output(), "oneiric %s: want %s, got %d argument%s\n  oneiric %s [flags] %s\n",
			fs.Name(), operands, len(pos), plural(len(pos)), fs.Name(), operands)
		return nil, exitUsage, false
	}
	return pos, exitOK, true
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// loaded is what the manifest commands work on: the manifests, and a fresh
// registry they were loaded into.
type loaded struct {
	ms []*manifest.Manifest
	r  *registry.Registry
}

// loadManifests parses every file (reporting each one that cannot be read or
// is malformed) and loads them all into a fresh registry. On failure it
// returns nil and the exit status: exitUsage, since the input is at fault.
func loadManifests(cmd string, files []string, errOut io.Writer) (*loaded, int) {
	l := &loaded{}
	failed := false
	for _, f := range files {
		m, err := manifest.ParseFile(f)
		if err != nil {
			fmt.Fprintf(errOut, "oneiric %s: %v\n", cmd, err)
			failed = true
			continue
		}
		l.ms = append(l.ms, m)
	}
	if failed {
		return nil, exitUsage
	}
	// WithStackOrder(""): $ONEIRIC_STACK_ORDER plays no part in a manifest.
	l.r = registry.New(registry.WithStackOrder(""))
	if err := manifest.Load(l.r, l.ms...); err != nil {
		fmt.Fprintf(errOut, "oneiric %s: %v\n", cmd, err)
		return nil, exitUsage
	}
	return l, exitOK
}

// selectionJSON is one selection of a manifest.
type selectionJSON struct {
	Domain   string `json:"domain"`
	Key      string `json:"key"`
	Provider string `json:"provider"`
	File     string `json:"file"`
}

// selections returns every selection of the manifests, by domain and key.
// Load refused conflicting ones, so each (domain, key) appears once.
func (l *loaded) selections() []selectionJSON {
	var out []selectionJSON
	seen := map[[2]string]bool{}
	for _, m := range l.ms {
		for d, keys := range m.Selections {
			for k, p := range keys {
				if !seen[[2]string{d, k}] {
					seen[[2]string{d, k}] = true
					out = append(out, selectionJSON{Domain: d, Key: k, Provider: p, File: m.File})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b selectionJSON) int {
		return strings.Compare(a.Domain+"\x00"+a.Key, b.Domain+"\x00"+b.Key)
	})
	return out
}

// selection returns the provider the manifests select for (d, k), or "".
func (l *loaded) selection(d, k string) string {
	for _, m := range l.ms {
		if p := m.Selections[d][k]; p != "" {
			return p
		}
	}
	return ""
}

func countSelections(m *manifest.Manifest) int {
	n := 0
	for _, keys := range m.Selections {
		n += len(keys)
	}
	return n
}

// entryJSON is the JSON form of an entry in list and resolve.
type entryJSON struct {
	Domain       string          `json:"domain"`
	Key          string          `json:"key"`
	Provider     string          `json:"provider"`
	Priority     int             `json:"priority"`
	StackLevel   int             `json:"stack_level"`
	Sequence     uint64          `json:"sequence"`
	Capabilities []string        `json:"capabilities"`
	Source       registry.Source `json:"source"`
	Owner        string          `json:"owner"`
	Factory      any             `json:"factory,omitempty"`
	Metadata     map[string]any  `json:"metadata,omitempty"`
}

func toJSON(e *registry.Entry) entryJSON {
	caps := e.Capabilities()
	if caps == nil {
		caps = []string{}
	}
	return entryJSON{
		Domain: e.Domain(), Key: e.Key(), Provider: e.Provider(), Priority: e.Priority(),
		StackLevel: e.StackLevel(), Sequence: e.Sequence(), Capabilities: caps, Source: e.Source(),
		Owner: e.Owner(), Factory: e.Factory(), Metadata: e.Metadata(),
	}
}

func toJSONs(es []*registry.Entry) []entryJSON {
	out := make([]entryJSON, len(es))
	for i, e := range es {
		out[i] = toJSON(e)
	}
	return out
}

type manifestJSON struct {
	File       string `json:"file"`
	Owner      string `json:"owner"`
	Candidates int    `json:"candidates"`
	Selections int    `json:"selections"`
}

type domainJSON struct {
	Domain   string      `json:"domain"`
	Active   []entryJSON `json:"active"`
	Shadowed []entryJSON `json:"shadowed"`
}

func listJSON(l *loaded, snap *registry.Snapshot) any {
	out := struct {
		Manifests  []manifestJSON  `json:"manifests"`
		Domains    []domainJSON    `json:"domains"`
		Selections []selectionJSON `json:"selections"`
	}{Manifests: []manifestJSON{}, Domains: []domainJSON{}, Selections: l.selections()}
	for _, m := range l.ms {
		out.Manifests = append(out.Manifests, manifestJSON{m.File, m.Owner, len(m.Candidates), countSelections(m)})
	}
	for _, d := range snap.Domains() {
		out.Domains = append(out.Domains, domainJSON{d, toJSONs(snap.ListActive(d)), toJSONs(snap.ListShadowed(d))})
	}
	if out.Selections == nil {
		out.Selections = []selectionJSON{}
	}
	return out
}

// writeJSON writes v as indented JSON.
func writeJSON(cmd string, out, errOut io.Writer, v any) int {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fmt.Fprintf(errOut, "oneiric %s: %v\n", cmd, err)
		return exitFail
	}
	fmt.Fprintln(out, string(b))
	return exitOK
}
