package encounters

import (
	"bytes"
	"io"
	"reflect"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// demoClaim is what the 837P must say of one claim of the demo invoices,
// written by hand from the invoice files (internal/demo/data/invoices) and
// 005010X222A1: the authorization goes to 2300 REF*G1 when every line of
// the claim has the same one, else to each line that has one (2400
// REF*G1); lines without one carry none. The invoices give no member
// address, so 2010BA N4 is the member's from the demo 834
// (internal/demo/data/enrollment.834, 2100A N4).
type demoClaim struct {
	id, charge, auth string // CLM01, CLM02, 2300 REF*G1
	member           string // the subscriber's 2010BA N4: city, state, ZIP
	lines            []demoLine
}

type demoLine struct {
	sv1, charge, units, dates, auth string // SV101, SV102, SV104, DTP*472 (D8 or RD8), 2400 REF*G1
}

var demoClaims = []demoClaim{
	{"INV-2026-0101", "1585", "", "SAN FRANCISCO CA 94103", []demoLine{
		{"HC:H0043:U6", "85", "1", "D8 20260901", "AUTH-CS-1001"},
		{"HC:H0044:U2", "1500", "1", "D8 20260905", "AUTH-CS-1001"}, // service "Housing Deposits"
		{"HC:T1016:U8:GQ", "0", "2", "D8 20260902", ""},             // outreach, no authorization
	}},
	{"INV-2026-0102", "1300", "AUTH-CS-1002", "SAN FRANCISCO CA 94110", []demoLine{
		{"HC:H0043:U3", "700", "7", "RD8 20260901-20260907", ""},
		{"HC:T2033:U6", "600", "3", "RD8 20260908-20260910", ""},
	}},
	{"INV-GS-9001", "450", "", "LOS ANGELES CA 90012", []demoLine{
		{"HC:G9008:U1", "450", "1", "D8 20260903", ""},
		{"HC:G9012:U8", "0", "1", "D8 20260901", ""}, // service "ECM outreach"
	}},
	{"INV-VM-77", "432", "", "FRESNO CA 93706", []demoLine{
		{"HC:S5170:U6", "392", "28", "RD8 20260901-20260914", ""},
		{"HC:S9977:U4", "40", "1", "D8 20260915", ""},
	}},
}

// decodeClaims reads the claims of an 837P: CLM, the 2300 REF*G1 before
// the first LX, and per LX the SV1, DTP*472 and 2400 REF*G1.
func decodeClaims(t *testing.T, data []byte) []demoClaim {
	t.Helper()
	var out []demoClaim
	rd := x12.NewReader(bytes.NewReader(data))
	inLine := false
	subscriber, member := false, ""
	for {
		s, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var c *demoClaim
		if len(out) > 0 {
			c = &out[len(out)-1]
		}
		switch id := string(s.ID()); {
		case id == "NM1":
			subscriber = s.ElementString(1) == "IL"
		case id == "N4" && subscriber:
			member = s.ElementString(1) + " " + s.ElementString(2) + " " + s.ElementString(3)
		case id == "CLM":
			out = append(out, demoClaim{id: s.ElementString(1), charge: s.ElementString(2), member: member})
			inLine = false
		case id == "LX" && c != nil:
			c.lines = append(c.lines, demoLine{})
			inLine = true
		case id == "SV1" && inLine:
			l := &c.lines[len(c.lines)-1]
			l.sv1, l.charge, l.units = s.ElementString(1), s.ElementString(2), s.ElementString(4)
		case id == "DTP" && inLine && s.ElementString(1) == "472":
			c.lines[len(c.lines)-1].dates = s.ElementString(2) + " " + s.ElementString(3)
		case id == "REF" && s.ElementString(1) == "G1" && c != nil:
			if inLine {
				c.lines[len(c.lines)-1].auth = s.ElementString(2)
			} else {
				c.auth = s.ElementString(2)
			}
		case id == "HL" || id == "SE":
			inLine, member = false, ""
		}
	}
}

// checkDemoClaims compares an 837P of the demo invoices with demoClaims.
func checkDemoClaims(t *testing.T, data []byte) {
	t.Helper()
	got := decodeClaims(t, data)
	if len(got) != len(demoClaims) {
		t.Fatalf("%d claims, want %d: %+v", len(got), len(demoClaims), got)
	}
	for i, want := range demoClaims {
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("claim %d:\n got %+v\nwant %+v", i+1, got[i], want)
		}
	}
}

// The golden 837P says what the demo invoices say, checked against
// claims written by hand (the golden file itself is rewritten by -update).
func TestGoldenDemo837MatchesTheInvoices(t *testing.T) {
	data, err := readGolden()
	if err != nil {
		t.Fatal(err)
	}
	checkDemoClaims(t, data)
}
