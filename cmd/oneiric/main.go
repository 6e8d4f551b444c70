// Command oneiric shows and exercises the oneiric candidate registry.
//
// Usage:
//
//	oneiric <command> [flags]
//
// The commands are:
//
//	demo    register a realistic sample, show what wins and why, then run a
//	        few seconds of concurrent readers and writers with invariant checks
//	stress  run the stress harness (package stress) and print throughput,
//	        latency percentiles and invariants; exit status 1 on any FAIL
//	list    list every domain's active and shadowed candidates over manifests:
//	        oneiric list [-json] FILE...
//	explain rank one key's candidates over manifests, with scores and reasons:
//	        oneiric explain [-json] [-provider P] [-require CAP]... [-any] DOMAIN KEY FILE...
//	resolve the candidate one key resolves to over manifests:
//	        oneiric resolve [-json] [-provider P] [-require CAP]... [-any] DOMAIN KEY FILE...
//	help    print this usage, or a command's flags with "help <command>"
//
// Flags come before a command's arguments; docs/manifest.md describes the
// manifest format.
//
// Exit status: 0 on success, 1 when an invariant failed, resolve found no
// qualifying candidate or the command could not run, 2 for bad usage or a
// manifest that cannot be read or is malformed, 130 when interrupted.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFail        = 1   // an invariant failed, resolve found no candidate, or the command could not run
	exitUsage       = 2   // bad command line, as package flag uses, or a manifest that cannot be loaded
	exitInterrupted = 130 // stopped by SIGINT, as shells report it
)

// command is one subcommand. run gets the arguments after the command's
// name; it writes results to out and diagnostics to errOut.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, out, errOut io.Writer) int
}

// commands is the dispatch table, in the order usage lists them. A new
// subcommand is one entry. It is filled in init because help refers to it.
var commands []command

func init() {
	commands = []command{
		{"demo", "register a sample, show winners and explanations, then run concurrent readers and writers", runDemo},
		{"stress", "run the stress harness: ops/s, latency percentiles, invariants (exit 1 on FAIL)", runStress},
		{"list", "list each domain's active and shadowed candidates over manifest files", runList},
		{"explain", "rank one key's candidates over manifest files, with scores and reasons", runExplain},
		{"resolve", "resolve one key over manifest files (exit 1 if no candidate qualifies)", runResolve},
		{"help", "print this usage, or a command's flags: help <command>", runHelp},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches args[0] to its command.
func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	if len(args) == 0 {
		usage(out)
		return exitOK
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		usage(out)
		return exitOK
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(errOut, "oneiric: unknown command %q\n\n", name)
		usage(errOut)
		return exitUsage
	}
	return c.run(ctx, args[1:], out, errOut)
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "oneiric shows and exercises the oneiric candidate registry.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage:")
	fmt.Fprintln(w, "  oneiric <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "oneiric help <command>" for a command's flags. Start with "oneiric demo".`)
	fmt.Fprintln(w, "Flags come before a command's arguments. docs/manifest.md describes the manifest format.")
}

// runHelp prints the usage, or the flags of the command named in args.
func runHelp(ctx context.Context, args []string, out, errOut io.Writer) int {
	if len(args) == 0 {
		usage(out)
		return exitOK
	}
	c, ok := lookup(args[0])
	if !ok || c.name == "help" {
		if !ok {
			fmt.Fprintf(errOut, "oneiric: unknown command %q\n\n", args[0])
			usage(errOut)
			return exitUsage
		}
		usage(out)
		return exitOK
	}
	return c.run(ctx, []string{"-h"}, out, out) // the flags are what was asked for: stdout
}

// isTerminal reports whether w is a character device, such as a terminal:
// only then is a progress line rewritten in place with "\r".
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// group formats n with thousands separators: 1234567 → "1,234,567".
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
