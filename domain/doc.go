// Package domain holds the registry's data types: the [Candidate] a caller
// registers, the immutable [Entry] the registry stores, the [Source] of a
// candidate, and the validation and normalisation applied before anything is
// stored.
//
// An entry is made in two steps, so that everything that can fail happens
// before a sequence number is taken: [Prepare] validates a candidate and
// copies it into a [Draft], and [Draft.Finish] stamps the draft with its
// sequence number and time and returns the Entry.
//
// Invariants:
//   - An [Entry] never changes after [Draft.Finish] returns it. (Before that,
//     [Draft.Entry] shows it without sequence number or time, for
//     comparisons.) Its metadata and capabilities are private deep copies;
//     accessors hand out fresh copies, so nothing a caller holds can alter
//     what the registry holds.
//   - [Prepare] either returns a Draft of a candidate that passed every
//     check ([CheckAddress] for the names, then the source and the
//     metadata), or an error matching [ErrInvalidCandidate] and no Draft. It
//     never modifies the candidate and has no other effect.
//
// The package depends on the standard library only.
package domain
