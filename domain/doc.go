// Package domain holds the registry's data types: the [Candidate] a caller
// registers, the immutable [Entry] the registry stores, the [Source] of a
// candidate, and the validation and normalisation applied before anything is
// stored.
//
// Invariants:
//   - An [Entry] never changes after [NewEntry] returns it. Its metadata and
//     capabilities are private deep copies; accessors hand out fresh copies, so
//     nothing a caller holds can alter what the registry holds.
//   - [NewEntry] either returns an Entry built from a candidate that passed every
//     check in [Validate], or an error matching [ErrInvalidCandidate] and no
//     Entry. It has no side effect either way.
//
// The package depends on the standard library only.
package domain
