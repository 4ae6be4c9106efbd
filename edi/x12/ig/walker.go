package ig

import (
	"fmt"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// The walker follows a transaction set through its table the way pyx12's
// map walker does. The state is a stack of open loop iterations; for each
// segment it searches forward from the current position in the innermost
// loop, enters child loops whose trigger matches, and otherwise pops to the
// enclosing loops and searches on there. Required segments and loops passed
// over on the way are reported missing once the segment is placed.

// txState is the state of the open transaction set.
type txState struct {
	open     bool
	loopSegs int // segments since the last loop began (Options.MaxLoopSegments)
	res      TransactionResult
	group    *GroupInfo
	spec     *compiledSpec
	counts   []int32 // per loop (from cLoop.base): uses of each child in its open iteration
	frames   []frame
	hls      []hlLevel // the open HL levels
	pending  []missing
	findings []Finding
	codes    []string
	checks   []Check
	wants    [][]bool // per check, the segment kinds it looks at (nil: all)
	cur      Pos      // the current segment
	setPos   int
	hlLast   int
	orphan   *cLoop // the loop the previous segment belonged to, unplaced for want of its trigger (see missingTrigger)

	errors, warn, segErr, stdErr bool
	groupWarn                    bool // a set of the open group was accepted with errors
}

// frame is one open loop iteration. Its counts, the uses of each child
// (segment uses or loop iterations), are txState.counts from loop.base.
type frame struct {
	loop *cLoop
	cur  int // index of the child last matched, -1 before any
	hl   int // for a loop opened by HL: 1 + its index in txState.hls
}

// hlLevel remembers an HL segment until its level closes, to check HL04.
type hlLevel struct {
	id    [12]byte // HL01
	idLen uint8
	hl04  byte // first byte of HL04, 0 when absent
	child bool // a subordinate HL named this one as parent
	pos   Pos
}

// missing is a required segment or loop passed over during a search.
type missing struct {
	node  *cNode
	depth int
	group int
}

// specState holds the per-run counters of one spec.
type specState struct{ counts []int32 }

func newSpecState(cs *compiledSpec) *specState {
	return &specState{counts: make([]int32, cs.nCounts)}
}

func (t *txState) begin(seg *x12.Segment) {
	group := t.group
	*t = txState{
		open: true, group: group, groupWarn: t.groupWarn,
		frames: t.frames[:0], hls: t.hls[:0], pending: t.pending[:0], findings: t.findings[:0], codes: t.codes[:0], checks: t.checks[:0],
		res:    TransactionResult{Codes: t.res.Codes[:0]},
		setPos: 1,
		cur:    Pos{Ordinal: seg.Ordinal, Offset: seg.Offset, Line: seg.Line, SetPos: 1, Segment: "ST"},
	}
	t.res.Pos = t.cur
}

// advance makes seg the current segment of the open transaction set, the
// next in it.
func (t *txState) advance(seg *x12.Segment) {
	t.setPos++
	t.cur = Pos{Ordinal: seg.Ordinal, Offset: seg.Offset, Line: seg.Line, SetPos: t.setPos}
}

// tableSegment places a segment of a supported transaction set in the table
// and checks it.
func (r *run) tableSegment(seg *x12.Segment, idx int) {
	if cs := r.walk(seg, idx); cs != nil {
		r.checkSegment(seg, cs)
	}
}

// checkSegment checks a segment the walker placed as cs.
func (r *run) checkSegment(seg *x12.Segment, cs *cSeg) {
	r.tx.cur.Loop, r.tx.cur.Segment = cs.loopID, cs.id
	if errs := r.checkElements(seg, cs); len(errs) > 0 {
		for i := range errs {
			if r.version != r.tx.group.Version && cs.id == "ST" && errs[i].elem == 3 && string(errs[i].value) == r.tx.group.Version {
				continue // ST03 names the version GS08 does, which versionAliases maps to the guide's
			}
			r.txFinding(r.elemFinding(&errs[i], cs.id, LevelElement))
		}
	}
	for j, c := range r.tx.checks {
		if w := r.tx.wants[j]; w == nil || w[cs.kind] {
			c.Segment(&r.txn, seg)
		}
	}
}

// matches reports whether seg, whose ID matched, has the qualifier.
func (s *cSeg) matches(seg *x12.Segment) bool {
	if s.qualElem == 0 {
		return true
	}
	if s.qualComp {
		return s.qual.has(seg.Component(s.qualElem, 1))
	}
	return s.qual.has(seg.Element(s.qualElem))
}

func (r *run) walk(seg *x12.Segment, idx int) *cSeg {
	t := &r.tx
	t.pending = t.pending[:0]
	orphan := t.orphan
	t.orphan = nil
	kind := t.spec.kindOf(idx)
	// The qualifier value, read once for the candidates that look at the
	// same place.
	qkey, qval := int8(-1), uint64(0)
	for d := len(t.frames) - 1; d >= 0; d-- {
		f := &t.frames[d]
		l := f.loop
		counts := t.counts[l.base : l.base+len(l.kids)]
		from := 0
		if f.cur >= 0 {
			from = l.group[f.cur]
		}
		i := -1
		for j, end := int(l.candAt[kind]), int(l.candAt[kind+1]); j < end; j++ {
			c := &l.cands[j]
			if int(c.child) < from {
				continue
			}
			if c.qualElem != 0 {
				if k := c.qualKey(); k != qkey {
					qkey, qval = k, c.qualifier(seg)
				}
				if c.qualOne != 0 {
					if qval != c.qualOne {
						continue
					}
				} else if !c.hasQualifier(seg, qval) {
					continue
				}
			}
			i = int(c.child)
			break
		}
		// Required children passed over, up to the match or the loop's end.
		for _, q := range l.required[l.reqFrom[from]:] {
			if q >= i && i >= 0 {
				break
			}
			if counts[q] == 0 {
				t.pending = append(t.pending, missing{node: &l.kids[q], depth: d, group: l.group[q]})
			}
		}
		if i < 0 {
			continue
		}
		k := &l.kids[i]
		if d < len(t.frames)-1 {
			r.popTo(d)
		}
		if k.loop != nil {
			return r.enter(d, i, seg)
		}
		if i == 0 && d > 0 {
			// The loop's own trigger: the next iteration of the loop.
			r.popTo(d - 1)
			return r.enter(d-1, t.frames[d-1].cur, seg)
		}
		if len(t.pending) > 0 {
			r.flushPending(d, l.group[i])
		}
		counts[i]++
		f.cur = i
		if k.seg.usage == NotUsed || (k.seg.maxUse > 0 && int(counts[i]) > k.seg.maxUse) {
			r.checkUse(k.seg, int(counts[i]))
		}
		return k.seg
	}
	if cs := r.missingTrigger(seg, idx, orphan); cs != nil {
		return cs
	}
	r.notFound(seg, idx)
	return nil
}

// missingTrigger handles seg, which has no place at this point of the
// table and is not out of sequence, when it belongs to a loop whose trigger
// is missing: the first loop after the current position of an open loop,
// from the innermost outwards, that is not opened by HL and has seg among
// its own segments. The first such segment is left unexpected, and the
// loop remembered (txState.orphan): a segment out of order just before its
// loop's trigger (N3 before NX1) is only that. When the next segment
// belongs to the same loop too (orphan), the trigger is missing (a claim
// without its CLM): it is reported missing (IK304 3) and the loop opened as
// if it had been there, so that the rest of the loop is placed and checked
// rather than each segment reported unexpected. It returns what seg was
// placed as, nil when it was not.
func (r *run) missingTrigger(seg *x12.Segment, idx int, orphan *cLoop) *cSeg {
	t := &r.tx
	if idx < 0 || t.spec.kindOf(idx) == 0 || r.earlier(seg, idx) {
		return nil
	}
	for d := len(t.frames) - 1; d >= 0; d-- {
		f := &t.frames[d]
		l := f.loop
		from := 0
		if f.cur >= 0 {
			from = l.group[f.cur]
		}
		for i := from; i < len(l.kids); i++ {
			c := l.kids[i].loop
			if c == nil || c.hl || c.usage == NotUsed || !c.holds(seg, idx) {
				continue
			}
			if c != orphan {
				t.orphan = c
				return nil
			}
			trig := c.kids[0].seg
			// Required children passed over: the rest of the loops closed,
			// and those before the loop.
			t.pending = t.pending[:0]
			for dd := len(t.frames) - 1; dd >= d; dd-- {
				fl := t.frames[dd].loop
				start := 0
				if c := t.frames[dd].cur; c >= 0 {
					start = fl.group[c]
				}
				counts := t.counts[fl.base : fl.base+len(fl.kids)]
				for _, q := range fl.required[fl.reqFrom[start]:] {
					if (dd > d || q < i) && counts[q] == 0 {
						t.pending = append(t.pending, missing{node: &fl.kids[q], depth: dd, group: fl.group[q]})
					}
				}
			}
			r.popTo(d)
			r.flushPending(d, -1)
			r.segFinding(trig.id, c.id, SegRequiredMissing, fmt.Sprintf("segment %s opening loop %s (%s) is missing: segment %s belongs to that loop",
				trig.id, c.id, c.name, printable(seg.ID())))
			r.enter(d, i, seg)
			f := &t.frames[len(t.frames)-1]
			counts := t.counts[c.base : c.base+len(c.kids)]
			for j := 1; j < len(c.kids); j++ {
				if k := c.kids[j].seg; k != nil && k.idx == idx && k.usage != NotUsed && k.matches(seg) {
					counts[j]++
					f.cur = j
					return k
				}
			}
		}
	}
	return nil
}

// holds reports whether one of the loop's own segments after its trigger
// is seg.
func (l *cLoop) holds(seg *x12.Segment, idx int) bool {
	for j := 1; j < len(l.kids); j++ {
		if k := l.kids[j].seg; k != nil && k.idx == idx && k.usage != NotUsed && k.matches(seg) {
			return true
		}
	}
	return false
}

// checkUse reports a not-used segment or one over its maximum use.
func (r *run) checkUse(s *cSeg, uses int) {
	switch {
	case s.usage == NotUsed:
		r.segFinding(s.id, s.loopID, SegNotUsedPresent, fmt.Sprintf("segment %s (%s) is not used by the implementation guide", s.id, s.name))
	case s.maxUse > 0 && uses > s.maxUse:
		r.segFinding(s.id, s.loopID, SegOverMaxUse, fmt.Sprintf("segment %s (%s) occurs %d times, at most %d allowed", s.id, s.name, uses, s.maxUse))
	}
}

// enter opens a new iteration of child loop i of frame d (the top frame).
func (r *run) enter(d, i int, seg *x12.Segment) *cSeg {
	t := &r.tx
	f := &t.frames[d]
	if len(t.pending) > 0 {
		r.flushPending(d, f.loop.group[i])
	}
	parentCounts := t.counts[f.loop.base : f.loop.base+len(f.loop.kids)]
	parentCounts[i]++
	f.cur = i
	c := f.loop.kids[i].loop
	trig := c.kids[0].seg
	switch n := int(parentCounts[i]); {
	case c.usage == NotUsed:
		r.segFinding(trig.id, c.id, SegNotUsedPresent, fmt.Sprintf("loop %s (%s) is not used by the implementation guide", c.id, c.name))
	case c.repeat > 0 && n > c.repeat:
		r.segFinding(trig.id, c.id, SegLoopOverMax, fmt.Sprintf("loop %s (%s) occurs %d times, at most %d allowed", c.id, c.name, n, c.repeat))
	}
	counts := t.counts[c.base : c.base+len(c.kids)]
	clear(counts)
	counts[0] = 1
	t.loopSegs = 0
	t.frames = append(t.frames, frame{loop: c, cur: 0})
	if c.hl {
		r.hlEnter(seg, c)
	}
	return trig
}

// popTo closes the loop iterations above frame d.
func (r *run) popTo(d int) {
	t := &r.tx
	for j := len(t.frames) - 1; j > d; j-- {
		if h := t.frames[j].hl; h > 0 {
			r.hlLeave(&t.hls[h-1])
			t.hls = t.hls[:h-1]
		}
	}
	t.frames = t.frames[:d+1]
}

// flushPending reports the required nodes passed over, except those in the
// position group of the match at frame d: they may still follow.
func (r *run) flushPending(d, group int) {
	t := &r.tx
	for _, m := range t.pending {
		if m.depth == d && m.group == group {
			continue
		}
		trig := m.node.trigger()
		if m.node.loop != nil {
			l := m.node.loop
			r.segFinding(trig.id, l.id, SegRequiredMissing, fmt.Sprintf("required loop %s (%s) is missing", l.id, l.name))
		} else {
			r.segFinding(trig.id, trig.loopID, SegRequiredMissing, fmt.Sprintf("required segment %s (%s) is missing", trig.id, trig.name))
		}
	}
	t.pending = t.pending[:0]
}

// notFound reports a segment that has no place at this point of the table.
func (r *run) notFound(seg *x12.Segment, idx int) {
	t := &r.tx
	t.pending = t.pending[:0]
	id := printable(seg.ID())
	loopID := t.frames[len(t.frames)-1].loop.id
	switch {
	case idx < 0:
		r.segFinding(id, loopID, SegUnrecognized, fmt.Sprintf("unrecognized segment ID %q", id))
	case t.spec.kindOf(idx) == 0:
		code := SegUnrecognized
		if r.v.reg.knownID(idx) {
			code = SegNotInSet
		}
		r.segFinding(id, loopID, code, fmt.Sprintf("segment %s is not in the %s transaction set", id, t.spec.spec.SetID))
	case r.earlier(seg, idx):
		r.segFinding(id, loopID, SegOutOfSequence, fmt.Sprintf("segment %s is out of sequence", id))
	default:
		r.segFinding(id, loopID, SegUnexpected, fmt.Sprintf("segment %s is not expected here", id))
	}
}

// earlier reports whether seg would have matched a node before the current
// position of an open loop: it is out of sequence rather than unexpected.
func (r *run) earlier(seg *x12.Segment, idx int) bool {
	for _, f := range r.tx.frames {
		end := 0
		if f.cur >= 0 {
			end = f.loop.group[f.cur]
		}
		for i := 0; i < end; i++ {
			if trig := f.loop.trig[i]; trig.idx == idx && trig.matches(seg) {
				return true
			}
		}
	}
	return false
}

func (r *run) segFinding(id, loopID, code, msg string) {
	p := r.tx.cur
	p.Segment, p.Loop = id, loopID
	r.txFinding(Finding{Pos: p, Level: LevelSegment, Code: code, Msg: msg})
}

// --- hierarchical levels ------------------------------------------------------------

// hlEnter checks a new HL: HL01 counts up from 1 in the transaction set, and
// HL02 names the HL of the enclosing level. The new frame is on top.
func (r *run) hlEnter(seg *x12.Segment, c *cLoop) {
	t := &r.tx
	top := &t.frames[len(t.frames)-1]
	pos := t.cur
	pos.Loop, pos.Segment = c.id, "HL"
	id := seg.Element(1)
	n, ok := atoi(id)
	if !ok || n != t.hlLast+1 {
		r.txFinding(Finding{Pos: pos, Level: LevelElement, Code: ElemPatternMismatch, Element: 1, ElementRef: "628",
			Msg: fmt.Sprintf("HL01 (Hierarchical ID Number) must be %d: HL IDs count up from 1 in the transaction set", t.hlLast+1), Value: string(id)})
	}
	if ok {
		t.hlLast = n
	} else {
		t.hlLast++
	}
	parentID := seg.Element(2)
	if len(t.hls) > 0 {
		parent := &t.hls[len(t.hls)-1]
		parent.child = true
		if string(parentID) != string(parent.id[:parent.idLen]) {
			r.txFinding(Finding{Pos: pos, Level: LevelElement, Code: ElemPatternMismatch, Element: 2, ElementRef: "734",
				Msg: fmt.Sprintf("HL02 (Hierarchical Parent ID Number) must name the enclosing %s level's HL01", parent.pos.Loop), Value: string(parentID)})
		}
	}
	h := hlLevel{pos: pos}
	h.idLen = uint8(copy(h.id[:], id))
	if v := seg.Element(4); len(v) > 0 {
		h.hl04 = v[0]
	}
	t.hls = append(t.hls, h)
	top.hl = len(t.hls)
}

// hlLeave checks HL04 when a level closes: 1 if and only if a subordinate
// level followed.
func (r *run) hlLeave(h *hlLevel) {
	var msg string
	switch {
	case h.hl04 == '1' && !h.child:
		msg = "HL04 (Hierarchical Child Code) is 1 but no subordinate HL level follows"
	case h.hl04 == '0' && h.child:
		msg = "HL04 (Hierarchical Child Code) is 0 but a subordinate HL level follows"
	default:
		return
	}
	r.txFinding(Finding{Pos: h.pos, Level: LevelElement, Code: ElemPatternMismatch, Element: 4, ElementRef: "736", Msg: msg, Value: string(h.hl04)})
}
