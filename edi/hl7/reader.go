package hl7

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// DefaultMaxSegment is the longest segment a Reader accepts unless told
// otherwise (an OBX can carry an encoded document).
const DefaultMaxSegment = 16 << 20

// Reader reads messages one at a time from an ER7 stream. Memory holds one
// message and a read buffer, whatever the size of the input.
type Reader struct {
	src        io.Reader
	buf        []byte
	r, w, scan int
	skipLF     bool
	line       int
	maxSegment int
	ioErr      error

	held     []byte // a segment read past the end of the previous message
	heldLine int
	hasHeld  bool

	queue    []*Error
	messages int
	// lastSize and lastSegs are the previous message's bytes and segments:
	// the next message's buffers start that large.
	lastSize, lastSegs int

	env        Delimiters // delimiters of the open file or batch
	inFile     bool
	fileLine   int
	fileBatch  int // batches opened in the file
	fileMsgs   int // messages in the file
	inBatch    bool
	batchLine  int
	batchMsgs  int
	ended      bool
	fileHeader *Segment
	batchHead  *Segment
}

// Option configures a Reader.
type Option func(*Reader)

// WithMaxSegment sets the longest segment accepted, in bytes; a longer one is
// an Error and is skipped.
func WithMaxSegment(n int) Option { return func(r *Reader) { r.maxSegment = n } }

// NewReader returns a reader of src.
func NewReader(src io.Reader, opts ...Option) *Reader {
	r := &Reader{src: src, maxSegment: DefaultMaxSegment, env: Default}
	for _, o := range opts {
		o(r)
	}
	r.buf = make([]byte, min(64<<10, r.maxSegment+2))
	return r
}

// FileHeader returns the FHS segment of the file being read, or nil.
func (r *Reader) FileHeader() *Segment { return r.fileHeader }

// BatchHeader returns the BHS segment of the batch being read, or nil.
func (r *Reader) BatchHeader() *Segment { return r.batchHead }

// Next returns the next message. At the end of input it returns io.EOF. A
// problem in the input is an *Error, after which Next can be called again;
// any other error (reading src) ends the stream.
func (r *Reader) Next() (*Message, error) {
	for {
		if len(r.queue) > 0 {
			e := r.queue[0]
			r.queue = r.queue[1:]
			return nil, e
		}
		seg, line, err := r.segment()
		if err == errTooLong {
			return nil, r.tooLong(line, nil, 0)
		}
		if err == io.EOF {
			if r.endOfInput() {
				continue
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		name, ok := segmentName(seg)
		if !ok {
			return nil, &Error{Line: line, Reason: fmt.Sprintf("segment ID %q is not three capital letters or digits", prefix(seg))}
		}
		switch name {
		case "MSH":
			return r.message(seg, line)
		case "FHS":
			r.openFile(seg, line)
		case "BHS":
			r.openBatch(seg, line)
		case "BTS":
			r.closeBatch(seg, line)
		case "FTS":
			r.closeFile(seg, line)
		default:
			return nil, &Error{Line: line, Segment: name, Reason: "segment outside a message (no MSH before it)"}
		}
	}
}

func prefix(b []byte) []byte {
	if len(b) > 8 {
		return b[:8]
	}
	return b
}

func segmentName(seg []byte) (string, bool) {
	if len(seg) < 3 {
		return "", false
	}
	for i := 0; i < 3; i++ {
		c := seg[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "", false
		}
	}
	if seg[0] >= '0' && seg[0] <= '9' {
		return "", false
	}
	return string(seg[:3]), true
}

func (r *Reader) envError(line int, name string, field int, reason string) {
	r.queue = append(r.queue, &Error{Line: line, Segment: name, Field: field, Reason: reason})
}

func (r *Reader) envSegment(seg []byte, line int, header bool) (*Segment, bool) {
	d := r.env
	if header {
		nd, _, err := parseDelimiters(seg)
		if err != nil {
			r.envError(line, string(seg[:3]), 2, err.Error())
			return nil, false
		}
		d = nd
		r.env = d
	} else if len(seg) > 3 && seg[3] != d.Field {
		d.Field = seg[3]
	}
	s := &Segment{Name: string(seg[:3]), Line: line, raw: append([]byte(nil), seg...), d: d}
	return s, true
}

func (r *Reader) openFile(seg []byte, line int) {
	if r.inFile {
		r.envError(line, "FHS", 0, fmt.Sprintf("file header inside the file opened at line %d (no FTS before it)", r.fileLine))
		r.closeOpenBatch(line)
	}
	s, _ := r.envSegment(seg, line, true)
	r.fileHeader = s
	r.inFile, r.fileLine, r.fileBatch, r.fileMsgs = true, line, 0, 0
}

func (r *Reader) openBatch(seg []byte, line int) {
	r.closeOpenBatch(line)
	s, _ := r.envSegment(seg, line, true)
	r.batchHead = s
	r.inBatch, r.batchLine, r.batchMsgs = true, line, 0
	if r.inFile {
		r.fileBatch++
	}
}

func (r *Reader) closeOpenBatch(line int) {
	if r.inBatch {
		r.envError(line, "BHS", 0, fmt.Sprintf("batch opened at line %d has no BTS", r.batchLine))
		r.inBatch, r.batchHead = false, nil
	}
}

func (r *Reader) closeBatch(seg []byte, line int) {
	if !r.inBatch {
		r.envError(line, "BTS", 0, "batch trailer without a BHS before it")
		return
	}
	s, _ := r.envSegment(seg, line, false)
	r.checkCount(s, "batch message count", r.batchMsgs)
	r.inBatch, r.batchHead = false, nil
}

func (r *Reader) closeFile(seg []byte, line int) {
	if !r.inFile {
		r.envError(line, "FTS", 0, "file trailer without an FHS before it")
		return
	}
	r.closeOpenBatch(line)
	s, _ := r.envSegment(seg, line, false)
	switch {
	case r.fileBatch > 0:
		r.checkCount(s, "file batch count", r.fileBatch)
	case s.Field(1).String() != "0":
		// No BHS: FTS-1 is 0 (the batches, as HL7 counts them) or the
		// messages (as many senders count them).
		r.checkCount(s, "file batch count (0, or the messages: the file has no BHS)", r.fileMsgs)
	}
	r.inFile, r.fileHeader = false, nil
}

// checkCount compares field 1 of a trailer, when written, with the count.
func (r *Reader) checkCount(s *Segment, what string, got int) {
	v := s.Field(1)
	if v.Empty() {
		return
	}
	n, err := strconv.Atoi(v.String())
	if err != nil || n < 0 {
		r.envError(s.Line, s.Name, 1, fmt.Sprintf("%s %q is not a number", what, v.String()))
		return
	}
	if n != got {
		r.envError(s.Line, s.Name, 1, fmt.Sprintf("%s says %d, counted %d", what, n, got))
	}
}

// endOfInput reports (queues) what is left open at the end. It returns
// whether anything was queued.
func (r *Reader) endOfInput() bool {
	if r.ended {
		return false
	}
	r.ended = true
	line := r.line
	if r.inBatch {
		r.envError(line, "BHS", 0, fmt.Sprintf("input ends inside the batch opened at line %d (no BTS)", r.batchLine))
		r.inBatch = false
	}
	if r.inFile {
		r.envError(line, "FHS", 0, fmt.Sprintf("input ends inside the file opened at line %d (no FTS)", r.fileLine))
		r.inFile = false
	}
	return len(r.queue) > 0
}

type span struct{ start, end, line int }

// message reads the message that the MSH seg starts.
func (r *Reader) message(seg []byte, line int) (*Message, error) {
	r.messages++
	if r.inBatch {
		r.batchMsgs++
	}
	if r.inFile {
		r.fileMsgs++
	}
	m := &Message{Index: r.messages, Line: line}
	d, _, derr := parseDelimiters(seg)
	arena := make([]byte, 0, max(r.lastSize+r.lastSize/8, len(seg)+256))
	spans := make([]span, 0, max(r.lastSegs, 4))
	arena = append(arena, seg...)
	spans = append(spans, span{0, len(seg), line})
	var bad *Error
	for {
		next, nl, err := r.segment()
		if err == errTooLong {
			if bad == nil {
				bad = r.tooLong(nl, m, len(spans)+1)
			}
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		name, ok := segmentName(next)
		if ok && (name == "MSH" || name == "FHS" || name == "BHS" || name == "BTS" || name == "FTS") {
			r.hold(next, nl)
			break
		}
		if bad == nil {
			if !ok {
				bad = &Error{Line: nl, Position: len(spans) + 1, Reason: fmt.Sprintf("segment ID %q is not three capital letters or digits", prefix(next))}
			} else if derr == nil && len(next) > 3 && next[3] != d.Field {
				bad = &Error{Line: nl, Segment: name, Position: len(spans) + 1, Reason: fmt.Sprintf("%q follows the segment ID where the field separator %q belongs", next[3], d.Field)}
			}
		}
		start := len(arena)
		arena = append(arena, next...)
		spans = append(spans, span{start, len(arena), nl})
	}
	r.lastSize, r.lastSegs = len(arena), len(spans)
	m.Delimiters = d
	m.Segments = make([]Segment, len(spans))
	for i, sp := range spans {
		raw := arena[sp.start:sp.end:sp.end]
		name := ""
		if n, ok := segmentName(raw); ok {
			name = n
		}
		m.Segments[i] = Segment{Name: name, Line: sp.line, Position: i + 1, raw: raw, d: d}
	}
	if derr != nil {
		return nil, &Error{Line: line, MessageIndex: m.Index, Segment: "MSH", Position: 1, Field: 2, Reason: derr.Error()}
	}
	if bad != nil {
		bad.Message, bad.MessageIndex = m.ControlID(), m.Index
		return nil, bad
	}
	return m, nil
}

func (r *Reader) hold(seg []byte, line int) {
	r.held = append(r.held[:0], seg...)
	r.heldLine, r.hasHeld = line, true
}

var errTooLong = errors.New("segment too long")

// utf8BOM is the byte order mark some editors put at the start of a file.
var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// tooLong is the Error of a segment longer than the limit, skipped: at
// position pos of message m, or outside a message when m is nil.
func (r *Reader) tooLong(line int, m *Message, pos int) *Error {
	e := &Error{Line: line, Position: pos, Reason: fmt.Sprintf("segment longer than %d bytes, skipped", r.maxSegment)}
	if m != nil {
		e.MessageIndex = m.Index
	}
	return e
}

// segment returns the next non-empty segment (valid until the next call)
// and its line, without a UTF-8 byte order mark starting the input;
// errTooLong, with its line, for one longer than the limit.
func (r *Reader) segment() ([]byte, int, error) {
	if r.hasHeld {
		r.hasHeld = false
		return r.held, r.heldLine, nil
	}
	for {
		b, err := r.rawLine()
		if err == errTooLong {
			return nil, r.line, errTooLong
		}
		if err != nil {
			return nil, 0, err
		}
		if r.line == 1 {
			b = bytes.TrimPrefix(b, utf8BOM) // a Windows editor's mark, not data
		}
		for len(b) > 0 && (b[0] == 0x0b || b[0] == 0x1c) {
			b = b[1:]
		}
		for len(b) > 0 && (b[len(b)-1] == 0x1c || b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
			b = b[:len(b)-1]
		}
		if len(b) == 0 {
			continue
		}
		return b, r.line, nil
	}
}

// rawLine returns the bytes up to the next CR, LF or CRLF, counting lines.
func (r *Reader) rawLine() ([]byte, error) {
	discarding := false
	for {
		if r.skipLF && r.r < r.w {
			if r.buf[r.r] == '\n' {
				r.r++
			}
			r.skipLF = false
			r.scan = max(r.scan, r.r)
		}
		for i := r.scan; i < r.w; i++ {
			c := r.buf[i]
			if c != '\r' && c != '\n' {
				continue
			}
			line := r.buf[r.r:i]
			r.r, r.scan = i+1, i+1
			if c == '\r' {
				if r.r < r.w {
					if r.buf[r.r] == '\n' {
						r.r++
						r.scan++
					}
				} else {
					r.skipLF = true
				}
			}
			r.line++
			if discarding || len(line) > r.maxSegment {
				return nil, errTooLong
			}
			return line, nil
		}
		r.scan = r.w
		if r.ioErr != nil {
			if r.ioErr == io.EOF && r.r < r.w {
				line := r.buf[r.r:r.w]
				r.r, r.scan = r.w, r.w
				r.line++
				if discarding || len(line) > r.maxSegment {
					return nil, errTooLong
				}
				return line, nil
			}
			if discarding {
				r.line++
				return nil, errTooLong
			}
			if r.ioErr == io.EOF && r.skipLF {
				r.skipLF = false
			}
			return nil, r.ioErr
		}
		if r.w-r.r > r.maxSegment {
			discarding = true
			r.r, r.scan = r.w, r.w
		}
		r.fill()
	}
}

func (r *Reader) fill() {
	if r.r > 0 {
		n := copy(r.buf, r.buf[r.r:r.w])
		r.scan -= r.r
		r.w, r.r = n, 0
	}
	if r.w == len(r.buf) {
		nb := make([]byte, min(2*len(r.buf), r.maxSegment+2))
		if len(nb) <= len(r.buf) {
			nb = make([]byte, len(r.buf)+4096)
		}
		copy(nb, r.buf[:r.w])
		r.buf = nb
	}
	for tries := 0; tries < 100; tries++ {
		n, err := r.src.Read(r.buf[r.w:])
		r.w += n
		if err != nil {
			r.ioErr = err
			return
		}
		if n > 0 {
			return
		}
	}
	r.ioErr = io.ErrNoProgress
}
