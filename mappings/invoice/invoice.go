// Package invoice decodes provider invoice rows (the gateway's invoice
// template, CSV or XLSX) into typed invoice lines. It checks the shape of
// each value — dates, money, codes — and reports every problem with the
// column it came from; policy (NPI check digits, coding tables, duplicates)
// belongs to package rules.
package invoice

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// Column names of the invoice template. Header names match case-insensitively.
const (
	ColInvoiceNumber   = "invoice_number"
	ColInvoiceDate     = "invoice_date"
	ColBillingNPI      = "billing_npi"
	ColBillingTIN      = "billing_tin"
	ColBillingName     = "billing_name"
	ColBillingAddress  = "billing_address"
	ColBillingCity     = "billing_city"
	ColBillingState    = "billing_state"
	ColBillingZip      = "billing_zip"
	ColMemberCIN       = "member_cin"
	ColMemberLastName  = "member_last_name"
	ColMemberFirstName = "member_first_name"
	ColMemberDOB       = "member_dob"
	ColServiceFrom     = "service_from"
	ColServiceTo       = "service_to"
	ColUnits           = "units"
	ColChargeAmount    = "charge_amount"
	ColHCPCS           = "hcpcs"
	ColModifiers       = "modifiers"
	ColService         = "service"

	ColLineNumber      = "line_number"
	ColMemberGender    = "member_gender"
	ColRenderingNPI    = "rendering_npi"
	ColRenderingName   = "rendering_name"
	ColPlaceOfService  = "place_of_service"
	ColDiagnosis       = "diagnosis"
	ColAuthorization   = "authorization_number"
	ColBillingTaxonomy = "billing_taxonomy"
	ColNote            = "note"
	ColMemberAddress   = "member_address"
	ColMemberCity      = "member_city"
	ColMemberState     = "member_state"
	ColMemberZip       = "member_zip"
	ColFrequency       = "frequency"         // 1 original (default), 7 replacement, 8 void (837P CLM05-3)
	ColOriginalClaim   = "original_claim"    // with 7 or 8: the CLM01 or invoice number of the claim replaced or voided
	ColProviderClaimID = "provider_claim_id" // the provider's 837P CLM01 of a claim received as an 837P (2300 REF*D9)
	ColClaimDiagnoses  = "claim_diagnoses"   // the claim's diagnoses in HI order, principal first (a claim received as an 837P)
)

// Required lists the columns every invoice file must have. It must also
// have hcpcs or service.
var Required = []string{ColInvoiceNumber, ColInvoiceDate, ColBillingNPI, ColBillingTIN, ColBillingName,
	ColMemberCIN, ColMemberLastName, ColMemberFirstName, ColMemberDOB, ColServiceFrom, ColServiceTo, ColUnits, ColChargeAmount}

// Optional lists the other columns the decoder reads. The billing address
// columns are required on a line whose billing provider the plan's roster
// does not know (rules.BillingAddress).
var Optional = []string{ColBillingAddress, ColBillingCity, ColBillingState, ColBillingZip, ColHCPCS, ColModifiers, ColService, ColLineNumber, ColMemberGender, ColRenderingNPI,
	ColRenderingName, ColPlaceOfService, ColDiagnosis, ColAuthorization, ColBillingTaxonomy, ColNote,
	ColMemberAddress, ColMemberCity, ColMemberState, ColMemberZip, ColFrequency, ColOriginalClaim, ColProviderClaimID, ColClaimDiagnoses}

// ErrNotInvoice means a file lacks the invoice template's required columns.
var ErrNotInvoice = errors.New("not an invoice file")

// MaxClaimDiagnoses is the most diagnosis codes a claim holds (837P HI).
const MaxClaimDiagnoses = 12

// MaxDiagnoses is the most diagnosis codes a line may carry: an 837P claim
// holds at most 12 (HI) and a line points at 4 (SV107).
const MaxDiagnoses = 4

// Problem is a value that could not be decoded.
type Problem struct {
	Field   string // column name
	Missing bool   // the value is required and absent
	Message string // for people; holds no member data
}

// Decoder decodes rows of one invoice file.
type Decoder struct {
	file        string
	spreadsheet bool // XLSX: dates may be serial numbers, numbers may carry float noise
	date1904    bool // XLSX in the 1904 date system: serials count from 1904-01-01
	col         map[string]int
}

// File is the file name the decoder gives its lines.
func (d *Decoder) File() string { return d.file }

// NewDecoder checks the header for the template's required columns.
func NewDecoder(h *tabular.Header, format tabular.Format, file string) (*Decoder, error) {
	d := &Decoder{file: file, spreadsheet: format == tabular.XLSX}
	d.date1904 = d.spreadsheet && h.Date1904
	var missing []string
	d.col, missing = h.Columns(Required, Optional)
	_, hasCode := d.col[ColHCPCS]
	_, hasService := d.col[ColService]
	if !hasCode && !hasService {
		missing = append(missing, "hcpcs or service")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: missing column(s) %s", ErrNotInvoice, strings.Join(missing, ", "))
	}
	// A template column given twice is ambiguous; a column the template
	// does not read may repeat (a sender's own notes).
	var dups []string
	for _, n := range h.Duplicates() {
		if _, ok := d.col[strings.ToLower(strings.TrimSpace(n))]; ok {
			dups = append(dups, n)
		}
	}
	if len(dups) > 0 {
		return nil, fmt.Errorf("%w: column(s) %s appear more than once", ErrNotInvoice, strings.Join(dups, ", "))
	}
	return d, nil
}

// Decode fills l from row and returns the problems found. l is fully reset.
func (d *Decoder) Decode(row tabular.Row, l *domain.InvoiceLine) []Problem {
	*l = domain.InvoiceLine{Source: domain.Source{File: d.file, Row: row.Number}}
	var ps []Problem
	get := func(c string) string {
		if i, ok := d.col[c]; ok {
			return row.Cell(i)
		}
		return ""
	}
	req := func(c string) string {
		v := get(c)
		if v == "" {
			ps = append(ps, Problem{Field: c, Missing: true, Message: c + " is required"})
		}
		return v
	}
	invalid := func(c, format string, a ...any) {
		ps = append(ps, Problem{Field: c, Message: c + " " + fmt.Sprintf(format, a...)})
	}
	date := func(c string, required, phi bool) civil.Date {
		v := get(c)
		if v == "" {
			if required {
				req(c)
			}
			return 0
		}
		if dt, ok := d.parseDate(v); ok {
			return dt
		}
		if phi {
			invalid(c, "is not a date (want YYYY-MM-DD or MM/DD/YYYY)")
		} else {
			invalid(c, "%q is not a date (want YYYY-MM-DD or MM/DD/YYYY)", v)
		}
		return 0
	}
	ident := func(c string, max int, required bool) string {
		var v string
		if required {
			v = req(c)
		} else {
			v = get(c)
		}
		if v == "" {
			return ""
		}
		if len(v) > max {
			invalid(c, "is longer than %d characters", max)
		} else if c != ColInvoiceNumber && !x12.PlainID(v) { // the invoice number's characters are rule INVOICE-NUMBER-UNSAFE
			invalid(c, "holds characters not allowed in an identifier (* ~ : ^ | \\ or control characters)")
		}
		return v
	}
	text := func(c string, max int, required bool) string {
		var v string
		if required {
			v = req(c)
		} else {
			v = get(c)
		}
		switch {
		case utf8.RuneCountInString(v) > max: // characters: x12.Text writes one byte or none for each
			invalid(c, "is longer than %d characters", max)
		case v != "" && c != ColNote && x12.Text(v, max) == "":
			// The 837P carries basic Latin only (x12.Text): a value with
			// no such character would leave its element empty.
			invalid(c, "has no character an 837P can carry (letters A-Z, digits and punctuation; accents are dropped)")
		}
		return v
	}

	l.InvoiceNumber = ident(ColInvoiceNumber, 38, true) // 837P CLM01 is at most 38 characters
	l.InvoiceDate = date(ColInvoiceDate, true, false)
	l.LineNumber = ident(ColLineNumber, 20, false)

	l.Billing.NPI = req(ColBillingNPI)
	l.Billing.TIN = req(ColBillingTIN)
	if t := l.Billing.TIN; d.spreadsheet && len(t) >= 7 && len(t) < 9 && allDigits(t, -1) {
		l.Billing.TIN = strings.Repeat("0", 9-len(t)) + t // a TIN typed as a number loses its leading zeros
	}
	l.Billing.Name = text(ColBillingName, 60, true)
	l.Billing.Address.Street = text(ColBillingAddress, 55, false)
	l.Billing.Address.City = text(ColBillingCity, 30, false)
	l.Billing.Address.State = d.state(ColBillingState, get(ColBillingState), &ps)
	l.Billing.Address.Zip = d.zip(ColBillingZip, get(ColBillingZip), &ps)
	if v := strings.ToUpper(get(ColBillingTaxonomy)); v != "" {
		if !validTaxonomyShape(v) {
			invalid(ColBillingTaxonomy, "%q is not a provider taxonomy code (10 characters ending in X, e.g. 251S00000X)", v)
		}
		l.Billing.Taxonomy = v
	}

	l.Member.CIN = strings.ToUpper(ident(ColMemberCIN, 80, true))
	l.Member.LastName = text(ColMemberLastName, 60, true)
	l.Member.FirstName = text(ColMemberFirstName, 35, true)
	l.Member.DOB = date(ColMemberDOB, true, true)
	l.Member.Gender = gender(get(ColMemberGender))
	if l.Member.Gender == "" {
		invalid(ColMemberGender, "is not M, F or U")
	}
	l.Member.Address.Street = text(ColMemberAddress, 55, false)
	l.Member.Address.City = text(ColMemberCity, 30, false)
	l.Member.Address.State = d.state(ColMemberState, get(ColMemberState), &ps)
	l.Member.Address.Zip = d.zip(ColMemberZip, get(ColMemberZip), &ps)

	l.From = date(ColServiceFrom, true, false)
	l.To = date(ColServiceTo, true, false)

	if v := req(ColUnits); v != "" {
		q, err := d.parseDecimal(v, 3)
		switch {
		case err != nil:
			invalid(ColUnits, "%q is not a number of units", v)
		case q <= 0:
			invalid(ColUnits, "must be greater than 0 (got %s)", v)
		case q >= 1e12:
			invalid(ColUnits, "%q is too large", v)
		default:
			l.Units = domain.Quantity(q)
		}
	}
	if v := req(ColChargeAmount); v != "" {
		m, err := int64(0), errNotDecimal
		if s, ok := dropThousands(strings.TrimPrefix(v, "$")); ok {
			m, err = d.parseDecimal(s, 2)
		}
		switch {
		case err != nil:
			invalid(ColChargeAmount, "%q is not a money amount", v)
		case m < 0:
			invalid(ColChargeAmount, "must not be negative (got %s)", v)
		case m >= 1e11:
			invalid(ColChargeAmount, "%q is too large", v)
		default:
			l.Charge = domain.Money(m)
		}
	}

	l.HCPCS = strings.ToUpper(get(ColHCPCS))
	l.Service = get(ColService)
	if l.HCPCS == "" && l.Service == "" {
		ps = append(ps, Problem{Field: ColHCPCS, Missing: true, Message: "hcpcs or service is required"})
	}
	if l.HCPCS != "" && !validHCPCS(l.HCPCS) {
		invalid(ColHCPCS, "%q is not a HCPCS code", l.HCPCS)
	}
	if v := get(ColModifiers); v != "" {
		mods, err := parseModifiers(v)
		if err != nil {
			invalid(ColModifiers, "%v", err)
		} else if len(mods) > 4 {
			invalid(ColModifiers, "has %d modifiers; an 837P service line carries at most 4", len(mods))
		} else {
			l.Modifiers = mods
		}
	}

	l.Rendering.NPI = get(ColRenderingNPI)
	if l.Rendering.NPI != "" && !allDigits(l.Rendering.NPI, 10) {
		invalid(ColRenderingNPI, "%q is not a 10-digit NPI", l.Rendering.NPI)
	}
	l.Rendering.Name = text(ColRenderingName, 60, false)
	if v := get(ColPlaceOfService); v != "" {
		if len(v) == 1 {
			v = "0" + v
		}
		if !allDigits(v, 2) || v == "00" {
			invalid(ColPlaceOfService, "%q is not a two-digit place of service code", get(ColPlaceOfService))
		}
		l.PlaceOfService = v
	}
	diagnoses := func(col string) []string {
		var codes []string
		for _, code := range strings.FieldsFunc(strings.ToUpper(get(col)), func(r rune) bool { return r == ' ' || r == ',' || r == ';' }) {
			code = strings.ReplaceAll(code, ".", "")
			if !validICD10Shape(code) {
				invalid(col, "%q is not an ICD-10-CM code", code)
				continue
			}
			codes = append(codes, code)
		}
		return codes
	}
	if l.Diagnoses = diagnoses(ColDiagnosis); len(l.Diagnoses) > MaxDiagnoses {
		invalid(ColDiagnosis, "has %d codes; a service line points at most at %d", len(l.Diagnoses), MaxDiagnoses)
	}
	if l.ClaimDiagnoses = diagnoses(ColClaimDiagnoses); len(l.ClaimDiagnoses) > MaxClaimDiagnoses {
		invalid(ColClaimDiagnoses, "has %d codes; a claim holds at most %d", len(l.ClaimDiagnoses), MaxClaimDiagnoses)
	}
	l.AuthorizationNumber = ident(ColAuthorization, 50, false)
	l.Note = text(ColNote, 80, false)
	l.ProviderClaimID = ident(ColProviderClaimID, 50, false) // REF02 is at most 50 characters
	switch f := get(ColFrequency); f {
	case "", "1":
		if get(ColOriginalClaim) != "" {
			invalid(ColOriginalClaim, "is given on an original (frequency 1): only a replacement (7) or void (8) names one")
		}
	case "7", "8":
		l.Frequency = f
		l.OriginalClaim = ident(ColOriginalClaim, 38, true)
	default:
		invalid(ColFrequency, "%q is not 1 (original), 7 (replacement) or 8 (void)", f)
	}
	return ps
}

func (d *Decoder) parseDate(v string) (civil.Date, bool) {
	dt, err := civil.ParseCellIn(v, d.spreadsheet, d.date1904)
	return dt, err == nil
}

var errNotDecimal = errors.New("not a decimal")

// parseDecimal reads a non-exponent decimal into an integer scaled by
// 10^places, refusing more decimal places than that. Spreadsheet values may
// carry binary floating-point noise (150.75000000000001): they are rounded
// when within a millionth of a unit of the scale.
func (d *Decoder) parseDecimal(v string, places int) (int64, error) {
	scale := int64(math.Pow10(places))
	neg := strings.HasPrefix(v, "-")
	s := strings.TrimPrefix(v, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	if (intPart == "" && frac == "") || !allDigits(intPart, -1) || !allDigits(frac, -1) {
		return 0, errNotDecimal
	}
	if len(frac) > places {
		if !d.spreadsheet {
			return 0, errNotDecimal
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, errNotDecimal
		}
		scaled := f * float64(scale)
		r := math.Round(scaled)
		if math.Abs(scaled-r) > 1e-6*float64(scale) {
			return 0, errNotDecimal
		}
		if neg {
			r = -r
		}
		return int64(r), nil
	}
	if len(intPart) > 15 {
		return 0, errNotDecimal
	}
	n := int64(0)
	for i := 0; i < len(intPart); i++ {
		n = n*10 + int64(intPart[i]-'0')
	}
	n *= scale
	f := int64(0)
	for i := 0; i < places; i++ {
		f *= 10
		if i < len(frac) {
			f += int64(frac[i] - '0')
		}
	}
	n += f
	if neg {
		n = -n
	}
	return n, nil
}

// dropThousands removes the thousands separators of a money amount. A comma
// is one only between groups of three digits, after one to three digits and
// before the decimal point ("1,500.50"); any other comma makes the amount
// unreadable (ok false), as dropping it would change the value ("12,50").
func dropThousands(s string) (string, bool) {
	if strings.IndexByte(s, ',') < 0 {
		return s, true
	}
	intPart, frac, _ := strings.Cut(s, ".")
	groups := strings.Split(strings.TrimPrefix(intPart, "-"), ",")
	if len(groups[0]) < 1 || len(groups[0]) > 3 || strings.IndexByte(frac, ',') >= 0 {
		return "", false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return "", false
		}
	}
	return strings.ReplaceAll(s, ",", ""), true
}

func (d *Decoder) state(col, v string, ps *[]Problem) string {
	if v == "" {
		return ""
	}
	s := strings.ToUpper(v)
	if !usStates()[s] {
		*ps = append(*ps, Problem{Field: col, Message: fmt.Sprintf("%s %q is not a two-letter US state code", col, v)})
	}
	return s
}

func (d *Decoder) zip(col, v string, ps *[]Problem) string {
	if v == "" {
		return ""
	}
	z := strings.ReplaceAll(v, "-", "")
	if d.spreadsheet && allDigits(z, -1) && len(z) < 5 {
		z = strings.Repeat("0", 5-len(z)) + z // a ZIP typed as a number loses its leading zeros
	}
	if !allDigits(z, 5) && !allDigits(z, 9) {
		*ps = append(*ps, Problem{Field: col, Message: fmt.Sprintf("%s %q is not a 5- or 9-digit ZIP code", col, v)})
	}
	return z
}

func gender(v string) string {
	switch strings.ToUpper(v) {
	case "", "U", "UNKNOWN", "X", "UNK":
		return "U"
	case "F", "FEMALE":
		return "F"
	case "M", "MALE":
		return "M"
	}
	return ""
}

func parseModifiers(s string) ([]string, error) {
	fields := strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool {
		return r == ' ' || r == ',' || r == ';' || r == ':' || r == '-' || r == '\t'
	})
	for i, m := range fields {
		if len(m) != 2 || !alnum(m[0]) || !alnum(m[1]) {
			return nil, fmt.Errorf("%q is not a two-character modifier", m)
		}
		for _, p := range fields[:i] {
			if p == m {
				return nil, fmt.Errorf("modifier %s appears twice", m)
			}
		}
	}
	return fields, nil
}

func alnum(c byte) bool { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') }

// allDigits reports whether s is all ASCII digits and, when n >= 0, n long.
func allDigits(s string, n int) bool {
	if n >= 0 && len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func validHCPCS(s string) bool {
	if len(s) != 5 {
		return false
	}
	for i := 1; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	first, last := s[0], s[4]
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	return (first >= 'A' && first <= 'Z' && isDigit(last)) || (isDigit(first) && (isDigit(last) || last == 'F' || last == 'T'))
}

// validICD10Shape checks an ICD-10-CM code without its decimal point: a
// letter, a digit, then one to five letters or digits.
func validICD10Shape(s string) bool {
	if len(s) < 3 || len(s) > 7 || s[0] < 'A' || s[0] > 'Z' || s[1] < '0' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if !alnum(s[i]) {
			return false
		}
	}
	return true
}

// validTaxonomyShape checks a NUCC Health Care Provider Taxonomy code:
// ten characters, letters and digits, the last one X.
func validTaxonomyShape(s string) bool {
	if len(s) != 10 || s[9] != 'X' {
		return false
	}
	for i := 0; i < 9; i++ {
		if !alnum(s[i]) {
			return false
		}
	}
	return true
}

var usStates = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Fields(`AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI UM FM MH PW AA AE AP`) {
		m[s] = true
	}
	return m
})
