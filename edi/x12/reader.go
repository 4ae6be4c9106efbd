package x12

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Errors a Reader reports inside a *SyntaxError; test with errors.Is.
var (
	// ErrNotX12 means the input does not start with an ISA segment (after an
	// optional UTF-8 byte order mark and white space): it is not X12.
	ErrNotX12 = errors.New("not an X12 interchange: the input does not start with an ISA segment")
	// ErrBadISA means an ISA segment is too malformed to read its delimiters.
	ErrBadISA = errors.New("malformed ISA segment: cannot find its 16 elements")
	// ErrDelimiters means an ISA declares separators that cannot be used
	// (letters, digits, space, or two separators the same).
	ErrDelimiters = errors.New("ISA declares unusable delimiters")
	// ErrSegmentTooLong means a segment is longer than the maximum segment size.
	ErrSegmentTooLong = errors.New("segment longer than the maximum segment size")
	// ErrTruncated means the input ends inside a segment.
	ErrTruncated = errors.New("input ends inside a segment (no segment terminator)")
)

// SyntaxError is a problem in the structure of the input that stops the
// Reader. Its position is that of the segment it was reading.
type SyntaxError struct {
	Err        error      // ErrNotX12, ErrBadISA, ErrDelimiters, ErrSegmentTooLong or ErrTruncated
	Offset     int64      // byte offset of the segment's first byte
	Ordinal    int64      // the number the segment would have had
	Line       int64      // line of the segment's first byte
	Detail     string     // what exactly is wrong (never contains data values)
	Delimiters Delimiters // for ErrDelimiters: what the ISA declared
}

func (e *SyntaxError) Error() string {
	msg := "x12: " + e.Err.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return fmt.Sprintf("%s (segment %d, line %d, byte offset %d)", msg, e.Ordinal, e.Line, e.Offset)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// DefaultMaxSegmentSize is the default limit on the length of one segment.
const DefaultMaxSegmentSize = 1 << 20

// ReaderOption configures a Reader.
type ReaderOption func(*Reader)

// WithMaxSegmentSize sets the longest segment the Reader accepts, in bytes
// (default DefaultMaxSegmentSize); a longer one is an ErrSegmentTooLong
// instead of unbounded memory. The Reader's buffer never grows past it.
func WithMaxSegmentSize(n int) ReaderOption {
	return func(r *Reader) {
		if n > 0 && n < 1<<30 {
			r.maxSeg = n
		}
	}
}

const readChunk = 64 << 10

// Reader reads X12 segments from a stream. The delimiters come from each ISA
// segment, so a file may hold several interchanges with different ones. Line
// breaks (CR, LF, CRLF) after segment terminators are skipped, a UTF-8 byte
// order mark at the start is ignored, and memory stays bounded by the
// maximum segment size however large the input is. A Reader is not safe for
// concurrent use.
type Reader struct {
	rd      io.Reader
	buf     []byte
	r, w    int   // unread input is buf[r:w]
	scanned int   // buf[r:scanned] holds no segment terminator
	base    int64 // input offset of buf[0]
	eof     bool
	err     error
	maxSeg  int
	started bool
	ordinal int64
	line    int64
	seg     Segment
}

// NewReader returns a Reader that reads from r.
func NewReader(r io.Reader, opts ...ReaderOption) *Reader {
	x := &Reader{rd: r, maxSeg: DefaultMaxSegmentSize, line: 1}
	for _, o := range opts {
		o(x)
	}
	size := readChunk
	if x.maxSeg+1 < size {
		size = x.maxSeg + 1
	}
	x.buf = make([]byte, size)
	x.seg.ends = make([]int32, 0, 32)
	return x
}

// Delimiters returns the separators of the current interchange (zero before
// the first ISA).
func (x *Reader) Delimiters() Delimiters { return x.seg.d }

// InputOffset returns the offset of the next unread byte of the input.
func (x *Reader) InputOffset() int64 { return x.base + int64(x.r) }

// Next returns the next segment, or io.EOF after the last one. The segment
// and its slices are valid until the next call to Next. Errors are sticky:
// a *SyntaxError for malformed input, or a wrapped read error.
func (x *Reader) Next() (*Segment, error) {
	if x.err != nil {
		return nil, x.err
	}
	seg, err := x.next()
	if err != nil {
		x.err = err
		return nil, err
	}
	return seg, nil
}

func (x *Reader) syntax(err error, detail string) *SyntaxError {
	return &SyntaxError{Err: err, Offset: x.base + int64(x.r), Ordinal: x.ordinal + 1, Line: x.line, Detail: detail}
}

func (x *Reader) next() (*Segment, error) {
	if !x.started {
		if err := x.start(); err != nil {
			return nil, err
		}
	}
	// Skip line breaks between segments.
	for {
		for x.r < x.w && (x.buf[x.r] == '\n' || x.buf[x.r] == '\r') {
			if x.buf[x.r] == '\n' {
				x.line++
			}
			x.r++
		}
		if x.r < x.w {
			break
		}
		if x.eof {
			return nil, io.EOF
		}
		if err := x.fill(); err != nil {
			return nil, err
		}
	}
	if err := x.ensure(4); err != nil {
		return nil, err
	}
	if x.w-x.r >= 4 && x.buf[x.r] == 'I' && x.buf[x.r+1] == 'S' && x.buf[x.r+2] == 'A' && !isAlnum(x.buf[x.r+3]) {
		if err := x.readISA(); err != nil {
			return nil, err
		}
	}
	term := x.seg.d.Segment
	if x.scanned < x.r {
		x.scanned = x.r
	}
	var end int
	for {
		if i := bytes.IndexByte(x.buf[x.scanned:x.w], term); i >= 0 {
			end = x.scanned + i
			break
		}
		x.scanned = x.w
		if x.w-x.r > x.maxSeg {
			return nil, x.syntax(ErrSegmentTooLong, fmt.Sprintf("more than %d bytes without a segment terminator", x.maxSeg))
		}
		if x.eof {
			if isBlank(x.buf[x.r:x.w]) {
				x.r = x.w
				return nil, io.EOF
			}
			return nil, x.syntax(ErrTruncated, "")
		}
		if err := x.fill(); err != nil {
			return nil, err
		}
	}
	if end-x.r > x.maxSeg {
		return nil, x.syntax(ErrSegmentTooLong, fmt.Sprintf("%d bytes, limit %d", end-x.r, x.maxSeg))
	}
	data := x.buf[x.r:end]
	s := &x.seg
	x.ordinal++
	s.Ordinal = x.ordinal
	s.Offset = x.base + int64(x.r)
	s.Line = x.line
	if term == '\n' {
		x.line++
		if len(data) > 0 && data[len(data)-1] == '\r' {
			data = data[:len(data)-1] // CRLF with LF as the terminator
		}
	}
	if bytes.IndexByte(data, '\n') >= 0 {
		x.line += int64(bytes.Count(data, []byte{'\n'}))
	}
	es := s.d.Element
	ends := s.ends[:0]
	for i, c := range data {
		if c == es {
			ends = append(ends, int32(i))
		}
	}
	s.ends = append(ends, int32(len(data)))
	s.data = data
	x.r = end + 1
	return s, nil
}

// start skips a byte order mark and leading white space and checks that the
// input starts with ISA.
func (x *Reader) start() error {
	x.started = true
	if err := x.ensure(3); err != nil {
		return err
	}
	if x.w-x.r >= 3 && x.buf[x.r] == 0xEF && x.buf[x.r+1] == 0xBB && x.buf[x.r+2] == 0xBF {
		x.r += 3
	}
	for {
		for x.r < x.w && isSpace(x.buf[x.r]) {
			if x.buf[x.r] == '\n' {
				x.line++
			}
			x.r++
		}
		if x.r < x.w || x.eof {
			break
		}
		if err := x.fill(); err != nil {
			return err
		}
	}
	if err := x.ensure(4); err != nil {
		return err
	}
	if x.w-x.r < 4 || string(x.buf[x.r:x.r+3]) != "ISA" || isAlnum(x.buf[x.r+3]) {
		return x.syntax(ErrNotX12, "")
	}
	return nil
}

// isaScan bounds how far readISA looks for the 16 element separators; a
// conforming ISA is 106 bytes.
const isaScan = 512

// readISA reads the delimiters declared by the ISA segment at buf[r:].
func (x *Reader) readISA() error {
	if err := x.ensure(isaScan); err != nil {
		return err
	}
	b := x.buf[x.r:x.w]
	if len(b) > isaScan {
		b = b[:isaScan]
	}
	es := b[3]
	var seps [16]int
	n := 0
	for i := 3; i < len(b) && n < 16; i++ {
		if b[i] == es {
			seps[n] = i
			n++
		}
	}
	if n < 16 || seps[15]+2 >= len(b) {
		if x.eof && n == 16 {
			return x.syntax(ErrTruncated, "input ends inside the ISA segment")
		}
		return x.syntax(ErrBadISA, fmt.Sprintf("found %d of 16 element separators", n))
	}
	d := Delimiters{Element: es, Component: b[seps[15]+1], Segment: b[seps[15]+2]}
	isa11 := b[seps[9]+1 : seps[10]]
	isa12 := b[seps[10]+1 : seps[11]]
	if len(isa11) == 1 && string(isa12) >= "00402" {
		c := isa11[0]
		if !isAlnum(c) && !isSpace(c) && c != d.Element && c != d.Component && c != d.Segment {
			d.Repetition = c
		}
	}
	if es == '\r' || es == '\n' || d.Component == '\r' || d.Component == '\n' {
		return &SyntaxError{Err: ErrDelimiters, Offset: x.base + int64(x.r), Ordinal: x.ordinal + 1, Line: x.line,
			Detail: "a line break cannot be an element or component separator", Delimiters: d}
	}
	if err := d.Validate(); err != nil {
		return &SyntaxError{Err: ErrDelimiters, Offset: x.base + int64(x.r), Ordinal: x.ordinal + 1, Line: x.line,
			Detail: err.Error(), Delimiters: d}
	}
	x.seg.d = d
	x.scanned = x.r // the terminator may have changed
	return nil
}

// ensure tries to have at least n unread bytes buffered; fewer only at EOF.
func (x *Reader) ensure(n int) error {
	for x.w-x.r < n && !x.eof {
		if err := x.fill(); err != nil {
			return err
		}
	}
	return nil
}

// fill reads more input, sliding or growing the buffer as needed.
func (x *Reader) fill() error {
	if x.w == len(x.buf) {
		if x.r > 0 {
			n := copy(x.buf, x.buf[x.r:x.w])
			x.base += int64(x.r)
			x.scanned -= x.r
			if x.scanned < 0 {
				x.scanned = 0
			}
			x.w = n
			x.r = 0
		} else {
			size := 2 * len(x.buf)
			if size > x.maxSeg+1 {
				size = x.maxSeg + 1
			}
			if size < isaScan {
				size = isaScan
			}
			if size <= len(x.buf) {
				return nil // full: the caller reports the oversize segment
			}
			nb := make([]byte, size)
			copy(nb, x.buf[:x.w])
			x.buf = nb
		}
	}
	for tries := 0; tries < 100; tries++ {
		n, err := x.rd.Read(x.buf[x.w:])
		x.w += n
		if err == io.EOF {
			x.eof = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("x12: read at byte offset %d: %w", x.base+int64(x.w), err)
		}
		if n > 0 {
			return nil
		}
	}
	return fmt.Errorf("x12: read: %w", io.ErrNoProgress)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// isBlank reports whether b holds only what may trail a file: white space,
// NUL padding and a DOS end-of-file mark.
func isBlank(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) && c != 0 && c != 0x1A {
			return false
		}
	}
	return true
}
