package etcd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/manifest"
	"github.com/oneiric-go/oneiric/registry"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Publish makes owner's set of candidates under prefix equal to cs, in one
// etcd transaction: it puts the candidates that are new or changed and
// deletes the owner's keys that cs no longer has, so every mirror sees the
// whole change at one revision and applies it with one
// [registry.Registry.Apply]. Candidates whose value did not change are not
// written again, and publishing the same set twice writes nothing. Publish
// with no candidates removes the owner.
//
// It returns the revision at which etcd holds the set: that of its
// transaction, or the revision it read when there was nothing to write. A
// mirror that has reached that revision ([Replica.WaitRevision]) shows the
// set.
//
// One key per (owner, domain, key, provider) means one candidate per provider
// per key per owner: two candidates of cs with the same domain, key and
// provider are an error. Each candidate's Factory must be nil or a factory's
// name (a string), which mirrors look up in their own table; the rest of the
// candidate is validated as a manifest's would be ([manifest.Manifest.Validate]).
// Any such error, a candidate that cannot be encoded as JSON (metadata
// holding NaN, say) included, matches [registry.ErrInvalidCandidate] and
// nothing is written. A nil client is an error.
//
// Publish reads the owner's keys, then commits its transaction only if none
// of them was created, changed or deleted since (compares on their
// modification revisions: one on the owner's whole directory, and one for
// each key it keeps unchanged, which the first cannot see deleted); when a
// concurrent Publish of the same owner got in first, it reads again and
// retries, after a short random pause, until ctx ends. So concurrent
// publishers of one owner never leave a mix of their sets: the last to
// commit wins whole. etcd limits both the writes and the compares of a
// transaction (--max-txn-ops, 128 by default): a change that writes more
// keys than that, or that keeps more than that minus one keys unchanged,
// fails with etcd's "too many operations in txn request". A set of at most
// that many candidates fits, unless the owner holds more keys than that.
func Publish(ctx context.Context, client *clientv3.Client, prefix, owner string, cs []registry.Candidate) (int64, error) {
	if client == nil {
		return 0, errors.New("etcd.Publish needs a client")
	}
	return publish(ctx, client, prefix, owner, cs, nil)
}

// PublishManifest publishes m's candidates as the set of m.Owner, like
// [Publish], and puts m's selections, all in the same transaction. It
// validates m first ([manifest.Manifest.Validate]). Selections are not owned:
// a selection that m no longer has is left in place (remove one with
// [PublishSelection] and an empty provider). Like the candidates, a
// selection whose stored provider is already m's is not written again (its
// transaction compares it instead, so that a concurrent change of it makes
// the publish read again), and publishing the same manifest twice writes
// nothing. Each selection adds a write or a compare to the transaction.
func PublishManifest(ctx context.Context, client *clientv3.Client, prefix string, m *manifest.Manifest) (int64, error) {
	if client == nil {
		return 0, errors.New("etcd.PublishManifest needs a client")
	}
	if m == nil {
		return 0, errors.New("etcd.PublishManifest: the manifest is nil")
	}
	if err := m.Validate(); err != nil {
		return 0, err
	}
	var sels []selection
	for _, d := range slices.Sorted(maps.Keys(m.Selections)) {
		for _, k := range slices.Sorted(maps.Keys(m.Selections[d])) {
			sels = append(sels, selection{domain: d, key: k, provider: m.Selections[d][k]})
		}
	}
	return publish(ctx, client, prefix, m.Owner, m.Candidates, sels)
}

// PublishSelection sets the selection of (domain, key) under prefix to
// provider, or removes it when provider is "". Invalid names return an error
// matching [registry.ErrInvalidCandidate]. It returns the revision of the
// write.
func PublishSelection(ctx context.Context, client *clientv3.Client, prefix, domainName, key, provider string) (int64, error) {
	if client == nil {
		return 0, errors.New("etcd.PublishSelection needs a client")
	}
	if err := checkPrefix(prefix); err != nil {
		return 0, err
	}
	if err := domain.CheckAddress(domainName, key, provider); err != nil {
		return 0, fmt.Errorf("cannot publish the selection of %q/%q: %w", domainName, key, err)
	}
	k := SelectionKey(prefix, domainName, key)
	if provider == "" {
		resp, err := client.Delete(ctx, k)
		if err != nil {
			return 0, fmt.Errorf("cannot remove the selection of %q/%q: %w", domainName, key, err)
		}
		return resp.Header.Revision, nil
	}
	resp, err := client.Put(ctx, k, provider)
	if err != nil {
		return 0, fmt.Errorf("cannot publish the selection of %q/%q: %w", domainName, key, err)
	}
	return resp.Header.Revision, nil
}

type selection struct{ domain, key, provider string }

// Pauses between attempts of a Publish that lost a race with another Publish
// of the same owner: random, so two publishers do not collide again in step,
// and short, because the winner's transaction is already committed.
const (
	retryMinPause = time.Millisecond
	retryMaxPause = 50 * time.Millisecond
)

func publish(ctx context.Context, client *clientv3.Client, prefix, owner string, cs []registry.Candidate, sels []selection) (int64, error) {
	if err := checkPrefix(prefix); err != nil {
		return 0, err
	}
	if err := domain.CheckName("owner", owner, false); err != nil {
		return 0, fmt.Errorf("cannot publish the set of %q: %w", owner, err)
	}
	want := make(map[string][]byte, len(cs)) // key → value
	for i, c := range cs {
		k := CandidateKey(prefix, owner, c.Domain, c.Key, c.Provider)
		if _, dup := want[k]; dup {
			return 0, fmt.Errorf("cannot publish the set of %q: candidate %d (%q/%q/%q): %w: the set already has a candidate of this provider for this key (one key per owner, domain, key and provider)",
				owner, i, c.Domain, c.Key, c.Provider, registry.ErrInvalidCandidate)
		}
		v, err := encodeCandidate(owner, c)
		if err != nil {
			if !errors.Is(err, registry.ErrInvalidCandidate) { // json's: NaN, ±Inf, a chan in the metadata
				err = fmt.Errorf("%w: %w", registry.ErrInvalidCandidate, err)
			}
			return 0, fmt.Errorf("cannot publish the set of %q: candidate %d (%q/%q): %w", owner, i, c.Domain, c.Key, err)
		}
		want[k] = v
	}
	dir := ownerDir(prefix, owner)
	pause := retryMinPause
	for {
		rev, ops, conds, err := plan(ctx, client, prefix, dir, want, sels)
		if err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
			return 0, fmt.Errorf("cannot publish the set of %q: %w", owner, err)
		}
		if err == nil {
			if len(ops) == 0 {
				return rev, nil
			}
			resp, err := client.Txn(ctx).If(conds...).Then(ops...).Commit()
			if err != nil {
				return 0, fmt.Errorf("cannot publish the set of %q (%d writes, %d compares): %w", owner, len(ops), len(conds), err)
			}
			if resp.Succeeded {
				return resp.Header.Revision, nil
			}
		}
		// Another Publish of this owner committed in between (or the
		// revision read was compacted meanwhile): read again.
		d := pause/2 + rand.N(pause/2+1)
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("cannot publish the set of %q: %w", owner, context.Cause(ctx))
		case <-time.After(d):
		}
		pause = min(2*pause, retryMaxPause)
	}
}

// plan reads the owner's keys (under dir) and the selections at one revision
// and returns it, with the writes that make them equal to want and sels and
// the compares that must hold for those writes to be committed: that no key
// under dir was created or changed after rev, and that every key left
// unwritten (a candidate or a selection that already has its value) still
// has the version read. The prefix compare alone cannot see a key deleted
// after rev, and such a key, kept as it was, would stay deleted.
func plan(ctx context.Context, client *clientv3.Client, prefix, dir string, want map[string][]byte, sels []selection) (rev int64, ops []clientv3.Op, conds []clientv3.Cmp, err error) {
	got, err := client.Get(ctx, dir, clientv3.WithPrefix())
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read its keys: %w", err)
	}
	rev = got.Header.Revision
	conds = []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(dir), "<", rev+1).WithPrefix()}
	have := make(map[string]bool, len(got.Kvs))
	for _, kv := range got.Kvs {
		k := string(kv.Key)
		have[k] = true
		switch v, ok := want[k]; {
		case !ok:
			ops = append(ops, clientv3.OpDelete(k))
		case !bytes.Equal(v, kv.Value):
			ops = append(ops, clientv3.OpPut(k, string(v)))
		default:
			conds = append(conds, clientv3.Compare(clientv3.ModRevision(k), "=", kv.ModRevision))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if !have[k] {
			ops = append(ops, clientv3.OpPut(k, string(want[k])))
		}
	}
	for _, s := range sels {
		k := SelectionKey(prefix, s.domain, s.key)
		sg, err := client.Get(ctx, k, clientv3.WithRev(rev))
		if err != nil {
			return 0, nil, nil, fmt.Errorf("read the selection of %q/%q: %w", s.domain, s.key, err)
		}
		if len(sg.Kvs) == 1 && string(sg.Kvs[0].Value) == s.provider {
			conds = append(conds, clientv3.Compare(clientv3.ModRevision(k), "=", sg.Kvs[0].ModRevision))
		} else {
			ops = append(ops, clientv3.OpPut(k, s.provider))
		}
	}
	return rev, ops, conds, nil
}
