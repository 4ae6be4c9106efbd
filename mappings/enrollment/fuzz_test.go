package enrollment

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// FuzzMapper834 feeds arbitrary bytes through the X12 reader and the 834
// mapper. It must not panic, number member loops 1, 2, 3…, and a member it
// accepts must have a CIN of the pattern and valid dates.
func FuzzMapper834(f *testing.F) {
	for _, p := range []string{"family-change.834", "bad-members.834", "full-audit.834", "other-delimiters.834"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "enrollment", p)); err == nil {
			f.Add(b)
		}
	}
	tab := rules.DefaultTables()
	cin := regexp.MustCompile(rules.DefaultMemberIDPattern)
	f.Fuzz(func(t *testing.T, data []byte) {
		p := New(Options{MemberID: cin, County: tab.CountyCode})
		n := 0
		p.OnMember = func(m *Member) error {
			n++
			if m.Number != n {
				t.Fatalf("member loop %d numbered %d", n, m.Number)
			}
			c := &m.Change
			if m.OK() && (!cin.MatchString(c.Enrollee.CIN) || (c.Enrollee.DOB != 0 && !c.Enrollee.DOB.Valid())) {
				t.Fatalf("accepted an impossible member: %+v", c.Enrollee.Member)
			}
			for _, op := range c.Ops {
				if m.OK() && op.Span.From != 0 && (!op.Span.From.Valid() || (op.Span.To != 0 && !op.Span.To.Valid())) {
					t.Fatalf("accepted an impossible span: %+v", op.Span)
				}
			}
			return nil
		}
		rd := x12.NewReader(bytes.NewReader(data), x12.WithMaxSegmentSize(64<<10))
		for {
			seg, err := rd.Next()
			if err == io.EOF || err != nil {
				break
			}
			if err := p.Segment(seg); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
	})
}
