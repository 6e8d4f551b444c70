// Package shard stores the registry's candidates: domains hashed onto a
// power-of-two array of shards, each shard with one writer lock and an
// atomically published index of its domains, each domain an immutable [View]
// of its keys.
//
// # Reads
//
// Readers take no lock. A read loads the shard's domain index and the
// domain's current [View] with atomic loads; a View and everything it points
// to is immutable, so the reader sees one consistent version of the domain
// however long it keeps it. Writers build a new View (sharing every untouched
// part with the old one) and publish it with one atomic store.
//
// Writes that change several domains at once (a batch whose candidates span
// domains) must become visible together. They are serialised by the set's
// batch mutex and numbered with an epoch; every View they publish carries that
// epoch and a link to the View it replaced. The epoch is committed, with one
// atomic store, only after every View is in place. A reader loads the
// committed epoch before the View and, if the View's epoch is newer, reads the
// previous View instead. So a reader sees all of a batch or none of it, and it
// never waits.
//
// # Lock order
//
// This is the one place the order is written down; code that takes locks
// refers here.
//
//  1. [Set]'s batch mutex, only by writers that change more than one domain;
//  2. shard mutexes, in ascending shard index, each at most once.
//
// Every goroutine that holds more than one of these locks acquired them in
// this order, and releases them all before it acquires any lock again. A
// goroutine waiting for lock L therefore holds only locks that come before L.
// A deadlock needs a cycle of goroutines each waiting for a lock the next one
// holds, which would need some goroutine to wait for a lock that comes before
// one it holds. So no deadlock is possible. Single-domain writes take one
// shard mutex; Snapshot and Domains take the shard mutexes they need in
// ascending order and never the batch mutex.
//
// No lock is held while code outside this module runs: this package calls no
// callback, and the registry logs and calls hooks only after unlocking.
package shard
