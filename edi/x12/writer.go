package x12

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Writer writes X12 segments to an io.Writer. It owns the envelopes: the
// SE, GE and IEA counts are computed from what was written, never passed in
// by a caller. A Writer is not safe for concurrent use.
//
// The first error sticks: later calls return it and write nothing, so a
// caller may check the error once, at Close or EndInterchange.
type Writer struct {
	bw     *bufio.Writer
	d      Delimiters
	suffix string // written after each segment terminator ("" or "\n")
	err    error

	isaControl string // ISA13 of the open interchange
	gsControl  string // GS06 of the open group
	stControl  string // ST02 of the open transaction set
	groups     int    // GS segments in the open interchange
	sets       int    // ST segments in the open group
	segs       int    // segments in the open transaction set, ST and SE included
	state      writerState
	bare       bool // a set writer (NewSetWriter): no envelopes
}

type writerState uint8

const (
	stateNone writerState = iota
	stateInterchange
	stateGroup
	stateTransaction
)

// WriterOption configures a Writer.
type WriterOption func(*Writer)

// WithNewlines writes a line feed after every segment terminator. Many
// partners accept it and it makes files readable; it is not part of the data.
func WithNewlines() WriterOption { return func(w *Writer) { w.suffix = "\n" } }

// NewWriter returns a Writer using delimiters d.
func NewWriter(w io.Writer, d Delimiters, opts ...WriterOption) *Writer {
	wr := &Writer{bw: bufio.NewWriterSize(w, 64<<10), d: d}
	for _, o := range opts {
		o(wr)
	}
	if err := d.Validate(); err != nil {
		wr.err = err
	}
	return wr
}

// Delimiters returns the separators the Writer uses.
func (w *Writer) Delimiters() Delimiters { return w.d }

// SetDelimiters makes the Writer use d from its next interchange on. It
// fails, changing nothing, when d cannot separate a 00501 interchange
// (Validate00501), and fails the Writer when an interchange is open.
func (w *Writer) SetDelimiters(d Delimiters) error {
	if w.err != nil {
		return w.err
	}
	if w.state != stateNone || w.bare {
		w.err = fmt.Errorf("%w: delimiters changed inside an interchange", errState)
		return w.err
	}
	if err := d.Validate00501(); err != nil {
		return err
	}
	w.d = d
	return nil
}

// Err returns the first error the Writer met, if any.
func (w *Writer) Err() error { return w.err }

// Composite joins components with the component separator, dropping trailing
// empty components. It does not check the components for delimiters:
// Segment does that for the whole element.
func (w *Writer) Composite(components ...string) string {
	n := len(components)
	for n > 0 && components[n-1] == "" {
		n--
	}
	switch n {
	case 0:
		return ""
	case 1:
		return components[0]
	}
	var b strings.Builder
	for i, c := range components[:n] {
		if i > 0 {
			b.WriteByte(w.d.Component)
		}
		b.WriteString(c)
	}
	return b.String()
}

// Segment writes one segment. Trailing empty elements are dropped, as X12
// requires. An element that holds a segment, element or repetition separator
// is an error (the component separator is allowed: it builds composites).
func (w *Writer) Segment(id string, elements ...string) error {
	return w.segment(id, true, elements)
}

// segment writes a segment; check=false skips the delimiter check, for the
// ISA, whose ISA11 and ISA16 are the separators themselves.
func (w *Writer) segment(id string, check bool, elements []string) error {
	if w.err != nil {
		return w.err
	}
	if len(id) < 2 || len(id) > 3 {
		w.err = fmt.Errorf("x12: segment id %q: must be 2 or 3 characters", id)
		return w.err
	}
	n := len(elements)
	for n > 0 && elements[n-1] == "" {
		n--
	}
	for i, e := range elements[:n] {
		if !check {
			break
		}
		for j := 0; j < len(e); j++ {
			if c := e[j]; c == w.d.Segment || c == w.d.Element || (c == w.d.Repetition && c != 0) {
				w.err = fmt.Errorf("x12: %s%02d holds a delimiter %q at byte %d", id, i+1, c, j)
				return w.err
			}
		}
	}
	w.bw.WriteString(id)
	for _, e := range elements[:n] {
		w.bw.WriteByte(w.d.Element)
		w.bw.WriteString(e)
	}
	w.bw.WriteByte(w.d.Segment)
	if w.suffix != "" {
		w.bw.WriteString(w.suffix)
	}
	if w.state == stateTransaction {
		w.segs++
	}
	return nil
}

// SetWriter returns a Writer to out of bare transaction sets, ST to SE,
// with no envelope around them (BeginTransaction, Segment and
// EndTransaction only), with w's delimiters and line ends: what it writes
// goes into a group of w through AppendSets.
func (w *Writer) SetWriter(out io.Writer) *Writer {
	wr := &Writer{bw: bufio.NewWriterSize(out, 64<<10), d: w.d, suffix: w.suffix, err: w.err,
		state: stateGroup, bare: true}
	return wr
}

// AppendSets copies into the open group n complete transaction sets, as a
// set writer of w (SetWriter) wrote them; GE01 counts them.
func (w *Writer) AppendSets(r io.Reader, n int) error {
	if w.err != nil {
		return w.err
	}
	if w.state != stateGroup || w.bare {
		w.err = fmt.Errorf("%w: transaction sets appended outside a group", errState)
		return w.err
	}
	if _, err := io.Copy(w.bw, r); err != nil {
		w.err = fmt.Errorf("x12: append transaction sets: %w", err)
		return w.err
	}
	w.sets += n
	return nil
}

// InterchangeHeader holds the ISA values a sender chooses. Fixed-width
// fields are padded by the Writer.
type InterchangeHeader struct {
	AuthQualifier     string    // ISA01, "00" when ISA02 is empty
	AuthInfo          string    // ISA02, up to 10 characters
	SecurityQualifier string    // ISA03, "00" when ISA04 is empty
	SecurityInfo      string    // ISA04, up to 10 characters
	SenderQualifier   string    // ISA05, e.g. "ZZ" (mutually defined) or "30" (federal tax ID)
	SenderID          string    // ISA06, up to 15 characters
	ReceiverQualifier string    // ISA07
	ReceiverID        string    // ISA08, up to 15 characters
	Date              time.Time // ISA09 (YYMMDD) and ISA10 (HHMM)
	Version           string    // ISA12, "00501" when empty
	ControlNumber     int64     // ISA13, 1..999999999
	AckRequested      bool      // ISA14
	Usage             string    // ISA15, "P" production or "T" test
}

// GroupHeader holds the GS values.
type GroupHeader struct {
	FunctionalID  string    // GS01, e.g. "HC" for 837, "BE" for 834, "FA" for 999
	SenderCode    string    // GS02, application sender's code
	ReceiverCode  string    // GS03, application receiver's code
	Date          time.Time // GS04 (CCYYMMDD) and GS05 (HHMM)
	ControlNumber int64     // GS06, 1..999999999
	Version       string    // GS08, e.g. "005010X222A1"
}

var errState = errors.New("x12: envelope call out of order")

func fixed(s string, n int) string {
	if len(s) >= n {
		return s[:n]
	}
	return s + strings.Repeat(" ", n-len(s))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// BeginInterchange writes the ISA segment.
func (w *Writer) BeginInterchange(h InterchangeHeader) error {
	if w.err != nil {
		return w.err
	}
	if w.state != stateNone || w.bare {
		w.err = fmt.Errorf("%w: ISA inside an open interchange", errState)
		return w.err
	}
	if h.ControlNumber < 1 || h.ControlNumber > 999999999 {
		w.err = fmt.Errorf("x12: ISA13 control number %d out of range 1..999999999", h.ControlNumber)
		return w.err
	}
	if len(h.SenderID) > 15 || len(h.ReceiverID) > 15 {
		w.err = fmt.Errorf("x12: ISA06/ISA08 longer than 15 characters")
		return w.err
	}
	ack := "0"
	if h.AckRequested {
		ack = "1"
	}
	rep := string([]byte{w.d.Repetition})
	version := orDefault(h.Version, "00501")
	if version < "00402" {
		rep = "U" // ISA11 was the standards identifier before 004020
	}
	control := fmt.Sprintf("%09d", h.ControlNumber)
	w.isaControl = control
	w.groups = 0
	w.state = stateInterchange
	fields := []string{
		orDefault(h.AuthQualifier, "00"), fixed(h.AuthInfo, 10),
		orDefault(h.SecurityQualifier, "00"), fixed(h.SecurityInfo, 10),
		fixed(h.SenderQualifier, 2), fixed(h.SenderID, 15),
		fixed(h.ReceiverQualifier, 2), fixed(h.ReceiverID, 15),
		h.Date.Format("060102"), h.Date.Format("1504"),
		rep, version, control, ack, orDefault(h.Usage, "P"),
		string([]byte{w.d.Component})}
	for i, f := range fields {
		if i != 10 && i != 15 && strings.ContainsAny(f, string([]byte{w.d.Element, w.d.Segment, w.d.Component})) {
			w.err = fmt.Errorf("x12: ISA%02d %q holds a delimiter", i+1, f)
			return w.err
		}
	}
	return w.segment("ISA", false, fields)
}

// BeginGroup writes a GS segment.
func (w *Writer) BeginGroup(g GroupHeader) error {
	if w.err != nil {
		return w.err
	}
	if w.state != stateInterchange {
		w.err = fmt.Errorf("%w: GS outside an interchange or inside a group", errState)
		return w.err
	}
	if g.ControlNumber < 1 || g.ControlNumber > 999999999 {
		w.err = fmt.Errorf("x12: GS06 control number %d out of range 1..999999999", g.ControlNumber)
		return w.err
	}
	w.gsControl = strconv.FormatInt(g.ControlNumber, 10)
	w.sets = 0
	w.groups++
	w.state = stateGroup
	return w.Segment("GS", g.FunctionalID, g.SenderCode, g.ReceiverCode,
		g.Date.Format("20060102"), g.Date.Format("1504"), w.gsControl, "X", g.Version)
}

// BeginTransaction writes an ST segment. control is ST02 (4 to 9
// characters; the Writer pads a short number to 4 digits). reference is
// ST03, the implementation convention reference (empty for 004050 and
// earlier guides that do not use it).
func (w *Writer) BeginTransaction(id string, control int64, reference string) error {
	if w.err != nil {
		return w.err
	}
	if w.state != stateGroup {
		w.err = fmt.Errorf("%w: ST outside a group or inside a transaction set", errState)
		return w.err
	}
	if control < 1 || control > 999999999 {
		w.err = fmt.Errorf("x12: ST02 control number %d out of range", control)
		return w.err
	}
	w.stControl = fmt.Sprintf("%04d", control)
	w.sets++
	w.segs = 0
	w.state = stateTransaction
	return w.Segment("ST", id, w.stControl, reference)
}

// TransactionSegments is the number of segments written in the open
// transaction set so far, ST included.
func (w *Writer) TransactionSegments() int { return w.segs }

// EndTransaction writes the SE segment with the segment count.
func (w *Writer) EndTransaction() error {
	if w.err != nil {
		return w.err
	}
	if w.state != stateTransaction {
		w.err = fmt.Errorf("%w: SE without ST", errState)
		return w.err
	}
	if err := w.Segment("SE", strconv.Itoa(w.segs+1), w.stControl); err != nil {
		return err
	}
	w.state = stateGroup
	return nil
}

// EndGroup writes the GE segment with the transaction set count.
func (w *Writer) EndGroup() error {
	if w.err != nil {
		return w.err
	}
	if w.state != stateGroup || w.bare {
		w.err = fmt.Errorf("%w: GE without GS or with an open transaction set", errState)
		return w.err
	}
	w.state = stateInterchange
	return w.Segment("GE", strconv.Itoa(w.sets), w.gsControl)
}

// EndInterchange writes the IEA segment and flushes the buffer.
func (w *Writer) EndInterchange() error {
	if w.err != nil {
		return w.err
	}
	if w.state != stateInterchange {
		w.err = fmt.Errorf("%w: IEA without ISA or with an open group", errState)
		return w.err
	}
	w.state = stateNone
	if err := w.Segment("IEA", strconv.Itoa(w.groups), w.isaControl); err != nil {
		return err
	}
	return w.Flush()
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("x12: flush: %w", err)
	}
	return w.err
}
