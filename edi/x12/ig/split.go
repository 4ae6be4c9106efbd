package ig

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"slices"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// Split validation: ValidateAt cuts a large transaction set (an 834 of a
// million member loops, say) into parts at the triggers of a loop that
// repeats without limit, and validates the parts after the first on other
// goroutines while the first is validated on the caller's, each part's
// segments read, split and checked on one core.
//
// A part cannot know the state the validation is in where it starts; it
// assumes the state the first part was in just after the first trigger of
// the loop (its snapshot), with its positions counted from its start. When
// the first part reaches a part's start, it places that trigger and
// compares its state with the snapshot: the same open loops, the same uses
// of every child except the repeating loop's own count (unbounded, so it
// changes nothing), the same transaction set. Then the part's work is what
// the first part's would have been: its findings, held until then, are
// reported with their positions shifted, its checks joined, and its state
// taken over. Otherwise the part's work is dropped and the validation goes
// on as a single pass would. A part stops before an envelope segment,
// after a thousand findings or when a check holds enough (SplitCheck.Full):
// the validation goes on from there on the caller's goroutine (a part that
// reaches the next part's start places its trigger, so that the next part
// is joined the same way). Findings, their order, the results and the
// callbacks are those of Validate. Only the transaction set of the loop's
// first trigger is split (a DHCS 834 holds one); parts found in another
// set are not joined.

// A SplitCheck is a Check that a split validation can run on parts of a
// transaction set. Without one, a transaction set with checks is not split.
type SplitCheck interface {
	Check
	// Fork returns a check that carries on from this one's state, for a
	// part starting at a later trigger of the same loop in the same
	// transaction set. It is called on the check's goroutine when the
	// check has just seen the loop's first trigger; the fork runs on
	// another goroutine and sees positions counted from its part's start.
	Fork() SplitCheck
	// Full reports that the fork holds as much as it should in memory:
	// its part stops there.
	Full() bool
	// Join continues this check with the work of part, forked from it,
	// which saw the segments that follow those this check saw (this
	// check has not seen the trigger part started at). Shift converts the
	// fork's positions.
	Join(part SplitCheck, s Shift) error
}

// Shift converts the positions of a part of a split validation into the
// input's.
type Shift struct {
	Ordinal int64 // segments before the part
	Line    int64 // lines before the part's first
	SetPos  int   // segments of the transaction set before the part
}

// Pos returns p, seen by a part, as a position in the input.
func (s Shift) Pos(p Pos) Pos {
	p.Ordinal += s.Ordinal
	p.Line += s.Line
	p.SetPos += s.SetPos
	return p
}

// Bounds of split validation.
const (
	splitMinPart = 1 << 20 // bytes per part, at least
	splitMaxPart = 8       // parts, at most
	partMaxHeld  = 1000    // findings a part holds before it stops
	seamWindow   = 64 << 10
	seamWindows  = 16 // windows searched for a part's start
)

// splitLoop returns the index in the root's children of the loop a spec's
// transaction sets may be split at: the first one that repeats without
// limit and opens with an unqualified segment, in a spec without HL loops
// (their levels span the cut). -1 when there is none.
func splitLoop(cs *compiledSpec) int {
	for _, l := range cs.loops {
		if l.hl {
			return -1
		}
	}
	for i, k := range cs.root.kids {
		if l := k.loop; l != nil && l.repeat == 0 && l.kids[0].seg != nil {
			return i
		}
	}
	return -1
}

// ValidateAt is Validate for an input that can be read at any offset, such
// as a file: a transaction set of a spec that allows it (the 834 at its
// member loops) is validated in parts, one per core, when the input is
// large enough. The results, the findings and the callbacks, which are
// called on the caller's goroutine, are Validate's; the checks of the
// transaction sets split must be SplitChecks, and Options.CodeList, which
// the parts call on their goroutines, safe for concurrent use. The input is
// read without read-ahead.
func (v *Validator) ValidateAt(ctx context.Context, in io.ReaderAt, size int64) (Summary, error) {
	minPart := int64(splitMinPart)
	if v.opts.splitMinPart > 0 {
		minPart = v.opts.splitMinPart
	}
	n := int(min(int64(min(runtime.GOMAXPROCS(0), splitMaxPart)), size/minPart))
	if v.opts.splitParts > 0 {
		n = v.opts.splitParts
	}
	if n < 2 {
		o := v.opts
		o.Sequential = true
		return (&Validator{opts: o, reg: v.reg}).Validate(ctx, io.NewSectionReader(in, 0, size))
	}
	ctx, cancel := context.WithCancel(ctx)
	sp := &splitter{v: v, ctx: ctx, in: in, size: size, n: n}
	defer sp.stopParts(cancel)
	return sp.validate()
}

// splitter is the state of a ValidateAt call.
type splitter struct {
	v     *Validator
	ctx   context.Context
	in    io.ReaderAt
	size  int64
	n     int // parts wanted
	tried bool
	snap  *snapshot
	parts []*part // the parts not yet joined, in input order
}

// snapshot is the state of the first part just after the first trigger of
// the split loop: the state every other part starts from.
type snapshot struct {
	spec      *compiledSpec
	d         x12.Delimiters
	cls       [256]uint8
	group     *GroupInfo
	stOrdinal int64 // the ST of the transaction set
	frames    []frame
	counts    []int32
	hlLast    int
	version   string // run.version
	trig      *cSeg  // the loop's trigger
	wants     [][]bool
}

// part is one part of a split validation after the first.
type part struct {
	start  int64 // input offset of its first segment, the loop's trigger
	next   int64 // the next part's start (or the input's size): it stops there
	run    *run
	held   []Finding // its findings, positions relative
	cancel context.CancelFunc
	done   chan struct{}

	checks []SplitCheck // its checks (the run's)

	// Set when done:
	failed bool         // its work is not usable
	stop   x12.Position // where the validation goes on (ordinal and line relative)
	atNext bool         // it stopped at next, having placed the trigger there as seamCS
	seamCS *cSeg
}

func (sp *splitter) reader(p x12.Position, d x12.Delimiters, start bool) *x12.Reader {
	var opts []x12.ReaderOption
	if sp.v.opts.MaxSegmentSize > 0 {
		opts = append(opts, x12.WithMaxSegmentSize(sp.v.opts.MaxSegmentSize))
	}
	if start {
		opts = append(opts, x12.WithStart(p, d))
	}
	return x12.NewReader(io.NewSectionReader(sp.in, p.Offset, sp.size-p.Offset), opts...)
}

// validate is Validate's loop, with the parts started after the first
// trigger of a split loop and joined at their starts.
func (sp *splitter) validate() (Summary, error) {
	r := newRun(sp.v)
	defer r.release()
	rd := sp.reader(x12.Position{}, x12.Delimiters{}, false)
	var err error
	for i := 0; ; i++ {
		if i&1023 == 0 {
			if err = sp.ctx.Err(); err != nil {
				break
			}
		}
		var seg *x12.Segment
		seg, err = rd.Next()
		if err != nil {
			err = r.readError(err)
			break
		}
		if len(sp.parts) > 0 && seg.Offset >= sp.parts[0].start {
			var next *x12.Reader
			var done bool
			if next, done, err = sp.seam(r, seg); err != nil {
				break
			}
			if next != nil {
				rd = next
			}
			if done {
				continue
			}
		}
		r.sum.Segments++
		r.see(seg)
		if err = r.segment(seg); err != nil {
			break
		}
		if !sp.tried && r.atSplitPoint() {
			sp.start(r, seg)
		}
	}
	if err == nil {
		err = r.finish()
	}
	r.sum.Bytes = rd.InputOffset()
	return r.sum, err
}

// atSplitPoint reports whether the segment just validated opened an
// iteration of its spec's split loop.
func (r *run) atSplitPoint() bool {
	t := &r.tx
	if !t.open || t.spec == nil || t.spec.split < 0 || len(t.frames) != 2 || len(t.hls) != 0 {
		return false
	}
	f := t.frames[1]
	return f.cur == 0 && t.frames[0].cur == t.spec.split && f.loop == t.spec.root.kids[t.spec.split].loop
}

// start takes the snapshot at the first trigger of the split loop, seg,
// finds where the other parts start and starts them.
func (sp *splitter) start(r *run, seg *x12.Segment) {
	sp.tried = true
	t := &r.tx
	checks := make([]SplitCheck, len(t.checks))
	for i, c := range t.checks {
		sc, ok := c.(SplitCheck)
		if !ok {
			return
		}
		checks[i] = sc
	}
	l := t.spec.root.kids[t.spec.split].loop
	s := &snapshot{spec: t.spec, d: r.d, cls: r.cls, group: t.group, stOrdinal: t.res.Pos.Ordinal,
		frames: slices.Clone(t.frames), counts: slices.Clone(t.counts), hlLast: t.hlLast, version: r.version, trig: l.kids[0].seg, wants: t.wants}
	var starts []int64
	from := seg.Offset + 1
	for i := 1; i < sp.n; i++ {
		at, ok := sp.findTrigger(max(sp.size*int64(i)/int64(sp.n), from), s)
		if !ok {
			continue
		}
		starts = append(starts, at)
		from = at + 1
	}
	if len(starts) == 0 {
		return
	}
	sp.snap = s
	for i, at := range starts {
		p := &part{start: at, next: sp.size + 1, done: make(chan struct{})}
		if i+1 < len(starts) {
			p.next = starts[i+1]
		}
		p.checks = make([]SplitCheck, len(checks))
		cs := make([]Check, len(checks))
		for j, c := range checks {
			p.checks[j] = c.Fork()
			cs[j] = p.checks[j]
		}
		p.run = s.newRun(sp.v, p, cs)
		var ctx context.Context
		ctx, p.cancel = context.WithCancel(sp.ctx)
		sp.parts = append(sp.parts, p)
		go p.validate(ctx, sp, s)
	}
}

// findTrigger returns the offset of the first segment at or after at that
// looks like the split loop's trigger (its ID and an element separator,
// after a segment terminator and line breaks). The start is checked when
// the validation gets there.
func (sp *splitter) findTrigger(at int64, s *snapshot) (int64, bool) {
	pat := append([]byte(s.trig.id), s.d.Element)
	buf := make([]byte, seamWindow)
	for w := 0; w < seamWindows && at < sp.size; w++ {
		n, err := sp.in.ReadAt(buf, at)
		b := buf[:n]
		for i := 1; i < len(b); {
			j := bytes.Index(b[i:], pat)
			if j < 0 {
				break
			}
			j += i
			if afterTerminator(b[:j], s.d.Segment) {
				return at + int64(j), true
			}
			i = j + 1
		}
		if err != nil || n < len(buf) {
			break
		}
		at += int64(n - 64) // overlap, for a match across windows
	}
	return 0, false
}

// afterTerminator reports whether b ends with the segment terminator and,
// unless it is one, line breaks, spaces and tabs (the white space the
// reader skips between segments).
func afterTerminator(b []byte, term byte) bool {
	k := len(b) - 1
	if term != '\r' && term != '\n' && term != '\t' {
		for k >= 0 && (b[k] == '\r' || b[k] == '\n' || b[k] == ' ' || b[k] == '\t') {
			k--
		}
	}
	return k >= 0 && b[k] == term
}

// newRun returns the run of a part, in the snapshot's state.
func (s *snapshot) newRun(v *Validator, p *part, checks []Check) *run {
	r := &run{v: v, d: s.d, cls: s.cls, part: p, version: s.version}
	r.txn.r = r
	t := &r.tx
	t.open, t.spec, t.group = true, s.spec, s.group
	t.frames, t.counts, t.hlLast = slices.Clone(s.frames), slices.Clone(s.counts), s.hlLast
	t.checks, t.wants = checks, s.wants
	return r
}

// validate validates the part, from its start to the next part's, or less
// (see part).
func (p *part) validate(ctx context.Context, sp *splitter, s *snapshot) {
	defer close(p.done)
	r := p.run
	rd := sp.reader(x12.Position{Offset: p.start, Line: 1}, s.d, true)
	for i := 0; ; i++ {
		if i&1023 == 0 && ctx.Err() != nil {
			p.failed = true
			return
		}
		seg, err := rd.Next()
		if err != nil {
			var se *x12.SyntaxError
			switch {
			case err == io.EOF && i > 0:
				p.stop = rd.Position()
			case errors.As(err, &se) && i > 0:
				p.stop = x12.Position{Offset: se.Offset, Ordinal: se.Ordinal - 1, Line: se.Line}
			default: // a read error: the validation will meet it too
				p.failed = true
			}
			return
		}
		idx := idIndex(seg.ID())
		t := &r.tx
		switch {
		case i == 0:
			// The trigger: placed as in the snapshot.
			if idx != s.trig.idx {
				p.failed = true
				return
			}
			r.sum.Segments++
			r.see(seg)
			t.advance(seg)
			r.checkSegment(seg, s.trig)
		case seg.Offset >= p.next:
			p.stop = before(seg)
			if seg.Indented() { // the validation reads seg again from its first byte
				r.skipped(seg)
			}
			if seg.Offset == p.next && idx == s.trig.idx {
				r.sum.Segments++
				r.see(seg)
				t.advance(seg)
				if p.seamCS = r.walk(seg, idx); p.seamCS != nil {
					p.atNext = true
				} else {
					p.stop = rd.Position() // not placed: done with
				}
			}
			return
		case idx == idxISA || idx == idxIEA || idx == idxGS || idx == idxGE || idx == idxST || idx == idxSE || idx == idxTA1:
			p.stop = before(seg)
			if seg.Indented() {
				r.skipped(seg)
			}
			return
		default:
			r.sum.Segments++
			r.see(seg)
			t.advance(seg)
			r.tableSegment(seg, idx)
		}
		if len(p.held) >= partMaxHeld || p.full() {
			p.stop = rd.Position()
			return
		}
	}
}

func (p *part) full() bool {
	for _, c := range p.checks {
		if c.Full() {
			return true
		}
	}
	return false
}

// seam handles seg, the first segment at or past the next part's start:
// at the start, it places the trigger and joins the part (and the parts
// after it while each stopped at the next one's start) when the state is
// the snapshot's. It returns the reader to go on with when that changes,
// and whether seg is done with.
func (sp *splitter) seam(r *run, seg *x12.Segment) (*x12.Reader, bool, error) {
	// A part the validation did not stop at the start of is of no use.
	for len(sp.parts) > 0 && seg.Offset > sp.parts[0].start {
		sp.drop()
	}
	if len(sp.parts) == 0 || seg.Offset != sp.parts[0].start {
		return nil, false, nil
	}
	s := sp.snap
	idx := idIndex(seg.ID())
	if idx != s.trig.idx || !r.tx.open || r.tx.spec != s.spec {
		sp.drop()
		return nil, false, nil
	}
	t := &r.tx
	r.sum.Segments++
	r.see(seg)
	t.advance(seg)
	cs := r.walk(seg, idx)
	at := before(seg)
	for {
		if cs == nil || !r.atSnapshot(s) {
			sp.drop()
			return sp.finishTrigger(r, seg, at, cs)
		}
		p := sp.parts[0]
		sp.parts = sp.parts[1:]
		<-p.done
		p.cancel()
		if p.failed {
			return sp.finishTrigger(r, seg, at, cs)
		}
		shift := Shift{Ordinal: at.Ordinal, Line: at.Line - 1, SetPos: t.setPos - 1}
		if err := r.join(p, shift); err != nil {
			return nil, true, err
		}
		r.sum.Parts = max(r.sum.Parts, 1) + 1
		next := x12.Position{Offset: p.stop.Offset, Ordinal: p.stop.Ordinal + shift.Ordinal, Line: p.stop.Line + shift.Line}
		if !p.atNext {
			return sp.reader(next, r.d, true), true, nil
		}
		// The part placed the trigger the next part starts at.
		seg, at, cs = nil, next, p.seamCS
		if len(sp.parts) == 0 || sp.parts[0].start != at.Offset {
			return sp.finishTrigger(r, nil, at, cs)
		}
	}
}

// finishTrigger checks the trigger at at, which the walker placed as cs
// (nil: not placed), when no part was joined there. seg is the trigger,
// nil when it is to be read again; the reader returned is the one to go on
// with (nil: the current one).
func (sp *splitter) finishTrigger(r *run, seg *x12.Segment, at x12.Position, cs *cSeg) (*x12.Reader, bool, error) {
	var rd *x12.Reader
	if seg == nil {
		rd = sp.reader(at, r.d, true)
		var err error
		if seg, err = rd.Next(); err != nil { // it was read before: a read error
			return nil, true, err
		}
	}
	if cs != nil {
		r.checkSegment(seg, cs)
	}
	return rd, true, nil
}

// before returns the place just before seg, where a reader would read it
// next.
func before(seg *x12.Segment) x12.Position {
	return x12.Position{Offset: seg.Offset, Ordinal: seg.Ordinal - 1, Line: seg.Line}
}

// drop stops the next part and forgets it.
func (sp *splitter) drop() {
	p := sp.parts[0]
	sp.parts = sp.parts[1:]
	p.cancel()
	<-p.done
}

// stopParts stops the parts not joined and waits for them.
func (sp *splitter) stopParts(cancel context.CancelFunc) {
	cancel()
	for _, p := range sp.parts {
		<-p.done
	}
	sp.parts = nil
}

// atSnapshot reports whether the run, having just placed a trigger of the
// split loop, is in the snapshot's state.
func (r *run) atSnapshot(s *snapshot) bool {
	t := &r.tx
	if !t.open || t.spec != s.spec || t.res.Pos.Ordinal != s.stOrdinal || r.d != s.d ||
		len(t.frames) != len(s.frames) || len(t.hls) != 0 || t.hlLast != s.hlLast {
		return false
	}
	for d, f := range t.frames {
		if f != s.frames[d] {
			return false
		}
		l := f.loop
		a, b := t.counts[l.base:l.base+len(l.kids)], s.counts[l.base:l.base+len(l.kids)]
		for i := range a {
			if a[i] != b[i] && (d != len(t.frames)-2 || i != f.cur) {
				return false
			}
		}
	}
	return true
}

// join takes over the work of part p, which started at the trigger the run
// has just placed, in the snapshot's state.
func (r *run) join(p *part, s Shift) error {
	t, u := &r.tx, &p.run.tx
	for i, c := range t.checks {
		if err := c.(SplitCheck).Join(p.checks[i], s); err != nil {
			return err
		}
	}
	for i := range p.held {
		f := p.held[i]
		f.Pos = s.Pos(f.Pos)
		if f.Level == LevelInterchange { // white space before a segment (a byte order mark is never in a part)
			f.SetPos = 0
			r.layoutWarning(f, layoutIndented)
			continue
		}
		r.txFinding(f)
	}
	if u := p.run.lastSeg; u != nil { // the part's reader is done with: the segment stays as it was
		last := *u
		last.Ordinal += s.Ordinal
		last.Line += s.Line
		r.lastSeg = &last
	}
	split := t.spec.root.base + t.spec.split
	uses := t.counts[split] // iterations of the loop up to the part's
	t.frames = append(t.frames[:0], u.frames...)
	copy(t.counts, u.counts)
	t.counts[split] += uses - 1
	t.setPos = u.setPos + s.SetPos
	t.orphan = u.orphan
	t.cur = s.Pos(u.cur)
	r.sum.Segments += p.run.sum.Segments - 1 // the trigger both placed
	return nil
}
