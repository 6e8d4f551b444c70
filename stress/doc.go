// Package stress runs a concurrent workload against a [registry.Registry] and
// checks, while it runs and at the end, the invariants the registry promises.
//
// A [Workload] says how many goroutines run, for how long or how many
// operations, in which mix of operation kinds, over how many domains and keys,
// and how strongly one hot domain is favoured. [Run] executes it and returns a
// [Report]: operations and operations per second per kind, latency
// percentiles per kind, and one [Invariant] per property checked, each PASS or
// FAIL with a detail:
//
//   - no lost registration: every entry returned by Register or
//     RegisterPackage and not unregistered since is in the final snapshot,
//     every Unregister removes exactly the entries its goroutine registered,
//     and nothing unregistered comes back;
//   - unique sequences: every sequence number handed out is distinct, each
//     goroutine sees its own increasing, and a package's entries get
//     consecutive numbers;
//   - winner = best score: every explanation is ordered by strictly
//     decreasing score with the first rank selected, and on snapshots
//     Resolve returns the entry Explain names;
//   - snapshot causality: each goroutine registers a marker in one domain and
//     then in another; no snapshot holds the second without the first;
//   - no unexpected errors: valid operations never fail and nothing panics.
//
// The harness uses only the public API of package registry, so it measures
// and checks what a caller gets. Each goroutine registers only its own
// providers (named "w<goroutine>.p<n>"), which is what lets it know exactly
// which of its registrations must still be present; it reads, selects and
// snapshots everything. The harness's domains are named "stress.d<n>", so a
// registry already holding other domains can be used: they are read by
// whole-registry snapshots but otherwise left alone.
//
// The check functions ([CheckRanking], [CheckSequences], [CheckCausality]) are
// exported so that other tests can use them on their own data.
//
// All exported functions are safe to be used concurrently; a [Report] is a
// plain value.
//
// # Example
//
//	r := registry.New()
//	w := stress.DefaultWorkload()
//	w.Duration = 3 * time.Second
//	rep, err := stress.Run(ctx, r, w, stress.WithProgress(0, func(p stress.Progress) {
//		fmt.Printf("\r%d ops", p.Ops)
//	}))
//	if err != nil {
//		log.Fatal(err) // the workload itself is invalid
//	}
//	fmt.Print(rep)
//	if !rep.Passed() {
//		os.Exit(1)
//	}
package stress
