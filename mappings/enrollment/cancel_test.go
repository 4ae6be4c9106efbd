package enrollment

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
)

// DHCS's daily 834s say a month has no enrollment with a coverage loop
// whose DTP*349 is the day before its DTP*348 (HD*001**LTC*010;59,
// DTP*348*D8*20250201, DTP*349*D8*20250131, beside HD*021 for January: the
// hccinfhir sample_834_06 in DHCS's format). That loop has no day of
// coverage: in a change file it removes the span of that start and plan,
// and the member loads.
func TestCoverageEndingBeforeItStarts(t *testing.T) {
	b, err := os.ReadFile("../../testdata/enrollment/family-change.834")
	if err != nil {
		t.Fatal(err)
	}
	base := strings.ReplaceAll(string(b), "\r\n", "") // one line: the loops below are written so
	span := func(from, to string) domain.EligibilitySpan {
		s := domain.EligibilitySpan{From: day(from), PlanCode: "010", PlanStatus: "59", County: "19"}
		if to != "" {
			s.To = day(to)
		}
		return s
	}
	tests := []struct {
		name string
		hd   string // replaces the first member's coverage loop
		want []domain.SpanOp
	}{
		{"a month without enrollment", "HD*001**LTC*010;59*IND~DTP*348*D8*20250201~DTP*349*D8*20250131~",
			[]domain.SpanOp{{Kind: domain.SpanDelete, Span: span("2025-02-01", "2025-01-31")}}},
		{"an addition ending before it starts", "HD*021**LTC*010;59*IND~DTP*348*D8*20250201~DTP*349*D8*20250131~",
			[]domain.SpanOp{{Kind: domain.SpanDelete, Span: span("2025-02-01", "2025-01-31")}}},
		{"one day of coverage", "HD*001**LTC*010;59*IND~DTP*348*D8*20250201~DTP*349*D8*20250201~",
			[]domain.SpanOp{{Kind: domain.SpanUpsert, Span: span("2025-02-01", "2025-02-01")}}},
		{"the month gone, January kept", "HD*001**LTC*010;59*IND~DTP*348*D8*20250201~DTP*349*D8*20250131~HD*021**LTC*010;59*IND~DTP*348*D8*20250101~DTP*349*D8*20250131~",
			[]domain.SpanOp{{Kind: domain.SpanDelete, Span: span("2025-02-01", "2025-01-31")}, {Kind: domain.SpanUpsert, Span: span("2025-01-01", "2025-01-31")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(base, "HD*021**LTC*010;01*IND~DTP*348*D8*20260101~REF*RB*1H~REF*CE*1H;401;80;401~", tt.hd, 1)
			if in == base {
				t.Fatal("the first member's coverage loop is not in the file")
			}
			ms, _ := mapAll(t, strings.NewReader(in))
			m := ms[0]
			if !m.OK() {
				t.Fatalf("member rejected: %v", m.Problems)
			}
			if !reflect.DeepEqual(m.Change.Ops, tt.want) {
				t.Errorf("ops\n got %+v\nwant %+v", m.Change.Ops, tt.want)
			}
		})
	}

	// Applied to monthly spans, the month without enrollment goes and the
	// others stay.
	ms, _ := mapAll(t, strings.NewReader(strings.Replace(base, "HD*021**LTC*010;01*IND~DTP*348*D8*20260101~",
		"HD*001**LTC*010;59*IND~DTP*348*D8*20250201~DTP*349*D8*20250131~", 1)))
	e := domain.Enrollee{Spans: []domain.EligibilitySpan{span("2025-01-01", "2025-01-31"), span("2025-02-01", "2025-02-28"), span("2025-03-01", "2025-03-31")}}
	e.Apply(&ms[0].Change)
	var got [][2]string
	for _, s := range e.Spans {
		got = append(got, [2]string{s.From.String(), s.To.String()})
	}
	if want := [][2]string{{"2025-01-01", "2025-01-31"}, {"2025-03-01", "2025-03-31"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("spans %v, want %v", got, want)
	}
}
