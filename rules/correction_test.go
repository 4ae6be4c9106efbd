package rules

import (
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
)

func TestDecideCorrection(t *testing.T) {
	l := &domain.InvoiceLine{Frequency: "7", OriginalClaim: "INV-1"}
	tests := []struct {
		name string
		o    Original
		want string // rule ID; "" = sent
	}{
		{"no claim sent", Original{}, CorrectionUnknown},
		{"not found even with an ID", Original{Found: false, EncounterID: "123456789012345"}, CorrectionUnknown},
		{"sent, no Encounter ID yet", Original{Found: true, CLM01: "3051C1", Run: 4}, CorrectionHeld},
		{"sent, Encounter ID known", Original{Found: true, CLM01: "3051C1", Run: 4, EncounterID: "123456789012345"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := DecideCorrection(l, tc.o)
			got := ""
			if d != nil {
				got = d.Rule
				if d.Field != "original_claim" {
					t.Errorf("field %q", d.Field)
				}
				if _, ok := Lookup(d.Rule); !ok {
					t.Errorf("%s is not in the catalog", d.Rule)
				}
			}
			if got != tc.want {
				t.Errorf("DecideCorrection = %q, want %q", got, tc.want)
			}
		})
	}
}
