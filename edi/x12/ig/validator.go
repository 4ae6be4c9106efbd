package ig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sync"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// Options configure a Validator. Every field is optional.
type Options struct {
	// Registry holds the specs to validate with; nil means Default().
	Registry *Registry

	// OnFinding is called for every finding, at every level, as it is found;
	// the Finding is valid only during the call (copy it to keep it).
	OnFinding func(f *Finding)
	// OnInterchangeStart is called after each ISA.
	OnInterchangeStart func(info *InterchangeInfo) error
	// OnTransaction is called after each transaction set (at SE, or when the
	// set ends without one). The result is reused: it is valid only during
	// the call.
	OnTransaction func(t *TransactionResult) error
	// OnGroup is called after each functional group (GE).
	OnGroup func(g *GroupResult) error
	// OnInterchange is called after each interchange (IEA).
	OnInterchange func(i *InterchangeResult) error

	// MaxFindings bounds the findings kept in TransactionResult.Findings for
	// one transaction set (default 1000); the rest are counted in Dropped but
	// still passed to OnFinding.
	MaxFindings int
	// MaxSegmentSize bounds one segment (default x12.DefaultMaxSegmentSize).
	MaxSegmentSize int
	// MaxLoopSegments bounds the segments of a transaction set read since
	// the last loop began (its trigger and the segments of that loop
	// iteration before a nested loop begins), known or not: past it
	// Validate stops with a *LoopLimitError. Default
	// DefaultMaxLoopSegments; a guide's loops hold tens of segments.
	MaxLoopSegments int
	// CodeList checks a value against an external code list named by
	// Element.CodeList; it returns false for an invalid code. nil means
	// StableCodeLists, with a faster path.
	CodeList func(list string, code []byte) bool
	// Sequential keeps a Validate call on its own goroutine. By default an
	// input larger than 256 KB is read and split into segments on a second
	// goroutine, ahead of the validation (see x12.WithReadAhead), when
	// GOMAXPROCS allows. Results, findings and the order of the callbacks,
	// which are always called on the goroutine that called Validate, are
	// the same either way.
	Sequential bool

	readAheadAfter int64 // tests: read ahead after this many bytes instead
	splitParts     int   // tests: ValidateAt splits into this many parts
	splitMinPart   int64 // tests: the smallest part instead
}

// readAheadAfter is the input size from which Validate reads ahead: below
// it, starting a goroutine costs more than it saves.
const readAheadAfter = 256 << 10

// A Validator checks X12 input against implementation-guide tables. It is
// safe for concurrent use: each Validate call has its own state.
type Validator struct {
	opts Options
	reg  *Registry
}

// NewValidator returns a Validator with the given options.
func NewValidator(opts Options) *Validator {
	v := &Validator{opts: opts, reg: opts.Registry}
	if v.reg == nil {
		v.reg = Default()
	}
	if v.opts.MaxFindings <= 0 {
		v.opts.MaxFindings = 1000
	}
	if v.opts.MaxLoopSegments <= 0 {
		v.opts.MaxLoopSegments = DefaultMaxLoopSegments
	}
	return v
}

// DefaultMaxLoopSegments is the default of Options.MaxLoopSegments.
const DefaultMaxLoopSegments = 10000

// LoopLimitError stops a validation whose loop holds more segments than
// Options.MaxLoopSegments: the input is refused, not read on.
type LoopLimitError struct {
	Pos     // the segment past the limit
	Max int // the limit
}

func (e *LoopLimitError) Error() string {
	where := "the transaction set's heading"
	if e.Loop != "" {
		where = "loop " + e.Loop
	}
	return fmt.Sprintf("segment %d (line %d, byte %d): more than %d segments in one iteration of %s (limit MaxLoopSegments, limits.loop_segments): the file is refused",
		e.Ordinal, e.Line, e.Offset, e.Max, where)
}

// Validate reads X12 from r to the end and reports what it finds through
// the callbacks. Problems in the data are findings, not errors: the error is
// non-nil only when the input could not be read (a read error, a context
// cancellation, an error returned by a callback) or is not X12 at all
// (errors.Is(err, x12.ErrNotX12)).
func (v *Validator) Validate(ctx context.Context, r io.Reader) (Summary, error) {
	var opts []x12.ReaderOption
	if v.opts.MaxSegmentSize > 0 {
		opts = append(opts, x12.WithMaxSegmentSize(v.opts.MaxSegmentSize))
	}
	if !v.opts.Sequential {
		after := int64(readAheadAfter)
		if v.opts.readAheadAfter != 0 {
			after = max(v.opts.readAheadAfter, 0)
		}
		opts = append(opts, x12.WithReadAhead(after))
	}
	rd := x12.NewReader(r, opts...)
	defer rd.Close()
	run := newRun(v)
	defer run.release()
	var err error
	for i := 0; ; i++ {
		if i&1023 == 0 {
			if err = ctx.Err(); err != nil {
				break
			}
		}
		var seg *x12.Segment
		seg, err = rd.Next()
		if err != nil {
			err = run.readError(err)
			break
		}
		run.sum.Segments++
		run.see(seg)
		if err = run.segment(seg); err != nil {
			break
		}
	}
	if err == nil {
		err = run.finish()
	}
	run.sum.Bytes = rd.InputOffset()
	return run.sum, err
}

// run is the state of one Validate call.
type run struct {
	v   *Validator
	sum Summary
	d   x12.Delimiters
	cls [256]uint8 // character classes for the current delimiters

	ic          InterchangeResult
	icOpen      bool
	isaControls map[string]bool // ISA13 values seen in the input
	gsControls  map[string]bool // GS06 values seen in the interchange

	gr         GroupResult
	grOpen     bool
	stControls map[uint64]bool // hashes of ST02 values seen in the group
	seed       maphash.Seed
	version    string // the guide version the group's sets are validated with: GS08, or what versionAliases makes of it

	tx        txState
	txn       Txn
	errs      []elemErr
	specState map[*compiledSpec]*specState
	outside   bool         // inside an ST..SE that is outside any group: skipped
	stopped   bool         // the reader stopped on a syntax error
	part      *part        // non-nil for the run of a part of a split validation
	lastSeg   *x12.Segment // the last segment read, as the reader returned it (its fields stay when reading ends): see end
	layout    uint8        // the layout warnings reported (layoutBOM, layoutIndented)
}

var runPool = sync.Pool{New: func() any { return new(run) }}

func newRun(v *Validator) *run {
	r := runPool.Get().(*run)
	*r = run{v: v, errs: r.errs[:0], specState: r.specState, tx: txState{frames: r.tx.frames[:0], hls: r.tx.hls[:0], pending: r.tx.pending[:0], findings: r.tx.findings[:0]}}
	if r.specState == nil {
		r.specState = map[*compiledSpec]*specState{}
	}
	r.txn.r = r
	r.isaControls = map[string]bool{}
	r.seed = maphash.MakeSeed()
	return r
}

func (r *run) release() {
	r.v = nil
	r.tx.res = TransactionResult{}
	runPool.Put(r)
}

// Segment IDs of the envelope, numbered by idIndex.
var (
	idxISA = idIndex([]byte("ISA"))
	idxIEA = idIndex([]byte("IEA"))
	idxGS  = idIndex([]byte("GS"))
	idxGE  = idIndex([]byte("GE"))
	idxST  = idIndex([]byte("ST"))
	idxSE  = idIndex([]byte("SE"))
	idxTA1 = idIndex([]byte("TA1"))
)

func (r *run) segment(seg *x12.Segment) error {
	idx := idIndex(seg.ID())
	switch idx {
	case idxISA:
		return r.isa(seg)
	case idxIEA:
		return r.iea(seg)
	case idxGS:
		return r.gs(seg)
	case idxGE:
		return r.ge(seg)
	case idxST:
		return r.st(seg)
	case idxSE:
		return r.se(seg)
	}
	if r.tx.open {
		r.tx.advance(seg)
		if r.tx.spec != nil {
			r.tableSegment(seg, idx)
			if r.tx.loopSegs++; r.tx.loopSegs > r.v.opts.MaxLoopSegments {
				return &LoopLimitError{Pos: r.tx.cur, Max: r.v.opts.MaxLoopSegments}
			}
		}
		return nil
	}
	if r.outside {
		return nil
	}
	if idx == idxTA1 && r.icOpen && !r.grOpen {
		r.sum.TA1s++
		r.envelopeElements(seg, controls().ta1, func(int) (Level, string) { return LevelInterchange, NoteBadContent })
		return nil
	}
	r.icFinding(seg, NoteBadStructure, fmt.Sprintf("segment %s is outside a transaction set", idLabel(seg)))
	return nil
}

// Layout warnings, each reported once per input.
const (
	layoutBOM      = 1 << iota // the input starts with a UTF-8 byte order mark
	layoutIndented             // spaces or tabs before segments
)

// see notes seg as the last segment read and reports, the first time, the
// byte order mark or white space the reader skipped before it.
func (r *run) see(seg *x12.Segment) {
	r.lastSeg = seg
	if seg.Skipped() {
		r.skipped(seg)
	}
}

// end returns the place just past the last segment read: its ordinal and
// line, and the offset of the byte after it.
func (r *run) end() Pos {
	s := r.lastSeg
	if s == nil {
		return Pos{}
	}
	return Pos{Ordinal: s.Ordinal, Offset: s.Offset + int64(len(s.Bytes())), Line: s.Line}
}

func (r *run) skipped(seg *x12.Segment) {
	f := Finding{Pos: segPos(seg), Level: LevelInterchange, Code: NoteNone, Severity: Warning}
	if seg.BOM() && r.layout&layoutBOM == 0 {
		f.Msg = "the input starts with a UTF-8 byte order mark (skipped)"
		r.layoutWarning(f, layoutBOM)
	}
	if seg.Indented() && r.layout&layoutIndented == 0 {
		f.Msg = "spaces or tabs before the segment (skipped; reported once: X12 has no white space between segments)"
		r.layoutWarning(f, layoutIndented)
	}
}

// layoutWarning reports a layout warning once per input. It is a
// warning of the interchange, with TA105 code 000, that stays out of the
// interchange's result: the TA1 and the 999 are those of the input without
// the white space. A part of a split validation holds it for the join.
func (r *run) layoutWarning(f Finding, kind uint8) {
	if r.layout&kind != 0 {
		return
	}
	r.layout |= kind
	if r.part != nil {
		r.part.held = append(r.part.held, f)
		return
	}
	r.report(&f)
}

// --- interchange --------------------------------------------------------

// isaNotes maps ISA element positions to the TA1 note code for a bad value.
var isaNotes = [17]string{"", NoteBadAuthQualifier, NoteBadAuthInfo, NoteBadSecurityQualifier, NoteBadSecurityInfo,
	NoteBadSenderQualifier, NoteBadSenderID, NoteBadReceiverQualifier, NoteBadReceiverID, NoteBadDate, NoteBadTime,
	NoteBadStandardID, NoteBadVersion, NoteBadControlNumber, NoteBadAckRequested, NoteBadTestIndicator, NoteBadComponentSep}

func (r *run) isa(seg *x12.Segment) error {
	if r.icOpen {
		if err := r.closeOpenGroup(seg); err != nil {
			return err
		}
		r.icFinding(seg, NoteBadStructure, "ISA before the IEA of the previous interchange")
		if err := r.closeInterchange(); err != nil {
			return err
		}
	}
	r.sum.Interchanges++
	r.d = seg.Delimiters()
	r.buildClasses()
	r.outside = false
	trim := func(i int) string { return string(bytes.TrimRight(seg.Element(i), " ")) }
	r.ic = InterchangeResult{InterchangeInfo: InterchangeInfo{
		AuthQualifier: trim(1), SenderQualifier: trim(5), SenderID: trim(6), ReceiverQualifier: trim(7),
		ReceiverID: trim(8), Date: trim(9), Time: trim(10), Version: trim(12), Control: trim(13),
		AckRequested: string(seg.Element(14)) == "1", Usage: trim(15),
		Pos:        Pos{Ordinal: seg.Ordinal, Offset: seg.Offset, Line: seg.Line, Segment: "ISA"},
		Delimiters: r.d,
	}, Findings: r.ic.Findings[:0]}
	r.icOpen = true
	r.gsControls = map[string]bool{}
	if seg.Len() != 16 {
		r.icFinding(seg, NoteBadStructure, fmt.Sprintf("ISA has %d elements, want 16", seg.Len()))
	}
	// ISA elements are fixed-width fields: check them whole, unsplit.
	isa := controls().isa
	for i := 1; i <= 16 && i <= seg.Len(); i++ {
		ce := &isa.elems[i-1]
		v := seg.Element(i)
		var errs []elemErr
		if i == 12 {
			if !isaVersions().has(v) {
				errs = append(errs, elemErr{elem: 12, code: ElemInvalidCode, ce: ce, msg: "is not a supported interchange control version", value: v})
			}
		} else if i == 11 || i == 16 {
			if len(v) != 1 {
				errs = append(errs, elemErr{elem: i, code: ElemTooLong, ce: ce, msg: "must be one character", value: v})
			}
		} else {
			if code, msg := r.checkValue(ce, v, r.scan(v)); code != "" {
				errs = append(errs, elemErr{elem: i, code: code, ce: ce, msg: msg, value: v})
			}
		}
		for _, e := range errs {
			f := r.elemFinding(&e, "ISA", LevelInterchange)
			f.Pos, f.Code = segPos(seg), isaNotes[i]
			r.addIC(f)
		}
	}
	if r.isaControls[r.ic.Control] {
		r.icFinding(seg, NoteDuplicateControl, "interchange control number ISA13 repeats an earlier interchange in the input")
	}
	r.isaControls[r.ic.Control] = true
	if cb := r.v.opts.OnInterchangeStart; cb != nil {
		return cb(&r.ic.InterchangeInfo)
	}
	return nil
}

// versionAliases maps a GS08 version that names a guide without its
// addenda to the version of the guide with them: a 999 labelled 005010X231
// is validated with the 005010X231A1 tables, with a group warning.
var versionAliases = map[string]string{"005010X231": "005010X231A1"}

// isaVersions are the interchange control versions (ISA12) accepted: the
// envelope of 004010 to 005010 transaction sets.
var isaVersions = sync.OnceValue(func() *codeSet {
	s := newCodeSet([]string{"00401", "00402", "00403", "00404", "00405", "00406", "00501"})
	return &s
})

func (r *run) iea(seg *x12.Segment) error {
	if !r.icOpen {
		r.icFinding(seg, NoteBadStructure, "IEA without an ISA")
		return nil
	}
	if err := r.closeOpenGroup(seg); err != nil {
		return err
	}
	r.envelopeElements(seg, controls().iea, func(i int) (Level, string) {
		if i == 1 {
			return LevelInterchange, NoteBadGroupCount
		}
		return LevelInterchange, NoteBadControlNumber
	})
	if n, ok := atoi(seg.Element(1)); ok && n != r.ic.Groups {
		r.icFindingElem(seg, 1, NoteBadGroupCount, fmt.Sprintf("IEA01 says %d functional groups, the interchange has %d", n, r.ic.Groups), seg.Element(1))
	}
	if string(seg.Element(2)) != r.ic.Control {
		r.icFindingElem(seg, 2, NoteControlMismatch, "IEA02 does not match the interchange control number ISA13", seg.Element(2))
	}
	return r.closeInterchange()
}

func (r *run) closeInterchange() error {
	r.icOpen = false
	r.ic.Status, r.ic.Note = Accepted, NoteNone
	for i := range r.ic.Findings {
		if r.ic.Findings[i].Severity == Error {
			r.ic.Status = Rejected
		}
		if r.ic.Note == NoteNone {
			r.ic.Note = r.ic.Findings[i].Code
		}
	}
	if r.ic.Status == Accepted && len(r.ic.Findings) > 0 {
		r.ic.Status = AcceptedWithErrors
	}
	if cb := r.v.opts.OnInterchange; cb != nil {
		return cb(&r.ic)
	}
	return nil
}

// --- functional group -------------------------------------------------------

func (r *run) gs(seg *x12.Segment) error {
	if !r.icOpen {
		r.icFinding(seg, NoteBadStructure, "GS outside an interchange")
	}
	if err := r.closeOpenGroup(seg); err != nil {
		return err
	}
	r.sum.Groups++
	r.ic.Groups++
	r.outside = false
	info := &GroupInfo{
		FunctionalID: seg.ElementString(1), SenderCode: seg.ElementString(2), ReceiverCode: seg.ElementString(3),
		Date: seg.ElementString(4), Time: seg.ElementString(5), Control: seg.ElementString(6), Version: seg.ElementString(8),
		Pos: Pos{Ordinal: seg.Ordinal, Offset: seg.Offset, Line: seg.Line, Segment: "GS"},
	}
	r.gr = GroupResult{GroupInfo: *info, Codes: r.gr.Codes[:0], Findings: r.gr.Findings[:0]}
	r.tx.group = info
	r.grOpen = true
	r.stControls = map[uint64]bool{}
	r.envelopeElements(seg, controls().gs, func(i int) (Level, string) {
		switch i {
		case 6:
			return LevelGroup, GroupControlSyntax
		case 1:
			return LevelGroup, GroupNotSupported
		case 8:
			return LevelGroup, GroupVersionNotSupported
		}
		return LevelInterchange, NoteBadContent
	})
	if r.gsControls[info.Control] {
		r.grFinding(seg, 6, GroupControlNotUnique, "group control number GS06 repeats an earlier group of the interchange", seg.Element(6))
	}
	if r.gsControls == nil {
		r.gsControls = map[string]bool{}
	}
	r.gsControls[info.Control] = true
	r.version = info.Version
	version, funcOK := r.v.reg.hasVersion(info.Version, info.FunctionalID)
	if alias, ok := versionAliases[info.Version]; ok && !version {
		if version, funcOK = r.v.reg.hasVersion(alias, info.FunctionalID); version {
			r.version = alias
			r.addGroup(Finding{Pos: segPos(seg), Level: LevelGroup, Code: GroupVersionNotSupported, Severity: Warning, Element: 8,
				Msg: fmt.Sprintf("GS08 %s is validated with the %s guide (its addenda)", info.Version, alias), Value: info.Version})
		}
	}
	if !version {
		r.grFinding(seg, 8, GroupVersionNotSupported, "no implementation guide is registered for version GS08", seg.Element(8))
	} else if !funcOK {
		r.grFinding(seg, 1, GroupNotSupported, "functional identifier code GS01 does not match the guides of version GS08", seg.Element(1))
	}
	return nil
}

func (r *run) ge(seg *x12.Segment) error {
	if !r.grOpen {
		r.icFinding(seg, NoteBadStructure, "GE without a GS")
		return nil
	}
	if r.tx.open {
		r.txFindingAt(seg, SetTrailerMissing, "transaction set has no SE trailer before GE")
		if err := r.closeTxn(false); err != nil {
			return err
		}
	}
	r.envelopeElements(seg, controls().ge, func(i int) (Level, string) {
		if i == 1 {
			return LevelGroup, GroupCountMismatch
		}
		return LevelGroup, GroupControlMismatch
	})
	r.gr.Included = r.gr.Received
	if n, ok := atoi(seg.Element(1)); ok {
		r.gr.Included = n
		if n != r.gr.Received {
			r.grFinding(seg, 1, GroupCountMismatch, fmt.Sprintf("GE01 says %d transaction sets, the group has %d", n, r.gr.Received), seg.Element(1))
		}
	}
	if string(seg.Element(2)) != r.gr.Control {
		r.grFinding(seg, 2, GroupControlMismatch, "GE02 does not match the group control number GS06", seg.Element(2))
	}
	return r.closeGroup()
}

// closeOpenGroup ends a group that has no GE, at seg.
func (r *run) closeOpenGroup(seg *x12.Segment) error {
	if r.tx.open {
		r.txFindingAt(seg, SetTrailerMissing, fmt.Sprintf("transaction set has no SE trailer before %s", idLabel(seg)))
		if err := r.closeTxn(false); err != nil {
			return err
		}
	}
	if !r.grOpen {
		return nil
	}
	r.grFinding(seg, 0, GroupTrailerMissing, fmt.Sprintf("functional group has no GE trailer before %s", idLabel(seg)), nil)
	r.gr.Included = r.gr.Received
	return r.closeGroup()
}

func (r *run) closeGroup() error {
	r.grOpen = false
	g := &r.gr
	failed := false
	for i := range g.Findings {
		if g.Findings[i].Severity == Error {
			failed = true
		}
	}
	withErrors := false
	switch {
	case failed || g.Received == 0 || g.Accepted == 0:
		g.Status = Rejected
	case g.Accepted < g.Received:
		g.Status = PartiallyAccepted
	default:
		g.Status = Accepted
		withErrors = r.tx.groupWarn
	}
	if withErrors {
		g.Status = AcceptedWithErrors
	}
	r.tx.groupWarn = false
	if cb := r.v.opts.OnGroup; cb != nil {
		return cb(g)
	}
	return nil
}

// --- transaction set ----------------------------------------------------------

func (r *run) st(seg *x12.Segment) error {
	if r.tx.open {
		r.txFindingAt(seg, SetTrailerMissing, "transaction set has no SE trailer before the next ST")
		if err := r.closeTxn(false); err != nil {
			return err
		}
	}
	if !r.grOpen {
		r.icFinding(seg, NoteBadStructure, "ST outside a functional group: the transaction set is not validated")
		r.outside = true
		return nil
	}
	t := &r.tx
	t.begin(seg)
	r.sum.Transactions++
	r.gr.Received++
	t.res.Group = t.group
	t.res.SetID = seg.ElementString(1)
	t.res.Control = seg.ElementString(2)
	t.res.Reference = seg.ElementString(3)
	if len(seg.Element(1)) != 3 {
		r.txFinding(Finding{Pos: t.cur, Level: LevelTransaction, Code: SetBadID, Msg: "ST01 is missing or not a transaction set identifier"})
	}
	if n := len(seg.Element(2)); n < 4 || n > 9 {
		r.txFinding(Finding{Pos: t.cur, Level: LevelTransaction, Code: SetBadControl, Msg: "ST02 is missing or not 4 to 9 characters"})
	}
	h := maphash.Bytes(r.seed, seg.Element(2))
	if r.stControls[h] {
		r.txFinding(Finding{Pos: t.cur, Level: LevelTransaction, Code: SetControlNotUnique, Msg: "ST02 repeats the control number of an earlier transaction set in the group"})
	}
	r.stControls[h] = true
	cs := r.v.reg.lookup(r.version, t.res.SetID)
	if cs == nil {
		r.txFinding(Finding{Pos: t.cur, Level: LevelTransaction, Code: SetNotSupported,
			Msg: fmt.Sprintf("transaction set %s of version %s is not supported", printable(seg.Element(1)), printable([]byte(t.group.Version)))})
		return nil
	}
	if ref := seg.Element(3); len(ref) > 0 && string(ref) != t.group.Version {
		r.txFinding(Finding{Pos: t.cur, Level: LevelTransaction, Code: SetBadReference, Element: 3, ElementRef: "1705",
			Msg: fmt.Sprintf("ST03 (Implementation Convention Reference) %s does not match GS08 %s", printable(ref), printable([]byte(t.group.Version))), Value: string(ref)})
	}
	t.res.Spec = cs.spec
	t.spec = cs
	st := r.specState[cs]
	if st == nil {
		st = newSpecState(cs)
		r.specState[cs] = st
	}
	t.counts = st.counts
	t.frames = append(t.frames[:0], frame{loop: cs.root, cur: -1})
	clear(t.counts[cs.root.base : cs.root.base+len(cs.root.kids)])
	t.checks = t.checks[:0]
	for _, nc := range cs.makers() {
		t.checks = append(t.checks, nc())
	}
	t.wants = cs.wants(t.checks)
	r.tableSegment(seg, idxST)
	return nil
}

func (r *run) se(seg *x12.Segment) error {
	if r.outside {
		r.outside = false
		return nil
	}
	if !r.tx.open {
		r.icFinding(seg, NoteBadStructure, "SE without an ST")
		return nil
	}
	t := &r.tx
	t.advance(seg)
	t.cur.Segment = "SE"
	if t.spec != nil {
		r.tableSegment(seg, idxSE)
	}
	t.cur.Segment, t.cur.Loop = "SE", ""
	if n, ok := atoi(seg.Element(1)); !ok || n != t.setPos {
		r.txFinding(Finding{Pos: t.cur, Level: LevelTransaction, Code: SetCountMismatch, Element: 1, ElementRef: "96",
			Msg: fmt.Sprintf("SE01 does not match the %d segments of the transaction set", t.setPos), Value: string(seg.Element(1))})
	}
	if string(seg.Element(2)) != t.res.Control {
		r.txFinding(Finding{Pos: t.cur, Level: LevelTransaction, Code: SetControlMismatch, Element: 2, ElementRef: "329",
			Msg: "SE02 does not match the transaction set control number ST02", Value: string(seg.Element(2))})
	}
	return r.closeTxn(true)
}

// closeTxn ends the open transaction set; complete says it ended with SE.
// Semantic checks see the end only of a complete set: on a truncated one
// they would report what is merely missing.
func (r *run) closeTxn(complete bool) error {
	t := &r.tx
	if t.spec != nil {
		r.popTo(0)
		if complete {
			for _, c := range t.checks {
				c.End(&r.txn)
			}
		}
	}
	t.open = false
	res := &t.res
	res.Segments = t.setPos
	res.Findings = t.findings
	res.Codes = res.Codes[:0]
	for _, c := range t.codes {
		res.Codes = appendCode(res.Codes, c)
	}
	if t.segErr {
		if t.stdErr {
			res.Codes = appendCode(res.Codes, SetSegmentErrors)
		} else {
			res.Codes = appendCode(res.Codes, SetImplementationErrors)
		}
	}
	switch {
	case t.errors:
		res.Status = Rejected
		r.sum.Rejected++
	case t.warn:
		res.Status = AcceptedWithErrors
		r.sum.WithErrors++
		r.gr.Accepted++
		t.groupWarn = true
	default:
		res.Status = Accepted
		r.sum.Accepted++
		r.gr.Accepted++
	}
	if cb := r.v.opts.OnTransaction; cb != nil {
		return cb(res)
	}
	return nil
}

func appendCode(codes []string, c string) []string {
	for _, x := range codes {
		if x == c {
			return codes
		}
	}
	if len(codes) >= 5 {
		return codes
	}
	return append(codes, c)
}

// finish closes what the input left open.
func (r *run) finish() error {
	// What is missing is reported at the end of the last segment read.
	end := r.end()
	if r.tx.open {
		p := r.tx.cur
		p.Ordinal, p.Offset, p.Line, p.Segment, p.Loop = end.Ordinal, end.Offset, end.Line, "SE", ""
		r.txFinding(Finding{Pos: p, Level: LevelTransaction, Code: SetTrailerMissing, Msg: "input ends inside a transaction set: SE trailer missing"})
		if err := r.closeTxn(false); err != nil {
			return err
		}
	}
	if r.grOpen {
		end.Segment = "GE"
		r.addGroup(Finding{Pos: end, Level: LevelGroup, Code: GroupTrailerMissing, Msg: "input ends inside a functional group: GE trailer missing"})
		r.gr.Included = r.gr.Received
		if err := r.closeGroup(); err != nil {
			return err
		}
	}
	if r.icOpen {
		if !r.stopped { // else the reader's error already says why
			end.Segment = "IEA"
			r.addIC(Finding{Pos: end, Level: LevelInterchange, Code: NotePrematureEnd, Msg: "input ends before the IEA trailer"})
		}
		return r.closeInterchange()
	}
	return nil
}

// readError ends reading with the reader's error err: nil at the end of
// the input, nil too for a syntax error (a finding), else err.
func (r *run) readError(err error) error {
	var se *x12.SyntaxError
	switch {
	case err == io.EOF:
		return nil
	case errors.Is(err, x12.ErrNotX12):
		return err
	case errors.As(err, &se):
		return r.syntaxError(se)
	}
	return err
}

// syntaxError turns a reader error into a finding; reading stops there.
func (r *run) syntaxError(se *x12.SyntaxError) error {
	code := NoteBadStructure
	switch {
	case errors.Is(se, x12.ErrTruncated):
		code = NotePrematureEnd
	case errors.Is(se, x12.ErrDelimiters):
		d := se.Delimiters
		switch {
		case badSeparator(d.Element) || d.Element == d.Component || d.Element == d.Segment:
			code = NoteBadElementSeparator
		case badSeparator(d.Component) || d.Component == d.Segment:
			code = NoteBadComponentSep
		default:
			code = NoteBadTerminator
		}
	}
	r.stopped = true
	f := Finding{Pos: Pos{Ordinal: se.Ordinal, Offset: se.Offset, Line: se.Line}, Level: LevelInterchange, Code: code,
		Msg: "cannot read further: " + se.Error()}
	if r.icOpen && !errors.Is(se, x12.ErrBadISA) && !errors.Is(se, x12.ErrDelimiters) {
		r.addIC(f)
	} else {
		r.report(&f)
	}
	return nil
}

func badSeparator(c byte) bool {
	return c == ' ' || c == '\r' || c == '\n' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
}

// --- findings -------------------------------------------------------------------

// report counts a finding and passes it to OnFinding.
func (r *run) report(f *Finding) {
	r.sum.Findings++
	if f.Severity == Error {
		r.sum.Errors++
	}
	if cb := r.v.opts.OnFinding; cb != nil {
		cb(f)
	}
}

func (r *run) addIC(f Finding) {
	r.report(&f)
	if r.icOpen && len(r.ic.Findings) < r.v.opts.MaxFindings {
		r.ic.Findings = append(r.ic.Findings, f)
	}
}

func (r *run) icFinding(seg *x12.Segment, code, msg string) {
	r.addIC(Finding{Pos: segPos(seg), Level: LevelInterchange, Code: code, Msg: msg})
}

func (r *run) icFindingElem(seg *x12.Segment, elem int, code, msg string, value []byte) {
	r.addIC(Finding{Pos: segPos(seg), Level: LevelInterchange, Code: code, Element: elem, Msg: msg, Value: string(value)})
}

func (r *run) addGroup(f Finding) {
	r.report(&f)
	if !r.grOpen {
		return
	}
	if len(r.gr.Findings) < r.v.opts.MaxFindings {
		r.gr.Findings = append(r.gr.Findings, f)
	}
	if f.Severity == Error {
		r.gr.Codes = appendCode(r.gr.Codes, f.Code)
	}
}

func (r *run) grFinding(seg *x12.Segment, elem int, code, msg string, value []byte) {
	r.addGroup(Finding{Pos: segPos(seg), Level: LevelGroup, Code: code, Element: elem, Msg: msg, Value: string(value)})
}

// txFindingAt reports a transaction-level finding detected at seg.
func (r *run) txFindingAt(seg *x12.Segment, code, msg string) {
	r.txFinding(Finding{Pos: segPos(seg), Level: LevelTransaction, Code: code, Msg: msg})
}

func (r *run) txFinding(f Finding) {
	if r.part != nil { // a part of a split validation: held for the join
		r.part.held = append(r.part.held, f)
		return
	}
	r.report(&f)
	t := &r.tx
	if f.Severity == Error {
		t.errors = true
		switch f.Level {
		case LevelTransaction:
			t.codes = append(t.codes, f.Code)
		case LevelSegment, LevelElement:
			t.segErr = true
			if f.Code[0] != 'I' {
				t.stdErr = true
			}
		}
	} else {
		t.warn = true
	}
	if len(t.findings) < r.v.opts.MaxFindings {
		t.findings = append(t.findings, f)
	} else {
		t.res.Dropped++
	}
}

// envelopeElements checks GS, GE, IEA or TA1 elements against the control
// table, reporting each problem at the level and with the code where
// gives for the element position.
func (r *run) envelopeElements(seg *x12.Segment, cs *cSeg, where func(elem int) (Level, string)) {
	errs := r.checkElements(seg, cs)
	for i := range errs {
		level, code := where(errs[i].elem)
		f := r.elemFinding(&errs[i], cs.id, level)
		f.Pos = segPos(seg)
		f.Code = code
		if level == LevelGroup {
			r.addGroup(f)
		} else {
			r.addIC(f)
		}
	}
}

func segPos(seg *x12.Segment) Pos {
	return Pos{Ordinal: seg.Ordinal, Offset: seg.Offset, Line: seg.Line, Segment: string(printable(seg.ID()))}
}

// idLabel names a segment in a message: its ID when printable.
func idLabel(seg *x12.Segment) string {
	id := printable(seg.ID())
	if id == "" {
		return "(empty)"
	}
	return id
}

// printable returns b when it is short printable ASCII (a segment ID or a
// code), else "?": identifiers go into messages, data never does.
func printable(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > 12 {
		return "?"
	}
	for _, c := range b {
		if c < 0x21 || c > 0x7e {
			return "?"
		}
	}
	return string(b)
}

// atoi reads a non-negative decimal of up to 9 digits.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// controls returns the compiled envelope segments.
var controls = sync.OnceValue(func() *controlSegs {
	c := &compiler{cs: &compiledSpec{kinds: make([]uint8, idSpace)}}
	cs := &controlSegs{
		isa: c.segment(controlISA, ""), gs: c.segment(controlGS, ""), ge: c.segment(controlGE, ""),
		iea: c.segment(controlIEA, ""), ta1: c.segment(controlTA1, ""),
	}
	if c.err != nil {
		panic("ig: envelope tables: " + c.err.Error())
	}
	// GS01 and GS08 are checked against the registry instead: the control
	// map's lists name only some versions.
	cs.gs.elems[0].codes = codeSet{}
	cs.gs.elems[7].codes = codeSet{}
	return cs
})

type controlSegs struct{ isa, gs, ge, iea, ta1 *cSeg }
