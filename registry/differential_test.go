package registry_test

// The differential harness shared by TestRegistryMatchesModel (model_test.go)
// and FuzzRegistry (fuzz_test.go): every operation is applied to a Registry
// and to the reference model (internal/model), and the results must agree.
// Expectations that do not come from the model (validity of an input, the next
// sequence number, the effective priority of a package candidate, the score of
// a rank) are computed here from first principles, so that a bug shared by the
// registry and the model (both use domain.Prepare) is still caught.

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/oneiric-go/oneiric/explain"
	"github.com/oneiric-go/oneiric/internal/model"
	"github.com/oneiric-go/oneiric/registry"
)

// Alphabets. Each holds four valid names first, then four invalid ones (the
// provider alphabet's "" is valid: an empty provider is allowed). They are
// small on purpose, so that operations collide on the same domains, keys and
// providers.
var (
	testDomains   = []string{"adapter", "service", "tenant-α", "task", "", "svc\x00", strings.Repeat("d", 300), "\xff\xfe"}
	testKeys      = []string{"cache", "queue", "db", strings.Repeat("k", 256), "", "k\n", strings.Repeat("k", 300), "\xc3\x28"}
	testProviders = []string{"redis", "memcached", "", "local", "p\x7f", "\x00", strings.Repeat("p", 300), "\xff"}
	// testCaps are capability names, some needing trimming, one empty.
	testCaps = []string{"cache", "ttl", " ttl ", "", "pubsub", "sql"}
	// Package names and paths for RegisterPackage, with testStackOrder.
	testPackages = []string{"plugA", "plugB", "other", "adapters"}
	testPaths    = []string{"/project/adapters/x.py", "services/cache/y.py", "vendor/tasks/z.py", "lib/z.py"}
)

const testStackOrder = "plugA:5, plugB ,bad:x"

// wantInfer is the priority RegisterPackage must infer for (pkg, path) under
// testStackOrder, worked out by hand from the spec: plugA has 5; plugB no
// value, so 10 × 1 (the names read before it); "bad:x" is malformed and
// ignored; otherwise the first path hint in the order adapters, services,
// tasks, events, workflows, vendor, minus the number of path components.
func wantInfer(pkg, path string) int {
	switch pkg {
	case "plugA":
		return 5
	case "plugB":
		return 10
	}
	switch path {
	case "/project/adapters/x.py": // "/", project, adapters, x.py
		return 80 - 4
	case "services/cache/y.py":
		return 70 - 3
	case "vendor/tasks/z.py": // tasks is checked before vendor
		return 60 - 3
	}
	return 0
}

// metaVariant is one kind of candidate metadata.
type metaVariant struct {
	name  string
	make  func() map[string]any
	valid bool
}

// deepMetadata returns metadata nested levels deep: the root map is level 1.
func deepMetadata(levels int) map[string]any {
	m := map[string]any{"leaf": 1}
	for range levels - 1 {
		m = map[string]any{"n": m}
	}
	return m
}

var metaVariants = []metaVariant{
	{"none", func() map[string]any { return nil }, true},
	{"caps-string", func() map[string]any { return map[string]any{"capabilities": " pubsub "} }, true},
	{"caps-list", func() map[string]any { return map[string]any{"capabilities": []any{"sql", 7, "cache"}} }, true},
	{"caps-descriptors", func() map[string]any {
		return map[string]any{"capability_descriptors": []any{map[string]any{"name": "ttl"}, map[string]any{"x": 1}}, "capabilities": []string{"sql"}}
	}, true},
	{"deep-32", func() map[string]any { return deepMetadata(32) }, true},
	{"deep-33", func() map[string]any { return deepMetadata(33) }, false},
	{"cycle", func() map[string]any {
		m := map[string]any{"a": 1}
		m["self"] = m
		return m
	}, false},
	{"package-override", func() map[string]any {
		return map[string]any{"package": "mine", "list": []any{1.5, "x", map[string]any{"y": nil}}}
	}, true},
}

// validName reports whether s is an acceptable domain, key or provider,
// written out from the spec.
func validName(s string, allowEmpty bool) bool {
	if (s == "" && !allowEmpty) || len(s) > 256 || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

func validAddress(d, k, p string) bool {
	return validName(d, false) && validName(k, false) && validName(p, true)
}

// cand is a candidate and whether the registry must accept it.
type cand struct {
	c     registry.Candidate
	valid bool
}

// newCand builds a candidate; meta indexes metaVariants; badSource gives it
// an unknown Source.
func newCand(d, k, p string, prio *int, stack int, caps []string, meta int, badSource bool) cand {
	mv := metaVariants[meta]
	c := registry.Candidate{Domain: d, Key: k, Provider: p, Priority: prio, StackLevel: stack,
		Capabilities: caps, Metadata: mv.make(), Source: registry.SourceManual}
	if badSource {
		c.Source = registry.Source(42)
	}
	return cand{c: c, valid: validAddress(d, k, p) && mv.valid && !badSource}
}

// optKind is the kind of a ResolveOption.
type optKind int

const (
	optProvider optKind = iota
	optRequire
	optRequireAny
	optNil // a nil ResolveOption, which must be ignored
	numOptKinds
)

// opt describes one ResolveOption, so that the test can build both the option
// and, independently, the explain.Query the model takes.
type opt struct {
	kind     optKind
	provider string
	caps     []string
}

func (o opt) String() string {
	switch o.kind {
	case optProvider:
		return fmt.Sprintf("Provider(%q)", o.provider)
	case optRequire:
		return fmt.Sprintf("Require(%q)", o.caps)
	case optRequireAny:
		return fmt.Sprintf("RequireAny(%q)", o.caps)
	}
	return "nil"
}

func options(os []opt) []registry.ResolveOption {
	out := make([]registry.ResolveOption, len(os))
	for i, o := range os {
		switch o.kind {
		case optProvider:
			out[i] = registry.Provider(o.provider)
		case optRequire:
			out[i] = registry.Require(o.caps...)
		case optRequireAny:
			out[i] = registry.RequireAny(o.caps...)
		}
	}
	return out
}

// normCaps trims required capabilities, drops empty ones and duplicates and
// sorts them; nil when none remain.
func normCaps(caps []string) []string {
	var out []string
	for _, c := range caps {
		if c = strings.TrimSpace(c); c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// queryOf is the explain.Query that os describe, per the spec: the last
// Provider wins, Provider("") means no filter, and Require and RequireAny
// both set the required set and the mode, the last one winning.
func queryOf(os []opt) explain.Query {
	var q explain.Query
	for _, o := range os {
		switch o.kind {
		case optProvider:
			q.Provider = o.provider
		case optRequire:
			q.Required, q.Any = normCaps(o.caps), false
		case optRequireAny:
			q.Required, q.Any = normCaps(o.caps), true
		}
	}
	return q
}

// checkOptions verifies that the registry's options build the Query that
// queryOf describes. (A ResolveOption is a func(*explain.Query).)
func checkOptions(os []opt) error {
	var got explain.Query
	for _, o := range options(os) {
		if o != nil {
			o(&got)
		}
	}
	want := queryOf(os)
	if got.Provider != want.Provider || got.Any != want.Any || !slices.Equal(got.Required, want.Required) {
		return fmt.Errorf("options %v build %+v, want %+v", os, got, want)
	}
	return nil
}

// diffEntry returns "" when got and want describe the same registration:
// the same address, provider, sequence, priority, stack level, source and
// capabilities.
func diffEntry(got, want *registry.Entry) string {
	switch {
	case got == nil && want == nil:
		return ""
	case got == nil || want == nil:
		return fmt.Sprintf("entry %s, want %s", fmtEntry(got), fmtEntry(want))
	}
	if got.Domain() != want.Domain() || got.Key() != want.Key() || got.Provider() != want.Provider() ||
		got.Sequence() != want.Sequence() || got.Priority() != want.Priority() || got.StackLevel() != want.StackLevel() ||
		got.Source() != want.Source() || !slices.Equal(got.Capabilities(), want.Capabilities()) {
		return fmt.Sprintf("entry %s, want %s", fmtEntry(got), fmtEntry(want))
	}
	return ""
}

// diffEntryFull is diffEntry that also compares the metadata (a deep copy on
// each call, so only the entries a write returns are compared this way: the
// rest are the same immutable entries) and checks the registration time.
func diffEntryFull(got, want *registry.Entry) string {
	if d := diffEntry(got, want); d != "" || got == nil {
		return d
	}
	if !reflect.DeepEqual(got.Metadata(), want.Metadata()) {
		return fmt.Sprintf("entry %s: metadata %v, want %v", fmtEntry(got), got.Metadata(), want.Metadata())
	}
	if got.Factory() != want.Factory() { // the tests use only comparable factories
		return fmt.Sprintf("entry %s: factory %v, want %v", fmtEntry(got), got.Factory(), want.Factory())
	}
	if got.RegisteredAt().Location() != time.UTC {
		return fmt.Sprintf("entry %s: registration time %v is not UTC", fmtEntry(got), got.RegisteredAt())
	}
	return ""
}

func fmtEntry(e *registry.Entry) string {
	if e == nil {
		return "<nil>"
	}
	return fmt.Sprintf("{%q/%q %q seq=%d prio=%d stack=%d src=%v caps=%q}", trunc(e.Domain()), trunc(e.Key()),
		trunc(e.Provider()), e.Sequence(), e.Priority(), e.StackLevel(), e.Source(), e.Capabilities())
}

// trunc keeps failure messages readable with the 300-byte names.
func trunc(s string) string {
	if len(s) > 20 {
		return s[:10] + "…(" + strconv.Itoa(len(s)) + " bytes)"
	}
	return s
}

func diffEntries(got, want []*registry.Entry) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d entries, want %d: %s, want %s", len(got), len(want), fmtEntries(got), fmtEntries(want))
	}
	for i := range got {
		if d := diffEntry(got[i], want[i]); d != "" {
			return fmt.Sprintf("at %d: %s", i, d)
		}
	}
	return ""
}

func fmtEntries(es []*registry.Entry) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = fmtEntry(e)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// diffExplanation compares two explanations rank by rank: entry, score,
// reasons and selection.
func diffExplanation(got, want *explain.Explanation) string {
	if got == nil || want == nil {
		return fmt.Sprintf("explanation %v, want %v", got, want)
	}
	if got.Domain != want.Domain || got.Key != want.Key {
		return fmt.Sprintf("explanation of %q/%q, want %q/%q", got.Domain, got.Key, want.Domain, want.Key)
	}
	if got.Ordered == nil {
		return "explanation with nil Ordered, want []"
	}
	if len(got.Ordered) != len(want.Ordered) {
		return fmt.Sprintf("%d ranks, want %d:\n%v\nwant\n%v", len(got.Ordered), len(want.Ordered), got, want)
	}
	for i := range got.Ordered {
		g, w := got.Ordered[i], want.Ordered[i]
		if d := diffEntry(g.Entry, w.Entry); d != "" {
			return fmt.Sprintf("rank %d: %s", i+1, d)
		}
		if g.Score != w.Score || g.Selected != w.Selected || !slices.Equal(g.Reasons, w.Reasons) {
			return fmt.Sprintf("rank %d: score %+v selected %v reasons %q, want %+v %v %q",
				i+1, g.Score, g.Selected, g.Reasons, w.Score, w.Selected, w.Reasons)
		}
	}
	return ""
}

// diffErr checks that both calls succeeded or both failed with
// ErrInvalidCandidate, and that this is what the input called for.
func diffErr(got, want error, valid bool) string {
	switch {
	case (got == nil) != (want == nil):
		return fmt.Sprintf("error %v, model's %v", got, want)
	case got != nil && !errors.Is(got, registry.ErrInvalidCandidate):
		return fmt.Sprintf("error %v does not match ErrInvalidCandidate", got)
	case want != nil && !errors.Is(want, registry.ErrInvalidCandidate):
		return fmt.Sprintf("model's error %v does not match ErrInvalidCandidate", want)
	case (got == nil) != valid:
		return fmt.Sprintf("error %v for an input that is valid=%v", got, valid)
	}
	return ""
}

// harnessConfig configures a registry and its model alike.
type harnessConfig struct {
	shards     int                 // 0: the default
	hash       func(string) uint64 // nil: the registry's own
	defPrio    int
	selections map[string]map[string]string
}

func (c harnessConfig) String() string {
	return fmt.Sprintf("shards=%d degenerate-hash=%v default-priority=%d selections=%q",
		c.shards, c.hash != nil, c.defPrio, c.selections)
}

// harness applies every operation to a registry and to the model.
type harness struct {
	r   *registry.Registry
	m   *model.Model
	sel map[model.Addr]string // the selections in force, tracked by the test
	seq uint64                // the last sequence number handed out
}

func newHarness(c harnessConfig) *harness {
	opts := []registry.Option{
		registry.WithShards(c.shards),
		registry.WithDefaultPriority(c.defPrio),
		registry.WithStackOrder(testStackOrder),
		// A Debug-level logger, so that winner changes are formatted (and
		// the logging path runs) on every write.
		registry.WithLogger(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}
	if c.selections != nil {
		opts = append(opts, registry.WithSelections(c.selections))
	}
	if c.hash != nil {
		opts = append(opts, registry.WithHash(c.hash))
	}
	h := &harness{
		r:   registry.New(opts...),
		m:   model.New(model.Config{DefaultPriority: c.defPrio, Infer: wantInfer, Selections: c.selections}),
		sel: map[model.Addr]string{},
	}
	for d, keys := range c.selections {
		for k, p := range keys {
			if validAddress(d, k, p) && p != "" {
				h.sel[model.Addr{Domain: d, Key: k}] = p
			}
		}
	}
	return h
}

func (h *harness) register(c cand) error {
	got, gerr := h.r.Register(c.c)
	want, werr := h.m.Register(c.c)
	if d := diffErr(gerr, werr, c.valid); d != "" {
		return fmt.Errorf("Register(%s): %s", fmtCand(c.c), d)
	}
	if gerr != nil {
		if got != nil {
			return fmt.Errorf("Register(%s) failed but returned %s", fmtCand(c.c), fmtEntry(got))
		}
		return nil
	}
	h.seq++
	if got.Sequence() != h.seq {
		return fmt.Errorf("Register(%s): sequence %d, want %d", fmtCand(c.c), got.Sequence(), h.seq)
	}
	if d := diffEntryFull(got, want); d != "" {
		return fmt.Errorf("Register(%s): %s", fmtCand(c.c), d)
	}
	return nil
}

func fmtCand(c registry.Candidate) string {
	p := "nil"
	if c.Priority != nil {
		p = strconv.Itoa(*c.Priority)
	}
	return fmt.Sprintf("{%q/%q %q prio=%s stack=%d caps=%q src=%d}", trunc(c.Domain), trunc(c.Key), trunc(c.Provider),
		p, c.StackLevel, c.Capabilities, c.Source)
}

func (h *harness) registerPackage(pkg, path string, cs []cand, prio *int) error {
	in := make([]registry.Candidate, len(cs))
	before := make([]map[string]any, len(cs))
	valid := true
	for i, c := range cs {
		in[i] = c.c
		before[i] = maps.Clone(c.c.Metadata)
		valid = valid && c.valid
	}
	name := fmt.Sprintf("RegisterPackage(%q, %q, %d candidates, prio=%v)", pkg, path, len(cs), fmtPrio(prio))
	got, gerr := h.r.RegisterPackage(pkg, path, in, prio)
	want, werr := h.m.RegisterPackage(pkg, path, in, prio)
	if d := diffErr(gerr, werr, valid); d != "" {
		return fmt.Errorf("%s: %s", name, d)
	}
	for i := range in {
		if !reflect.DeepEqual(in[i].Metadata, before[i]) || (in[i].Metadata == nil) != (before[i] == nil) {
			return fmt.Errorf("%s changed the metadata of candidate %d: %v, was %v", name, i, in[i].Metadata, before[i])
		}
	}
	if gerr != nil {
		if got != nil {
			return fmt.Errorf("%s failed but returned %d entries", name, len(got))
		}
		return nil
	}
	if len(got) != len(want) {
		return fmt.Errorf("%s: %d entries, model %d", name, len(got), len(want))
	}
	for i := range got {
		if d := diffEntryFull(got[i], want[i]); d != "" {
			return fmt.Errorf("%s: candidate %d: %s", name, i, d)
		}
	}
	for i, e := range got {
		h.seq++
		if e.Sequence() != h.seq {
			return fmt.Errorf("%s: candidate %d has sequence %d, want %d", name, i, e.Sequence(), h.seq)
		}
		wp := wantInfer(pkg, path)
		if prio != nil {
			wp = *prio
		}
		if in[i].Priority != nil {
			wp = *in[i].Priority
		}
		if e.Priority() != wp {
			return fmt.Errorf("%s: candidate %d has priority %d, want %d", name, i, e.Priority(), wp)
		}
		wantPkg := any(pkg)
		if v, ok := in[i].Metadata["package"]; ok {
			wantPkg = v
		}
		if v, _ := e.Meta("package"); v != wantPkg {
			return fmt.Errorf("%s: candidate %d has package %v, want %v", name, i, v, wantPkg)
		}
	}
	return nil
}

func fmtPrio(p *int) string {
	if p == nil {
		return "nil"
	}
	return strconv.Itoa(*p)
}

func (h *harness) unregister(d, k, p string) error {
	got, want := h.r.Unregister(d, k, p), h.m.Unregister(d, k, p)
	if got != want {
		return fmt.Errorf("Unregister(%q, %q, %q) = %d, model %d", trunc(d), trunc(k), trunc(p), got, want)
	}
	return nil
}

func (h *harness) selectProvider(d, k, p string) error {
	gerr, werr := h.r.Select(d, k, p), h.m.Select(d, k, p)
	valid := validAddress(d, k, p)
	if diff := diffErr(gerr, werr, valid); diff != "" {
		return fmt.Errorf("Select(%q, %q, %q): %s", trunc(d), trunc(k), trunc(p), diff)
	}
	if valid {
		a := model.Addr{Domain: d, Key: k}
		if p == "" {
			delete(h.sel, a)
		} else {
			h.sel[a] = p
		}
	}
	return nil
}

// resolve compares Resolve with the model's, and with the winner of Explain
// under the same options.
func (h *harness) resolve(d, k string, os []opt) error {
	if err := checkOptions(os); err != nil {
		return err
	}
	got, gok := h.r.Resolve(d, k, options(os)...)
	want, wok := h.m.Resolve(d, k, queryOf(os))
	if gok != wok || (got == nil) != !gok {
		return fmt.Errorf("Resolve(%q, %q, %v) = %s, %v; model %s, %v", trunc(d), trunc(k), os, fmtEntry(got), gok, fmtEntry(want), wok)
	}
	if diff := diffEntry(got, want); diff != "" {
		return fmt.Errorf("Resolve(%q, %q, %v): %s", trunc(d), trunc(k), os, diff)
	}
	if w, ok := h.r.Explain(d, k, options(os)...).Winner(); ok != gok || w != got {
		return fmt.Errorf("Resolve(%q, %q, %v) = %s, but Explain's winner is %s", trunc(d), trunc(k), os, fmtEntry(got), fmtEntry(w))
	}
	return nil
}

func (h *harness) explain(d, k string, os []opt) error {
	if err := checkOptions(os); err != nil {
		return err
	}
	got, want := h.r.Explain(d, k, options(os)...), h.m.Explain(d, k, queryOf(os))
	if diff := diffExplanation(got, want); diff != "" {
		return fmt.Errorf("Explain(%q, %q, %v): %s", trunc(d), trunc(k), os, diff)
	}
	return nil
}

func (h *harness) listActive(d string) error {
	if diff := diffEntries(h.r.ListActive(d), h.m.ListActive(d)); diff != "" {
		return fmt.Errorf("ListActive(%q): %s", trunc(d), diff)
	}
	return nil
}

func (h *harness) listShadowed(d string) error {
	if diff := diffEntries(h.r.ListShadowed(d), h.m.ListShadowed(d)); diff != "" {
		return fmt.Errorf("ListShadowed(%q): %s", trunc(d), diff)
	}
	return nil
}

func (h *harness) domains() error {
	if got, want := h.r.Domains(), h.m.Domains(); !slices.Equal(got, want) {
		return fmt.Errorf("Domains() = %q, model %q", got, want)
	}
	return nil
}

// snapshot takes a snapshot of ds in both and compares them. It returns both,
// so that a caller can check later that the snapshot did not change.
func (h *harness) snapshot(ds []string) (*registry.Snapshot, map[model.Addr][]*registry.Entry, error) {
	got, want := h.r.Snapshot(ds...), h.m.Snapshot(ds...)
	if err := diffSnapshot(got, want, true); err != nil {
		return nil, nil, fmt.Errorf("Snapshot(%q): %w", ds, err)
	}
	return got, want, nil
}

// diffSnapshot compares a registry snapshot with the model's: its domains,
// size, the listings of every domain (of the alphabet too, which must read as
// empty when not held) and every key's winner; with full, also every key's
// ranking.
func diffSnapshot(s *registry.Snapshot, want map[model.Addr][]*registry.Entry, full bool) error {
	wantDomains := map[string]bool{}
	n := 0
	for a, es := range want {
		wantDomains[a.Domain] = true
		n += len(es)
	}
	if got := s.Domains(); !slices.Equal(got, slices.Sorted(maps.Keys(wantDomains))) {
		return fmt.Errorf("domains %q, model %q", got, slices.Sorted(maps.Keys(wantDomains)))
	}
	if s.Len() != n {
		return fmt.Errorf("%d candidates, model %d", s.Len(), n)
	}
	probe := slices.Clone(testDomains)
	for d := range wantDomains {
		if !slices.Contains(probe, d) {
			probe = append(probe, d)
		}
	}
	for _, d := range probe {
		var addrs []model.Addr
		for a := range want {
			if a.Domain == d {
				addrs = append(addrs, a)
			}
		}
		slices.SortFunc(addrs, func(x, y model.Addr) int { return cmp.Compare(x.Key, y.Key) })
		var active, shadowed []*registry.Entry
		for _, a := range addrs {
			active = append(active, want[a][0])
			shadowed = append(shadowed, want[a][1:]...)
		}
		listed := s.ListActive(d)
		if diff := diffEntries(listed, active); diff != "" {
			return fmt.Errorf("ListActive(%q): %s", trunc(d), diff)
		}
		if diff := diffEntries(s.ListShadowed(d), shadowed); diff != "" {
			return fmt.Errorf("ListShadowed(%q): %s", trunc(d), diff)
		}
		for _, k := range testKeys {
			if _, held := want[model.Addr{Domain: d, Key: k}]; !held {
				if e, ok := s.Resolve(d, k); ok {
					return fmt.Errorf("Resolve(%q, %q) = %s, want none", trunc(d), trunc(k), fmtEntry(e))
				}
			}
		}
		for i, a := range addrs {
			// Resolve returns the very entry the snapshot lists as active.
			if e, ok := s.Resolve(d, a.Key); !ok || e != listed[i] {
				return fmt.Errorf("Resolve(%q, %q) = %s, %v; listed winner %s", trunc(d), trunc(a.Key), fmtEntry(e), ok, fmtEntry(listed[i]))
			}
			if !full {
				continue
			}
			x := s.Explain(d, a.Key)
			got := make([]*registry.Entry, len(x.Ordered))
			for i, r := range x.Ordered {
				got[i] = r.Entry
			}
			if diff := diffEntries(got, want[a]); diff != "" {
				return fmt.Errorf("Explain(%q, %q): %s", trunc(d), trunc(a.Key), diff)
			}
			if w, _ := x.Winner(); w != listed[i] {
				return fmt.Errorf("Explain(%q, %q) winner %s, listed winner %s", trunc(d), trunc(a.Key), fmtEntry(w), fmtEntry(listed[i]))
			}
		}
	}
	return nil
}

// requireAnyAll requires any of the capabilities the tests use.
var (
	requireAnyAll      = []registry.ResolveOption{registry.RequireAny(testCaps...)}
	requireAnyAllQuery = queryOf([]opt{{kind: optRequireAny, caps: testCaps}})
)

// scoreOf is a candidate's score without required capabilities, computed
// from the spec with the selections the test tracks.
func (h *harness) scoreOf(e *registry.Entry) explain.Score {
	s := explain.Score{Priority: e.Priority(), StackLevel: e.StackLevel(), Sequence: e.Sequence()}
	if p, ok := h.sel[model.Addr{Domain: e.Domain(), Key: e.Key()}]; ok && p == e.Provider() {
		s.Override = 1
	}
	return s
}

// higher reports whether score a ranks above b, compared lexicographically.
func higher(a, b explain.Score) bool {
	for _, c := range [...]int{
		cmp.Compare(a.Override, b.Override),
		cmp.Compare(a.CapabilityMatch, b.CapabilityMatch),
		cmp.Compare(a.Priority, b.Priority),
		cmp.Compare(a.StackLevel, b.StackLevel),
		cmp.Compare(a.Sequence, b.Sequence),
	} {
		if c != 0 {
			return c > 0
		}
	}
	return false
}

// check compares the whole state with the model and verifies the invariants:
// for every key, Explain ranks every candidate by the score the spec gives,
// best first; the winner is the best; Resolve returns Explain's winner;
// ListActive holds the winners, ListShadowed all the others; every entry is
// unique; a Snapshot of every domain agrees with the model's (rankings
// compared only with full, as the per-key checks already compare them).
func (h *harness) check(full bool) error {
	if err := h.domains(); err != nil {
		return err
	}
	seen := map[uint64]bool{}
	for _, d := range testDomains {
		if err := h.listActive(d); err != nil {
			return err
		}
		if err := h.listShadowed(d); err != nil {
			return err
		}
		active, shadowed := h.r.ListActive(d), h.r.ListShadowed(d)
		var wantActive, wantShadowed []*registry.Entry
		for _, k := range testKeys {
			x := h.r.Explain(d, k)
			if diff := diffExplanation(x, h.m.Explain(d, k, explain.Query{})); diff != "" {
				return fmt.Errorf("Explain(%q, %q): %s", trunc(d), trunc(k), diff)
			}
			for i, r := range x.Ordered {
				e := r.Entry
				if e.Domain() != d || e.Key() != k {
					return fmt.Errorf("Explain(%q, %q) ranks %s", trunc(d), trunc(k), fmtEntry(e))
				}
				if seen[e.Sequence()] {
					return fmt.Errorf("sequence %d appears twice", e.Sequence())
				}
				seen[e.Sequence()] = true
				if s := h.scoreOf(e); r.Score != s {
					return fmt.Errorf("Explain(%q, %q) rank %d: score %+v, want %+v", trunc(d), trunc(k), i+1, r.Score, s)
				}
				if r.Selected != (i == 0) {
					return fmt.Errorf("Explain(%q, %q) rank %d: selected=%v", trunc(d), trunc(k), i+1, r.Selected)
				}
				if i > 0 && !higher(x.Ordered[i-1].Score, r.Score) {
					return fmt.Errorf("Explain(%q, %q): rank %d %+v is not above rank %d %+v",
						trunc(d), trunc(k), i, x.Ordered[i-1].Score, i+1, r.Score)
				}
			}
			w, ok := h.r.Resolve(d, k)
			if mw, mok := h.m.Resolve(d, k, explain.Query{}); ok != mok || diffEntry(w, mw) != "" {
				return fmt.Errorf("Resolve(%q, %q) = %s, %v; model %s, %v", trunc(d), trunc(k), fmtEntry(w), ok, fmtEntry(mw), mok)
			}
			if ok != (len(x.Ordered) > 0) {
				return fmt.Errorf("Resolve(%q, %q) found=%v with %d candidates", trunc(d), trunc(k), ok, len(x.Ordered))
			}
			if !ok {
				continue
			}
			// Capabilities reorder candidates only when a candidate ranked
			// lower matches more of them: RequireAny of every capability
			// exercises that on every key with several candidates.
			if len(x.Ordered) > 1 {
				xa := h.r.Explain(d, k, requireAnyAll...)
				if diff := diffExplanation(xa, h.m.Explain(d, k, requireAnyAllQuery)); diff != "" {
					return fmt.Errorf("Explain(%q, %q, RequireAny(all)): %s", trunc(d), trunc(k), diff)
				}
				e, ok := h.r.Resolve(d, k, requireAnyAll...)
				if w, wok := xa.Winner(); ok != wok || e != w {
					return fmt.Errorf("Resolve(%q, %q, RequireAny(all)) = %s, %v; Explain's winner %s", trunc(d), trunc(k), fmtEntry(e), ok, fmtEntry(w))
				}
			}
			if w != x.Ordered[0].Entry {
				return fmt.Errorf("Resolve(%q, %q) = %s, not the best-scored %s", trunc(d), trunc(k), fmtEntry(w), fmtEntry(x.Ordered[0].Entry))
			}
			wantActive = append(wantActive, w)
			for _, r := range x.Ordered[1:] {
				wantShadowed = append(wantShadowed, r.Entry)
			}
		}
		// The alphabet's keys are the only ones registered, so the listings
		// must hold exactly the winners and the others, in key order.
		byKey := func(a, b *registry.Entry) int { return cmp.Compare(a.Key(), b.Key()) }
		slices.SortStableFunc(wantActive, byKey)
		slices.SortStableFunc(wantShadowed, byKey)
		if !slices.Equal(active, wantActive) {
			return fmt.Errorf("ListActive(%q) = %s, want the winners %s", trunc(d), fmtEntries(active), fmtEntries(wantActive))
		}
		if !slices.Equal(shadowed, wantShadowed) {
			return fmt.Errorf("ListShadowed(%q) = %s, want all but the winners %s", trunc(d), fmtEntries(shadowed), fmtEntries(wantShadowed))
		}
	}
	if len(seen) != h.m.Len() {
		return fmt.Errorf("the registry ranks %d candidates, the model holds %d", len(seen), h.m.Len())
	}
	if err := diffSnapshot(h.r.Snapshot(), h.m.Snapshot(), full); err != nil {
		return fmt.Errorf("Snapshot(): %w", err)
	}
	return nil
}
