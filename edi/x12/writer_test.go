package x12

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// The trailers count what was written: SE01 the segments from ST to SE,
// GE01 the transaction sets, IEA01 the groups.
func TestWriterTrailersCountWhatWasWritten(t *testing.T) {
	tests := []struct {
		name string
		sets []int // body segments of each set
		want []string
	}{
		{"empty set", []int{0}, []string{"SE*2*0001~", "GE*1*1~", "IEA*1*000000007~"}},
		{"one set", []int{3}, []string{"SE*5*0001~", "GE*1*1~"}},
		{"two sets", []int{1, 2}, []string{"SE*3*0001~", "SE*4*0002~", "GE*2*1~", "IEA*1*000000007~"}},
	}
	when := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			w := NewWriter(&b, DefaultDelimiters, WithNewlines())
			w.BeginInterchange(InterchangeHeader{SenderQualifier: "ZZ", SenderID: "S", ReceiverQualifier: "ZZ", ReceiverID: "R", Date: when, ControlNumber: 7, Usage: "T"})
			w.BeginGroup(GroupHeader{FunctionalID: "HC", SenderCode: "S", ReceiverCode: "R", Date: when, ControlNumber: 1, Version: "005010X222A1"})
			for i, n := range tt.sets {
				w.BeginTransaction("837", int64(i+1), "005010X222A1")
				for range n {
					w.Segment("NM1", "IL", "1", "DOE")
				}
				w.EndTransaction()
			}
			w.EndGroup()
			if err := w.EndInterchange(); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.want {
				if !strings.Contains(b.String(), s+"\n") {
					t.Errorf("output lacks %q\n%s", s, b.String())
				}
			}
		})
	}
}

// TestSetWriterAppendSets: bare sets written by a set writer go into a
// group whole, with the writer's line ends, and GE01 counts them; a set
// writer writes no envelope.
func TestSetWriterAppendSets(t *testing.T) {
	when := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	var out, spool bytes.Buffer
	w := NewWriter(&out, DefaultDelimiters, WithNewlines())
	sw := w.SetWriter(&spool)
	for i := range 2 {
		sw.BeginTransaction("277", int64(i+1), "005010X214")
		sw.Segment("BHT", "0085", "08")
		sw.EndTransaction()
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "ST*277*0001*005010X214~\nBHT*0085*08~\nSE*3*0001~\nST*277*0002*005010X214~\nBHT*0085*08~\nSE*3*0002~\n"; spool.String() != want {
		t.Errorf("spool = %q, want %q", spool.String(), want)
	}
	if err := w.AppendSets(&spool, 2); err == nil {
		t.Error("sets appended outside a group")
	}
	w = NewWriter(&out, DefaultDelimiters, WithNewlines())
	w.BeginInterchange(InterchangeHeader{SenderQualifier: "ZZ", SenderID: "S", ReceiverQualifier: "ZZ", ReceiverID: "R", Date: when, ControlNumber: 7, Usage: "T"})
	w.BeginGroup(GroupHeader{FunctionalID: "HN", SenderCode: "S", ReceiverCode: "R", Date: when, ControlNumber: 1, Version: "005010X214"})
	if err := w.AppendSets(bytes.NewReader(spool.Bytes()), 2); err != nil {
		t.Fatal(err)
	}
	w.EndGroup()
	if err := w.EndInterchange(); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "SE*3*0002~\nGE*2*1~\nIEA*1*000000007~\n") {
		t.Errorf("interchange:\n%s", s)
	}
	bare := NewWriter(&bytes.Buffer{}, DefaultDelimiters).SetWriter(&bytes.Buffer{})
	if bare.EndGroup() == nil {
		t.Error("a set writer wrote a GE")
	}
}

// SetDelimiters takes effect at the next interchange, refuses separators
// that are not valid for a 00501 ISA without changing anything, and fails
// the Writer inside an open interchange.
func TestWriterSetDelimiters(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b, DefaultDelimiters)
	pipes := Delimiters{Element: '|', Repetition: '^', Component: '>', Segment: '\n'}
	for _, bad := range []Delimiters{
		{Element: '|', Repetition: 0, Component: '>', Segment: '\n'},   // no repetition separator
		{Element: '|', Repetition: '|', Component: '>', Segment: '\n'}, // twice the same
		{Element: 'A', Repetition: '^', Component: '>', Segment: '\n'}, // a letter
	} {
		if err := w.SetDelimiters(bad); err == nil || w.Err() != nil || w.Delimiters() != DefaultDelimiters {
			t.Errorf("SetDelimiters(%q): %v; writer %v %q", []byte{bad.Element, bad.Repetition, bad.Component, bad.Segment}, err, w.Err(), w.Delimiters())
		}
	}
	if err := w.SetDelimiters(pipes); err != nil {
		t.Fatal(err)
	}
	h := InterchangeHeader{SenderQualifier: "ZZ", SenderID: "A", ReceiverQualifier: "ZZ", ReceiverID: "B", ControlNumber: 7}
	if err := w.BeginInterchange(h); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); !strings.HasPrefix(got, "ISA|00|") || !strings.Contains(got, "|^|00501|000000007|0|P|>\n") {
		t.Errorf("ISA with the new delimiters: %q", got)
	}
	if err := w.SetDelimiters(DefaultDelimiters); err == nil || w.Err() == nil {
		t.Errorf("inside an interchange: %v, writer %v; want both to fail", err, w.Err())
	}
}

// Separators are bytes: one of 0x80 or above goes into ISA11 and ISA16 as
// that one byte, not as its UTF-8 encoding.
func TestWriterHighByteSeparators(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b, Delimiters{Element: '*', Repetition: 0xDE, Component: 0xBB, Segment: '~'})
	h := InterchangeHeader{SenderQualifier: "ZZ", SenderID: "A", ReceiverQualifier: "ZZ", ReceiverID: "B", ControlNumber: 7}
	if err := w.BeginInterchange(h); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); !strings.Contains(got, "*\xde*00501*000000007*0*P*\xbb~") {
		t.Errorf("ISA %q, want ISA11 0xDE and ISA16 0xBB as single bytes", got)
	}
}
