package encounter

import (
	"slices"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
)

// Lines of one invoice and member go to one claim only when their billing
// provider is the same: NPI and TIN (2010AA) and rendering NPI (2310B).
func TestClaimsSplitByBillingTINAndRendering(t *testing.T) {
	with := func(change func(l *domain.InvoiceLine)) *domain.InvoiceLine {
		l := line("A", "1")
		change(l)
		return l
	}
	tests := []struct {
		name  string
		lines []*domain.InvoiceLine
		want  []int
	}{
		{"same NPI and TIN", []*domain.InvoiceLine{line("A", "1"), line("A", "1")}, []int{2}},
		{"same NPI, different TINs", []*domain.InvoiceLine{line("A", "1"), with(func(l *domain.InvoiceLine) { l.Billing.TIN = "957654321" })}, []int{1, 1}},
		{"different billing NPIs", []*domain.InvoiceLine{line("A", "1"), with(func(l *domain.InvoiceLine) { l.Billing.NPI = "1582345678" })}, []int{1, 1}},
		{"different rendering NPIs", []*domain.InvoiceLine{line("A", "1"), with(func(l *domain.InvoiceLine) { l.Rendering.NPI = "1765432103" })}, []int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for _, c := range assemble(t, tt.lines...) {
				got = append(got, len(c.Lines))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("lines per claim %v, want %v", got, tt.want)
			}
		})
	}
}
