package validate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The 274 data checks read a site's county where the production file
// carries it, N201 sub-field 4 of the site's composite N2 (or N4 CY): a
// per-county file holds one county, an HCP code's file (ISA06 TIN + HCP
// code, GS02 the TIN) several.
func TestCheck274CountyFromTheN2Composite(t *testing.T) {
	site := func(hl, npi, county string) string {
		return "HL*" + hl + "*3*N*0~NM1*77*2*SITE*****XX*" + npi + "~N2*;17;;" + county + ";0;0;0;0;0;0;0;*;N;;;;N~DTP*092*D8*20250101~" +
			"CRC*DJ*Y*1S~NX1*77~N3*1 MAIN ST~N4*RIVERSIDE*CA*92501~LQ*68*251S00000X~TPB*3G~REF*N5*F1;L1;P1~"
	}
	file := func(isa06, gs02, c1, c2 string) string {
		return "ISA*03*2609      *00*          *ZZ*" + isa06 + "*ZZ*DHCS-PROV-NETWK*261002*0715*^*00405*000000001*0*T*:~" +
			"GS*PW*" + gs02 + "*DHCS-PROV-NETWK*20261002*0715*1*X*004050X109~ST*274*0001*004050X109~" +
			"HL*1**20*1~NM1*ACV*2*PLAN*****FI*951234567~HL*2*1*21*1~NM1*40*2*DHCS Managed Care~" +
			"HL*3*2*4*1~NM1*QV*2*ORG*****XX*1234500001~N2*941234567~" + site("4", "1456789019", c1) + site("5", "1582345678", c2) +
			"SE*30*0001~GE*1*1~IEA*1*000000001~"
	}
	for _, tt := range []struct {
		name, data, want string // want "" = no problem
	}{
		{"one county per county file", file("CALAIMPLAN     ", "CALAIMPLAN", "33", "33"), ""},
		{"two counties in a county file", file("CALAIMPLAN     ", "CALAIMPLAN", "33", "36"), "county 36 in a file for county 33"},
		{"an HCP code's file holds its counties", file("951234567305   ", "951234567", "33", "36"), ""},
		{"a site without a county", file("CALAIMPLAN     ", "CALAIMPLAN", "33", ""), "no county (N2 N201 sub-field 4"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.x12")
			if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			n, err := check274(context.Background(), nil, path, &out)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.want == "" && n != 0:
				t.Errorf("%d problem(s):\n%s", n, out.String())
			case tt.want != "" && (n != 1 || !strings.Contains(out.String(), tt.want)):
				t.Errorf("%d problem(s), want one naming %q:\n%s", n, tt.want, out.String())
			}
		})
	}
}
