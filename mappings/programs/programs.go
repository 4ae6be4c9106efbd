// Package programs maps the plan's other_programs feed (CSV, XLSX or JSON
// lines) to domain.ProgramSpan records: which members are in a program that
// may exclude ECM (hospice, PACE, 1915(c) waivers, CCT, Family Mosaic, plan
// CCM, D-SNPs ...), and when. Columns: member_cin, program, start_date,
// end_date (empty = open), and an optional source (where the plan learned
// it). Program ids are those of rules/data/ecm_exclusions.csv; another id is
// loaded with a warning (no rule uses it).
package programs

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/mappings/authfeed"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// Columns of the template.
const (
	ColMemberCIN = "member_cin"
	ColProgram   = "program"
	ColStart     = "start_date"
	ColEnd       = "end_date"
	ColSource    = "source"
)

// Columns lists the template's columns; Required must be in the header.
var (
	Columns  = []string{ColMemberCIN, ColProgram, ColStart, ColEnd, ColSource}
	Required = []string{ColMemberCIN, ColProgram, ColStart}
)

// Decoder checks and maps rows.
type Decoder struct {
	Exclusions map[string]rules.Exclusion // the known program ids
	MemberID   *regexp.Regexp             // nil = rules.DefaultMemberIDPattern
	File       string
	// Spreadsheet says the rows come from an XLSX sheet, whose date cells
	// read as their serial numbers (see civil.ParseCellIn); Date1904 that
	// its workbook counts them in the 1904 date system.
	Spreadsheet, Date1904 bool
}

var defaultMemberID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(rules.DefaultMemberIDPattern) })

// Decode maps one row into p and returns its findings (the row loads when
// none is an error).
func (d *Decoder) Decode(rec authfeed.Record, row int, p *domain.ProgramSpan) []authfeed.Finding {
	var fs []authfeed.Finding
	bad := func(field, format string, a ...any) {
		fs = append(fs, authfeed.Finding{Row: row, Field: field, Rule: rules.ProgramFeedInvalid, Message: fmt.Sprintf(format, a...)})
	}
	get := func(col string) string { return strings.TrimSpace(rec.Get(col)) }
	*p = domain.ProgramSpan{CIN: strings.ToUpper(get(ColMemberCIN)), Program: strings.ToLower(get(ColProgram)), Source: get(ColSource)}
	if p.Source == "" {
		p.Source = fmt.Sprintf("%s row %d", d.File, row)
	}
	re := d.MemberID
	if re == nil {
		re = defaultMemberID()
	}
	switch {
	case p.CIN == "":
		bad(ColMemberCIN, "member_cin is required")
	case !re.MatchString(p.CIN):
		bad(ColMemberCIN, "member_cin does not have the shape of a Medi-Cal CIN (%s)", re.String())
	}
	switch _, known := d.Exclusions[p.Program]; {
	case p.Program == "":
		bad(ColProgram, "program is required (%s)", d.known())
	case !known:
		fs = append(fs, authfeed.Finding{Row: row, Field: ColProgram, Rule: rules.ProgramFeedInvalid, Warning: true, Message: fmt.Sprintf(
			"program %q does not exclude ECM in rules/data/ecm_exclusions.csv (%s): loaded, but no rule uses it", p.Program, d.known())})
	}
	var err error
	if s := get(ColStart); s == "" {
		bad(ColStart, "start_date is required")
	} else if p.From, err = civil.ParseCellIn(s, d.Spreadsheet, d.Date1904); err != nil {
		bad(ColStart, "start_date: %v", err)
	}
	if s := get(ColEnd); s != "" {
		if p.To, err = civil.ParseCellIn(s, d.Spreadsheet, d.Date1904); err != nil {
			bad(ColEnd, "end_date: %v", err)
		} else if p.From != 0 && p.To < p.From {
			bad(ColEnd, "end_date %s is before start_date %s", p.To, p.From)
		}
	}
	return fs
}

func (d *Decoder) known() string {
	ids := make([]string, 0, len(d.Exclusions))
	for id := range d.Exclusions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return strings.Join(ids, ", ")
}
