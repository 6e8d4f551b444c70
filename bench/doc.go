// Package bench measures the registry against the designs it replaces and
// against Go's fastest maps: one workload table, driven through one small
// interface, run over every implementation in the same process.
//
// The package has no code of its own; everything is in its _test.go files,
// so that the baselines (and their test-only dependency,
// github.com/puzpuzpuz/xsync/v4) are compiled only into the benchmark binary.
// The benchmarks run only with -bench; see docs/benchmarks.md for the command
// that produces the published figures (make bench) and for how to read them.
package bench
