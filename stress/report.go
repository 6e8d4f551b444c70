package stress

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oneiric-go/oneiric/registry"
)

// Report is the outcome of [Run]: what ran, how fast, and which invariants
// held. It is a plain value; its JSON form has the same fields, durations in
// nanoseconds, plus "passed".
type Report struct {
	Workload   Workload      `json:"workload"`    // the workload as run, defaults filled in
	Shards     int           `json:"shards"`      // the registry's shard count
	Elapsed    time.Duration `json:"elapsed_ns"`  // from the first worker's start to the last one's end
	Canceled   bool          `json:"canceled"`    // the context stopped the run early
	Ops        int64         `json:"ops"`         // operations over all kinds
	OpsPerSec  float64       `json:"ops_per_sec"` // Ops / Elapsed
	Kinds      []KindStats   `json:"kinds"`       // one per kind that ran, in [Kinds] order
	Invariants []Invariant   `json:"invariants"`  // in the order of the Invariant… constants
	// LatencySampling is how many operations of a goroutine made one latency
	// sample (see [WithLatencySampling]).
	LatencySampling int `json:"latency_sampling"`
}

// KindStats is the throughput and latency of one kind of operation.
// Latencies are upper bounds of log-linear buckets, within 12.5 % of the
// true value (the maximum is exact), computed from the sampled operations.
type KindStats struct {
	Kind      Kind          `json:"kind"`
	Ops       int64         `json:"ops"`             // operations run
	OpsPerSec float64       `json:"ops_per_sec"`     // Ops / Report.Elapsed
	Samples   int64         `json:"latency_samples"` // operations timed
	P50       time.Duration `json:"p50_ns"`
	P90       time.Duration `json:"p90_ns"`
	P99       time.Duration `json:"p99_ns"`
	Max       time.Duration `json:"max_ns"`
}

// Passed reports whether no invariant failed (skipped ones do not count).
func (r Report) Passed() bool {
	for _, inv := range r.Invariants {
		if inv.Status == Fail {
			return false
		}
	}
	return true
}

// MarshalJSON gives the report's fields and "passed": [Report.Passed]. Its
// receiver is a value, so a Report and a *Report marshal alike.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(struct {
		plain
		Passed bool `json:"passed"`
	}{plain(r), r.Passed()})
}

// String returns the report as text for people: a line on the workload, a
// table of operations per kind with rates and latency percentiles, and a
// table of invariants with PASS, FAIL or SKIP and a detail.
func (r Report) String() string {
	var b strings.Builder
	w := r.Workload
	bound := w.Duration.String()
	if w.Ops > 0 {
		bound = group(w.Ops) + " ops"
		if w.Duration > 0 {
			bound += " or " + w.Duration.String()
		}
	}
	fmt.Fprintf(&b, "workload: %d goroutines, %s, %d domains × %d keys, %d providers per goroutine, %.0f%% on one hot domain, %d shards, seed %d\n",
		w.Goroutines, bound, w.Domains, w.Keys, w.Providers, w.HotFraction*100, r.Shards, w.Seed)
	status := "completed"
	if r.Canceled {
		status = "canceled"
	}
	fmt.Fprintf(&b, "ran %s ops in %s (%s), %s ops/s\n\n", group(r.Ops), r.Elapsed.Round(time.Millisecond), status, group(int64(r.OpsPerSec)))

	ops := [][]string{{"operation", "ops", "ops/s", "p50", "p90", "p99", "max"}}
	for _, k := range r.Kinds {
		ops = append(ops, []string{k.Kind.String(), group(k.Ops), group(int64(k.OpsPerSec)),
			latency(k.P50), latency(k.P90), latency(k.P99), latency(k.Max)})
	}
	ops = append(ops, []string{"total", group(r.Ops), group(int64(r.OpsPerSec))})
	writeTable(&b, ops, 1)
	fmt.Fprintf(&b, "latency: 1 in %d operations timed, percentiles within 12.5%%\n\n", max(r.LatencySampling, 1))

	invs := [][]string{{"invariant", "result", "checks", "detail"}}
	for _, inv := range r.Invariants {
		invs = append(invs, []string{inv.Name, inv.Status.String(), group(inv.Checks), firstLine(inv.Detail)})
	}
	writeTable(&b, invs, len(invs[0]))
	return b.String()
}

// writeTable writes rows as a table: columns two spaces apart, the first
// left columns aligned left and the others right, no trailing spaces. Rows may
// be shorter than the first.
func writeTable(b *strings.Builder, rows [][]string, left int) {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		var line strings.Builder
		for i, cell := range row {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i < left {
				line.WriteString(cell + pad)
			} else {
				line.WriteString(pad + cell)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
}

// firstLine cuts s at its first newline (a panic's stack trace stays in the
// JSON form only).
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// group formats n with thousands separators: 1234567 → "1,234,567".
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// latency formats d with three significant digits: "87ns", "1.23µs",
// "45.6ms", "3.00s"; "-" for 0 (no samples).
func latency(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	// Round to three significant digits first, so that 99,999ns reads
	// "100µs", not "100.0µs".
	if digits := len(strconv.FormatInt(int64(d), 10)); digits > 3 {
		p := time.Duration(1)
		for range digits - 3 {
			p *= 10
		}
		d = (d + p/2) / p * p
	}
	switch {
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return sig3(float64(d)/1e3) + "µs"
	case d < time.Second:
		return sig3(float64(d)/1e6) + "ms"
	default:
		return sig3(float64(d)/1e9) + "s"
	}
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// report merges the workers' results and runs the final checks.
func (h *harness) report(elapsed time.Duration, canceled bool) *Report {
	rep := &Report{
		Workload:        h.w,
		Shards:          h.r.Shards(),
		Elapsed:         elapsed,
		Canceled:        canceled,
		LatencySampling: int(h.cfg.sampleEvery),
	}
	var counts [numKinds]int64
	var hists [numKinds]histogram
	var lost, seq, winner, causal, errs tally
	nseq := 0
	for _, wk := range h.workers {
		for k := range numKinds {
			counts[k] += wk.count[k]
			hists[k].merge(&wk.hist[k])
		}
		lost.merge(&wk.lost)
		seq.merge(&wk.seq)
		winner.merge(&wk.winner)
		causal.merge(&wk.causal)
		errs.merge(&wk.errs)
		nseq += len(wk.seqs)
	}
	secs := max(elapsed.Seconds(), 1e-9)
	for k := range numKinds {
		rep.Ops += counts[k]
		if counts[k] == 0 {
			continue
		}
		hk := &hists[k]
		rep.Kinds = append(rep.Kinds, KindStats{
			Kind: k, Ops: counts[k], OpsPerSec: float64(counts[k]) / secs, Samples: int64(hk.n),
			P50: hk.quantile(0.50), P90: hk.quantile(0.90), P99: hk.quantile(0.99), Max: time.Duration(hk.max),
		})
	}
	rep.OpsPerSec = float64(rep.Ops) / secs

	live, present := h.finalCheck(&lost, &winner, &causal)

	seqs := make([]uint64, 0, nseq)
	for _, wk := range h.workers {
		seqs = append(seqs, wk.seqs...)
	}
	rep.Invariants = []Invariant{
		lost.invariant(InvariantNoLostRegistration, fmt.Sprintf(
			"all %s live registrations found in the final snapshot (%s present); every Unregister removed exactly what its goroutine registered",
			group(int64(live)), group(int64(present)))),
		sequencesInvariant(seq, seqs),
		winner.invariant(InvariantWinnerIsBest,
			"every explanation ranked by strictly decreasing score, winner first; Resolve = Explain().Winner() on snapshots"),
		causal.invariant(InvariantSnapshotCausality,
			"no snapshot held a marker in domain B without the marker registered before it in domain A"),
		errs.invariant(InvariantNoErrors, "no valid operation failed and no goroutine panicked"),
	}
	return rep
}

// sequencesInvariant checks seqs, every sequence number the run was handed,
// for duplicates (sorting it in place), on top of the per-goroutine checks in
// t.
func sequencesInvariant(t tally, seqs []uint64) Invariant {
	if len(seqs) > 0 {
		t.check(CheckSequences(seqs))
	}
	return t.invariant(InvariantUniqueSequences, fmt.Sprintf(
		"%s sequence numbers all distinct, increasing per goroutine, consecutive within each package", group(int64(len(seqs)))))
}

// finalCheck reads one snapshot of the harness's domains after the workers
// stopped and checks, in it: that every live registration is present and no
// unregistered one is (no lost registration); every key's ranking, Resolve
// against Explain, and ListActive/ListShadowed against the rankings (winner =
// best score); and every goroutine's markers (causality). It returns how many
// registrations were live and how many harness entries were present.
func (h *harness) finalCheck(lost, winner, causal *tally) (live, present int) {
	s := h.r.Snapshot(h.domains...)
	liveSet := make(map[*registry.Entry]bool)
	for _, wk := range h.workers {
		for _, es := range wk.live {
			for _, e := range es {
				liveSet[e] = true
			}
		}
		for _, e := range wk.markers {
			liveSet[e] = true
		}
	}
	ours := make(map[string]bool) // providers and marker keys of the harness
	for g := range h.w.Goroutines {
		for _, p := range h.providers[g] {
			ours[p] = true
		}
	}
	seen := make(map[*registry.Entry]bool, len(liveSet))
	keys := make([]string, 0, len(h.keys)+2*len(h.markers))
	keys = append(keys, h.keys...)
	for _, m := range h.markers {
		keys = append(keys, m[0].Key, m[1].Key)
	}
	for _, dom := range h.domains {
		ranked, winners := 0, 0
		for _, key := range keys {
			x := s.Explain(dom, key)
			winner.check(CheckRanking(x))
			if err := checkSnapshotKey(s, dom, key); err != nil {
				winner.fail("%v", err)
			}
			if len(x.Ordered) > 0 {
				winners++
			}
			isMarkerKey := strings.HasPrefix(key, "marker.")
			for _, r := range x.Ordered {
				ranked++
				e := r.Entry
				if !isMarkerKey && !ours[e.Provider()] {
					continue // not the harness's: someone else's data
				}
				seen[e] = true
				if !liveSet[e] {
					lost.fail("%s/%s/%s (seq %d) is present but was unregistered", dom, key, e.Provider(), e.Sequence())
				}
			}
		}
		active, shadowed := s.ListActive(dom), s.ListShadowed(dom)
		if err := checkActive(dom, active); err != nil {
			winner.fail("%v", err)
		}
		for _, e := range active {
			if w, _ := s.Resolve(dom, e.Key()); w != e {
				winner.fail("ListActive(%s) lists %s for %s, the winner is %s", dom, e.Provider(), e.Key(), describe(w, w != nil))
			}
		}
		if len(active) != winners || len(active)+len(shadowed) != ranked {
			winner.fail("%s: ListActive has %d entries and ListShadowed %d for %d keys with %d candidates",
				dom, len(active), len(shadowed), winners, ranked)
		} else {
			winner.ok()
		}
	}
	for e := range liveSet {
		if seen[e] {
			lost.ok()
		} else {
			lost.fail("%s/%s/%s (seq %d) was registered, never unregistered, and is missing", e.Domain(), e.Key(), e.Provider(), e.Sequence())
		}
	}
	if h.w.MarkerEvery > 0 {
		for g := range h.w.Goroutines {
			if n, err := CheckCausality(s, h.markers[g][0], h.markers[g][1]); n > 0 || err != nil {
				causal.check(err)
			}
		}
	}
	return len(liveSet), len(seen)
}
