package x837p

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

func header() Header {
	st := int64(0)
	return Header{
		Interchange: x12.InterchangeHeader{SenderQualifier: "ZZ", SenderID: "PLAN", ReceiverQualifier: "ZZ", ReceiverID: "DHCS",
			Date: time.Date(2026, 11, 23, 9, 5, 0, 0, time.UTC), ControlNumber: 42, Usage: "T"},
		Group:           x12.GroupHeader{SenderCode: "PLAN", ReceiverCode: "DHCS", Date: time.Date(2026, 11, 23, 9, 5, 0, 0, time.UTC), ControlNumber: 7},
		Submitter:       Party{Name: "Example Plan", ID: "PLAN"},
		SubmitterPER:    Contact{Name: "EDI", Phone: "(916) 555-0100"},
		Receiver:        Party{Name: "DHCS", ID: "DHCS"},
		TransactionType: "RP",
		NextSTControl:   func() (int64, error) { st++; return st, nil },
	}
}

func billing(npi string) domain.Provider {
	return domain.Provider{NPI: npi, TIN: "941234567", Name: "Bay Street Housing", Taxonomy: "251S00000X",
		Address: domain.Address{Street: "1200 Mission St", City: "San Francisco", State: "CA", Zip: "941031520"}}
}

func claim(pcn string, lines ...ServiceLine) *Claim {
	return &Claim{
		Billing: billing("1456789019"),
		Subscriber: domain.Member{CIN: "91234567A", LastName: "Rivera", FirstName: "Ana", DOB: 19780412, Gender: "F",
			// The patient is the subscriber: 2010BA N3/N4 are required.
			Address: domain.Address{Street: "88 Pine St", City: "Oakland", State: "CA", Zip: "94607"}},
		Payer:                Party{Name: "DHCS", ID: "DHCS"},
		ClaimFilingIndicator: "MC",
		PatientControlNumber: pcn,
		PlaceOfService:       "12",
		Diagnoses:            []string{"Z5901"},
		Lines:                lines,
	}
}

func line(code string, charge domain.Money, from, to uint32) ServiceLine {
	return ServiceLine{HCPCS: code, Modifiers: []string{"U6"}, Charge: charge, Units: 1000, DiagnosisPointers: []int{1},
		From: civil.Date(from), To: civil.Date(to), ControlNumber: "1-1"}
}

// validate runs the 005010X222A1 implementation-guide validator over the
// encoder's output and fails on any finding.
func validate(t *testing.T, b []byte) ig.Summary {
	t.Helper()
	v := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { t.Errorf("finding: %s", f.String()) }})
	sum, err := v.Validate(context.Background(), bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Transactions == 0 {
		t.Fatal("no transaction set validated")
	}
	return sum
}

func encode(t *testing.T, h Header, claims ...*Claim) []byte {
	t.Helper()
	var buf bytes.Buffer
	e := NewEncoder(&buf, x12.DefaultDelimiters, h, x12.WithNewlines())
	for _, c := range claims {
		if err := e.Encode(c); err != nil {
			t.Fatal(err)
		}
	}
	if wrote, err := e.Close(); err != nil || !wrote {
		t.Fatalf("close: %v %v", wrote, err)
	}
	return buf.Bytes()
}

func TestEncodedShapesValidate(t *testing.T) {
	tests := []struct {
		name   string
		claims func() []*Claim
		want   []string // segments that must appear, written out
	}{
		{"one line", func() []*Claim { return []*Claim{claim("INV-1", line("H0043", 8500, 20260901, 20260901))} },
			[]string{"CLM*INV-1*85***12:B:1*Y*A*Y*Y~", "SV1*HC:H0043:U6*85*UN*1***1~", "DTP*472*D8*20260901~", "HI*ABK:Z5901~"}},
		{"date range", func() []*Claim { return []*Claim{claim("INV-1", line("H0043", 70000, 20260901, 20260907))} },
			[]string{"DTP*472*RD8*20260901-20260907~"}},
		{"rendering provider and line place of service", func() []*Claim {
			c := claim("INV-2", line("G9008", 45000, 20260903, 20260903))
			c.Rendering = &domain.Provider{NPI: "1765432103", Name: "Nguyen, Linh"}
			c.Lines[0].PlaceOfService = "02"
			return []*Claim{c}
		}, []string{"NM1*82*1*Nguyen*Linh****XX*1765432103~", "SV1*HC:G9008:U6*450*UN*1*02**1~"}},
		{"claim-level and line-level authorizations", func() []*Claim {
			a := claim("INV-3", line("H0043", 100, 20260901, 20260901))
			a.PriorAuthorization = "AUTH-1"
			a.Lines[0].PriorAuthorization = "AUTH-1"
			b := claim("INV-4", line("H0043", 100, 20260901, 20260901), line("H0044", 200, 20260902, 20260902))
			b.Lines[1].PriorAuthorization = "AUTH-2"
			return []*Claim{a, b}
		}, []string{"REF*G1*AUTH-1~", "REF*G1*AUTH-2~"}},
		{"several diagnoses and pointers, zero charge", func() []*Claim {
			c := claim("INV-5", line("T1016", 0, 20260105, 20260105))
			c.Diagnoses = []string{"Z5901", "Z599", "R69"}
			c.Lines[0].Modifiers = []string{"U8", "GQ"}
			c.Lines[0].DiagnosisPointers = []int{2, 3}
			return []*Claim{c}
		}, []string{"HI*ABK:Z5901*ABF:Z599*ABF:R69~", "SV1*HC:T1016:U8:GQ*0*UN*1***2:3~", "CLM*INV-5*0***"}},
		{"two billing providers, member address", func() []*Claim {
			a := claim("INV-6", line("H0043", 100, 20260901, 20260901))
			b := claim("INV-7", line("S5170", 1400, 20260901, 20260914))
			b.Billing = billing("1673456780")
			b.Subscriber.Address = domain.Address{Street: "55 Oak St", City: "Fresno", State: "CA", Zip: "93706"}
			return []*Claim{a, b}
		}, []string{"HL*1**20*1~", "HL*2*1*22*0~", "HL*3**20*1~", "HL*4*3*22*0~", "N3*55 Oak St~", "N4*Fresno*CA*93706~"}},
		{"provider's claim ID of a forwarded claim in REF*D9, after REF*F8", func() []*Claim {
			c := claim("000000101000001", line("H0043", 100, 20260901, 20260901))
			c.FrequencyCode, c.PayerClaimControl, c.ClaimIdentifier = "7", "123456789012345", "ENC1001"
			return []*Claim{c}
		}, []string{"CLM*000000101000001*1***12:B:7*Y*A*Y*Y~REF*F8*123456789012345~REF*D9*ENC1001~HI*"}},
		// 2310B NM103 is required: a rendering name with nothing before
		// its comma is written whole, as an organization.
		{"rendering name with an empty last name", func() []*Claim {
			c := claim("INV-9", line("G9008", 45000, 20260903, 20260903))
			c.Rendering = &domain.Provider{NPI: "1765432103", Name: ", Linh"}
			return []*Claim{c}
		}, []string{"NM1*82*2*, Linh*****XX*1765432103~"}},
		{"rendering name with only delimiters after its comma", func() []*Claim {
			c := claim("INV-10", line("G9008", 45000, 20260903, 20260903))
			c.Rendering = &domain.Provider{NPI: "1765432103", Name: "Harbor Clinic, *"}
			return []*Claim{c}
		}, []string{"NM1*82*2*Harbor Clinic,*****XX*1765432103~"}},
		{"names with accents and delimiters are cleaned", func() []*Claim {
			c := claim("INV-8", line("H0043", 100, 20260901, 20260901))
			c.Subscriber.LastName, c.Subscriber.FirstName = "López*Ñúñez", "José~María"
			return []*Claim{c}
		}, []string{"NM1*IL*1*Lopez Nunez*Jose Maria****MI*91234567A~"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := encode(t, header(), tt.claims()...)
			validate(t, out)
			flat := strings.ReplaceAll(string(out), "\n", "")
			for _, w := range tt.want {
				if !strings.Contains(flat, w) {
					t.Errorf("output lacks %q\n%s", w, out)
				}
			}
		})
	}
}

func TestTransactionSetSplitValidates(t *testing.T) {
	h := header()
	h.MaxClaimsPerST = 3
	var claims []*Claim
	for i := 0; i < 10; i++ {
		claims = append(claims, claim("INV", line("H0043", 100, 20260901, 20260901)))
	}
	out := encode(t, h, claims...)
	sum := validate(t, out)
	if sum.Transactions != 4 || sum.Accepted != 4 {
		t.Errorf("transactions %d accepted %d, want 4", sum.Transactions, sum.Accepted)
	}
	if !strings.Contains(string(out), "GE*4*7~") || !strings.Contains(string(out), "IEA*1*000000042~") {
		t.Errorf("trailer counts wrong:\n%s", out[len(out)-60:])
	}
}

func TestEncodeRefusesClaimsTheGuideForbids(t *testing.T) {
	fifty := make([]ServiceLine, 51)
	for i := range fifty {
		fifty[i] = line("H0043", 100, 20260901, 20260901)
	}
	tests := []struct {
		name   string
		change func(c *Claim)
		want   string
	}{
		{"no lines", func(c *Claim) { c.Lines = nil }, "no service lines"},
		{"51 lines", func(c *Claim) { c.Lines = fifty }, "51 service lines"},
		{"no diagnosis", func(c *Claim) { c.Diagnoses = nil }, "no diagnosis"},
		{"13 diagnoses", func(c *Claim) { c.Diagnoses = strings.Fields("A00 A01 A02 A03 A04 A05 A06 A07 A08 A09 B00 B01 B02") }, "13 diagnoses"},
		{"5 modifiers", func(c *Claim) { c.Lines[0].Modifiers = []string{"U1", "U2", "U3", "U4", "U5"} }, "5 modifiers"},
		{"pointer past the diagnoses", func(c *Claim) { c.Lines[0].DiagnosisPointers = []int{2} }, "points at diagnosis 2 of 1"},
		{"no pointer", func(c *Claim) { c.Lines[0].DiagnosisPointers = nil }, "1 to 4 diagnosis pointers"},
	}
	for _, tt := range tests {
		c := claim("INV-X", line("H0043", 100, 20260901, 20260901))
		tt.change(c)
		var buf bytes.Buffer
		err := NewEncoder(&buf, x12.DefaultDelimiters, header()).Encode(c)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestCloseWithoutClaimsWritesNothing(t *testing.T) {
	var buf bytes.Buffer
	e := NewEncoder(&buf, x12.DefaultDelimiters, header())
	if wrote, err := e.Close(); wrote || err != nil || buf.Len() != 0 {
		t.Errorf("wrote %v err %v bytes %d", wrote, err, buf.Len())
	}
}

// TestBHT03UniquePastST02Wrap: BHT03 is ISA13 and ST02 whole, so sets
// whose ST02s share their last four digits get different references.
func TestBHT03UniquePastST02Wrap(t *testing.T) {
	seen := map[string]int64{}
	for _, st := range []int64{1, 10001, 123450001, 999999999} {
		h := header()
		h.NextSTControl = func() (int64, error) { return st, nil }
		out := encode(t, h, claim("INV", line("H0043", 100, 20260901, 20260901)))
		validate(t, out)
		_, rest, _ := strings.Cut(string(out), "BHT*0019*00*")
		ref, _, _ := strings.Cut(rest, "*")
		want := fmt.Sprintf("000000042%09d", st)
		if ref != want {
			t.Errorf("ST02 %d: BHT03 %q, want %q", st, ref, want)
		}
		if prev, dup := seen[ref]; dup {
			t.Errorf("ST02 %d and %d share BHT03 %q", prev, st, ref)
		}
		seen[ref] = st
	}
}
