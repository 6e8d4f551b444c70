// Package etcdtest runs a single-member etcd server in-process, on loopback
// ports chosen at run time, for the tests and the demo of package etcd.
//
// A Server can be stopped and started again on the same ports and data
// directory, which is how the tests take etcd away from a mirror and give it
// back. A Server is not safe for concurrent use: one goroutine starts and
// stops it.
package etcdtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// startTimeout bounds how long Start waits for the member to elect itself
// leader and serve: a single member on loopback is ready in well under a
// second, even under the race detector; 30 s covers a loaded CI machine.
const startTimeout = 30 * time.Second

// Server is an embedded etcd member.
type Server struct {
	Dir    string // data directory, kept across Stop and Start
	Client string // client URL, "http://127.0.0.1:PORT"
	peer   string // peer URL
	MaxOps uint   // max operations per transaction; 0: etcd's default (128)
	e      *embed.Etcd
}

// Start starts a new member with its data in dir (an empty or missing
// directory, such as t.TempDir()). Its client and peer ports are picked by
// listening on 127.0.0.1:0 and closing the listener: embed cannot listen on
// port 0 itself, because it must advertise the URLs it serves. Another
// process could take a port in between; on loopback, in a test, it does not
// happen in practice.
func Start(dir string) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	s := &Server{
		Dir:    dir,
		Client: fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		peer:   fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
	}
	return s, s.Restart()
}

// Restart starts the member again, on the same ports and data directory, after
// [Server.Stop]; Start calls it the first time.
func (s *Server) Restart() error {
	if s.e != nil {
		return errors.New("etcdtest: the server is running")
	}
	cu, err := url.Parse(s.Client)
	if err != nil {
		return err
	}
	pu, err := url.Parse(s.peer)
	if err != nil {
		return err
	}
	cfg := embed.NewConfig()
	cfg.Name = "oneiric-test"
	cfg.Dir = s.Dir
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.ListenMetricsUrls = nil
	// The tests write thousands of revisions; fsync after each would make
	// them disk-bound for no gain (Stop closes the member cleanly, so what
	// it wrote is in the files when it starts again).
	cfg.UnsafeNoFsync = true
	// A 10 ms tick and a 100 ms election timeout (etcd's defaults are 100 ms
	// and 1 s): a lone member elects itself sooner after a restart, and a
	// stop that waits for open watch streams waits 5.2 s, not 7 s (etcd
	// gives them its request timeout, 5 s plus two election timeouts).
	cfg.TickMs, cfg.ElectionMs = 10, 100
	if s.MaxOps > 0 {
		cfg.MaxTxnOps = s.MaxOps
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("etcdtest: start: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return fmt.Errorf("etcdtest: start: %w", err)
	case <-time.After(startTimeout):
		e.Server.Stop()
		e.Close()
		return fmt.Errorf("etcdtest: the member was not ready after %v", startTimeout)
	}
	s.e = e
	return nil
}

// Stop stops the member and waits until it has released its ports and
// files. Stopping a stopped Server does nothing.
func (s *Server) Stop() {
	if s.e == nil {
		return
	}
	s.e.Close()
	<-s.e.Server.StopNotify()
	s.e = nil
}

// Running reports whether the member is started.
func (s *Server) Running() bool { return s.e != nil }

// NewClient returns a client of the member (or of url, when given: a proxy in
// front of it), with a quiet logger. The caller closes it.
func (s *Server) NewClient(url ...string) (*clientv3.Client, error) {
	endpoints := []string{s.Client}
	if len(url) > 0 {
		endpoints = url
	}
	return clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("etcdtest: pick a port: %w", err)
		}
		ls = append(ls, l) // held open until all are picked, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
