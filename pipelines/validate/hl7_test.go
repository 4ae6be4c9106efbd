package validate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateHL7 checks that every problem of an HL7 file is reported with
// its line, message, segment and field, and the status.
func TestValidateHL7(t *testing.T) {
	good := "MSH|^~\\&|EPIC|STMARYS|GW|PLAN|20260301083000||ADT^A01|M1|P|2.5.1\rEVN|A01|20260301082500\rPID|1||91234567A^^^CAMEDI^MA\rPV1|1|I\r"
	tests := []struct {
		name   string
		in     string
		status Status
		lines  []string
	}{
		{"sound message", good, OK, []string{"HL7 v2, 1 message(s) (ADT^A01 1), 0 with problems, 0 problem(s)"}},
		{"byte order mark first", "\xef\xbb\xbf" + good, OK, []string{"HL7 v2, 1 message(s) (ADT^A01 1), 0 with problems, 0 problem(s)"}},
		{"byte order mark and blank lines first", "\xef\xbb\xbf\r\n\r\n" + good, OK, []string{"HL7 v2, 1 message(s) (ADT^A01 1), 0 with problems, 0 problem(s)"}},
		{"sound batch, LF ends", strings.ReplaceAll("BHS|^~\\&\r"+good+strings.ReplaceAll(good, "M1", "M2")+"BTS|2\r", "\r", "\n"), OK,
			[]string{"2 message(s) (ADT^A01 2), 0 with problems"}},
		{"every problem", "BHS|^~\\&\r" + good +
			"MSH|^~\\&|EPIC|STMARYS|GW|PLAN|2026030||ADT^A03|M2|P|2.9\rEVN|A03|20260301\rPID|1||MRN^^^H^MR\rPV1|1|\\Q\\\r" +
			"MSH|^~\\&|EPIC|STMARYS|GW|PLAN|20260301||ADT^A99|M3|P|2.5\rPID|1\r" +
			"MSH|^~\\&|EPIC|STMARYS|GW|PLAN|20260301||ORU^R01|M4|P|2.5\r" +
			"BTS|3\r", Invalid, []string{
			`line 6: message 2 (MSH-10 "M2"), segment MSH #1, field MSH-7: time "2026030" is not`,
			`line 6: message 2 (MSH-10 "M2"), segment MSH #1, field MSH-12: version "2.9" is not one of`,
			`line 9: message 2 (MSH-10 "M2"), segment PV1 #4, field PV1-2: unknown escape sequence \Q\`,
			`line 8: message 2 (MSH-10 "M2"), segment PID #3, field PID-3: no identifier of type "MA" and assigning authority "" (sender profile default): the member cannot be matched`,
			`line 10: message 3 (MSH-10 "M3"), segment MSH #1, field MSH-9: trigger event "A99" is not one calgw reads`,
			`line 13, segment BTS, field BTS-1: batch message count says 3, counted 4`,
			"4 message(s) (ADT^A01 1, ADT^A03 1, ADT^A99 1, ORU^R01 1), 2 with problems, 6 problem(s)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "adt.hl7")
			if err := os.WriteFile(p, []byte(tt.in), 0o644); err != nil {
				t.Fatal(err)
			}
			var lines []string
			reps := Files(context.Background(), []string{p}, Options{Line: func(s string) { lines = append(lines, s) }})
			if reps[0].Status != tt.status || reps[0].Err != nil {
				t.Errorf("status %d (%v), want %d", reps[0].Status, reps[0].Err, tt.status)
			}
			if len(lines) != len(tt.lines) {
				t.Errorf("%d lines, want %d:\n%s", len(lines), len(tt.lines), strings.Join(lines, "\n"))
			}
			for i, want := range tt.lines {
				if i < len(lines) && !strings.Contains(lines[i], want) {
					t.Errorf("line %d\n%s\nwant it to contain\n%s", i, lines[i], want)
				}
			}
			for _, l := range lines {
				if strings.Contains(l, "91234567A") {
					t.Errorf("report echoes a CIN: %s", l)
				}
			}
		})
	}
}
