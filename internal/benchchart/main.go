// Command benchchart draws the scaling chart of docs/benchmarks.md: it reads
// the output of go test -bench on its standard input and writes an SVG line
// chart of throughput (operations per second) against -cpu, one line per
// implementation, one panel per workload, on its standard output.
//
//	go test -run '^$' -bench . -cpu 1,2,4 -count 6 ./bench | tee bench.txt
//	go run ./internal/benchchart < bench.txt > docs/scaling.svg
//
// A benchmark's implementation is the value of its "impl=" element
// (BenchmarkResolve/dist=uniform/impl=registry-2 is implementation
// "registry" of panel "Resolve/dist=uniform" at -cpu 2); its other elements
// name the panel. Throughput is 1e9 over the median ns/op of the runs of
// each (panel, implementation, -cpu): with b.RunParallel, ns/op is wall time
// over the operations of every goroutine, so this is the aggregate
// throughput. Only panels measured at two or more -cpu values are drawn; an
// implementation measured in such a panel at one -cpu only would be drawn
// as a dashed reference line (make bench measures none: the map floor is in
// ResolveSerial, a -cpu 1 panel, which is not drawn). It uses the standard
// library only.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/oneiric-go/oneiric/internal/benchdata"
)

func main() {
	var o options
	flag.StringVar(&o.filter, "bench", "", "draw only the panels whose name matches this regular expression")
	flag.StringVar(&o.title, "title", "Throughput against -cpu (higher is better)", "the chart's title")
	flag.IntVar(&o.columns, "columns", 2, "panels per row")
	flag.Parse()
	if err := run(os.Stdin, os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "benchchart:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	filter  string
	title   string
	columns int
}

// run parses the benchmark output in and writes the chart to out.
func run(in io.Reader, out io.Writer, o options) error {
	res, err := parse(in)
	if err != nil {
		return err
	}
	var re *regexp.Regexp
	if o.filter != "" {
		if re, err = regexp.Compile(o.filter); err != nil {
			return err
		}
	}
	panels := res.panels(re)
	if len(panels) == 0 {
		return errors.New("no benchmark with an impl= element measured at two or more -cpu values")
	}
	return render(out, o, res, panels)
}

// sample is one measured (implementation, -cpu) of a panel.
type sample struct {
	impl  string
	procs int
	nsOp  []float64 // one per run
}

// results holds everything parsed from the benchmark output.
type results struct {
	machine string                        // "goos/goarch, cpu"
	order   []string                      // panels in order of appearance
	impls   []string                      // implementations in order of appearance
	byPanel map[string]map[string]*sample // panel → impl/procs → sample
}

// parse reads go test -bench output (see [benchdata.Parse]) and keeps the
// ns/op of every result whose name has an impl= element.
func parse(in io.Reader) (*results, error) {
	set, err := benchdata.Parse(in)
	if err != nil {
		return nil, err
	}
	res := &results{machine: set.Machine, byPanel: map[string]map[string]*sample{}}
	for _, r := range set.Results {
		ns, ok := r.Values["ns/op"]
		if !ok || ns <= 0 {
			continue
		}
		panel, impl, ok := splitImpl(r.Name)
		if !ok {
			continue
		}
		res.add(panel, impl, r.Procs, ns)
	}
	return res, nil
}

// splitImpl splits a benchmark name (without the Benchmark prefix and the
// -cpu suffix) into its panel, the name without the impl= element, and its
// implementation.
func splitImpl(name string) (panel, impl string, ok bool) {
	var rest []string
	for i, e := range strings.Split(name, "/") {
		if v, found := strings.CutPrefix(e, "impl="); found && i > 0 {
			impl = v
			continue
		}
		rest = append(rest, e)
	}
	return strings.Join(rest, "/"), impl, impl != ""
}

func (r *results) add(panel, impl string, procs int, ns float64) {
	m := r.byPanel[panel]
	if m == nil {
		m = map[string]*sample{}
		r.byPanel[panel] = m
		r.order = append(r.order, panel)
	}
	if !slices.Contains(r.impls, impl) {
		r.impls = append(r.impls, impl)
	}
	k := impl + "\x00" + strconv.Itoa(procs)
	s := m[k]
	if s == nil {
		s = &sample{impl: impl, procs: procs}
		m[k] = s
	}
	s.nsOp = append(s.nsOp, ns)
}

// panels returns the panels to draw, in order of appearance: those that
// match re (nil matches all) and were measured at two or more -cpu values.
func (r *results) panels(re *regexp.Regexp) []string {
	var out []string
	for _, p := range r.order {
		if re != nil && !re.MatchString(p) {
			continue
		}
		if len(r.procs(p)) >= 2 {
			out = append(out, p)
		}
	}
	return out
}

// procs returns the -cpu values measured in panel p, ascending.
func (r *results) procs(p string) []int {
	var out []int
	for _, s := range r.byPanel[p] {
		if !slices.Contains(out, s.procs) {
			out = append(out, s.procs)
		}
	}
	slices.Sort(out)
	return out
}

// throughput returns the operations per second of impl at procs in panel
// p: 1e9 over the median ns/op. ok is false if it was not measured.
func (r *results) throughput(p, impl string, procs int) (float64, bool) {
	s := r.byPanel[p][impl+"\x00"+strconv.Itoa(procs)]
	if s == nil {
		return 0, false
	}
	return 1e9 / benchdata.Median(s.nsOp), true
}

// Layout, in SVG user units (pixels).
const (
	panelW   = 440 // one panel, with its axes and labels
	panelH   = 290
	marginL  = 70 // room for the y tick labels
	marginR  = 16
	marginT  = 34 // room for the panel title
	marginB  = 44 // room for the x tick labels and axis title
	headerH  = 64 // the chart's title and subtitle
	legendH  = 28 // one row of legend
	fontSize = 12
)

// palette gives each implementation, in order of appearance, its colour:
// distinguishable for the common kinds of colour blindness (Okabe–Ito).
var palette = []string{"#D55E00", "#E69F00", "#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#000000", "#F0E442"}

// render writes the SVG.
func render(w io.Writer, o options, r *results, panels []string) error {
	cols := max(1, min(o.columns, len(panels)))
	rows := (len(panels) + cols - 1) / cols
	width := cols * panelW
	height := headerH + legendH + rows*panelH + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="%d">`+"\n",
		width, height, width, height, fontSize)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" text-anchor="middle" font-size="16" font-weight="bold">%s</text>`+"\n", width/2, esc(o.title))
	sub := "median of each benchmark's runs; ops/s = 1e9 / (ns/op)"
	if r.machine != "" {
		sub = r.machine + "; " + sub
	}
	fmt.Fprintf(&b, `<text x="%d" y="44" text-anchor="middle" fill="#444444">%s</text>`+"\n", width/2, esc(sub))

	// Legend: every implementation drawn in at least one panel.
	x := 16
	for i, impl := range r.impls {
		if !r.drawn(impl, panels) {
			continue
		}
		c := palette[i%len(palette)]
		y := headerH + legendH/2
		dash := "" // an implementation measured at one -cpu only is drawn dashed
		if r.referenceOnly(impl, panels) {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2.5"%s/>`, x, y, x+22, y, c, dash)
		fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="3.5" fill="%s"/>`, x+11, y, c)
		fmt.Fprintf(&b, `<text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", x+28, y, esc(impl))
		x += 40 + 8*len(impl)
	}

	for i, p := range panels {
		ox := (i % cols) * panelW
		oy := headerH + legendH + (i/cols)*panelH
		r.panel(&b, p, ox, oy)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// drawn reports whether impl has a measurement in any of panels.
func (r *results) drawn(impl string, panels []string) bool {
	for _, p := range panels {
		for _, s := range r.byPanel[p] {
			if s.impl == impl {
				return true
			}
		}
	}
	return false
}

// referenceOnly reports whether impl is measured at one -cpu only in every
// one of panels that has it, so that it is drawn as a reference line.
func (r *results) referenceOnly(impl string, panels []string) bool {
	for _, p := range panels {
		n := 0
		for _, s := range r.byPanel[p] {
			if s.impl == impl {
				n++
			}
		}
		if n > 1 {
			return false
		}
	}
	return true
}

// panel draws one panel with its top-left corner at (ox, oy).
func (r *results) panel(b *strings.Builder, p string, ox, oy int) {
	procs := r.procs(p)
	top := 0.0
	for _, impl := range r.impls {
		for _, n := range procs {
			if v, ok := r.throughput(p, impl, n); ok {
				top = max(top, v)
			}
		}
	}
	step, ticks := niceScale(top)
	yMax := step * float64(ticks)
	x0, x1 := float64(ox+marginL), float64(ox+panelW-marginR)
	y0, y1 := float64(oy+panelH-marginB), float64(oy+marginT)
	xAt := func(i int) float64 { // -cpu values equally spaced: 1, 2, 4 is a log2 axis
		return x0 + 20 + float64(i)*(x1-x0-40)/float64(max(1, len(procs)-1))
	}
	yAt := func(v float64) float64 { return y0 - v/yMax*(y0-y1) }

	fmt.Fprintf(b, `<g><text x="%.1f" y="%d" text-anchor="middle" font-weight="bold">%s</text>`+"\n", (x0+x1)/2, oy+20, esc(p))
	for t := 0; t <= ticks; t++ {
		v := step * float64(t)
		y := yAt(v)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#dddddd"/>`, x0, y, x1, y)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle" fill="#444444">%s</text>`+"\n", x0-6, y, si(v))
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#444444"/>`, x0, y0, x1, y0)
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#444444"/>`+"\n", x0, y0, x0, y1)
	for i, n := range procs {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#444444">%d</text>`, xAt(i), y0+16, n)
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#444444">-cpu (GOMAXPROCS)</text>`+"\n", (x0+x1)/2, y0+34)
	fmt.Fprintf(b, `<text transform="translate(%d %.1f) rotate(-90)" text-anchor="middle" fill="#444444">ops/s</text>`+"\n", ox+14, (y0+y1)/2)

	for k, impl := range r.impls {
		c := palette[k%len(palette)]
		type pt struct {
			x, y, v float64
			n       int
		}
		var pts []pt
		for i, n := range procs {
			if v, ok := r.throughput(p, impl, n); ok {
				pts = append(pts, pt{xAt(i), yAt(v), v, n})
			}
		}
		switch {
		case len(pts) == 0:
			continue
		case len(pts) == 1: // measured at one -cpu only: a reference line
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5" stroke-dasharray="6 4"/>`,
				x0, pts[0].y, x1, pts[0].y, c)
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="%s">%s at -cpu %d only</text>`+"\n",
				x1-2, pts[0].y-5, c, esc(impl), pts[0].n)
		default:
			var path strings.Builder
			for i, q := range pts {
				if i > 0 {
					path.WriteByte(' ')
				}
				fmt.Fprintf(&path, "%.1f,%.1f", q.x, q.y)
			}
			fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"/>`+"\n", path.String(), c)
		}
		for _, q := range pts {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s, -cpu %d: %s ops/s</title></circle>`+"\n",
				q.x, q.y, c, esc(impl), q.n, si(q.v))
		}
	}
	b.WriteString("</g>\n")
}

// niceScale returns a tick step of 1, 2 or 5 × 10^k and the number of
// ticks (4 to 10) whose product is the first multiple of the step at or
// above top.
func niceScale(top float64) (step float64, ticks int) {
	if top <= 0 || math.IsNaN(top) || math.IsInf(top, 0) {
		return 1, 1
	}
	raw := top / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	return step, max(1, int(math.Ceil(top/step-1e-9)))
}

// si formats v with three significant digits at most and an SI prefix:
// 12.5M, 800k, 950.
func si(v float64) string {
	suffix := ""
	for _, u := range []struct {
		div    float64
		suffix string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if math.Abs(v) >= u.div {
			v, suffix = v/u.div, u.suffix
			break
		}
	}
	prec := 2
	switch a := math.Abs(v); {
	case a >= 100:
		prec = 0
	case a >= 10:
		prec = 1
	}
	t := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(t, ".") {
		t = strings.TrimRight(strings.TrimRight(t, "0"), ".")
	}
	return t + suffix
}

// esc escapes s for SVG text and attributes.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}
