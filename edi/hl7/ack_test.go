package hl7

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

const ackA01 = "MSH|^~\\&|EPICADT|GOODHOSP|CALGW|PLAN|20260301120000||ADT^A01^ADT_A01|MSG00001|P|2.5.1\r" +
	"EVN|A01|20260301120000\rPID|1||123456789^^^MEDI-CAL^MC||DOE^JANE\r"

func TestReadHeader(t *testing.T) {
	tests := []struct {
		name, msg string
		want      Header
		err       string // "" = no error
	}{
		{"default delimiters", ackA01, Header{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&', Encoding: `^~\&`,
			SendingApplication: "EPICADT", SendingFacility: "GOODHOSP", ReceivingApplication: "CALGW", ReceivingFacility: "PLAN",
			Time: "20260301120000", Type: "ADT^A01^ADT_A01", ControlID: "MSG00001", ProcessingID: "P", Version: "2.5.1", VersionField: "2.5.1"}, ""},
		{"other delimiters, LF end, v2.8 truncation char, version with components",
			"MSH#$*!@%#APP$X#FAC#R#RF#2026##ADT$A03#C9#T#2.8$USA\nPID#1\n",
			Header{Field: '#', Component: '$', Repetition: '*', Escape: '!', Subcomponent: '@', Encoding: "$*!@%",
				SendingApplication: "APP$X", SendingFacility: "FAC", ReceivingApplication: "R", ReceivingFacility: "RF",
				Time: "2026", Type: "ADT$A03", ControlID: "C9", ProcessingID: "T", Version: "2.8", VersionField: "2.8$USA"}, ""},
		{"leading newline skipped, trailing fields missing", "\r\nMSH|^~\\&|A|B|||||ADT^A08|X|P|2.3", Header{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&', Encoding: `^~\&`,
			SendingApplication: "A", SendingFacility: "B", Type: "ADT^A08", ControlID: "X", ProcessingID: "P", Version: "2.3", VersionField: "2.3"}, ""},
		{"not MSH", "PID|1||X\r", Header{}, "does not start with an MSH"},
		{"too short", "MSH|^~", Header{}, "does not start with an MSH"},
		{"letter as separator", "MSHX^~\\&X", Header{}, "MSH-1"},
		{"MSH ended by CR before MSH-1", "MSH\r0000\rPID|1", Header{}, "MSH-1"},
		{"MSH ended by LF before MSH-1", "\nMSH\nPID|1||X\r", Header{}, "MSH-1"},
		{"three encoding characters (no subcomponent separator)", "MSH|^~\\|A|B|C|D|1||ADT^A01|X|P|2.5\r", Header{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Encoding: `^~\`,
			SendingApplication: "A", SendingFacility: "B", ReceivingApplication: "C", ReceivingFacility: "D", Time: "1", Type: "ADT^A01", ControlID: "X", ProcessingID: "P", Version: "2.5", VersionField: "2.5"}, ""},
		{"two encoding characters (no escape character either)", "MSH|^~|A\\B|B|C|D|1||ADT^A01|X|P|2.3\r", Header{Field: '|', Component: '^', Repetition: '~', Encoding: `^~`,
			SendingApplication: `A\B`, SendingFacility: "B", ReceivingApplication: "C", ReceivingFacility: "D", Time: "1", Type: "ADT^A01", ControlID: "X", ProcessingID: "P", Version: "2.3", VersionField: "2.3"}, ""},
		{"one encoding character", "MSH|^|A|B|C|D|1||ADT^A01|X|P|2.5\r", Header{}, "MSH-2"},
		{"repeated encoding character", "MSH|^^\\&|A|B|C|D|1||ADT^A01|X|P|2.5\r", Header{}, "MSH-2"},
		// MSH-1 ends MSH-2 ("^~"): the fields after it are shifted by one.
		{"encoding character equal to MSH-1", "MSH|^~|&|A|B|C|D|1||ADT^A01|X|P|2.5\r", Header{}, "MSH-9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ReadHeader([]byte(tc.msg))
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrHeader) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one naming %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h != tc.want {
				t.Errorf("got  %+v\nwant %+v", h, tc.want)
			}
		})
	}
}

// A header with an empty MSH-9, -10 or -12 is an error, but what was read
// comes back, enough to answer.
func TestReadHeaderMissingFields(t *testing.T) {
	for _, tc := range []struct{ msg, field string }{
		{"MSH|^~\\&|A|B|C|D|1|||X|P|2.5\r", "MSH-9"},
		{"MSH|^~\\&|A|B|C|D|1||ADT^A01||P|2.5\r", "MSH-10"},
		{"MSH|^~\\&|A|B|C|D|1||ADT^A01|X|P|\r", "MSH-12"},
	} {
		h, err := ReadHeader([]byte(tc.msg))
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: err %v", tc.field, err)
		}
		if h.Field != '|' || h.SendingApplication != "A" || h.ReceivingFacility != "D" {
			t.Errorf("%s: header not returned: %+v", tc.field, h)
		}
	}
}

func TestFirstComponent(t *testing.T) {
	h, _ := ReadHeader([]byte(ackA01))
	for in, want := range map[string]string{
		"EPICADT":                "EPICADT",
		"EPIC^1.2.3^ISO":         "EPIC",
		"A&B^C":                  "A",
		"R1~R2":                  "R1",
		`GOOD\T\HOSP\F\X\E\\S\Y`: `GOOD&HOSP|X\^Y`,
		`KEEP\H\`:                `KEEP\H\`,
	} {
		if got := h.FirstComponent(in); got != want {
			t.Errorf("FirstComponent(%q) = %q, want %q", in, got, want)
		}
	}
}

// segs splits an ACK into its segments' fields.
func segs(t *testing.T, ack []byte, fs string) [][]string {
	t.Helper()
	s := string(ack)
	if !strings.HasSuffix(s, "\r") || strings.Contains(s, "\n") {
		t.Fatalf("segments must end with CR only: %q", s)
	}
	var out [][]string
	for _, seg := range strings.Split(strings.TrimSuffix(s, "\r"), "\r") {
		out = append(out, strings.Split(seg, fs))
	}
	return out
}

func TestAppendACK(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 5, 0, time.FixedZone("PST", -8*3600))
	h, err := ReadHeader([]byte(ackA01))
	if err != nil {
		t.Fatal(err)
	}
	prefix := []byte("keep")
	ack := AppendACK(prefix, h, AckAccept, "ignored", now)
	if string(ack[:4]) != "keep" {
		t.Fatal("dst not appended to")
	}
	s := segs(t, ack[4:], "|")
	if len(s) != 2 {
		t.Fatalf("AA has MSH and MSA only: %q", ack)
	}
	msh := s[0]
	// MSH-n is msh[n-1] for n >= 2.
	want := map[int]string{2: `^~\&`, 3: "CALGW", 4: "PLAN", 5: "EPICADT", 6: "GOODHOSP", 7: "20260301120005-0800", 8: "", 9: "ACK^A01^ACK", 11: "P", 12: "2.5.1"}
	for n, v := range want {
		if msh[n-1] != v {
			t.Errorf("MSH-%d = %q, want %q", n, msh[n-1], v)
		}
	}
	if msh[9] == "" || msh[9] == "MSG00001" {
		t.Errorf("MSH-10 = %q: the ACK needs a control ID of its own", msh[9])
	}
	if got := strings.Join(s[1], "|"); got != "MSA|AA|MSG00001" {
		t.Errorf("MSA = %q", got)
	}
	// The ACK is itself a message whose header reads back.
	back, err := ReadHeader(ack[4:])
	if err != nil || back.ControlID != msh[9] || back.Type != "ACK^A01^ACK" || back.SendingApplication != "CALGW" {
		t.Errorf("ACK header reads back as %+v, %v", back, err)
	}

	for _, code := range []string{AckError, AckReject} {
		t.Run(code, func(t *testing.T) {
			reason := "PID-3 missing | bad ^ & ~ \\ chars\r\nsecond line"
			s := segs(t, AppendACK(nil, h, code, reason, now), "|")
			if len(s) != 3 {
				t.Fatalf("want MSH, MSA, ERR: %q", s)
			}
			escaped := `PID-3 missing \F\ bad \S\ \T\ \R\ \E\ chars  second line`
			if s[1][0] != "MSA" || s[1][1] != code || s[1][2] != "MSG00001" || s[1][3] != escaped {
				t.Errorf("MSA = %q", s[1])
			}
			// v2.5 ERR: ERR-3 code (CWE), ERR-4 severity, ERR-8 user message.
			err := s[2]
			if err[0] != "ERR" || len(err) != 9 || err[3] != "207^Application internal error^HL70357" || err[4] != "E" || err[8] != escaped {
				t.Errorf("ERR = %q", err)
			}
		})
	}

	t.Run("v2.3 ERR-1, other delimiters, long text cut", func(t *testing.T) {
		h, err := ReadHeader([]byte("MSH#$*!@#APP#FAC#ME#MYFAC#2026##ADT$A03#C9#T#2.3\r"))
		if err != nil {
			t.Fatal(err)
		}
		long := strings.Repeat("x", 79) + "é" // the cut may not split é
		s := segs(t, AppendACK(nil, h, AckError, long, now), "#")
		if s[0][1] != "$*!@" || s[0][2] != "ME" || s[0][4] != "APP" || s[0][8] != "ACK$A03" || s[0][11] != "2.3" {
			t.Errorf("MSH = %q", s[0])
		}
		if s[1][3] != strings.Repeat("x", 79) {
			t.Errorf("MSA-3 = %q", s[1][3])
		}
		if want := "$$$207@" + strings.Repeat("x", 79) + "@HL70357"; len(s[2]) != 2 || s[2][1] != want {
			t.Errorf("ERR = %q, want ERR-1 %q", s[2], want)
		}
	})

	t.Run("no header: default delimiters, MSA-2 empty", func(t *testing.T) {
		s := segs(t, AppendACK(nil, Header{}, AckReject, "frame too large", now), "|")
		if strings.Join(s[0][:2], "|") != `MSH|^~\&` || s[0][8] != "ACK" || s[1][1] != "AR" || s[1][2] != "" || s[1][3] != "frame too large" {
			t.Errorf("ACK = %q", s)
		}
	})
}

func ExampleAppendACK() {
	h, _ := ReadHeader([]byte("MSH|^~\\&|LAB|HOSP|CALGW|PLAN|20260301||ADT^A08^ADT_A01|M42|P|2.5\rPID|1\r"))
	ack := AppendACK(nil, h, AckAccept, "", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	fmt.Println(strings.ReplaceAll(string(ack), "\r", "\n"))
	// Output:
	// MSH|^~\&|CALGW|PLAN|LAB|HOSP|20260301120000+0000||ACK^A08^ACK|Adgrfgbt3myo0|P|2.5
	// MSA|AA|M42
}

// MSH-12 goes back byte for byte as the message wrote it: every component
// of the VID, escape sequences kept in the message's delimiters.
func TestAppendACKVersionAsReceived(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC)
	for _, v := range []string{"2.8^USA", `2.5.1^US\T\CA`, `2.5.1\E\`} {
		t.Run(v, func(t *testing.T) {
			msg := "MSH|^~\\&|APP|FAC|CALGW|PLAN|20260301120000||ADT^A01^ADT_A01|M1|P|" + v + "\rPID|1\r"
			h, err := ReadHeader([]byte(msg))
			if err != nil {
				t.Fatal(err)
			}
			ack := AppendACK(nil, h, AckError, "x", now)
			if got := segs(t, ack, "|")[0][11]; got != v {
				t.Errorf("ACK MSH-12 = %q, want %q as received", got, v)
			}
			m, err := NewReader(strings.NewReader(string(ack))).Next()
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckEscapes(m.Segments[0].Field(12).Bytes(), m.Delimiters); err != nil {
				t.Errorf("ACK %q: MSH-12: %v", ack, err)
			}
		})
	}
}

// The ACK copies MSH-3 to MSH-6 and MSA-2 from the message in the message's
// character set, so it declares that character set in MSH-18 as the
// message did; without MSH-18 (ASCII) the ACK's MSH ends at MSH-12.
func TestAppendACKCharacterSet(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC)
	msg := "MSH|^~\\&|APP|SAINT JOSÉ|CALGW|PLAN|20260301120000||ADT^A01^ADT_A01|M1|P|2.5.1|||AL|NE||UNICODE UTF-8\rPID|1\r"
	h, err := ReadHeader([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	msh := segs(t, AppendACK(nil, h, AckAccept, "", now), "|")[0]
	if len(msh) != 18 || msh[17] != "UNICODE UTF-8" || msh[5] != "SAINT JOSÉ" {
		t.Fatalf("ACK MSH = %q, want MSH-18 %q", msh, "UNICODE UTF-8")
	}
	for _, f := range msh[12:17] {
		if f != "" {
			t.Errorf("ACK MSH = %q: MSH-13 to MSH-17 should be empty", msh)
		}
	}
	h, _ = ReadHeader([]byte(ackA01))
	if msh := segs(t, AppendACK(nil, h, AckAccept, "", now), "|")[0]; len(msh) != 12 {
		t.Errorf("ACK MSH without a character set = %q, want 12 fields", msh)
	}
}

// From v2.7 MSH-2 may have a fifth character, the truncation character; in
// a value it is written \P\ like the other delimiters.
func TestAppendACKEscapesTruncationCharacter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC)
	h, err := ReadHeader([]byte("MSH|^~\\&#|APP|FAC|CALGW|PLAN|20260301120000||ADT^A01^ADT_A01|M1|P|2.7\r"))
	if err != nil {
		t.Fatal(err)
	}
	s := segs(t, AppendACK(nil, h, AckError, "bed #4 unknown #", now), "|")
	if want := `bed \P\4 unknown \P\`; s[1][3] != want || s[2][8] != want {
		t.Errorf("MSA-3 %q, ERR-8 %q, want %q", s[1][3], s[2][8], want)
	}
}

// A reason holding segment or MLLP frame bytes cannot end the ACK's MSA
// segment or its frame: they are written as spaces.
func TestAppendACKTextKeepsItsFrame(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC)
	h, err := ReadHeader([]byte(ackA01))
	if err != nil {
		t.Fatal(err)
	}
	ack := AppendACK(nil, h, AckError, "a\rb\nc\x0bd\x1ce", now)
	if bytes.ContainsAny(ack, "\x0b\x1c") {
		t.Errorf("ACK holds a frame byte: %q", ack)
	}
	if s := segs(t, ack, "|"); len(s) < 2 || s[1][3] != "a b c d e" {
		t.Errorf("segments %q, want MSA-3 \"a b c d e\"", s)
	}
}

// An MSH-2 of two characters (no escape character, no subcomponent
// separator): the ACK declares the same MSH-2, writes the delimiters of its
// text as spaces (they cannot be escaped) and, in a v2.3 ERR-1, the error
// code alone (no subcomponents).
func TestAppendACKShortEncodingCharacters(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC)
	h, err := ReadHeader([]byte("MSH|^~|APP|FAC|CALGW|PLAN|20260301120000||ADT^A01|M1|P|2.3\r"))
	if err != nil {
		t.Fatal(err)
	}
	ack := string(AppendACK(nil, h, AckError, `PID-3 a|b^c~d\e&f`, now))
	want := "MSH|^~|CALGW|PLAN|APP|FAC|20260301120005+0000||ACK^A01|"
	if !strings.HasPrefix(ack, want) {
		t.Errorf("ACK %q, want it to start %q", ack, want)
	}
	if want := "|P|2.3\rMSA|AE|M1|PID-3 a b c d\\e&f\rERR|^^^207\r"; !strings.HasSuffix(ack, want) {
		t.Errorf("ACK %q, want it to end %q", ack, want)
	}
	if bytes.IndexByte([]byte(ack), 0) >= 0 {
		t.Errorf("ACK holds a NUL byte: %q", ack)
	}
}
