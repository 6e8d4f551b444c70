package registry_test

import "runtime"

// runtimeYield gives other goroutines a chance to run between an operation's
// call and return, so that recorded histories overlap even on one CPU.
func runtimeYield() { runtime.Gosched() }
