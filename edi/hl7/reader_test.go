package hl7

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// readAll returns every message and every *Error of an input.
func readAll(t *testing.T, r io.Reader, opts ...Option) ([]*Message, []*Error) {
	t.Helper()
	rd := NewReader(r, opts...)
	var msgs []*Message
	var errs []*Error
	for {
		m, err := rd.Next()
		if err == io.EOF {
			return msgs, errs
		}
		var he *Error
		if errors.As(err, &he) {
			errs = append(errs, he)
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		msgs = append(msgs, m)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadSendersStyles(t *testing.T) {
	tests := []struct {
		file   string
		delim  Delimiters
		checks map[string]string // "SEG-f[r].c.s" → value
		segs   []string
	}{
		{
			file:  "testdata/epic-a01.hl7",
			delim: Default,
			segs:  []string{"MSH", "EVN", "PID", "PV1", "DG1", "ZPV"},
			checks: map[string]string{
				"MSH-1": "|", "MSH-2": `^~\&`, "MSH-4.1": "STMARYS", "MSH-4.2": "1234567890",
				"MSH-7": "20260301083000-0800", "MSH-9.2": "A01", "MSH-10": "MSG00001", "MSH-12": "2.5.1",
				"EVN-2": "20260301082500", "EVN-5.2": "SMITH",
				"PID-3[1].1": "MRN123", "PID-3[1].4": "STMARYS", "PID-3[1].5": "MR",
				"PID-3[2].1": "91234567A", "PID-3[2].4": "CAMEDI", "PID-3[2].5": "MA", "PID-3[3].1": "",
				"PV1-2": "I", "PV1-3.4": "STMARYS", "PV1-44": "20260301080000", "PV1-45": "", "PV1-36": "",
				"DG1-3.1": "J18.9", "DG1-3.2": "Pneumonia, unspecified organism", "DG1-3.3": "I10",
				"ZPV-1.2": "value", "ZPV-2": "X|Y",
			},
		},
		{
			file:  "testdata/cerner-lf-a03.hl7",
			delim: Delimiters{Field: '#', Component: ':', Repetition: '*', Escape: '!', Subcomponent: '%'},
			segs:  []string{"MSH", "EVN", "PID", "PV1", "DG1", "ZCM"},
			checks: map[string]string{
				"MSH-1": "#", "MSH-9.1": "ADT", "MSH-9.2": "A03", "MSH-10": "C-77", "MSH-12": "2.3",
				"PID-3[1].1": "91234567A", "PID-3[1].4": "CAMEDI", "PID-3[2].5": "MR", "PID-3[2].1": "E998",
				"PV1-2": "E", "PV1-36": "01", "PV1-44": "202603012200", "PV1-45": "202603020900",
				"DG1-3.2": "Chest pain: unspecified", "ZCM-1": "note with % sub and * rep",
			},
		},
		{
			file:  "testdata/meditech-crlf-a08.hl7",
			delim: Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&', Truncation: '#'},
			segs:  []string{"MSH", "EVN", "PID", "PV1", "NTE"},
			checks: map[string]string{
				"MSH-2": `^~\&#`, "MSH-10": "VAL-1", "MSH-12": "2.8", "EVN-1": "", "EVN-2": "20260303101400",
				"PID-3.4": "CAMEDI", "PV1-2": "O", "PV1-3.4": "VALLEY", "PV1-44": "", "NTE-3": "line one\rline two # trunc",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			msgs, errs := readAll(t, bytes.NewReader(mustRead(t, tt.file)))
			if len(errs) > 0 || len(msgs) != 1 {
				t.Fatalf("got %d messages, errors %v", len(msgs), errs)
			}
			m := msgs[0]
			if m.Delimiters != tt.delim {
				t.Errorf("delimiters %+v, want %+v", m.Delimiters, tt.delim)
			}
			var names []string
			for i, s := range m.Segments {
				names = append(names, s.Name)
				if s.Position != i+1 || s.Line != i+1 {
					t.Errorf("segment %s: position %d line %d, want %d", s.Name, s.Position, s.Line, i+1)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.segs, ",") {
				t.Errorf("segments %v, want %v", names, tt.segs)
			}
			for path, want := range tt.checks {
				if got := lookup(t, m, path); got != want {
					t.Errorf("%s = %q, want %q", path, got, want)
				}
			}
		})
	}
}

// lookup reads "SEG-f[r].c.s" (repetition, component and subcomponent
// optional) from the first segment with that ID.
func lookup(t *testing.T, m *Message, path string) string {
	t.Helper()
	name, rest, _ := strings.Cut(path, "-")
	s := m.First(name)
	if s == nil {
		t.Fatalf("%s: no segment", path)
	}
	f, r, c, sub := 0, 1, 0, 0
	fieldPart, comps, _ := strings.Cut(rest, ".")
	if i := strings.IndexByte(fieldPart, '['); i >= 0 {
		f = atoi(fieldPart[:i])
		r = atoi(strings.TrimSuffix(fieldPart[i+1:], "]"))
	} else {
		f = atoi(fieldPart)
	}
	v := s.Field(f)
	if comps == "" {
		if strings.Contains(fieldPart, "[") {
			return v.Rep(r).String()
		}
		return v.String()
	}
	cs, ss, _ := strings.Cut(comps, ".")
	c = atoi(cs)
	cv := v.Rep(r).Comp(c)
	if ss == "" {
		return cv.String()
	}
	sub = atoi(ss)
	return cv.Sub(sub).String()
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestSegmentEnds reads the same message with CR, LF, CRLF and mixed ends,
// whole and one byte at a time: the segments and lines are the same.
func TestSegmentEnds(t *testing.T) {
	lines := []string{"MSH|^~\\&|A|B|C|D|20260101||ADT^A04|1|P|2.4", "EVN|A04|20260101", "PID|||X^^^AA^MR", "ZZZ|kept"}
	for _, end := range []string{"\r", "\n", "\r\n", "\r\n\r\n"} {
		in := strings.Join(lines, end) + end
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(in)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			msgs, errs := readAll(t, r, WithMaxSegment(64))
			if len(errs) > 0 || len(msgs) != 1 {
				t.Fatalf("end %q: %d messages, errors %v", end, len(msgs), errs)
			}
			m := msgs[0]
			if len(m.Segments) != 4 {
				t.Fatalf("end %q: %d segments", end, len(m.Segments))
			}
			step := 1
			if end == "\r\n\r\n" {
				step = 2
			}
			for i, s := range m.Segments {
				if s.String() != lines[i] || s.Line != 1+i*step {
					t.Errorf("end %q: segment %d %q line %d", end, i, s.String(), s.Line)
				}
			}
		}
	}
}

func TestMixedEndsAndMLLPBytes(t *testing.T) {
	in := "\x0bMSH|^~\\&|A|B|C|D|20260101||ADT^A01|1|P|2.5\rPID|||X\n\x1c\r\nMSH|^~\\&|A|B|C|D|20260101||ADT^A02|2|P|2.5\r\nPID|||Y"
	msgs, errs := readAll(t, strings.NewReader(in))
	if len(errs) > 0 || len(msgs) != 2 {
		t.Fatalf("%d messages, errors %v", len(msgs), errs)
	}
	if msgs[0].ControlID() != "1" || msgs[1].ControlID() != "2" || msgs[1].Index != 2 || msgs[1].Line != 4 {
		t.Errorf("got %q %q index %d line %d", msgs[0].ControlID(), msgs[1].ControlID(), msgs[1].Index, msgs[1].Line)
	}
	if got := msgs[1].First("PID").Get(3, 1, 1, 1); got != "Y" {
		t.Errorf("last segment without an end: %q", got)
	}
}

func msh(id string) string { return "MSH|^~\\&|A|B|C|D|20260101||ADT^A01|" + id + "|P|2.5\rPID|||X\r" }

func TestBatches(t *testing.T) {
	tests := []struct {
		name string
		in   string
		msgs int
		errs []string // error texts, in order
	}{
		{"batch counts right", "FHS|^~\\&\rBHS|^~\\&\r" + msh("1") + msh("2") + "BTS|2\rBHS|^~\\&\r" + msh("3") + "BTS|1\rFTS|2\r", 3, nil},
		{"counts left out", "FHS|^~\\&\rBHS|^~\\&\r" + msh("1") + "BTS\rFTS\r", 1, nil},
		{"batch only", "BHS|^~\\&\r" + msh("1") + msh("2") + "BTS|2\r", 2, nil},
		{"file without batches counts messages", "FHS|^~\\&\r" + msh("1") + msh("2") + "FTS|2\r", 2, nil},
		{"file without batches counts no batch", "FHS|^~\\&\r" + msh("1") + msh("2") + "FTS|0\r", 2, nil},
		{"file without batches, count wrong", "FHS|^~\\&\r" + msh("1") + msh("2") + "FTS|1\r", 2,
			[]string{"line 6, segment FTS, field FTS-1: file batch count (0, or the messages: the file has no BHS) says 1, counted 2"}},
		{"bare multi-message file", msh("1") + msh("2") + msh("3"), 3, nil},
		{"batch count wrong", "BHS|^~\\&\r" + msh("1") + msh("2") + "BTS|3\r", 2,
			[]string{"line 6, segment BTS, field BTS-1: batch message count says 3, counted 2"}},
		{"file count wrong", "FHS|^~\\&\rBHS|^~\\&\r" + msh("1") + "BTS|1\rFTS|2\r", 1,
			[]string{"line 6, segment FTS, field FTS-1: file batch count says 2, counted 1"}},
		{"count not a number", "BHS|^~\\&\r" + msh("1") + "BTS|one\r", 1,
			[]string{`line 4, segment BTS, field BTS-1: batch message count "one" is not a number`}},
		{"no BTS", "BHS|^~\\&\r" + msh("1"), 1,
			[]string{"line 3, segment BHS: input ends inside the batch opened at line 1 (no BTS)"}},
		{"no FTS", "FHS|^~\\&\r" + msh("1"), 1,
			[]string{"line 3, segment FHS: input ends inside the file opened at line 1 (no FTS)"}},
		{"BHS before BTS", "BHS|^~\\&\r" + msh("1") + "BHS|^~\\&\r" + msh("2") + "BTS|1\r", 2,
			[]string{"line 4, segment BHS: batch opened at line 1 has no BTS"}},
		{"BTS alone", msh("1") + "BTS|1\r", 1, []string{"line 3, segment BTS: batch trailer without a BHS before it"}},
		{"segment before MSH", "PID|||X\r" + msh("1"), 1, []string{"line 1, segment PID: segment outside a message (no MSH before it)"}},
		{"bad segment ID in message", msh("A7") + "pv1|x\r" + msh("A8"), 1,
			[]string{`line 3: message 1 (MSH-10 "A7"), segment #3: segment ID "pv1|x" is not three capital letters or digits`}},
		{"bad MSH-2", "MSH|^|A\rPID|1\r" + msh("2"), 1,
			[]string{`line 1: message 1, segment MSH #1, field MSH-2: encoding characters "^": want 2 to 5 (component, repetition, escape, subcomponent, truncation)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, errs := readAll(t, strings.NewReader(tt.in))
			if len(msgs) != tt.msgs {
				t.Errorf("%d messages, want %d", len(msgs), tt.msgs)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.errs, "\n") {
				t.Errorf("errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.errs, "\n"))
			}
		})
	}
}

// TestShortEncodingCharacters: HL7 lets MSH-2 leave out the subcomponent
// separator (no subcomponents in the message) and then the escape
// character (no escapes): the characters it does not name are data.
func TestShortEncodingCharacters(t *testing.T) {
	tests := []struct {
		msh2  string
		delim Delimiters
		pid31 string // PID-3.1 of X&Y\F\
		subs  int    // subcomponents of PID-3.1
	}{
		{`^~`, Delimiters{Field: '|', Component: '^', Repetition: '~'}, `X&Y\F\`, 1},
		{`^~\`, Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\'}, `X&Y|`, 1},
		{`^~\&`, Default, `X`, 2},
	}
	for _, tt := range tests {
		in := "MSH|" + tt.msh2 + "|A|B|C|D|20260101||ADT^A01|1|P|2.3\rPID|||X&Y\\F\\^^^AU^MA~Z\r"
		msgs, errs := readAll(t, strings.NewReader(in))
		if len(errs) > 0 || len(msgs) != 1 {
			t.Fatalf("MSH-2 %q: %d messages, errors %v", tt.msh2, len(msgs), errs)
		}
		m := msgs[0]
		pid := m.First("PID")
		if m.Delimiters != tt.delim || m.Segments[0].Field(2).String() != tt.msh2 || m.Segments[0].Get(3, 1, 1, 1) != "A" || m.ControlID() != "1" {
			t.Errorf("MSH-2 %q: delimiters %+v, MSH-2 %q, MSH-3 %q, MSH-10 %q", tt.msh2, m.Delimiters, m.Segments[0].Field(2).String(), m.Segments[0].Get(3, 1, 1, 1), m.ControlID())
		}
		if got := pid.Get(3, 1, 1, 1); got != tt.pid31 || pid.Field(3).Comp(1).Subs() != tt.subs || pid.Get(3, 1, 4, 1) != "AU" || pid.Get(3, 2, 1, 1) != "Z" {
			t.Errorf("MSH-2 %q: PID-3.1 %q (%d subcomponents), PID-3.4 %q, PID-3[2] %q; want %q (%d), AU, Z", tt.msh2, got, pid.Field(3).Comp(1).Subs(), pid.Get(3, 1, 4, 1), pid.Get(3, 2, 1, 1), tt.pid31, tt.subs)
		}
		if errs := Check(m); len(errs) > 0 {
			t.Errorf("MSH-2 %q: %v", tt.msh2, errs)
		}
		// The writer writes MSH-2 with the characters the delimiters have.
		var buf bytes.Buffer
		w := NewWriter(&buf, tt.delim)
		if err := w.Segment("MSH", "A"); err != nil || w.Flush() != nil {
			t.Fatal(err)
		}
		if want := "MSH|" + tt.msh2 + "|A\r"; buf.String() != want {
			t.Errorf("written %q, want %q", buf.String(), want)
		}
	}
}

func TestReaderHeaders(t *testing.T) {
	rd := NewReader(strings.NewReader("FHS|^~\\&|SENDER\rBHS|^~\\&|BSENDER\r" + msh("1") + "BTS|1\rFTS|1\r"))
	if _, err := rd.Next(); err != nil {
		t.Fatal(err)
	}
	if rd.FileHeader().Field(3).String() != "SENDER" || rd.BatchHeader().Field(3).String() != "BSENDER" {
		t.Errorf("headers %v %v", rd.FileHeader(), rd.BatchHeader())
	}
}

// TestSegmentTooLong: a segment over the limit is skipped and reported with
// its message (MSH-10, ordinal) and position; that message, a segment
// short, is not returned as if whole. One outside a message is reported by
// its line.
func TestSegmentTooLong(t *testing.T) {
	long := "NTE|" + strings.Repeat("x", 300) + "\r"
	in := msh("1") + long + "ZZZ|after\r" + msh("2") + long + msh("3")
	msgs, errs := readAll(t, iotest.HalfReader(strings.NewReader(in)), WithMaxSegment(100))
	want := []string{
		`line 3: message 1 (MSH-10 "1"), segment #3: segment longer than 100 bytes, skipped`,
		`line 7: message 2 (MSH-10 "2"), segment #3: segment longer than 100 bytes, skipped`,
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(msgs) != 1 || msgs[0].ControlID() != "3" || msgs[0].Line != 8 || len(msgs[0].Segments) != 2 {
		t.Fatalf("messages %d %+v", len(msgs), msgs)
	}
	_, errs = readAll(t, strings.NewReader(long+msh("4")), WithMaxSegment(100))
	if len(errs) != 1 || errs[0].Error() != "line 1: segment longer than 100 bytes, skipped" {
		t.Errorf("outside a message: %v", errs)
	}
}

// TestSegmentLimitBoundary: a segment of the limit's length is read and
// one a byte longer is refused, however the input arrives (whole, where
// the terminator is in the first buffer, or a byte at a time) and whether
// it ends with a terminator or the input.
func TestSegmentLimitBoundary(t *testing.T) {
	const limit = 100
	for _, n := range []int{limit, limit + 1} {
		for _, end := range []string{"\r", ""} {
			seg := "NTE|" + strings.Repeat("x", n-4)
			in := msh("1") + seg + end
			for name, r := range map[string]func() io.Reader{
				"whole":    func() io.Reader { return strings.NewReader(in) },
				"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(in)) },
			} {
				msgs, errs := readAll(t, r(), WithMaxSegment(limit))
				if n <= limit && (len(errs) != 0 || len(msgs) != 1 || len(msgs[0].Segments) != 3) {
					t.Errorf("%d bytes, end %q, %s: messages %d, errors %v; want it read", n, end, name, len(msgs), errs)
				}
				if n > limit && (len(errs) != 1 || !strings.Contains(errs[0].Reason, "longer than 100") || errs[0].MessageIndex != 1 || errs[0].Position != 3 || len(msgs) != 0) {
					t.Errorf("%d bytes, end %q, %s: messages %d, errors %v; want it refused", n, end, name, len(msgs), errs)
				}
			}
		}
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	rd := NewReader(io.MultiReader(strings.NewReader(msh("1")), iotest.ErrReader(boom)))
	if _, err := rd.Next(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the read error", err)
	}
}

func TestValueLevels(t *testing.T) {
	s := NewSegment([]byte(`PID|1||A^^^AA&1.2&ISO^MR~B^^^BB||""`), Default)
	pid3 := s.Field(3)
	if pid3.Reps() != 2 || pid3.Rep(1).Comps() != 5 || pid3.Comp(4).Subs() != 3 || pid3.Rep(2).Comp(4).Subs() != 1 {
		t.Errorf("counts: %d reps, %d comps, %d subs", pid3.Reps(), pid3.Rep(1).Comps(), pid3.Comp(4).Subs())
	}
	if got := pid3.Comp(4).Sub(2).String(); got != "1.2" {
		t.Errorf("PID-3.4.2 %q", got)
	}
	if got := s.Get(3, 2, 4, 1); got != "BB" {
		t.Errorf("PID-3[2].4.1 %q", got)
	}
	if !s.Field(5).Null() || s.Field(4).Null() || !s.Field(4).Empty() || !s.Field(40).Empty() {
		t.Errorf("null/empty wrong")
	}
	if s.Fields() != 5 {
		t.Errorf("Fields %d", s.Fields())
	}
	if got := s.Get(3, 3, 1, 1); got != "" {
		t.Errorf("missing repetition %q", got)
	}
	// A leaf asked for deeper levels gives itself at 1 and nothing after.
	leaf := pid3.Comp(1).Sub(1)
	if leaf.Comp(1).String() != "A" || !leaf.Comp(2).Empty() || !leaf.Rep(2).Empty() {
		t.Errorf("leaf levels wrong")
	}
}

func TestEscapes(t *testing.T) {
	d := Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&', Truncation: '#'}
	tests := []struct{ in, out, check string }{
		{`plain`, `plain`, ``},
		{`a\F\b\S\c\T\d\R\e\E\f\P\`, `a|b^c&d~e\f#`, ``},
		{`\X0D0A\`, "\r\n", ``},
		{`\X41\\xzz\`, `A\xzz\`, `unknown escape sequence \xzz\`},
		{`\XG1\`, `\XG1\`, `escape \XG1\ is not pairs of hexadecimal digits`},
		{`\X414\`, `\X414\`, `escape \X414\ is not pairs of hexadecimal digits`},
		{`bold \H\on\N\ \.br\ \Zlocal\`, `bold \H\on\N\ \.br\ \Zlocal\`, ``},
		{`open \F`, `open \F`, `escape character '\\' not closed`},
		{`\\`, `\\`, `empty escape sequence`},
	}
	for _, tt := range tests {
		if got := Unescape([]byte(tt.in), d); got != tt.out {
			t.Errorf("Unescape(%q) = %q, want %q", tt.in, got, tt.out)
		}
		err := CheckEscapes([]byte(tt.in), d)
		if (err == nil) != (tt.check == "") || err != nil && err.Error() != tt.check {
			t.Errorf("CheckEscapes(%q) = %v, want %q", tt.in, err, tt.check)
		}
	}
	for _, s := range []string{"a|b^c&d~e\\f#g\rh\n", "plain", ""} {
		if got := Unescape([]byte(Escape(s, d)), d); got != s {
			t.Errorf("round trip %q: %q via %q", s, got, Escape(s, d))
		}
	}
	if got := Escape("no truncation # here", Default); got != "no truncation # here" {
		t.Errorf("%q", got)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name, msh string
		want      []string
	}{
		{"sound", `MSH|^~\&|A|B|C|D|20260101120000||ADT^A01^ADT_A01|X1|P|2.5.1`, nil},
		{"every version", `MSH|^~\&|A|B|C|D|20260101||ADT^A01|X1|T|2.8.2`, nil},
		{"ACK has no trigger", `MSH|^~\&|A|B|C|D|20260101||ACK|X1|P|2.3`, nil},
		// MSH-7 is optional in v2.3 and v2.3.1, required from v2.4.
		{"trigger in EVN-1", "MSH|^~\\&|A|B|C|D|20260101||ADT|X1|P|2.3.1\rEVN|A03|20260101", nil},
		{"EVN-1 empty", "MSH|^~\\&|A|B|C|D|20260101||ADT|X1|P|2.3.1\rEVN||20260101", []string{"field MSH-9: trigger event (MSH-9.2, or EVN-1) is missing"}},
		{"v2.3 without MSH-7", `MSH|^~\&|A|B|C|D|||ADT^A01|X1|P|2.3`, nil},
		{"v2.3.1 without MSH-7", `MSH|^~\&|A|B|C|D|||ADT^A01^ADT_A01|X1|P|2.3.1`, nil},
		{"v2.4 without MSH-7", `MSH|^~\&|A|B|C|D|||ADT^A01^ADT_A01|X1|P|2.4`, []string{"field MSH-7: date/time of message is missing"}},
		{"v2.3 with a bad MSH-7", `MSH|^~\&|A|B|C|D|2026013||ADT^A01|X1|P|2.3`, []string{`field MSH-7: time "2026013"`}},
		{"empty", `MSH|^~\&`, []string{
			"field MSH-7: date/time of message is missing", "field MSH-9: message code (MSH-9.1) is missing",
			"field MSH-10: message control ID is missing", "field MSH-11: processing ID is missing", "field MSH-12: version ID is missing"}},
		{"bad values", `MSH|^~\&|A|B|C|D|2026013|\X1\|ADT|X1|Q|2.2`, []string{
			`field MSH-7: time "2026013" is not YYYY[MM[DD[HH[MM[SS[.SSSS]]]]]][+/-ZZZZ]`,
			"field MSH-9: trigger event (MSH-9.2, or EVN-1) is missing",
			`field MSH-11: processing ID "Q" is not P, T or D`,
			`field MSH-12: version "2.2" is not one of 2.3, 2.3.1, 2.4, 2.5, 2.5.1, 2.6, 2.7, 2.7.1, 2.8, 2.8.1, 2.8.2`,
			`field MSH-8: escape \X1\ is not pairs of hexadecimal digits`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, errs := readAll(t, strings.NewReader(tt.msh+"\rPID|1|\\Q\\\r"))
			if len(errs) > 0 || len(msgs) != 1 {
				t.Fatal(errs)
			}
			want := append(tt.want, `field PID-2: unknown escape sequence \Q\`)
			got := Check(msgs[0])
			if len(got) != len(want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			for i, e := range got {
				if !strings.Contains(e.Error(), want[i]) {
					t.Errorf("error %d: %q, want it to contain %q", i, e.Error(), want[i])
				}
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	pst := time.FixedZone("-0800", -8*3600)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"2026", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"202603", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), false},
		{"20260301", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), false},
		{"2026030108", time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), false},
		{"202603010830", time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC), false},
		{"20260301083015", time.Date(2026, 3, 1, 8, 30, 15, 0, time.UTC), false},
		{"20260301083015.1234", time.Date(2026, 3, 1, 8, 30, 15, 123400000, time.UTC), false},
		{"20260301083015-0800", time.Date(2026, 3, 1, 8, 30, 15, 0, pst), false},
		{"20260301+0000", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), false},
		{"20260230", time.Time{}, true},
		{"2026030", time.Time{}, true},
		{"20260301083015.12345", time.Time{}, true},
		{"202603010830.1", time.Time{}, true},
		{"20260301-08", time.Time{}, true},
		{"20260301+1500", time.Time{}, true},
		{"2026O301", time.Time{}, true},
		{"", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, time.UTC)
		if (err != nil) != tt.err || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// ParseTime reads every length of value as time.ParseInLocation does with
// the layout of that length: the same instants in a zone with daylight
// saving time (its gap and its overlap), the same values refused (month,
// day, hour, minute or second out of range, February 29 of a common year).
func TestParseTimeAsTimePackage(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Skip(err)
	}
	layouts := map[int]string{4: "2006", 6: "200601", 8: "20060102", 10: "2006010215", 12: "200601021504", 14: "20060102150405"}
	var in []string
	for _, date := range []string{"20260308", "20261101", "20240229", "20250229", "20261231", "20260431", "20260001", "20261301", "20260100", "00000101", "99991231"} {
		for _, clock := range []string{"", "00", "0230", "023000", "0130", "013059", "2359", "235959", "24", "2360", "235960", "1299"} {
			in = append(in, date+clock)
		}
		in = append(in, date[:4], date[:6])
	}
	for _, s := range in {
		got, err := ParseTime(s, la)
		want, werr := time.ParseInLocation(layouts[len(s)], s, la)
		if (err != nil) != (werr != nil) || !got.Equal(want) || (err == nil && got.Location() != want.Location()) {
			t.Errorf("ParseTime(%q) = %v, %v; time.ParseInLocation: %v, %v", s, got, err, want, werr)
		}
	}
}

func TestWriterRoundTrip(t *testing.T) {
	d := Delimiters{Field: '#', Component: ':', Repetition: '*', Escape: '!', Subcomponent: '%'}
	var buf bytes.Buffer
	w := NewWriter(&buf, d)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.BeginFile("GW"))
	must(w.BeginBatch("GW"))
	for _, id := range []string{"1", "2"} {
		must(w.Segment("MSH", "GW", "", "", "", "20260101", "", d.Components("ADT", "A01"), id, "P", "2.5.1"))
		must(w.Segment("PID", "1", "", d.Repetitions(d.Components(Escape("A#1", d), "", "", d.Subcomponents("AA", "1.2")), "B")))
		must(w.Segment("ZX1"))
	}
	must(w.EndBatch())
	must(w.EndFile())
	must(w.Flush())
	if err := w.Segment("bad"); err == nil {
		t.Error("lower-case segment ID accepted")
	}
	msgs, errs := readAll(t, &buf)
	if len(errs) > 0 || len(msgs) != 2 {
		t.Fatalf("%d messages, %v", len(msgs), errs)
	}
	m := msgs[1]
	if m.Delimiters != d || m.ControlID() != "2" || m.Version() != "2.5.1" {
		t.Errorf("header: %+v %q", m.Delimiters, m.ControlID())
	}
	pid := m.First("PID")
	if pid.Get(3, 1, 1, 1) != "A#1" || pid.Get(3, 1, 4, 2) != "1.2" || pid.Get(3, 2, 1, 1) != "B" {
		t.Errorf("PID %q", pid.String())
	}
	if len(Check(m)) != 0 {
		t.Errorf("written message not sound: %v", Check(m))
	}
	// A file of messages without a batch: the writer's FTS-1 (0 batches)
	// reads back without a problem.
	buf.Reset()
	w = NewWriter(&buf, d)
	must(w.BeginFile("GW"))
	for _, id := range []string{"1", "2"} {
		must(w.Segment("MSH", "GW", "", "", "", "20260101", "", d.Components("ADT", "A01"), id, "P", "2.5.1"))
		must(w.Segment("PID", "1"))
	}
	must(w.EndFile())
	must(w.Flush())
	if !strings.HasSuffix(buf.String(), "FTS"+string(d.Field)+"0\r") {
		t.Errorf("file without a batch ends %q", buf.String()[max(0, buf.Len()-10):])
	}
	if msgs, errs := readAll(t, &buf); len(errs) > 0 || len(msgs) != 2 {
		t.Errorf("file without a batch read back: %d messages, %v", len(msgs), errs)
	}
}

func ExampleReader() {
	in := "MSH|^~\\&|EPIC|STMARYS|GW|PLAN|20260301083000||ADT^A01|MSG1|P|2.5.1\rPID|1||91234567A^^^CAMEDI^MA\r"
	rd := NewReader(strings.NewReader(in))
	for {
		m, err := rd.Next()
		if err != nil {
			break
		}
		code, trigger := m.Type()
		pid := m.First("PID")
		fmt.Println(m.ControlID(), code, trigger, pid.Get(3, 1, 4, 1))
	}
	// Output: MSG1 ADT A01 CAMEDI
}
