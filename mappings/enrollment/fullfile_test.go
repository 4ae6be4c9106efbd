package enrollment

import (
	"os"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
)

// In a full file as in a change file, a coverage loop's HD01 says what
// happened to the coverage: a termination (024) needs its end date
// (DTP*349) and a deletion (002) removes the span; neither becomes open
// coverage.
func TestFullFileTerminationAndDeletion(t *testing.T) {
	base, err := os.ReadFile("../../testdata/enrollment/full-audit.834")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		hd      string // replaces the first member's coverage loop
		problem string // element of the first problem, "" = none
		kind    domain.SpanOpKind
		to      string
	}{
		{"audit", "HD*030**LTC*010;01*IND~DTP*348*D8*20260101~", "", domain.SpanUpsert, ""},
		{"termination with its end", "HD*024**LTC*010;01*IND~DTP*348*D8*20260101~DTP*349*D8*20260415~", "", domain.SpanUpsert, "2026-04-15"},
		{"termination without an end", "HD*024**LTC*010;01*IND~DTP*348*D8*20260101~", "HD01", 0, ""},
		{"deletion", "HD*002**LTC*010;01*IND~DTP*348*D8*20260101~", "", domain.SpanDelete, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(string(base), "HD*030**LTC*010;01*IND~DTP*348*D8*20260101~", tt.hd, 1)
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
			if !m.Change.Replace || len(m.Change.Ops) != 1 || m.Change.Ops[0].Kind != tt.kind {
				t.Fatalf("change %+v", m.Change)
			}
			s := m.Change.Ops[0].Span
			if s.From != day("2026-01-01") || (tt.to == "") != (s.To == 0) || tt.to != "" && s.To != day(tt.to) {
				t.Errorf("span %s to %s, want 2026-01-01 to %q", s.From, s.To, tt.to)
			}
		})
	}
}
