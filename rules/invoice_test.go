package rules

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
)

func goodLine() domain.InvoiceLine {
	return domain.InvoiceLine{
		InvoiceNumber: "INV-1", InvoiceDate: 20261001, LineNumber: "1",
		Billing: domain.Provider{NPI: "1456789019", TIN: "94-1234567", Name: "Bay Street",
			Address: domain.Address{Street: "1200 Mission St", City: "San Francisco", State: "CA", Zip: "941031520"}},
		Member: domain.Member{CIN: "91234567A", LastName: "Rivera", FirstName: "Ana", DOB: 19780412, Gender: "F"},
		From:   20260901, To: 20260901, Units: 1000, Charge: 8500, HCPCS: "H0043", Modifiers: []string{"U6"},
	}
}

func TestCheck(t *testing.T) {
	checker := &LineChecker{Coding: DefaultCodingTable(), Today: 20261123}
	tests := []struct {
		name   string
		change func(l *domain.InvoiceLine)
		rule   string // "" = accepted
		field  string
	}{
		{"good line", func(l *domain.InvoiceLine) {}, "", ""},
		{"billing NPI check digit", func(l *domain.InvoiceLine) { l.Billing.NPI = "1456789018" }, NPIInvalid, "billing_npi"},
		{"rendering NPI check digit", func(l *domain.InvoiceLine) { l.Rendering = domain.Provider{NPI: "1765432100", Name: "Nguyen, Linh"} }, NPIInvalid, "rendering_npi"},
		{"rendering without a name", func(l *domain.InvoiceLine) { l.Rendering.NPI = "1765432103" }, FieldMissing, "rendering_name"},
		{"rendering same as billing needs no name", func(l *domain.InvoiceLine) { l.Rendering.NPI = l.Billing.NPI }, "", ""},
		{"TIN eight digits", func(l *domain.InvoiceLine) { l.Billing.TIN = "94-123456" }, TINInvalid, "billing_tin"},
		{"TIN with letters", func(l *domain.InvoiceLine) { l.Billing.TIN = "94123456A" }, TINInvalid, "billing_tin"},
		{"member CIN shape", func(l *domain.InvoiceLine) { l.Member.CIN = "12345" }, FieldInvalid, "member_cin"},
		{"service_to before service_from", func(l *domain.InvoiceLine) { l.To = 20260831 }, FieldInvalid, "service_to"},
		{"service_to equal to service_from", func(l *domain.InvoiceLine) { l.To = l.From }, "", ""},
		{"DOS today is fine", func(l *domain.InvoiceLine) { l.From, l.To = 20261123, 20261123 }, "", ""},
		{"DOS tomorrow", func(l *domain.InvoiceLine) { l.From, l.To = 20261124, 20261124 }, FieldInvalid, "service_from"},
		{"service_to in the future", func(l *domain.InvoiceLine) { l.To = 20261201 }, FieldInvalid, "service_to"},
		{"DOB after DOS", func(l *domain.InvoiceLine) { l.Member.DOB = 20260902 }, FieldInvalid, "member_dob"},
		{"DOB in the future", func(l *domain.InvoiceLine) { l.Member.DOB = 20270101 }, FieldInvalid, "member_dob"},
		{"code not ECM/CS", func(l *domain.InvoiceLine) { l.HCPCS, l.Modifiers = "99213", nil }, CodeNotAllowed, "hcpcs"},
		{"extra modifier", func(l *domain.InvoiceLine) { l.Modifiers = []string{"U6", "GQ"} }, CodeNotAllowed, "modifiers"},
		{"no modifier", func(l *domain.InvoiceLine) { l.Modifiers = nil }, CodeNotAllowed, "modifiers"},
		{"modifiers in another order", func(l *domain.InvoiceLine) {
			l.HCPCS, l.Modifiers, l.From, l.To = "T1016", []string{"GQ", "U8"}, 20260105, 20260105
		}, "", ""},
		{"code before its effective date", func(l *domain.InvoiceLine) {
			l.HCPCS, l.Modifiers, l.From, l.To = "T1016", []string{"U8"}, 20251231, 20251231
		}, CodeNotAllowed, "hcpcs"},
		{"code on its effective date", func(l *domain.InvoiceLine) {
			l.HCPCS, l.Modifiers, l.From, l.To = "T1016", []string{"U8"}, 20260101, 20260101
		}, "", ""},
		{"service name resolves", func(l *domain.InvoiceLine) { l.HCPCS, l.Modifiers, l.Service = "", nil, "Housing Deposits" }, "", ""},
		{"ambiguous service name", func(l *domain.InvoiceLine) { l.HCPCS, l.Modifiers, l.Service = "", nil, "Transitional Rent" }, CodeNotAllowed, "service"},
		{"unknown service name", func(l *domain.InvoiceLine) { l.HCPCS, l.Modifiers, l.Service = "", nil, "Dog walking" }, CodeNotAllowed, "service"},
		{"service and code disagree", func(l *domain.InvoiceLine) { l.Service = "Housing Deposits" }, CodeNotAllowed, "service"},
		{"service and code agree", func(l *domain.InvoiceLine) { l.Service = "HTNS" }, "", ""},
		{"leg name and code disagree", func(l *domain.InvoiceLine) {
			l.HCPCS, l.Modifiers, l.Service = "G9008", []string{"U1"}, "ECM outreach"
		}, CodeNotAllowed, "service"},
		{"leg name and code agree", func(l *domain.InvoiceLine) {
			l.HCPCS, l.Modifiers, l.Service = "G9012", []string{"U8"}, "ecm OUTREACH"
		}, "", ""},
		{"leg name of another leg of the code", func(l *domain.InvoiceLine) {
			l.HCPCS, l.Modifiers, l.Service, l.From, l.To = "T1016", []string{"U8", "GQ"}, "Housing outreach in person", 20260105, 20260105
		}, CodeNotAllowed, "service"},
		{"leg name, modifiers in another order", func(l *domain.InvoiceLine) {
			l.HCPCS, l.Modifiers, l.Service, l.From, l.To = "T1016", []string{"GQ", "U8"}, "Housing outreach telephonic", 20260105, 20260105
		}, "", ""},
		{"service name of the code's service", func(l *domain.InvoiceLine) {
			l.HCPCS, l.Modifiers, l.Service = "G9012", []string{"U8"}, "ECM"
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := goodLine()
			tt.change(&l)
			leg, ds := checker.Check(&l, nil)
			if tt.rule == "" {
				if len(ds) != 0 || leg == nil {
					t.Fatalf("want accepted, got leg %v decisions %+v", leg, ds)
				}
				return
			}
			if len(ds) != 1 || ds[0].Rule != tt.rule || ds[0].Field != tt.field {
				t.Fatalf("want one %s on %s, got %+v", tt.rule, tt.field, ds)
			}
			if ds[0].Message == "" {
				t.Error("empty message")
			}
		})
	}
}

func TestCheckFillsCodeFromService(t *testing.T) {
	checker := &LineChecker{Coding: DefaultCodingTable(), Today: 20261123}
	l := goodLine()
	l.HCPCS, l.Modifiers, l.Service = "", nil, "ECM outreach"
	leg, ds := checker.Check(&l, nil)
	if len(ds) != 0 || l.HCPCS != "G9012" || strings.Join(l.Modifiers, " ") != "U8" || !leg.Outreach {
		t.Fatalf("decisions %+v, code %s %v", ds, l.HCPCS, l.Modifiers)
	}
	if l.Billing.TIN != "941234567" {
		t.Errorf("TIN not normalized: %q", l.Billing.TIN)
	}
}

func TestCheckSkipsFieldsThatFailedDecoding(t *testing.T) {
	checker := &LineChecker{Coding: DefaultCodingTable(), Today: 20261123}
	l := goodLine()
	l.HCPCS = "XXXXX" // decoding already reported it
	if _, ds := checker.Check(&l, map[string]bool{"hcpcs": true}); len(ds) != 0 {
		t.Errorf("reported twice: %+v", ds)
	}
}

// The duplicate key has DHCS's line-level duplicate fields (member, line
// dates, rendering else billing provider, procedure, modifiers in any
// order) and no others: one case per field.
func TestKeyOfFields(t *testing.T) {
	base := goodLine()
	base.Rendering = domain.Provider{}
	tests := []struct {
		name   string
		change func(l *domain.InvoiceLine)
		same   bool // the changed line still has base's key
	}{
		{"member CIN is in the key", func(l *domain.InvoiceLine) { l.Member.CIN = "99999999Z" }, false},
		{"service from is in the key", func(l *domain.InvoiceLine) { l.From = 20260831 }, false},
		{"service to is in the key", func(l *domain.InvoiceLine) { l.To = 20260902 }, false},
		{"billing NPI is in the key when no rendering NPI", func(l *domain.InvoiceLine) { l.Billing.NPI = "1582345678" }, false},
		{"rendering NPI replaces billing NPI", func(l *domain.InvoiceLine) { l.Rendering.NPI = "1765432103" }, false},
		{"rendering NPI equal to billing NPI is the same provider", func(l *domain.InvoiceLine) { l.Rendering.NPI = l.Billing.NPI }, true},
		{"procedure code is in the key", func(l *domain.InvoiceLine) { l.HCPCS = "H0044" }, false},
		{"a different modifier is in the key", func(l *domain.InvoiceLine) { l.Modifiers = []string{"U2"} }, false},
		{"an added modifier is in the key", func(l *domain.InvoiceLine) { l.Modifiers = append(slices.Clone(l.Modifiers), "GQ") }, false},
		{"units are not in the key", func(l *domain.InvoiceLine) { l.Units = 2000 }, true},
		{"charge is not in the key", func(l *domain.InvoiceLine) { l.Charge = 1 }, true},
		{"invoice and line number are not in the key", func(l *domain.InvoiceLine) { l.InvoiceNumber, l.LineNumber = "INV-OTHER", "9" }, true},
		{"billing TIN is not in the key", func(l *domain.InvoiceLine) { l.Billing.TIN = "111111111" }, true},
		{"place of service is not in the key", func(l *domain.InvoiceLine) { l.PlaceOfService = "11" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := base
			l.Modifiers = slices.Clone(base.Modifiers)
			tt.change(&l)
			if got := KeyOf(&l) == KeyOf(&base); got != tt.same {
				t.Errorf("same key = %v, want %v", got, tt.same)
			}
		})
	}
}

// With a rendering provider, the billing provider is not in the key: the
// same rendering provider's line under another billing NPI is a duplicate.
func TestKeyOfRenderingOverridesBilling(t *testing.T) {
	a := goodLine()
	a.Rendering = domain.Provider{NPI: "1765432103", Name: "Nguyen, Linh"}
	b := a
	b.Billing.NPI = "1582345678"
	if KeyOf(&a) != KeyOf(&b) {
		t.Error("two billing providers with one rendering provider must share the key")
	}
}

func TestKeyOfModifierOrder(t *testing.T) {
	c := goodLine()
	c.HCPCS, c.Modifiers = "T1016", []string{"U8", "GQ"}
	d := goodLine()
	d.HCPCS, d.Modifiers = "T1016", []string{"GQ", "U8"}
	if KeyOf(&c) != KeyOf(&d) {
		t.Error("modifier order must not change the key")
	}
}

// The configured member-ID pattern decides, also when it is set or changed
// after the checker's first line (its matcher is made on first use).
func TestCheckMemberIDPattern(t *testing.T) {
	checker := &LineChecker{Coding: DefaultCodingTable(), Today: 20261123}
	cinRejected := func(cin string) bool {
		l := goodLine()
		l.Member.CIN = cin
		_, ds := checker.Check(&l, nil)
		for _, d := range ds {
			if d.Field == "member_cin" {
				return true
			}
		}
		return false
	}
	steps := []struct {
		pattern  string // "" = the default
		cin      string
		rejected bool
	}{
		{"", "91234567A", false},
		{"", "9123456A", true},
		{`^[0-9]{8}[A-Z]$`, "91234567A", false},
		{`^[0-9A-Z]{9}$`, "9123456AB", false},              // the default would reject it
		{`^9[0-9]{7}[A-Z]$|^TEMP[0-9]+$`, "TEMP12", false}, // not fixed-length: regexp decides
		{`^9[0-9]{7}[A-Z]$|^TEMP[0-9]+$`, "81234567A", true},
		{"", "9123456AB", true}, // DHCS schema CIN: eight digits, then a letter
		{"", "912345678", true}, // no letter at the end
		{"", "91234567a", true}, // lower case
	}
	for _, s := range steps {
		checker.MemberID = nil
		if s.pattern != "" {
			checker.MemberID = regexp.MustCompile(s.pattern)
		}
		if got := cinRejected(s.cin); got != s.rejected {
			t.Errorf("pattern %q, CIN %s: rejected %v, want %v", s.pattern, s.cin, got, s.rejected)
		}
	}
}

func TestCheckInvoiceNumber(t *testing.T) {
	tests := []struct {
		n    string
		safe bool
	}{
		{"INV-1", true}, {"2026/10 A.7", true}, {"1+1", true}, {"A@B", true},
		{"=1+1", false}, {"+1", false}, {"-5", false}, {"@SUM(A1)", false},
		{"A*B", false}, {"A~B", false}, {"A:B", false}, {"A^B", false}, {"A|B", false}, {`A\B`, false},
		{"A\tB", false}, {"A\x7fB", false}, {"Ané", false},
	}
	for _, tt := range tests {
		d := CheckInvoiceNumber(tt.n)
		if (d == nil) != tt.safe {
			t.Errorf("%q: got %+v, want safe=%v", tt.n, d, tt.safe)
			continue
		}
		if d != nil && (d.Rule != InvoiceNumberUnsafe || d.Field != "invoice_number" || strings.Contains(d.Message, tt.n)) {
			t.Errorf("%q: got %+v", tt.n, d)
		}
	}
	l := goodLine()
	l.InvoiceNumber = "=1+1"
	if _, ds := (&LineChecker{Coding: DefaultCodingTable(), Today: 20261123}).Check(&l, nil); len(ds) != 1 || ds[0].Rule != InvoiceNumberUnsafe {
		t.Errorf("Check: %+v", ds)
	}
}

// A code must be in the coding table on every date of service of a line,
// not on its first date only: a line that runs past a row's effective_to
// is rejected unless a row of the same code and modifiers takes over the
// next day.
func TestCodeInForceOnEveryDateOfService(t *testing.T) {
	const head = "service_id,service_name,service_aliases,program,hcpcs,modifiers,default_leg,leg_names,outreach,unit,effective_from,effective_to,source\n"
	ended := head + "CS01,Housing Transition Navigation Services,HTNS,CS,H0043,U6,Y,,N,per diem,2022-01-01,2026-06-30,test\n"
	continued := ended + "CS01,Housing Transition Navigation Services,HTNS,CS,H0043,U6,Y,,N,per diem,2026-07-01,,test\n"
	gap := ended + "CS01,Housing Transition Navigation Services,HTNS,CS,H0043,U6,Y,,N,per diem,2026-07-02,,test\n"
	tests := []struct {
		name     string
		table    string
		service  string // "" = bill H0043 U6
		from, to string
		rule     string
	}{
		{"last day in force", ended, "", "2026-06-30", "2026-06-30", ""},
		{"first day out of force", ended, "", "2026-07-01", "2026-07-01", CodeNotAllowed},
		{"line runs one day past effective_to", ended, "", "2026-06-30", "2026-07-01", CodeNotAllowed},
		{"service name, line runs past effective_to", ended, "HTNS", "2026-06-30", "2026-07-01", CodeNotAllowed},
		{"next row takes over the next day", continued, "", "2026-06-30", "2026-07-01", ""},
		{"service name, next row takes over", continued, "HTNS", "2026-06-29", "2026-07-02", ""},
		{"a day between the rows", gap, "", "2026-06-30", "2026-07-02", CodeNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := ParseCodingTable(strings.NewReader(tt.table), "test.csv")
			if err != nil {
				t.Fatal(err)
			}
			checker := &LineChecker{Coding: tab, Today: 20261123}
			l := goodLine()
			l.From, l.To = d(tt.from), d(tt.to)
			if tt.service != "" {
				l.HCPCS, l.Modifiers, l.Service = "", nil, tt.service
			}
			_, ds := checker.Check(&l, nil)
			if got := rulesOf(ds); got != tt.rule {
				t.Fatalf("got %q, want %q (%+v)", got, tt.rule, ds)
			}
		})
	}
}
