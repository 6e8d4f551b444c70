package stress

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidWorkload is matched (with [errors.Is]) by the error [Run] and
// [ParseMix] return for a workload they cannot run.
var ErrInvalidWorkload = errors.New("invalid workload")

// Kind is a kind of operation the harness performs. The zero value is
// [KindRegister].
type Kind uint8

// The kinds of operation, in the order reports list them.
const (
	KindRegister        Kind = iota // Register one candidate of the goroutine's own provider
	KindResolve                     // Resolve a key, mostly without options (the lock-free path)
	KindExplain                     // Explain a key, sometimes with options; the ranking is checked
	KindListActive                  // ListActive of a domain; its order is checked
	KindUnregister                  // Unregister one of the goroutine's own providers from a key
	KindSelect                      // Select a provider for a key, or clear the selection
	KindSnapshot                    // Snapshot two domains or all; causality and winners are checked
	KindRegisterPackage             // RegisterPackage of three candidates across domains
	// KindMarker is the causality marker step, not part of a [Mix]: every
	// [Workload].MarkerEvery-th operation of each goroutine registers a marker
	// in its domain A, then in its domain B, then removes its previous marker
	// from B, then from A (four registry calls, timed as one operation).
	KindMarker
	numKinds
)

var kindNames = [numKinds]string{
	"register", "resolve", "explain", "list-active", "unregister", "select", "snapshot",
	"register-package", "marker",
}

// Kinds returns every kind, in report order.
func Kinds() []Kind {
	ks := make([]Kind, numKinds)
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

// String returns the kind's name as [ParseMix] and the JSON form use it, such
// as "list-active".
func (k Kind) String() string {
	if k >= numKinds {
		return fmt.Sprintf("Kind(%d)", uint8(k))
	}
	return kindNames[k]
}

// MarshalText implements [encoding.TextMarshaler] with [Kind.String].
func (k Kind) MarshalText() ([]byte, error) {
	if k >= numKinds {
		return nil, fmt.Errorf("unknown kind %d", uint8(k))
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler]; it accepts what
// [Kind.String] returns.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// ParseKind returns the kind named s ("register", "list-active", …).
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown operation kind %q (want one of %s)", ErrInvalidWorkload, s,
		strings.Join(kindNames[:KindMarker], ", "))
}

// Mix gives the relative weight of each kind of operation: a goroutine picks
// each operation at random with probability weight/total. Weights are
// non-negative; a kind with weight 0 never runs. The zero Mix means
// [DefaultMix].
type Mix struct {
	Register        int `json:"register"`
	Resolve         int `json:"resolve"`
	Explain         int `json:"explain"`
	ListActive      int `json:"list-active"`
	Unregister      int `json:"unregister"`
	Select          int `json:"select"`
	Snapshot        int `json:"snapshot"`
	RegisterPackage int `json:"register-package"`
}

// DefaultMix is read-heavy, as registries are: 64 % Resolve, 10 % Register,
// 8 % Explain, 6 % ListActive, 5 % Unregister, 3 % Select, 2 % Snapshot and 2 %
// RegisterPackage. Unregister runs at half the rate of Register so that keys
// keep a few candidates each instead of growing without bound.
func DefaultMix() Mix {
	return Mix{Register: 10, Resolve: 64, Explain: 8, ListActive: 6, Unregister: 5, Select: 3, Snapshot: 2, RegisterPackage: 2}
}

func (m *Mix) field(k Kind) *int {
	switch k {
	case KindRegister:
		return &m.Register
	case KindResolve:
		return &m.Resolve
	case KindExplain:
		return &m.Explain
	case KindListActive:
		return &m.ListActive
	case KindUnregister:
		return &m.Unregister
	case KindSelect:
		return &m.Select
	case KindSnapshot:
		return &m.Snapshot
	case KindRegisterPackage:
		return &m.RegisterPackage
	}
	return nil
}

// Weight returns the weight of kind k; 0 for [KindMarker], which is not part
// of a mix.
func (m Mix) Weight(k Kind) int {
	if p := m.field(k); p != nil {
		return *p
	}
	return 0
}

// Total returns the sum of the weights.
func (m Mix) Total() int {
	t := 0
	for k := range KindMarker {
		t += m.Weight(k)
	}
	return t
}

// String returns the mix in the form [ParseMix] reads, kinds of weight 0
// left out: "register=10,resolve=64,…".
func (m Mix) String() string {
	var parts []string
	for k := range KindMarker {
		if w := m.Weight(k); w != 0 {
			parts = append(parts, k.String()+"="+strconv.Itoa(w))
		}
	}
	return strings.Join(parts, ",")
}

// ParseMix reads a mix of the form "register=10,resolve=70,…": kinds named
// as [Kind.String] gives them, weights non-negative integers. Kinds not named
// get weight 0; spaces around names and weights are ignored; a kind named
// twice is an error, as is a mix whose weights are all 0. Errors match
// [ErrInvalidWorkload].
func ParseMix(s string) (Mix, error) {
	var m Mix
	seen := map[Kind]bool{}
	for tok := range strings.SplitSeq(s, ",") {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			continue
		}
		name, val, ok := strings.Cut(tok, "=")
		if !ok {
			return Mix{}, fmt.Errorf("%w: mix entry %q is not kind=weight", ErrInvalidWorkload, tok)
		}
		k, err := ParseKind(strings.TrimSpace(name))
		if err != nil || k == KindMarker {
			return Mix{}, fmt.Errorf("%w: unknown operation kind %q in mix (want one of %s)", ErrInvalidWorkload,
				strings.TrimSpace(name), strings.Join(kindNames[:KindMarker], ", "))
		}
		if seen[k] {
			return Mix{}, fmt.Errorf("%w: kind %q given twice in mix", ErrInvalidWorkload, k)
		}
		seen[k] = true
		w, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || w < 0 {
			return Mix{}, fmt.Errorf("%w: weight %q of %q is not a non-negative integer", ErrInvalidWorkload, val, k)
		}
		*m.field(k) = w
	}
	if m.Total() == 0 {
		return Mix{}, fmt.Errorf("%w: mix %q has no positive weight", ErrInvalidWorkload, s)
	}
	return m, nil
}

// Workload describes what [Run] does. It is a plain value; copy and change it
// freely. Zero fields take the value [DefaultWorkload] gives them, except
// HotFraction and Seed, whose zero is meaningful. Run stops when Duration has
// passed (if Duration > 0), when Ops operations have run (if Ops > 0), or when
// its context is done, whichever comes first; with neither Duration nor Ops
// set, the default Duration applies.
type Workload struct {
	// Goroutines is the number of workers, each running operations in a loop.
	Goroutines int `json:"goroutines"`
	// Duration bounds the run's wall-clock time.
	Duration time.Duration `json:"duration_ns"`
	// Ops bounds the total number of operations over all goroutines.
	Ops int64 `json:"ops"`
	// Mix gives the relative frequency of each kind of operation.
	Mix Mix `json:"mix"`
	// Domains is the number of domains the workload spreads over.
	Domains int `json:"domains"`
	// Keys is the number of keys in each domain.
	Keys int `json:"keys"`
	// Providers is the number of providers of each goroutine: a goroutine
	// registers and unregisters only its own providers, so a key may hold up
	// to Goroutines × Providers providers.
	Providers int `json:"providers"`
	// HotFraction is the fraction of operations, in [0, 1], that go to one hot
	// domain; the rest spread evenly over the others.
	HotFraction float64 `json:"hot_fraction"`
	// MarkerEvery makes every MarkerEvery-th operation of each goroutine a
	// causality marker step ([KindMarker]). Negative disables markers (and
	// the snapshot causality invariant is then skipped).
	MarkerEvery int `json:"marker_every"`
	// Seed seeds each goroutine's random choices (goroutine i uses Seed and
	// i). It fixes which operations each goroutine runs, not how they
	// interleave.
	Seed uint64 `json:"seed"`
}

// DefaultWorkload returns the workload `oneiric stress` runs without flags:
// 8 goroutines for 10 s, [DefaultMix], 16 domains of 32 keys, 3 providers per
// goroutine, 20 % of operations on one hot domain, a marker step every 32
// operations, seed 1.
func DefaultWorkload() Workload {
	return Workload{
		Goroutines:  8,
		Duration:    10 * time.Second,
		Mix:         DefaultMix(),
		Domains:     16,
		Keys:        32,
		Providers:   3,
		HotFraction: 0.2,
		MarkerEvery: 32,
		Seed:        1,
	}
}

// Limits that keep a mistyped flag from exhausting memory: the harness keeps
// per-goroutine state for every (domain, key, provider) it may register.
const (
	maxGoroutines = 1 << 12
	maxDomains    = 1 << 16
	maxKeys       = 1 << 16
	maxProviders  = 1 << 10
)

// normalize fills zero fields with defaults and validates the rest.
func (w Workload) normalize() (Workload, error) {
	d := DefaultWorkload()
	if w.Goroutines == 0 {
		w.Goroutines = d.Goroutines
	}
	if w.Duration == 0 && w.Ops == 0 {
		w.Duration = d.Duration
	}
	if w.Mix == (Mix{}) {
		w.Mix = d.Mix
	}
	if w.Domains == 0 {
		w.Domains = d.Domains
	}
	if w.Keys == 0 {
		w.Keys = d.Keys
	}
	if w.Providers == 0 {
		w.Providers = d.Providers
	}
	if w.MarkerEvery == 0 {
		w.MarkerEvery = d.MarkerEvery
	}
	var errs []string
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
	}
	check(w.Goroutines > 0 && w.Goroutines <= maxGoroutines, "goroutines %d not in [1, %d]", w.Goroutines, maxGoroutines)
	check(w.Duration >= 0, "negative duration %v", w.Duration)
	check(w.Ops >= 0, "negative operation count %d", w.Ops)
	check(w.Domains > 0 && w.Domains <= maxDomains, "domains %d not in [1, %d]", w.Domains, maxDomains)
	check(w.Keys > 0 && w.Keys <= maxKeys, "keys %d not in [1, %d]", w.Keys, maxKeys)
	check(w.Providers > 0 && w.Providers <= maxProviders, "providers %d not in [1, %d]", w.Providers, maxProviders)
	check(w.HotFraction >= 0 && w.HotFraction <= 1, "hot fraction %v not in [0, 1]", w.HotFraction)
	for k := range KindMarker {
		check(w.Mix.Weight(k) >= 0, "negative weight %d for %s", w.Mix.Weight(k), k)
	}
	check(w.Mix.Total() > 0, "mix has no positive weight")
	if len(errs) > 0 {
		return w, fmt.Errorf("%w: %s", ErrInvalidWorkload, strings.Join(errs, "; "))
	}
	return w, nil
}
