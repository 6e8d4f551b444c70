package etcd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/registry"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrUnknownFactory is matched by the error of a candidate whose factory name
// is not in the table given to [Mirror].
var ErrUnknownFactory = errors.New("unknown factory")

// ErrMismatch is matched by the error of a candidate whose value names
// another domain, key or provider than its key.
var ErrMismatch = errors.New("the key and its value name different candidates")

// ErrStopped is returned by [Replica.WaitRevision] when the mirror has stopped.
var ErrStopped = errors.New("the mirror has stopped")

// errDiverged is the cause of a load forced by a watch event that does not
// follow from what the mirror holds (see Replica.event).
var errDiverged = errors.New("a watch event does not match the mirrored state")

// Replica is a running mirror of an etcd prefix into a registry, started by
// [Mirror]. Its methods are safe for concurrent use. It stops when the
// context given to Mirror ends; [Replica.Done] says when it has.
type Replica struct {
	client    *clientv3.Client
	prefix    string // clean: no trailing slash
	root      string // prefix + "/": every key of the layout starts with it
	reg       *registry.Registry
	factories map[string]any // the host's table, copied at Mirror
	opts      options

	done  chan struct{} // closed when the run goroutine returns
	ready chan struct{} // closed after the first load is applied

	// Touched by the run goroutine only.
	kvs     map[string]*item            // every key under root at rev, parsed
	owners  map[string]map[string]*item // etcd owner → its candidate keys → item
	applied map[string]bool             // etcd owners whose last applied set was not empty
	// stale holds the etcd owners whose set in the registry may differ
	// from owners: the registry refused their last Apply, or a revision cut
	// short by a diverged event (see handle) changed them; staleSels the
	// selection keys that such a revision changed. The next load applies
	// them again.
	stale     map[string]bool
	staleSels map[string]address
	nCands    int // usable candidate keys in kvs
	nBad      int // skipped keys in kvs

	mu sync.Mutex // guards the fields below
	st Status     // Healthy computed at Status
	// synced is true from a successful load until the watch that follows
	// it fails: the registry then follows etcd.
	synced bool
	// silenceOf is the LastContact whose silence past the stale limit is
	// already in LastError (see noteSilenceLocked); zero when none.
	silenceOf time.Time
	advanced  chan struct{} // closed and replaced whenever st.Revision grows
}

// item is one key under the prefix, parsed once per written version.
type item struct {
	modRev   int64
	addr     address            // zero when the key is not in the layout
	cand     registry.Candidate // a good candidate: Factory is the table's value
	provider string             // a good selection
	err      error              // non-nil: the value is skipped
}

// Status is what a [Replica] reports about itself.
type Status struct {
	// Revision is the etcd revision the registry reflects: every write under
	// the prefix up to it is applied, none after it. 0 before the first load.
	Revision int64
	// Healthy is true when the mirror has loaded the prefix, its watch has
	// not failed since, and it heard from etcd (an event, a progress
	// notification, a load) within the last three progress intervals (see
	// [WithProgressInterval]). While it is false the registry still holds
	// what the mirror last applied, which may be stale.
	Healthy bool
	// LastError is the last failure (a load, a watch, a refused Apply) and
	// LastErrorTime when it happened; nil and zero when none yet.
	LastError     error
	LastErrorTime time.Time
	// LastContact is when the mirror last heard from etcd.
	LastContact time.Time
	// Skipped counts the values the mirror could not use: a key not in the
	// layout, a value that is not a candidate in the manifest format, a key
	// and value that name different candidates, an unknown factory name, an
	// invalid selection. An owner's generation key ([GenerationKey]) is
	// neither used nor skipped. It counts each written version once, except
	// that a load that fails part way forgets the values it read, so the
	// next load counts (and logs) those again.
	Skipped uint64
	// Invalid is how many keys under the prefix are skipped at Revision.
	Invalid int
	// Rejected counts owners' sets the registry refused
	// ([registry.Registry.Apply] failed: a limit of the registry); the
	// registry keeps that owner's previous set until a later one is
	// accepted.
	Rejected uint64
	// Loads counts the full loads of the prefix: the first, and one after
	// each failure or compaction.
	Loads uint64
	// Owners and Candidates are the owners and usable candidates at Revision.
	Owners, Candidates int
}

// Mirror starts mirroring the candidates and selections under prefix (see
// the package documentation for the key layout) into r, and returns at once;
// the mirror runs until ctx ends.
//
// It loads the prefix at one revision (paged Gets at that revision), applies
// each owner's set with [registry.Registry.Apply] and each selection with
// [registry.Registry.Select], then watches the prefix from the next
// revision. Each revision of a watch response is applied as a whole: every
// owner it touches gets its new set in one Apply, so readers of r never see
// part of a [Publish]. Events are applied in revision order, so two mirrors
// of one prefix register new candidates in the same order and agree even on
// ties (see the package documentation for what a reload changes).
//
// After a failure (a lost connection that clientv3's own retries do not
// restore, a watch canceled by the server, a compacted revision, an event
// that does not match what the mirror holds) it loads the prefix again, after
// a pause that grows with repeated failures ([WithBackoff]), and converges:
// owners whose keys changed meanwhile get their current set, owners that
// vanished an empty one, and selections that vanished are cleared.
//
// factories maps the factory names that candidates carry to the values the
// mirror registers as their Factory; the table is copied. A candidate
// without a factory name is registered with a nil Factory. A value the
// mirror cannot use (see [Status].Skipped) is logged, counted and left out,
// never fatal: its owner's other candidates are applied.
//
// The mirror owns, in r, the owners it applies (see [WithOwnerPrefix]) and the
// selections of the keys that have a selection key under the prefix: it
// clears a selection when its key goes away.
//
// Mirror fails only for a nil client or registry, or an empty prefix.
func Mirror(ctx context.Context, client *clientv3.Client, prefix string, r *registry.Registry, factories map[string]any, opts ...Option) (*Replica, error) {
	if client == nil || r == nil {
		return nil, errors.New("etcd.Mirror needs a client and a registry")
	}
	if err := checkPrefix(prefix); err != nil {
		return nil, fmt.Errorf("etcd.Mirror: %w", err)
	}
	m := &Replica{
		client:    client,
		prefix:    cleanPrefix(prefix),
		root:      cleanPrefix(prefix) + "/",
		reg:       r,
		factories: maps.Clone(factories),
		opts:      newOptions(opts),
		done:      make(chan struct{}),
		ready:     make(chan struct{}),
		kvs:       map[string]*item{},
		owners:    map[string]map[string]*item{},
		applied:   map[string]bool{},
		stale:     map[string]bool{},
		staleSels: map[string]address{},
		advanced:  make(chan struct{}),
	}
	go m.run(ctx)
	return m, nil
}

// Done returns a channel closed when the mirror has stopped (its context
// ended) and released its watch. One case is clientv3's to finish: a mirror
// stopped while its watch was still connecting to an unreachable etcd leaves
// the client's stream for that watch, which connects once etcd is back and
// stays, with no watcher, until the client is closed or its next watch of
// the prefix reuses it.
func (m *Replica) Done() <-chan struct{} { return m.done }

// Ready returns a channel closed once the first load is applied.
func (m *Replica) Ready() <-chan struct{} { return m.ready }

// Status returns the mirror's current status. When it reports the mirror
// unhealthy, LastError says why: a silence past the stale limit is recorded
// by the first of Status and the watchdog to see it.
func (m *Replica) Status() Status {
	m.mu.Lock()
	stale, noted := m.noteSilenceLocked(time.Now())
	s := m.st
	s.Healthy = m.synced && !stale
	m.mu.Unlock()
	m.logFailure(noted)
	return s
}

// Revision returns the etcd revision the registry reflects (see
// [Status].Revision).
func (m *Replica) Revision() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st.Revision
}

// WaitRevision waits until the registry reflects etcd revision rev (the
// revision [Publish] returns, say), ctx ends, or the mirror stops
// ([ErrStopped]). The mirror's revision moves with the events under its
// prefix and with the progress notifications it requests every progress
// interval, so waiting for a revision written elsewhere in etcd can take
// that long.
func (m *Replica) WaitRevision(ctx context.Context, rev int64) error {
	for {
		m.mu.Lock()
		cur, ch := m.st.Revision, m.advanced
		m.mu.Unlock()
		if cur >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("etcd mirror at revision %d, waiting for %d: %w", cur, rev, context.Cause(ctx))
		case <-m.done:
			return ErrStopped
		}
	}
}

// run loads and watches until ctx ends.
func (m *Replica) run(ctx context.Context) {
	defer close(m.done)
	pause := m.opts.minBackoff
	for {
		progressed, err := m.session(ctx)
		if ctx.Err() != nil {
			return
		}
		m.logFailure(err) // session recorded it
		if progressed || errors.Is(err, rpctypes.ErrCompacted) {
			pause = m.opts.minBackoff // not an outage: load again soon
		}
		d := pause/2 + rand.N(pause+1) // pause ± 50 %
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
		pause = min(2*pause, m.opts.maxBackoff)
	}
}

// session loads the prefix, then follows the watch until it fails. It
// reports whether the watch delivered anything, so that run can tell a
// working watch that broke from an outage.
//
// It records its error as it ends, under the same lock that clears synced, so
// that Status never shows the mirror unhealthy without its reason; run logs
// it.
func (m *Replica) session(ctx context.Context) (progressed bool, err error) {
	defer func() {
		m.mu.Lock()
		m.synced = false
		if err != nil && ctx.Err() == nil {
			m.st.LastError, m.st.LastErrorTime = err, time.Now()
		}
		m.mu.Unlock()
	}()
	rev, err := m.load(ctx)
	if err != nil {
		return false, err
	}
	if m.opts.beforeWatch != nil {
		m.opts.beforeWatch(ctx, rev)
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
	}
	// WithRequireLeader: a member cut off from its cluster ends the watch
	// (ErrNoLeader) instead of keeping it silently stale.
	//
	// The watch ends only after the progress requester has stopped: a
	// RequestProgress that finds the watch's stream closed (its last watcher
	// gone) opens a new stream, with no watcher, that lives until the client
	// is closed. So the watch's ctx does not end with ctx; the requester's
	// does, and the session cancels the watch once the requester returned.
	// Both carry the same metadata, which is how clientv3 picks the stream.
	wctx, cancelWatch := context.WithCancel(clientv3.WithRequireLeader(context.WithoutCancel(ctx)))
	pctx, stopProgress := context.WithCancel(clientv3.WithRequireLeader(ctx))
	var progress, wg sync.WaitGroup
	defer func() { // before the deferred record above: the watch's goroutines end first
		stopProgress()
		progress.Wait()
		cancelWatch()
		wg.Wait()
	}()
	// Watch waits for the stream to connect: while it does, ctx ending must
	// end it (wctx does not end with ctx), or a stop with etcd unreachable
	// would wait for etcd. No progress request runs yet.
	undo := context.AfterFunc(ctx, cancelWatch)
	wch := m.client.Watch(wctx, m.root, clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithPrevKV())
	if !undo() {
		return false, ctx.Err() // ctx ended, and the watch with it
	}
	progress.Go(func() { m.requestProgress(pctx) })
	wg.Go(func() { m.watchdog(pctx) })
	for {
		var resp clientv3.WatchResponse
		var open bool
		select {
		case <-ctx.Done():
			return progressed, ctx.Err()
		case resp, open = <-wch:
		}
		if !open {
			break
		}
		if err := resp.Err(); err != nil {
			if resp.CompactRevision != 0 {
				return progressed, fmt.Errorf("watch from revision %d: compacted up to %d: %w", m.Revision()+1, resp.CompactRevision, err)
			}
			return progressed, fmt.Errorf("watch: %w", err)
		}
		progressed = true
		if err := m.handle(resp); err != nil {
			return progressed, err
		}
	}
	if ctx.Err() != nil {
		return progressed, ctx.Err()
	}
	return progressed, errors.New("watch: the channel closed")
}

// requestProgress asks for a progress notification every interval, until
// ctx ends: the session's progress ctx, which ends before the watch's (see
// session). RequestProgress goes on the watch's own stream (clientv3 picks
// the stream by ctx's metadata, which the watch's ctx shares), and blocks
// while the stream reconnects.
func (m *Replica) requestProgress(ctx context.Context) {
	t := time.NewTicker(m.opts.progressInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := m.client.RequestProgress(ctx); err != nil && ctx.Err() == nil {
			m.opts.logger.Debug("etcd mirror: progress request failed", slog.String("prefix", m.prefix), slog.Any("error", err))
		}
	}
}

// watchdog records a failure once each time etcd has been silent for longer
// than the stale limit (three progress intervals), until ctx ends, so that
// the reason is in LastError and the log even when nobody calls Status.
func (m *Replica) watchdog(ctx context.Context) {
	t := time.NewTicker(m.opts.progressInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.mu.Lock()
		_, noted := m.noteSilenceLocked(time.Now())
		m.mu.Unlock()
		m.logFailure(noted)
	}
}

// noteSilenceLocked reports whether the mirror follows etcd (synced) and
// has heard nothing from it for longer than the stale limit at now. The
// first time it sees the silence after a given contact it records it as the
// last error and returns that error, for the caller to log once it has
// released mu, which it holds.
func (m *Replica) noteSilenceLocked(now time.Time) (stale bool, noted error) {
	silent := now.Sub(m.st.LastContact)
	if !m.synced || silent <= m.opts.staleAfter {
		return false, nil
	}
	if m.silenceOf.Equal(m.st.LastContact) {
		return true, nil
	}
	m.silenceOf = m.st.LastContact
	err := fmt.Errorf("no answer from etcd for %v; clientv3 keeps reconnecting the watch", silent.Round(time.Millisecond))
	m.st.LastError, m.st.LastErrorTime = err, now
	return true, err
}

// handle applies one watch response, revision by revision.
func (m *Replica) handle(resp clientv3.WatchResponse) error {
	now := time.Now()
	if resp.IsProgressNotify() {
		m.advance(resp.Header.Revision, now)
		return nil
	}
	d := newDirty()
	done, rev := m.Revision(), int64(0)
	for _, ev := range resp.Events {
		r := ev.Kv.ModRevision
		if r <= done {
			continue // applied already; a resumed watch does not repeat events, this makes sure
		}
		if rev != 0 && r != rev {
			m.flush(d)
			m.advance(rev, now)
			d = newDirty()
		}
		rev = r
		if err := m.event(ev, d); err != nil {
			// The events of rev before this one are in kvs but must not
			// reach the registry: that would show part of a revision (of a
			// Publish). The registry keeps the sets of the last whole
			// revision, and the load that follows applies what rev's
			// events changed, even where kvs already holds etcd's version.
			for o := range d.owners {
				m.stale[o] = true
			}
			maps.Copy(m.staleSels, d.selections)
			return err
		}
	}
	if rev != 0 {
		m.flush(d)
		m.advance(rev, now)
	} else {
		m.touch(now)
	}
	return nil
}

// dirty collects what one revision changed: owners whose set and selection
// keys whose value must be applied again.
type dirty struct {
	owners     map[string]bool
	selections map[string]address // etcd key → its selection
}

func newDirty() *dirty {
	return &dirty{owners: map[string]bool{}, selections: map[string]address{}}
}

// event updates the in-memory copy with one event. With WithPrevKV every
// event carries the key's previous version, if it had one; when that is not
// the version the mirror holds, the mirror missed something and must load
// again (errDiverged).
func (m *Replica) event(ev *clientv3.Event, d *dirty) error {
	k := string(ev.Kv.Key)
	old := m.kvs[k]
	switch {
	case ev.PrevKv == nil && old != nil:
		return fmt.Errorf("%w: %q at revision %d had no previous version, the mirror holds one from revision %d", errDiverged, k, ev.Kv.ModRevision, old.modRev)
	case ev.PrevKv != nil && (old == nil || old.modRev != ev.PrevKv.ModRevision):
		held := int64(0)
		if old != nil {
			held = old.modRev
		}
		return fmt.Errorf("%w: %q at revision %d follows revision %d, the mirror holds revision %d", errDiverged, k, ev.Kv.ModRevision, ev.PrevKv.ModRevision, held)
	}
	var it *item
	if ev.Type == mvccpb.Event_PUT {
		it = m.parse(k, ev.Kv.Value, ev.Kv.ModRevision)
	}
	m.set(k, old, it, d)
	return nil
}

// set replaces the item of key k (old, nil if none) with it (nil: deleted)
// and marks what that changes.
func (m *Replica) set(k string, old, it *item, d *dirty) {
	for i, x := range []*item{old, it} {
		if x == nil {
			continue
		}
		switch {
		case x.err != nil:
			m.nBad += 2*i - 1 // old: -1, it: +1
		case x.addr.kind == kindCandidate:
			m.nCands += 2*i - 1
		}
		switch x.addr.kind {
		case kindCandidate:
			d.owners[x.addr.owner] = true
		case kindSelection:
			d.selections[k] = x.addr
		}
	}
	if old != nil && old.addr.kind == kindCandidate {
		delete(m.owners[old.addr.owner], k)
		if len(m.owners[old.addr.owner]) == 0 {
			delete(m.owners, old.addr.owner)
		}
	}
	if it == nil {
		delete(m.kvs, k)
		return
	}
	m.kvs[k] = it
	if it.addr.kind == kindCandidate {
		if m.owners[it.addr.owner] == nil {
			m.owners[it.addr.owner] = map[string]*item{}
		}
		m.owners[it.addr.owner][k] = it
	}
}

// parse reads the value of key k written at revision rev. A value it cannot
// use is logged and counted here, once each time it is parsed: once per
// written version, but again when a load that failed read it (see
// Status.Skipped).
func (m *Replica) parse(k string, value []byte, rev int64) *item {
	it := &item{modRev: rev}
	it.err = func() error {
		a, err := parseKey(m.root, k)
		if err != nil {
			return err
		}
		it.addr = a
		if a.kind == kindGeneration {
			// A publisher's guard (see GenerationKey): held, so that its
			// watch events follow from what the mirror holds, but neither
			// a candidate nor a selection. Its value means nothing here.
			return domain.CheckName("owner", a.owner, false)
		}
		if a.kind == kindSelection {
			p := string(value)
			if err := domain.CheckAddress(a.domain, a.key, p); err != nil {
				return fmt.Errorf("selection: %w", err)
			}
			it.provider = p
			return nil
		}
		if err := domain.CheckName("owner", a.owner, false); err != nil {
			return err
		}
		c, err := decodeCandidate(k, a.owner, value)
		if err != nil {
			return err
		}
		if c.Domain != a.domain || c.Key != a.key || c.Provider != a.provider {
			return fmt.Errorf("%w: the value is the candidate %q/%q/%q, its key names %q/%q/%q",
				ErrMismatch, c.Domain, c.Key, c.Provider, a.domain, a.key, a.provider)
		}
		if name, ok := c.Factory.(string); ok {
			f, found := m.factories[name]
			if !found {
				return fmt.Errorf("%w %q", ErrUnknownFactory, name)
			}
			c.Factory = f
		}
		it.cand = c
		return nil
	}()
	if it.err != nil {
		m.mu.Lock()
		m.st.Skipped++
		m.mu.Unlock()
		m.opts.logger.Warn("etcd mirror: skipping a value", slog.String("key", k), slog.Int64("revision", rev), slog.Any("error", it.err))
	}
	return it
}

// flush applies what d marks: each owner's set in one Apply, then the
// selections.
func (m *Replica) flush(d *dirty) {
	for _, o := range slices.Sorted(maps.Keys(d.owners)) {
		m.applyOwner(o)
	}
	for _, k := range slices.Sorted(maps.Keys(d.selections)) {
		m.applySelection(k, d.selections[k])
	}
}

// applyOwner makes owner's set in the registry equal to its usable
// candidates, ordered by the revision that wrote them, then by key: the
// order in which a mirror that saw every write registered them.
func (m *Replica) applyOwner(owner string) {
	items := slices.Collect(maps.Values(m.owners[owner]))
	keys := make(map[*item]string, len(items))
	for k, it := range m.owners[owner] {
		keys[it] = k
	}
	slices.SortFunc(items, func(a, b *item) int {
		return cmp.Or(cmp.Compare(a.modRev, b.modRev), cmp.Compare(keys[a], keys[b]))
	})
	cs := make([]registry.Candidate, 0, len(items))
	for _, it := range items {
		if it.err == nil {
			cs = append(cs, it.cand)
		}
	}
	if len(cs) == 0 && !m.applied[owner] {
		delete(m.stale, owner)
		return // nothing registered, nothing to register
	}
	if _, err := m.reg.Apply(m.opts.ownerPrefix+owner, cs); err != nil {
		m.stale[owner] = true
		m.mu.Lock()
		m.st.Rejected++
		m.mu.Unlock()
		m.fail(fmt.Errorf("apply the set of %q (%d candidates): %w", owner, len(cs), err))
		return
	}
	delete(m.stale, owner)
	if len(cs) == 0 {
		delete(m.applied, owner)
	} else {
		m.applied[owner] = true
	}
}

// applySelection sets the selection of the key that etcd key k names to its
// provider, or clears it when k is gone or its value is not usable.
func (m *Replica) applySelection(k string, a address) {
	if domain.CheckAddress(a.domain, a.key, "") != nil {
		return // a key whose names the registry refuses: parse skipped it, and no selection can be there
	}
	provider := ""
	if it := m.kvs[k]; it != nil && it.err == nil {
		provider = it.provider
	}
	if err := m.reg.Select(a.domain, a.key, provider); err != nil { // names validated by parse: only a limit
		m.fail(fmt.Errorf("select %q for %q/%q: %w", provider, a.domain, a.key, err))
	}
}

// load reads every key under the prefix at one revision, in pages, and
// applies the difference with what the mirror held. It returns the revision.
func (m *Replica) load(ctx context.Context) (int64, error) {
	end := clientv3.GetPrefixRangeEnd(m.root)
	next := map[string]*item{}
	from, rev := m.root, int64(0)
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(m.opts.pageSize)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		rctx, cancel := context.WithTimeout(ctx, m.opts.requestTimeout)
		resp, err := m.client.Get(rctx, from, opts...)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("load %q: %w", m.root, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			k := string(kv.Key)
			if old := m.kvs[k]; old != nil && old.modRev == kv.ModRevision {
				next[k] = old // parsed (and counted, if bad) already
			} else {
				next[k] = m.parse(k, kv.Value, kv.ModRevision)
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}

	// Replace the copy key by key, marking what changed.
	d := newDirty()
	for k, old := range m.kvs {
		if next[k] == nil {
			m.set(k, old, nil, d)
		}
	}
	for k, it := range next {
		if old := m.kvs[k]; old != it {
			m.set(k, old, it, d)
		}
	}
	// Owners the registry refused last time get another try, and what a
	// revision cut short by a diverged event changed is applied.
	for o := range m.stale {
		d.owners[o] = true
	}
	maps.Copy(d.selections, m.staleSels)
	clear(m.staleSels)
	// Owners that vanished go first (their removal frees room under the
	// registry's limits); the others by their newest write, the order in
	// which a mirror that saw every write applied them last.
	newest := func(o string) int64 {
		n := int64(-1)
		for _, it := range m.owners[o] {
			n = max(n, it.modRev)
		}
		return n
	}
	owners := slices.Sorted(maps.Keys(d.owners))
	slices.SortStableFunc(owners, func(a, b string) int { return cmp.Compare(newest(a), newest(b)) })
	for _, o := range owners {
		m.applyOwner(o)
	}
	for _, k := range slices.Sorted(maps.Keys(d.selections)) {
		m.applySelection(k, d.selections[k])
	}

	now := time.Now()
	m.mu.Lock()
	m.st.Loads++
	m.synced = true
	m.mu.Unlock()
	m.setRevision(rev, now)
	m.opts.logger.Info("etcd mirror: loaded", slog.String("prefix", m.prefix), slog.Int64("revision", rev),
		slog.Int("owners", len(m.owners)), slog.Int("keys", len(m.kvs)), slog.Int("changed_owners", len(owners)))
	select {
	case <-m.ready:
	default:
		close(m.ready)
	}
	return rev, nil
}

// advance records that the registry reflects revision rev, reached at now.
// It never moves the revision backwards; only a load sets it as read.
func (m *Replica) advance(rev int64, now time.Time) {
	if rev <= m.Revision() {
		m.touch(now)
		return
	}
	m.setRevision(rev, now)
	m.opts.logger.Debug("etcd mirror: at revision", slog.String("prefix", m.prefix), slog.Int64("revision", rev))
}

// setRevision sets the revision and the counts, and wakes WaitRevision.
func (m *Replica) setRevision(rev int64, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.LastContact = now
	m.st.Owners, m.st.Candidates, m.st.Invalid = len(m.applied), m.nCands, m.nBad
	if rev != m.st.Revision {
		m.st.Revision = rev
		close(m.advanced)
		m.advanced = make(chan struct{})
	}
}

// touch records that etcd answered.
func (m *Replica) touch(now time.Time) {
	m.mu.Lock()
	m.st.LastContact = now
	m.mu.Unlock()
}

// fail records and logs err.
func (m *Replica) fail(err error) {
	if err == nil {
		return
	}
	m.mu.Lock()
	m.st.LastError, m.st.LastErrorTime = err, time.Now()
	m.mu.Unlock()
	m.logFailure(err)
}

// logFailure logs err, a failure already recorded in the status; nil logs
// nothing.
func (m *Replica) logFailure(err error) {
	if err != nil {
		m.opts.logger.Warn("etcd mirror: "+err.Error(), slog.String("prefix", m.prefix))
	}
}
