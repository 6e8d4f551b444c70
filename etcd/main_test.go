package etcd_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests. It needs no
// ignore option: every test stops its mirrors (waiting for Done), closes its
// clients and stops its etcd server (t.Cleanup runs them in that order), and
// then neither etcd's server, nor clientv3, nor gRPC leaves a goroutine
// behind (checked with etcd v3.7.3 and gRPC v1.83.2). Should a later version
// leave one, name it here with goleak.IgnoreTopFunction and the reason.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
