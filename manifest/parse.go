package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/registry"
)

// The fields of a manifest and of a candidate, in the order docs/manifest.md
// lists them. Any other field is an error.
var (
	manifestFields  = []string{"owner", "candidates", "selections"}
	candidateFields = []string{"domain", "key", "provider", "priority", "stack_level", "capabilities", "metadata", "source", "factory"}
)

// ParseFile reads and parses the manifest at path; see [Parse]. An error
// reading the file is returned as is (an *[io/fs.PathError]).
func ParseFile(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses the manifest in data and validates it (see
// [Manifest.Validate]). name is the file it came from: errors name it, and a
// manifest without "owner" is owned by its base name (filepath.Base: the
// manifest "conf/cache.json" is owned by "cache.json"). A null field is the
// same as an absent one.
//
// Every error is an *[Error] naming the file, the line and column, and the
// entry. Invalid JSON, a value of the wrong type and an unknown or repeated
// field match [ErrMalformed]; a value the registry would refuse matches
// [registry.ErrInvalidCandidate]. Parse reports one problem: an unknown or
// repeated field of the manifest itself first, then the first problem of its
// parts in the order of the file. Of one candidate, that is an unknown or
// repeated field name, then the first field, in its order, whose type or
// form is wrong, then what the registry would refuse of the candidate as a
// whole (its names, its metadata). A file that is
// not UTF-8, or whose strings escape half of a UTF-16 pair alone, is
// malformed: encoding/json would make either U+FFFD, so that two names could
// become one.
func Parse(name string, data []byte) (*Manifest, error) {
	p := &parser{file: name, data: data}
	root, err := p.tree()
	if err != nil {
		return nil, err
	}
	// manifest checks each part as it reads it: what Validate checks, in the
	// order of the file.
	return p.manifest(root)
}

// parser turns a file into a tree of nodes that remember their offsets, then
// the tree into a Manifest. encoding/json alone cannot say where a field or
// an entry was, nor reject a repeated field.
type parser struct {
	file string
	data []byte
	dec  *json.Decoder // over data, with UseNumber
	at   cursor        // the last position computed
}

// cursor is a byte offset and its position. The walk asks for positions in
// the order of the file, so position counts on from the last one: each byte
// is counted once, where counting from the start each time made parsing
// quadratic in the file's size.
type cursor struct {
	off int
	pos pos
}

// kind is the kind of a JSON value.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	return [...]string{"null", "true or false", "a number", "a string", "an array", "an object"}[k]
}

// node is a JSON value and the byte offset where it starts.
type node struct {
	off     int
	kind    kind
	b       bool
	num     json.Number
	str     string
	elems   []*node  // kindArray
	members []member // kindObject, in the order of the file
}

type member struct {
	name string
	off  int // of the name
	val  *node
}

// describe is n for a message: its kind, and its value when short.
func (n *node) describe() string {
	switch n.kind {
	case kindNumber:
		return "the number " + n.num.String()
	case kindString:
		if len(n.str) <= 40 {
			return "the string " + strconv.Quote(n.str)
		}
		return "a string"
	case kindBool:
		return strconv.FormatBool(n.b)
	}
	return n.kind.String()
}

// position returns the line and column (in characters) of byte off, which
// starts a token (so a character).
func (p *parser) position(off int) pos {
	off = min(max(off, 0), len(p.data))
	c := p.at
	if off < c.off || c.pos.line == 0 { // before the cursor: count from the start
		c = cursor{pos: pos{line: 1, col: 1}}
	}
	seg := p.data[c.off:off]
	if nl := bytes.Count(seg, []byte{'\n'}); nl > 0 {
		c.pos.line += nl
		c.pos.col = 1 + utf8.RuneCount(seg[bytes.LastIndexByte(seg, '\n')+1:])
	} else {
		c.pos.col += utf8.RuneCount(seg)
	}
	c.off = off
	p.at = c
	return c.pos
}

func (p *parser) fail(off int, entry string, err error) *Error {
	return errorAt(p.file, p.position(off), entry, err)
}

// tree checks that data is one JSON value, then reads it into nodes.
func (p *parser) tree() (*node, error) {
	if len(bytes.TrimSpace(p.data)) == 0 {
		return nil, errorAt(p.file, pos{}, "", malformed("the file is empty; a manifest is a JSON object"))
	}
	// Unmarshalling into a RawMessage runs encoding/json's syntax check over
	// the whole input, trailing data included, with offsets from its start.
	var raw json.RawMessage
	if err := json.Unmarshal(p.data, &raw); err != nil {
		off := 0
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = int(se.Offset) - 1 // Offset counts the bytes read, the bad one included
			if strings.HasPrefix(se.Error(), "unexpected end") {
				off = len(p.data)
			}
		}
		return nil, p.fail(off, "", &formatError{msg: "invalid JSON: " + err.Error(), err: err})
	}
	if off, what := badText(p.data); off >= 0 {
		return nil, p.fail(off, "", malformed("%s; a manifest is UTF-8 text, and encoding/json would silently make it U+FFFD", what))
	}
	p.dec = json.NewDecoder(bytes.NewReader(p.data))
	p.dec.UseNumber()
	n, err := p.value()
	if err != nil { // cannot happen after the check above; keep the error if it does
		return nil, p.fail(int(p.dec.InputOffset()), "", &formatError{msg: "invalid JSON: " + err.Error(), err: err})
	}
	return n, nil
}

// badText returns the offset of the first byte of data that is not UTF-8,
// or of the first \u escape of a lone surrogate (a half of a UTF-16 pair
// without its other half), with what it is; -1 if there is none. data is
// valid JSON. encoding/json turns both into U+FFFD, so two names that differ
// only there would become one.
func badText(data []byte) (int, string) {
	inString := false
	for i := 0; i < len(data); {
		b := data[i]
		if b >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				return i, fmt.Sprintf("invalid UTF-8 (byte 0x%02x)", b)
			}
			i += size
			continue
		}
		switch {
		case b == '"':
			inString = !inString
			i++
		case inString && b == '\\' && data[i+1] == 'u': // valid JSON: four hex digits follow
			r, n := hex4(data[i+2:i+6]), 6
			if 0xD800 <= r && r < 0xDC00 && i+12 <= len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
				if lo := hex4(data[i+8 : i+12]); 0xDC00 <= lo && lo < 0xE000 {
					n = 12 // a pair
				}
			}
			if n == 6 && 0xD800 <= r && r < 0xE000 {
				return i, fmt.Sprintf("a lone surrogate (%s)", data[i:i+6])
			}
			i += n
		case inString && b == '\\':
			i += 2 // an escape of one character, \" included
		default:
			i++
		}
	}
	return -1, ""
}

// hex4 is the value of four hex digits.
func hex4(h []byte) rune {
	v, _ := strconv.ParseUint(string(h), 16, 16)
	return rune(v)
}

// next returns the offset of the next token: the decoder's offset past any
// white space and separator.
func (p *parser) next() int {
	i := int(p.dec.InputOffset())
	for i < len(p.data) {
		switch p.data[i] {
		case ' ', '\t', '\n', '\r', ',', ':':
			i++
		default:
			return i
		}
	}
	return i
}

func (p *parser) value() (*node, error) {
	n := &node{off: p.next()}
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		n.kind = kindNull
	case bool:
		n.kind, n.b = kindBool, t
	case json.Number:
		n.kind, n.num = kindNumber, t
	case string:
		n.kind, n.str = kindString, t
	case json.Delim:
		switch t {
		case '[':
			n.kind = kindArray
			for p.dec.More() {
				e, err := p.value()
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, e)
			}
		case '{':
			n.kind = kindObject
			for p.dec.More() {
				off := p.next()
				name, err := p.dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := p.value()
				if err != nil {
					return nil, err
				}
				n.members = append(n.members, member{name: name.(string), off: off, val: v})
			}
		}
		if _, err := p.dec.Token(); err != nil { // the closing ] or }
			return nil, err
		}
	}
	return n, nil
}

// fields checks the members of object n: no repeated name and, when known
// is not nil, no name outside known. what names the object in messages.
func (p *parser) fields(n *node, entry, what string, known []string) error {
	seen := make(map[string]bool, len(n.members))
	for _, f := range n.members {
		if seen[f.name] {
			if known == nil { // an object of the caller's: say which
				return p.fail(f.off, entry, malformed("field %q appears twice in %s", f.name, what))
			}
			return p.fail(f.off, entry, malformed("field %q appears twice", f.name))
		}
		seen[f.name] = true
		if known != nil && !slices.Contains(known, f.name) {
			msg := fmt.Sprintf("unknown field %q", f.name)
			if s := suggest(f.name, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return p.fail(f.off, entry, malformed("%s; the fields of %s are %s", msg, what, strings.Join(known, ", ")))
		}
	}
	return nil
}

// want fails with "field: want X, got Y" at n; with no field, with "want X,
// got Y".
func (p *parser) want(n *node, entry, field, want string) error {
	if field == "" {
		return p.fail(n.off, entry, malformed("want %s, got %s", want, n.describe()))
	}
	return p.fail(n.off, entry, malformed("%s: want %s, got %s", field, want, n.describe()))
}

func (p *parser) manifest(root *node) (*Manifest, error) {
	if root.kind != kindObject {
		return nil, p.fail(root.off, "", malformed("a manifest is a JSON object, not %s", root.kind))
	}
	if err := p.fields(root, "", "a manifest", manifestFields); err != nil {
		return nil, err
	}
	m := &Manifest{File: p.file, at: &positions{owner: p.position(root.off), selections: map[[2]string]pos{}}}
	owned := false
	for _, f := range root.members {
		v := f.val
		if v.kind == kindNull {
			continue
		}
		switch f.name {
		case "owner":
			if v.kind != kindString {
				return nil, p.want(v, "owner", "", "a string")
			}
			m.Owner, owned, m.at.owner = v.str, true, p.position(v.off)
			if err := domain.CheckName("owner", m.Owner, false); err != nil {
				return nil, errorAt(p.file, m.at.owner, "owner", err)
			}
		case "candidates":
			if v.kind != kindArray {
				return nil, p.want(v, "", "candidates", "an array of candidates")
			}
			for i, e := range v.elems {
				c, cp, err := p.candidate(i, e)
				if err != nil {
					return nil, err
				}
				m.Candidates = append(m.Candidates, c)
				m.at.candidates = append(m.at.candidates, cp)
				// What the registry would refuse, here rather than after
				// the walk, so that the first problem in the file is the
				// one reported.
				if err := m.checkCandidate(i, c); err != nil {
					return nil, err
				}
			}
		case "selections":
			sel, err := p.selections(m.at, v)
			if err != nil {
				return nil, err
			}
			m.Selections = sel
		}
	}
	if !owned {
		if p.file != "" {
			m.Owner = filepath.Base(p.file)
		}
		if err := domain.CheckName("owner", m.Owner, false); err != nil {
			return nil, errorAt(p.file, m.at.owner, "owner", err)
		}
	}
	return m, nil
}

func (p *parser) candidate(i int, n *node) (registry.Candidate, candidatePos, error) {
	var c registry.Candidate
	cp := candidatePos{object: p.position(n.off), fields: map[string]pos{}}
	if n.kind != kindObject {
		return c, cp, p.fail(n.off, fmt.Sprintf("candidates[%d]", i), malformed("want a candidate (an object), got %s", n.describe()))
	}
	// Name the entry by its address, as far as it has one.
	var d, k string
	for _, f := range n.members {
		switch {
		case f.name == "domain" && f.val.kind == kindString:
			d = f.val.str
		case f.name == "key" && f.val.kind == kindString:
			k = f.val.str
		}
	}
	entry := candidateEntry(i, d, k)
	if err := p.fields(n, entry, "a candidate", candidateFields); err != nil {
		return c, cp, err
	}
	for _, f := range n.members {
		v := f.val
		cp.fields[f.name] = p.position(v.off)
		if v.kind == kindNull {
			continue
		}
		var err error
		switch f.name {
		case "domain", "key", "provider", "source", "factory":
			if v.kind != kindString {
				return c, cp, p.want(v, entry, f.name, "a string")
			}
			switch f.name {
			case "domain":
				c.Domain = v.str
			case "key":
				c.Key = v.str
			case "provider":
				c.Provider = v.str
			case "source":
				c.Source, err = registry.ParseSource(v.str)
				if err != nil {
					err = fmt.Errorf("%w (want local_pkg, remote_manifest, entry_point or manual)", err)
				}
			case "factory":
				if v.str == "" {
					err = fmt.Errorf("%w: factory is empty; leave it out when there is none", registry.ErrInvalidCandidate)
				}
				c.Factory = v.str
			}
		case "priority":
			var prio int
			prio, err = p.integer(v, entry, f.name)
			c.Priority = &prio
		case "stack_level":
			c.StackLevel, err = p.integer(v, entry, f.name)
		case "capabilities":
			if v.kind != kindArray {
				return c, cp, p.want(v, entry, f.name, "an array of strings")
			}
			for j, e := range v.elems {
				if e.kind != kindString {
					return c, cp, p.want(e, entry, fmt.Sprintf("capabilities[%d]", j), "a string")
				}
				c.Capabilities = append(c.Capabilities, e.str)
			}
		case "metadata":
			if v.kind != kindObject {
				return c, cp, p.want(v, entry, f.name, "an object")
			}
			var meta any
			meta, err = p.any(v, entry, "metadata")
			if m, _ := meta.(map[string]any); err == nil && len(m) > 0 {
				c.Metadata = m
			}
		}
		if err != nil {
			var me *Error
			if errors.As(err, &me) {
				return c, cp, err
			}
			return c, cp, p.fail(v.off, entry, err)
		}
	}
	return c, cp, nil
}

// integer returns the int in n, written without fraction or exponent.
func (p *parser) integer(n *node, entry, field string) (int, error) {
	if n.kind != kindNumber {
		return 0, p.want(n, entry, field, "an integer")
	}
	i, err := strconv.Atoi(n.num.String())
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, p.fail(n.off, entry, malformed("%s: %s is out of the range of an int", field, n.num))
		}
		return 0, p.want(n, entry, field, "an integer (no fraction, no exponent)")
	}
	return i, nil
}

// any converts n to the value encoding/json would decode into an any
// (numbers are float64), refusing repeated fields. path names n in errors.
func (p *parser) any(n *node, entry, path string) (any, error) {
	switch n.kind {
	case kindNull:
		return nil, nil
	case kindBool:
		return n.b, nil
	case kindString:
		return n.str, nil
	case kindNumber:
		f, err := n.num.Float64()
		if err != nil {
			return nil, p.fail(n.off, entry, malformed("%s: %s is out of the range of a float64", path, n.num))
		}
		return f, nil
	case kindArray:
		out := make([]any, len(n.elems))
		for i, e := range n.elems {
			v, err := p.any(e, entry, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	if err := p.fields(n, entry, path, nil); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(n.members))
	for _, f := range n.members {
		v, err := p.any(f.val, entry, path+"."+f.name)
		if err != nil {
			return nil, err
		}
		out[f.name] = v
	}
	return out, nil
}

func (p *parser) selections(at *positions, n *node) (map[string]map[string]string, error) {
	const want = `an object of domains, each an object of keys and providers, as {"adapter": {"cache": "redis"}}`
	if n.kind != kindObject {
		return nil, p.want(n, "", "selections", want)
	}
	if err := p.fields(n, "selections", "selections", nil); err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, d := range n.members {
		if d.val.kind == kindNull {
			continue
		}
		if d.val.kind != kindObject {
			return nil, p.want(d.val, "selections."+shown(d.name), "", "an object of keys and providers")
		}
		if err := p.fields(d.val, "selections."+shown(d.name), "selections."+shown(d.name), nil); err != nil {
			return nil, err
		}
		for _, k := range d.val.members {
			if k.val.kind == kindNull {
				continue
			}
			entry := selectionEntry(d.name, k.name)
			if k.val.kind != kindString {
				return nil, p.want(k.val, entry, "", "a provider (a string)")
			}
			if out[d.name] == nil {
				out[d.name] = map[string]string{}
			}
			out[d.name][k.name] = k.val.str
			at.selections[[2]string{d.name, k.name}] = p.position(k.val.off)
			if err := checkSelection(d.name, k.name, k.val.str); err != nil {
				return nil, errorAt(p.file, at.selections[[2]string{d.name, k.name}], entry, err)
			}
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// suggest returns the name in known closest to s, if it is at most two
// edits away: the likely intended field of a misspelt one.
func suggest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := distance(strings.ToLower(s), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
