package enrollment

import (
	"os"
	"strings"
	"testing"
)

// DTP*348 with RD8 gives the coverage's start and end at once; RD8 is
// not accepted on DTP*349, and a malformed period is reported.
func TestCoveragePeriodRD8(t *testing.T) {
	base, err := os.ReadFile("../../testdata/enrollment/family-change.834")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		dtp      string
		from, to string
		problem  string // element of the first problem
	}{
		{"D8 start", "DTP*348*D8*20260101", "2026-01-01", "", ""},
		{"RD8 period", "DTP*348*RD8*20260101-20260331", "2026-01-01", "2026-03-31", ""},
		{"RD8 of one day", "DTP*348*RD8*20260101-20260101", "2026-01-01", "2026-01-01", ""},
		{"RD8 without its end", "DTP*348*RD8*20260101", "", "", "DTP03"},
		{"RD8 with a bad end", "DTP*348*RD8*20260101-20261331", "", "", "DTP03"},
		{"RD8 ending before it starts", "DTP*348*RD8*20260331-20260101", "", "", "DTP03"},
		{"RD8 on DTP*349", "DTP*349*RD8*20260101-20260331", "", "", "DTP02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(string(base), "DTP*348*D8*20260101~", tt.dtp+"~", 1)
			ms, _ := mapAll(t, strings.NewReader(in))
			m := ms[0]
			got := ""
			if len(m.Problems) > 0 {
				got = m.Problems[0].Element
			}
			if got != tt.problem {
				t.Fatalf("problems %v, want one on %q", m.Problems, tt.problem)
			}
			if tt.problem != "" {
				return
			}
			if len(m.Change.Ops) != 1 {
				t.Fatalf("ops %+v", m.Change.Ops)
			}
			s := m.Change.Ops[0].Span
			if s.From != day(tt.from) || (tt.to == "") != (s.To == 0) || tt.to != "" && s.To != day(tt.to) {
				t.Errorf("span %s to %s, want %s to %q", s.From, s.To, tt.from, tt.to)
			}
		})
	}
}
