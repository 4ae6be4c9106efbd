package x12

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"runtime"
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

// Position is a place between two segments of the input: the input offset
// of the next byte, the ordinal of the last segment read and the line the
// input is on.
type Position struct {
	Offset  int64
	Ordinal int64
	Line    int64
}

// WithStart makes a Reader read from the middle of an interchange: its
// io.Reader starts at p.Offset, a place between two segments (as Position
// returns it), and the separators there are d. Segments are numbered on
// from p.Ordinal and lines from p.Line, so that what the Reader returns is
// what one that read from the start would return from p on.
func WithStart(p Position, d Delimiters) ReaderOption {
	return func(r *Reader) {
		r.started = true
		r.base, r.ordinal, r.line = p.Offset, p.Ordinal, p.Line
		r.setDelimiters(d)
	}
}

// Reader reads X12 segments from a stream. The delimiters come from each ISA
// segment, so a file may hold several interchanges with different ones. Line
// breaks (CR, LF, CRLF) after segment terminators are skipped; so are spaces
// and tabs before a segment (indented input) and a UTF-8 byte order mark at
// the start, which the segment after them notes (Segment.Indented,
// Segment.BOM). Memory stays bounded by the
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
	pad     uint8      // what was skipped before the next segment (padBOM, padSpace)
	skipTab bool       // a tab is not a separator: it is white space between segments
	class   [256]uint8 // byte classes for the current delimiters
	splat   splat      // the current delimiters, each in every byte of a word

	// ends holds the element ends of the segments from endsBase on: of the
	// last segment only (endsBase 0), or of a batch (read-ahead).
	ends     []int32
	endsBase int

	// Read-ahead (see WithReadAhead).
	aheadOK    bool
	aheadAfter int64
	ahead      *readAhead // the consumer's side, non-nil once the producer started
	prod       *producer  // the producer's side, on its goroutine
	short      bool       // the last read returned less than asked: a stream
}

// Byte classes for splitting a segment.
const (
	classElement = 1 // the element separator
	classSpecial = 2 // a component or repetition separator, or not printable ASCII
)

// splat holds the delimiters for split, each copied into all eight bytes.
type splat struct{ es, cs, rs, ts uint64 }

func (x *Reader) setDelimiters(d Delimiters) {
	x.seg.d = d
	x.splat = splat{es: uint64(d.Element) * one, cs: uint64(d.Component) * one, rs: uint64(d.Repetition) * one, ts: uint64(d.Segment) * one}
	if d.Repetition == 0 {
		x.splat.rs = x.splat.cs
	}
	for c := range x.class {
		x.class[c] = 0
		if c < 0x20 || c > 0x7e {
			x.class[c] = classSpecial
		}
	}
	x.class[d.Component] = classSpecial
	if d.Repetition != 0 {
		x.class[d.Repetition] = classSpecial
	}
	x.class[d.Element] = classElement
	x.skipTab = !d.IsDelimiter('\t')
}

// NewReader returns a Reader that reads from r.
func NewReader(r io.Reader, opts ...ReaderOption) *Reader {
	x := &Reader{rd: r, maxSeg: DefaultMaxSegmentSize, line: 1}
	for _, o := range opts {
		o(x)
	}
	if x.aheadOK && runtime.GOMAXPROCS(0) < 2 {
		x.aheadOK = false // nothing to gain
	}
	size := readChunk
	if x.maxSeg+1 < size {
		size = x.maxSeg + 1
	}
	x.buf = make([]byte, size)
	x.ends = make([]int32, 0, 32)
	return x
}

// Delimiters returns the separators of the current interchange (zero before
// the first ISA).
func (x *Reader) Delimiters() Delimiters {
	if x.ahead != nil {
		return x.ahead.seg.d
	}
	return x.seg.d
}

// InputOffset returns the offset of the next unread byte of the input: just
// past the last segment returned (or past what the error returned was
// about).
func (x *Reader) InputOffset() int64 {
	if x.ahead != nil {
		return x.ahead.offset
	}
	return x.inputOffset()
}

func (x *Reader) inputOffset() int64 { return x.base + int64(x.r) }

// Position returns the place just past the last segment returned, where a
// Reader made WithStart would carry on. It is for a Reader without
// read-ahead (it panics once reading ahead has started).
func (x *Reader) Position() Position {
	if x.ahead != nil {
		panic("x12: Position of a Reader reading ahead")
	}
	return Position{Offset: x.inputOffset(), Ordinal: x.ordinal, Line: x.line}
}

// Next returns the next segment, or io.EOF after the last one. The segment
// and its slices are valid until the next call to Next. Errors are sticky:
// a *SyntaxError for malformed input, or a wrapped read error.
func (x *Reader) Next() (*Segment, error) {
	if x.err != nil {
		return nil, x.err
	}
	return x.next()
}

// fail makes err sticky.
func (x *Reader) fail(err error) (*Segment, error) {
	x.err = err
	return nil, err
}

func (x *Reader) syntax(err error, detail string) *SyntaxError {
	return &SyntaxError{Err: err, Offset: x.base + int64(x.r), Ordinal: x.ordinal + 1, Line: x.line, Detail: detail}
}

func (x *Reader) next() (*Segment, error) {
	if x.aheadOK {
		if x.ahead != nil {
			return x.nextAhead()
		}
		if x.base+int64(x.w) >= x.aheadAfter {
			x.startAhead()
			return x.nextAhead()
		}
	}
	if !x.started {
		if err := x.start(); err != nil {
			return x.fail(err)
		}
	}
	// Skip line breaks between segments, and the spaces and tabs of
	// indented (pretty-printed) input, noted in the segment.
	for {
		for x.r < x.w {
			c := x.buf[x.r]
			if c == '\n' {
				x.line++
			} else if c != '\r' {
				if c != ' ' && (c != '\t' || !x.skipTab) {
					break
				}
				x.pad |= padSpace
			}
			x.r++
		}
		if x.r < x.w {
			break
		}
		if x.eof {
			return x.fail(io.EOF)
		}
		if err := x.fill(); err != nil {
			return x.fail(err)
		}
	}
	if x.buf[x.r] == 'I' {
		if err := x.ensure(4); err != nil {
			return x.fail(err)
		}
		if x.w-x.r >= 4 && x.buf[x.r+1] == 'S' && x.buf[x.r+2] == 'A' && !isAlnum(x.buf[x.r+3]) {
			if err := x.readISA(); err != nil {
				return x.fail(err)
			}
		}
	}
	term := x.seg.d.Segment
	s := &x.seg
	// Split up to the terminator in one pass over the buffered input; when
	// the segment runs past it, find the end reading on, then split.
	end, ends, special := x.split(x.buf, x.r, x.w, x.ends[x.endsBase:x.endsBase])
	if end < 0 {
		if x.scanned < x.w {
			x.scanned = x.w
		}
		for {
			if i := bytes.IndexByte(x.buf[x.scanned:x.w], term); i >= 0 {
				end = x.scanned + i
				break
			}
			x.scanned = x.w
			if x.w-x.r > x.maxSeg {
				return x.fail(x.syntax(ErrSegmentTooLong, fmt.Sprintf("more than %d bytes without a segment terminator", x.maxSeg)))
			}
			if x.eof {
				if isBlank(x.buf[x.r:x.w]) {
					x.r = x.w
					return x.fail(io.EOF)
				}
				return x.fail(x.syntax(ErrTruncated, ""))
			}
			if err := x.fill(); err != nil {
				return x.fail(err)
			}
		}
		_, ends, special = x.split(x.buf, x.r, end+1, x.ends[x.endsBase:x.endsBase])
	}
	if end-x.r > x.maxSeg {
		return x.fail(x.syntax(ErrSegmentTooLong, fmt.Sprintf("%d bytes, limit %d", end-x.r, x.maxSeg)))
	}
	data := x.buf[x.r:end]
	x.ordinal++
	s.Ordinal = x.ordinal
	s.Offset = x.base + int64(x.r)
	s.Line = x.line
	if term == '\n' {
		x.line++
		if len(data) > 0 && data[len(data)-1] == '\r' {
			data = data[:len(data)-1] // CRLF with LF as the terminator
			special = x.unmarkCR(data, ends, special)
		}
	}
	s.ends = append(ends, int32(len(data)))
	x.keepEnds(s.ends)
	s.special = special
	s.data = data
	s.pad, x.pad = x.pad, 0
	if special != 0 && bytes.IndexByte(data, '\n') >= 0 {
		x.line += int64(bytes.Count(data, []byte{'\n'}))
	}
	x.r = end + 1
	return s, nil
}

const (
	lo7 = 0x7f7f7f7f7f7f7f7f
	hi1 = 0x8080808080808080
	one = 0x0101010101010101
)

// eqBytes returns the high bit of each byte of w that equals the byte
// whose copies fill p, exactly (no false positives).
func eqBytes(w, p uint64) uint64 {
	x := w ^ p
	return ^((x&lo7 + lo7) | x | lo7)
}

// keepEnds makes x.ends end with the segment's ends, which split appended
// to x.ends[endsBase:endsBase] (into a new array if they did not fit).
func (x *Reader) keepEnds(ends []int32) {
	if x.endsBase == 0 {
		x.ends = ends
		return
	}
	if cap(ends) == cap(x.ends)-x.endsBase {
		x.ends = x.ends[:x.endsBase+len(ends)]
	} else {
		x.ends = append(x.ends[:x.endsBase], ends...)
	}
}

// unmarkCR recomputes the special bit of the last element of data, from
// which a CR was cut (CRLF with LF as the terminator): the CR made it look
// special. ends are the ends of the other elements.
func (x *Reader) unmarkCR(data []byte, ends []int32, special uint64) uint64 {
	k := min(len(ends), 63)
	if special&(1<<k) == 0 {
		return special
	}
	from := 0
	if k > 0 {
		from = int(ends[k-1]) + 1
	}
	for _, c := range data[from:] {
		if x.class[c] == classSpecial {
			return special
		}
	}
	return special &^ (1 << k)
}

// split splits the segment that starts at buf[start] up to its terminator,
// looking no further than limit. It records the end of each element in
// ends (relative to start) and returns the terminator's index (-1 when it
// is not before limit) and the elements that are not plain (bit i for
// element i). It reads eight bytes at a time: the separators are found with
// bit arithmetic, and a word with anything special in it (a component or
// repetition separator, a control or non-ASCII byte) goes through the byte
// loop.
func (x *Reader) split(buf []byte, start, limit int, ends []int32) (int, []int32, uint64) {
	es, cs, rs, ts := x.splat.es, x.splat.cs, x.splat.rs, x.splat.ts
	var special uint64
	i := start
	for ; i+8 <= limit; i += 8 {
		w := binary.LittleEndian.Uint64(buf[i:])
		keep := uint64(hi1)
		t := eqBytes(w, ts) & hi1
		if t != 0 {
			keep = ((t & -t) - 1) & hi1 // the bytes before the terminator
		}
		// Specials: below 0x20 (bit 7 of (w&0x7f)+0x60 clear), 0x7f (bit
		// 7 of (w&0x7f)+1 set), 0x80 and up (bit 7 of w set), and the
		// separators.
		low := w & lo7
		if sp := (^(low + 0x6060606060606060) | (low + one) | w | eqBytes(w, cs) | eqBytes(w, rs)) & keep; sp != 0 {
			n := 8
			if t != 0 {
				n = bits.TrailingZeros64(t) >> 3
			}
			ends, special = x.splitBytes(buf[i:i+n], i-start, ends, special)
		} else {
			for m := eqBytes(w, es) & keep; m != 0; m &= m - 1 {
				ends = append(ends, int32(i-start+bits.TrailingZeros64(m)>>3))
			}
		}
		if t != 0 {
			return i + bits.TrailingZeros64(t)>>3, ends, special
		}
	}
	term := x.seg.d.Segment
	for ; i < limit; i++ {
		c := buf[i]
		if c == term {
			return i, ends, special
		}
		if k := x.class[c]; k != 0 {
			if k == classElement {
				ends = append(ends, int32(i-start))
			} else {
				special |= 1 << min(len(ends), 63)
			}
		}
	}
	return -1, ends, special
}

// splitBytes is split one byte at a time, for b = data[off:off+len(b)].
func (x *Reader) splitBytes(b []byte, off int, ends []int32, special uint64) ([]int32, uint64) {
	for i, c := range b {
		if k := x.class[c]; k != 0 {
			if k == classElement {
				ends = append(ends, int32(off+i))
			} else {
				special |= 1 << min(len(ends), 63)
			}
		}
	}
	return ends, special
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
		x.pad |= padBOM
	}
	for {
		for x.r < x.w && isSpace(x.buf[x.r]) {
			switch x.buf[x.r] {
			case '\n':
				x.line++
			case ' ', '\t':
				x.pad |= padSpace
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
	isa11 := b[seps[10]+1 : seps[11]]
	isa12 := b[seps[11]+1 : seps[12]]
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
	x.setDelimiters(d)
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

// fill reads more input, sliding or growing the buffer as needed. The
// producer of a read-ahead slides into a new buffer instead, leaving the
// segments read to the consumer, and does so before it reads from a stream
// (whose reads are short), so that segments already read are not held back
// by a read that waits.
func (x *Reader) fill() error {
	if x.prod != nil {
		if err := x.prod.stopped(); err != nil {
			return err
		}
	}
	if x.w == len(x.buf) || (x.prod != nil && x.short && x.r > 0) {
		if x.r > 0 {
			dst := x.buf
			if x.prod != nil {
				var err error
				if dst, err = x.prod.nextChunk(); err != nil {
					return err
				}
			}
			n := copy(dst, x.buf[x.r:x.w])
			x.buf = dst
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
		x.short = n < len(x.buf)-x.w
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
