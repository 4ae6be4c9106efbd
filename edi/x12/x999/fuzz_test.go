package x999

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// FuzzRead checks, for any input, that Read does not panic; that it
// returns an answer or an error, never both nor neither; that an error is
// the X12 reader's *SyntaxError or one of its own naming the segment and
// line (or the missing 999); that it reads the same whatever the read
// sizes; and that every group and set has the line of its AK1 or AK2, in
// the input's order, its counts are not negative, and no code is empty.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"../../../testdata/dhcs/PLAN_305_837P_MCE_20261123_00001.999", "../../../testdata/x12/999-x231.x12"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	env := func(body ...string) []byte {
		return []byte(strings.Join(append(append([]string{
			"ISA*00*          *00*          *ZZ*CALIFORNIA-DHCS*ZZ*951234567305   *261123*1100*^*00501*000000812*0*P*:",
			"GS*FA*CALIFORNIA-DHCS*951234567*20261123*1100*812*X*005010X231A1"}, body...), "GE*1*812", "IEA*1*000000812"), "~") + "~")
	}
	f.Add(env("ST*999*0001*005010X231A1", "AK1*HC*9*005010X222A1", "AK9*R*3*3*0*4", "SE*4*0001"))
	f.Add(env("ST*999*0001*005010X231A1", "AK1*HC*9*005010X222A1", "AK9*R*-1*3*0", "SE*4*0001"))
	f.Add(env("ST*999*0001*005010X231A1", "AK2*837*1", "SE*3*0001"))
	f.Add(env("ST*999*0001*005010X231A1", "AK1*HC*9", "AK2*837*1", "IK3*NM1*12**8", "IK4*9:2*67*7", "IK5*R*5**I5", "AK9*R*1*1*0", "ST*999*0002", "IK5*A", "SE*4*0001"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Read(bytes.NewReader(data))
		if (a == nil) == (err == nil) {
			t.Fatalf("answer %+v and error %v", a, err)
		}
		a2, err2 := Read(iotest.OneByteReader(bytes.NewReader(data)))
		if fmt.Sprintf("%+v %v", a, err) != fmt.Sprintf("%+v %v", a2, err2) {
			t.Fatalf("one byte at a time: %+v %v\nwhole: %+v %v", a2, err2, a, err)
		}
		if err != nil {
			var se *x12.SyntaxError
			if msg := err.Error(); !errors.As(err, &se) && !(strings.HasPrefix(msg, "x999: segment ") && strings.Contains(msg, "(line ")) && msg != "x999: no 999 transaction set" {
				t.Fatalf("error %q names no segment and line", msg)
			}
			return
		}
		lines := int64(bytes.Count(data, []byte("\n")) + 1)
		prev := int64(0)
		for _, g := range a.Groups {
			if g.Line < 1 || g.Line > lines || g.Line < prev {
				t.Fatalf("group at line %d (previous %d, %d lines)", g.Line, prev, lines)
			}
			prev = g.Line
			if g.Included < 0 || g.Received < 0 || g.Accepted < 0 {
				t.Fatalf("group at line %d counts %d, %d, %d", g.Line, g.Included, g.Received, g.Accepted)
			}
			for _, c := range g.Codes {
				if c == "" {
					t.Fatalf("an empty AK9 code: %q", g.Codes)
				}
			}
			for _, s := range g.Sets {
				if s.Line < prev || s.Line > lines {
					t.Fatalf("set at line %d (previous %d, %d lines)", s.Line, prev, lines)
				}
				prev = s.Line
				for _, c := range s.Codes {
					if c == "" {
						t.Fatalf("an empty IK5 code: %q", s.Codes)
					}
				}
			}
		}
	})
}
