package rules

import (
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
)

func TestDecideCorrection(t *testing.T) {
	const id = "123456789012345"
	tests := []struct {
		name     string
		freq     string
		o        Original
		wantRule string // the decision's rule; "" = it goes out
		wantFreq string // CLM05-3 when it goes out
		wantF8   string
	}{
		{"no claim sent", "7", Original{}, CorrectionUnknown, "", ""},
		{"not found even with an ID", "7", Original{EncounterID: id, Latest: StatusAccepted}, CorrectionUnknown, "", ""},
		{"sent, no answer yet", "7", Original{Claims: 1, CLM01: "3051C1", Run: 4, Latest: StatusSent}, CorrectionHeld, "", ""},
		{"sent, accepted without an ID", "8", Original{Claims: 1, CLM01: "3051C1", Run: 4, Latest: StatusAccepted}, CorrectionHeld, "", ""},
		{"replacement, Encounter ID known", "7", Original{Claims: 1, CLM01: "3051C1", EncounterID: id, Latest: StatusAccepted}, "", "7", id},
		{"void, Encounter ID known", "8", Original{Claims: 1, CLM01: "3051C1", EncounterID: id, Latest: StatusAccepted}, "", "8", id},
		{"replacement of a denied encounter (it has an ID)", "7", Original{Claims: 1, CLM01: "3051C1", EncounterID: id, Latest: StatusRejected}, "", "7", id},
		{"replacement of an encounter never received", "7", Original{Claims: 1, CLM01: "3051C1", Latest: StatusRejected}, "", "1", ""},
		{"replacement while an earlier replacement waits", "7", Original{Claims: 1, CLM01: "3051C1", EncounterID: id, Latest: StatusSent}, CorrectionHeld, "", ""},
		{"void while an earlier replacement waits", "8", Original{Claims: 1, CLM01: "3051C1", EncounterID: id, Latest: StatusSent}, CorrectionHeld, "", ""},
		{"replacement of a replacement DHCS answered", "7", Original{Claims: 1, CLM01: "3051C1", EncounterID: id, Latest: StatusAccepted}, "", "7", id},
		{"recorded before submissions were kept", "7", Original{Claims: 1, CLM01: "3051C1", EncounterID: id}, "", "7", id},
		{"void of an encounter never received", "8", Original{Claims: 1, CLM01: "3051C1", Latest: StatusRejected}, CorrectionNotReceived, "", ""},
		{"replacement after a void DHCS accepted", "7", Original{Claims: 1, CLM01: "3051C1", EncounterID: id, Latest: StatusAccepted, Frequency: "8"}, CorrectionVoided, "", ""},
		{"void after a void DHCS accepted", "8", Original{Claims: 1, CLM01: "3051C1", EncounterID: id, Latest: StatusAccepted, Frequency: "8"}, CorrectionVoided, "", ""},
		{"void accepted without an ID of its own", "7", Original{Claims: 1, CLM01: "3051C1", Latest: StatusAccepted, Frequency: "8"}, CorrectionVoided, "", ""},
		{"replacement while a void waits", "7", Original{Claims: 1, CLM01: "3051C1", EncounterID: id, Latest: StatusSent, Frequency: "8"}, CorrectionHeld, "", ""},
		{"replacement after a void DHCS rejected", "7", Original{Claims: 1, CLM01: "3051C1", EncounterID: id, Latest: StatusRejected, Frequency: "8"}, "", "7", id},
		{"void after a void DHCS rejected", "8", Original{Claims: 1, CLM01: "3051C1", EncounterID: id, Latest: StatusRejected, Frequency: "8"}, "", "8", id},
		{"replacement after an accepted replacement", "7", Original{Claims: 1, CLM01: "3051C1", EncounterID: id, Latest: StatusAccepted, Frequency: "7"}, "", "7", id},
		{"void after an accepted original", "8", Original{Claims: 1, CLM01: "3051C1", EncounterID: id, Latest: StatusAccepted, Frequency: "1"}, "", "8", id},
		{"an invoice of one claim", "7", Original{Claims: 1, CLM01: "3051C1", EncounterID: id, Latest: StatusAccepted}, "", "7", id},
		{"an invoice of two claims", "7", Original{Claims: 2, CLM01: "3051C1", EncounterID: id, Latest: StatusAccepted}, CorrectionAmbiguous, "", ""},
		{"an invoice of two claims, void", "8", Original{Claims: 2, CLM01: "3051C1", Latest: StatusSent}, CorrectionAmbiguous, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &domain.InvoiceLine{Frequency: tc.freq, OriginalClaim: "INV-1"}
			c := DecideCorrection(l, tc.o)
			if c.Decision != nil {
				if c.Decision.Rule != tc.wantRule {
					t.Fatalf("decision %s, want %q", c.Decision.Rule, tc.wantRule)
				}
				if _, ok := Lookup(c.Decision.Rule); !ok {
					t.Errorf("%s is not in the catalog", c.Decision.Rule)
				}
				if c.Decision.Rule == CorrectionVoided && !strings.Contains(c.Decision.Message, "voided") {
					t.Errorf("message %q does not say the encounter was voided", c.Decision.Message)
				}
				return
			}
			if tc.wantRule != "" {
				t.Fatalf("goes out as %+v, want %s", c, tc.wantRule)
			}
			if c.Frequency != tc.wantFreq || c.EncounterID != tc.wantF8 || c.CLM01 != tc.o.CLM01 {
				t.Errorf("goes out as %+v, want frequency %s, REF*F8 %q, CLM01 %s", c, tc.wantFreq, tc.wantF8, tc.o.CLM01)
			}
			if c.Rule != "" {
				if _, ok := Lookup(c.Rule); !ok {
					t.Errorf("%s is not in the catalog", c.Rule)
				}
			}
		})
	}
}

func TestResponseStatuses(t *testing.T) {
	for cat, want := range map[string]string{
		"F1": StatusAccepted, "F0": StatusAccepted, "F3": StatusAccepted, "F4": StatusAccepted, "A2": StatusAccepted,
		"A0": StatusSent, "A1": StatusSent, "A5": StatusSent,
		"F2": StatusRejected, "A3": StatusRejected, "A4": StatusRejected, "A6": StatusRejected, "A7": StatusRejected, "A8": StatusRejected,
		"E0": StatusRejected, "": StatusRejected, "ZZ": StatusRejected,
	} {
		if got := Status277CA(cat); got != want {
			t.Errorf("Status277CA(%q) = %s, want %s", cat, got, want)
		}
	}
	for code, want := range map[string]string{"A": StatusSent, "E": StatusSent, "R": StatusRejected, "M": StatusRejected, "W": StatusRejected, "X": StatusRejected, "P": StatusRejected, "": StatusRejected} {
		if got := Status999(code); got != want {
			t.Errorf("Status999(%q) = %s, want %s", code, got, want)
		}
	}
	for _, tc := range []struct{ set, group, want string }{
		{"A", "A", StatusSent}, {"E", "E", StatusSent}, {"R", "P", StatusRejected}, {"A", "P", StatusSent},
		{"A", "", StatusSent}, {"R", "", StatusRejected},
		{"A", "R", StatusRejected}, {"E", "R", StatusRejected}, {"A", "X", StatusRejected}, {"A", "M", StatusRejected}, {"A", "W", StatusRejected},
	} {
		if got := Status999Set(tc.set, tc.group); got != tc.want {
			t.Errorf("Status999Set(IK501 %q, AK901 %q) = %s, want %s", tc.set, tc.group, got, tc.want)
		}
	}
	for st, want := range map[string]string{"Accepted": StatusAccepted, " accepted ": StatusAccepted, "Rejected": StatusRejected, "Denied": StatusRejected, "": StatusRejected} {
		if got := StatusEVR(st); got != want {
			t.Errorf("StatusEVR(%q) = %s, want %s", st, got, want)
		}
	}
	for stc, want := range map[string]string{
		"F2:54":    "F2:54 duplicate of a previously processed claim/line",
		"F2:97:QC": "F2:97:QC patient eligibility not found with entity (patient)",
		"F2:999":   "F2:999 claim status code 999 (X12 code source 508)",
		"F2:21:ZZ": "F2:21:ZZ missing or invalid information (entity ZZ)",
		"F1":       "F1",
	} {
		if got := DescribeClaimStatus(stc); got != want {
			t.Errorf("DescribeClaimStatus(%q) = %q, want %q", stc, got, want)
		}
	}
}

func TestDecideCorrectionSplit(t *testing.T) {
	for _, tt := range []struct {
		freq   string
		second bool
		want   bool
	}{
		{"7", false, false},
		{"7", true, true},
		{"8", true, true},
		{"", true, false}, // an original may go in several claims
	} {
		d := DecideCorrectionSplit(&domain.InvoiceLine{Frequency: tt.freq, OriginalClaim: "3051C1"}, tt.second)
		if (d != nil) != tt.want {
			t.Errorf("frequency %q, second claim %v: %+v, want a rejection: %v", tt.freq, tt.second, d, tt.want)
			continue
		}
		if d != nil && (d.Rule != CorrectionSplit || !strings.Contains(d.Message, "3051C1")) {
			t.Errorf("decision %+v", d)
		}
	}
}
