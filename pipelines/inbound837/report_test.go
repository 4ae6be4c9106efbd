package inbound837

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/rules/snip"
)

// TestProviderReport: the report of a file with one good and one bad claim
// says which was accepted, which rejected, why in plain words, with the
// segment shown and what to change, in CSV and HTML.
func TestProviderReport(t *testing.T) {
	in := strings.Replace(twoClaims(t), "SV1*HC:T1016:U8*75.50*UN*3***1", "SV1*HC:T1X16:U8*75.50*UN*3***1", 1)
	var c, h bytes.Buffer
	rep, err := NewReport("claims<1>.x12", &c, &h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Edit(context.Background(), strings.NewReader(in), Options{OnClaim: rep.Claim, OnSet: rep.Set}); err != nil {
		t.Fatal(err)
	}
	if err := rep.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&c).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(ReportHeader, ",") || len(rows) != 3 {
		t.Fatalf("rows %q", rows)
	}
	if r := rows[1]; r[2] != "ENC1001" || r[3] != "accepted" || r[4] != "" {
		t.Errorf("accepted claim row %q", r)
	}
	e, _ := snip.Lookup(snip.CodeHCPCS)
	r := rows[2]
	if r[2] != "ENC1002" || r[3] != "rejected" || r[4] != snip.CodeHCPCS || r[5] != "5" ||
		r[7] != "SV101: SV1*HC:T1X16:U8*75.50*UN*3***1" || !strings.HasPrefix(r[8], e.Plain) || r[9] != e.Fix || r[6] == "0" {
		t.Errorf("rejected claim row %q", r)
	}
	page := h.String()
	for _, w := range []string{"claims&lt;1&gt;.x12", "<td>ENC1002</td><td>rejected</td><td>SNIP5-HCPCS</td>", "1 claim(s) accepted, 1 rejected", "</html>"} {
		if !strings.Contains(page, w) {
			t.Errorf("HTML lacks %q:\n%s", w, page)
		}
	}
}
