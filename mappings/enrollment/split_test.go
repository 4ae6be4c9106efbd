package enrollment

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// TestForkJoin maps an 834 in two parts, cut at a member loop's INS, the
// second by a fork reading from the cut with positions counted from there,
// and joins them: the members (numbers, positions, problems, changes) must
// be those of one pass, in the same order.
func TestForkJoin(t *testing.T) {
	var b bytes.Buffer
	if _, err := (gen834.Options{Members: 60, Seed: 2, Newlines: true}).WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	// Some members with problems, for positions to be checked.
	text := strings.Replace(b.String(), "DMG*D8*19", "DMG*D8*XX", 9)
	// The last coverage loop without its start date: a problem at the HD
	// of the loop open when the fork stops.
	i := strings.LastIndex(text, "DTP*348*")
	data := []byte(text[:i] + "DTP*303*" + text[i+8:])
	tab := rules.DefaultTables()
	opts := Options{MemberID: regexp.MustCompile(rules.DefaultMemberIDPattern), County: tab.CountyCode}
	record := func(out *[]Member) func(*Member) error {
		return func(m *Member) error {
			c := *m
			c.Change.Ops = append([]domain.SpanOp(nil), m.Change.Ops...)
			c.Problems = append([]Problem(nil), m.Problems...)
			*out = append(*out, c)
			return nil
		}
	}
	feed := func(p *Mapper, rd *x12.Reader, stop int64) {
		for {
			seg, err := rd.Next()
			if err == io.EOF || (err == nil && seg.Offset >= stop) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Segment(seg); err != nil {
				t.Fatal(err)
			}
		}
	}
	var want []Member
	p := New(opts)
	p.OnMember = record(&want)
	feed(p, x12.NewReader(bytes.NewReader(data)), 1<<62)
	p.Flush()
	if len(want) != 60 {
		t.Fatalf("%d members", len(want))
	}
	if bad := withProblems(want); bad < 9 {
		t.Fatalf("%d members with problems", bad)
	}

	// Cut at every INS after the first.
	var cuts []x12.Position // before each INS
	var se x12.Position     // before SE: the fork stops there, with a member loop open
	rd := x12.NewReader(bytes.NewReader(data))
	for {
		seg, err := rd.Next()
		if err != nil {
			break
		}
		if seg.Is("INS") {
			cuts = append(cuts, x12.Position{Offset: seg.Offset, Ordinal: seg.Ordinal - 1, Line: seg.Line})
		}
		if seg.Is("SE") {
			se = x12.Position{Offset: seg.Offset, Ordinal: seg.Ordinal - 1, Line: seg.Line}
		}
	}
	for _, cut := range cuts[1:] {
		var got, forked []Member
		p := New(opts)
		p.OnMember = record(&got)
		rd := x12.NewReader(bytes.NewReader(data))
		var q *Mapper
		for q == nil { // to the first INS, then fork
			seg, err := rd.Next()
			if err != nil {
				t.Fatal(err)
			}
			p.Segment(seg)
			if seg.Is("INS") {
				q = p.Fork()
			}
		}
		q.OnMember = record(&forked)
		feed(p, rd, cut.Offset)
		feed(q, x12.NewReader(bytes.NewReader(data[cut.Offset:]), x12.WithStart(x12.Position{Offset: cut.Offset, Line: 1}, x12.DefaultDelimiters)), se.Offset)
		n := p.Members()
		if err := p.Join(q, cut.Ordinal, cut.Line-1); err != nil {
			t.Fatal(err)
		}
		for _, m := range forked { // what the fork handed over, as the caller of Join puts it
			m.Shift(n, cut.Ordinal, cut.Line-1)
			got = append(got, m)
		}
		feed(p, x12.NewReader(bytes.NewReader(data[se.Offset:]), x12.WithStart(se, x12.DefaultDelimiters)), 1<<62)
		p.Flush()
		if len(got) != len(want) {
			t.Fatalf("cut at %+v: %d members, want %d", cut, len(got), len(want))
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("cut at %+v: member %d\n got %s\nwant %s", cut, i, fmt.Sprintf("%+v", got[i]), fmt.Sprintf("%+v", want[i]))
			}
		}
	}
}

// TestProblemsOnly: leaving out the data only loading needs finds the same
// problems, on the same members, as a full mapping.
func TestProblemsOnly(t *testing.T) {
	var b bytes.Buffer
	if _, err := (gen834.Options{Members: 200, Seed: 8, Full: false}).WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, d := range []struct{ from, to string }{
		{"DMG*D8*19", "DMG*D8*XX"}, {"REF*3H*19;", "REF*3H*99;"}, {"HD*021*", "HD*777*"}, {"INS*Y*18*021*", "INS*Y*18*999*"},
		{"NM1*IL*1*T", "NM1*IL*1**T"}, {"REF*ZX*34", "REF*ZX*77"}, {"REF*1L*1000001", "REF*1L*X1000001"}, {"DTP*348*D8*2025", "DTP*348*D8*X025"},
	} {
		text = strings.Replace(text, d.from, d.to, 3)
	}
	tab := rules.DefaultTables()
	problems := func(only bool) []Member {
		var out []Member
		p := New(Options{MemberID: regexp.MustCompile(rules.DefaultMemberIDPattern), County: tab.CountyCode, ProblemsOnly: only})
		p.OnMember = func(m *Member) error {
			out = append(out, Member{Number: m.Number, Start: m.Start, Problems: append([]Problem(nil), m.Problems...)})
			return nil
		}
		rd := x12.NewReader(strings.NewReader(text))
		for {
			seg, err := rd.Next()
			if err != nil {
				break
			}
			p.Segment(seg)
		}
		p.Flush()
		return out
	}
	want, got := problems(false), problems(true)
	if bad := withProblems(want); bad < 10 {
		t.Fatalf("%d members with problems", bad)
	}
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("problems only, member %d:\n got %+v\nwant %+v", i, got[i].Problems, want[i].Problems)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d members, want %d", len(got), len(want))
	}
}

// withProblems counts the members that have problems.
func withProblems(ms []Member) int {
	n := 0
	for _, m := range ms {
		if !m.OK() {
			n++
		}
	}
	return n
}
