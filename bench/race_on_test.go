//go:build race

package bench

// raceEnabled reports whether the race detector is on; heavy checks record
// fewer histories under it and run in full without it (see the Makefile).
const raceEnabled = true
