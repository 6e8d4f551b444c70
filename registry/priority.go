package registry

import (
	"os"
	"slices"
	"strconv"
	"strings"
)

// StackOrderEnv names the environment variable holding the default stack
// order: "name:value,name,…".
const StackOrderEnv = "ONEIRIC_STACK_ORDER"

// stackOrder maps package names to priorities. It is built once and never
// changed, so it is read without a lock.
type stackOrder map[string]int

// parseStackOrder reads "name:value,name,…". Names and values are trimmed. A
// name without a value gets 10 × the number of distinct names read before it
// (Python's len(mapping) * 10). Blank tokens, blank names and values that are
// not decimal integers (such as "a:x") are ignored. A name given twice keeps
// its last value.
func parseStackOrder(spec string) stackOrder {
	m := stackOrder{}
	for tok := range strings.SplitSeq(spec, ",") {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			continue
		}
		name, val, hasVal := strings.Cut(tok, ":")
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !hasVal {
			m[name] = len(m) * 10
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil {
			continue
		}
		m[name] = n
	}
	return m
}

// pathHints are the path components that imply a priority, checked in this
// order.
var pathHints = []struct {
	name     string
	priority int
}{
	{"adapters", 80}, {"services", 70}, {"tasks", 60}, {"events", 60}, {"workflows", 60}, {"vendor", 90},
}

// maxPathPenalty caps how much a deep path lowers a hinted priority.
const maxPathPenalty = 10

// InferPriority returns the priority a plugin loader should give package pkg
// found at path, reading $ONEIRIC_STACK_ORDER at each call:
//
//  1. the value for pkg in the stack order, if it has one;
//  2. else, for the first of the path hints adapters (80), services (70),
//     tasks (60), events (60), workflows (60) and vendor (90) that is a
//     component of path, that value minus min(number of path components, 10),
//     a leading "/" counting as a component ("/project/adapters/x.py" gives
//     80 - 4 = 76);
//  3. else 0.
func InferPriority(pkg, path string) int {
	return parseStackOrder(os.Getenv(StackOrderEnv)).infer(pkg, path)
}

// InferPriority is the package-level [InferPriority] with the registry's stack
// order, read once at [New] or given by [WithStackOrder].
func (r *Registry) InferPriority(pkg, path string) int { return r.stackOrder.infer(pkg, path) }

func (o stackOrder) infer(pkg, path string) int {
	if p, ok := o[pkg]; ok {
		return p
	}
	parts := pathComponents(path)
	for _, h := range pathHints {
		if slices.Contains(parts, h.name) {
			return h.priority - min(len(parts), maxPathPenalty)
		}
	}
	return 0
}

// pathComponents splits a slash-separated path as Python's pathlib does: a
// leading "/" is a component of its own; empty and "." components vanish.
func pathComponents(path string) []string {
	var parts []string
	if strings.HasPrefix(path, "/") {
		parts = append(parts, "/")
	}
	for c := range strings.SplitSeq(path, "/") {
		if c != "" && c != "." {
			parts = append(parts, c)
		}
	}
	return parts
}
