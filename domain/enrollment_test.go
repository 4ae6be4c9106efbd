package domain

import (
	"reflect"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

func date(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func sp(from, to, plan string) EligibilitySpan {
	s := EligibilitySpan{From: date(from), PlanCode: plan}
	if to != "" {
		s.To = date(to)
	}
	return s
}

func spansOf(e *Enrollee) [][3]string {
	var out [][3]string
	for _, s := range e.Spans {
		out = append(out, [3]string{s.From.String(), s.To.String(), s.PlanCode})
	}
	return out
}

func TestApplyOps(t *testing.T) {
	e := &Enrollee{Member: Member{CIN: "91234567A", LastName: "RIVERA", FirstName: "ANA"}, County: "19"}
	e.Apply(&EnrollmentChange{Ops: []SpanOp{
		{Kind: SpanUpsert, Span: sp("2026-01-01", "", "010")},
		{Kind: SpanUpsert, Span: sp("2025-01-01", "2025-06-30", "010")},
		{Kind: SpanUpsert, Span: sp("2026-01-01", "", "999")},
	}})
	if got, want := spansOf(e), [][3]string{{"2025-01-01", "2025-06-30", "010"}, {"2026-01-01", "", "010"}, {"2026-01-01", "", "999"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("upserts: %v", got)
	}
	// A change: new last name, the county kept (empty in the change).
	e.Apply(&EnrollmentChange{Enrollee: Enrollee{Member: Member{LastName: "RIVERA-LOPEZ"}}, Ops: []SpanOp{
		{Kind: SpanUpsert, Span: sp("2026-01-01", "2026-12-31", "010")}, // same start and plan: replaced
		{Kind: SpanEnd, Span: EligibilitySpan{PlanCode: "999"}, End: date("2026-03-31")},
		{Kind: SpanDelete, Span: sp("2025-01-01", "", "010")},
	}})
	if e.LastName != "RIVERA-LOPEZ" || e.FirstName != "ANA" || e.County != "19" {
		t.Errorf("demographics: %+v", e)
	}
	if got, want := spansOf(e), [][3]string{{"2026-01-01", "2026-12-31", "010"}, {"2026-01-01", "2026-03-31", "999"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("change: %v", got)
	}
	// A termination before a span starts removes it (a cancellation).
	e.Apply(&EnrollmentChange{Ops: []SpanOp{{Kind: SpanEnd, End: date("2025-12-31")}}})
	if len(e.Spans) != 0 {
		t.Errorf("cancelled: %v", spansOf(e))
	}
}

func TestCutSpans(t *testing.T) {
	spans := []EligibilitySpan{sp("2025-01-01", "2025-12-31", "010"), sp("2026-01-01", "", "010"), sp("2026-05-01", "2026-05-31", "010")}
	tests := []struct {
		from, to string
		want     [][2]string
	}{
		{"2026-04-01", "", [][2]string{{"2025-01-01", "2025-12-31"}, {"2026-01-01", "2026-03-31"}}},
		{"2026-04-01", "2026-04-30", [][2]string{{"2025-01-01", "2025-12-31"}, {"2026-01-01", "2026-03-31"}, {"2026-05-01", ""}, {"2026-05-01", "2026-05-31"}}},
		{"2024-01-01", "", nil},
		{"2027-01-01", "", [][2]string{{"2025-01-01", "2025-12-31"}, {"2026-01-01", "2026-12-31"}, {"2026-05-01", "2026-05-31"}}},
	}
	for _, tt := range tests {
		var to civil.Date
		if tt.to != "" {
			to = date(tt.to)
		}
		var got [][2]string
		for _, s := range CutSpans(spans, date(tt.from), to, nil) {
			got = append(got, [2]string{s.From.String(), s.To.String()})
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("cut %s..%s: %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

// A full file's change cuts its period out of the spans of the plan codes
// its ops name only; a change naming none cuts every span.
func TestApplyFullCutsItsPlanCodes(t *testing.T) {
	member := func() *Enrollee {
		return &Enrollee{Spans: []EligibilitySpan{sp("2026-01-01", "", "405"), sp("2026-01-01", "", "506")}}
	}
	e := member()
	e.Apply(&EnrollmentChange{Replace: true, ReplaceFrom: date("2026-04-01"),
		Ops: []SpanOp{{Kind: SpanUpsert, Span: sp("2026-04-01", "", "405")}}})
	want := []EligibilitySpan{sp("2026-01-01", "2026-03-31", "405"), sp("2026-01-01", "", "506"), sp("2026-04-01", "", "405")}
	if !reflect.DeepEqual(e.Spans, want) {
		t.Errorf("full file of 405: %v, want %v", spansOf(e), want)
	}
	e = member()
	e.Apply(&EnrollmentChange{Replace: true, ReplaceFrom: date("2026-04-01")})
	want = []EligibilitySpan{sp("2026-01-01", "2026-03-31", "405"), sp("2026-01-01", "2026-03-31", "506")}
	if !reflect.DeepEqual(e.Spans, want) {
		t.Errorf("full file, no coverage loop: %v, want %v", spansOf(e), want)
	}
}

// A D-SNP stays until a change names another; a full file that lists the
// member without one ends it the day before its period (or drops one that
// would start inside the period; one that starts after the period stays);
// a change file's REF*DX without a contract ends it the day before the
// file's date (or drops one that would start from then).
func TestApplyDSNP(t *testing.T) {
	h := DSNP{Contract: "H1234", PBP: "001", From: date("2025-01-01")}
	full := func(from string, d DSNP) *EnrollmentChange {
		return &EnrollmentChange{Enrollee: Enrollee{DSNP: d}, Replace: true, ReplaceFrom: date(from)}
	}
	noDSNP := func(to string) *EnrollmentChange {
		return &EnrollmentChange{Enrollee: Enrollee{DSNP: DSNP{To: date(to)}}}
	}
	fullTo := func(from, to string) *EnrollmentChange {
		c := full(from, DSNP{})
		c.ReplaceTo = date(to)
		return c
	}
	for _, tt := range []struct {
		name   string
		stored DSNP
		c      *EnrollmentChange
		want   DSNP
	}{
		{"change file without REF*DX", h, &EnrollmentChange{}, h},
		{"full file without REF*DX", h, full("2026-04-01", DSNP{}), DSNP{Contract: "H1234", PBP: "001", From: date("2025-01-01"), To: date("2026-03-31")}},
		{"full file without REF*DX, D-SNP from the period's start", DSNP{Contract: "H1234", From: date("2026-04-01")}, full("2026-04-01", DSNP{}), DSNP{}},
		{"full file without REF*DX, D-SNP from the day before", DSNP{Contract: "H1234", From: date("2026-03-31")}, full("2026-04-01", DSNP{}), DSNP{Contract: "H1234", From: date("2026-03-31"), To: date("2026-03-31")}},
		{"full file without REF*DX, ended before", DSNP{Contract: "H1234", To: date("2025-12-31")}, full("2026-04-01", DSNP{}), DSNP{Contract: "H1234", To: date("2025-12-31")}},
		{"full file of April without REF*DX, D-SNP from June", DSNP{Contract: "H1234", From: date("2026-06-01")}, fullTo("2026-04-01", "2026-04-30"), DSNP{Contract: "H1234", From: date("2026-06-01")}},
		{"full file of April without REF*DX, D-SNP from its last day", DSNP{Contract: "H1234", From: date("2026-04-30")}, fullTo("2026-04-01", "2026-04-30"), DSNP{}},
		{"full file of April without REF*DX, D-SNP from the day after", DSNP{Contract: "H1234", From: date("2026-05-01")}, fullTo("2026-04-01", "2026-04-30"), DSNP{Contract: "H1234", From: date("2026-05-01")}},
		{"full file naming another", h, full("2026-04-01", DSNP{Contract: "H5678", PBP: "002"}), DSNP{Contract: "H5678", PBP: "002"}},
		{"change file naming one after it ended", DSNP{Contract: "H1234", To: date("2025-12-31")}, &EnrollmentChange{Enrollee: Enrollee{DSNP: h}}, h},
		{"change file with REF*DX without a contract", h, noDSNP("2026-03-31"), DSNP{Contract: "H1234", PBP: "001", From: date("2025-01-01"), To: date("2026-03-31")}},
		{"change file with REF*DX without a contract, D-SNP from its date", DSNP{Contract: "H1234", From: date("2026-04-01")}, noDSNP("2026-03-31"), DSNP{}},
		{"change file with REF*DX without a contract, D-SNP from the day before", DSNP{Contract: "H1234", From: date("2026-03-31")}, noDSNP("2026-03-31"), DSNP{Contract: "H1234", From: date("2026-03-31"), To: date("2026-03-31")}},
		{"change file with REF*DX without a contract, ended before", DSNP{Contract: "H1234", To: date("2025-12-31")}, noDSNP("2026-03-31"), DSNP{Contract: "H1234", To: date("2025-12-31")}},
		{"change file with REF*DX without a contract, ended after", DSNP{Contract: "H1234", To: date("2026-06-30")}, noDSNP("2026-03-31"), DSNP{Contract: "H1234", To: date("2026-03-31")}},
		{"change file with REF*DX without a contract, no D-SNP", DSNP{}, noDSNP("2026-03-31"), DSNP{}},
	} {
		e := Enrollee{DSNP: tt.stored}
		e.Apply(tt.c)
		if e.DSNP != tt.want {
			t.Errorf("%s: D-SNP %+v, want %+v", tt.name, e.DSNP, tt.want)
		}
	}
}
