package manifest

import (
	"encoding/json"
	"fmt"

	"github.com/oneiric-go/oneiric/domain"
	"github.com/oneiric-go/oneiric/registry"
)

// Manifest is one parsed manifest: the candidates an owner registers and the
// selections it asks for. [Parse] fills File and positions for error
// messages; a Manifest built in code is validated by [Manifest.Validate] (and
// by [Load]) without positions.
//
// The zero value is not valid: Owner must be set. A Manifest is a plain
// value; Load copies what it registers, so changing a Manifest afterwards
// changes nothing in a registry.
type Manifest struct {
	// File is the name the manifest was parsed from, as given to [Parse] or
	// [ParseFile]; errors name it. "" for a manifest built in code.
	File string
	// Owner owns the candidates: loading the manifest again replaces this
	// owner's set, through [registry.Registry.Apply]. Parse sets it to the
	// file's base name ("cache.json") when the manifest has no "owner".
	Owner string
	// Candidates in the order of the file. Factory is nil or the factory's
	// name, a string, kept as is: nothing here can call it. Priority is nil
	// when the manifest gives none (the registry's default then applies).
	// Empty Capabilities and Metadata are nil; metadata numbers are float64,
	// as encoding/json decodes them into an any.
	Candidates []registry.Candidate
	// Selections: domain → key → provider, each provider non-empty.
	Selections map[string]map[string]string

	// Positions of the parts in the parsed file, for error messages; nil
	// unless parsed. They follow the file: after a caller reorders
	// Candidates, an error may point at the file's entry of that index.
	at *positions
}

// positions locates the parts of a parsed manifest in its file.
type positions struct {
	owner      pos
	candidates []candidatePos
	selections map[[2]string]pos
}

type candidatePos struct {
	object pos            // the candidate's "{"
	fields map[string]pos // each field's name, by field
}

// field returns the position of candidates[i]'s field name, else that of
// the candidate, else the zero pos.
func (p *positions) field(i int, name string) pos {
	if p == nil || i >= len(p.candidates) {
		return pos{}
	}
	if fp, ok := p.candidates[i].fields[name]; ok {
		return fp
	}
	return p.candidates[i].object
}

func (p *positions) ownerPos() pos {
	if p == nil {
		return pos{}
	}
	return p.owner
}

func (p *positions) selection(domainName, key string) pos {
	if p == nil {
		return pos{}
	}
	return p.selections[[2]string{domainName, key}]
}

// Validate reports the first problem of m that would stop [Load]: an invalid
// owner, a candidate the registry would refuse (its names, its source, its
// metadata), a factory that is not a non-empty name, or an invalid
// selection. Its errors are *[Error] values matching
// [registry.ErrInvalidCandidate]. A Manifest returned by [Parse] is valid.
// Registry limits ([registry.WithLimits]) are not checked here: only a
// registry knows them, and Load reports them.
func (m *Manifest) Validate() error {
	if m == nil {
		return &Error{Err: fmt.Errorf("%w: the manifest is nil", registry.ErrInvalidCandidate)}
	}
	if err := domain.CheckName("owner", m.Owner, false); err != nil {
		return errorAt(m.File, m.at.ownerPos(), "owner", err)
	}
	for i, c := range m.Candidates {
		if err := m.checkCandidate(i, c); err != nil {
			return err
		}
	}
	for _, d := range sortedKeys(m.Selections) {
		for _, k := range sortedKeys(m.Selections[d]) {
			if err := checkSelection(d, k, m.Selections[d][k]); err != nil {
				return errorAt(m.File, m.at.selection(d, k), selectionEntry(d, k), err)
			}
		}
	}
	return nil
}

// checkCandidate checks candidates[i] field by field, so that the error
// points at the field at fault, then as a whole with [domain.Prepare].
func (m *Manifest) checkCandidate(i int, c registry.Candidate) error {
	entry := candidateEntry(i, c.Domain, c.Key)
	fail := func(field string, err error) error {
		return errorAt(m.File, m.at.field(i, field), entry, err)
	}
	for _, f := range []struct {
		name, value string
		allowEmpty  bool
	}{{"domain", c.Domain, false}, {"key", c.Key, false}, {"provider", c.Provider, true}} {
		if err := domain.CheckName(f.name, f.value, f.allowEmpty); err != nil {
			return fail(f.name, err)
		}
	}
	switch f := c.Factory.(type) {
	case nil:
	case string:
		if err := domain.CheckName("factory", f, false); err != nil {
			return fail("factory", err)
		}
	default:
		return fail("factory", fmt.Errorf("%w: factory must be a name (a string), not a %T", registry.ErrInvalidCandidate, f))
	}
	if !c.Source.Valid() {
		return fail("source", fmt.Errorf("%w: unknown source %d", registry.ErrInvalidCandidate, uint8(c.Source)))
	}
	if _, err := domain.Prepare(c, 0, m.Owner); err != nil {
		return fail("metadata", err) // what is left to refuse is in the metadata
	}
	return nil
}

func checkSelection(domainName, key, provider string) error {
	if err := domain.CheckAddress(domainName, key, provider); err != nil {
		return err
	}
	if provider == "" {
		return fmt.Errorf("%w: the selection names no provider", registry.ErrInvalidCandidate)
	}
	return nil
}

// candidateJSON is the JSON form of a candidate, in the order docs/manifest.md
// lists the fields.
type candidateJSON struct {
	Domain       string          `json:"domain"`
	Key          string          `json:"key"`
	Provider     string          `json:"provider,omitempty"`
	Priority     *int            `json:"priority,omitempty"`
	StackLevel   int             `json:"stack_level,omitempty"`
	Capabilities []string        `json:"capabilities,omitempty"`
	Metadata     map[string]any  `json:"metadata,omitempty"`
	Source       registry.Source `json:"source"`
	Factory      string          `json:"factory,omitempty"`
}

// MarshalJSON returns m in the manifest format. For a Manifest that [Parse]
// returned, Parse reads the output back to an equal Manifest (File and
// positions aside). One built in code comes back as Parse returns every
// manifest: empty Capabilities and Metadata as nil, metadata numbers as
// float64. It fails for a manifest that [Manifest.Validate] refuses, and for
// metadata that is not JSON. Its receiver is a value, so a Manifest and a
// *Manifest marshal alike.
func (m Manifest) MarshalJSON() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	out := struct {
		Owner      string                       `json:"owner"`
		Candidates []candidateJSON              `json:"candidates"`
		Selections map[string]map[string]string `json:"selections,omitempty"`
	}{Owner: m.Owner, Candidates: make([]candidateJSON, len(m.Candidates)), Selections: m.Selections}
	for i, c := range m.Candidates {
		factory, _ := c.Factory.(string) // Validate allows only a string or nil
		out.Candidates[i] = candidateJSON{
			Domain: c.Domain, Key: c.Key, Provider: c.Provider, Priority: c.Priority, StackLevel: c.StackLevel,
			Capabilities: c.Capabilities, Metadata: c.Metadata, Source: c.Source, Factory: factory,
		}
	}
	return json.Marshal(out)
}
