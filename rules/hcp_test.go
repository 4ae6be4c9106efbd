package rules

import (
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// The HCP code comes from the county of the 834 span covering the date of
// service, else the member's county, through the plan's table.
func TestChooseHCPFromCountyOfEnrollment(t *testing.T) {
	table := map[string]string{"33": "305", "36": "306"}
	lookup := func(c string) (string, bool) { h, ok := table[c]; return h, ok }
	moved := &domain.Enrollee{County: "36", Spans: []domain.EligibilitySpan{
		{From: 20260101, To: 20260630, County: "33"},
		{From: 20260701, County: "36"},
	}}
	tests := []struct {
		name    string
		member  *domain.Enrollee
		from    civil.Date
		want    string
		decided bool
	}{
		{"span county before a move", moved, 20260615, "305", false},
		{"span county after a move", moved, 20260715, "306", false},
		{"member county when no span covers the day", &domain.Enrollee{County: "33"}, 20260715, "305", false},
		{"county not in the table", &domain.Enrollee{County: "19"}, 20260715, "", true},
		{"unknown member", nil, 20260715, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &domain.InvoiceLine{From: tt.from}
			got, d := ChooseHCP(tt.member, l, lookup)
			if got != tt.want || (d != nil) != tt.decided {
				t.Errorf("got %q, decision %v; want %q, decision %v", got, d, tt.want, tt.decided)
			}
			if d != nil && d.Rule != HCPUnknown {
				t.Errorf("rule %s, want %s", d.Rule, HCPUnknown)
			}
		})
	}
}
