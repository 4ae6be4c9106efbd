package hl7

import (
	"bytes"
	"strconv"
)

// Segment is one segment of a message: its three-character ID and its bytes
// as read (without the terminator). Field numbers follow HL7: MSH-1 is the
// field separator and MSH-2 the encoding characters, so for MSH (and FHS,
// BHS) field n is the (n-1)th separated element; for other segments it is
// the nth.
type Segment struct {
	Name string
	// Line is the input line the segment starts on (1-based).
	Line int
	// Position is the segment's place in its message (1 = MSH); 0 for
	// FHS, BHS, BTS and FTS.
	Position int
	raw      []byte
	d        Delimiters
}

// NewSegment builds a segment from its bytes (as written, without a
// terminator) and the delimiters of its message.
func NewSegment(raw []byte, d Delimiters) Segment {
	name := ""
	if len(raw) >= 3 {
		name = string(raw[:3])
	}
	return Segment{Name: name, raw: raw, d: d}
}

// Bytes returns the segment as read. The slice must not be modified.
func (s *Segment) Bytes() []byte { return s.raw }

// Delimiters returns the delimiters of the segment's message.
func (s *Segment) Delimiters() Delimiters { return s.d }

func (s *Segment) header() bool {
	return s.Name == "MSH" || s.Name == "FHS" || s.Name == "BHS"
}

// Field returns field n (1-based). A field the segment does not have is
// empty.
func (s *Segment) Field(n int) Value {
	if n <= 0 {
		return Value{d: s.d, level: leaf}
	}
	if s.header() {
		switch n {
		case 1:
			return Value{b: s.raw[3:4], d: s.d, level: leaf}
		case 2:
			end := 4
			for end < len(s.raw) && s.raw[end] != s.d.Field {
				end++
			}
			return Value{b: s.raw[4:end], d: s.d, level: leaf}
		}
		n--
	}
	return Value{b: nth(s.raw, s.d.Field, n), d: s.d, level: field}
}

// Fields returns the number of the segment's last field.
func (s *Segment) Fields() int {
	n := bytes.Count(s.raw, []byte{s.d.Field})
	if s.header() {
		n++
	}
	return n
}

// Get returns the unescaped value of field, repetition, component and
// subcomponent (all 1-based): Get(3, 2, 1, 1) is PID-3[2].1.1.
func (s *Segment) Get(field, rep, comp, sub int) string {
	return s.Field(field).Rep(rep).Comp(comp).Sub(sub).String()
}

// String returns the segment as read.
func (s *Segment) String() string { return string(s.raw) }

// nth returns the nth element (0-based) of b split by sep, or nil. A sep
// of 0 (a separator MSH-2 leaves out) splits nothing.
func nth(b []byte, sep byte, n int) []byte {
	if sep == 0 {
		if n == 0 {
			return b
		}
		return nil
	}
	for ; n > 0; n-- {
		i := bytes.IndexByte(b, sep)
		if i < 0 {
			return nil
		}
		b = b[i+1:]
	}
	if i := bytes.IndexByte(b, sep); i >= 0 {
		return b[:i]
	}
	return b
}

func count(b []byte, sep byte) int {
	if len(b) == 0 {
		return 0
	}
	if sep == 0 {
		return 1
	}
	return bytes.Count(b, []byte{sep}) + 1
}

const (
	field = iota
	repetition
	component
	leaf
)

// Value is a field, a repetition, a component or a subcomponent. Rep, Comp
// and Sub go one level down; asking a field for a component reads its first
// repetition, asking for a subcomponent reads the first component.
type Value struct {
	b     []byte
	d     Delimiters
	level int
}

// Rep returns repetition i (1-based) of a field.
func (v Value) Rep(i int) Value {
	if v.level > field {
		if i == 1 {
			return v
		}
		return Value{d: v.d, level: leaf}
	}
	return Value{b: nth(v.b, v.d.Repetition, i-1), d: v.d, level: repetition}
}

// Reps returns the number of repetitions of a field (0 when empty).
func (v Value) Reps() int {
	if v.level > field {
		if len(v.b) == 0 {
			return 0
		}
		return 1
	}
	return count(v.b, v.d.Repetition)
}

// Comp returns component i (1-based).
func (v Value) Comp(i int) Value {
	if v.level < repetition {
		v = v.Rep(1)
	}
	if v.level > repetition {
		if i == 1 {
			return v
		}
		return Value{d: v.d, level: leaf}
	}
	return Value{b: nth(v.b, v.d.Component, i-1), d: v.d, level: component}
}

// Comps returns the number of components (0 when empty).
func (v Value) Comps() int {
	if v.level < repetition {
		v = v.Rep(1)
	}
	if v.level > repetition {
		return min(len(v.b), 1)
	}
	return count(v.b, v.d.Component)
}

// Sub returns subcomponent i (1-based).
func (v Value) Sub(i int) Value {
	if v.level < component {
		v = v.Comp(1)
	}
	if v.level > component {
		if i == 1 {
			return v
		}
		return Value{d: v.d, level: leaf}
	}
	return Value{b: nth(v.b, v.d.Subcomponent, i-1), d: v.d, level: leaf}
}

// Subs returns the number of subcomponents (0 when empty).
func (v Value) Subs() int {
	if v.level < component {
		v = v.Comp(1)
	}
	if v.level > component {
		return min(len(v.b), 1)
	}
	return count(v.b, v.d.Subcomponent)
}

// Bytes returns the value as written (escapes not decoded).
func (v Value) Bytes() []byte { return v.b }

// String returns the value with its escape sequences decoded. A value with
// delimiters below its level (a field with components) keeps them.
func (v Value) String() string { return Unescape(v.b, v.d) }

// Empty reports whether nothing is written.
func (v Value) Empty() bool { return len(v.b) == 0 }

// Null reports the explicit HL7 null "" (delete the value).
func (v Value) Null() bool { return len(v.b) == 2 && v.b[0] == '"' && v.b[1] == '"' }

// Int parses the value as a decimal integer.
func (v Value) Int() (int, error) { return strconv.Atoi(string(v.b)) }
