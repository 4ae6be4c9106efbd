package encounter

import (
	"fmt"
	"slices"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/x837p"
)

func line(inv, cin string, dx ...string) *domain.InvoiceLine {
	return &domain.InvoiceLine{
		InvoiceNumber: inv,
		Billing:       domain.Provider{NPI: "1456789019", TIN: "941234567", Name: "Bay Street"},
		Member:        domain.Member{CIN: cin, LastName: "Rivera", FirstName: "Ana", DOB: 19780412},
		From:          20260901, To: 20260901, Units: 1000, Charge: 100, HCPCS: "H0043", Modifiers: []string{"U6"},
		Diagnoses: dx,
	}
}

type collected struct{ claims []x837p.Claim }

func (c *collected) emit(cl *x837p.Claim) error {
	c.claims = append(c.claims, *cl)
	return nil
}

func assemble(t *testing.T, lines ...*domain.InvoiceLine) []x837p.Claim {
	t.Helper()
	var c collected
	a := NewAssembler(Options{Payer: x837p.Party{Name: "DHCS", ID: "DHCS"}, ClaimFilingIndicator: "MC",
		DefaultPlaceOfService: "99", DefaultDiagnosis: "Z599"}, c.emit)
	for i, l := range lines {
		if err := a.Add(l, fmt.Sprint(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	return c.claims
}

func TestClaimGrouping(t *testing.T) {
	tests := []struct {
		name  string
		lines []*domain.InvoiceLine
		want  []int // lines per claim
	}{
		{"one invoice, one member", []*domain.InvoiceLine{line("A", "1"), line("A", "1"), line("A", "1")}, []int{3}},
		{"two members on one invoice", []*domain.InvoiceLine{line("A", "1"), line("A", "2")}, []int{1, 1}},
		{"invoice reappears later: a new claim", []*domain.InvoiceLine{line("A", "1"), line("B", "1"), line("A", "1")}, []int{1, 1, 1}},
		{"51 lines split at 50", slices.Repeat([]*domain.InvoiceLine{line("A", "1")}, 51), []int{50, 1}},
		{"provider claim IDs differ: two claims", []*domain.InvoiceLine{withProviderClaim(line("A", "1"), "P1"), withProviderClaim(line("A", "1"), "P2")}, []int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := assemble(t, tt.lines...)
			var got []int
			for _, c := range claims {
				got = append(got, len(c.Lines))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("lines per claim %v, want %v", got, tt.want)
			}
		})
	}
}

// A line's claim diagnoses are the claim's HI in their order, codes no
// line points at included; the lines point into it, and a line without
// codes of its own points at the principal one.
func TestClaimDiagnosesKeepTheirOrder(t *testing.T) {
	claimDx := []string{"Z5900", "F329", "R69"}
	l1, l2 := line("A", "1", "R69"), line("A", "1")
	l1.ClaimDiagnoses, l2.ClaimDiagnoses = claimDx, claimDx
	claims := assemble(t, l1, l2)
	if len(claims) != 1 {
		t.Fatalf("%d claims, want 1", len(claims))
	}
	c := claims[0]
	if !slices.Equal(c.Diagnoses, claimDx) {
		t.Errorf("HI %v, want %v", c.Diagnoses, claimDx)
	}
	for i, want := range [][]int{{3}, {1}} {
		if !slices.Equal(c.Lines[i].DiagnosisPointers, want) {
			t.Errorf("line %d pointers %v, want %v", i+1, c.Lines[i].DiagnosisPointers, want)
		}
	}
	// A line of another claim's diagnoses is another claim.
	l3 := line("A", "1", "R69")
	l3.ClaimDiagnoses = []string{"R69"}
	if claims := assemble(t, l1, l3); len(claims) != 2 || !slices.Equal(claims[1].Diagnoses, []string{"R69"}) {
		t.Errorf("claims %+v, want two, the second's HI R69", claims)
	}
}

// The default diagnosis a line without codes gets is never the claim's
// principal one (ABK) while another line gave a code; a line that lists it
// itself may make it the principal one.
func TestDefaultDiagnosisNotPrincipal(t *testing.T) {
	for _, tt := range []struct {
		name  string
		lines []*domain.InvoiceLine
		hi    []string
		ptrs  [][]int
	}{
		{"first line without codes", []*domain.InvoiceLine{line("A", "1"), line("A", "1", "R69", "Z5901"), line("A", "1")},
			[]string{"R69", "Z5901", "Z599"}, [][]int{{3}, {1, 2}, {3}}},
		{"no line with codes", []*domain.InvoiceLine{line("A", "1"), line("A", "1")}, []string{"Z599"}, [][]int{{1}, {1}}},
		{"the default code given", []*domain.InvoiceLine{line("A", "1", "Z599"), line("A", "1", "R69")},
			[]string{"Z599", "R69"}, [][]int{{1}, {2}}},
		{"the default code given by a later line", []*domain.InvoiceLine{line("A", "1"), line("A", "1", "R69", "Z599")},
			[]string{"Z599", "R69"}, [][]int{{1}, {2, 1}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := assemble(t, tt.lines...)[0]
			if !slices.Equal(c.Diagnoses, tt.hi) {
				t.Errorf("HI %v, want %v", c.Diagnoses, tt.hi)
			}
			for i, want := range tt.ptrs {
				if !slices.Equal(c.Lines[i].DiagnosisPointers, want) {
					t.Errorf("line %d pointers %v, want %v", i+1, c.Lines[i].DiagnosisPointers, want)
				}
			}
		})
	}
}

func TestDiagnosesAndPointers(t *testing.T) {
	claims := assemble(t, line("A", "1", "Z5901", "R69"), line("A", "1"), line("A", "1", "R69"))
	c := claims[0]
	if !slices.Equal(c.Diagnoses, []string{"Z5901", "R69", "Z599"}) {
		t.Fatalf("diagnoses %v", c.Diagnoses)
	}
	for i, want := range [][]int{{1, 2}, {3}, {2}} {
		if !slices.Equal(c.Lines[i].DiagnosisPointers, want) {
			t.Errorf("line %d pointers %v, want %v", i+1, c.Lines[i].DiagnosisPointers, want)
		}
	}
	// Thirteen distinct codes do not fit one claim's HI: the claim is split.
	var lines []*domain.InvoiceLine
	for i := 0; i < 13; i++ {
		lines = append(lines, line("A", "1", fmt.Sprintf("Z%03d", i)))
	}
	claims = assemble(t, lines...)
	if len(claims) != 2 || len(claims[0].Diagnoses) != 12 || len(claims[1].Diagnoses) != 1 {
		t.Errorf("13 diagnoses: %d claims", len(claims))
	}
}

func TestAuthorizationLevelAndDefaults(t *testing.T) {
	a, b := line("A", "1"), line("A", "1")
	a.AuthorizationNumber, b.AuthorizationNumber = "AUTH-1", "AUTH-1"
	c := assemble(t, a, b)[0]
	if c.PriorAuthorization != "AUTH-1" {
		t.Errorf("shared authorization not at claim level: %q", c.PriorAuthorization)
	}
	b.AuthorizationNumber = "AUTH-2"
	c = assemble(t, a, b)[0]
	if c.PriorAuthorization != "" || c.Lines[0].PriorAuthorization != "AUTH-1" || c.Lines[1].PriorAuthorization != "AUTH-2" {
		t.Errorf("different authorizations: claim %q lines %q %q", c.PriorAuthorization, c.Lines[0].PriorAuthorization, c.Lines[1].PriorAuthorization)
	}
	l := line("A", "1")
	l.PlaceOfService = "12"
	c = assemble(t, line("A", "1"), l)[0]
	if c.PlaceOfService != "99" || c.Lines[0].PlaceOfService != "99" || c.Lines[1].PlaceOfService != "12" {
		t.Errorf("place of service: claim %s lines %s %s", c.PlaceOfService, c.Lines[0].PlaceOfService, c.Lines[1].PlaceOfService)
	}
	if c.Total() != 200 {
		t.Errorf("total %v", c.Total())
	}
	r := line("B", "1")
	r.Rendering = domain.Provider{NPI: "1765432103", Name: "Nguyen, Linh"}
	same := line("C", "1")
	same.Rendering = domain.Provider{NPI: same.Billing.NPI}
	claims := assemble(t, r, same)
	if claims[0].Rendering == nil || claims[0].Rendering.NPI != "1765432103" || claims[1].Rendering != nil {
		t.Errorf("rendering: %+v %+v", claims[0].Rendering, claims[1].Rendering)
	}
}

func withProviderClaim(l *domain.InvoiceLine, id string) *domain.InvoiceLine {
	l.ProviderClaimID = id
	return l
}

// The provider's claim ID of a line received as an 837P goes to the claim
// (2300 REF*D9); a line without one leaves it empty.
func TestProviderClaimIDGoesToTheClaim(t *testing.T) {
	claims := assemble(t, withProviderClaim(line("A", "1"), "ENC1001"), line("B", "1"))
	if len(claims) != 2 || claims[0].ClaimIdentifier != "ENC1001" || claims[1].ClaimIdentifier != "" {
		t.Fatalf("claims %+v", claims)
	}
}
