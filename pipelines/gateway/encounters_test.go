package gateway

import (
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// What `calgw report encounters` says to do with a rejected encounter is
// what the conversion then does with the correction it asks for
// (rules.DecideCorrection over the CLM01's latest Encounter ID).
func TestFixOfRejectedEncounter(t *testing.T) {
	const id = "202611240000001"
	for _, tc := range []struct {
		name     string
		sub      store.Submission
		clmID    string // the CLM01's latest Encounter ID (sent_claims)
		freq     string // the correction the fix asks for
		wantText string
	}{
		{"original denied with an ID", store.Submission{Frequency: "1", EncounterID: id}, id, "7", "REF*F8 carries Encounter ID " + id},
		{"original rejected by a 999", store.Submission{Frequency: "1"}, "", "7", "goes out again as an original"},
		{"replacement rejected by a 999", store.Submission{Frequency: "7"}, id, "7", "send the replacement again (frequency 7"},
		{"replacement denied with its own ID", store.Submission{Frequency: "7", EncounterID: "202611250000001"}, "202611250000001", "7", "REF*F8 carries Encounter ID 202611250000001"},
		{"void rejected", store.Submission{Frequency: "8"}, id, "8", "send the void again"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.sub.CLM01, tc.sub.Status = "3051C1", store.EncounterRejected
			fix := fixOf(&tc.sub)
			if !strings.Contains(fix, tc.wantText) {
				t.Errorf("fix %q, want it to say %q", fix, tc.wantText)
			}
			d := rules.DecideCorrection(&domain.InvoiceLine{Frequency: tc.freq, OriginalClaim: "3051C1"},
				rules.Original{Claims: 1, CLM01: "3051C1", EncounterID: tc.clmID, Latest: rules.StatusRejected})
			if d.Decision != nil {
				t.Fatalf("the correction the fix asks for is %s", d.Decision.Rule)
			}
			if resend := d.Rule == rules.CorrectionResend; resend != strings.Contains(fix, "as an original") {
				t.Errorf("fix %q; the conversion sends it with CLM05-3 %s, REF*F8 %q", fix, d.Frequency, d.EncounterID)
			}
		})
	}
}
