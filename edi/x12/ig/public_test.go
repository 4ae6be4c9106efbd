package ig_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
)

// What files in the shape of public sample files get: each finding in
// input order as level/code, segment, loop, set position and element (see
// key), its severity, and the input position (segment ordinal, line, byte
// offset); and the status of each transaction set and group.
func TestPublicFileShapes(t *testing.T) {
	tests := []struct {
		file      string
		want      []string // findings in input order: key, "W" for a warning, "segment ordinal line offset"
		wantSet   ig.Status
		wantGroup ig.Status
	}{
		// Pretty-printed (CRLF and indentation) with a UTF-8 byte order mark:
		// read as the plain file, each skip reported once as a warning that
		// leaves the interchange, group and set accepted.
		{"837p-indented-bom.x12", []string{"TA1/000 ISA W 1 1 3", "TA1/000 BHT W 4 4 198"}, ig.Accepted, ig.Accepted},
		// GS08 without the A1 addenda: validated with the X231A1 tables.
		{"999-x231.x12", []string{"AK9/2 GS e8 W 2 2 107"}, ig.Accepted, ig.Accepted},
		{"837p-st03-mismatch.x12", []string{"IK5/19 ST @1 e3 E 3 3 164"}, ig.Rejected, ig.Rejected},
		{"837p-lx-sequence.x12", []string{"IK4/I12 LX 2400 @28 e1 E 30 30 920"}, ig.Rejected, ig.Rejected},
		{"837p-trailing-separator.x12", []string{"IK4/3 HI 2300 @40 e3 E 42 42 1219"}, ig.Rejected, ig.Rejected},
		// Cut after a segment: the trailers are missing at the end of the
		// last segment (REF at line 46, which ends at byte 1308).
		{"837p-cut-short.x12", []string{"IK5/2 SE @44 E 46 46 1308", "AK9/3 GE E 46 46 1308", "TA1/023 IEA E 46 46 1308"}, ig.Rejected, ig.Rejected},
		// The first claim's CLM deleted: its DTP is unexpected (it might be a
		// segment just ahead of its CLM), the REF after it shows the CLM
		// missing, and the rest of the claim is placed in 2300 as usual.
		{"837p-no-clm.x12", []string{"IK3/2 DTP 2010BB @20 E 22 22 746", "IK3/3 CLM 2300 @21 E 23 23 767"}, ig.Rejected, ig.Rejected},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in := readTestdata(t, tt.file)
			res := validate(t, in, ig.Options{})
			if res.err != nil {
				t.Fatal(res.err)
			}
			var got []string
			for _, f := range res.findings {
				sev := "E"
				if f.Severity == ig.Warning {
					sev = "W"
				}
				got = append(got, fmt.Sprintf("%s %s %d %d %d", key(f), sev, f.Ordinal, f.Line, f.Offset))
				if strings.Contains(f.Msg, "ENC100") || strings.Contains(f.Msg, "RIVERA") {
					t.Errorf("%s: message %q holds data", key(f), f.Msg)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings\n got %q\nwant %q", got, tt.want)
			}
			if len(res.transactions) != 1 || res.transactions[0].Status != tt.wantSet || res.transactions[0].Spec == nil {
				t.Errorf("transaction sets %+v, want one %v", res.transactions, tt.wantSet)
			}
			if len(res.groups) != 1 || res.groups[0].Status != tt.wantGroup {
				t.Errorf("groups %+v, want one %v", res.groups, tt.wantGroup)
			}
			wantErrors := 0
			for _, w := range tt.want {
				if strings.Contains(w, " E ") {
					wantErrors++
				}
			}
			if res.sum.Errors != wantErrors || res.sum.Findings != len(tt.want) {
				t.Errorf("summary %d findings, %d errors; want %d, %d", res.sum.Findings, res.sum.Errors, len(tt.want), wantErrors)
			}
		})
	}
}

// The layout warnings stay out of the interchange's result: the TA1 of a
// pretty-printed file is that of the plain one.
func TestLayoutWarningsLeaveTheInterchangeAccepted(t *testing.T) {
	res := validate(t, readTestdata(t, "837p-indented-bom.x12"), ig.Options{})
	if len(res.interchanges) != 1 || res.interchanges[0].Status != ig.Accepted || res.interchanges[0].Note != ig.NoteNone || len(res.interchanges[0].Findings) != 0 {
		t.Errorf("interchanges %+v", res.interchanges)
	}
	if res.sum.Segments != 49 || res.sum.Accepted != 1 || !res.sum.OK() {
		t.Errorf("summary %+v", res.sum)
	}
}
