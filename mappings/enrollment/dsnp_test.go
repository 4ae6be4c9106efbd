package enrollment

import (
	"os"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
)

// A REF*DX without a contract names no D-SNP: DHCS's samples send a member
// with a Medicare Part D plan only so (";;;S5617;D635;20240901", the
// hccinfhir sample_834_06 in DHCS's format). In a change file it says the
// member has no D-SNP from the file's date (DTP*090, else DTP*007, else
// BGN03): the change ends a stored one the day before. In a full file it is
// as if the loop had no REF*DX (the period's cut ends it).
func TestREFDXWithoutContract(t *testing.T) {
	b, err := os.ReadFile("../../testdata/enrollment/family-change.834")
	if err != nil {
		t.Fatal(err)
	}
	base := string(b)
	const dx = "REF*DX*H5678;002;20250101~"
	if !strings.Contains(base, dx) {
		t.Fatal("the D-SNP member's REF*DX is not in the file")
	}
	for _, tt := range []struct {
		name, ref, header string
		want              domain.DSNP
	}{
		{"Part D only", "REF*DX*;;;S5617;D635;20240901~", "", domain.DSNP{To: day("2026-02-28")}},
		{"empty fields", "REF*DX*;;~", "", domain.DSNP{To: day("2026-02-28")}},
		{"a blank contract with a PBP and start", "REF*DX* ;002;20250101~", "", domain.DSNP{To: day("2026-02-28")}},
		{"the file's effective date", "REF*DX*;;~", "DTP*007*D8*20260315~", domain.DSNP{To: day("2026-03-14")}},
		{"a contract", "REF*DX* H5678 ; 002 ;20250101~", "", domain.DSNP{Contract: "H5678", PBP: "002", From: day("2025-01-01")}},
		{"full file", "REF*DX*;;~", "", domain.DSNP{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(base, dx, tt.ref, 1)
			if tt.header != "" {
				in = strings.Replace(in, "N1*P5*", tt.header+"\r\nN1*P5*", 1)
			}
			if tt.name == "full file" {
				in = strings.Replace(in, "*0500****2~", "*0500****RX~", 1)
			}
			ms, hdrs := mapAll(t, strings.NewReader(in))
			if tt.name == "full file" && !hdrs[0].Full {
				t.Fatal("not a full file")
			}
			m := ms[5]
			if !m.OK() {
				t.Fatalf("member rejected: %v", m.Problems)
			}
			if got := m.Change.Enrollee.DSNP; got != tt.want {
				t.Errorf("D-SNP %+v, want %+v", got, tt.want)
			}
		})
	}
}
