package etcd

import (
	"context"
	"log/slog"
	"time"
)

// Option configures [Mirror].
type Option func(*options)

type options struct {
	logger           *slog.Logger
	ownerPrefix      string
	pageSize         int64
	minBackoff       time.Duration
	maxBackoff       time.Duration
	requestTimeout   time.Duration
	progressInterval time.Duration
	staleAfter       time.Duration

	// beforeWatch, when set (tests only, see export_test.go), runs after
	// each load and before the watch starts, with the loaded revision; the
	// watch waits until it returns.
	beforeWatch func(ctx context.Context, rev int64)
}

// Defaults of the options.
const (
	// defaultPageSize is how many keys one Get of a load reads: big enough
	// that a prefix of a few thousand candidates loads in a few round trips,
	// small enough that a page stays far below etcd's 2 MiB default limit on
	// a response's size even with kilobytes of metadata per candidate.
	defaultPageSize = 500
	// Pauses between loads after a failure: from 100 ms, doubling, up to
	// 10 s, each randomised by ±50 % so that a fleet of hosts does not
	// reload in step after an outage.
	defaultMinBackoff = 100 * time.Millisecond
	defaultMaxBackoff = 10 * time.Second
	// defaultRequestTimeout bounds each Get of a load. clientv3 retries a
	// Get on an unavailable endpoint by itself until its context ends; this
	// is that end, after which the mirror backs off and loads again.
	defaultRequestTimeout = 5 * time.Second
	// defaultProgressInterval is how often the mirror asks etcd for a
	// progress notification on its watch: each answer proves the watch is
	// alive and moves the mirror's revision to etcd's current one.
	defaultProgressInterval = 2 * time.Second
)

// WithLogger sets the logger of skipped values, failures and loads; the
// default is [slog.Default]. Skipped values and failures log at Warn, loads at
// Info, applied revisions at Debug.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithOwnerPrefix makes the mirror apply the set of etcd owner O as the
// registry owner p+O ([registry.Registry.Apply]), so that owners mirrored
// from etcd cannot collide with owners the host loads itself (say "etcd:").
// The default is "": registry owners are etcd owners. A name is at most 256
// bytes, so with p the registry refuses the set of an etcd owner longer than
// 256 bytes less p's length; the mirror counts it in [Status].Rejected and
// reports it in LastError.
func WithOwnerPrefix(p string) Option { return func(o *options) { o.ownerPrefix = p } }

// WithPageSize sets how many keys each Get of a load reads (default 500).
func WithPageSize(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.pageSize = int64(n)
		}
	}
}

// WithBackoff sets the pauses between loads after a failure: from lo,
// doubling, up to hi, randomised by ±50 % (default 100 ms to 10 s).
func WithBackoff(lo, hi time.Duration) Option {
	return func(o *options) {
		if lo > 0 && hi >= lo {
			o.minBackoff, o.maxBackoff = lo, hi
		}
	}
}

// WithRequestTimeout bounds each Get of a load (default 5 s).
func WithRequestTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.requestTimeout = d
		}
	}
}

// WithProgressInterval sets how often the mirror asks etcd for a progress
// notification on its watch (default 2 s). The mirror reports itself
// unhealthy ([Status].Healthy) when it has heard nothing from etcd for three
// intervals.
func WithProgressInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.progressInterval = d
		}
	}
}

func newOptions(opts []Option) options {
	o := options{
		pageSize:         defaultPageSize,
		minBackoff:       defaultMinBackoff,
		maxBackoff:       defaultMaxBackoff,
		requestTimeout:   defaultRequestTimeout,
		progressInterval: defaultProgressInterval,
	}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	o.staleAfter = 3 * o.progressInterval
	return o
}
