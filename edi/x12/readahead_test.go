package x12

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// trace records everything Next and InputOffset tell about an input, to
// compare a Reader with read-ahead with one without.
func trace(r io.Reader, opts ...ReaderOption) []string { return traceN(r, -1, opts...) }

// traceN is trace of the first n segments (n < 0: all), the rest only
// counted, and the error at the end.
func traceN(r io.Reader, n int, opts ...ReaderOption) []string {
	rd := NewReader(r, opts...)
	defer rd.Close()
	var out []string
	for i := 0; ; i++ {
		s, err := rd.Next()
		if err != nil {
			_, again := rd.Next()
			out = append(out, fmt.Sprintf("error %v (again %v) at %d, delimiters %+v after %d segments", err, again, rd.InputOffset(), rd.Delimiters(), i))
			return out
		}
		if n >= 0 && i >= n {
			continue
		}
		var plain uint64
		for i := 0; i <= min(s.Len(), 63); i++ {
			if s.Plain(i) {
				plain |= 1 << i
			}
		}
		data, ends := s.Raw()
		out = append(out, fmt.Sprintf("%d %d %d %q %v %b %+v indented %t bom %t skipped %t next %d", s.Ordinal, s.Offset, s.Line, data, ends, plain, s.Delimiters(), s.Indented(), s.BOM(), s.Skipped(), rd.InputOffset()))
	}
}

// readAheadInputs are inputs that take the read-ahead through its cases:
// several interchanges with different delimiters, line breaks (CRLF with
// LF as the terminator too), a segment longer than a batch, segments
// across batches, every kind of error, at the start and later.
func readAheadInputs(t *testing.T) map[string][]byte {
	in := map[string][]byte{}
	var big bytes.Buffer
	es, rs, cs := "*", "^", ":"
	for i := 0; i < 40000; i++ {
		if i%9000 == 0 { // a new interchange, with other delimiters
			if es, rs, cs = "|", "!", "^"; i%18000 == 0 {
				es, rs, cs = "*", "^", ":"
			}
			big.WriteString(isa(es[0], rs[0], cs[0], '~', "00501"))
		}
		fmt.Fprintf(&big, "NM1%sIL%s1%sDOE%d%sJANE%sX%sY%s%s%s%sMI%s%09d~", es, es, es, i, es, cs, rs, es, es, es, es, es, i)
		if i%7 == 0 {
			big.WriteString("\r\n")
		}
	}
	in["large"] = big.Bytes()
	in["large truncated"] = big.Bytes()[:big.Len()-5]
	in["large with a bad ISA"] = append(bytes.Clone(big.Bytes()), "ISA*00*~"...)
	in["large with trailing blanks"] = append(bytes.Clone(big.Bytes()), "\r\n \x00\x1A"...)
	lf := isa('|', '!', '^', '\n', "00501") + strings.Repeat("NM1|IL|1|DOE^X!Y\r\nREF|6R|1\n", 30000) + isa('*', 0, ':', '~', "00401") + "GS*HC*A~ST*837*1~"
	in["LF terminator, CRLF and two interchanges"] = []byte(lf)
	long := isa('*', '^', ':', '~', "00501") + "NTE*ADD*" + strings.Repeat("A", 600<<10) + "~SE*1*1~"
	in["segment longer than a batch"] = []byte(long)
	in["too long"] = []byte(long[:300<<10])
	in["not X12"] = []byte("hello, world")
	in["empty"] = nil
	files, _ := filepath.Glob("testdata/fuzz/FuzzReader/*")
	more, _ := filepath.Glob("../../testdata/x12/*.x12")
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in[f] = b
	}
	return in
}

func TestReadAheadSameAsWithout(t *testing.T) {
	for name, data := range readAheadInputs(t) {
		want := trace(bytes.NewReader(data))
		for _, c := range []struct {
			how  string
			r    func() io.Reader
			opts []ReaderOption
		}{
			{"at once", func() io.Reader { return bytes.NewReader(data) }, []ReaderOption{WithReadAhead(0)}},
			{"after 100 KB", func() io.Reader { return bytes.NewReader(data) }, []ReaderOption{WithReadAhead(100 << 10)}},
			{"short reads", func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) }, []ReaderOption{WithReadAhead(0)}},
			{"small segment limit", func() io.Reader { return bytes.NewReader(data) }, []ReaderOption{WithReadAhead(0), WithMaxSegmentSize(4096)}},
		} {
			w := want
			if len(c.opts) > 1 {
				w = trace(bytes.NewReader(data), WithMaxSegmentSize(4096))
			}
			got := trace(c.r(), c.opts...)
			if len(got) != len(w) {
				t.Errorf("%s, %s: %d entries, want %d; last %q, want %q", name, c.how, len(got), len(w), got[len(got)-1], w[len(w)-1])
				continue
			}
			for i := range got {
				if got[i] != w[i] {
					t.Errorf("%s, %s: entry %d\n got %.300s\nwant %.300s", name, c.how, i, got[i], w[i])
					break
				}
			}
		}
	}
}

func TestReadAheadReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	data := readAheadInputs(t)["large"]
	r := io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(boom))
	rd := NewReader(r, WithReadAhead(0))
	defer rd.Close()
	n := 0
	var err error
	for err == nil {
		_, err = rd.Next()
		n++
	}
	var se *SyntaxError
	if !errors.Is(err, boom) || errors.As(err, &se) || n < 1000 {
		t.Fatalf("err = %v after %d segments", err, n)
	}
	if _, again := rd.Next(); again != err {
		t.Errorf("error not sticky: %v", again)
	}
}

// waitGoroutines waits until at most n goroutines run.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	for i := 0; runtime.NumGoroutine() > n; i++ {
		if i == 200 {
			t.Fatalf("%d goroutines, want %d: the producer leaked", runtime.NumGoroutine(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Close stops the producer, also when it is ahead and waiting for the
// consumer, and Next then says the Reader is closed.
func TestReadAheadClose(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("no read-ahead with GOMAXPROCS 1")
	}
	data := readAheadInputs(t)["large"]
	before := runtime.NumGoroutine()
	for _, stopAfter := range []int{0, 1, 5000} {
		rd := NewReader(bytes.NewReader(data), WithReadAhead(0))
		for i := 0; i < stopAfter; i++ {
			if _, err := rd.Next(); err != nil {
				t.Fatal(err)
			}
		}
		offset := rd.InputOffset()
		time.Sleep(10 * time.Millisecond) // the producer fills every batch
		if err := rd.Close(); err != nil {
			t.Fatal(err)
		}
		waitGoroutines(t, before)
		if _, err := rd.Next(); !errors.Is(err, ErrClosed) {
			t.Errorf("Next after Close: %v", err)
		}
		if rd.InputOffset() != offset {
			t.Errorf("InputOffset %d after Close, %d before", rd.InputOffset(), offset)
		}
		if err := rd.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// A producer waiting for input is stopped when the input ends, even one
// that comes slowly: Close waits for the read in progress.
func TestReadAheadCloseWhileReading(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("no read-ahead with GOMAXPROCS 1")
	}
	before := runtime.NumGoroutine()
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(isa('*', '^', ':', '~', "00501") + strings.Repeat("NM1*IL*1*DOE~", 100)))
	}()
	rd := NewReader(pr, WithReadAhead(0))
	for range 100 { // segments that a short read brought come through before the read that waits
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
	}
	closed := make(chan struct{})
	go func() { rd.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while the producer was reading")
	case <-time.After(20 * time.Millisecond):
	}
	pw.Close()
	<-closed
	waitGoroutines(t, before)
}

// TestWithStart starts Readers between segments, where Position says an
// earlier Reader was: they return what that Reader returned from there on.
func TestWithStart(t *testing.T) {
	for name, data := range readAheadInputs(t) {
		want := trace(bytes.NewReader(data))
		var starts []Position
		var delims []Delimiters
		rd := NewReader(bytes.NewReader(data))
		for {
			if _, err := rd.Next(); err != nil {
				break
			}
			starts, delims = append(starts, rd.Position()), append(delims, rd.Delimiters())
		}
		// The first segments from each start compared, the rest counted to
		// the same end (the race detector makes formatting them all slow).
		const n = 200
		step := max(len(starts)/40, 1)
		for i := 0; i < len(starts); i += step {
			p := starts[i]
			got := traceN(bytes.NewReader(data[p.Offset:]), n, WithStart(p, delims[i]))
			w := want[i+1 : len(want)-1] // the segments after the start
			w = w[:min(len(w), n)]
			// The end: the same error after as many segments as the rest.
			end := strings.Replace(want[len(want)-1], fmt.Sprintf("after %d segments", len(want)-1), fmt.Sprintf("after %d segments", len(want)-2-i), 1)
			if len(got) != len(w)+1 || got[len(got)-1] != end {
				t.Errorf("%s from %+v: %d entries, want %d; last %q, want %q", name, p, len(got), len(w)+1, got[len(got)-1], end)
				continue
			}
			for j := range got[:len(got)-1] {
				if got[j] != w[j] {
					t.Errorf("%s from %+v: entry %d\n got %.300s\nwant %.300s", name, p, j, got[j], w[j])
					break
				}
			}
		}
	}
}
