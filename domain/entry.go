package domain

import (
	"reflect"
	"slices"
	"time"
	"unsafe"
)

// Entry is a registered candidate as the registry stores it. It is immutable:
// every accessor returns either a value or a fresh copy, so an Entry may be
// shared between goroutines and kept for as long as a caller likes. Entries
// are compared by identity: the registry returns the same *Entry for the same
// registration.
type Entry struct {
	// The fields ranking reads come first, so that comparing two entries
	// touches one cache line of each.
	priority, stackLevel int
	seq                  uint64
	provider, key        string
	domain               string
	owner                string
	// The registration time in UTC as time.Unix takes it: 16 bytes with
	// source, where a time.Time and source take 32.
	atSec     int64
	atNsec    int32
	source    Source
	finished  bool // set by Draft.Finish, after which the entry never changes (in padding: free)
	factory   any
	caps      []string       // sorted, unique; never handed out
	meta      map[string]any // private deep copy; never handed out
	metaBytes int            // metadataBytes(meta)
}

// Domain returns the entry's domain.
func (e *Entry) Domain() string { return e.domain }

// Key returns the entry's key.
func (e *Entry) Key() string { return e.key }

// Provider returns the entry's provider, possibly "".
func (e *Entry) Provider() string { return e.provider }

// Owner returns who registered the entry as part of a set; "" for a plain
// registration.
func (e *Entry) Owner() string { return e.owner }

// Priority returns the effective priority: the candidate's own, or the
// default that applied when it was registered.
func (e *Entry) Priority() int { return e.priority }

// StackLevel returns the candidate's stack level.
func (e *Entry) StackLevel() int { return e.stackLevel }

// Sequence returns the registration's sequence number, unique within its
// registry and increasing in registration order.
func (e *Entry) Sequence() uint64 { return e.seq }

// Source returns where the candidate came from.
func (e *Entry) Source() Source { return e.source }

// RegisteredAt returns the registration time, in UTC.
func (e *Entry) RegisteredAt() time.Time { return time.Unix(e.atSec, int64(e.atNsec)).UTC() }

// Factory returns the candidate's factory, as given.
func (e *Entry) Factory() any { return e.factory }

// Capabilities returns the entry's whole effective capability set, sorted, as
// a fresh slice (nil when it has none).
func (e *Entry) Capabilities() []string { return slices.Clone(e.caps) }

// HasCapability reports whether the entry offers capability c. It allocates
// nothing.
func (e *Entry) HasCapability(c string) bool {
	_, ok := slices.BinarySearch(e.caps, c)
	return ok
}

// Metadata returns a deep copy of the entry's metadata (nil when it has none).
func (e *Entry) Metadata() map[string]any {
	if e.meta == nil {
		return nil
	}
	return cloneValue(e.meta).(map[string]any)
}

// Meta returns the metadata value under key; maps and slices are deep-copied.
func (e *Entry) Meta(key string) (any, bool) {
	v, ok := e.meta[key]
	if !ok {
		return nil, false
	}
	return cloneValue(v), true
}

// MetadataBytes returns the size of the entry's metadata as
// [Limits].MaxMetadataBytes counts it: 8 bytes for every map key and every
// value, nil and empty ones included, plus the length of every string (of
// any string type) and map key; but a slice whose elements refer to nothing
// (numbers, bools, structs, arrays of them) counts 8 and its elements'
// size, so a []byte counts its length. An array counts its
// inline size (at least 8) and what its elements refer to; a struct,
// pointer, func or channel counts its inline size, at least 8, as it is kept
// as given: the count does not follow a pointer, func or channel to what it
// reaches. A map or slice the metadata refers to from several places counts
// once. {"region": "eu"} counts 8+6 + 8+2 = 24. The count saturates at
// [math.MaxInt].
func (e *Entry) MetadataBytes() int { return e.metaBytes }

// SameAs reports whether e and o were registered from equal candidates: the
// same address, provider, owner, effective priority, stack level, source,
// capabilities, factory and metadata. A nil o is never the same.
//
// Factories are compared with == when both values are comparable, and
// deeply otherwise, as metadata is and within the same bound: a struct of
// configuration holding a slice is the same as an equal one, while one
// holding a func in an interface field is the same as no other value (and
// comparing it does not panic). Two func factories are the same only when
// they are one func value: the same top-level function or function literal
// that captures nothing, or copies of one closure. Two closures made by the
// same literal are different, since what they captured may differ, and so
// are two evaluations of a method value or of a generic function
// instantiated inside generic code (the compiler may make a new closure each
// time). Such a factory is
// re-registered by every Apply of the registry, never kept stale.
// Metadata is compared deeply through maps, slices, arrays, interfaces and
// struct fields and pointers (what a pointer points to is the caller's to
// keep unchanged); channels inside it by identity; a func or a NaN never
// compares equal, so such a candidate too is re-registered by
// every Apply. The comparison's work is bounded (about twice what copying
// the metadata may cost, see [MaxMetadataValues]); metadata that costs more
// to compare is not the same. Sequence numbers and registration times are
// not compared.
func (e *Entry) SameAs(o *Entry) bool {
	if o == nil {
		return false
	}
	return e.domain == o.domain && e.key == o.key && e.provider == o.provider && e.owner == o.owner &&
		e.priority == o.priority && e.stackLevel == o.stackLevel && e.source == o.source &&
		slices.Equal(e.caps, o.caps) && sameFactory(e.factory, o.factory) && sameMetadata(e.meta, o.meta)
}

func sameFactory(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb {
		return false
	}
	if ta.Kind() == reflect.Func {
		return funcValue(a) == funcValue(b)
	}
	// Comparable values are compared as == compares them, pointers by
	// identity; others deeply, as reflect.DeepEqual did. A comparable type
	// can still hold, in an interface field, a value that is not (a slice,
	// a func), on which == would panic: that makes the value incomparable.
	// reflect.Value.Comparable and reflect.DeepEqual take a step for every
	// element of an array, so 2^62 of them in an array of no size never end,
	// under the registry's locks in Apply: the comparer asks and compares
	// within its bound.
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	c := comparer{budget: sameBudget}
	c.identity = c.comparableValue(va) && c.comparableValue(vb)
	return c.equal(va, vb)
}

// funcValue returns the func value that f, an interface holding a func,
// holds: the pointer to the function's closure, which an interface keeps as
// its data word because a func is pointer-shaped. Go has no comparison of
// func values; reflect's Value.Pointer gives only the code pointer, which
// closures of one literal share whatever they captured.
func funcValue(f any) unsafe.Pointer {
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&f))[1]
}

// Draft is a validated candidate waiting for its sequence number. It exists so
// that everything that can fail happens before a sequence number is taken.
type Draft struct {
	e Entry
}

// Prepare validates c and copies it into a Draft. Priority nil takes
// defaultPriority; owner is recorded as the entry's owner. Any error matches
// [ErrInvalidCandidate]; c is never modified.
func Prepare(c Candidate, defaultPriority int, owner string) (*Draft, error) {
	if err := CheckAddress(c.Domain, c.Key, c.Provider); err != nil {
		return nil, err
	}
	if !c.Source.Valid() {
		return nil, invalid("unknown source %d", uint8(c.Source))
	}
	meta, err := copyMetadata(c.Metadata)
	if err != nil {
		return nil, err
	}
	prio := defaultPriority
	if c.Priority != nil {
		prio = *c.Priority
	}
	return &Draft{e: Entry{
		domain:     c.Domain,
		key:        c.Key,
		provider:   c.Provider,
		owner:      owner,
		priority:   prio,
		stackLevel: c.StackLevel,
		source:     c.Source,
		factory:    c.Factory,
		caps:       effectiveCapabilities(c.Capabilities, meta),
		meta:       meta,
		metaBytes:  metadataBytes(meta),
	}}, nil
}

// Domain returns the draft's domain.
func (d *Draft) Domain() string { return d.e.domain }

// Entry returns the draft's entry as it will be stored, without sequence
// number or time yet, for comparisons ([Entry.SameAs]) and checks
// ([Entry.MetadataBytes]) before it is finished.
func (d *Draft) Entry() *Entry { return &d.e }

// Key returns the draft's key.
func (d *Draft) Key() string { return d.e.key }

// Finish stamps the draft with its sequence number and registration time
// (converted to UTC) and returns the immutable Entry. The first call returns
// the draft's own entry, so a registration allocates it once; a later call
// returns a new Entry and leaves the one already returned unchanged.
func (d *Draft) Finish(seq uint64, at time.Time) *Entry {
	e := &d.e
	if e.finished {
		e = new(*e)
	}
	e.finished = true
	e.seq = seq
	e.atSec, e.atNsec = at.Unix(), int32(at.Nanosecond())
	return e
}
