package registry_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"

	"github.com/oneiric-go/oneiric/registry"
)

// The linearizability tests record concurrent histories of real registry
// operations and check them with porcupine against a sequential model of the
// registry. Two models: per key, partitioned by (domain, key), for the
// single-key operations; and whole-registry, unpartitioned, which adds
// Snapshot, ListActive and cross-domain RegisterPackage.

// linOp is an operation kind in a history.
type linOp uint8

const (
	linRegister linOp = iota
	linUnregister
	linResolve
	linResolveProvider
	linSelect
	linExplain
	linPackage    // RegisterPackage of one candidate in each of two domains
	linSnapshot   // Snapshot of the domains in input.domains (all when empty)
	linListActive // ListActive(domain)
)

var linOpNames = [...]string{"Register", "Unregister", "Resolve", "ResolveProvider", "Select", "Explain", "Package", "Snapshot", "ListActive"}

type linInput struct {
	op                    linOp
	domain, key, provider string
	prio                  int
	domains               []string // Snapshot's domains; Package's two domains
}

type linOutput struct {
	seq  uint64 // Register: the entry's sequence; Package: the first one
	n    int    // Unregister: how many removed
	text string // reads: a canonical rendering of the result
}

// linCand is a candidate in the model's state.
type linCand struct {
	domain, key, provider string
	prio                  int
	seq                   uint64
}

type linSel struct{ domain, key, provider string }

// linState is the model's state: candidates sorted by sequence, selections
// sorted by (domain, key). Steps never modify a state; they return a new one.
type linState struct {
	cands []linCand
	sels  []linSel
	id    uint64 // XOR of the hashes of cands and sels: equal states have equal ids
}

func (c linCand) hash() uint64 {
	return xxhash.Sum64String(c.domain + "/" + c.key + "/" + c.provider + "/" + strconv.Itoa(c.prio) + "/" + strconv.FormatUint(c.seq, 10))
}

func (x linSel) hash() uint64 {
	return xxhash.Sum64String("sel:" + x.domain + "/" + x.key + "=" + x.provider)
}

// seal recomputes the state's id.
func (s linState) seal() linState {
	s.id = 0
	for _, c := range s.cands {
		s.id ^= c.hash()
	}
	for _, x := range s.sels {
		s.id ^= x.hash()
	}
	return s
}

func (s linState) selection(dom, key string) string {
	for _, x := range s.sels {
		if x.domain == dom && x.key == key {
			return x.provider
		}
	}
	return ""
}

// ranked returns the candidates of (dom, key), best first.
func (s linState) ranked(dom, key string) []linCand {
	var out []linCand
	for _, c := range s.cands {
		if c.domain == dom && c.key == key {
			out = append(out, c)
		}
	}
	s.rank(out, s.selection(dom, key))
	return out
}

// rank sorts the candidates of one key, best first, for selection sel.
func (s linState) rank(cs []linCand, sel string) {
	override := func(c linCand) int {
		if sel != "" && c.provider == sel {
			return 1
		}
		return 0
	}
	slices.SortFunc(cs, func(a, b linCand) int {
		if d := override(b) - override(a); d != 0 {
			return d
		}
		if d := b.prio - a.prio; d != 0 {
			return d
		}
		return cmpU(b.seq, a.seq)
	})
}

func seqText(cs []linCand) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = strconv.FormatUint(c.seq, 10)
	}
	return strings.Join(parts, ",")
}

func (s linState) keysOf(dom string) []string {
	var keys []string
	for _, c := range s.cands {
		if c.domain == dom && !slices.Contains(keys, c.key) {
			keys = append(keys, c.key)
		}
	}
	slices.Sort(keys)
	return keys
}

// snapshotText renders the ranked candidates of every key of the domains,
// in one pass over the state.
func (s linState) snapshotText(domains []string) string {
	type addr struct{ domain, key string }
	groups := map[addr][]linCand{}
	var addrs []addr
	for _, c := range s.cands {
		if len(domains) > 0 && !slices.Contains(domains, c.domain) {
			continue
		}
		a := addr{c.domain, c.key}
		if _, ok := groups[a]; !ok {
			addrs = append(addrs, a)
		}
		groups[a] = append(groups[a], c)
	}
	slices.SortFunc(addrs, func(x, y addr) int {
		if c := strings.Compare(x.domain, y.domain); c != 0 {
			return c
		}
		return strings.Compare(x.key, y.key)
	})
	var b strings.Builder
	for _, a := range addrs {
		cs := groups[a]
		s.rank(cs, s.selection(a.domain, a.key))
		b.WriteString(a.domain)
		b.WriteByte('/')
		b.WriteString(a.key)
		b.WriteByte('=')
		b.WriteString(seqText(cs))
		b.WriteByte(';')
	}
	return b.String()
}

func (s linState) activeText(dom string) string {
	var b strings.Builder
	for _, k := range s.keysOf(dom) {
		fmt.Fprintf(&b, "%s=%d;", k, s.ranked(dom, k)[0].seq)
	}
	return b.String()
}

func (s linState) equal(o linState) bool {
	return s.id == o.id && slices.Equal(s.cands, o.cands) && slices.Equal(s.sels, o.sels)
}

func (s linState) with(c linCand) linState {
	next := linState{cands: make([]linCand, 0, len(s.cands)+1), sels: s.sels, id: s.id ^ c.hash()}
	i, _ := slices.BinarySearchFunc(s.cands, c.seq, func(x linCand, seq uint64) int {
		return cmpU(x.seq, seq)
	})
	next.cands = append(append(append(next.cands, s.cands[:i]...), c), s.cands[i:]...)
	return next
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s linState) hasSeq(seq uint64) bool {
	_, ok := slices.BinarySearchFunc(s.cands, seq, func(x linCand, seq uint64) int { return cmpU(x.seq, seq) })
	return ok
}

// linModel returns the sequential specification. perKey partitions histories
// by (domain, key) and requires the sequences of one key to grow in
// linearization order (they are taken under the key's shard lock);
// across keys only uniqueness holds.
func linModel(perKey bool) porcupine.Model {
	// Rendering a whole state is the model's costliest step, and the checker
	// asks for the same state many times while it searches: memoise it.
	var (
		memoMu sync.Mutex
		memo   = map[string]string{}
	)
	render := func(s linState, kind linOp, arg []string) string {
		k := fmt.Sprint(s.id, len(s.cands), kind, arg)
		memoMu.Lock()
		text, ok := memo[k]
		memoMu.Unlock()
		if ok {
			return text
		}
		if kind == linSnapshot {
			text = s.snapshotText(arg)
		} else {
			text = s.activeText(arg[0])
		}
		memoMu.Lock()
		memo[k] = text
		memoMu.Unlock()
		return text
	}
	m := porcupine.Model{
		Init: func() any { return linState{} },
		Step: func(st, in, out any) (bool, any) {
			s, i, o := st.(linState), in.(linInput), out.(linOutput)
			switch i.op {
			case linRegister:
				if s.hasSeq(o.seq) {
					return false, s
				}
				if perKey && len(s.cands) > 0 && o.seq < s.cands[len(s.cands)-1].seq {
					return false, s // one key's sequences grow in linearization order
				}
				return true, s.with(linCand{i.domain, i.key, i.provider, i.prio, o.seq})
			case linPackage:
				if s.hasSeq(o.seq) || s.hasSeq(o.seq+1) {
					return false, s
				}
				next := s.with(linCand{i.domains[0], i.key, i.provider, i.prio, o.seq})
				return true, next.with(linCand{i.domains[1], i.key, i.provider, i.prio, o.seq + 1})
			case linUnregister:
				next := linState{sels: s.sels}
				n := 0
				for _, c := range s.cands {
					if c.domain == i.domain && c.key == i.key && c.provider == i.provider {
						n++
					} else {
						next.cands = append(next.cands, c)
					}
				}
				return n == o.n, next.seal()
			case linSelect:
				next := linState{cands: s.cands}
				for _, x := range s.sels {
					if x.domain != i.domain || x.key != i.key {
						next.sels = append(next.sels, x)
					}
				}
				if i.provider != "" {
					next.sels = append(next.sels, linSel{i.domain, i.key, i.provider})
					slices.SortFunc(next.sels, func(a, b linSel) int {
						return strings.Compare(a.domain+"\x00"+a.key, b.domain+"\x00"+b.key)
					})
				}
				return true, next.seal()
			case linResolve:
				r := s.ranked(i.domain, i.key)
				if len(r) == 0 {
					return o.text == "-", s
				}
				return o.text == strconv.FormatUint(r[0].seq, 10), s
			case linResolveProvider:
				for _, c := range s.ranked(i.domain, i.key) {
					if c.provider == i.provider {
						return o.text == strconv.FormatUint(c.seq, 10), s
					}
				}
				return o.text == "-", s
			case linExplain:
				return o.text == seqText(s.ranked(i.domain, i.key)), s
			case linSnapshot:
				return o.text == render(s, linSnapshot, i.domains), s
			case linListActive:
				return o.text == render(s, linListActive, []string{i.domain}), s
			}
			return false, s
		},
		Equal: func(a, b any) bool { return a.(linState).equal(b.(linState)) },
		Hash:  func(st any) uint64 { return st.(linState).id },
		DescribeOperation: func(in, out any) string {
			i, o := in.(linInput), out.(linOutput)
			return fmt.Sprintf("%s(%s/%s %s p=%d %v) -> seq=%d n=%d %q", linOpNames[i.op], i.domain, i.key, i.provider, i.prio, i.domains, o.seq, o.n, o.text)
		},
		DescribeState: func(st any) string { return st.(linState).snapshotText(nil) },
	}
	if perKey {
		m.Partition = func(h []porcupine.Operation) [][]porcupine.Operation {
			byKey := map[string][]porcupine.Operation{}
			var order []string
			for _, op := range h {
				i := op.Input.(linInput)
				k := i.domain + "\x00" + i.key
				if _, ok := byKey[k]; !ok {
					order = append(order, k)
				}
				byKey[k] = append(byKey[k], op)
			}
			out := make([][]porcupine.Operation, 0, len(order))
			for _, k := range order {
				out = append(out, byKey[k])
			}
			return out
		}
	}
	return m
}

// apply runs one operation on the registry and renders its result.
func apply(r *registry.Registry, i linInput) linOutput {
	resolved := func(e *registry.Entry, ok bool) linOutput {
		if !ok {
			return linOutput{text: "-"}
		}
		return linOutput{text: strconv.FormatUint(e.Sequence(), 10)}
	}
	switch i.op {
	case linRegister:
		e, err := r.Register(registry.Candidate{Domain: i.domain, Key: i.key, Provider: i.provider, Priority: &i.prio})
		if err != nil {
			panic(err)
		}
		return linOutput{seq: e.Sequence()}
	case linPackage:
		es, err := r.RegisterPackage("pkg", "", []registry.Candidate{
			{Domain: i.domains[0], Key: i.key, Provider: i.provider, Priority: &i.prio},
			{Domain: i.domains[1], Key: i.key, Provider: i.provider, Priority: &i.prio},
		}, nil)
		if err != nil {
			panic(err)
		}
		return linOutput{seq: es[0].Sequence()}
	case linUnregister:
		return linOutput{n: r.Unregister(i.domain, i.key, i.provider)}
	case linSelect:
		if err := r.Select(i.domain, i.key, i.provider); err != nil {
			panic(err)
		}
		return linOutput{}
	case linResolve:
		return resolved(r.Resolve(i.domain, i.key))
	case linResolveProvider:
		return resolved(r.Resolve(i.domain, i.key, registry.Provider(i.provider)))
	case linExplain:
		var seqs []string
		for _, rk := range r.Explain(i.domain, i.key).Ordered {
			seqs = append(seqs, strconv.FormatUint(rk.Entry.Sequence(), 10))
		}
		return linOutput{text: strings.Join(seqs, ",")}
	case linSnapshot:
		s := r.Snapshot(i.domains...)
		var b strings.Builder
		for _, d := range s.Domains() {
			states := map[string][]string{}
			var keys []string
			for _, e := range append(s.ListActive(d), s.ListShadowed(d)...) {
				if _, ok := states[e.Key()]; !ok {
					keys = append(keys, e.Key())
				}
				states[e.Key()] = append(states[e.Key()], strconv.FormatUint(e.Sequence(), 10))
			}
			slices.Sort(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "%s/%s=%s;", d, k, strings.Join(states[k], ","))
			}
		}
		return linOutput{text: b.String()}
	case linListActive:
		var b strings.Builder
		for _, e := range r.ListActive(i.domain) {
			fmt.Fprintf(&b, "%s=%d;", e.Key(), e.Sequence())
		}
		return linOutput{text: b.String()}
	}
	panic("unknown op")
}

// linWorkload says what a history is made of.
type linWorkload struct {
	clients, ops int
	domains      []string
	keys         []string
	providers    []string
	crossDomain  bool // add Package, Snapshot and ListActive
}

func (w linWorkload) input(rng *rand.Rand) linInput {
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	i := linInput{domain: pick(w.domains), key: pick(w.keys), provider: pick(w.providers), prio: rng.IntN(3)}
	n := rng.IntN(100)
	if w.crossDomain {
		switch {
		case n < 5:
			i.op = linSnapshot // all domains
		case n < 10:
			i.op = linSnapshot
			a, b := rng.Perm(len(w.domains))[0], rng.Perm(len(w.domains))[1]
			i.domains = []string{w.domains[a], w.domains[b]}
			if a == b {
				i.domains = i.domains[:1]
			}
		case n < 15:
			i.op, i.domain = linListActive, pick(w.domains)
		case n < 25:
			i.op = linPackage
			p := rng.Perm(len(w.domains))
			i.domains = []string{w.domains[p[0]], w.domains[p[1]]}
		default:
			n = 100 * (n - 25) / 75
		}
		if i.op != 0 {
			return i
		}
	}
	switch {
	case n < 30:
		i.op = linRegister
	case n < 45:
		i.op = linUnregister
	case n < 50:
		i.op = linSelect
		if rng.IntN(3) == 0 {
			i.provider = ""
		}
	case n < 70:
		i.op = linResolve
	case n < 80:
		i.op = linResolveProvider
	default:
		i.op = linExplain
	}
	return i
}

// record runs one history against r: clients goroutines start together at
// a barrier and yield between call and return, so operations overlap. It
// returns the history and the mean number of operations in flight.
func record(r *registry.Registry, w linWorkload, seed uint64) ([]porcupine.Operation, float64) {
	var (
		clock atomic.Int64
		start = make(chan struct{})
		wg    sync.WaitGroup
		ops   = make([][]porcupine.Operation, w.clients)
	)
	for c := range w.clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(c)))
			<-start
			for range w.ops / w.clients {
				in := w.input(rng)
				call := clock.Add(1)
				runtimeYield()
				out := apply(r, in)
				runtimeYield()
				ret := clock.Add(1)
				ops[c] = append(ops[c], porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
			}
		})
	}
	close(start)
	wg.Wait()
	var h []porcupine.Operation
	var busy int64
	for _, o := range ops {
		for _, op := range o {
			busy += op.Return - op.Call
		}
		h = append(h, o...)
	}
	return h, float64(busy) / float64(clock.Load())
}

// linConfigs are the registry configurations every check runs on.
func linConfigs() map[string][]registry.Option {
	return map[string][]registry.Option{
		"default":    nil,
		"one-shard":  {registry.WithShards(1)},
		"degenerate": {registry.WithHash(func(string) uint64 { return 7 })},
	}
}

var (
	linDomains   = []string{"adapter", "service", "tenant-a", "tenant-b"}
	linKeys      = []string{"cache", "queue"}
	linProviders = []string{"redis", "memcached", "nats"}
)

// requireSpread fails unless the domains land on at least two shards of a
// default registry.
func requireSpread(t *testing.T, domains []string) {
	r := registry.New()
	shards := map[int]bool{}
	for _, d := range domains {
		shards[registry.ShardOf(r, d)] = true
	}
	require.GreaterOrEqual(t, len(shards), 2, "test domains must span shards")
}

// checkHistory returns porcupine's verdict and, when it is not Ok, writes
// the visualisation to a temporary file whose path it returns.
func checkHistory(t *testing.T, m porcupine.Model, h []porcupine.Operation) (porcupine.CheckResult, string) {
	res, info := porcupine.CheckOperationsVerbose(m, h, time.Minute)
	if res == porcupine.Ok {
		return res, ""
	}
	f, err := os.CreateTemp("", "oneiric-linearizability-*.html")
	require.NoError(t, err)
	require.NoError(t, porcupine.Visualize(m, info, f))
	require.NoError(t, f.Close())
	return res, f.Name()
}

// runLinearizability records and checks histories under each configuration.
func runLinearizability(t *testing.T, w linWorkload, histories int, perKey bool) {
	requireSpread(t, w.domains)
	for name, opts := range linConfigs() {
		t.Run(name, func(t *testing.T) {
			var inFlight float64
			for h := range histories {
				r := registry.New(opts...)
				hist, mean := record(r, w, uint64(h))
				inFlight += mean
				if res, path := checkHistory(t, linModel(perKey), hist); res != porcupine.Ok {
					t.Fatalf("history %d is not linearizable (%s); visualisation: %s", h, res, path)
				}
			}
			mean := inFlight / float64(histories)
			t.Logf("%d histories × %d operations from %d goroutines: linearizable; mean operations in flight %.2f", histories, w.ops, w.clients, mean)
			require.GreaterOrEqual(t, mean, 3.0, "histories must really overlap")
		})
	}
}

func TestLinearizablePerKey(t *testing.T) {
	w := linWorkload{clients: 8, ops: 2000, domains: linDomains, keys: linKeys, providers: linProviders}
	runLinearizability(t, w, linHistories(), true)
}

func TestLinearizableCrossDomain(t *testing.T) {
	w := linWorkload{clients: 8, ops: 1000, domains: linDomains, keys: linKeys, providers: linProviders, crossDomain: true}
	runLinearizability(t, w, linHistories(), false)
}

// linHistories is the number of histories a check records: 200, or 10 under
// the race detector (make test runs the checks both ways), or the value of
// ONEIRIC_LIN_HISTORIES.
func linHistories() int {
	if n, err := strconv.Atoi(os.Getenv("ONEIRIC_LIN_HISTORIES")); err == nil && n > 0 {
		return n
	}
	if raceEnabled {
		return 10
	}
	return 200
}
