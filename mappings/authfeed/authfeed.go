// Package authfeed maps the plan's authorization feed (CSV, XLSX or JSON
// lines; template in docs/enrollment.md) to domain.Authorization records,
// and reports every row that is malformed or contradicts policy, with its
// row and column. A row that contradicts policy is reported and not
// loaded: it is never silently fixed.
package authfeed

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// Columns of the authorization feed template.
const (
	ColNumber       = "authorization_number"
	ColMemberCIN    = "member_cin"
	ColService      = "service"
	ColProviderNPI  = "provider_npi"
	ColPOF          = "pof"
	ColStatus       = "status"
	ColType         = "type"
	ColStart        = "start_date"
	ColEnd          = "end_date"
	ColUnits        = "units_authorized"
	ColDecided      = "decision_date"
	ColCommunicated = "decision_communicated_date"
)

// Columns lists every column of the template, in its order.
var Columns = []string{ColNumber, ColMemberCIN, ColService, ColProviderNPI, ColPOF, ColStatus, ColType, ColStart, ColEnd, ColUnits, ColDecided, ColCommunicated}

// Required columns must be in the header.
var Required = []string{ColNumber, ColMemberCIN, ColService, ColStatus, ColType, ColStart}

// Finding is a problem with one feed row.
type Finding struct {
	Row     int
	Field   string // the column
	Rule    string // rules.AuthFeedInvalid or rules.AuthPeriodPolicy
	Warning bool   // the row is loaded all the same
	Message string // never holds member data
}

func (f Finding) String() string {
	sev := "error, not loaded"
	if f.Warning {
		sev = "warning"
	}
	return fmt.Sprintf("row %d %s: %s: %s (%s)", f.Row, f.Field, f.Rule, f.Message, sev)
}

// Decoder checks and maps feed rows.
type Decoder struct {
	Coding   *rules.CodingTable
	Tables   *rules.Tables            // populations of focus
	Data     *rules.EligibilityTables // authorization periods
	MemberID *regexp.Regexp           // CIN shape; nil = rules.DefaultMemberIDPattern
	File     string                   // base name, for Source
	// Spreadsheet says the rows come from an XLSX sheet, whose date cells
	// read as their serial numbers (see civil.ParseCellIn); Date1904 that
	// its workbook counts them in the 1904 date system.
	Spreadsheet, Date1904 bool
}

var defaultMemberID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(rules.DefaultMemberIDPattern) })

// Decode maps one row into a (overwriting it) and returns its findings.
// The row may be loaded when no finding is an error.
func (d *Decoder) Decode(rec Record, row int, a *domain.Authorization) []Finding {
	var fs []Finding
	bad := func(rule, field, format string, args ...any) {
		fs = append(fs, Finding{Row: row, Field: field, Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	warn := func(field, format string, args ...any) {
		fs = append(fs, Finding{Row: row, Field: field, Rule: rules.AuthFeedInvalid, Warning: true, Message: fmt.Sprintf(format, args...)})
	}
	*a = domain.Authorization{Source: domain.Source{File: d.File, Row: row}}
	get := func(col string) string { return strings.TrimSpace(rec.Get(col)) }
	date := func(col string, required bool) civil.Date {
		s := get(col)
		if s == "" {
			if required {
				bad(rules.AuthFeedInvalid, col, "%s is required", col)
			}
			return 0
		}
		v, err := civil.ParseCellIn(s, d.Spreadsheet, d.Date1904)
		if err != nil {
			bad(rules.AuthFeedInvalid, col, "%s: %v", col, err)
		}
		return v
	}

	a.Number = get(ColNumber)
	switch {
	case a.Number == "":
		bad(rules.AuthFeedInvalid, ColNumber, "authorization_number is required")
	case len(a.Number) > 50 || !x12.PlainID(a.Number):
		bad(rules.AuthFeedInvalid, ColNumber, "authorization_number must be at most 50 printable ASCII characters without * ~ : ^ | \\ (837P REF*G1, the invoice's authorization_number)")
	}
	a.CIN = strings.ToUpper(get(ColMemberCIN))
	re := d.MemberID
	if re == nil {
		re = defaultMemberID()
	}
	switch {
	case a.CIN == "":
		bad(rules.AuthFeedInvalid, ColMemberCIN, "member_cin is required")
	case !re.MatchString(a.CIN):
		bad(rules.AuthFeedInvalid, ColMemberCIN, "member_cin does not have the shape of a Medi-Cal CIN (%s)", re.String())
	}
	svc := get(ColService)
	if svc == "" {
		bad(rules.AuthFeedInvalid, ColService, "service is required: ECM, or a Community Supports name, alias or id of the coding table")
	} else if id, ok := d.Coding.ServiceID(svc); ok {
		a.Service = id
	} else {
		bad(rules.AuthFeedInvalid, ColService, "service %q is not ECM or a Community Supports name, alias or id of the coding table", svc)
	}
	ecm := a.Service == "ECM"
	a.ProviderNPI = get(ColProviderNPI)
	switch {
	case a.ProviderNPI != "" && !rules.ValidNPI(a.ProviderNPI):
		bad(rules.AuthFeedInvalid, ColProviderNPI, "provider_npi %q is not a valid NPI (10 digits, check digit)", a.ProviderNPI)
	case a.ProviderNPI == "" && ecm:
		bad(rules.AuthFeedInvalid, ColProviderNPI, "provider_npi is required for ECM: every authorized member is assigned to an ECM provider (S004:1793)")
	}
	a.POF = strings.ToUpper(get(ColPOF))
	switch {
	case ecm && a.POF == "":
		bad(rules.AuthFeedInvalid, ColPOF, "pof is required for ECM (POF1A, POF1B, POF2A, POF2B, POF3A, POF3B, POF4A, POF4B, POF5 ... POF9)")
	case ecm && d.Tables != nil:
		if _, ok := d.Tables.POFs[a.POF]; !ok {
			bad(rules.AuthFeedInvalid, ColPOF, "pof %q is not a population of focus (POF1A, POF1B, POF2A, POF2B, POF3A, POF3B, POF4A, POF4B, POF5 ... POF9)", a.POF)
		}
	case !ecm && a.POF != "" && a.Service != "":
		warn(ColPOF, "pof is ignored for %s: populations of focus are ECM's", a.Service)
		a.POF = ""
	}
	switch st := domain.AuthStatus(strings.ToLower(get(ColStatus))); st {
	case domain.AuthApproved, domain.AuthDenied, domain.AuthPending:
		a.Status = st
	default:
		bad(rules.AuthFeedInvalid, ColStatus, "status %q is not approved, denied or pending", get(ColStatus))
	}
	a.Type = domain.AuthType(strings.ToLower(get(ColType)))
	switch {
	case !rules.ValidAuthType(a.Type):
		bad(rules.AuthFeedInvalid, ColType, "type %q is not initial, reauthorization, streamlined, auto_plan_change or ji_prerelease", get(ColType))
	case !ecm && a.Service != "":
		if p := rules.CSAuthorizationType(a.Type); p != nil {
			bad(p.Rule, ColType, "%s", p.Message)
		}
	}
	a.From = date(ColStart, true)
	a.To = date(ColEnd, false)
	if a.From != 0 && a.To != 0 && a.To < a.From {
		bad(rules.AuthFeedInvalid, ColEnd, "end_date %s is before start_date %s", a.To, a.From)
	}
	if s := get(ColUnits); s != "" {
		q, err := rules.ParseUnits(s)
		if err != nil {
			bad(rules.AuthFeedInvalid, ColUnits, "units_authorized: %v", err)
		}
		a.Units, a.HasUnits = q, true
	}
	a.Decided = date(ColDecided, false)
	a.Communicated = date(ColCommunicated, false)
	if a.Decided != 0 && a.Communicated != 0 && a.Communicated < a.Decided {
		bad(rules.AuthFeedInvalid, ColCommunicated, "decision_communicated_date %s is before decision_date %s", a.Communicated, a.Decided)
	}
	if hasError(fs) {
		return fs
	}
	for _, p := range d.Data.AuthorizationPeriod(a) {
		fs = append(fs, Finding{Row: row, Field: policyColumn[p.Field], Rule: p.Rule, Warning: p.Warning, Message: p.Message})
	}
	return fs
}

// policyColumn maps the fields of the authorization policy's findings to
// the template's columns.
var policyColumn = map[string]string{
	rules.AuthFieldType:         ColType,
	rules.AuthFieldStart:        ColStart,
	rules.AuthFieldEnd:          ColEnd,
	rules.AuthFieldCommunicated: ColCommunicated,
}

func hasError(fs []Finding) bool {
	for _, f := range fs {
		if !f.Warning {
			return true
		}
	}
	return false
}

// HasError reports whether any finding keeps the row from loading.
func HasError(fs []Finding) bool { return hasError(fs) }
