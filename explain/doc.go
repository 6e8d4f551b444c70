// Package explain ranks the candidates of one (domain, key) and explains the
// ranking: the [Score] of each candidate, the reasons behind it, and which one
// is selected.
//
// A score is the tuple (override, capability_match, priority, stack_level,
// sequence), compared lexicographically, higher first. Sequences are unique,
// so two candidates never tie.
//
// Everything here is a pure function of its arguments: the package holds no
// state and takes no lock. An [Explanation] is a value owned by its caller.
package explain
