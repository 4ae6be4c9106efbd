package providerfile

import (
	"errors"
	"github.com/calaim-gateway/calaim-gateway/internal/csvtable"
	"io"
	"slices"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/mappings/roster"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// MappingFile is the name of the mapping in the rule data (rules/data).
const MappingFile = "provider_file_274.csv"

// Facts a mapping row can place.
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
)

// Programs a site can offer (the program fact's values).
const (
	ProgramECM = "ECM" // contracted for at least one ECM population of focus
	ProgramCS  = "CS"  // contracted for at least one Community Support (Transitional Rent and housing outreach included)
)

var facts = []string{FactTaxonomy, FactProgram, FactPOF, FactCommunitySupport, FactProviderType, FactMediCalEnrolled,
	FactAccessibility, FactCapacityCurrent, FactCapacityMax}

// Targets: where a row may put its value, with the limits of the 274 table.
type target struct {
	loop, segment    string
	qualMin, qualMax int // 0, 0: no qualifier
	codeMax          int
	numeric          bool // the code must be {value} of a count fact
}

var targets = []target{
	{loop: "2120DA", segment: "LQ", qualMin: 1, qualMax: 3, codeMax: 30},
	{loop: "2100DA", segment: "REF", qualMin: 2, qualMax: 3, codeMax: 30},
	{loop: "2100DA", segment: "N2", codeMax: 60},
	{loop: "2100DA", segment: "QTY", qualMin: 2, qualMax: 2, codeMax: 15, numeric: true},
}

// Row is one mapping row: sites with Fact = Value get one Segment in Loop.
type Row struct {
	Fact, Value   string // Value "*" matches any value
	Loop, Segment string
	Qualifier     string
	Code          string // "{value}" is replaced by the site's value
	From, To      civil.Date
	Source        string
	Line          int
}

// Mapping is the parsed mapping file.
type Mapping struct {
	Path string
	Rows []Row
}

// ParseMapping reads the CSV form of the mapping and checks every row
// against the rule tables and the 274 table's limits; every problem names
// its line.
func ParseMapping(r io.Reader, path string, t roster.Tables) (*Mapping, error) {
	tr, err := csvtable.NewReader(r, path, "fact", "value", "loop", "segment", "qualifier", "code", "effective_from", "effective_to", "source")
	if err != nil {
		return nil, err
	}
	m := &Mapping{Path: path}
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
		row := Row{Fact: strings.ToLower(get("fact")), Value: get("value"), Loop: strings.ToUpper(get("loop")), Segment: strings.ToUpper(get("segment")),
			Qualifier: get("qualifier"), Code: get("code"), Source: get("source"), Line: line}
		if !slices.Contains(facts, row.Fact) {
			bad("fact %q is not one of %s", row.Fact, strings.Join(facts, ", "))
			continue
		}
		var ok bool
		if row.Value, ok = normValue(row.Fact, row.Value, t); !ok {
			bad("value %q is not a %s the rule tables know (or *)", get("value"), row.Fact)
		}
		i := slices.IndexFunc(targets, func(tg target) bool { return tg.loop == row.Loop && tg.segment == row.Segment })
		if i < 0 {
			bad("loop/segment %s %s: want 2120DA LQ, 2100DA REF, 2100DA N2 or 2100DA QTY", row.Loop, row.Segment)
			continue
		}
		tg := targets[i]
		switch {
		case tg.qualMax == 0 && row.Qualifier != "":
			bad("%s takes no qualifier", row.Segment)
		case tg.qualMax > 0 && (len(row.Qualifier) < tg.qualMin || len(row.Qualifier) > tg.qualMax || !alnum(row.Qualifier)):
			bad("qualifier %q: %s%02d is %d to %d letters or digits", row.Qualifier, row.Segment, 1, tg.qualMin, tg.qualMax)
		}
		switch {
		case row.Code == "":
			bad("code is required")
		case tg.numeric && (row.Code != "{value}" || (row.Fact != FactCapacityCurrent && row.Fact != FactCapacityMax)):
			bad("QTY carries a count: fact must be capacity_current or capacity_max and code {value}")
		case strings.ContainsAny(row.Code, "*~:^|\\"):
			bad("code %q holds an X12 delimiter character", row.Code)
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
				row.From <= maxDate(o.To) && o.From <= maxDate(row.To) {
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

// normValue checks a row's value against the tables and returns it in the
// form the roster uses.
func normValue(fact, v string, t roster.Tables) (string, bool) {
	if v == "*" {
		return v, true
	}
	switch fact {
	case FactProgram:
		v = strings.ToUpper(v)
		return v, v == ProgramECM || v == ProgramCS
	case FactPOF:
		v = strings.ToUpper(v)
		_, ok := t.Rules.POFs[v]
		return v, ok
	case FactCommunitySupport:
		id, ok := t.Coding.ServiceID(v)
		if !ok {
			return v, false
		}
		legs := t.Coding.ServiceLegs(id)
		return id, len(legs) > 0 && legs[0].Program != rules.ProgramECM
	case FactProviderType:
		v = strings.ToLower(v)
		_, ok := t.Rules.ProviderTypes[v]
		return v, ok
	case FactMediCalEnrolled:
		v = strings.ToUpper(v)
		return v, v == "Y" || v == "N"
	case FactTaxonomy, FactAccessibility, FactCapacityCurrent, FactCapacityMax:
		return v, v != ""
	}
	return v, false
}

func maxDate(d civil.Date) civil.Date {
	if d == 0 {
		return 99991231
	}
	return d
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9') && !(c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
