package ig

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// A Check is a rule of one guide that its table cannot express, such as the
// 837P claim balancing rule. The validator makes a new Check for every
// transaction set of the spec it is registered with (see Registry.Register),
// calls Segment for each segment that matched the table, after the table's
// own checks, and End at SE (not when the set ends without its trailer).
type Check interface {
	Segment(t *Txn, seg *x12.Segment)
	End(t *Txn)
}

// A SegmentFilter is a Check that looks at some segments only: the
// validator calls its Segment for segments with those IDs and no others.
type SegmentFilter interface {
	SegmentIDs() []string
}

// Txn is what a Check sees of the transaction set being validated.
type Txn struct {
	r *run
}

// Loop returns the IG loop ID of the current segment ("" outside loops).
func (t *Txn) Loop() string { return t.r.tx.cur.Loop }

// Pos returns the position of the current segment, to report a finding on
// it later.
func (t *Txn) Pos() Pos { return t.r.tx.cur }

// Report adds a finding. A zero Level means LevelElement when Element is
// set and LevelSegment otherwise; Pos.Segment defaults to the current
// segment's ID.
func (t *Txn) Report(f Finding) {
	if f.Level == 0 {
		f.Level = LevelSegment
		if f.Element > 0 {
			f.Level = LevelElement
		}
	}
	if f.Segment == "" {
		f.Segment = t.r.tx.cur.Segment
	}
	t.r.txFinding(f)
}

// A Registry holds the specs a Validator knows, by (GS08, ST01). The zero
// value is empty; NewRegistry has the generated tables. A Registry is safe
// for concurrent use.
type Registry struct {
	mu     sync.RWMutex
	specs  map[[2]string]*entry
	shared bool // Default's: Register refuses to change it
}

// An entry is a spec of a registry with its checks, compiled on first use:
// a registry of five guides used for an 834 compiles the 834 only.
type entry struct {
	spec     *Spec
	compiled func() *compiledSpec // the table with the entry's checks
}

// newEntry returns the entry of s with checks. s must compile: Register
// has compiled it, and Use's callers know it does (the generated specs'
// tests, the 274's).
func newEntry(s *Spec, checks []func() Check) *entry {
	return &entry{spec: s, compiled: sync.OnceValue(func() *compiledSpec {
		cs, err := compiled(s)
		if err != nil {
			panic(fmt.Sprintf("ig: generated spec: %v", err))
		}
		return cs.withChecks(checks)
	})}
}

// tables holds the compiled table of every spec registered so far, by
// *Spec without checks: a spec is compiled once per process, however many
// registries hold it.
var tables sync.Map // *Spec → *compiledSpec

func compiled(s *Spec) (*compiledSpec, error) {
	if cs, ok := tables.Load(s); ok {
		return cs.(*compiledSpec), nil
	}
	cs, err := compile(s)
	if err != nil {
		return nil, err
	}
	v, _ := tables.LoadOrStore(s, cs)
	return v.(*compiledSpec), nil
}

// errShared is Register's error on the registry Default returns.
var errShared = errors.New("ig: the default registry is shared and holds the generated tables only: register into NewRegistry() or Default().Clone()")

// Use adds s with its checks like Register, without compiling it now: s
// is compiled when a set of it first appears. It is for the specs known to
// compile (the generated guides, and those a package test compiles); one
// that does not compile panics at that first set. Use fails on the registry
// Default returns.
func (r *Registry) Use(s *Spec, checks ...func() Check) error {
	if r.shared {
		return errShared
	}
	r.add(newEntry(s, checks))
	return nil
}

// Register adds s with the semantic checks to run on each of its
// transaction sets: each function makes the check for one set (it is first
// called when the first set of the spec starts; whether its checks are
// SegmentFilters, and for which IDs, is learnt then, once). It replaces a
// spec with the same version and set ID. s is compiled the first time any
// registry is given it and must not change after that. Register fails on
// the registry Default returns.
func (r *Registry) Register(s *Spec, checks ...func() Check) error {
	if r.shared {
		return errShared
	}
	if _, err := compiled(s); err != nil {
		return err
	}
	r.add(newEntry(s, checks))
	return nil
}

func (r *Registry) add(e *entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.specs == nil {
		r.specs = map[[2]string]*entry{}
	}
	r.specs[[2]string{e.spec.Version, e.spec.SetID}] = e
}

// Clone returns a registry with the specs of r, to register more with
// (Register on the clone leaves r as it is).
func (r *Registry) Clone() *Registry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c := &Registry{specs: make(map[[2]string]*entry, len(r.specs))}
	for k, v := range r.specs {
		c.specs[k] = v
	}
	return c
}

// Lookup returns the spec for a GS08 version and ST01 transaction set ID, or
// nil.
func (r *Registry) Lookup(version, setID string) *Spec {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if e := r.specs[[2]string{version, setID}]; e != nil {
		return e.spec
	}
	return nil
}

// lookup returns the compiled spec for a version and set ID, compiling it
// on its first use, or nil.
func (r *Registry) lookup(version, setID string) *compiledSpec {
	r.mu.RLock()
	e := r.specs[[2]string{version, setID}]
	r.mu.RUnlock()
	if e == nil {
		return nil
	}
	return e.compiled()
}

// hasVersion reports whether any spec has the GS08 version, and whether one
// of those has the functional identifier code.
func (r *Registry) hasVersion(version, funcID string) (version_, funcOK bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for k, e := range r.specs {
		if k[0] == version {
			version_ = true
			if e.spec.FunctionalID == funcID {
				funcOK = true
			}
		}
	}
	return version_, funcOK
}

// knownID reports whether any spec of r has the segment ID numbered idx.
// It compiles every spec: it is asked only about a segment its own set
// does not hold.
func (r *Registry) knownID(idx int) bool {
	r.mu.RLock()
	es := make([]*entry, 0, len(r.specs))
	for _, e := range r.specs {
		es = append(es, e)
	}
	r.mu.RUnlock()
	for _, e := range es {
		if e.compiled().kinds[idx] != 0 {
			return true
		}
	}
	return false
}

// builtin lists the generated specs with their checks.
var builtin = []struct {
	spec   *Spec
	checks []func() Check
}{
	{Spec837P, []func() Check{newClaimBalance, newSubscriberAddress}},
	{Spec834, nil},
	{Spec999, nil},
	{Spec277CA, nil},
}

// NewRegistry returns a registry of the generated tables: 837P
// (005010X222A1, with the claim balancing check), 834 (005010X220A1), 999
// (005010X231A1) and 277CA (005010X214), to register more into. Each table
// is compiled when a transaction set first needs it, once per process.
func NewRegistry() *Registry {
	r := &Registry{}
	for _, b := range builtin {
		r.add(newEntry(b.spec, b.checks))
	}
	return r
}

var defaultRegistry = sync.OnceValue(func() *Registry {
	r := NewRegistry()
	r.shared = true
	return r
})

// Default returns the registry a Validator uses when Options.Registry is
// nil: NewRegistry's tables, built on first use and shared. Nothing is
// added to it (its Register fails): a caller that needs another spec, such
// as the DHCS 274, builds its own registry with NewRegistry or Clone.
func Default() *Registry { return defaultRegistry() }

// Lookup returns the generated spec for a GS08 version and ST01 ID, or nil.
func Lookup(version, setID string) *Spec { return Default().Lookup(version, setID) }

// InterchangeIDQualifier reports whether q is one of the guide's codes
// of an ISA05 or ISA07 (interchange ID qualifier) of version 00501.
func InterchangeIDQualifier(q string) bool {
	return slices.Contains(controlISA.Elements[4].Codes, q)
}
