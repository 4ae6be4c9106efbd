package hl7

import (
	"fmt"
	"strings"
)

// Error is a problem in the input, placed by input line, message (MSH-10 and
// its ordinal), segment and its position, and field. The reader can go on
// after an Error: the next call to Next reads what follows.
type Error struct {
	Line int
	// Message is the MSH-10 of the message, "" outside a message or when
	// the MSH has none; MessageIndex its ordinal in the input (0 outside).
	Message      string
	MessageIndex int
	Segment      string
	// Position is the segment's place in its message (1 = MSH), 0 for
	// file and batch segments.
	Position int
	// Field is 0 when the problem is the whole segment.
	Field  int
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d", e.Line)
	if e.MessageIndex > 0 {
		fmt.Fprintf(&b, ": message %d", e.MessageIndex)
		if e.Message != "" {
			fmt.Fprintf(&b, " (MSH-10 %q)", e.Message)
		}
	}
	if e.Segment != "" {
		fmt.Fprintf(&b, ", segment %s", e.Segment)
	} else if e.Position > 0 {
		b.WriteString(", segment")
	}
	if e.Position > 0 {
		fmt.Fprintf(&b, " #%d", e.Position)
	}
	if e.Field > 0 {
		fmt.Fprintf(&b, ", field %s-%d", e.Segment, e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// ErrorAt returns an Error for a field of a segment of m.
func ErrorAt(m *Message, s *Segment, field int, reason string) *Error {
	e := &Error{Field: field, Reason: reason}
	if m != nil {
		e.Message, e.MessageIndex, e.Line = m.ControlID(), m.Index, m.Line
	}
	if s != nil {
		e.Segment, e.Position, e.Line = s.Name, s.Position, s.Line
	}
	return e
}
