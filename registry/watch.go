package registry

import (
	"context"
	"iter"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/oneiric-go/oneiric/shard"
)

// Change is what [Registry.Watch] delivers: a change of a key's winner, or,
// with Resync set, the marker that precedes a replay of the current state.
type Change struct {
	Decision
	// Resync marks a watcher that fell behind by more than its buffer (see
	// [WithWatchBuffer]). The changes it missed are dropped; instead, right
	// after this marker, it receives the current winner of every key of its
	// domains as Changes with Reason "resync" and no Previous, and then the
	// changes made after that state, in order. So it never ends up wrong.
	Resync bool
}

// Watch returns a stream of the changes of every key's winner in the named
// domains (all domains when none is named), from the moment Watch is called
// until ctx ends or the caller stops ranging. Range over it once:
//
//	for c := range r.Watch(ctx, "adapter") {
//		switch {
//		case c.Resync:
//			log.Print("fell behind; the current winners follow")
//		case c.Current == nil:
//			log.Printf("%s/%s: no candidate left", c.Domain, c.Key)
//		default:
//			log.Printf("%s/%s: now %s", c.Domain, c.Key, c.Current.Provider())
//		}
//	}
//
// Changes of one key arrive in the order they were made. Delivery never
// happens while a registry lock is held, and a writer never waits for a
// watcher to read: changes wait in a bounded buffer, and a watcher that
// overflows it is resynchronised (see [Change].Resync). The resync reads a
// snapshot of the watched domains, under their shards' locks as
// [Registry.Snapshot] does, so the writers of those shards wait for that
// snapshot once per overflow. A write looks only at the watchers of its own
// domain and those of every domain. Ending ctx, or breaking out of the
// loop, releases everything. Watch starts no goroutine for a ctx made by
// package context; for a ctx of another type, [context.AfterFunc] starts one
// that waits for it to end or for the watch to be released. A nil ctx is
// [context.Background].
//
// [Limits] do not bound watchers: each holds up to [WithWatchBuffer]
// changes (and the entries they name) while it falls behind. A host that
// lets tenants watch through a [Handle] bounds how many watches it starts
// for them.
//
// The watcher exists from the call on, so that no change made after Watch
// returns is missed. A result that is never ranged over keeps its buffer
// until ctx ends or the result itself is garbage-collected, whichever comes
// first. A result ranges once: ranging it again yields nothing and returns
// at once.
//
// An iterator reads better here than a channel: the range loop ends by
// itself when ctx ends, there is no channel to drain or close, and no
// goroutine to leak.
func (r *Registry) Watch(ctx context.Context, domains ...string) iter.Seq[Change] {
	return r.watch(ctx, domains)
}

func (r *Registry) watch(ctx context.Context, domains []string) iter.Seq[Change] {
	if ctx == nil {
		ctx = context.Background()
	}
	w := r.hub.add(domains, ctx.Done())
	stop := context.AfterFunc(ctx, func() {
		r.hub.remove(w)
		w.wakeUp()
	})
	// held is referenced by the returned iterator alone: once the caller
	// drops the iterator unranged, its collection removes the watcher. Its
	// pointer field keeps it out of the runtime's tiny allocator, which packs
	// small pointer-free objects into shared blocks: a cleanup on one of
	// those may never run while another in its block lives.
	held := &struct {
		ranged atomic.Bool
		_      *byte
	}{}
	runtime.AddCleanup(held, func(release func()) { release() }, func() {
		stop()
		r.hub.remove(w)
	})
	return func(yield func(Change) bool) {
		defer runtime.KeepAlive(held) // while ranging, the watcher stays
		if held.ranged.Swap(true) {
			return // ranged before: its watcher is gone, nothing would come
		}
		defer func() {
			stop()
			r.hub.remove(w)
		}()
		for ctx.Err() == nil {
			pending, overflowed := w.take()
			if overflowed {
				pending = r.resync(w)
			}
			for _, c := range pending {
				if ctx.Err() != nil || !yield(c) {
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
			}
		}
	}
}

// resync empties w's buffer at the instant of a snapshot of its domains, and
// returns the marker followed by the snapshot's winners.
func (r *Registry) resync(w *watcher) []Change {
	var routes []shard.Route
	for d := range w.domains {
		routes = append(routes, r.set.Route(d))
	}
	views := r.set.SnapshotAnd(routes, w.reset)
	out := []Change{{Resync: true}}
	for _, d := range sortedKeys(views) {
		for _, e := range views[d].Active() {
			out = append(out, Change{Decision: Decision{Domain: d, Key: e.Key(), Current: e, Reason: "resync"}})
		}
	}
	return out
}

// watchHub fans changes out to watchers. Lock order: shard locks (the
// notify call runs under them), then hub.mu, then a watcher's mu.
//
// Watchers are indexed by domain, so that a write looks only at the watchers
// of its own domain and at those of every domain: a tenant's watchers cost
// the writes of other tenants nothing.
type watchHub struct {
	size     int
	live     atomic.Int64             // how many watchers, read without the lock: writers skip the hub when 0
	mu       sync.RWMutex             // guards all and byDomain: notify reads, add and remove write
	all      set[*watcher]            // the live watchers of every domain
	byDomain map[string]set[*watcher] // the live watchers of some domains, by domain; no empty set
}

// set is a set of watchers.
type set[T comparable] map[T]struct{}

func newWatchHub(size int) *watchHub {
	return &watchHub{size: size, all: set[*watcher]{}, byDomain: map[string]set[*watcher]{}}
}

type watcher struct {
	domains  map[string]bool // nil: every domain
	done     <-chan struct{} // its ctx's Done: once closed, nothing more is buffered
	wake     chan struct{}   // capacity 1: a change is waiting
	mu       sync.Mutex      // guards buf and overflow
	buf      []Change        // at most hub.size changes
	overflow bool            // changes were dropped since the last reset
	size     int
	removed  bool // guarded by the hub's mu: removed from the hub
}

func (h *watchHub) add(domains []string, done <-chan struct{}) *watcher {
	w := &watcher{wake: make(chan struct{}, 1), size: h.size, done: done}
	if len(domains) > 0 {
		w.domains = map[string]bool{}
		for _, d := range domains {
			w.domains[d] = true
		}
	}
	h.mu.Lock()
	if w.domains == nil {
		h.all[w] = struct{}{}
	}
	for d := range w.domains {
		if h.byDomain[d] == nil {
			h.byDomain[d] = set[*watcher]{}
		}
		h.byDomain[d][w] = struct{}{}
	}
	h.live.Add(1)
	h.mu.Unlock()
	return w
}

// remove removes w; removing it again does nothing.
func (h *watchHub) remove(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w.removed {
		return
	}
	w.removed = true
	delete(h.all, w)
	for d := range w.domains {
		delete(h.byDomain[d], w)
		if len(h.byDomain[d]) == 0 {
			delete(h.byDomain, d)
		}
	}
	h.live.Add(-1)
}

// notify is the shard set's notify function: it runs under the locks of the
// write that made c, so the changes of one key reach every buffer in order.
// It never blocks; with no watcher it is one atomic load.
func (h *watchHub) notify(c shard.Change) {
	if h.live.Load() == 0 {
		return
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, ws := range [2]set[*watcher]{h.all, h.byDomain[c.Domain]} {
		for w := range ws {
			if !w.ended() {
				w.push(Change{Decision: decision(c)})
			}
		}
	}
}

// ended reports whether the watcher's ctx has ended. The hub removes such a
// watcher soon after (context.AfterFunc runs on a goroutine of its own);
// until then, it buffers nothing more.
func (w *watcher) ended() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

func (w *watcher) push(c Change) {
	w.mu.Lock()
	switch {
	case w.overflow:
	case len(w.buf) >= w.size:
		w.overflow, w.buf = true, nil
	default:
		w.buf = append(w.buf, c)
	}
	w.mu.Unlock()
	w.wakeUp()
}

func (w *watcher) wakeUp() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// take returns the buffered changes and whether the buffer overflowed.
func (w *watcher) take() ([]Change, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	buf, over := w.buf, w.overflow
	w.buf = nil
	return buf, over
}

// reset empties the buffer and clears the overflow; the resync snapshot
// calls it under the shard locks, so the changes buffered afterwards are
// exactly those the snapshot does not show.
func (w *watcher) reset() {
	w.mu.Lock()
	w.buf, w.overflow = nil, false
	w.mu.Unlock()
}
