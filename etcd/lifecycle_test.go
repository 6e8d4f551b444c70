package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	oetcd "github.com/oneiric-go/oneiric/etcd"
	"github.com/oneiric-go/oneiric/registry"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

func TestMirrorArguments(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := context.Background()
	r := registry.New()
	for name, call := range map[string]func() (*oetcd.Replica, error){
		"nil client":   func() (*oetcd.Replica, error) { return oetcd.Mirror(ctx, nil, "/p", r, nil) },
		"nil registry": func() (*oetcd.Replica, error) { return oetcd.Mirror(ctx, c, "/p", nil, nil) },
		"empty prefix": func() (*oetcd.Replica, error) { return oetcd.Mirror(ctx, c, "//", r, nil) },
	} {
		if m, err := call(); err == nil || m != nil {
			t.Errorf("%s: Mirror = %v, %v; want an error", name, m, err)
		}
	}
}

// The mirror's revision follows etcd's even when the writes are elsewhere:
// its progress requests bring etcd's current revision.
func TestMirrorRevisionFollowsProgress(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	_, m, _ := mirror(t, newClient(t, s), "/p", nil, oetcd.WithProgressInterval(50*time.Millisecond))
	<-m.Ready()
	resp, err := c.Put(ctxT(t), "/elsewhere", "x")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.WaitRevision(ctx, resp.Header.Revision); err != nil {
		t.Fatal(err)
	}
}

// A mirror stops, and releases its watch and goroutines (TestMain's goleak
// check), when its context ends: while it follows etcd, while etcd is down
// and clientv3 keeps reconnecting, and while its loads fail and it backs
// off. WaitRevision then returns ErrStopped.
func TestMirrorStops(t *testing.T) {
	stopWithin := func(t *testing.T, m *oetcd.Replica, stop func()) {
		t.Helper()
		start := time.Now()
		stop()
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("stopping took %v", d)
		}
		if err := m.WaitRevision(context.Background(), 1<<40); !errors.Is(err, oetcd.ErrStopped) {
			t.Errorf("WaitRevision after the stop: %v, want ErrStopped", err)
		}
	}
	t.Run("following", func(t *testing.T) {
		s := startServer(t)
		_, m, stop := mirror(t, newClient(t, s), "/p", nil)
		<-m.Ready()
		stopWithin(t, m, stop)
	})
	t.Run("etcd down", func(t *testing.T) {
		s := startServer(t)
		_, m, stop := mirror(t, newClient(t, s), "/p", nil, oetcd.WithProgressInterval(50*time.Millisecond))
		<-m.Ready()
		s.Stop()
		eventually(t, 10*time.Second, "the mirror still reports itself healthy with etcd down", func() bool { return !m.Status().Healthy })
		if st := m.Status(); st.LastError == nil {
			t.Errorf("unhealthy with no error: %+v", st)
		}
		stopWithin(t, m, stop)
	})
	t.Run("never reached etcd", func(t *testing.T) {
		// A client of a port nobody listens on: every load fails.
		s := startServer(t)
		dead := s.Client
		s.Stop()
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{dead}, DialTimeout: time.Second, Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, m, stop := mirror(t, c, "/p", nil, oetcd.WithRequestTimeout(100*time.Millisecond), oetcd.WithBackoff(10*time.Millisecond, 50*time.Millisecond))
		eventually(t, 10*time.Second, "no failed load reported", func() bool { return m.Status().LastError != nil })
		select {
		case <-m.Ready():
			t.Fatal("ready without etcd")
		default:
		}
		if st := m.Status(); st.Healthy || st.Revision != 0 {
			t.Errorf("status %+v", st)
		}
		stopWithin(t, m, stop)
	})
}

// watchStreams counts clientv3's watch streams that run in the process.
func watchStreams() int {
	buf := make([]byte, 1<<22)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "watchGRPCStream).run(")
}

// A stopped mirror holds no watch stream of its client, which stays open.
// A progress request racing with the end of the watch used to open a new
// stream, with no watcher, that lived until the client was closed (so the
// goleak checks, which run after Close, missed it); a progress interval of
// 20 µs makes the race likely. Each stop waits up to 5 s for the streams to
// end.
func TestMirrorReleasesItsWatchStream(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	for i := range 60 {
		ctx, cancel := context.WithCancel(context.Background())
		m, err := oetcd.Mirror(ctx, c, "/p", registry.New(), nil, oetcd.WithLogger(quiet()), oetcd.WithProgressInterval(20*time.Microsecond))
		if err != nil {
			t.Fatal(err)
		}
		<-m.Ready()
		resp, err := c.Put(context.Background(), "/p/unknown/x", "v") // through the watch: it exists on the server
		if err != nil {
			t.Fatal(err)
		}
		if err := m.WaitRevision(context.Background(), resp.Header.Revision); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
		cancel()
		<-m.Done()
		eventually(t, 5*time.Second, fmt.Sprintf("stop %d: a watch stream outlived the mirror", i), func() bool { return watchStreams() == 0 })
	}
}

// A mirror stopped while its Watch call waits for an unreachable etcd stops
// at once. The watch's ctx does not end with the mirror's (so that progress
// requests end first, above); while Watch connects, the mirror's ctx ending
// cancels it. Found in review: the stop waited for etcd to come back. The
// wait for Done allows 10 s.
func TestMirrorStopsWhileItsWatchOpens(t *testing.T) {
	s := startServer(t)
	p := startProxy(t, s.Client[len("http://"):])
	c := newClient(t, s, p.URL())
	hook := oetcd.WithBeforeWatch(func(ctx context.Context, rev int64) { p.Cut() })
	ctx, cancel := context.WithCancel(context.Background())
	m, err := oetcd.Mirror(ctx, c, "/p", registry.New(), nil, oetcd.WithLogger(quiet()), hook)
	if err != nil {
		t.Fatal(err)
	}
	<-m.Ready()
	time.Sleep(200 * time.Millisecond) // likely in client.Watch by now; the test holds either way
	cancel()
	select {
	case <-m.Done():
	case <-time.After(10 * time.Second):
		p.Restore()
		<-m.Done()
		t.Fatal("the mirror did not stop within 10 s of its ctx ending, with etcd unreachable")
	}
}
