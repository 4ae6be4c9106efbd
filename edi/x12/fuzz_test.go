package x12

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
	"testing/iotest"
)

// FuzzReader checks, for any input, that the reader does not panic, that
// errors are sticky and typed, that every segment it returns is the input
// at its offset, split correctly, and that read-ahead changes nothing.
func FuzzReader(f *testing.F) {
	f.Add([]byte(isa('*', '^', ':', '~', "00501") + "GS*HC*A*B~ST*837*0001~SV1*HC:99213*10~SE*3*0001~"))
	f.Add([]byte("\xEF\xBB\xBF" + isa('|', '!', '^', '\n', "00501") + "NM1|IL|1|DOE^X!Y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		want := trace(bytes.NewReader(data), WithMaxSegmentSize(2048))
		if got := trace(iotest.HalfReader(bytes.NewReader(data)), WithMaxSegmentSize(2048), WithReadAhead(0)); !slices.Equal(got, want) {
			t.Fatalf("with read-ahead\n%q\nwithout\n%q", got, want)
		}
		rd := NewReader(bytes.NewReader(data), WithMaxSegmentSize(2048))
		last := int64(-1)
		for n := int64(1); ; n++ {
			s, err := rd.Next()
			if err != nil {
				var se *SyntaxError
				if err != io.EOF && !errors.As(err, &se) {
					t.Fatalf("error %v is neither EOF nor a SyntaxError", err)
				}
				if _, again := rd.Next(); again != err {
					t.Fatalf("error not sticky")
				}
				return
			}
			if s.Ordinal != n || s.Offset <= last || s.Offset >= int64(len(data)) {
				t.Fatalf("segment %d at ordinal %d offset %d after %d", n, s.Ordinal, s.Offset, last)
			}
			last = s.Offset
			raw := s.Bytes()
			if !bytes.HasPrefix(data[s.Offset:], raw) {
				t.Fatalf("segment %d is not the input at its offset", n)
			}
			d := s.Delimiters()
			parts := make([][]byte, s.Len()+1)
			for i := range parts {
				parts[i] = s.Element(i)
			}
			if !bytes.Equal(bytes.Join(parts, []byte{d.Element}), raw) {
				t.Fatalf("segment %d: elements do not join back to the segment", n)
			}
			ends, special := naiveSplit(raw, d)
			if len(ends) != s.Len()+1 {
				t.Fatalf("segment %d: %d elements, naive split finds %d", n, s.Len(), len(ends)-1)
			}
			for i := 0; i <= s.Len(); i++ {
				if s.Plain(i) != (special&(1<<min(i, 63)) == 0) {
					t.Fatalf("segment %d: Plain(%d) wrong", n, i)
				}
			}
		}
	})
}
