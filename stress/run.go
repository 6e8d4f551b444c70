package stress

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oneiric-go/oneiric/registry"
)

// Option configures [Run].
type Option func(*runConfig)

type runConfig struct {
	progress      func(Progress)
	progressEvery time.Duration
	sampleEvery   int64
}

// Progress is what a progress callback receives.
type Progress struct {
	Elapsed   time.Duration // since the workers started
	Ops       int64         // operations completed so far, over all goroutines
	OpsPerSec float64       // Ops / Elapsed
}

// DefaultProgressInterval is how often [WithProgress] calls back by default:
// often enough for a progress line to look live, rarely enough to cost
// nothing measurable.
const DefaultProgressInterval = 200 * time.Millisecond

// WithProgress makes Run call fn about every interval (every
// [DefaultProgressInterval] when interval ≤ 0) with the operations done so
// far. fn runs on a goroutine of its own, never concurrently with itself and
// never after Run has returned; a slow fn delays its next call, not the
// workers, and not the end of the run: the workers still stop when the
// duration is up or ctx is done, and Run returns once fn's call in progress
// has returned.
func WithProgress(interval time.Duration, fn func(Progress)) Option {
	return func(c *runConfig) {
		c.progress = fn
		c.progressEvery = interval
	}
}

// DefaultLatencySampling is how many operations of each goroutine make one
// latency sample by default. Reading the clock twice costs about as much as a
// lock-free Resolve, so timing every operation would halve the rate being
// measured; one in 8 keeps the cost small and still gives every kind
// thousands of samples a second.
const DefaultLatencySampling = 8

// WithLatencySampling makes Run time one operation in every (1 for all of
// them); every ≤ 0 means [DefaultLatencySampling]. Operation counts and rates
// always cover every operation.
func WithLatencySampling(every int) Option {
	return func(c *runConfig) { c.sampleEvery = int64(every) }
}

// Run executes workload w against r and returns its report. It returns an
// error, matching [ErrInvalidWorkload], only when w is invalid; a violated
// invariant is reported in the Report, not as an error.
//
// Run stops when w's duration has passed, when w's operation count is
// reached, or when ctx is done, whichever comes first. When ctx stops it,
// Report.Canceled is true and the report covers what ran. Either way every
// goroutine Run started has exited when it returns. The final checks read a
// snapshot of the harness's domains, so r should not be written to in those
// domains by anything else during the run.
func Run(ctx context.Context, r *registry.Registry, w Workload, opts ...Option) (*Report, error) {
	w, err := w.normalize()
	if err != nil {
		return nil, err
	}
	cfg := runConfig{progressEvery: DefaultProgressInterval, sampleEvery: DefaultLatencySampling}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.progressEvery <= 0 {
		cfg.progressEvery = DefaultProgressInterval
	}
	if cfg.sampleEvery <= 0 {
		cfg.sampleEvery = DefaultLatencySampling
	}
	h := newHarness(r, w, cfg)
	return h.run(ctx), nil
}

// harness is the state shared by the workers of one Run. Everything but
// stop, budget and done is written before the workers start and only read
// afterwards.
type harness struct {
	r   *registry.Registry
	w   Workload
	cfg runConfig

	domains   []string     // "stress.d<i>"
	keys      []string     // "k<i>"
	providers [][]string   // per goroutine: "w<g>.p<i>"
	markers   [][2]Address // per goroutine: where its markers go, A then B
	cumWeight [KindMarker]int
	workers   []*worker

	stop   atomic.Bool  // set once: time is up or ctx is done
	budget atomic.Int64 // operations not yet claimed, when w.Ops > 0
	done   []paddedCounter
}

// paddedCounter is one goroutine's operation count, alone on its cache line
// (64 bytes) so that progress reads do not slow the workers down.
type paddedCounter struct {
	n atomic.Int64
	_ [56]byte
}

func newHarness(r *registry.Registry, w Workload, cfg runConfig) *harness {
	h := &harness{r: r, w: w, cfg: cfg}
	h.domains = make([]string, w.Domains)
	for i := range h.domains {
		h.domains[i] = "stress.d" + strconv.Itoa(i)
	}
	h.keys = make([]string, w.Keys)
	for i := range h.keys {
		h.keys[i] = "k" + strconv.Itoa(i)
	}
	h.providers = make([][]string, w.Goroutines)
	h.markers = make([][2]Address, w.Goroutines)
	for g := range w.Goroutines {
		h.providers[g] = make([]string, w.Providers)
		for p := range w.Providers {
			h.providers[g][p] = fmt.Sprintf("w%d.p%d", g, p)
		}
		// Two keys, so that A and B differ even when they share a domain.
		a, b := h.markerDomains(g)
		h.markers[g] = [2]Address{{a, "marker.w" + strconv.Itoa(g) + ".a"}, {b, "marker.w" + strconv.Itoa(g) + ".b"}}
	}
	sum := 0
	for k := range KindMarker {
		sum += w.Mix.Weight(k)
		h.cumWeight[k] = sum
	}
	h.budget.Store(w.Ops)
	h.done = make([]paddedCounter, w.Goroutines)
	h.workers = make([]*worker, w.Goroutines)
	for g := range w.Goroutines {
		h.workers[g] = newWorker(h, g)
	}
	return h
}

// markerDomains returns goroutine g's marker domains: A, then B, different
// whenever there are at least two domains.
func (h *harness) markerDomains(g int) (a, b string) {
	n := len(h.domains)
	ia := g % n
	ib := (ia + max(1, n/2)) % n
	return h.domains[ia], h.domains[ib]
}

func (h *harness) opsDone() int64 {
	var n int64
	for i := range h.done {
		n += h.done[i].n.Load()
	}
	return n
}

func (h *harness) run(ctx context.Context) *Report {
	start := time.Now()
	var wg sync.WaitGroup
	for _, wk := range h.workers {
		wg.Go(wk.run)
	}
	allDone := make(chan struct{})
	var canceled bool
	var helpers sync.WaitGroup
	helpers.Go(func() { canceled = h.supervise(ctx, allDone) })
	if h.cfg.progress != nil {
		helpers.Go(func() { h.reportProgress(start, allDone) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(allDone)
	helpers.Wait()
	return h.report(elapsed, canceled)
}

// supervise sets stop when the duration is up or ctx is done, until allDone
// is closed. It reports whether ctx stopped the run. It never waits for the
// progress callback, so a slow callback cannot keep the workers running.
func (h *harness) supervise(ctx context.Context, allDone <-chan struct{}) (canceled bool) {
	var deadline <-chan time.Time
	if h.w.Duration > 0 {
		t := time.NewTimer(h.w.Duration)
		defer t.Stop()
		deadline = t.C
	}
	ctxDone := ctx.Done()
	for {
		select {
		case <-allDone:
			return canceled
		case <-deadline:
			h.stop.Store(true)
			deadline = nil
		case <-ctxDone:
			canceled = true
			h.stop.Store(true)
			ctxDone = nil
		}
	}
}

// reportProgress calls the progress callback every interval until allDone
// is closed. A tick that comes while the callback runs is dropped.
func (h *harness) reportProgress(start time.Time, allDone <-chan struct{}) {
	t := time.NewTicker(h.cfg.progressEvery)
	defer t.Stop()
	for {
		select {
		case <-allDone:
			return
		case <-t.C:
			el := time.Since(start)
			ops := h.opsDone()
			h.cfg.progress(Progress{Elapsed: el, Ops: ops, OpsPerSec: float64(ops) / max(el.Seconds(), 1e-9)})
		}
	}
}

// claimBatch is how many operations a goroutine claims from the shared budget
// at once: large enough that the shared counter is touched rarely, small
// enough that goroutines finish together.
const claimBatch = 64

// worker is one goroutine of the run. Only its goroutine touches it until the
// run ends; then the harness reads it.
type worker struct {
	h   *harness
	id  int
	rng *rand.Rand

	claimed int64 // operations claimed from the budget and not yet run
	timed   bool  // whether the current operation is a latency sample

	count [numKinds]int64
	hist  [numKinds]histogram

	// live holds, by (domain, key, provider) index, the entries this worker
	// registered and has not unregistered since.
	live    map[int][]*registry.Entry
	seqs    []uint64 // every sequence number this worker was handed
	lastSeq uint64

	markerA, markerB Address           // where this worker's markers go
	markerN          int               // the number of the current marker
	markers          []*registry.Entry // the current marker's entries (A, B)

	lost, seq, winner, causal, errs tally
}

func newWorker(h *harness, id int) *worker {
	wk := &worker{
		h:    h,
		id:   id,
		rng:  rand.New(rand.NewPCG(h.w.Seed, uint64(id))),
		live: make(map[int][]*registry.Entry),
	}
	wk.markerA, wk.markerB = h.markers[id][0], h.markers[id][1]
	return wk
}

func (wk *worker) run() {
	defer func() {
		if p := recover(); p != nil {
			wk.errs.fail("goroutine %d panicked: %v\n%s", wk.id, p, debug.Stack())
		}
	}()
	h := wk.h
	for n := int64(1); !h.stop.Load(); n++ {
		if h.w.Ops > 0 && !wk.claim() {
			return
		}
		if h.w.MarkerEvery > 0 && n%int64(h.w.MarkerEvery) == 0 {
			wk.marker()
		} else {
			wk.op(wk.pick())
		}
		h.done[wk.id].n.Store(n)
	}
}

// claim takes one operation from the shared budget, claiming a batch when
// the local one is used up. It reports false when the budget is exhausted.
func (wk *worker) claim() bool {
	if wk.claimed == 0 {
		rem := wk.h.budget.Add(-claimBatch)
		got := claimBatch + min(rem, 0)
		if got <= 0 {
			return false
		}
		wk.claimed = got
	}
	wk.claimed--
	return true
}

func (wk *worker) pick() Kind {
	x := wk.rng.IntN(wk.h.cumWeight[KindMarker-1])
	for k := range KindMarker {
		if x < wk.h.cumWeight[k] {
			return k
		}
	}
	return KindResolve
}

// begin starts timing an operation of kind k when it is a sample (every
// sampleEvery-th operation of that kind, counted per kind so that the
// sampling cannot fall into step with the marker steps); end stops it. Only
// the registry call is timed, never the checks after it.
func (wk *worker) begin(k Kind) time.Time {
	wk.timed = wk.count[k]%wk.h.cfg.sampleEvery == 0
	if wk.timed {
		return time.Now()
	}
	return time.Time{}
}

func (wk *worker) end(k Kind, t time.Time) {
	wk.count[k]++
	if wk.timed {
		wk.hist[k].record(time.Since(t))
	}
}

// domainIndex picks a domain: the hot one (index 0) with probability
// HotFraction, else one of the others uniformly.
func (wk *worker) domainIndex() int {
	n := len(wk.h.domains)
	if n == 1 || wk.rng.Float64() < wk.h.w.HotFraction {
		return 0
	}
	return 1 + wk.rng.IntN(n-1)
}

func (wk *worker) slot(d, k, p int) int {
	return (d*len(wk.h.keys)+k)*wk.h.w.Providers + p
}

var capabilitySets = [][]string{nil, {"ttl"}, {"cluster"}, {"ttl", "cluster"}, {"tls"}, {"ttl", "tls"}}

// candidate returns a candidate of this worker's provider p for (d, k), with
// a random priority (nil, the default, one time in four), stack level,
// capabilities and source.
func (wk *worker) candidate(d, k, p int) registry.Candidate {
	c := registry.Candidate{
		Domain:       wk.h.domains[d],
		Key:          wk.h.keys[k],
		Provider:     wk.h.providers[wk.id][p],
		StackLevel:   wk.rng.IntN(3),
		Capabilities: capabilitySets[wk.rng.IntN(len(capabilitySets))],
		Source:       registry.Source(wk.rng.IntN(4)),
	}
	if wk.rng.IntN(4) != 0 {
		c.Priority = new(wk.rng.IntN(10) * 10)
	}
	return c
}

// noteSeq records a sequence number this worker was handed and checks that it
// is above the previous one: each of its calls returned before the next began.
func (wk *worker) noteSeq(e *registry.Entry) {
	s := e.Sequence()
	if s <= wk.lastSeq {
		wk.seq.fail("goroutine %d got sequence %d after %d", wk.id, s, wk.lastSeq)
	} else {
		wk.seq.ok()
	}
	wk.lastSeq = max(wk.lastSeq, s)
	wk.seqs = append(wk.seqs, s)
}

func (wk *worker) op(k Kind) {
	h := wk.h
	switch k {
	case KindRegister:
		d, key, p := wk.domainIndex(), wk.rng.IntN(len(h.keys)), wk.rng.IntN(h.w.Providers)
		c := wk.candidate(d, key, p)
		t := wk.begin(k)
		e, err := h.r.Register(c)
		wk.end(k, t)
		if err != nil {
			wk.errs.fail("Register(%s/%s/%s): %v", c.Domain, c.Key, c.Provider, err)
			return
		}
		wk.errs.ok()
		wk.noteSeq(e)
		s := wk.slot(d, key, p)
		wk.live[s] = append(wk.live[s], e)

	case KindResolve:
		dom, key := h.domains[wk.domainIndex()], h.keys[wk.rng.IntN(len(h.keys))]
		var e *registry.Entry
		var ok bool
		t := wk.begin(k)
		if wk.rng.IntN(8) == 0 {
			e, ok = h.r.Resolve(dom, key, registry.Require("ttl"))
		} else {
			e, ok = h.r.Resolve(dom, key)
		}
		wk.end(k, t)
		if ok && (e == nil || e.Domain() != dom || e.Key() != key) {
			wk.winner.fail("Resolve(%s, %s) returned an entry of another key", dom, key)
		}

	case KindExplain:
		dom, key := h.domains[wk.domainIndex()], h.keys[wk.rng.IntN(len(h.keys))]
		var opts []registry.ResolveOption
		switch wk.rng.IntN(8) {
		case 0, 1:
			opts = []registry.ResolveOption{registry.Require("ttl")}
		case 2:
			opts = []registry.ResolveOption{registry.RequireAny("cluster", "tls")}
		case 3:
			g := wk.rng.IntN(h.w.Goroutines)
			opts = []registry.ResolveOption{registry.Provider(h.providers[g][wk.rng.IntN(h.w.Providers)])}
		}
		t := wk.begin(k)
		x := h.r.Explain(dom, key, opts...)
		wk.end(k, t)
		wk.winner.check(CheckRanking(x))

	case KindListActive:
		dom := h.domains[wk.domainIndex()]
		t := wk.begin(k)
		es := h.r.ListActive(dom)
		wk.end(k, t)
		wk.winner.check(checkActive(dom, es))

	case KindUnregister:
		d, key, p := wk.domainIndex(), wk.rng.IntN(len(h.keys)), wk.rng.IntN(h.w.Providers)
		dom, kn, prov := h.domains[d], h.keys[key], h.providers[wk.id][p]
		t := wk.begin(k)
		n := h.r.Unregister(dom, kn, prov)
		wk.end(k, t)
		s := wk.slot(d, key, p)
		if want := len(wk.live[s]); n != want {
			wk.lost.fail("Unregister(%s, %s, %s) removed %d entries, goroutine %d had registered %d", dom, kn, prov, n, wk.id, want)
		} else {
			wk.lost.ok()
		}
		delete(wk.live, s)

	case KindSelect:
		dom, key := h.domains[wk.domainIndex()], h.keys[wk.rng.IntN(len(h.keys))]
		prov := ""
		if wk.rng.IntN(4) != 0 {
			g := wk.rng.IntN(h.w.Goroutines)
			prov = h.providers[g][wk.rng.IntN(h.w.Providers)]
		}
		t := wk.begin(k)
		err := h.r.Select(dom, key, prov)
		wk.end(k, t)
		if err != nil {
			wk.errs.fail("Select(%s, %s, %q): %v", dom, key, prov, err)
		} else {
			wk.errs.ok()
		}

	case KindSnapshot:
		wk.snapshot()

	case KindRegisterPackage:
		wk.registerPackage()
	}
}

// snapshot takes either a snapshot of this worker's two marker domains, named
// in reverse order, or one of the whole registry; checks marker causality in
// it (for this worker, or for every worker); and checks one random key's
// winner against its explanation.
func (wk *worker) snapshot() {
	h := wk.h
	var s *registry.Snapshot
	all := wk.rng.IntN(2) == 0
	t := wk.begin(KindSnapshot)
	if all {
		s = h.r.Snapshot()
	} else {
		s = h.r.Snapshot(wk.markerB.Domain, wk.markerA.Domain)
	}
	wk.end(KindSnapshot, t)
	if h.w.MarkerEvery > 0 {
		for g := range h.w.Goroutines {
			if !all && g != wk.id {
				continue
			}
			if n, err := CheckCausality(s, h.markers[g][0], h.markers[g][1]); err != nil {
				wk.causal.fail("%v", err)
			} else if n > 0 {
				wk.causal.ok()
			}
		}
	}
	dom := wk.markerA.Domain
	if all {
		dom = h.domains[wk.domainIndex()]
	}
	wk.winner.check(checkSnapshotKey(s, dom, h.keys[wk.rng.IntN(len(h.keys))]))
}

// checkSnapshotKey checks, on a snapshot, that the ranking of (dom, key) is
// well formed and that Resolve returns the entry Explain names, with and
// without required capabilities.
func checkSnapshotKey(s *registry.Snapshot, dom, key string) error {
	for _, opts := range [][]registry.ResolveOption{nil, {registry.Require("ttl")}} {
		x := s.Explain(dom, key, opts...)
		if err := CheckRanking(x); err != nil {
			return err
		}
		want, wantOK := x.Winner()
		got, ok := s.Resolve(dom, key, opts...)
		if ok != wantOK || got != want {
			return fmt.Errorf("snapshot Resolve(%s, %s, %d options) = %s, Explain names %s", dom, key, len(opts),
				describe(got, ok), describe(want, wantOK))
		}
	}
	return nil
}

// checkActive checks a ListActive result: entries of dom, by strictly
// increasing key.
func checkActive(dom string, es []*registry.Entry) error {
	for i, e := range es {
		if e.Domain() != dom {
			return fmt.Errorf("ListActive(%s) holds an entry of domain %s", dom, e.Domain())
		}
		if i > 0 && es[i-1].Key() >= e.Key() {
			return fmt.Errorf("ListActive(%s) not sorted by key: %q then %q", dom, es[i-1].Key(), e.Key())
		}
	}
	return nil
}

func describe(e *registry.Entry, ok bool) string {
	if !ok || e == nil {
		return "nothing"
	}
	return fmt.Sprintf("%s (seq %d)", e.Provider(), e.Sequence())
}

// registerPackage registers three candidates of this worker's providers, in
// its marker domain A, a random domain and its marker domain B, as one
// package, half the time letting the registry infer the priority from the
// path.
func (wk *worker) registerPackage() {
	h := wk.h
	ia := wk.id % len(h.domains)
	ib := (ia + max(1, len(h.domains)/2)) % len(h.domains)
	ds := [3]int{ia, wk.domainIndex(), ib}
	var slots [3]int
	cs := make([]registry.Candidate, 3)
	for i, d := range ds {
		key, p := wk.rng.IntN(len(h.keys)), wk.rng.IntN(h.w.Providers)
		slots[i] = wk.slot(d, key, p)
		cs[i] = wk.candidate(d, key, p)
		if wk.rng.IntN(2) == 0 {
			cs[i].Priority = nil
		}
	}
	var prio *int
	if wk.rng.IntN(2) == 0 {
		prio = new(50)
	}
	pkg := "stress_w" + strconv.Itoa(wk.id)
	t := wk.begin(KindRegisterPackage)
	es, err := h.r.RegisterPackage(pkg, "/app/adapters/"+pkg+".py", cs, prio)
	wk.end(KindRegisterPackage, t)
	if err != nil || len(es) != len(cs) {
		wk.errs.fail("RegisterPackage(%s) = %d entries, %v", pkg, len(es), err)
		return
	}
	wk.errs.ok()
	for i, e := range es {
		wk.noteSeq(e)
		if i > 0 && e.Sequence() != es[i-1].Sequence()+1 {
			wk.seq.fail("RegisterPackage(%s): sequences %d and %d are not consecutive", pkg, es[i-1].Sequence(), e.Sequence())
		}
		wk.live[slots[i]] = append(wk.live[slots[i]], e)
	}
}

// marker registers marker n+1 at A, then at B, then unregisters marker n from
// B, then from A. At every moment a reader that sees a marker in B must see
// it in A too.
func (wk *worker) marker() {
	h := wk.h
	old := "m" + strconv.Itoa(wk.markerN)
	wk.markerN++
	cur := "m" + strconv.Itoa(wk.markerN)
	t := wk.begin(KindMarker)
	a, b := wk.markerA, wk.markerB
	ea, errA := h.r.Register(registry.Candidate{Domain: a.Domain, Key: a.Key, Provider: cur, Source: registry.SourceManual})
	eb, errB := h.r.Register(registry.Candidate{Domain: b.Domain, Key: b.Key, Provider: cur, Source: registry.SourceManual})
	var nb, na int
	if wk.markerN > 1 {
		nb = h.r.Unregister(b.Domain, b.Key, old)
		na = h.r.Unregister(a.Domain, a.Key, old)
	}
	wk.end(KindMarker, t)
	if errA != nil || errB != nil {
		wk.errs.fail("marker %s of goroutine %d: %v, %v", cur, wk.id, errA, errB)
		wk.markers = nil
		return
	}
	wk.errs.ok()
	wk.noteSeq(ea)
	wk.noteSeq(eb)
	if wk.markerN > 1 {
		if na != 1 || nb != 1 {
			wk.lost.fail("unregistering marker %s of goroutine %d removed %d from %s and %d from %s, want 1 and 1",
				old, wk.id, nb, b, na, a)
		} else {
			wk.lost.ok()
		}
	}
	wk.markers = []*registry.Entry{ea, eb}
}
