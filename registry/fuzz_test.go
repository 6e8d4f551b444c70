package registry_test

import (
	"fmt"
	"testing"

	"github.com/oneiric-go/oneiric/internal/model"
	"github.com/oneiric-go/oneiric/registry"
)

// The operations FuzzRegistry decodes, one op byte (taken modulo fuzzOps)
// followed by its arguments, one byte each (see decodeOp).
const (
	opRegister        = iota // domain, key, provider, attributes, capabilities
	opRegisterPackage        // package and path, count, then count × the five bytes of opRegister
	opUnregister             // domain, key, provider
	opSelect                 // domain, key, provider ("" clears)
	opResolve                // domain, key, options
	opExplain                // domain, key, options
	opListActive             // domain
	opListShadowed           // domain
	opSnapshot               // a mask of testDomains; 0 means all
	opDomains                //
	opCheck                  // compares everything and checks the invariants
	fuzzOps
)

// maxFuzzOps bounds the work of one input.
const maxFuzzOps = 256

// fuzzShards are the shard counts the header byte picks from; 0 is the
// default.
var fuzzShards = []int{1, 2, 4, 0}

// fuzzSelections are the initial selections the header byte picks from, some
// with entries the registry must skip.
var fuzzSelections = []map[string]map[string]string{
	nil,
	{"adapter": {"cache": "redis"}},
	{"service": {"queue": "memcached"}, "adapter": {"db": ""}},
	{"svc\x00": {"cache": "redis"}, "task": {"cache": "\xff"}},
	{"tenant-α": {"cache": "local", "queue": "redis"}},
	{"": {"cache": "redis"}, "adapter": {"": "redis"}},
	{"adapter": {"cache": "memcached"}, "service": {"cache": ""}},
	{"task": {"db": "redis", "cache": "memcached"}},
}

// fuzzFactory is the factory of candidates whose capability byte has its top
// bit set; the registry must hand back the same pointer.
var fuzzFactory = new(int)

// fuzzInput hands out the bytes of a fuzz input; past the end it gives zeros.
type fuzzInput struct{ b []byte }

func (in *fuzzInput) next() byte {
	if len(in.b) == 0 {
		return 0
	}
	c := in.b[0]
	in.b = in.b[1:]
	return c
}

func (in *fuzzInput) domain() string   { return testDomains[in.next()%8] }
func (in *fuzzInput) key() string      { return testKeys[in.next()%8] }
func (in *fuzzInput) provider() string { return testProviders[in.next()%8] }

// caps returns the capabilities of testCaps whose bits are set in mask.
func fuzzCaps(mask byte) []string {
	var out []string
	for i, c := range testCaps {
		if mask&(1<<i) != 0 {
			out = append(out, c)
		}
	}
	return out
}

// prio decodes three bits: 0 is nil, 1..7 are -3..3.
func fuzzPrio(bits byte) *int {
	if bits&7 == 0 {
		return nil
	}
	return new(int(bits&7) - 4)
}

// cand decodes five bytes: domain, key, provider; attributes (bits 0-2
// priority, 3-4 stack level -1..2, 5-7 the metadata variant); capabilities
// (bits 0-5 a mask of testCaps, bit 6 an unknown Source, bit 7 a factory).
func (in *fuzzInput) cand() cand {
	d, k, p := in.domain(), in.key(), in.provider()
	x, c := in.next(), in.next()
	out := newCand(d, k, p, fuzzPrio(x), int(x>>3&3)-1, fuzzCaps(c&0x3f), int(x>>5), c&0x40 != 0)
	if c&0x80 != 0 {
		out.c.Factory = fuzzFactory
	}
	return out
}

// opts decodes a count byte (0-3 options), then one byte per option: bits
// 0-1 the kind, bits 2-4 the provider (for Provider), bits 2-7 a mask of
// testCaps (for Require and RequireAny).
func (in *fuzzInput) opts() []opt {
	n := int(in.next() % 4)
	out := make([]opt, n)
	for i := range out {
		b := in.next()
		out[i] = opt{kind: optKind(b & 3), provider: testProviders[b>>2&7], caps: fuzzCaps(b >> 2)}
	}
	return out
}

// FuzzRegistry decodes its input into a registry configuration and a
// sequence of operations, applies them to a Registry and to the reference
// model, and compares every result; at the end it compares everything,
// including a Snapshot of all domains, and checks that earlier snapshots did
// not change. The first byte is the configuration: bits 0-1 the shard count
// (fuzzShards), bit 2 a degenerate hash, bits 3-4 the default priority
// (-1..2), bits 5-7 the initial selections (fuzzSelections). Then come
// operations (see the op constants), at most maxFuzzOps of them.
func FuzzRegistry(f *testing.F) {
	f.Add([]byte{0x00, opRegister, 0, 0, 0, 0x0c, 0x03, opRegister, 0, 0, 1, 0x0f, 0x01,
		opResolve, 0, 0, 0, opExplain, 0, 0, 1, 0x05, opSnapshot, 0, opCheck})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzInput{b: data}
		h0 := in.next()
		cfg := harnessConfig{
			shards:     fuzzShards[h0&3],
			defPrio:    int(h0>>3&3) - 1,
			selections: fuzzSelections[h0>>5],
		}
		if h0&4 != 0 {
			cfg.hash = func(string) uint64 { return 1 << 62 }
		}
		h := newHarness(cfg)
		var snaps []fuzzSnap
		for i := 0; len(in.b) > 0 && i < maxFuzzOps; i++ {
			if err := applyOp(h, in, &snaps); err != nil {
				t.Fatalf("config %v, operation %d: %v", cfg, i, err)
			}
		}
		if err := h.check(true); err != nil {
			t.Fatalf("config %v, at the end: %v", cfg, err)
		}
		for i, s := range snaps {
			if err := diffSnapshot(s.got, s.want, true); err != nil {
				t.Fatalf("config %v: snapshot %d of %q changed: %v", cfg, i, s.domains, err)
			}
		}
	})
}

type fuzzSnap struct {
	domains []string
	got     *registry.Snapshot
	want    map[model.Addr][]*registry.Entry
}

// applyOp decodes one operation and applies it to h.
func applyOp(h *harness, in *fuzzInput, snaps *[]fuzzSnap) error {
	switch op := in.next() % fuzzOps; op {
	case opRegister:
		return h.register(in.cand())
	case opRegisterPackage:
		a := in.next()
		pkg, path, prio := testPackages[a&3], testPaths[a>>2&3], fuzzPrio(a>>4)
		cs := make([]cand, in.next()%5)
		for i := range cs {
			cs[i] = in.cand()
		}
		return h.registerPackage(pkg, path, cs, prio)
	case opUnregister:
		return h.unregister(in.domain(), in.key(), in.provider())
	case opSelect:
		return h.selectProvider(in.domain(), in.key(), in.provider())
	case opResolve:
		d, k := in.domain(), in.key()
		return h.resolve(d, k, in.opts())
	case opExplain:
		d, k := in.domain(), in.key()
		return h.explain(d, k, in.opts())
	case opListActive:
		return h.listActive(in.domain())
	case opListShadowed:
		return h.listShadowed(in.domain())
	case opSnapshot:
		mask := in.next()
		var ds []string
		for i, d := range testDomains {
			if mask&(1<<i) != 0 {
				ds = append(ds, d)
			}
		}
		got, want, err := h.snapshot(ds)
		if err == nil {
			*snaps = append(*snaps, fuzzSnap{ds, got, want})
		}
		return err
	case opDomains:
		return h.domains()
	case opCheck:
		return h.check(false)
	default:
		return fmt.Errorf("unknown op %d", op)
	}
}
