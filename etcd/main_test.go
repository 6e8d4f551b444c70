package etcd_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests. Every test stops
// its mirrors, closes its clients and stops its etcd server, so what is left
// is only what etcd's and gRPC's packages start once per process and never
// stop; each is named here with the reason.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
