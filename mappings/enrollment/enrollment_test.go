package enrollment

import (
	"bytes"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// mapAll maps every member of an 834 and returns copies of them.
func mapAll(t *testing.T, r io.Reader) ([]Member, []Header) {
	t.Helper()
	tab := rules.DefaultTables()
	p := New(Options{MemberID: regexp.MustCompile(rules.DefaultMemberIDPattern), County: tab.CountyCode})
	var out []Member
	var hdrs []Header
	p.OnMember = func(m *Member) error {
		c := *m
		c.Change.Ops = append([]domain.SpanOp(nil), m.Change.Ops...)
		c.Problems = append([]Problem(nil), m.Problems...)
		out = append(out, c)
		return nil
	}
	p.OnHeader = func(h *Header) error { hdrs = append(hdrs, *h); return nil }
	rd := x12.NewReader(r)
	for {
		seg, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Segment(seg); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	return out, hdrs
}

func open(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open("../../testdata/enrollment/" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func upsert(from, to, plan string, aid ...string) domain.SpanOp {
	s := domain.EligibilitySpan{From: day(from), PlanCode: plan, PlanStatus: "01", AidCodes: aid}
	if to != "" {
		s.To = day(to)
	}
	return domain.SpanOp{Kind: domain.SpanUpsert, Span: s}
}

func TestFamilyChangeFile(t *testing.T) {
	ms, hdrs := mapAll(t, open(t, "family-change.834"))
	if len(hdrs) != 1 || hdrs[0].Full || hdrs[0].Action != "2" || hdrs[0].Reference != "DHCS834-DA-20260301-SUNRISE HEALTH-010-001" {
		t.Errorf("header %+v", hdrs)
	}
	if len(ms) != 7 {
		t.Fatalf("%d members, want 7", len(ms))
	}
	for _, m := range ms {
		if !m.OK() {
			t.Errorf("member %d: %v", m.Number, m.Problems)
		}
	}
	e := func(i int) *domain.Enrollee { return &ms[i].Change.Enrollee }
	// The subscriber: DHCS composites.
	if g := e(0); g.CIN != "91000001A" || g.County != "19" || g.AidCode != "1H" || g.CaseNumber != "7001001" || g.DOB != day("1985-03-12") ||
		g.Gender != "F" || g.LastName != "GARCIA" || g.Address != (domain.Address{Street: "450 SPRING ST", City: "LOS ANGELES", State: "CA", Zip: "90012"}) {
		t.Errorf("subscriber: %+v", g)
	}
	if got, want := ms[0].Change.Ops, []domain.SpanOp{withCounty(upsert("2026-01-01", "", "010", "1H", "80"), "19")}; !reflect.DeepEqual(got, want) {
		t.Errorf("subscriber spans:\n got %+v\nwant %+v", got, want)
	}
	// Dependents: own CIN from REF*1L, or NM109 without it; REF*0F is the subscriber.
	if e(1).CIN != "91000002B" || e(1).SubscriberID != "91000001A" {
		t.Errorf("child: %s / %s", e(1).CIN, e(1).SubscriberID)
	}
	if e(2).CIN != "91000003C" || e(2).SubscriberID != "91000001A" {
		t.Errorf("spouse: %s / %s", e(2).CIN, e(2).SubscriberID)
	}
	// A coverage termination and a member-level termination.
	if got, want := ms[3].Change.Ops, []domain.SpanOp{{Kind: domain.SpanEnd, Span: domain.EligibilitySpan{PlanCode: "010"}, End: day("2026-02-28")}}; !reflect.DeepEqual(got, want) {
		t.Errorf("coverage term: %+v", got)
	}
	if got, want := ms[4].Change.Ops, []domain.SpanOp{{Kind: domain.SpanEnd, End: day("2026-03-31")}}; !reflect.DeepEqual(got, want) {
		t.Errorf("member term: %+v", got)
	}
	// Share of cost and the D-SNP contract.
	if g := e(5); g.DSNP != (domain.DSNP{Contract: "H5678", PBP: "002", From: day("2025-01-01")}) || g.AidCode != "13" {
		t.Errorf("D-SNP member: %+v", g)
	}
	if ops := ms[5].Change.Ops; len(ops) != 1 || ops[0].Span.ShareOfCost != 12550 || !reflect.DeepEqual(ops[0].Span.AidCodes, []string{"13"}) {
		t.Errorf("share of cost span: %+v", ops)
	}
	// Two coverage loops, the second with another plan and county.
	if ops := ms[6].Change.Ops; len(ops) != 2 || ops[1].Span.PlanCode != "999" || ops[1].Span.County != "10" || ops[1].Span.To != day("2026-04-30") {
		t.Errorf("two plans: %+v", ops)
	}
}

func withCounty(op domain.SpanOp, county string) domain.SpanOp {
	op.Span.County = county
	return op
}

func TestFullFileOnOneLine(t *testing.T) {
	ms, hdrs := mapAll(t, open(t, "full-audit.834"))
	if len(hdrs) != 1 || !hdrs[0].Full || hdrs[0].From != day("2026-04-01") || hdrs[0].To != 0 {
		t.Fatalf("header %+v", hdrs)
	}
	if len(ms) != 2 {
		t.Fatalf("%d members", len(ms))
	}
	for _, m := range ms {
		if !m.OK() || !m.Change.Replace || m.Change.ReplaceFrom != day("2026-04-01") {
			t.Errorf("member %d: %+v", m.Number, m)
		}
	}
	if ops := ms[1].Change.Ops; len(ops) != 1 || ops[0].Kind != domain.SpanUpsert || ops[0].Span.To != day("2026-06-30") {
		t.Errorf("audit span: %+v", ops)
	}
}

func TestBadMembers(t *testing.T) {
	ms, _ := mapAll(t, open(t, "bad-members.834"))
	if len(ms) != 7 {
		t.Fatalf("%d members", len(ms))
	}
	want := []string{"", "DMG02", "REF*1L", "N406", "INS03", "", ""}
	for i, m := range ms {
		got := ""
		if len(m.Problems) > 0 {
			got = m.Problems[0].Element
			if m.Problems[0].Pos.Ordinal == 0 || m.Problems[0].Pos.Line == 0 {
				t.Errorf("member %d: problem without a position: %+v", m.Number, m.Problems[0])
			}
		}
		if got != want[i] {
			t.Errorf("member %d: problems %v, want %q", m.Number, m.Problems, want[i])
		}
		for _, p := range m.Problems {
			if strings.Contains(p.Message, m.Change.Enrollee.CIN) && m.Change.Enrollee.CIN != "" || strings.Contains(p.Message, "2026023") {
				t.Errorf("message repeats data: %s", p.Message)
			}
		}
	}
	// The invalid date is at the DMG segment, line 19 of the file.
	if p := ms[1].Problems[0]; p.Pos.Line != 25 {
		t.Errorf("DMG02 problem at %s", p.Pos)
	}
}

// The same members whatever the delimiters, line ends or layout.
func TestDelimitersAndLayouts(t *testing.T) {
	a, _ := mapAll(t, open(t, "other-delimiters.834"))
	b, _ := mapAll(t, open(t, "family-change.834"))
	if len(a) != 2 || !reflect.DeepEqual(a[0].Change, b[0].Change) || !reflect.DeepEqual(a[1].Change, b[1].Change) {
		t.Errorf("other delimiters:\n%+v\n%+v", a, b[:2])
	}
	var base []Member
	for i, o := range []gen834.Options{
		{Members: 300, Seed: 7},
		{Members: 300, Seed: 7, CRLF: true},
		{Members: 300, Seed: 7, Newlines: true},
		{Members: 300, Seed: 7, MembersPerSet: 100},
		{Members: 300, Seed: 7, Delimiters: x12.Delimiters{Element: '|', Repetition: '#', Component: '>', Segment: '\n'}},
	} {
		var buf bytes.Buffer
		if _, err := o.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		ms, _ := mapAll(t, &buf)
		if len(ms) != 300 {
			t.Fatalf("%+v: %d members", o, len(ms))
		}
		for j := range ms {
			ms[j].Start, ms[j].Number = Pos{}, 0
			if !ms[j].OK() {
				t.Fatalf("%+v member %d: %v", o, j, ms[j].Problems)
			}
		}
		if i == 0 {
			base = ms
		} else if !reflect.DeepEqual(ms, base) {
			t.Errorf("%+v maps differently", o)
		}
	}
}

func TestParseMoney(t *testing.T) {
	for in, want := range map[string]int64{"125": 12500, "125.5": 12550, "0.05": 5, "-3.25": -325, ".5": 50, "10.500": 1050} {
		if got, ok := parseMoney([]byte(in)); !ok || got != want {
			t.Errorf("%s: %d %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "abc", "1.2.3", "1.255", "-"} {
		if _, ok := parseMoney([]byte(in)); ok {
			t.Errorf("%q accepted", in)
		}
	}
}

// REF*3H in both layouts DHCS sends: semicolons, and packed as in DHCS's
// sample 834s (county 34, aid code 3N, case number 7777777122).
func TestREF3HLayouts(t *testing.T) {
	clean, err := os.ReadFile("../../testdata/x12/834-clean.x12")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ref                     string
		wantCounty, wantAid, wantCase string
		wantProblem                   bool
	}{
		{"semicolons", "REF*3H*34;10;1234567~", "34", "10", "1234567", false},
		{"semicolons, one-digit county", "REF*3H*9;10;1234567~", "09", "10", "1234567", false},
		{"packed", "REF*3H*343N7777777122;B~", "34", "3N", "7777777122", false},
		{"packed without a semicolon", "REF*3H*191H7001001~", "19", "1H", "7001001", false},
		{"packed, unknown county", "REF*3H*993N7777777122;B~", "", "3N", "7777777122", true},
		{"semicolons, unknown county", "REF*3H*99;10;1234567~", "", "10", "1234567", true},
		{"county only", "REF*3H*34~", "34", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(string(clean), "REF*3H*34;10;1234567~", tt.ref, 1)
			ms, _ := mapAll(t, strings.NewReader(in))
			if len(ms) != 2 {
				t.Fatalf("%d members", len(ms))
			}
			e := ms[0].Change.Enrollee
			county := e.County
			if tt.wantProblem {
				county = "" // N406 does not stand in for a bad REF*3H county
			}
			if county != tt.wantCounty || e.AidCode != tt.wantAid || e.CaseNumber != tt.wantCase {
				t.Errorf("county %q aid code %q case %q, want %q %q %q", e.County, e.AidCode, e.CaseNumber, tt.wantCounty, tt.wantAid, tt.wantCase)
			}
			var problems []string
			for _, p := range ms[0].Problems {
				problems = append(problems, p.Element+": "+p.Message)
			}
			if got := len(problems) > 0; got != tt.wantProblem {
				t.Errorf("problems %q, want some: %t", problems, tt.wantProblem)
			}
		})
	}
	// The sample file in that shape: every member maps without a problem.
	f, err := os.Open("../../testdata/x12/834-ref3h-packed.x12")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, _ := mapAll(t, f)
	if len(ms) != 2 || len(ms[1].Problems) != 0 || ms[1].Change.Enrollee.County != "34" || ms[1].Change.Enrollee.AidCode != "3N" {
		t.Errorf("members %+v", ms)
	}
}
