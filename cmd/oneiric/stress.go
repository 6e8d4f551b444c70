package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/oneiric-go/oneiric/registry"
	"github.com/oneiric-go/oneiric/stress"
)

// runStress is "oneiric stress": stress.Run with a workload from flags, a
// progress line while it runs, and the report at the end.
func runStress(ctx context.Context, args []string, out, errOut io.Writer) int {
	d := stress.DefaultWorkload()
	fs := flag.NewFlagSet("stress", flag.ContinueOnError)
	fs.SetOutput(errOut)
	goroutines := fs.Int("goroutines", d.Goroutines, "number of concurrent workers")
	duration := fs.Duration("duration", d.Duration, "how long to run (with -ops: an upper bound, none unless given)")
	ops := fs.Int64("ops", 0, "stop after this many operations in total (0: run for -duration)")
	domains := fs.Int("domains", d.Domains, "number of domains")
	keys := fs.Int("keys", d.Keys, "number of keys in each domain")
	providers := fs.Int("providers", d.Providers, "providers of each worker; a key can hold goroutines × providers providers")
	hot := fs.Float64("hot", d.HotFraction, "fraction of operations, 0 to 1, that go to one hot domain")
	mix := fs.String("mix", d.Mix.String(), "operation mix as kind=weight,…; kinds not named get weight 0")
	shards := fs.Int("shards", 0, "registry shard count, rounded up to a power of two (0: the registry's default)")
	seed := fs.Uint64("seed", d.Seed, "seed of the workers' random choices")
	markerEvery := fs.Int("marker-every", d.MarkerEvery, "every n-th operation of a worker is a causality marker step (-1: none)")
	sample := fs.Int("sample", stress.DefaultLatencySampling, "time one operation in this many, per kind (1: all)")
	asJSON := fs.Bool("json", false, "print the report as JSON on stdout (progress goes to stderr)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "Usage: oneiric stress [flags]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Runs concurrent workers against a fresh registry, checks its invariants as they go,")
		fmt.Fprintln(w, "and prints ops/s and latency percentiles per operation kind and each invariant's")
		fmt.Fprintln(w, "PASS or FAIL. Exit status 1 on any FAIL.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
		fmt.Fprintln(w)
		fmt.Fprintf(w, "Operation kinds for -mix: %s.\n", strings.Join(mixKinds(), ", "))
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(errOut, "oneiric stress: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	m, err := stress.ParseMix(*mix)
	if err != nil {
		fmt.Fprintf(errOut, "oneiric stress: -mix: %v\n", err)
		return exitUsage
	}
	w := stress.Workload{
		Goroutines:  *goroutines,
		Duration:    *duration,
		Ops:         *ops,
		Mix:         m,
		Domains:     *domains,
		Keys:        *keys,
		Providers:   *providers,
		HotFraction: *hot,
		MarkerEvery: *markerEvery,
		Seed:        *seed,
	}
	if *ops > 0 && !flagSet(fs, "duration") {
		w.Duration = 0 // -ops alone: run until the count is reached
	}
	if w.Goroutines <= 0 || w.Domains <= 0 || w.Keys <= 0 || w.Providers <= 0 {
		// Zero means "default" to package stress; on the command line it is a mistake.
		fmt.Fprintln(errOut, "oneiric stress: -goroutines, -domains, -keys and -providers must be positive")
		return exitUsage
	}
	switch {
	case *ops < 0:
		fmt.Fprintln(errOut, "oneiric stress: -ops must not be negative")
		return exitUsage
	case *ops == 0 && w.Duration <= 0:
		fmt.Fprintln(errOut, "oneiric stress: -duration must be positive, unless -ops bounds the run")
		return exitUsage
	case w.Duration < 0:
		fmt.Fprintln(errOut, "oneiric stress: -duration must not be negative")
		return exitUsage
	case *sample < 1:
		fmt.Fprintln(errOut, "oneiric stress: -sample must be at least 1")
		return exitUsage
	case *shards < 0:
		fmt.Fprintln(errOut, "oneiric stress: -shards must not be negative")
		return exitUsage
	}
	if *markerEvery == 0 {
		w.MarkerEvery = -1
	}

	progressOut := out
	if *asJSON {
		progressOut = errOut
	}
	p := newProgress(progressOut, w)
	r := registry.New(registry.WithShards(*shards))
	rep, err := stress.Run(ctx, r, w, stress.WithProgress(0, p.update), stress.WithLatencySampling(*sample))
	p.finish()
	if err != nil {
		fmt.Fprintf(errOut, "oneiric stress: %v\n", err)
		return exitUsage
	}
	if *asJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			fmt.Fprintf(errOut, "oneiric stress: %v\n", err)
			return exitFail
		}
		fmt.Fprintln(out, string(b))
	} else {
		fmt.Fprint(out, rep)
		fmt.Fprintln(out)
		fmt.Fprintln(out, verdict(rep))
	}
	return exitCode(rep)
}

// verdict is the last line of a text report.
func verdict(rep *stress.Report) string {
	var failed []string
	for _, inv := range rep.Invariants {
		if inv.Status == stress.Fail {
			failed = append(failed, inv.Name)
		}
	}
	switch {
	case len(failed) > 0:
		return "FAIL: " + strings.Join(failed, ", ")
	case rep.Canceled:
		return "interrupted: every invariant checked so far held"
	default:
		return "PASS: every invariant held"
	}
}

func exitCode(rep *stress.Report) int {
	switch {
	case !rep.Passed():
		return exitFail
	case rep.Canceled:
		return exitInterrupted
	default:
		return exitOK
	}
}

func mixKinds() []string {
	var ks []string
	for k := range stress.KindMarker {
		ks = append(ks, k.String())
	}
	return ks
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}

// progress shows a run's progress on w: one line rewritten in place when w is
// a terminal, otherwise a new line about every second. Its methods are called
// from one goroutine at a time (stress.Run guarantees it for update, and
// finish runs after Run returns).
type progress struct {
	w        io.Writer
	tty      bool
	wl       stress.Workload
	lastLen  int
	nextLine time.Duration // when not a terminal: print at the first update at or after this
	printed  bool          // when not a terminal: a line was printed
}

// lineEvery is how often a progress line is printed when the output is not a
// terminal: often enough to show the run is alive, rarely enough for a log.
const lineEvery = time.Second

func newProgress(w io.Writer, wl stress.Workload) *progress {
	return &progress{w: w, tty: isTerminal(w), wl: wl, nextLine: lineEvery}
}

func (p *progress) update(pr stress.Progress) {
	var line string
	if p.wl.Ops > 0 {
		line = fmt.Sprintf("running: %.1fs, %s of %s ops, %s ops/s", pr.Elapsed.Seconds(),
			group(pr.Ops), group(p.wl.Ops), group(int64(pr.OpsPerSec)))
	} else {
		line = fmt.Sprintf("running: %.1fs of %s, %s ops, %s ops/s", pr.Elapsed.Seconds(),
			p.wl.Duration, group(pr.Ops), group(int64(pr.OpsPerSec)))
	}
	if p.tty {
		pad := strings.Repeat(" ", max(0, p.lastLen-len(line)))
		fmt.Fprint(p.w, "\r"+line+pad)
		p.lastLen = len(line)
		return
	}
	if pr.Elapsed >= p.nextLine {
		fmt.Fprintln(p.w, line)
		p.printed = true
		for p.nextLine <= pr.Elapsed {
			p.nextLine += lineEvery
		}
	}
}

// finish clears the in-place line, or ends the list of progress lines with a
// blank one, so that the report starts on a clean line.
func (p *progress) finish() {
	switch {
	case p.tty && p.lastLen > 0:
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.lastLen)+"\r")
	case p.printed:
		fmt.Fprintln(p.w)
	}
}
