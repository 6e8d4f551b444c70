package domain

import (
	"slices"
	"strings"
)

// Metadata keys that contribute capabilities (see [Candidate]).
const (
	MetaCapabilities          = "capabilities"
	MetaCapabilityDescriptors = "capability_descriptors"
)

// effectiveCapabilities returns the sorted, de-duplicated set of capabilities
// of a candidate: its own list, Metadata["capabilities"] (a string or a list of
// strings) and the "name" of each map in Metadata["capability_descriptors"].
// Names are trimmed; empty ones are dropped. The result is nil when empty.
func effectiveCapabilities(own []string, meta map[string]any) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	for _, s := range own {
		add(s)
	}
	switch v := meta[MetaCapabilities].(type) {
	case string:
		add(v)
	case []string:
		for _, s := range v {
			add(s)
		}
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				add(s)
			}
		}
	}
	switch v := meta[MetaCapabilityDescriptors].(type) {
	case []any:
		for _, e := range v {
			switch d := e.(type) {
			case map[string]any:
				if s, ok := d["name"].(string); ok {
					add(s)
				}
			case map[string]string:
				add(d["name"])
			}
		}
	case []map[string]any:
		for _, d := range v {
			if s, ok := d["name"].(string); ok {
				add(s)
			}
		}
	case []map[string]string:
		for _, d := range v {
			add(d["name"])
		}
	}
	if len(out) == 0 {
		return nil
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return slices.Clip(out)
}

// NormalizeRequired trims the required capabilities, drops empty ones and
// duplicates, and returns them sorted. It returns nil when none remain.
func NormalizeRequired(caps []string) []string {
	return effectiveCapabilities(caps, nil)
}
