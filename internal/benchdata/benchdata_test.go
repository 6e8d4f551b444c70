package benchdata

import (
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// input is two passes of go test -bench output with headers, log lines and
// custom metrics.
const input = `goos: linux
goarch: amd64
pkg: example
cpu: Some CPU @ 2.0GHz
BenchmarkResolve/impl=registry         	 1000	        30.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkResolve/impl=registry-2       	 1000	        16.0 ns/op	       0 B/op	       0 allocs/op
--- BENCH: BenchmarkResolve/impl=registry
    bench_test.go:10: 12 lookups
BenchmarkOneKey/impl=registry          	   10	   2000000 ns/op	         2.000 ms/2000regs
PASS
ok  	example	1.0s
BenchmarkResolve/impl=registry         	 1000	        34.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkResolve/impl=registry-2       	 1000	        17.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkOneKey/impl=registry          	   10	   1900000 ns/op	         1.900 ms/2000regs
`

func TestParse(t *testing.T) {
	s, err := Parse(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if want := "linux/amd64, Some CPU @ 2.0GHz"; s.Machine != want {
		t.Errorf("Machine = %q, want %q", s.Machine, want)
	}
	if len(s.Results) != 6 {
		t.Fatalf("%d results, want 6: %+v", len(s.Results), s.Results)
	}
	for _, tc := range []struct {
		name  string
		procs int
		unit  string
		want  []float64
	}{
		{"Resolve/impl=registry", 1, "ns/op", []float64{30, 34}},
		{"Resolve/impl=registry", 2, "ns/op", []float64{16, 17}},
		{"Resolve/impl=registry", 2, "allocs/op", []float64{0, 0}},
		{"OneKey/impl=registry", 1, "ms/2000regs", []float64{2, 1.9}},
		{"OneKey/impl=registry", 2, "ns/op", nil},
		{"Resolve/impl=registry", 1, "B/cand", nil},
	} {
		if got := s.Runs(tc.name, tc.procs, tc.unit); !slices.Equal(got, tc.want) {
			t.Errorf("Runs(%q, %d, %q) = %v, want %v", tc.name, tc.procs, tc.unit, got, tc.want)
		}
	}
}

func TestParseRejectsBadValue(t *testing.T) {
	if _, err := Parse(strings.NewReader("BenchmarkX 10 abc ns/op\n")); err == nil {
		t.Error("a result with a value that is not a number parsed without error")
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		in := slices.Clone(tc.xs)
		if got := Median(in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
		if !slices.Equal(in, tc.xs) {
			t.Errorf("Median reordered its input: %v", in)
		}
	}
}
