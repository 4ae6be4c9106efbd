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

// A member termination in a full file (INS03 024, DTP*357, no coverage
// loop) ends the member's coverage on DTP*357, as in a change file: the
// days of the file's period up to that date stay covered.
func TestFullFileMemberTermination(t *testing.T) {
	base, err := os.ReadFile("../../testdata/enrollment/full-audit.834")
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Replace(string(base), "INS*Y*18*030*XN*A***AC~REF*0F*91000001A~REF*1L*91000001A~REF*3H*19;1H;7001001~",
		"INS*Y*18*024*07*T***AC~REF*0F*91000001A~REF*1L*91000001A~REF*3H*19;1H;7001001~DTP*357*D8*20260430~", 1)
	in = strings.Replace(in, "HD*030**LTC*010;01*IND~DTP*348*D8*20260101~", "", 1)
	ms, _ := mapAll(t, strings.NewReader(in))
	m := ms[0]
	if !m.OK() {
		t.Fatalf("problems %v", m.Problems)
	}
	e := domain.Enrollee{Spans: []domain.EligibilitySpan{{From: day("2026-01-01"), PlanCode: "010"}}}
	e.Apply(&m.Change)
	if len(e.Spans) != 1 || e.Spans[0].From != day("2026-01-01") || e.Spans[0].To != day("2026-04-30") {
		t.Errorf("spans %+v, want 2026-01-01 to 2026-04-30", e.Spans)
	}
}
