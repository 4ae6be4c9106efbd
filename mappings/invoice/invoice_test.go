package invoice

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// goodRow is a valid line; each test case changes one column.
var goodRow = map[string]string{
	"invoice_number": "INV-1", "invoice_date": "2026-10-01", "billing_npi": "1456789019", "billing_tin": "94-1234567",
	"billing_name": "Bay Street Housing", "billing_address": "1200 Mission St", "billing_city": "San Francisco",
	"billing_state": "CA", "billing_zip": "94103-1520", "member_cin": "91234567A", "member_last_name": "Rivera",
	"member_first_name": "Ana", "member_dob": "1978-04-12", "service_from": "2026-09-01", "service_to": "2026-09-01",
	"units": "1", "charge_amount": "85.00", "hcpcs": "H0043", "modifiers": "U6",
}

func decodeOne(t *testing.T, format tabular.Format, change map[string]string) (domain.InvoiceLine, []Problem) {
	t.Helper()
	cols := append(append([]string{}, Required...), Optional...)
	h := strings.Join(cols, ",")
	r, err := tabular.NewCSV(strings.NewReader(h + "\n" + strings.Repeat(",", len(cols)-1) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewDecoder(r.Header, format, "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	cells := make([]string, len(cols))
	for i, c := range cols {
		v, ok := change[c]
		if !ok {
			v = goodRow[c]
		}
		cells[i] = v
	}
	var l domain.InvoiceLine
	ps := dec.Decode(tabular.Row{Number: 2, Cells: cells}, &l)
	return l, ps
}

// claim_diagnoses are read in their order, as diagnosis codes are (no
// decimal point), up to the 12 a claim's HI holds.
func TestDecodeClaimDiagnoses(t *testing.T) {
	l, ps := decodeOne(t, tabular.CSV, map[string]string{"claim_diagnoses": "z59.00 F32.9,R69 Z5941 E119 I10 J449 N189 K219 M545 G4733 E785"})
	want := []string{"Z5900", "F329", "R69", "Z5941", "E119", "I10", "J449", "N189", "K219", "M545", "G4733", "E785"}
	if len(ps) != 0 || !slices.Equal(l.ClaimDiagnoses, want) {
		t.Errorf("claim diagnoses %v (problems %v), want %v", l.ClaimDiagnoses, ps, want)
	}
}

func TestDecodeGoodRow(t *testing.T) {
	l, ps := decodeOne(t, tabular.CSV, nil)
	if len(ps) != 0 {
		t.Fatalf("problems: %+v", ps)
	}
	if l.Charge != 8500 || l.Units != 1000 || l.From != 20260901 || l.Member.DOB != 19780412 || l.Member.Gender != "U" ||
		l.Billing.Address.Zip != "941031520" || l.HCPCS != "H0043" || len(l.Modifiers) != 1 || l.Source.Row != 2 {
		t.Errorf("decoded %+v", l)
	}
}

func TestDecodeProblems(t *testing.T) {
	tests := []struct {
		name    string
		change  map[string]string
		field   string
		missing bool
		msg     string
	}{
		{"missing invoice number", map[string]string{"invoice_number": ""}, "invoice_number", true, "required"},
		{"invoice number too long for CLM01", map[string]string{"invoice_number": strings.Repeat("9", 39)}, "invoice_number", false, "longer than 38"},
		{"delimiter in line number", map[string]string{"line_number": "1*2"}, "line_number", false, "characters not allowed"},
		{"bad invoice date", map[string]string{"invoice_date": "2026-02-30"}, "invoice_date", false, "not a date"},
		{"bad dob does not echo the value", map[string]string{"member_dob": "12/31/19x8"}, "member_dob", false, "is not a date (want"},
		{"missing dob", map[string]string{"member_dob": ""}, "member_dob", true, "required"},
		{"money with letters", map[string]string{"charge_amount": "abc"}, "charge_amount", false, `"abc" is not a money amount`},
		{"money with three decimals", map[string]string{"charge_amount": "1.005"}, "charge_amount", false, "not a money amount"},
		{"negative money", map[string]string{"charge_amount": "-5"}, "charge_amount", false, "must not be negative"},
		{"zero units", map[string]string{"units": "0"}, "units", false, "greater than 0"},
		{"negative units", map[string]string{"units": "-1"}, "units", false, "greater than 0"},
		{"units not a number", map[string]string{"units": "two"}, "units", false, "not a number"},
		{"state", map[string]string{"billing_state": "XX"}, "billing_state", false, "state code"},
		{"zip shape", map[string]string{"billing_zip": "9410"}, "billing_zip", false, "ZIP"},
		{"gender", map[string]string{"member_gender": "Q"}, "member_gender", false, "M, F or U"},
		{"no code or service", map[string]string{"hcpcs": "", "service": ""}, "hcpcs", true, "hcpcs or service"},
		{"hcpcs shape", map[string]string{"hcpcs": "H43"}, "hcpcs", false, "not a HCPCS code"},
		{"modifier shape", map[string]string{"modifiers": "U66"}, "modifiers", false, "two-character"},
		{"five modifiers", map[string]string{"modifiers": "U1 U2 U3 U4 U5"}, "modifiers", false, "at most 4"},
		{"repeated modifier", map[string]string{"modifiers": "U6,U6"}, "modifiers", false, "twice"},
		{"rendering npi shape", map[string]string{"rendering_npi": "12345"}, "rendering_npi", false, "10-digit"},
		{"place of service", map[string]string{"place_of_service": "home"}, "place_of_service", false, "place of service"},
		{"diagnosis", map[string]string{"diagnosis": "Z59.01 HOMELESS"}, "diagnosis", false, `"HOMELESS" is not an ICD-10-CM code`},
		{"too many diagnoses", map[string]string{"diagnosis": "Z5901 Z5902 Z5900 R69 E119"}, "diagnosis", false, "at most"},
		{"claim diagnosis", map[string]string{"claim_diagnoses": "Z5900 HOMELESS"}, "claim_diagnoses", false, `"HOMELESS" is not an ICD-10-CM code`},
		{"thirteen claim diagnoses", map[string]string{"claim_diagnoses": strings.Repeat("Z5900 ", 13)}, "claim_diagnoses", false, "at most 12"},
		{"taxonomy", map[string]string{"billing_taxonomy": "251S0000"}, "billing_taxonomy", false, "taxonomy"},
		// 005010X222A1 NM103 is required in 2010AA, 2010BA and 2310B; a
		// name in a script X12 text cannot carry would be written empty.
		{"member last name in another script", map[string]string{"member_last_name": "王"}, "member_last_name", false, "no character an 837P can carry"},
		{"member first name in another script", map[string]string{"member_first_name": "Анна"}, "member_first_name", false, "no character an 837P can carry"},
		{"billing name of delimiters only", map[string]string{"billing_name": "*~^"}, "billing_name", false, "no character an 837P can carry"},
		{"rendering name in another script", map[string]string{"rendering_npi": "1765432103", "rendering_name": "李"}, "rendering_name", false, "no character an 837P can carry"},
		{"billing address in another script", map[string]string{"billing_address": "中山路"}, "billing_address", false, "no character an 837P can carry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := decodeOne(t, tabular.CSV, tt.change)
			if len(ps) != 1 {
				t.Fatalf("want exactly one problem, got %+v", ps)
			}
			p := ps[0]
			if p.Field != tt.field || p.Missing != tt.missing || !strings.Contains(p.Message, tt.msg) {
				t.Errorf("got %+v, want field %s missing=%v msg containing %q", p, tt.field, tt.missing, tt.msg)
			}
		})
	}
}

// TestDecodeTextLengthInCharacters: the README gives the free-text limits
// in characters (member_first_name ≤ 35, NM104); accented letters take two
// bytes in UTF-8 and one character on the 837P (x12.Text drops the accent).
func TestDecodeTextLengthInCharacters(t *testing.T) {
	tests := []struct {
		name, col, v string
		ok           bool
	}{
		{"35 characters, two accented", "member_first_name", "María José " + strings.Repeat("A", 24), true},
		{"36 characters", "member_first_name", strings.Repeat("A", 36), false},
		{"30-character city with ñ", "billing_city", "Cañada " + strings.Repeat("B", 23), true},
		{"60-character name with é", "billing_name", "Société " + strings.Repeat("C", 52), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := decodeOne(t, tabular.CSV, map[string]string{tt.col: tt.v})
			if ok := len(ps) == 0; ok != tt.ok {
				t.Errorf("%d characters: problems %+v, want ok=%v", len([]rune(tt.v)), ps, tt.ok)
			}
		})
	}
}

func TestDecodeNeverEchoesMemberData(t *testing.T) {
	_, ps := decodeOne(t, tabular.CSV, map[string]string{"member_dob": "1978-13-45", "member_cin": "9123*567A", "member_last_name": strings.Repeat("X", 61)})
	for _, p := range ps {
		if strings.Contains(p.Message, "1978-13-45") || strings.Contains(p.Message, "9123*567A") || strings.Contains(p.Message, "XXXXX") {
			t.Errorf("message carries member data: %q", p.Message)
		}
	}
	if len(ps) != 3 {
		t.Errorf("want 3 problems, got %+v", ps)
	}
}

func TestDecodeFormats(t *testing.T) {
	tests := []struct {
		name   string
		format tabular.Format
		change map[string]string
		check  func(l domain.InvoiceLine) bool
	}{
		{"US dates", tabular.CSV, map[string]string{"service_from": "9/1/2026", "service_to": "09/02/2026"},
			func(l domain.InvoiceLine) bool { return l.From == 20260901 && l.To == 20260902 }},
		{"dollar sign and thousands", tabular.CSV, map[string]string{"charge_amount": "$1,500.5"},
			func(l domain.InvoiceLine) bool { return l.Charge == 150050 }},
		{"$0 charge (outreach)", tabular.CSV, map[string]string{"charge_amount": "$0"},
			func(l domain.InvoiceLine) bool { return l.Charge == 0 }},
		{"fractional units", tabular.CSV, map[string]string{"units": "1.25"},
			func(l domain.InvoiceLine) bool { return l.Units == 1250 }},
		{"xlsx date serial (46266 = 2026-09-01: 45658 is 2025-01-01)", tabular.XLSX, map[string]string{"service_from": "46266", "service_to": "46266.0"},
			func(l domain.InvoiceLine) bool { return l.From == 20260901 && l.To == 20260901 }},
		{"xlsx float noise", tabular.XLSX, map[string]string{"charge_amount": "150.75000000000001"},
			func(l domain.InvoiceLine) bool { return l.Charge == 15075 }},
		{"xlsx zip lost leading zero", tabular.XLSX, map[string]string{"billing_zip": "2108"},
			func(l domain.InvoiceLine) bool { return l.Billing.Address.Zip == "02108" }},
		{"xlsx TIN lost its leading zero", tabular.XLSX, map[string]string{"billing_tin": "12345678"},
			func(l domain.InvoiceLine) bool { return l.Billing.TIN == "012345678" }},
		{"xlsx TIN lost two leading zeros", tabular.XLSX, map[string]string{"billing_tin": "2345678"},
			func(l domain.InvoiceLine) bool { return l.Billing.TIN == "002345678" }},
		{"csv TIN kept as written", tabular.CSV, map[string]string{"billing_tin": "12-3456789"},
			func(l domain.InvoiceLine) bool { return l.Billing.TIN == "12-3456789" }},
		{"lower-case codes", tabular.CSV, map[string]string{"hcpcs": "h0043", "modifiers": "u6", "member_cin": "91234567a"},
			func(l domain.InvoiceLine) bool {
				return l.HCPCS == "H0043" && l.Modifiers[0] == "U6" && l.Member.CIN == "91234567A"
			}},
		{"diagnosis with dots and commas", tabular.CSV, map[string]string{"diagnosis": "z59.01, E11.9"},
			func(l domain.InvoiceLine) bool {
				return len(l.Diagnoses) == 2 && l.Diagnoses[0] == "Z5901" && l.Diagnoses[1] == "E119"
			}},
		{"gender words", tabular.CSV, map[string]string{"member_gender": "female"},
			func(l domain.InvoiceLine) bool { return l.Member.Gender == "F" }},
		{"single-digit place of service", tabular.CSV, map[string]string{"place_of_service": "2"},
			func(l domain.InvoiceLine) bool { return l.PlaceOfService == "02" }},
	}
	for _, tt := range tests {
		l, ps := decodeOne(t, tt.format, tt.change)
		if len(ps) != 0 || !tt.check(l) {
			t.Errorf("%s: problems %+v, line %+v", tt.name, ps, l)
		}
	}
	// A CSV TIN of 8 digits is not padded (it reaches TIN-INVALID), nor an
	// XLSX one of 6.
	for _, tt := range []struct {
		format tabular.Format
		tin    string
	}{{tabular.CSV, "12345678"}, {tabular.XLSX, "123456"}} {
		if l, _ := decodeOne(t, tt.format, map[string]string{"billing_tin": tt.tin}); l.Billing.TIN != tt.tin {
			t.Errorf("%s TIN %q read as %q", tt.format, tt.tin, l.Billing.TIN)
		}
	}
	// A CSV date serial is not a date: only spreadsheets store dates as numbers.
	if _, ps := decodeOne(t, tabular.CSV, map[string]string{"service_from": "46266"}); len(ps) != 1 {
		t.Errorf("serial in CSV accepted: %+v", ps)
	}
}

func TestNewDecoderRequiresTemplateColumns(t *testing.T) {
	r, _ := tabular.NewCSV(strings.NewReader("invoice_number,units\n1,2\n"))
	_, err := NewDecoder(r.Header, tabular.CSV, "x.csv")
	if !errors.Is(err, ErrNotInvoice) || !strings.Contains(err.Error(), "billing_npi") || !strings.Contains(err.Error(), "hcpcs or service") {
		t.Errorf("err = %v", err)
	}
	// Either hcpcs or service satisfies the code requirement.
	cols := strings.Join(append(append([]string{}, Required...), "service"), ",")
	r, _ = tabular.NewCSV(strings.NewReader(cols + "\n"))
	if _, err := NewDecoder(r.Header, tabular.CSV, "x.csv"); err != nil {
		t.Errorf("service-only template refused: %v", err)
	}
	// A template column given twice is refused; a column the template does
	// not read may repeat.
	for extra, refused := range map[string]bool{",units": true, ", Units ": true, ",Comments,comments": false} {
		r, _ = tabular.NewCSV(strings.NewReader(cols + extra + "\n"))
		_, err := NewDecoder(r.Header, tabular.CSV, "x.csv")
		if got := errors.Is(err, ErrNotInvoice) && strings.Contains(err.Error(), "more than once"); got != refused {
			t.Errorf("header with %q: %v, want refused: %v", extra, err, refused)
		}
	}
}

// frequency and original_claim ask for a replacement (7) or void (8) of a
// claim sent; an original names no original_claim.
func TestDecodeCorrectionColumns(t *testing.T) {
	tests := []struct {
		name           string
		freq, original string
		wantFreq       string
		problem        string // the column of the expected problem, "" = none
	}{
		{"no frequency is an original", "", "", "", ""},
		{"frequency 1 is an original", "1", "", "", ""},
		{"replacement", "7", "3051C1", "7", ""},
		{"void", "8", "INV-1", "8", ""},
		{"a correction needs original_claim", "7", "", "7", "original_claim"},
		{"an original names no original_claim", "1", "3051C1", "", "original_claim"},
		{"other frequency codes are refused", "5", "", "", "frequency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, ps := decodeOne(t, tabular.CSV, map[string]string{"frequency": tt.freq, "original_claim": tt.original})
			if l.Frequency != tt.wantFreq {
				t.Errorf("frequency %q, want %q", l.Frequency, tt.wantFreq)
			}
			switch {
			case tt.problem == "" && len(ps) != 0:
				t.Errorf("problems %+v", ps)
			case tt.problem != "" && (len(ps) != 1 || ps[0].Field != tt.problem):
				t.Errorf("problems %+v, want one on %s", ps, tt.problem)
			}
			if tt.problem == "" && tt.wantFreq != "" && l.OriginalClaim != tt.original {
				t.Errorf("original_claim %q", l.OriginalClaim)
			}
		})
	}
}

// provider_claim_id is the provider's 837P CLM01 of a claim received as an
// 837P: optional, at most 50 characters (REF02).
func TestDecodeProviderClaimID(t *testing.T) {
	tests := []struct {
		name, value, want string
		problem           bool
	}{
		{"absent", "", "", false},
		{"kept as sent", "ENC1001", "ENC1001", false},
		{"50 characters", strings.Repeat("A", 50), strings.Repeat("A", 50), false},
		{"51 characters", strings.Repeat("A", 51), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, ps := decodeOne(t, tabular.CSV, map[string]string{ColProviderClaimID: tt.value})
			if got := len(ps) == 1 && ps[0].Field == ColProviderClaimID; got != tt.problem || (!tt.problem && len(ps) != 0) {
				t.Fatalf("problems %+v", ps)
			}
			if !tt.problem && l.ProviderClaimID != tt.want {
				t.Errorf("provider_claim_id %q, want %q", l.ProviderClaimID, tt.want)
			}
		})
	}
}

// charge_amount takes commas only as thousands separators: a comma in any
// other place (a decimal comma, a misplaced group) would change the amount
// if it were dropped, so the value is refused.
func TestDecodeChargeThousands(t *testing.T) {
	tests := []struct {
		format tabular.Format
		value  string
		want   domain.Money // when ok
		ok     bool
	}{
		{tabular.CSV, "1,500", 150000, true},
		{tabular.CSV, "$1,500.50", 150050, true},
		{tabular.CSV, "1,234,567.89", 123456789, true},
		{tabular.CSV, "999", 99900, true},
		{tabular.CSV, "12,50", 0, false},     // a decimal comma, not twelve hundred fifty
		{tabular.CSV, "1,00", 0, false},      // two digits in a group
		{tabular.CSV, "1,5000", 0, false},    // four digits in a group
		{tabular.CSV, "1234,567", 0, false},  // four digits before the first comma
		{tabular.CSV, ",500", 0, false},      // no digits before the comma
		{tabular.CSV, "1,500,", 0, false},    // a trailing comma
		{tabular.CSV, "1.500,00", 0, false},  // European grouping
		{tabular.XLSX, "1.500,00", 0, false}, // not read as 1.50000 by the float-noise path
		{tabular.XLSX, "1,500.25", 150025, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.format)+" "+tt.value, func(t *testing.T) {
			l, ps := decodeOne(t, tt.format, map[string]string{"charge_amount": tt.value})
			if tt.ok {
				if len(ps) != 0 || l.Charge != tt.want {
					t.Errorf("charge %d, problems %+v; want %d", l.Charge, ps, tt.want)
				}
				return
			}
			if len(ps) != 1 || ps[0].Field != ColChargeAmount || !strings.Contains(ps[0].Message, "not a money amount") {
				t.Errorf("charge %d, problems %+v; want it refused as not a money amount", l.Charge, ps)
			}
		})
	}
}

// An XLSX workbook in the 1904 date system stores a date as the days since
// 1904-01-01: 44804 is 2026-09-01 there, and 2022-08-31 in the 1900 system.
func TestDecodeDate1904(t *testing.T) {
	cols := append(append([]string{}, Required...), Optional...)
	for _, tt := range []struct {
		name     string
		format   tabular.Format
		date1904 bool
		value    string
		want     civil.Date
	}{
		{"1900 date system", tabular.XLSX, false, "44804", 20220831},
		{"1904 date system", tabular.XLSX, true, "44804", 20260901},
		{"1904 date system, written as a date", tabular.XLSX, true, "2026-09-01", 20260901},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := tabular.NewHeader(cols)
			h.Date1904 = tt.date1904
			dec, err := NewDecoder(h, tt.format, "t.xlsx")
			if err != nil {
				t.Fatal(err)
			}
			cells := make([]string, len(cols))
			for i, c := range cols {
				cells[i] = goodRow[c]
				if c == ColServiceFrom || c == ColServiceTo {
					cells[i] = tt.value
				}
			}
			var l domain.InvoiceLine
			if ps := dec.Decode(tabular.Row{Number: 2, Cells: cells}, &l); len(ps) != 0 {
				t.Fatalf("problems %+v", ps)
			}
			if l.From != tt.want || l.To != tt.want {
				t.Errorf("service dates %v..%v, want %v", l.From, l.To, tt.want)
			}
		})
	}
}
