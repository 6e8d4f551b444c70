// Package benchdata reads the output of go test -bench into results, for the
// repo's small benchmark tools (benchchart, benchtargets). It uses the
// standard library only.
//
// A result line is "Benchmark<name>[-<procs>] <iterations> <value> <unit>
// ...". Its name is kept without the Benchmark prefix and the -cpu suffix,
// which becomes Procs (1 when absent). Lines that are not results (headers,
// PASS, log output) are skipped, but the goos, goarch and cpu headers are
// kept as the Machine line. Results keep the order of the input, so the
// i-th run of a benchmark is its run in the i-th pass of a run made of
// passes (make bench).
package benchdata

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Result is one result line.
type Result struct {
	Name   string             // without the Benchmark prefix and the -cpu suffix
	Procs  int                // the -cpu suffix; 1 when there is none
	Values map[string]float64 // by unit: "ns/op", "allocs/op", custom metrics
}

// Set is everything read from one output.
type Set struct {
	Machine string // "goos/goarch, cpu", from the headers
	Results []Result
}

// cpuSuffix is the -cpu suffix go test appends to a name when GOMAXPROCS
// is not 1.
var cpuSuffix = regexp.MustCompile(`-(\d+)$`)

// Parse reads go test -bench output.
func Parse(in io.Reader) (*Set, error) {
	s := &Set{}
	var goos, goarch, cpu string
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, ": "); ok {
			switch k {
			case "goos":
				goos = strings.TrimSpace(v)
			case "goarch":
				goarch = strings.TrimSpace(v)
			case "cpu":
				cpu = strings.TrimSpace(v)
			}
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue // a benchmark's log output, not a result
		}
		r := Result{Name: strings.TrimPrefix(f[0], "Benchmark"), Procs: 1, Values: map[string]float64{}}
		if m := cpuSuffix.FindStringSubmatch(r.Name); m != nil {
			r.Procs, _ = strconv.Atoi(m[1])
			r.Name = strings.TrimSuffix(r.Name, m[0])
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", line, err)
			}
			r.Values[f[i+1]] = v
		}
		s.Results = append(s.Results, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	s.Machine = strings.Trim(goos+"/"+goarch, "/")
	if cpu != "" {
		s.Machine += ", " + cpu
	}
	return s, nil
}

// Runs returns the values in unit of every run of the benchmark name at
// procs, in the order of the input.
func (s *Set) Runs(name string, procs int, unit string) []float64 {
	var out []float64
	for _, r := range s.Results {
		if r.Name != name || r.Procs != procs {
			continue
		}
		if v, ok := r.Values[unit]; ok {
			out = append(out, v)
		}
	}
	return out
}

// Median returns the median of xs, which must not be empty.
func Median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
