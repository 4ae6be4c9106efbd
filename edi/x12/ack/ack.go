// Package ack builds X12 acknowledgments from the results of package ig: the
// 999 implementation acknowledgment (005010X231A1) and the TA1 interchange
// acknowledgment.
//
// A Writer999 streams: attach it to the validator's options and it writes,
// for each input interchange, one acknowledgment interchange holding one 999
// per received functional group, as the validator reports them:
//
//	a := ack.New999(x12.NewWriter(out, x12.DefaultDelimiters), numbers)
//	opts := ig.Options{}
//	a.Attach(&opts)
//	_, err := ig.NewValidator(opts).Validate(ctx, in)
//	if err == nil { err = a.Err() }
//
// Control numbers come from the caller (a persistent store) through Numbers.
package ack

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
)

// Version999 is the implementation guide of the 999 this package writes.
const Version999 = "005010X231A1"

// Numbers hands out control numbers. They come from a persistent store so
// that a number is never used twice.
type Numbers interface {
	NextInterchange() (int64, error) // ISA13
	NextGroup() (int64, error)       // GS06
	NextTransaction() (int64, error) // ST02
}

// Option configures a Writer999.
type Option func(*Writer999)

// WithClock sets the clock for ISA09/ISA10 and GS04/GS05 (default time.Now).
func WithClock(now func() time.Time) Option { return func(a *Writer999) { a.now = now } }

// WithoutValues leaves out IK404, the copy of the bad data element. The copy
// goes back to the sender of the data; leave it out where even that is not
// wanted.
func WithoutValues() Option { return func(a *Writer999) { a.noValues = true } }

// WithTA1 also writes a TA1 (in an interchange of its own, after the 999s)
// for every input interchange that asked for one (ISA14 = 1) or has
// interchange-level findings.
func WithTA1() Option { return func(a *Writer999) { a.ta1 = true } }

// WithSetStatus lets the receiver say what it did with each transaction set:
// status returns IK501 for the set, given the validator's result (for
// instance E for a set it loaded while skipping the parts in error, or R
// for one it did not load). AK9 follows: AK904 counts the sets accepted
// with or without errors, and AK901 is recomputed from them unless the
// group itself is in error.
func WithSetStatus(status func(t *ig.TransactionResult) ig.Status) Option {
	return func(a *Writer999) { a.setStatus = status }
}

// WithSendersDelimiters makes the acknowledgments of each interchange
// (its 999s and TA1) use the interchange's own separators, when they are
// valid for a 00501 ISA, else the Writer's: a value an acknowledgment
// repeats from its input (a control number, a CTX value) never holds the
// input's separators, but may hold the Writer's when they differ: the
// ISA, GS, AK1 and AK2 write such a byte as a space (Echo), a CTX or IK404
// value holding one is left out. Every other value of a 999 or TA1 is letters and
// digits.
func WithSendersDelimiters() Option {
	return func(a *Writer999) { a.senders, a.own = true, a.w.Delimiters() }
}

// Writer999 writes 999 acknowledgments for the results of a validation. It
// is not safe for concurrent use. The first error sticks and is returned by
// every later call and by Err.
type Writer999 struct {
	w        *x12.Writer
	num      Numbers
	now      func() time.Time
	noValues bool
	ta1      bool
	err      error
	senders  bool           // WithSendersDelimiters
	own      x12.Delimiters // the Writer's, with WithSendersDelimiters

	setStatus func(t *ig.TransactionResult) ig.Status // nil: the validator's status
	gained    int                                     // the group's sets accepted by setStatus, less those it rejected
	withErrs  bool                                    // setStatus accepted a set of the group with errors

	in       ig.InterchangeInfo // the input interchange being acknowledged
	open     bool               // the acknowledgment interchange has begun
	setOpen  bool               // a 999 transaction set is open
	setGroup int64              // input ordinal of the GS of the group it acknowledges

	order []int // scratch: findings sorted by position
}

// New999 returns a Writer999 writing to w.
func New999(w *x12.Writer, num Numbers, opts ...Option) *Writer999 {
	a := &Writer999{w: w, num: num, now: time.Now}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Attach sets the callbacks of opts that feed the Writer999.
func (a *Writer999) Attach(opts *ig.Options) {
	opts.OnInterchangeStart = a.InterchangeStart
	opts.OnTransaction = a.Transaction
	opts.OnGroup = a.Group
	opts.OnInterchange = a.Interchange
}

// Err returns the first error met.
func (a *Writer999) Err() error { return a.err }

func (a *Writer999) fail(err error) error {
	if a.err == nil && err != nil {
		a.err = err
	}
	return a.err
}

// SetDelimiters makes the 999s of the next input interchange use d
// (x12.Writer.SetDelimiters); it fails while an acknowledgment is open.
func (a *Writer999) SetDelimiters(d x12.Delimiters) error {
	if a.err != nil {
		return a.err
	}
	if a.open {
		return fmt.Errorf("ack: delimiters changed inside an acknowledgment")
	}
	return a.w.SetDelimiters(d)
}

// InterchangeStart notes the input interchange to acknowledge.
func (a *Writer999) InterchangeStart(info *ig.InterchangeInfo) error {
	if a.err != nil {
		return a.err
	}
	a.in = *info
	if a.senders {
		d := info.Delimiters
		if d.Validate00501() != nil {
			d = a.own
		}
		return a.fail(a.SetDelimiters(d))
	}
	return nil
}

// begin writes the acknowledgment's ISA and GS, addressed back to the sender
// of the input: sender and receiver swap.
func (a *Writer999) begin(g *ig.GroupInfo) error {
	if a.open {
		return nil
	}
	isa, err := a.num.NextInterchange()
	if err != nil {
		return a.fail(fmt.Errorf("ack: interchange control number: %w", err))
	}
	gs, err := a.num.NextGroup()
	if err != nil {
		return a.fail(fmt.Errorf("ack: group control number: %w", err))
	}
	now := a.now()
	usage := a.in.Usage
	if usage != "P" && usage != "T" {
		usage = "P"
	}
	d := a.w.Delimiters()
	err = a.w.BeginInterchange(x12.InterchangeHeader{
		SenderQualifier: ReplyQualifier(a.in.ReceiverQualifier), SenderID: Echo(d, a.in.ReceiverID),
		ReceiverQualifier: ReplyQualifier(a.in.SenderQualifier), ReceiverID: Echo(d, a.in.SenderID),
		Date: now, ControlNumber: isa, Usage: usage,
	})
	if err == nil {
		err = a.w.BeginGroup(x12.GroupHeader{FunctionalID: "FA", SenderCode: Echo(d, g.ReceiverCode), ReceiverCode: Echo(d, g.SenderCode),
			Date: now, ControlNumber: gs, Version: Version999})
	}
	a.open = err == nil
	return a.fail(err)
}

// beginSet opens the 999 for group g: ST and AK1.
func (a *Writer999) beginSet(g *ig.GroupInfo) error {
	if a.setOpen && a.setGroup == g.Pos.Ordinal {
		return nil
	}
	if a.setOpen { // the previous group never reported its end
		return a.fail(fmt.Errorf("ack: group %s began before the previous group ended", g.Control))
	}
	if err := a.begin(g); err != nil {
		return err
	}
	st, err := a.num.NextTransaction()
	if err != nil {
		return a.fail(fmt.Errorf("ack: transaction set control number: %w", err))
	}
	if err := a.w.BeginTransaction("999", st, Version999); err != nil {
		return a.fail(err)
	}
	a.setOpen, a.setGroup = true, g.Pos.Ordinal
	d := a.w.Delimiters()
	return a.fail(a.w.Segment("AK1", Echo(d, g.FunctionalID), Echo(d, g.Control), Echo(d, g.Version)))
}

// Transaction writes the AK2 loop of one transaction set.
func (a *Writer999) Transaction(t *ig.TransactionResult) error {
	if a.err != nil {
		return a.err
	}
	if err := a.beginSet(t.Group); err != nil {
		return err
	}
	w := a.w
	d := w.Delimiters()
	w.Segment("AK2", Echo(d, t.SetID), Echo(d, t.Control), Echo(d, t.Reference))
	a.order = a.order[:0]
	for i := range t.Findings {
		if l := t.Findings[i].Level; l == ig.LevelSegment || l == ig.LevelElement {
			a.order = append(a.order, i)
		}
	}
	sort.SliceStable(a.order, func(i, j int) bool {
		return t.Findings[a.order[i]].SetPos < t.Findings[a.order[j]].SetPos
	})
	for i := 0; i < len(a.order); {
		// One segment: consecutive findings with the same position and ID.
		first := &t.Findings[a.order[i]]
		j := i
		for j < len(a.order) && sameSegment(&t.Findings[a.order[j]], first) {
			j++
		}
		a.segment(t, a.order[i:j])
		i = j
	}
	status := t.Status
	if a.setStatus != nil {
		status = a.setStatus(t)
		switch {
		case t.Status == ig.Rejected && status != ig.Rejected:
			a.gained++
		case t.Status != ig.Rejected && status == ig.Rejected:
			a.gained--
		}
		a.withErrs = a.withErrs || status == ig.AcceptedWithErrors
	}
	ik5 := []string{string(status)}
	ik5 = append(ik5, t.Codes...)
	w.Segment("IK5", ik5...)
	return a.fail(w.Err())
}

func sameSegment(a, b *ig.Finding) bool {
	return a.SetPos == b.SetPos && a.Segment == b.Segment && a.Loop == b.Loop
}

// segment writes the IK3 segments of one segment's findings: one per
// segment-level code, then one with code 8 followed by the IK4 segments of
// its element findings.
func (a *Writer999) segment(t *ig.TransactionResult, idx []int) {
	f0 := &t.Findings[idx[0]]
	if !segmentID(f0.Segment) || f0.SetPos < 1 || f0.SetPos > 999999 {
		return // not representable in IK301/IK302; IK5 still rejects the set
	}
	loop := f0.Loop
	if len(loop) > 6 {
		loop = ""
	}
	pos := strconv.Itoa(f0.SetPos)
	hasElem := false
	var done []string
	for _, i := range idx {
		f := &t.Findings[i]
		if f.Level == ig.LevelElement {
			hasElem = true
			continue
		}
		if contains(done, f.Code) {
			continue
		}
		done = append(done, f.Code)
		a.w.Segment("IK3", f.Segment, pos, loop, f.Code)
		a.unit(f)
	}
	if !hasElem {
		return
	}
	a.w.Segment("IK3", f0.Segment, pos, loop, ig.SegHasElementErrors)
	a.unit(f0)
	for _, i := range idx {
		f := &t.Findings[i]
		if f.Level != ig.LevelElement || f.Element < 1 || f.Element > 99 {
			continue
		}
		var comp, rep string
		if f.Component > 0 {
			comp = strconv.Itoa(f.Component)
		}
		if f.Repetition > 0 {
			rep = strconv.Itoa(f.Repetition)
		}
		ref := f.ElementRef
		if !numeric(ref, 4) {
			ref = ""
		}
		a.w.Segment("IK4", a.w.Composite(strconv.Itoa(f.Element), comp, rep), ref, f.Code, a.badValue(f))
	}
}

// unit writes the CTX naming the business unit of f's segment (2100 CTX
// Business Unit Identifier, e.g. CTX*CLM01:<claim ID>), when it is known
// and can be carried: an identifier holding a delimiter is left out.
func (a *Writer999) unit(f *ig.Finding) {
	if f.UnitName == "" || f.UnitRef == "" || len(f.UnitRef) > 35 {
		return
	}
	d := a.w.Delimiters()
	for i := 0; i < len(f.UnitRef); i++ {
		if c := f.UnitRef[i]; c < 0x20 || c > 0x7e || d.IsDelimiter(c) {
			return
		}
	}
	a.w.Segment("CTX", a.w.Composite(f.UnitName, f.UnitRef))
}

// badValue returns IK404: the copy of the bad data element, when the 999 IG
// calls for it (the element is there and its characters can be carried).
func (a *Writer999) badValue(f *ig.Finding) string {
	if a.noValues || f.Value == "" || len(f.Value) > 99 {
		return ""
	}
	switch f.Code {
	case ig.ElemRequiredMissing, ig.ElemConditionalMissing, ig.ElemInvalidChar, ig.ElemDependentMissing:
		return ""
	}
	d := a.w.Delimiters()
	for i := 0; i < len(f.Value); i++ {
		c := f.Value[i]
		if c < 0x20 || c > 0x7e || d.IsDelimiter(c) {
			return ""
		}
	}
	return f.Value
}

// Group writes AK9 and closes the group's 999.
func (a *Writer999) Group(g *ig.GroupResult) error {
	if a.err != nil {
		return a.err
	}
	if err := a.beginSet(&g.GroupInfo); err != nil {
		return err
	}
	status, accepted := g.Status, g.Accepted
	if a.setStatus != nil {
		status, accepted = a.groupStatus(g)
		a.gained, a.withErrs = 0, false
	}
	ak9 := []string{string(status), strconv.Itoa(g.Included), strconv.Itoa(g.Received), strconv.Itoa(accepted)}
	ak9 = append(ak9, g.Codes...)
	a.w.Segment("AK9", ak9...)
	a.setOpen = false
	return a.fail(a.w.EndTransaction())
}

// groupStatus returns AK901 and AK904 of g after the sets' statuses of
// WithSetStatus.
func (a *Writer999) groupStatus(g *ig.GroupResult) (ig.Status, int) {
	accepted := g.Accepted + a.gained
	for i := range g.Findings {
		if g.Findings[i].Severity == ig.Error {
			return ig.Rejected, accepted
		}
	}
	switch {
	case accepted <= 0:
		return ig.Rejected, 0
	case accepted < g.Received:
		return ig.PartiallyAccepted, accepted
	case a.withErrs || g.Status == ig.AcceptedWithErrors:
		return ig.AcceptedWithErrors, accepted
	}
	return ig.Accepted, accepted
}

// Interchange ends the acknowledgment interchange of one input interchange,
// and writes its TA1 when WithTA1 asks for it.
func (a *Writer999) Interchange(ir *ig.InterchangeResult) error {
	if a.err != nil {
		return a.err
	}
	if a.open {
		a.open = false
		a.w.EndGroup()
		if err := a.fail(a.w.EndInterchange()); err != nil {
			return err
		}
	}
	if a.ta1 && (ir.AckRequested || len(ir.Findings) > 0) {
		n, err := a.num.NextInterchange()
		if err != nil {
			return a.fail(fmt.Errorf("ack: interchange control number: %w", err))
		}
		return a.fail(WriteTA1(a.w, ir, n, a.now()))
	}
	return nil
}

// ReplyQualifier is the ID qualifier (ISA05, ISA07) an answer gives a
// party of the interchange it answers: the party's own, or ZZ (mutually
// defined) when that is not one of the guide's codes, so that the answer's
// ISA stays valid whatever the input's held.
func ReplyQualifier(q string) string {
	if ig.InterchangeIDQualifier(q) {
		return q
	}
	return "ZZ"
}

// Echo is value, repeated from the input an acknowledgment answers, as
// it can be written with separators d: each byte of it that is one of d's
// separators becomes a space. A value holds none of its own input's
// separators, so this changes it only when the acknowledgment cannot use
// those (they are not valid for a 00501 ISA, say an ISA11 of U, in which
// input a ^ is data); writing it unchanged would fail the acknowledgment.
func Echo(d x12.Delimiters, value string) string {
	i := 0
	for i < len(value) && !d.IsDelimiter(value[i]) {
		i++
	}
	if i == len(value) {
		return value
	}
	b := []byte(value)
	for ; i < len(b); i++ {
		if d.IsDelimiter(b[i]) {
			b[i] = ' '
		}
	}
	return string(b)
}

// WriteTA1 writes an interchange holding only the TA1 for ir, addressed back
// to its sender, with control number control.
func WriteTA1(w *x12.Writer, ir *ig.InterchangeResult, control int64, now time.Time) error {
	usage := ir.Usage
	if usage != "P" && usage != "T" {
		usage = "P"
	}
	d := w.Delimiters()
	w.BeginInterchange(x12.InterchangeHeader{
		SenderQualifier: ReplyQualifier(ir.ReceiverQualifier), SenderID: Echo(d, ir.ReceiverID),
		ReceiverQualifier: ReplyQualifier(ir.SenderQualifier), ReceiverID: Echo(d, ir.SenderID),
		Date: now, ControlNumber: control, Usage: usage,
	})
	status, note := ir.Status, ir.Note
	if status != ig.Accepted && status != ig.AcceptedWithErrors && status != ig.Rejected {
		status = ig.Rejected
	}
	if len(note) != 3 {
		note = ig.NoteBadStructure
	}
	isa13 := ir.Control
	if !numeric(isa13, 9) || len(isa13) != 9 {
		isa13 = "000000000"
	}
	date, tm := ir.Date, ir.Time
	if !numeric(date, 6) || len(date) != 6 || !numeric(tm, 4) || len(tm) != 4 {
		date, tm = now.Format("060102"), now.Format("1504")
	}
	w.Segment("TA1", isa13, date, tm, string(status), note)
	return w.EndInterchange()
}

func segmentID(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func numeric(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
