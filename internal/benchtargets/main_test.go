package main

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// input is two passes of some of package bench's results: the floor met in
// one pass and missed in the other, Resolve allocating in one result, and
// no ListActive or Load results.
const input = `goos: linux
goarch: amd64
cpu: Some CPU
BenchmarkResolve/dist=uniform/impl=registry     1000  30.0 ns/op  0 B/op  0 allocs/op
BenchmarkResolve/dist=uniform/impl=registry-2   1000  16.0 ns/op  0 B/op  0 allocs/op
BenchmarkResolve/dist=uniform/impl=seed-mutex-2 1000  60.0 ns/op  0 B/op  0 allocs/op
BenchmarkResolveSerial/dist=uniform/impl=registry 1000 24.0 ns/op 0 B/op  0 allocs/op
BenchmarkResolveSerial/dist=uniform/impl=map    1000  20.0 ns/op  0 B/op  0 allocs/op
BenchmarkRegister/cands=3/impl=registry         1000  900 ns/op   320 B/op  2 allocs/op
BenchmarkRegisterOneKey/cands=2000/impl=registry  10  1900000 ns/op  1.900 ms/2000regs
BenchmarkResolve/dist=uniform/impl=registry     1000  34.0 ns/op  0 B/op  0 allocs/op
BenchmarkResolve/dist=uniform/impl=registry-2   1000  20.0 ns/op  0 B/op  1 allocs/op
BenchmarkResolve/dist=uniform/impl=seed-mutex-2 1000  40.0 ns/op  0 B/op  0 allocs/op
BenchmarkResolveSerial/dist=uniform/impl=registry 1000 26.0 ns/op 0 B/op  0 allocs/op
BenchmarkResolveSerial/dist=uniform/impl=map    1000  20.0 ns/op  0 B/op  0 allocs/op
BenchmarkRegister/cands=3/impl=registry         1000  1100 ns/op  320 B/op  2 allocs/op
BenchmarkRegisterOneKey/cands=2000/impl=registry  10  2100000 ns/op  2.100 ms/2000regs
`

// rows returns the table's rows by their first cell.
func rows(t *testing.T, out string) map[string][]string {
	t.Helper()
	m := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		m[cells[0]] = cells
	}
	return m
}

func TestRun(t *testing.T) {
	var b strings.Builder
	if err := run(strings.NewReader(input), &b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	got := rows(t, out)
	for _, tc := range []struct {
		target, figure, perPass, passes, verdict string
	}{
		{"Resolve: 0 allocs", "at most 1 allocs/op over 6 results", "—", "—", "not met"},
		// Medians 25 over 20: 1.25, met; per pass 1.2 and 1.3.
		{"single goroutine ≤ 1.25× the map floor", "1.25 × (limit ≤ 1.25)", "1.2, 1.3", "1/2", "**met**"},
		// Medians 32 over 18.
		{"-cpu 2 ≥ 1.8× the throughput of -cpu 1", "1.778 × (limit ≥ 1.8)", "1.875, 1.7", "1/2", "not met"},
		{"-cpu 2 ≥ 2.4× faster than the seed", "2.778 × (limit ≥ 2.4)", "3.75, 2", "1/2", "**met**"},
		{"Register ≤ 300 ns with 3 candidates per key", "1000 ns (limit ≤ 300)", "900, 1100", "0/2", "not met"},
		{"Register ≤ 2 allocs with 3 candidates per key", "2 allocs (limit ≤ 2)", "2, 2", "2/2", "**met**"},
		// The median is exactly 2 ms, which is not under 2.
		{"2,000 registrations into one key < 2 ms", "2 ms (limit < 2)", "1.9, 2.1", "1/2", "not met"},
		{"90/10 mix at -cpu 2 ≥ 2× the seed", "not measured", "—", "—", "—"},
		{"ListActive at 10,000 domains ≤ 1.3× its cost at 10", "not measured", "—", "—", "—"},
		{"≤ 400 bytes per candidate", "not measured", "—", "—", "—"},
	} {
		r, ok := got[tc.target]
		if !ok {
			t.Errorf("no row for %q in\n%s", tc.target, out)
			continue
		}
		want := []string{tc.target, tc.figure, tc.perPass, tc.passes, tc.verdict}
		if strings.Join(r, " | ") != strings.Join(want, " | ") {
			t.Errorf("row %q:\n got %q\nwant %q", tc.target, r, want)
		}
	}
	for _, ref := range []string{"reference: the machine's random loads, -cpu 2 over -cpu 1",
		"reference: the map floor's Register with 3 candidates per key",
		"reference: the map floor's ListActive at 10,000 domains over its cost at 10",
		"reference: one cache miss into 96 MiB over ListActive at 10 domains"} {
		if _, ok := got[ref]; ok {
			t.Errorf("a reference row without its results: %q", ref)
		}
	}
	if want := "3 of 10 targets met by their figures (7 measured). Machine: linux/amd64, Some CPU."; !strings.Contains(out, want) {
		t.Errorf("summary missing %q in\n%s", want, out)
	}
}

// TestRunListReferences checks the reference rows below the ListActive
// target, in order: the floor's own ratio, then BenchmarkChase's median over
// the registry's ListActive at 10 domains.
func TestRunListReferences(t *testing.T) {
	const in = `BenchmarkListActive/domains=10/impl=registry     1000  100 ns/op  80 B/op  1 allocs/op
BenchmarkListActive/domains=10/impl=map          1000   60 ns/op  80 B/op  1 allocs/op
BenchmarkListActive/domains=10000/impl=registry  1000  500 ns/op  80 B/op  1 allocs/op
BenchmarkListActive/domains=10000/impl=map       1000  150 ns/op  80 B/op  1 allocs/op
BenchmarkChase/bytes=96MiB/impl=machine          1000  200 ns/op   0 B/op  0 allocs/op
BenchmarkListActive/domains=10/impl=registry     1000  120 ns/op  80 B/op  1 allocs/op
BenchmarkListActive/domains=10/impl=map          1000   90 ns/op  80 B/op  1 allocs/op
BenchmarkListActive/domains=10000/impl=registry  1000  400 ns/op  80 B/op  1 allocs/op
BenchmarkListActive/domains=10000/impl=map       1000  100 ns/op  80 B/op  1 allocs/op
BenchmarkChase/bytes=96MiB/impl=machine          1000   24 ns/op   0 B/op  0 allocs/op
`
	var b strings.Builder
	if err := run(strings.NewReader(in), &b); err != nil {
		t.Fatal(err)
	}
	got := rows(t, b.String())
	// Medians 450 over 110, 125 over 75, and 112 over 110; per pass 5,
	// 3.333; 2.5, 1.111; and 2, 0.2.
	want := [][]string{
		{"ListActive at 10,000 domains ≤ 1.3× its cost at 10", "4.091 × (limit ≤ 1.3)", "5, 3.333", "0/2", "not met"},
		{"reference: the map floor's ListActive at 10,000 domains over its cost at 10", "1.667 × (limit ≤ 1.3)", "2.5, 1.111", "1/2", "(reference)"},
		{"reference: one cache miss into 96 MiB over ListActive at 10 domains", "1.018 × (limit ≤ 0.3)", "2, 0.2", "1/2", "(reference)"},
	}
	for _, w := range want {
		if r := got[w[0]]; strings.Join(r, " | ") != strings.Join(w, " | ") {
			t.Errorf("row %q:\n got %q\nwant %q", w[0], r, w)
		}
	}
	out := b.String()
	for i := 1; i < len(want); i++ {
		if strings.Index(out, "| "+want[i-1][0]+" |") > strings.Index(out, "| "+want[i][0]+" |") {
			t.Errorf("row %q comes before %q in\n%s", want[i][0], want[i-1][0], out)
		}
	}
}

// TestRunMarksImpossibleScaling: a scaling ratio above 2 at -cpu 2 over 1
// is a slow -cpu 1 pass, not speed. Such a pass is marked and not counted,
// and a figure above 2 is not called met; the Register ratio of keys of
// 2,000 over keys of 10 is shown against log 2000 / log 10, and the floor's
// Register below the registry's.
func TestRunMarksImpossibleScaling(t *testing.T) {
	const in = `BenchmarkResolve/dist=uniform/impl=registry     1000  30.0 ns/op  0 B/op  0 allocs/op
BenchmarkResolve/dist=uniform/impl=registry-2   1000  16.0 ns/op  0 B/op  0 allocs/op
BenchmarkRegister/cands=10/impl=registry        1000  700 ns/op  416 B/op  4 allocs/op
BenchmarkRegister/cands=2000/impl=registry      1000  1400 ns/op  600 B/op  6 allocs/op
BenchmarkRegisterOneKey/cands=2000/impl=registry  10  1900000 ns/op  1.900 ms/2000regs
BenchmarkRegister/cands=3/impl=registry         1000  900 ns/op  320 B/op  2 allocs/op
BenchmarkRegister/cands=3/impl=map              1000  800 ns/op  224 B/op  3 allocs/op
BenchmarkResolve/dist=uniform/impl=registry     1000  90.0 ns/op  0 B/op  0 allocs/op
BenchmarkResolve/dist=uniform/impl=registry-2   1000  18.0 ns/op  0 B/op  0 allocs/op
BenchmarkRegister/cands=10/impl=registry        1000  500 ns/op  416 B/op  4 allocs/op
BenchmarkRegister/cands=2000/impl=registry      1000  2000 ns/op  600 B/op  6 allocs/op
BenchmarkResolve/dist=uniform/impl=registry     1000  70.0 ns/op  0 B/op  0 allocs/op
BenchmarkResolve/dist=uniform/impl=registry-2   1000  17.0 ns/op  0 B/op  0 allocs/op
`
	var b strings.Builder
	if err := run(strings.NewReader(in), &b); err != nil {
		t.Fatal(err)
	}
	got := rows(t, b.String())
	// Medians 70 over 17: 4.118; per pass 1.875, 5 and 4.118.
	for _, want := range [][]string{
		{"-cpu 2 ≥ 1.8× the throughput of -cpu 1", "4.118 × (limit ≥ 1.8), above the 2 the machine can give: noise",
			"1.875, 5†, 4.118†", "1/3 (2† above 2, noise)", "not met"},
		// Medians 1700 over 600; per pass 2 and 4.
		{"reference: Register into keys of 2,000 over keys of 10, limit log 2000 / log 10", "2.833 × (limit ≤ 3.301)", "2, 4", "1/2", "(reference)"},
		{"Register ≤ 300 ns with 3 candidates per key", "900 ns (limit ≤ 300)", "900", "0/1", "not met"},
		{"reference: the map floor's Register with 3 candidates per key", "800 ns (limit ≤ 300)", "800", "0/1", "(reference)"},
	} {
		if r := got[want[0]]; strings.Join(r, " | ") != strings.Join(want, " | ") {
			t.Errorf("row %q:\n got %q\nwant %q", want[0], r, want)
		}
	}
	// The floor's row comes right below the target it is a reference for.
	out := b.String()
	order := []string{"Register ≤ 300 ns with 3 candidates per key",
		"reference: the map floor's Register with 3 candidates per key",
		"Register ≤ 2 allocs with 3 candidates per key"}
	for i := 1; i < len(order); i++ {
		if strings.Index(out, "| "+order[i-1]+" |") > strings.Index(out, "| "+order[i]+" |") {
			t.Errorf("row %q comes before %q in\n%s", order[i], order[i-1], out)
		}
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	if err := run(strings.NewReader("BenchmarkX 10 abc ns/op\n"), new(strings.Builder)); err == nil {
		t.Error("a result with a value that is not a number ran without error")
	}
}
