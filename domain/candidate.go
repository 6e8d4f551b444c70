package domain

// Candidate is what a caller registers: one implementation of a component,
// addressed by Domain and Key, from a Provider. The registry copies it (see
// [Prepare]); the caller may reuse or change the Candidate afterwards without
// affecting what was registered.
//
// The zero value is not registrable: Domain and Key must be set.
type Candidate struct {
	Domain   string // e.g. "adapter", "service", or a tenant's name; required
	Key      string // the component within the domain, e.g. "cache"; required
	Provider string // the implementation, e.g. "redis"; may be empty

	// Priority ranks candidates of one key (higher wins). Nil means the
	// registry's default priority; new(0) means an explicit 0.
	Priority *int
	// StackLevel breaks ties of Priority (higher wins).
	StackLevel int
	// Capabilities the candidate offers. Metadata["capabilities"] (a string
	// or a list of strings) and the "name" of each map in
	// Metadata["capability_descriptors"] add to them.
	Capabilities []string
	// Metadata is free-form, JSON-like data. Maps and slices are deep-copied
	// on registration, keeping their types; other values (pointers, funcs,
	// structs) are kept by reference and are the caller's to keep unchanged.
	Metadata map[string]any
	// Factory is kept by reference and returned by [Entry.Factory]; the
	// registry never calls it.
	Factory any
	// Source says where the candidate came from.
	Source Source
}
