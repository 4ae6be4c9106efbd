package x12

// Segment is one segment as read by a Reader. Its byte slices are views into
// the Reader's buffer: they are valid only until the next call to Next. Copy
// what must outlive it (Clone, or ElementString for one value).
//
// Element positions are 1-based as in the implementation guides (NM103 is
// Element(3)); Element(0) is the segment ID. Component and repetition
// positions are 1-based too. Accessors return nil for anything absent, so
// seg.Element(9) on a 4-element segment is simply empty.
//
// The ISA segment is fixed-format: ISA11 is the repetition separator and
// ISA16 the component separator themselves, so read ISA values with Element,
// never Component or Repetition.
type Segment struct {
	Ordinal int64 // 1-based number of the segment in the input
	Offset  int64 // byte offset of the segment's first byte in the input
	Line    int64 // 1-based line of the segment's first byte (1 for one-line files)

	data    []byte  // the segment without its terminator
	ends    []int32 // ends[i] is the index in data just past element i (element 0 is the ID)
	special uint64  // bit i: element i is not plain (bit 63 stands for 63 and up)
	d       Delimiters
	pad     uint8 // what the Reader skipped before the segment besides line breaks
}

// What a Reader skipped before a segment, besides line breaks.
const (
	padBOM   = 1 << iota // a UTF-8 byte order mark (before the first segment)
	padSpace             // spaces or tabs
)

// Indented reports whether spaces or tabs came before the segment, after
// the previous segment's terminator (or at the start of the input): the
// Reader skipped them. X12 has no white space between segments; indented
// (pretty-printed) files have it.
func (s *Segment) Indented() bool { return s.pad&padSpace != 0 }

// Skipped reports whether the Reader skipped more than line breaks before
// the segment: Indented or BOM.
func (s *Segment) Skipped() bool { return s.pad != 0 }

// BOM reports whether the input starts with a UTF-8 byte order mark, which
// the Reader skipped, before this segment (the first).
func (s *Segment) BOM() bool { return s.pad&padBOM != 0 }

// Plain reports whether element i (0 is the ID) holds only printable ASCII
// and no component or repetition separator: a simple value with nothing to
// split or to reject for its characters. The Reader works this out while
// splitting the segment, so that a validator need not look again.
func (s *Segment) Plain(i int) bool {
	return s.special&(1<<min(uint(i), 63)) == 0
}

// ID returns the segment identifier, e.g. "NM1".
func (s *Segment) ID() []byte { return s.data[:s.ends[0]] }

// Is reports whether the segment identifier is id.
func (s *Segment) Is(id string) bool { return string(s.data[:s.ends[0]]) == id }

// Len returns the number of data elements after the segment ID, counting
// empty ones up to the last element separator.
func (s *Segment) Len() int { return len(s.ends) - 1 }

// Element returns data element i (1-based; 0 is the segment ID), or nil if
// the segment has fewer elements. Composites and repetitions are returned
// whole, separators included.
func (s *Segment) Element(i int) []byte {
	if i <= 0 {
		if i == 0 {
			return s.data[:s.ends[0]]
		}
		return nil
	}
	if i >= len(s.ends) {
		return nil
	}
	return s.data[s.ends[i-1]+1 : s.ends[i]]
}

// ElementString returns a copy of Element(i) as a string.
func (s *Segment) ElementString(i int) string { return string(s.Element(i)) }

// Component returns component j (1-based) of the first repetition of
// element i. Component(i, 1) of a simple element is the element itself.
func (s *Segment) Component(i, j int) []byte {
	e := s.Element(i)
	if s.d.Repetition != 0 {
		e = Field(e, s.d.Repetition, 1)
	}
	return Field(e, s.d.Component, j)
}

// Repetitions returns how many repetitions element i holds: 0 when it is
// empty, 1 when it does not repeat.
func (s *Segment) Repetitions(i int) int {
	e := s.Element(i)
	if len(e) == 0 {
		return 0
	}
	if s.d.Repetition == 0 {
		return 1
	}
	return CountFields(e, s.d.Repetition)
}

// Repetition returns repetition r (1-based) of element i, components
// included. Use Field with Delimiters().Component to split it.
func (s *Segment) Repetition(i, r int) []byte {
	e := s.Element(i)
	if s.d.Repetition == 0 {
		if r == 1 {
			return e
		}
		return nil
	}
	return Field(e, s.d.Repetition, r)
}

// Raw returns the segment without its terminator and where its elements
// end in it: element i (0 is the ID) is data[ends[i-1]+1:ends[i]]
// (data[:ends[0]] for the ID), and len(ends) is Len()+1. It is for loops
// over all the elements that would otherwise call Element for each; both
// slices are views, valid as long as the segment, and must not be
// modified.
func (s *Segment) Raw() (data []byte, ends []int32) { return s.data, s.ends }

// Bytes returns the whole segment without its terminator.
func (s *Segment) Bytes() []byte { return s.data }

// Delimiters returns the separators of the interchange the segment is in.
func (s *Segment) Delimiters() Delimiters { return s.d }

// Clone returns a copy of the segment that owns its memory.
func (s *Segment) Clone() *Segment {
	c := *s
	c.data = append([]byte(nil), s.data...)
	c.ends = append([]int32(nil), s.ends...)
	return &c
}

// Field returns field k (1-based) of b split at sep, or nil if b has fewer
// fields. It does not allocate.
func Field(b []byte, sep byte, k int) []byte {
	if k < 1 {
		return nil
	}
	for ; k > 1; k-- {
		i := indexByte(b, sep)
		if i < 0 {
			return nil
		}
		b = b[i+1:]
	}
	if i := indexByte(b, sep); i >= 0 {
		return b[:i]
	}
	return b
}

// CountFields returns the number of fields of b split at sep (1 for a b
// without sep, 0 for an empty b).
func CountFields(b []byte, sep byte) int {
	if len(b) == 0 {
		return 0
	}
	n := 1
	for _, c := range b {
		if c == sep {
			n++
		}
	}
	return n
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
