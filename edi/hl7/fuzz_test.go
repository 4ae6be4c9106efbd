package hl7

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzReader checks, for any input, that the reader does not panic, that it
// reads the same whatever the read sizes, that every segment is a line of
// the input, that fields, repetitions, components and subcomponents join back
// to what was read, and that Escape and Unescape round-trip.
func FuzzReader(f *testing.F) {
	f.Add([]byte("FHS|^~\\&\rBHS|^~\\&\r" + msh("1") + "BTS|1\rFTS|1\r"))
	f.Add([]byte("MSH#:*!%#A#B#C#D#2026##ADT:A03#C-77#P#2.3\nPID#1##X:::CAMEDI:MA*Y\nZCM#!T!!R!!X41!\n"))
	f.Add([]byte("MSH|^~\\&#|A|B|C|D|20260303101500||ADT^A08|V|P|2.8\r\nNTE|1||\\X0D\\ \\P\\\r\n"))
	f.Add([]byte("\x0bMSH|^~\\&|A\r\x1c\rPID|1\rBTS|x\rFTS\r"))
	f.Fuzz(func(t *testing.T, data []byte) {
		whole := trace(t, bytes.NewReader(data))
		if got := trace(t, iotest.OneByteReader(bytes.NewReader(data))); !slices.Equal(got, whole) {
			t.Fatalf("one byte at a time\n%q\nwhole\n%q", got, whole)
		}
		lines := strings.FieldsFunc(string(data), func(r rune) bool { return r == '\r' || r == '\n' })
		rd := NewReader(bytes.NewReader(data), WithMaxSegment(4096))
		for {
			m, err := rd.Next()
			if err == io.EOF {
				break
			}
			var he *Error
			if err != nil && !errors.As(err, &he) {
				t.Fatalf("error %v is neither EOF nor *Error", err)
			}
			if err != nil {
				continue
			}
			_ = Check(m)
			d := m.Delimiters
			for i := range m.Segments {
				s := &m.Segments[i]
				if s.Line < 1 || s.Line > len(data) || !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, s.String()) }) {
					t.Fatalf("segment %q (line %d) is not in the input", s.String(), s.Line)
				}
				if s.Name == "MSH" {
					continue
				}
				var fields []string
				for fi := 0; fi <= s.Fields(); fi++ {
					v := s.Field(fi)
					if fi == 0 {
						fields = append(fields, s.Name)
						continue
					}
					var reps []string
					for r := 1; r <= max(v.Reps(), 1); r++ {
						rv := v.Rep(r)
						var comps []string
						for c := 1; c <= max(rv.Comps(), 1); c++ {
							cv := rv.Comp(c)
							var subs []string
							for sc := 1; sc <= max(cv.Subs(), 1); sc++ {
								sv := cv.Sub(sc)
								subs = append(subs, string(sv.Bytes()))
								u := sv.String()
								if back := Unescape([]byte(Escape(u, d)), d); back != u {
									t.Fatalf("Escape/Unescape %q: %q", u, back)
								}
							}
							comps = append(comps, strings.Join(subs, string([]byte{d.Subcomponent})))
						}
						reps = append(reps, strings.Join(comps, string([]byte{d.Component})))
					}
					fields = append(fields, strings.Join(reps, string([]byte{d.Repetition})))
				}
				if got := strings.Join(fields, string([]byte{d.Field})); got != s.String() {
					t.Fatalf("segment %q joins back to %q", s.String(), got)
				}
			}
		}
	})
}

// trace lists what a reader returns: each message's bytes or each error.
func trace(t *testing.T, r io.Reader) []string {
	rd := NewReader(r, WithMaxSegment(4096))
	var out []string
	for n := 0; ; n++ {
		if n > 1<<20 {
			t.Fatal("reader does not end")
		}
		m, err := rd.Next()
		switch {
		case err == io.EOF:
			return out
		case err != nil:
			out = append(out, "error "+err.Error())
		default:
			out = append(out, string(m.Bytes()))
		}
	}
}
