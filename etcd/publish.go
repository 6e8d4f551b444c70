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
// Any such error matches [registry.ErrInvalidCandidate] and nothing is
// written.
//
// Publish reads the owner's keys, then commits its transaction only if none
// of them changed since (a compare on their modification revisions); when a
// concurrent Publish of the same owner got in first, it reads again and
// retries, after a short random pause, until ctx ends. So concurrent
// publishers of one owner never leave a mix of their sets: the last to
// commit wins whole. etcd limits the operations of a transaction
// (--max-txn-ops, 128 by default): a change of more keys than that fails
// with etcd's "too many operations in txn request".
func Publish(ctx context.Context, client *clientv3.Client, prefix, owner string, cs []registry.Candidate) (int64, error) {
	return publish(ctx, client, prefix, owner, cs, nil)
}

// PublishManifest publishes m's candidates as the set of m.Owner, like
// [Publish], and puts m's selections, all in the same transaction. It
// validates m first ([manifest.Manifest.Validate]). Selections are not owned:
// a selection that m no longer has is left in place (remove one with
// [PublishSelection] and an empty provider).
func PublishManifest(ctx context.Context, client *clientv3.Client, prefix string, m *manifest.Manifest) (int64, error) {
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
			return 0, fmt.Errorf("cannot publish the set of %q: candidate %d (%q/%q): %w", owner, i, c.Domain, c.Key, err)
		}
		want[k] = v
	}
	dir := ownerDir(prefix, owner)
	pause := retryMinPause
	for {
		got, err := client.Get(ctx, dir, clientv3.WithPrefix())
		if err != nil {
			return 0, fmt.Errorf("cannot publish the set of %q: read its keys: %w", owner, err)
		}
		rev := got.Header.Revision
		var ops []clientv3.Op
		have := make(map[string]bool, len(got.Kvs))
		for _, kv := range got.Kvs {
			k := string(kv.Key)
			have[k] = true
			if v, ok := want[k]; !ok {
				ops = append(ops, clientv3.OpDelete(k))
			} else if !bytes.Equal(v, kv.Value) {
				ops = append(ops, clientv3.OpPut(k, string(v)))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if !have[k] {
				ops = append(ops, clientv3.OpPut(k, string(want[k])))
			}
		}
		for _, s := range sels {
			ops = append(ops, clientv3.OpPut(SelectionKey(prefix, s.domain, s.key), s.provider))
		}
		if len(ops) == 0 {
			return rev, nil
		}
		// None of the owner's keys was created, changed or deleted after rev:
		// a key created later has a later ModRevision, and a key deleted
		// later is one of those this transaction deletes anyway.
		unchanged := clientv3.Compare(clientv3.ModRevision(dir), "<", rev+1).WithPrefix()
		resp, err := client.Txn(ctx).If(unchanged).Then(ops...).Commit()
		if err != nil {
			return 0, fmt.Errorf("cannot publish the set of %q (%d writes): %w", owner, len(ops), err)
		}
		if resp.Succeeded {
			return resp.Header.Revision, nil
		}
		// Another Publish of this owner committed in between: read again.
		d := pause/2 + rand.N(pause/2+1)
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("cannot publish the set of %q: %w", owner, context.Cause(ctx))
		case <-time.After(d):
		}
		pause = min(2*pause, retryMaxPause)
	}
}
