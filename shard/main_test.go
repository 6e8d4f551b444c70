package shard_test

import (
	"testing"

	"go.uber.org/goleak"
)

// runtime.handleEvent is the js/wasm runtime's own event handler goroutine
// (make test-wasm); it never runs elsewhere.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("runtime.handleEvent"))
}
