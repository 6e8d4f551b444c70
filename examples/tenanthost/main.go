// Command tenanthost shows oneiric in a multi-tenant host: each tenant is a
// domain reached through its own handle (Registry.Domain), the registry's
// limits stop one tenant from growing without bound, a watcher follows one
// tenant's winners, and health marks fail a tenant's database over to its
// replica and back.
//
// Run it with:
//
//	go run ./examples/tenanthost
//
// Its output is the same on every run: the watcher's changes are printed by
// the main goroutine, each after the write that caused it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/oneiric-go/oneiric/registry"
)

// limits bound what any tenant may register; a real host would size them
// to what it can afford per tenant.
var limits = registry.Limits{
	MaxDomains:          100, // tenants
	MaxKeysPerDomain:    16,
	MaxCandidatesPerKey: 3,
	MaxMetadataBytes:    4 << 10,
	MaxMarksPerDomain:   32, // selections plus unhealthy marks
}

// changeTimeout bounds the wait for a change the watcher must report; it is
// reached only if the registry fails to deliver one.
const changeTimeout = 5 * time.Second

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tenanthost:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	r := registry.New(registry.WithLimits(limits), registry.WithStackOrder(""))
	acme, globex := r.Domain("acme"), r.Domain("globex")

	heading(w, "1. Tenants register through their own handles")
	for _, reg := range []struct {
		h *registry.Handle
		c registry.Candidate
	}{
		{acme, registry.Candidate{Key: "db", Provider: "postgres-primary", Priority: new(100)}},
		{acme, registry.Candidate{Key: "db", Provider: "postgres-replica", Priority: new(50)}},
		{acme, registry.Candidate{Key: "cache", Provider: "redis", Priority: new(10)}},
		{globex, registry.Candidate{Key: "db", Provider: "mysql", Priority: new(80)}},
	} {
		if _, err := reg.h.Register(reg.c); err != nil { // Domain "" takes the handle's
			return err
		}
	}
	for _, h := range []*registry.Handle{acme, globex} {
		var active []string
		for _, e := range h.ListActive() {
			active = append(active, e.Key()+"="+e.Provider())
		}
		fmt.Fprintf(w, "%s: %s\n", h.Name(), strings.Join(active, ", "))
	}
	_, err := acme.Register(registry.Candidate{Domain: "globex", Key: "db", Provider: "evil"})
	fmt.Fprintf(w, "acme registering into globex: %v\n", err)
	fmt.Fprintf(w, "  errors.Is(err, ErrWrongDomain) = %t\n", errors.Is(err, registry.ErrWrongDomain))
	_, ok := globex.Resolve("cache")
	fmt.Fprintf(w, "globex resolving cache (only acme has one): found = %t\n", ok)
	fmt.Fprintln(w)

	heading(w, "2. Limits: at most 3 candidates per key")
	for _, p := range []string{"elastic", "opensearch", "meilisearch", "typesense"} {
		_, err := acme.Register(registry.Candidate{Key: "search", Provider: p})
		if err == nil {
			fmt.Fprintf(w, "acme/search + %-11s ok\n", p)
			continue
		}
		fmt.Fprintf(w, "acme/search + %-11s %v\n", p, err)
		var le *registry.LimitError
		if !errors.As(err, &le) || !errors.Is(err, registry.ErrLimitExceeded) {
			return fmt.Errorf("want a limit error, got %w", err)
		}
		fmt.Fprintf(w, "  errors.Is(err, ErrLimitExceeded) = true; LimitError{Limit: %q, Max: %d, Domain: %q, Key: %q}\n",
			le.Limit, le.Max, le.Domain, le.Key)
	}
	x := acme.Explain("search")
	fmt.Fprintf(w, "acme/search still has %d candidates; the refused one changed nothing.\n", len(x.Ordered))
	fmt.Fprintln(w)

	heading(w, "3. Watch acme, then fail its database over and back")
	ctx, cancel := context.WithCancel(context.Background())
	changes := acme.Watch(ctx) // registered now: no change made after this line is missed
	got := make(chan registry.Change)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range changes {
			select {
			case got <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	stop := func() { // idempotent: the deferred call after an explicit one returns at once
		cancel()
		<-done
	}
	defer stop()
	next := func() (registry.Change, error) {
		select {
		case c := <-got:
			fmt.Fprintf(w, "  watch: %s\n", describe(c))
			return c, nil
		case <-time.After(changeTimeout):
			return registry.Change{}, errors.New("the watcher reported no change")
		}
	}

	before, _ := acme.Resolve("db")
	fmt.Fprintf(w, "acme/db winner: %s\n", before.Provider())
	fmt.Fprintln(w, `acme.Select("db", "postgres-primary"): the operator pins the primary (it already wins: no change)`)
	if err := acme.Select("db", "postgres-primary"); err != nil {
		return err
	}
	fmt.Fprintln(w, `acme.SetHealth("db", "postgres-primary", false): unhealthy loses, even over the selection`)
	if err := acme.SetHealth("db", "postgres-primary", false); err != nil {
		return err
	}
	if _, err := next(); err != nil {
		return err
	}
	during, _ := acme.Resolve("db")
	fmt.Fprintf(w, "acme/db winner: %s\n", during.Provider())
	fmt.Fprint(w, indent(acme.Explain("db").String()))

	fmt.Fprintln(w, "globex registers mysql-replica (acme's watcher does not see it)")
	if _, err := globex.Register(registry.Candidate{Key: "db", Provider: "mysql-replica", Priority: new(90)}); err != nil {
		return err
	}

	fmt.Fprintln(w, `acme.SetHealth("db", "postgres-primary", true)`)
	if err := acme.SetHealth("db", "postgres-primary", true); err != nil {
		return err
	}
	c, err := next() // the recovery, not globex's change: the watcher is acme's only
	if err != nil {
		return err
	}
	if c.Domain != "acme" {
		return fmt.Errorf("acme's watcher saw a change of %s", c.Domain)
	}
	after, _ := acme.Resolve("db")
	fmt.Fprintf(w, "acme/db winner: %s (the same entry as before the failover: %t)\n", after.Provider(), after == before)
	fmt.Fprintln(w)

	heading(w, "4. Cancel the watch")
	stop()
	fmt.Fprintln(w, "cancelled: the range over Watch ended and its goroutine returned.")
	return nil
}

// describe renders a change: "acme/db: postgres-primary → postgres-replica (health)".
func describe(c registry.Change) string {
	if c.Resync {
		return "resync: the current winners follow"
	}
	name := func(e *registry.Entry) string {
		if e == nil {
			return "(none)"
		}
		return e.Provider()
	}
	return fmt.Sprintf("%s/%s: %s → %s (%s)", c.Domain, c.Key, name(c.Previous), name(c.Current), c.Reason)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n  ") + "\n"
}

func heading(w io.Writer, title string) {
	fmt.Fprintln(w, title)
	fmt.Fprintln(w, strings.Repeat("-", len(title)))
}
