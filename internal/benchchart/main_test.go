package main

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// input is go test -bench output at -cpu 1,2 with two runs each, a floor
// measured at -cpu 1 only, a benchmark without impl= and a single-goroutine
// panel, which are not drawn.
const input = `goos: linux
goarch: amd64
pkg: github.com/oneiric-go/oneiric/bench
cpu: Some CPU @ 2.0GHz
BenchmarkResolve/dist=uniform/impl=seed-mutex         	 1000000	       100.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkResolve/dist=uniform/impl=seed-mutex         	 1000000	       300.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkResolve/dist=uniform/impl=seed-mutex         	 1000000	       200.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkResolve/dist=uniform/impl=seed-mutex-2       	 1000000	       250.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkResolve/dist=uniform/impl=registry           	 1000000	        50.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkResolve/dist=uniform/impl=registry-2         	 1000000	        25.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkResolve/dist=uniform/impl=registry-2         	 1000000	        35.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkResolve/dist=uniform/impl=map                	 1000000	        20.0 ns/op	       0 B/op	       0 allocs/op
--- BENCH: BenchmarkResolve/dist=uniform/impl=map
    bench_test.go:1: a log line
BenchmarkRegister/cands=2000/impl=registry            	    1000	      1500 ns/op	     100 B/op	       2 allocs/op
BenchmarkPlain-2                                      	 1000000	        10.0 ns/op
PASS
ok  	github.com/oneiric-go/oneiric/bench	1.0s
`

func TestSplitImpl(t *testing.T) {
	for _, tc := range []struct {
		name, panel, impl string
		ok                bool
	}{
		{"Resolve/dist=hot/impl=registry", "Resolve/dist=hot", "registry", true},
		{"Mix/impl=xsync/read=90", "Mix/read=90", "xsync", true},
		{"Register/cands=2000/impl=map", "Register/cands=2000", "map", true},
		{"impl=first", "impl=first", "", false},
		{"Plain", "Plain", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			panel, impl, ok := splitImpl(tc.name)
			if panel != tc.panel || impl != tc.impl || ok != tc.ok {
				t.Errorf("splitImpl = %q, %q, %v; want %q, %q, %v", panel, impl, ok, tc.panel, tc.impl, tc.ok)
			}
		})
	}
}

func TestParse(t *testing.T) {
	res, err := parse(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if want := "linux/amd64, Some CPU @ 2.0GHz"; res.machine != want {
		t.Errorf("machine = %q, want %q", res.machine, want)
	}
	for _, tc := range []struct {
		impl  string
		procs int
		want  float64 // ops/s
	}{
		{"seed-mutex", 1, 1e9 / 200}, // median of 100, 300, 200
		{"seed-mutex", 2, 1e9 / 250},
		{"registry", 2, 1e9 / 30}, // median of 25 and 35
		{"map", 1, 1e9 / 20},
	} {
		got, ok := res.throughput("Resolve/dist=uniform", tc.impl, tc.procs)
		if !ok || math.Abs(got-tc.want) > 1e-6*tc.want {
			t.Errorf("throughput(%s, %d) = %v, %v; want %v", tc.impl, tc.procs, got, ok, tc.want)
		}
	}
	if _, ok := res.throughput("Resolve/dist=uniform", "map", 2); ok {
		t.Error("the floor has a throughput at -cpu 2; it was not measured there")
	}
	if got, want := res.panels(nil), []string{"Resolve/dist=uniform"}; !slices.Equal(got, want) {
		t.Errorf("panels = %q, want %q (Register has one -cpu, Plain no impl=)", got, want)
	}
}

func TestRunWritesWellFormedSVG(t *testing.T) {
	var out strings.Builder
	if err := run(strings.NewReader(input), &out, options{title: "T <&>", columns: 2}); err != nil {
		t.Fatal(err)
	}
	svg := out.String()
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := dec.Token(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v\n%s", err, svg)
		}
	}
	for _, want := range []string{"<svg", "Resolve/dist=uniform", "seed-mutex", "registry", "map at -cpu 1 only",
		"T &lt;&amp;&gt;", "linux/amd64, Some CPU @ 2.0GHz", "<polyline", "registry, -cpu 2: 33.3M ops/s"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
	if n := strings.Count(svg, "stroke-dasharray"); n != 2 {
		t.Errorf("the SVG has %d dashed lines, want 2: the floor's reference line and its legend", n)
	}
}

func TestRunErrors(t *testing.T) {
	if err := run(strings.NewReader("PASS\n"), io.Discard, options{}); err == nil {
		t.Error("run on output without results returned no error")
	}
	if err := run(strings.NewReader(input), io.Discard, options{filter: "("}); err == nil {
		t.Error("run with a bad -bench regexp returned no error")
	}
	if err := run(strings.NewReader(input), io.Discard, options{filter: "^Mix"}); err == nil {
		t.Error("run with a -bench that matches no panel returned no error")
	}
}

func TestNiceScaleAndSI(t *testing.T) {
	for _, tc := range []struct {
		top   float64
		step  float64
		ticks int
	}{{33.3e6, 1e7, 4}, {9e6, 2e6, 5}, {1, 0.2, 5}, {0, 1, 1}} {
		step, ticks := niceScale(tc.top)
		if math.Abs(step-tc.step) > 1e-9*tc.step || ticks != tc.ticks {
			t.Errorf("niceScale(%v) = %v, %d; want %v, %d", tc.top, step, ticks, tc.step, tc.ticks)
		}
	}
	for v, want := range map[float64]string{33.333e6: "33.3M", 5e6: "5M", 125e3: "125k", 1.25e9: "1.25G", 950: "950", 0: "0"} {
		if got := si(v); got != want {
			t.Errorf("si(%v) = %q, want %q", v, got, want)
		}
	}
}
