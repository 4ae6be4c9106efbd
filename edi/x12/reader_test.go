package x12

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// isa builds a 106-byte ISA with the given separators (rep 0 writes "U").
func isa(es, rep, cs, term byte, version string) string {
	r := "U"
	if rep != 0 {
		r = string(rep)
	}
	f := []string{"ISA", "00", "          ", "00", "          ", "ZZ", "SENDER         ", "ZZ", "RECEIVER       ",
		"260115", "1200", r, version, "000000101", "0", "T", string(cs)}
	return strings.Join(f, string(es)) + string(term)
}

// seg joins elements with es and ends them with term.
func seg(es, term byte, elems ...string) string {
	return strings.Join(elems, string(es)) + string(term)
}

type readSeg struct {
	id      string
	elems   []string
	ordinal int64
	offset  int64
	line    int64
}

func readAll(t *testing.T, r io.Reader, opts ...ReaderOption) ([]readSeg, error) {
	t.Helper()
	rd := NewReader(r, opts...)
	var out []readSeg
	for {
		s, err := rd.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		rs := readSeg{id: string(s.ID()), ordinal: s.Ordinal, offset: s.Offset, line: s.Line}
		for i := 1; i <= s.Len(); i++ {
			rs.elems = append(rs.elems, s.ElementString(i))
		}
		out = append(out, rs)
	}
}

func TestReaderLayouts(t *testing.T) {
	body := func(es, cs, rep, term byte, version, sep string) string {
		parts := []string{
			isa(es, rep, cs, term, version),
			seg(es, term, "GS", "HC", "S", "R", "20260115", "1200", "1", "X", "005010X222A1"),
			seg(es, term, "ST", "837", "0001"),
			seg(es, term, "NM1", "IL", "1", "DOE"),
			seg(es, term, "SE", "3", "0001"),
			seg(es, term, "GE", "1", "1"),
			seg(es, term, "IEA", "1", "000000101"),
		}
		return strings.Join(parts, sep)
	}
	tests := []struct {
		name      string
		in        string
		wantDelim Delimiters
		wantLines []int64
	}{
		{"one line", body('*', ':', '^', '~', "00501", ""), Delimiters{'*', '^', ':', '~'}, []int64{1, 1, 1, 1, 1, 1, 1}},
		{"LF", body('*', ':', '^', '~', "00501", "\n"), Delimiters{'*', '^', ':', '~'}, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"CRLF", body('*', ':', '^', '~', "00501", "\r\n"), Delimiters{'*', '^', ':', '~'}, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"CR only", body('*', ':', '^', '~', "00501", "\r"), Delimiters{'*', '^', ':', '~'}, []int64{1, 1, 1, 1, 1, 1, 1}},
		{"pipe caret bang", body('|', '^', '!', '~', "00501", "\n"), Delimiters{'|', '!', '^', '~'}, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"LF terminator", body('*', ':', '^', '\n', "00501", ""), Delimiters{'*', '^', ':', '\n'}, []int64{1, 2, 3, 4, 5, 6, 7}},
		// CRLF after an ISA whose terminator was meant to be LF: CR is the terminator.
		{"LF terminator with CRLF", strings.ReplaceAll(body('*', ':', '^', '\n', "00501", ""), "\n", "\r\n"), Delimiters{'*', '^', ':', '\r'}, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"tilde as element separator", body('~', '>', '^', '\'', "00501", ""), Delimiters{'~', '^', '>', '\''}, []int64{1, 1, 1, 1, 1, 1, 1}},
		{"BOM", "\xEF\xBB\xBF" + body('*', ':', '^', '~', "00501", "\n"), Delimiters{'*', '^', ':', '~'}, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"leading blank lines", "\n\n" + body('*', ':', '^', '~', "00501", "\n"), Delimiters{'*', '^', ':', '~'}, []int64{3, 4, 5, 6, 7, 8, 9}},
		{"ISA11 U: no repetition separator", body('*', ':', 0, '~', "00501", "\n"), Delimiters{'*', 0, ':', '~'}, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"004010: ISA11 is not a separator", body('*', ':', '^', '~', "00401", "\n"), Delimiters{'*', 0, ':', '~'}, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"trailing whitespace and NUL padding", body('*', ':', '^', '~', "00501", "\n") + "\n  \x00\x00\x1a", Delimiters{'*', '^', ':', '~'}, []int64{1, 2, 3, 4, 5, 6, 7}},
	}
	wantIDs := []string{"ISA", "GS", "ST", "NM1", "SE", "GE", "IEA"}
	for _, tt := range tests {
		for _, chunking := range []string{"whole", "one byte", "half"} {
			t.Run(tt.name+"/"+chunking, func(t *testing.T) {
				var r io.Reader = strings.NewReader(tt.in)
				switch chunking {
				case "one byte":
					r = iotest.OneByteReader(r)
				case "half":
					r = iotest.HalfReader(r)
				}
				rd := NewReader(r)
				var got []readSeg
				for {
					s, err := rd.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("segment %d: %v", len(got)+1, err)
					}
					if d := s.Delimiters(); d != tt.wantDelim {
						t.Fatalf("delimiters %+q, want %+q", d, tt.wantDelim)
					}
					got = append(got, readSeg{id: string(s.ID()), ordinal: s.Ordinal, offset: s.Offset, line: s.Line})
					// The offset must point at the segment in the input.
					if !strings.HasPrefix(tt.in[s.Offset:], string(s.Bytes())) {
						t.Errorf("%s: offset %d does not point at the segment", s.ID(), s.Offset)
					}
				}
				if len(got) != len(wantIDs) {
					t.Fatalf("got %d segments, want %d", len(got), len(wantIDs))
				}
				for i, g := range got {
					if g.id != wantIDs[i] || g.ordinal != int64(i+1) || g.line != tt.wantLines[i] {
						t.Errorf("segment %d: got %s ordinal %d line %d, want %s %d line %d", i+1, g.id, g.ordinal, g.line, wantIDs[i], i+1, tt.wantLines[i])
					}
				}
			})
		}
	}
}

// Pretty-printed input (a line break, then spaces or tabs before the next
// segment) reads as the plain one; Indented and BOM say what was skipped.
func TestReaderIndentedAndBOM(t *testing.T) {
	plain := isa('*', '^', ':', '~', "00501") + "\nGS*HC*S*R~\nST*837*0001~\nNM1*IL*1~\n"
	tests := []struct {
		name         string
		in           string
		wantIndented []bool
		wantBOM      []bool
		wantLines    []int64
	}{
		{"plain", plain, []bool{false, false, false, false}, []bool{false, false, false, false}, []int64{1, 2, 3, 4}},
		{"BOM", "\xEF\xBB\xBF" + plain, []bool{false, false, false, false}, []bool{true, false, false, false}, []int64{1, 2, 3, 4}},
		{"spaces and tabs after line breaks", strings.NewReplacer("\nST", "\n  ST", "\nNM1", "\r\n\t\tNM1").Replace(plain),
			[]bool{false, false, true, true}, []bool{false, false, false, false}, []int64{1, 2, 3, 4}},
		{"space after the terminator", strings.Replace(plain, "~\nGS", "~ GS", 1),
			[]bool{false, true, false, false}, []bool{false, false, false, false}, []int64{1, 1, 2, 3}},
		{"indented ISA after a BOM", "\xEF\xBB\xBF  " + plain, []bool{true, false, false, false}, []bool{true, false, false, false}, []int64{1, 2, 3, 4}},
		{"tab is the element separator: not skipped", strings.ReplaceAll(isa('\t', '^', ':', '~', "00501")+"\nGS\tHC~\n", "\nGS", "\nGS"),
			[]bool{false, false}, []bool{false, false}, []int64{1, 2}},
	}
	for _, tt := range tests {
		for _, ahead := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/read-ahead %t", tt.name, ahead), func(t *testing.T) {
				var opts []ReaderOption
				if ahead {
					opts = append(opts, WithReadAhead(0))
				}
				rd := NewReader(iotest.HalfReader(strings.NewReader(tt.in)), opts...)
				defer rd.Close()
				for i := 0; ; i++ {
					s, err := rd.Next()
					if err == io.EOF {
						if i != len(tt.wantIndented) {
							t.Fatalf("%d segments, want %d", i, len(tt.wantIndented))
						}
						return
					}
					if err != nil {
						t.Fatalf("segment %d: %v", i+1, err)
					}
					if i >= len(tt.wantIndented) {
						t.Fatalf("more than %d segments", len(tt.wantIndented))
					}
					if id := string(s.ID()); id != []string{"ISA", "GS", "ST", "NM1"}[i] {
						t.Errorf("segment %d is %q", i+1, id)
					}
					if s.Indented() != tt.wantIndented[i] || s.BOM() != tt.wantBOM[i] || s.Skipped() != (tt.wantIndented[i] || tt.wantBOM[i]) || s.Line != tt.wantLines[i] {
						t.Errorf("segment %d: indented %t BOM %t line %d, want %t %t %d", i+1, s.Indented(), s.BOM(), s.Line, tt.wantIndented[i], tt.wantBOM[i], tt.wantLines[i])
					}
					if !strings.HasPrefix(tt.in[s.Offset:], string(s.Bytes())) {
						t.Errorf("segment %d: offset %d does not point at it", i+1, s.Offset)
					}
				}
			})
		}
	}
}

func TestReaderElements(t *testing.T) {
	in := isa('*', '^', ':', '~', "00501") +
		"SV1*HC:99213:25:59*100*UN*1***1:2^3:4~" +
		"NM1*IL*1*DOE*JANE****MI*123~" +
		"DTP*472**~" +
		"LX~"
	rd := NewReader(strings.NewReader(in))
	if _, err := rd.Next(); err != nil {
		t.Fatal(err)
	}
	s, err := rd.Next()
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		got  string
		want string
	}{
		{"ID", string(s.ID()), "SV1"},
		{"Element(0)", string(s.Element(0)), "SV1"},
		{"Element(1)", string(s.Element(1)), "HC:99213:25:59"},
		{"Component(1,2)", string(s.Component(1, 2)), "99213"},
		{"Component(1,4)", string(s.Component(1, 4)), "59"},
		{"Component(1,5)", string(s.Component(1, 5)), ""},
		{"Component(2,1)", string(s.Component(2, 1)), "100"},
		{"Element(6)", string(s.Element(6)), ""},
		{"Element(7)", string(s.Element(7)), "1:2^3:4"},
		{"Repetition(7,1)", string(s.Repetition(7, 1)), "1:2"},
		{"Repetition(7,2)", string(s.Repetition(7, 2)), "3:4"},
		{"Repetition(7,3)", string(s.Repetition(7, 3)), ""},
		{"Component(7,2) of first repetition", string(s.Component(7, 2)), "2"},
		{"Field(rep 2, comp 2)", string(Field(s.Repetition(7, 2), ':', 2)), "4"},
		{"Element(8) past the end", string(s.Element(8)), ""},
		{"ElementString(3)", s.ElementString(3), "UN"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if n := s.Len(); n != 7 {
		t.Errorf("Len = %d, want 7", n)
	}
	if n := s.Repetitions(7); n != 2 {
		t.Errorf("Repetitions(7) = %d, want 2", n)
	}
	if n := s.Repetitions(6); n != 0 {
		t.Errorf("Repetitions(6) = %d, want 0", n)
	}
	if !s.Is("SV1") || s.Is("SV") {
		t.Error("Is")
	}
	plain := map[int]bool{0: true, 1: false, 2: true, 3: true, 6: true, 7: false}
	for i, want := range plain {
		if s.Plain(i) != want {
			t.Errorf("Plain(%d) = %v, want %v", i, !want, want)
		}
	}
	c := s.Clone()
	s2, _ := rd.Next() // overwrites the reader's segment
	if string(c.Element(1)) != "HC:99213:25:59" || c.Ordinal != 2 {
		t.Errorf("clone changed: %q", c.Element(1))
	}
	if string(s2.Element(3)) != "DOE" || s2.Len() != 9 || string(s2.Element(9)) != "123" {
		t.Errorf("NM1: %q len %d", s2.Element(3), s2.Len())
	}
	s3, _ := rd.Next()
	if s3.Len() != 3 || len(s3.Element(2)) != 0 || len(s3.Element(3)) != 0 {
		t.Errorf("DTP with empty trailing elements: len %d", s3.Len())
	}
	s4, _ := rd.Next()
	if s4.Len() != 0 || string(s4.ID()) != "LX" {
		t.Errorf("LX: len %d", s4.Len())
	}
}

func TestReaderPlainDetectsSpecials(t *testing.T) {
	in := isa('*', '^', ':', '~', "00501") + "NM1*A\x01B*C\xc3\xa9D*E\x7fF*OK*G^H*I:J*0123456789ABCDEFGH*0123456789ABCDEF:G~"
	rd := NewReader(strings.NewReader(in))
	rd.Next()
	s, err := rd.Next()
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{true, false, false, false, true, false, false, true, false}
	for i, w := range want {
		if s.Plain(i) != w {
			t.Errorf("Plain(%d) = %v, want %v (%q)", i, s.Plain(i), w, s.Element(i))
		}
	}
}

func TestReaderMultipleInterchanges(t *testing.T) {
	first := isa('*', '^', ':', '~', "00501") + "GS*HC*A~IEA*1*000000101~\n"
	second := isa('|', '!', '>', '\n', "00501") + "GS|HC|B>C\nIEA|1|000000102\n"
	got, err := readAll(t, strings.NewReader(first+second))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("got %d segments, want 6", len(got))
	}
	if got[4].id != "GS" || len(got[4].elems) != 2 || got[4].elems[1] != "B>C" {
		t.Errorf("second GS read with the second interchange's delimiters: %+v", got[4])
	}
	if got[5].elems[1] != "000000102" {
		t.Errorf("IEA02 = %q", got[5].elems[1])
	}
	if got[3].offset != int64(len(first)) || got[3].line != 2 {
		t.Errorf("second ISA at offset %d line %d, want %d line 2", got[3].offset, got[3].line, len(first))
	}
}

func TestReaderErrors(t *testing.T) {
	good := isa('*', '^', ':', '~', "00501")
	tests := []struct {
		name    string
		in      string
		opts    []ReaderOption
		want    error
		ordinal int64
		offset  int64
	}{
		{"empty", "", nil, ErrNotX12, 1, 0},
		{"JSON", `{"isa": 1}`, nil, ErrNotX12, 1, 0},
		{"CSV", "member_id,name\n1,x\n", nil, ErrNotX12, 1, 0},
		{"ISA word", "ISAAC*NEWTON~", nil, ErrNotX12, 1, 0},
		{"truncated ISA", good[:50], nil, ErrBadISA, 1, 0},
		{"truncated segment", good + "GS*HC*SEND", nil, ErrTruncated, 2, 106},
		{"truncated after line break", good + "\nGS*HC~\nST*837", nil, ErrTruncated, 3, 114},
		{"oversize segment", good + "NM1*" + strings.Repeat("A", 5000) + "~", []ReaderOption{WithMaxSegmentSize(1000)}, ErrSegmentTooLong, 2, 106},
		{"oversize segment, no terminator", good + "NM1*" + strings.Repeat("A", 300000), []ReaderOption{WithMaxSegmentSize(100000)}, ErrSegmentTooLong, 2, 106},
		{"separator is a letter", isa('A', '^', ':', '~', "00501"), nil, ErrNotX12, 1, 0},
		{"component equals element separator", isa('*', '^', '*', '~', "00501"), nil, ErrDelimiters, 1, 0},
		{"component separator is a digit", isa('*', '^', '5', '~', "00501"), nil, ErrDelimiters, 1, 0},
		{"terminator equals component", isa('*', '^', ':', ':', "00501"), nil, ErrDelimiters, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd := NewReader(strings.NewReader(tt.in), tt.opts...)
			var err error
			for err == nil {
				_, err = rd.Next()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err %T is not a *SyntaxError", err)
			}
			if se.Ordinal != tt.ordinal || se.Offset != tt.offset {
				t.Errorf("position: segment %d offset %d, want %d %d", se.Ordinal, se.Offset, tt.ordinal, tt.offset)
			}
			if _, again := rd.Next(); again != err {
				t.Errorf("error not sticky: %v", again)
			}
		})
	}
}

// A failing reader's error comes back wrapped, not as a SyntaxError.
func TestReaderReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	rd := NewReader(io.MultiReader(strings.NewReader(isa('*', '^', ':', '~', "00501")+"GS*H"), iotest.ErrReader(boom)))
	var err error
	for err == nil {
		_, err = rd.Next()
	}
	var se *SyntaxError
	if !errors.Is(err, boom) || errors.As(err, &se) {
		t.Fatalf("err = %v", err)
	}
}

// The buffer never grows past the maximum segment size, however long the
// input.
func TestReaderMemoryBounded(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(isa('*', '^', ':', '~', "00501"))
	for i := 0; i < 50000; i++ {
		fmt.Fprintf(&b, "NM1*IL*1*%s*JANE****MI*%09d~\n", strings.Repeat("X", 40), i)
	}
	rd := NewReader(&b, WithMaxSegmentSize(4096))
	n := 0
	for {
		_, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 50001 {
		t.Errorf("read %d segments", n)
	}
	if len(rd.buf) > 64<<10 {
		t.Errorf("buffer grew to %d bytes", len(rd.buf))
	}
}

// naiveSplit is the obvious splitter, to check the word-at-a-time one.
func naiveSplit(data []byte, d Delimiters) (ends []int32, special uint64) {
	for i, c := range data {
		switch {
		case c == d.Element:
			ends = append(ends, int32(i))
		case c < 0x20 || c > 0x7e || c == d.Component || (d.Repetition != 0 && c == d.Repetition):
			special |= 1 << min(len(ends), 63)
		}
	}
	return append(ends, int32(len(data))), special
}

func TestSplitMatchesNaive(t *testing.T) {
	alphabet := []byte("AB09 *:^~\x01\x7f\x80\xff|!")
	for _, d := range []Delimiters{DefaultDelimiters, {Element: '|', Repetition: '!', Component: '^', Segment: '~'}, {Element: '*', Component: ':', Segment: '~'}} {
		x := NewReader(strings.NewReader(""))
		x.setDelimiters(d)
		seed := uint32(1)
		for n := 0; n < 3000; n++ {
			size := n % 90
			data := make([]byte, size)
			for i := range data {
				seed = seed*1664525 + 1013904223
				data[i] = alphabet[seed>>24%uint32(len(alphabet))]
			}
			if bytes.IndexByte(data, d.Segment) >= 0 {
				continue
			}
			// The segment, its terminator and what may follow it in the
			// reader's buffer.
			buf := append(append([]byte{}, data...), d.Segment, d.Element, d.Element, 0x01, d.Component, 'A', 'B', 'C', 'D')
			for _, limit := range []int{len(buf), len(data) + 1} {
				end, ends, special := x.split(buf, 0, limit, nil)
				ends = append(ends, int32(len(data)))
				wantEnds, wantSpecial := naiveSplit(data, d)
				if end != len(data) || fmt.Sprint(ends) != fmt.Sprint(wantEnds) || special != wantSpecial {
					t.Fatalf("%q: got end %d %v %b, want %d %v %b", data, end, ends, special, len(data), wantEnds, wantSpecial)
				}
			}
			if end, _, _ := x.split(data, 0, len(data), nil); end != -1 {
				t.Fatalf("%q: terminator found at %d", data, end)
			}
		}
	}
}
