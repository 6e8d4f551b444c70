package etcd_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	oetcd "github.com/oneiric-go/oneiric/etcd"
	"github.com/oneiric-go/oneiric/registry"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// A revision whose watch events stop matching what the mirror holds part
// way (a diverged event, as after etcd was restored from an older backup)
// is not applied in part: the registry keeps the sets of the last whole
// revision until the load that follows, which applies every owner the
// revision touched, those whose events came before the diverged one
// included.
//
// One transaction puts p's candidate x of c, the selection of d (p's
// candidate y), then o's a and b; each mirror is made to hold a wrong
// revision of o's b, so the event of b diverges after the others. A mirror
// that cannot load again (its backoff is an hour) must still show o's and
// p's old sets and the old selection; one that loads again must show the
// new ones.
func TestMirrorDivergedRevisionIsNotApplied(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s)
	ctx := ctxT(t)
	const prefix = "/div"
	for owner, cs := range map[string][]registry.Candidate{
		"o": {cand("adapter", "a", "x", 1), cand("adapter", "b", "x", 1)},
		"p": {cand("adapter", "c", "x", 1), cand("adapter", "d", "x", 1), cand("adapter", "d", "y", 0)},
	} {
		if _, err := oetcd.Publish(ctx, c, prefix, owner, cs); err != nil {
			t.Fatal(err)
		}
	}
	held := oetcd.CandidateKey(prefix, "o", "adapter", "b", "x")
	// start starts a mirror that holds a wrong revision of o/b once it has
	// loaded for the first time.
	start := func(opts ...oetcd.Option) (*registry.Registry, *oetcd.Replica) {
		got := make(chan *oetcd.Replica, 1)
		var once sync.Once
		hook := oetcd.WithBeforeWatch(func(ctx context.Context, rev int64) {
			once.Do(func() {
				select {
				case m := <-got:
					oetcd.SetHeldRevision(m, held, 1)
				case <-ctx.Done():
				}
			})
		})
		r, m, _ := mirror(t, newClient(t, s), prefix, nil, append(opts, hook)...)
		got <- m
		<-m.Ready()
		return r, m
	}
	stuck, mStuck := start(oetcd.WithBackoff(time.Hour, time.Hour))
	reloaded, mReloaded := start()

	put := func(owner, k string) clientv3.Op {
		v, err := oetcd.EncodeCandidate(owner, cand("adapter", k, "x", 2))
		if err != nil {
			t.Fatal(err)
		}
		return clientv3.OpPut(oetcd.CandidateKey(prefix, owner, "adapter", k, "x"), string(v))
	}
	sel := clientv3.OpPut(oetcd.SelectionKey(prefix, "adapter", "d"), "y")
	resp, err := c.Txn(ctx).Then(put("p", "c"), sel, put("o", "a"), put("o", "b")).Commit()
	if err != nil {
		t.Fatal(err)
	}
	rev := resp.Header.Revision

	priorities := func(r *registry.Registry) string {
		var out []string
		for _, k := range []string{"a", "b", "c", "d"} {
			e, ok := r.Resolve("adapter", k)
			if !ok {
				out = append(out, k+"=none")
				continue
			}
			out = append(out, fmt.Sprintf("%s=%s:%d", k, e.Provider(), e.Priority()))
		}
		return strings.Join(out, " ")
	}

	eventually(t, time.Minute, "the stuck mirror reports the diverged event", func() bool {
		err := mStuck.Status().LastError
		return err != nil && strings.Contains(err.Error(), "does not match the mirrored state")
	})
	if got, want := priorities(stuck), "a=x:1 b=x:1 c=x:1 d=x:1"; got != want {
		t.Errorf("after a diverged event, the registry holds %s; want the last whole revision's %s", got, want)
	}
	if r := mStuck.Revision(); r >= rev {
		t.Errorf("the stuck mirror is at revision %d, want before %d", r, rev)
	}

	waitRev(t, mReloaded, rev)
	if got, want := priorities(reloaded), "a=x:2 b=x:2 c=x:2 d=y:0"; got != want {
		t.Errorf("after the load that follows a diverged event, the registry holds %s; want etcd's %s", got, want)
	}
	if st := mReloaded.Status(); st.Loads < 2 {
		t.Errorf("the mirror loaded %d times, want 2 (%+v)", st.Loads, st)
	}
}
