package rules

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/csvtable"
)

// ProviderFileMappingFile is the name of the 274 mapping in the rule data
// (rules/data).
const ProviderFileMappingFile = "provider_file_274.csv"

// Facts a row of the 274 mapping can place: what a roster site says of
// itself, which the mapping turns into 274 segments.
const (
	FactTaxonomy         = "taxonomy"
	FactProgram          = "program"
	FactPOF              = "ecm_pof"
	FactCommunitySupport = "community_support"
	FactProviderType     = "provider_type"
	FactMediCalEnrolled  = "medi_cal_enrolled"
	FactAccessibility    = "accessibility"
	FactCapacityCurrent  = "capacity_current"
	FactCapacityMax      = "capacity_max"
	// FactSite is every site (value "*" only): a constant the production
	// file shows on each site (CRC*DJ*Y*1S, fixed N2 sub-fields).
	FactSite               = "site"
	FactCounty             = "county" // the site's two-digit county code
	FactTIN                = "tin"    // the organization's 9-digit TIN
	FactFacilityID         = "facility_id"
	FactFacilityLocationID = "facility_location_id"
	FactProviderLocationID = "provider_location_id"
)

// MappingFacts lists the facts a row of the 274 mapping can place, in the
// order a site's segments are built.
var MappingFacts = []string{FactTaxonomy, FactProgram, FactPOF, FactCommunitySupport, FactProviderType, FactMediCalEnrolled,
	FactAccessibility, FactCapacityCurrent, FactCapacityMax, FactSite, FactCounty, FactTIN, FactFacilityID, FactFacilityLocationID,
	FactProviderLocationID}

// The site's N2 composites as the production file shows them
// (dhcs-observed-formats.md B7.8 [P]): N201 has 12 semicolon-separated
// sub-fields, N202 6.
const (
	N201SubFields = 12
	N202SubFields = 6
)

// Targets: where a row may put its value, with the limits of the 274 table.
type mappingTarget struct {
	loop, segment    string
	qualMin, qualMax int // 0, 0: no qualifier
	codeMax          int
	numeric          bool // the code must be {value} of a count fact
}

var mappingTargets = []mappingTarget{
	{loop: "2120DA", segment: "LQ", qualMin: 1, qualMax: 3, codeMax: 30},
	{loop: "2120DA", segment: "TPB", codeMax: 3},                          // code = TPB01, after each LQ of the same fact and value
	{loop: "2100DA", segment: "REF", qualMin: 2, qualMax: 3, codeMax: 30}, // qualifier N5-k: part k of a composite REF02
	{loop: "2100DA", segment: "N2", qualMin: 6, qualMax: 7, codeMax: 60},  // qualifier N201-k or N202-k: a composite's sub-field k
	{loop: "2100DA", segment: "QTY", qualMin: 2, qualMax: 2, codeMax: 15, numeric: true},
	{loop: "2100DA", segment: "CRC", qualMin: 2, qualMax: 2, codeMax: 20}, // qualifier CRC01; code "CRC02 CRC03 ..." (space-separated)
	{loop: "2110DA", segment: "N4", qualMin: 2, qualMax: 2, codeMax: 30},  // qualifier CY, fact county: N405/N406
}

// targetNames lists the targets for messages.
const targetNames = "2120DA LQ, 2120DA TPB, 2100DA REF, 2100DA N2, 2100DA QTY, 2100DA CRC or 2110DA N4"

// ProviderFileRow is one row of the 274 mapping: sites with Fact = Value
// get one Segment in Loop.
type ProviderFileRow struct {
	Fact, Value   string // Value "*" matches any value
	Loop, Segment string
	Qualifier     string // N2: "" (the composite element is Element); REF: REF01 without the part
	// Element is the N2 element of an N2 row: 1 (N201) or 2 (N202).
	Element int
	// Part is the sub-field of an N2 row (1–12 of N201, 1–6 of N202) or
	// the part of a composite REF02 ("N5-2": 2); 0 = the whole element.
	Part     int
	Code     string // "{value}" is replaced by the site's value
	From, To civil.Date
	Source   string
	Line     int
}

// ProviderFileMapping is the 274 mapping (provider_file_274.csv): which
// 274 segments a roster site's facts become.
type ProviderFileMapping struct {
	Path string
	Rows []ProviderFileRow
}

// ParseProviderFileMapping reads the CSV form of the 274 mapping and checks
// every row against the rule tables (t, coding) and the 274 table's
// limits; every problem names its line.
func ParseProviderFileMapping(r io.Reader, path string, t *Tables, coding *CodingTable) (*ProviderFileMapping, error) {
	tr, err := csvtable.NewReader(r, path, "fact", "value", "loop", "segment", "qualifier", "code", "effective_from", "effective_to", "source")
	if err != nil {
		return nil, err
	}
	m := &ProviderFileMapping{Path: path}
	var errs []error
	for {
		err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		tab := tr.Row()
		line, get := tab.Line(), tab.Get
		bad := func(format string, a ...any) { errs = append(errs, tab.Errorf(format, a...)) }
		row := ProviderFileRow{Fact: strings.ToLower(get("fact")), Value: get("value"), Loop: strings.ToUpper(get("loop")), Segment: strings.ToUpper(get("segment")),
			Qualifier: get("qualifier"), Code: get("code"), Source: get("source"), Line: line}
		if !slices.Contains(MappingFacts, row.Fact) {
			bad("fact %q is not one of %s", row.Fact, strings.Join(MappingFacts, ", "))
			continue
		}
		var ok bool
		if row.Value, ok = mappingValue(row.Fact, row.Value, t, coding); !ok {
			bad("value %q is not a %s the rule tables know (or *)", get("value"), row.Fact)
		}
		i := slices.IndexFunc(mappingTargets, func(tg mappingTarget) bool { return tg.loop == row.Loop && tg.segment == row.Segment })
		if i < 0 {
			bad("loop/segment %s %s: want %s", row.Loop, row.Segment, targetNames)
			continue
		}
		tg := mappingTargets[i]
		switch {
		case tg.qualMax == 0 && row.Qualifier != "":
			bad("%s takes no qualifier", row.Segment)
		case tg.segment == "N2":
			row.Element, row.Part = n2SubField(row.Qualifier)
			if row.Element == 0 {
				bad("qualifier %q: N2 takes N201-k (k 1 to %d) or N202-k (k 1 to %d), the sub-field of the site's composite", row.Qualifier, N201SubFields, N202SubFields)
			}
			row.Qualifier = ""
		case tg.segment == "REF" && strings.Contains(row.Qualifier, "-"):
			q, part, _ := strings.Cut(row.Qualifier, "-")
			n, err := strconv.Atoi(part)
			if err != nil || n < 1 || n > 9 || len(q) < 2 || len(q) > 3 || !upperAlnum(q) {
				bad("qualifier %q: REF01 is 2 to 3 letters or digits, with -k (k 1 to 9) for part k of a composite REF02", row.Qualifier)
			}
			row.Qualifier, row.Part = q, n
		case tg.segment == "N4" && (row.Qualifier != "CY" || row.Fact != FactCounty || row.Code != "{value}"):
			bad("N4 carries the county: fact county, qualifier CY (N405) and code {value} (N406)")
		case tg.qualMax > 0 && (len(row.Qualifier) < tg.qualMin || len(row.Qualifier) > tg.qualMax || !upperAlnum(row.Qualifier)):
			bad("qualifier %q: %s%02d is %d to %d letters or digits", row.Qualifier, row.Segment, 1, tg.qualMin, tg.qualMax)
		}
		switch {
		case row.Code == "":
			bad("code is required")
		case tg.numeric && (row.Code != "{value}" || (row.Fact != FactCapacityCurrent && row.Fact != FactCapacityMax)):
			bad("QTY carries a count: fact must be capacity_current or capacity_max and code {value}")
		case strings.ContainsAny(row.Code, "*~:^|\\"):
			bad("code %q holds an X12 delimiter character", row.Code)
		case (row.Element > 0 || row.Part > 0) && strings.Contains(row.Code, ";"):
			bad("code %q holds the composite's separator ;", row.Code)
		case row.Fact == FactSite && strings.Contains(row.Code, "{value}"):
			bad("fact site has no value: the code is a constant")
		case tg.segment == "TPB" && (len(row.Code) > 3 || !upperAlnum(row.Code)):
			bad("code %q: TPB01 is 1 to 3 letters or digits (3G, 3E)", row.Code)
		case tg.segment == "CRC" && !crcCode(row.Code):
			bad("code %q: CRC takes \"<Y or N> <indicator> ...\" (CRC02, then one to five 2- or 3-character CRC03 to CRC07), e.g. \"Y 1S\"", row.Code)
		case !strings.Contains(row.Code, "{value}") && len(row.Code) > tg.codeMax:
			bad("code %q is longer than the %d characters %s allows", row.Code, tg.codeMax, row.Segment)
		}
		if row.From, err = civil.Parse(get("effective_from")); err != nil {
			bad("effective_from: %v", err)
		}
		if v := get("effective_to"); v != "" {
			if row.To, err = civil.Parse(v); err != nil {
				bad("effective_to: %v", err)
			} else if row.To < row.From {
				bad("effective_to %s is before effective_from %s", row.To, row.From)
			}
		}
		if row.Source == "" {
			bad("source is required: say where the qualifier and code come from")
		}
		for _, o := range m.Rows {
			if o.Fact == row.Fact && o.Value == row.Value && o.Loop == row.Loop && o.Segment == row.Segment && o.Qualifier == row.Qualifier &&
				o.Element == row.Element && o.Part == row.Part &&
				row.From <= openEnd(o.To) && o.From <= openEnd(row.To) {
				bad("overlaps line %d (same fact, value, segment and qualifier in force on the same dates)", o.Line)
			}
		}
		m.Rows = append(m.Rows, row)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// mappingValue checks a row's value against the tables and returns it in
// the form the roster uses.
func mappingValue(fact, v string, t *Tables, coding *CodingTable) (string, bool) {
	if v == "*" {
		return v, true
	}
	switch fact {
	case FactProgram:
		v = strings.ToUpper(v)
		return v, v == string(ProgramECM) || v == string(ProgramCS)
	case FactPOF:
		v = strings.ToUpper(v)
		_, ok := t.POFs[v]
		return v, ok
	case FactCommunitySupport:
		id, ok := coding.ServiceID(v)
		if !ok {
			return v, false
		}
		legs := coding.ServiceLegs(id)
		return id, len(legs) > 0 && legs[0].Program != ProgramECM
	case FactProviderType:
		v = strings.ToLower(v)
		_, ok := t.ProviderTypes[v]
		return v, ok
	case FactMediCalEnrolled:
		v = strings.ToUpper(v)
		return v, v == "Y" || v == "N"
	case FactCounty:
		_, ok := t.Counties[v]
		return v, ok
	case FactTIN:
		return v, len(v) == 9 && strings.Trim(v, "0123456789") == ""
	case FactTaxonomy, FactAccessibility, FactCapacityCurrent, FactCapacityMax, FactFacilityID, FactFacilityLocationID, FactProviderLocationID:
		return v, v != ""
	}
	return v, false // FactSite: "*" only
}

// n2SubField reads an N2 row's qualifier: N201-k or N202-k.
func n2SubField(q string) (element, part int) {
	name, k, ok := strings.Cut(q, "-")
	n, err := strconv.Atoi(k)
	switch {
	case !ok || err != nil || n < 1:
	case name == "N201" && n <= N201SubFields:
		return 1, n
	case name == "N202" && n <= N202SubFields:
		return 2, n
	}
	return 0, 0
}

// crcCode checks a CRC row's code: CRC02 (Y or N), then one to five
// condition indicators of 2 or 3 letters or digits.
func crcCode(code string) bool {
	f := strings.Fields(code)
	if len(f) < 2 || len(f) > 6 || (f[0] != "Y" && f[0] != "N") {
		return false
	}
	for _, c := range f[1:] {
		if len(c) < 2 || len(c) > 3 || !upperAlnum(c) {
			return false
		}
	}
	return true
}

func upperAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9') && !(c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// LoadProviderFileMapping reads the 274 mapping: the file at path when one
// is given (providers.mapping_file), else provider_file_274.csv of the rule
// data (rules_data, else the embedded one).
func LoadProviderFileMapping(path string, data fs.FS, rulesData string, t *Tables, coding *CodingTable) (*ProviderFileMapping, error) {
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("274 mapping: %w", err)
		}
		defer f.Close()
		return ParseProviderFileMapping(f, path, t, coding)
	}
	f, err := data.Open(ProviderFileMappingFile)
	if err != nil {
		return nil, fmt.Errorf("274 mapping: %w", err)
	}
	defer f.Close()
	name := "rules/data/" + ProviderFileMappingFile + " (embedded)"
	if rulesData != "" {
		if _, err := os.Stat(filepath.Join(rulesData, ProviderFileMappingFile)); err == nil {
			name = filepath.Join(rulesData, ProviderFileMappingFile)
		}
	}
	return ParseProviderFileMapping(f, name, t, coding)
}
