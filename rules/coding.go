package rules

import (
	"errors"
	"fmt"
	"github.com/calaim-gateway/calaim-gateway/internal/csvtable"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// DefaultCodingTablePath names the embedded table in messages.
const DefaultCodingTablePath = "rules/data/hcpcs_ecm_cs.csv (embedded)"

// Program is the benefit a coding leg belongs to.
type Program string

const (
	ProgramECM      Program = "ECM"
	ProgramCS       Program = "CS"       // one of the 14 pre-approved Community Supports
	ProgramTR       Program = "TR"       // Transitional Rent
	ProgramOutreach Program = "OUTREACH" // housing outreach encounters
)

// CodeLeg is one allowed HCPCS code + modifier set for a service.
type CodeLeg struct {
	ServiceID   string // "ECM", "CS01".."CS14", "TR", "HO"
	ServiceName string
	Program     Program
	HCPCS       string
	Modifiers   []string // as written in the table; they match in any order
	Default     bool     // the leg a bare service name resolves to
	Outreach    bool
	Unit        string
	From, To    civil.Date // To zero = open
	Source      string
	Row         int // line in the table file
}

// InForce reports whether the leg is effective on d.
func (l *CodeLeg) InForce(d civil.Date) bool {
	return d >= l.From && (l.To == 0 || d <= l.To)
}

// Code renders the leg as "H0043 U6".
func (l *CodeLeg) Code() string {
	return strings.Join(append([]string{l.HCPCS}, l.Modifiers...), " ")
}

// CodingTable is the DHCS ECM/CS coding table: which HCPCS code and modifier
// sets may appear on an encounter, per date of service.
type CodingTable struct {
	Path string
	Legs []CodeLeg

	byCode    map[string][]int // codeKey → legs
	hcpcs     map[string]bool  // codes that appear with any modifiers
	byLegName map[string][]int // normalized leg name → legs
	services  map[string]string
	svcLegs   map[string][]int // service id → legs
}

func codeKey(hcpcs string, sortedMods []string) string {
	return hcpcs + "|" + strings.Join(sortedMods, " ")
}

// key is l's code and modifier set as the table indexes it (codeKey).
func (l *CodeLeg) key() string {
	return codeKey(l.HCPCS, slices.Sorted(slices.Values(l.Modifiers)))
}

// normName folds a service name for matching: case, "&" vs "and", and
// punctuation do not matter.
func normName(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, "&", " and "))
	var b strings.Builder
	space := false
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			space = false
		} else {
			space = true
		}
	}
	return b.String()
}

// DefaultCodingTable returns the embedded table.
func DefaultCodingTable() *CodingTable {
	f, err := embedded.Open("data/hcpcs_ecm_cs.csv")
	if err != nil {
		panic("rules: embedded coding table: " + err.Error())
	}
	defer f.Close()
	t, err := ParseCodingTable(f, DefaultCodingTablePath)
	if err != nil {
		panic("rules: embedded coding table: " + err.Error())
	}
	return t
}

// LoadCodingTable reads the coding table from path, or, when path is "",
// hcpcs_ecm_cs.csv from the rule data (see DataFS: a plan's rules_data
// directory over the embedded default).
func LoadCodingTable(path, rulesData string) (*CodingTable, error) {
	if path == "" {
		if rulesData == "" {
			return DefaultCodingTable(), nil
		}
		f, err := DataFS(rulesData).Open("hcpcs_ecm_cs.csv")
		if err != nil {
			return nil, fmt.Errorf("coding table: %w", err)
		}
		defer f.Close()
		name := DefaultCodingTablePath
		if _, err := os.Stat(filepath.Join(rulesData, "hcpcs_ecm_cs.csv")); err == nil {
			name = filepath.Join(rulesData, "hcpcs_ecm_cs.csv")
		}
		return ParseCodingTable(f, name)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("coding table: %w", err)
	}
	defer f.Close()
	return ParseCodingTable(f, path)
}

var codingColumns = []string{"service_id", "service_name", "service_aliases", "program", "hcpcs", "modifiers",
	"default_leg", "leg_names", "outreach", "unit", "effective_from", "effective_to", "source"}

// ParseCodingTable reads the CSV form of the table. Lines starting with #
// are comments. Every problem is reported with its line.
func ParseCodingTable(r io.Reader, path string) (*CodingTable, error) {
	tr, err := csvtable.NewReader(r, path, codingColumns...)
	if err != nil {
		return nil, err
	}
	t := &CodingTable{Path: path, byCode: map[string][]int{}, hcpcs: map[string]bool{},
		byLegName: map[string][]int{}, services: map[string]string{}, svcLegs: map[string][]int{}}
	var errs []error
	svcNames := map[string]string{} // service id → name, for consistency
	for {
		err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		row := tr.Row()
		line, get := row.Line(), row.Get
		bad := func(format string, a ...any) { errs = append(errs, row.Errorf(format, a...)) }
		leg := CodeLeg{
			ServiceID:   get("service_id"),
			ServiceName: get("service_name"),
			Program:     Program(strings.ToUpper(get("program"))),
			HCPCS:       strings.ToUpper(get("hcpcs")),
			Default:     strings.EqualFold(get("default_leg"), "Y"),
			Outreach:    strings.EqualFold(get("outreach"), "Y"),
			Unit:        get("unit"),
			Source:      get("source"),
			Row:         line,
		}
		if leg.ServiceID == "" || leg.ServiceName == "" {
			bad("service_id and service_name are required")
			continue
		}
		switch leg.Program {
		case ProgramECM, ProgramCS, ProgramTR, ProgramOutreach:
		default:
			bad("program %q is not ECM, CS, TR or OUTREACH", leg.Program)
		}
		if !ValidHCPCSShape(leg.HCPCS) {
			bad("hcpcs %q is not a HCPCS code", leg.HCPCS)
		}
		mods, err := ParseModifiers(get("modifiers"))
		if err != nil {
			bad("modifiers: %v", err)
		}
		leg.Modifiers = mods
		if leg.From, err = civil.Parse(get("effective_from")); err != nil {
			bad("effective_from: %v", err)
		}
		if s := get("effective_to"); s != "" {
			if leg.To, err = civil.Parse(s); err != nil {
				bad("effective_to: %v", err)
			} else if leg.To < leg.From {
				bad("effective_to %s is before effective_from %s", leg.To, leg.From)
			}
		}
		if leg.Source == "" {
			bad("source is required: say where the code comes from")
		}
		if prev, ok := svcNames[leg.ServiceID]; ok && prev != leg.ServiceName {
			bad("service %s is named %q here and %q above", leg.ServiceID, leg.ServiceName, prev)
		}
		svcNames[leg.ServiceID] = leg.ServiceName
		i := len(t.Legs)
		key := leg.key()
		for _, j := range t.byCode[key] {
			if o := t.Legs[j]; overlaps(&o, &leg) {
				bad("%s overlaps line %d in effective dates", leg.Code(), o.Row)
			}
		}
		t.Legs = append(t.Legs, leg)
		t.byCode[key] = append(t.byCode[key], i)
		t.hcpcs[leg.HCPCS] = true
		t.svcLegs[leg.ServiceID] = append(t.svcLegs[leg.ServiceID], i)
		for _, n := range splitList(get("leg_names")) {
			k := normName(n)
			t.byLegName[k] = append(t.byLegName[k], i)
		}
		for _, n := range append(splitList(get("service_aliases")), leg.ServiceID, leg.ServiceName) {
			k := normName(n)
			if prev, ok := t.services[k]; ok && prev != leg.ServiceID {
				bad("name %q names both service %s and %s", n, prev, leg.ServiceID)
			}
			t.services[k] = leg.ServiceID
		}
	}
	// A service with several legs in force on a day may have one default leg at most.
	for id, legs := range t.svcLegs {
		for a := 0; a < len(legs); a++ {
			for b := a + 1; b < len(legs); b++ {
				la, lb := &t.Legs[legs[a]], &t.Legs[legs[b]]
				if la.Default && lb.Default && overlaps(la, lb) {
					errs = append(errs, fmt.Errorf("%s: service %s has two default legs in force at once (lines %d and %d)", path, id, la.Row, lb.Row))
				}
			}
		}
	}
	if len(t.Legs) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s: no rows", path))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

func overlaps(a, b *CodeLeg) bool {
	return a.From <= openEnd(b.To) && b.From <= openEnd(a.To)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ValidHCPCSShape reports whether s looks like a HCPCS Level II code (a
// letter and four digits) or a CPT code (five digits, or four digits and a
// letter for Category II/III).
func ValidHCPCSShape(s string) bool {
	if len(s) != 5 {
		return false
	}
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	isUpper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	for i := 1; i < 4; i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	switch {
	case isUpper(s[0]) && isDigit(s[4]):
		return true
	case isDigit(s[0]) && (isDigit(s[4]) || s[4] == 'F' || s[4] == 'T'):
		return true
	}
	return false
}

// ParseModifiers splits a modifier list written with spaces, commas,
// semicolons, colons or hyphens ("U8 GQ", "U8,GQ", "U8-GQ") and checks each
// is two letters or digits. Order is kept; duplicates are an error.
func ParseModifiers(s string) ([]string, error) {
	fields := strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool {
		return r == ' ' || r == ',' || r == ';' || r == ':' || r == '-' || r == '\t'
	})
	for i, m := range fields {
		if len(m) != 2 || !isAlnumASCII(m[0]) || !isAlnumASCII(m[1]) {
			return nil, fmt.Errorf("%q is not a two-character modifier", m)
		}
		if slices.Contains(fields[:i], m) {
			return nil, fmt.Errorf("modifier %s appears twice", m)
		}
	}
	return fields, nil
}

func isAlnumASCII(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
}

// LookupResult tells why a code did or did not match.
type LookupResult int

const (
	CodeAllowed         LookupResult = iota
	CodeUnknown                      // the HCPCS code is not in the table at all
	ModifiersNotAllowed              // the code is, but not with this modifier set
	CodeNotInForce                   // the code + modifiers are, but not on this date
)

// Lookup finds the leg for hcpcs with exactly the given modifiers (in any
// order) in force on dos.
func (t *CodingTable) Lookup(hcpcs string, modifiers []string, dos civil.Date) (*CodeLeg, LookupResult) {
	sorted := modifiers
	if !slices.IsSorted(sorted) {
		sorted = slices.Sorted(slices.Values(modifiers))
	}
	idx, ok := t.byCode[codeKey(hcpcs, sorted)]
	if !ok {
		if t.hcpcs[hcpcs] {
			return nil, ModifiersNotAllowed
		}
		return nil, CodeUnknown
	}
	for _, i := range idx {
		if t.Legs[i].InForce(dos) {
			return &t.Legs[i], CodeAllowed
		}
	}
	return nil, CodeNotInForce
}

// CoversThrough reports whether leg's code and modifier set stay in the
// table from leg's day through to: leg itself, or the rows of the same
// code and modifiers that take over day after day. When not, it returns
// the first day that no row covers.
func (t *CodingTable) CoversThrough(leg *CodeLeg, to civil.Date) (civil.Date, bool) {
	key := "" // made when the leg ends before to
	for cur := leg; cur.To != 0 && cur.To < to; {
		if key == "" {
			key = leg.key()
		}
		day := cur.To.AddDays(1)
		cur = nil
		for _, i := range t.byCode[key] {
			if t.Legs[i].InForce(day) {
				cur = &t.Legs[i]
				break
			}
		}
		if cur == nil {
			return day, false
		}
	}
	return 0, true
}

// AllowedFor lists the code + modifier sets of hcpcs in force on dos, for messages.
func (t *CodingTable) AllowedFor(hcpcs string, dos civil.Date) []string {
	var out []string
	for i := range t.Legs {
		if l := &t.Legs[i]; l.HCPCS == hcpcs && l.InForce(dos) {
			out = append(out, l.Code())
		}
	}
	return out
}

// ErrAmbiguousService and ErrUnknownService explain Resolve failures.
var (
	ErrUnknownService   = errors.New("unknown service")
	ErrAmbiguousService = errors.New("service has several codes")
)

// Resolve turns a service name (a leg name, a service name, alias or id)
// into the leg to bill on dos.
func (t *CodingTable) Resolve(name string, dos civil.Date) (*CodeLeg, error) {
	k := normName(name)
	if idx, ok := t.byLegName[k]; ok {
		for _, i := range idx {
			if t.Legs[i].InForce(dos) {
				return &t.Legs[i], nil
			}
		}
		return nil, fmt.Errorf("%w: %q is not in force on %s", ErrUnknownService, name, dos)
	}
	id, ok := t.services[k]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownService, name)
	}
	var inForce []*CodeLeg
	for _, i := range t.svcLegs[id] {
		if l := &t.Legs[i]; l.InForce(dos) {
			if l.Default {
				return l, nil
			}
			inForce = append(inForce, l)
		}
	}
	switch len(inForce) {
	case 0:
		return nil, fmt.Errorf("%w: %q has no code in force on %s", ErrUnknownService, name, dos)
	case 1:
		return inForce[0], nil
	}
	codes := make([]string, len(inForce))
	for i, l := range inForce {
		codes[i] = l.Code()
	}
	return nil, fmt.Errorf("%w: %q is billed as one of %s; give the hcpcs and modifiers", ErrAmbiguousService, name, strings.Join(codes, ", "))
}

// namesLeg reports whether name is a leg name of the table (as Resolve
// reads it first) and, when it is, whether it names leg's code and
// modifier set.
func (t *CodingTable) namesLeg(name string, leg *CodeLeg) (isLegName, same bool) {
	idx, ok := t.byLegName[normName(name)]
	if !ok {
		return false, false
	}
	key := leg.key()
	for _, i := range idx {
		if t.Legs[i].key() == key {
			return true, true
		}
	}
	return true, false
}

// ServiceID returns the service a name, alias or id stands for.
func (t *CodingTable) ServiceID(name string) (string, bool) {
	id, ok := t.services[normName(name)]
	return id, ok
}

// ServiceLegs returns the legs of a service id.
func (t *CodingTable) ServiceLegs(id string) []*CodeLeg {
	var out []*CodeLeg
	for _, i := range t.svcLegs[id] {
		out = append(out, &t.Legs[i])
	}
	return out
}
