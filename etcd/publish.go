package etcd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
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
// holding NaN, say) or whose JSON a mirror would not load (a struct in the
// metadata nested deeper than the limit, map keys that are not UTF-8, which
// JSON makes one repeated field) included, matches
// [registry.ErrInvalidCandidate] and nothing is written. A nil client is an
// error. What a mirror registers is the candidate as JSON gives it back, as
// from a manifest: metadata numbers are float64, a []byte is its base64
// string, a struct is a map, and a string that is not UTF-8 has U+FFFD in
// place of its bad bytes.
//
// Publish reads the owner's keys and its generation key ([GenerationKey])
// at one revision, and its transaction also puts the generation key (or
// deletes it, when the set becomes empty). It commits only if the
// generation key was not written, and none of the owner's keys created or
// changed, since its read: two compares, whatever the size of the set. A
// concurrent Publish of the same owner that got in first wrote the
// generation key, whatever it changed, a deletion of a key this one keeps
// included; Publish then reads again and retries, after a short random
// pause, until ctx ends. So
// concurrent publishers of one owner never leave a mix of their sets: the
// last to commit wins whole. (A writer that does not put the generation key,
// etcdctl say, is seen when it creates or changes one of the owner's keys,
// not when it deletes one.)
//
// etcd limits the operations of a transaction (--max-txn-ops, 128 by
// default): the writes of one Publish, its puts and deletes plus one for the
// generation key, must not exceed it, or the Publish fails whole with etcd's
// "too many operations in txn request" and writes nothing; its compares are
// always two. A first publish of up to 127 candidates fits, and so does any
// later change of up to 127 keys, however many the owner keeps. A publish
// that finds no generation key (an owner written by an older version, or by
// hand) writes every key it wants, kept ones included, since nothing else
// guards them against a concurrent deletion.
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
// selection whose stored provider is already m's is not written again, nor
// compared: a concurrent change of it, committed between the read and the
// transaction, stands, as it would had it come just after this publish.
// Publishing the same manifest twice writes nothing. Each selection written
// counts as a write against etcd's limit; the compares are two, as for
// [Publish].
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
	dir, gen := ownerDir(prefix, owner), GenerationKey(prefix, owner)
	pause := retryMinPause
	for {
		rev, ops, conds, err := plan(ctx, client, prefix, dir, gen, want, sels)
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

// sameCandidate reports whether the values old and new of key k decode to
// candidates a registry cannot tell apart ([registry.Entry.SameAs]; their
// priorities both unset or both the same, since a mirror's default may
// differ): capabilities in another order, say. Such a value is not written
// again, so that a mirror that loads the owner later orders it by the
// revision that a mirror that followed the writes kept it at.
func sameCandidate(k string, old, new []byte) bool {
	// Both are of one owner, which SameAs compares: any valid name will do.
	a, err := decodeCandidate(k, "o", old)
	if err != nil {
		return false
	}
	b, err := decodeCandidate(k, "o", new)
	if err != nil || (a.Priority == nil) != (b.Priority == nil) {
		return false
	}
	da, err := domain.Prepare(a, 0, "o")
	if err != nil {
		return false
	}
	db, err := domain.Prepare(b, 0, "o")
	if err != nil {
		return false
	}
	return da.Finish(0, time.Time{}).SameAs(db.Finish(0, time.Time{}))
}

// plan reads the owner's keys (under dir), its generation key gen and the
// selections at one revision and returns it, with the writes that make them
// equal to want and sels and the compares that must hold for those writes to
// be committed: that no key under dir was created or changed after rev (a
// prefix compare), and that gen has the modification revision read (0 when
// absent). Every Publish transaction of an owner that has or gets
// candidates writes gen (puts it, or deletes it with the last candidate), so
// the second compare fails after any concurrent Publish of the owner, one
// that deleted a key this plan keeps included, which the prefix compare
// cannot see. The compares are two, whatever the number of keys kept: etcd
// checks their number against --max-txn-ops, as it does the writes'.
func plan(ctx context.Context, client *clientv3.Client, prefix, dir, gen string, want map[string][]byte, sels []selection) (rev int64, ops []clientv3.Op, conds []clientv3.Cmp, err error) {
	got, err := client.Get(ctx, dir, clientv3.WithPrefix())
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read its keys: %w", err)
	}
	rev = got.Header.Revision
	gg, err := client.Get(ctx, gen, clientv3.WithRev(rev))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read its generation: %w", err)
	}
	genRev := int64(0)
	if len(gg.Kvs) == 1 {
		genRev = gg.Kvs[0].ModRevision
	}
	conds = []clientv3.Cmp{
		clientv3.Compare(clientv3.ModRevision(dir), "<", rev+1).WithPrefix(),
		clientv3.Compare(clientv3.ModRevision(gen), "=", genRev),
	}
	have := make(map[string]bool, len(got.Kvs))
	for _, kv := range got.Kvs {
		k := string(kv.Key)
		have[k] = true
		switch v, ok := want[k]; {
		case !ok:
			ops = append(ops, clientv3.OpDelete(k))
		case genRev == 0 || !bytes.Equal(v, kv.Value) && !sameCandidate(k, kv.Value, v):
			// Without a generation key (an owner written by an older
			// version, or by hand) nothing guards a kept key against a
			// concurrent deletion, and a revision of 0 cannot tell "never
			// written" from "written and deleted since": write it again.
			ops = append(ops, clientv3.OpPut(k, string(v)))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if !have[k] {
			ops = append(ops, clientv3.OpPut(k, string(want[k])))
		}
	}
	// A selection that already holds the wanted provider is neither written
	// nor compared. Selections are not owned: leaving one unwritten is the
	// same as having written it at rev, and a concurrent write of it after
	// rev is simply later than this publish, whose own writes touch other
	// keys, so the outcome is one of a serial order of the two. A compare
	// per kept selection would add compares without bound (etcd refuses a
	// transaction with more compares than --max-txn-ops, as it refuses too
	// many writes), and a prefix compare on the selections directory would
	// see changes but not deletions, and make every publish retry after any
	// selection write under the prefix.
	for _, s := range sels {
		k := SelectionKey(prefix, s.domain, s.key)
		sg, err := client.Get(ctx, k, clientv3.WithRev(rev))
		if err != nil {
			return 0, nil, nil, fmt.Errorf("read the selection of %q/%q: %w", s.domain, s.key, err)
		}
		if len(sg.Kvs) != 1 || string(sg.Kvs[0].Value) != s.provider {
			ops = append(ops, clientv3.OpPut(k, s.provider))
		}
	}
	switch {
	case len(want) == 0 && genRev != 0:
		// The owner's set becomes empty: remove its generation too, so
		// that a removed owner leaves nothing behind.
		ops = append(ops, clientv3.OpDelete(gen))
	case len(want) > 0 && len(ops) > 0:
		ops = append(ops, clientv3.OpPut(gen, strconv.Itoa(len(want))))
	}
	return rev, ops, conds, nil
}
