package hl7

// Message is one message: its segments from MSH to the segment before the
// next MSH, batch segment or end of input.
type Message struct {
	Delimiters Delimiters
	Segments   []Segment
	// Index is the message's ordinal in its input (1-based).
	Index int
	// Line is the input line of its MSH.
	Line int
}

// msh returns the MSH segment.
func (m *Message) msh() *Segment { return &m.Segments[0] }

// ControlID returns MSH-10.
func (m *Message) ControlID() string { return m.msh().Field(10).String() }

// Type returns MSH-9's message code and trigger event (ADT, A01).
func (m *Message) Type() (code, trigger string) {
	f := m.msh().Field(9)
	return f.Comp(1).String(), f.Comp(2).String()
}

// Version returns MSH-12's version ID (2.5.1).
func (m *Message) Version() string { return m.msh().Field(12).Comp(1).String() }

// First returns the first segment with that ID, or nil.
func (m *Message) First(name string) *Segment {
	for i := range m.Segments {
		if m.Segments[i].Name == name {
			return &m.Segments[i]
		}
	}
	return nil
}

// All returns every segment with that ID, in order.
func (m *Message) All(name string) []*Segment {
	var out []*Segment
	for i := range m.Segments {
		if m.Segments[i].Name == name {
			out = append(out, &m.Segments[i])
		}
	}
	return out
}

// Bytes returns the message as ER7 with CR segment ends.
func (m *Message) Bytes() []byte {
	n := 0
	for i := range m.Segments {
		n += len(m.Segments[i].raw) + 1
	}
	out := make([]byte, 0, n)
	for i := range m.Segments {
		out = append(out, m.Segments[i].raw...)
		out = append(out, '\r')
	}
	return out
}
