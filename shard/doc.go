// Package shard stores the registry's candidates: domains hashed onto a
// power-of-two array of shards, each shard with one writer lock, an index of
// its keys for lock-free lookups, and a table per domain for listings.
//
// # Reads
//
// Every key has a [KeyState]: the key's candidates in rank order, immutable
// once published. The pointer to it lives in the key's bucket of the shard's
// key index, an open-addressing hash table keyed by (domain, key), together
// with the key itself and the state's winner; a writer builds the next
// KeyState and publishes it and its winner into that bucket, inside the
// bucket's sequence count made odd. Writers change the index in place, under
// the lock, only when a key appears (a never-used bucket is filled) or
// disappears (its bucket is emptied of its state and marked a tombstone),
// and replace it by a copy when it fills or empties. Lookup probes the index
// and checks the key against the bucket's copy of it; Winner and Resolve then
// read the bucket's winner, retrying only while a writer of that very key
// is between its two stores, and never load the state unless the key's
// state belongs to a batch. None of the three takes a lock or allocates.
// Writers find a key the same way, under the lock; the state names the key's
// table. Each key also has a stable slot, which the domain's listing holds
// and which finds the key's current bucket across index rebuilds.
//
// A read of a whole domain ([Set.View]) finds the domain's table in the
// shard's domain index, an open-addressing table kept by the key index's
// scheme (slots filled in place, tombstones, copies when it fills or
// empties), and must see one version of all its keys. Each domain's table
// has a sequence lock: a writer makes its version odd before it changes any
// of the domain's keys and even after. A reader that finds the same even
// version before and after collecting the states saw one version; otherwise
// it tries again, and after a few failed attempts (only a writer of that
// very domain can make it fail) it reads under the shard lock.
// The View a reader builds is cached in the table with the version it shows
// (unless one of its states belonged to an uncommitted batch, see below), so
// that until the next write of the domain, readers reuse it without touching
// a key.
//
// Writes that change several keys at once (a batch whose candidates span keys
// or domains) must become visible together, to Lookup too. They are
// serialised by the set's batch mutex and numbered with an epoch; every
// KeyState they publish carries that epoch and a link to the state it
// replaced. The epoch is committed, with one atomic store, only after every
// state is in place. A reader loads the committed epoch before the state
// and, if the state's epoch is newer, reads the previous state instead. So a
// reader sees all of a batch or none of it, and it never waits.
//
// # Lock order
//
// This is the one place the order is written down; code that takes locks
// refers here.
//
//  1. [Set]'s batch mutex, taken by batches only (RegisterBatch, Apply);
//  2. shard mutexes, in ascending shard index, each at most once;
//  3. locks of the notify function's own and of the function passed to
//     [Set.SnapshotAnd] (the registry's watch hub and its watchers), taken
//     inside a write or a snapshot, after its shard mutexes, and never held
//     while a shard mutex is requested.
//
// Every goroutine that holds more than one of these locks acquired them in
// this order, and releases them all before it acquires any lock again. A
// goroutine waiting for lock L therefore holds only locks that come before L.
// A deadlock needs a cycle of goroutines each waiting for a lock the next one
// holds, which would need some goroutine to wait for a lock that comes before
// one it holds. So no deadlock is possible. Writes of one key take one shard
// mutex; Snapshot and Domains take the shard mutexes they need in ascending
// order and never the batch mutex; a domain read that falls back to locking
// takes its one shard mutex.
//
// No lock is held while code outside this module runs. The only functions
// this package calls under its locks are the notify function ([WithNotify]),
// which the registry sets to its own watch hub: it appends to bounded
// buffers and never blocks; and the function passed to [Set.SnapshotAnd],
// with which the registry resets a resynchronised watcher's buffer under its
// watcher's lock. The registry logs and calls user hooks only after
// unlocking.
package shard
