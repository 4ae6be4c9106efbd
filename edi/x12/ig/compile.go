package ig

import (
	"fmt"
	"math/bits"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// The validator works on a compiled copy of a Spec: segment IDs packed into
// integers, code lists turned into sets, syntax rules parsed into bit masks,
// position groups and qualifiers worked out once.

type compiledSpec struct {
	spec   *Spec
	root   *cLoop
	loops  []*cLoop  // every loop
	checks *checkSet // semantic checks registered with the spec; nil for none
	// kinds numbers the segment IDs of the spec from 1 (0: not in the
	// spec), indexed by idIndex: a lookup per segment instead of a search.
	kinds   []uint8
	nKind   int
	nCounts int // counters of all loops, see cLoop.base
	// split is the index in root.kids of the loop a split validation may
	// cut the transaction set at (see split.go), -1 for none.
	split int
}

type cLoop struct {
	id     string // "" for the transaction set itself
	name   string
	usage  Usage
	repeat int // 0: unbounded
	kids   []cNode
	trig   []*cSeg // trig[i]: the segment that opens child i
	group  []int   // group[i]: index of the first child of child i's position group
	hl     bool    // the trigger is HL
	// cands[candAt[kind]:candAt[kind+1]] are, ascending, the children
	// whose trigger has the segment ID numbered kind, with what it takes to
	// match them, in one array for locality. required lists the required
	// children.
	candAt   []uint16
	cands    []cand
	required []int
	reqFrom  []int // reqFrom[i]: index in required of the first required child at or after i
	base     int   // offset of the loop's counters in txState.counts
}

// cNode is a compiled child of a loop: exactly one of seg and loop is set.
type cNode struct {
	seg  *cSeg
	loop *cLoop
}

func (n *cNode) usage() Usage {
	if n.seg != nil {
		return n.seg.usage
	}
	return n.loop.usage
}

// trigger returns the segment that opens the node: itself, or a loop's first.
func (n *cNode) trigger() *cSeg {
	if n.seg != nil {
		return n.seg
	}
	return n.loop.kids[0].seg
}

type cSeg struct {
	id       string
	idx      int // idIndex of id
	name     string
	loopID   string
	usage    Usage
	maxUse   int
	elems    []cElem
	rules    []cRule
	qualElem int  // 1-based element holding the qualifier; 0: none
	qualComp bool // the qualifier is component 1 of a composite
	qual     codeSet
	dateFmt  int    // 1-based position of a date format qualifier (1250) followed by its date (1251); 0: none
	reqMask  uint64 // bits of the required elements (positions up to 64)
	kind     int    // number of the segment ID in the spec
	hot      []hotElem
}

// hotElem is what checkElements needs of an element for a plain value that
// passes its shortcut test, kept apart from the rest (in cElem) for
// locality.
type hotElem struct {
	fast     uint8
	min, max uint16
	one      uint64   // fastCode: the code packed, when there is exactly one
	few      []uint64 // fastCode: the codes packed, when there are 2 to 8, all short
	many     *codeSet // fastCode: the codes, when neither one nor few
}

// good reports whether a plain value (printable, no separators) passes the
// shortcut test of its element: true means good, false means look closer.
func (h *hotElem) good(v []byte) bool {
	switch h.fast {
	case fastLength:
		return len(v) >= int(h.min) && len(v) <= int(h.max)
	case fastCode:
		p, _ := pack(v) // 0 when too long: never a code
		switch {
		case p == 0:
			return false
		case p == h.one:
			return true
		case h.few != nil:
			return slices.Contains(h.few, p)
		}
		return h.many != nil && h.many.hasMany(v)
	case fastInt:
		n := intDigits(v)
		return n >= int(h.min) && n <= int(h.max)
	case fastDecimal:
		n, ok := decimalDigits(v)
		return ok && n >= int(h.min) && n <= int(h.max)
	}
	return false
}

type cElem struct {
	ref, name string
	usage     Usage
	kind      kind
	min, max  int
	repeat    int
	codes     codeSet
	fast      uint8 // a shortcut for plain values, see checkElements
	list      string
	listSet   *codeSet // the built-in copy of list, if any
	stable    bool     // list is checked by default (see StableCodeLists)
	pattern   *regexp.Regexp
	comps     []cElem
	hot       []hotElem // of comps
	reqMask   uint64    // bits of the required comps
	rules     []cRule
}

type kind uint8

const (
	kAN kind = iota + 1
	kID
	kDT
	kTM
	kR
	kN
	kB
	kComposite
)

type cRule struct {
	kind  byte
	pos   []int  // 1-based positions
	mask  uint64 // bits of pos
	first uint64 // bit of pos[0]
	text  string
}

// holds reports whether the rule holds for the present elements.
func (r *cRule) holds(present uint64) bool {
	p := present & r.mask
	switch r.kind {
	case 'P':
		return p == 0 || p == r.mask
	case 'R':
		return p != 0
	case 'E':
		return p&(p-1) == 0
	case 'C':
		return p&r.first == 0 || p == r.mask
	case 'L':
		return p&r.first == 0 || p&^r.first != 0
	}
	return true
}

// codeSet is a set of valid codes. Codes of up to 7 bytes (nearly all) are
// packed into integers with their length, so that a lookup compares
// integers: a scan for up to 8 codes, a binary search beyond. Longer codes
// go in a map.
type codeSet struct {
	one    []byte    // the code, when the set has exactly one
	packed []uint64  // sorted
	hashed packedSet // packed, for sets of more than 8
	long   map[string]struct{}
}

// packedSet holds packed codes (never 0) for one-probe membership tests:
// open addressing in a power-of-two table at most half full. A binary
// search of a 30-code set cost 6% of validating an 834.
type packedSet struct {
	slots []uint64 // 0: empty
	shift uint8
}

func newPackedSet(codes []uint64) packedSet {
	n := 16
	for n < 2*len(codes) {
		n <<= 1
	}
	s := packedSet{slots: make([]uint64, n), shift: uint8(64 - bits.TrailingZeros(uint(n)))}
	for _, c := range codes {
		i := s.slot(c)
		for s.slots[i] != 0 && s.slots[i] != c {
			i = (i + 1) & (n - 1)
		}
		s.slots[i] = c
	}
	return s
}

func (s *packedSet) slot(c uint64) int { return int((c * 0x9E3779B97F4A7C15) >> s.shift) }

func (s *packedSet) has(c uint64) bool {
	if c == 0 {
		return false
	}
	mask := len(s.slots) - 1
	for i := s.slot(c); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case c:
			return true
		case 0:
			return false
		}
	}
}

func newCodeSet(codes []string) codeSet {
	var s codeSet
	if len(codes) == 1 {
		s.one = []byte(codes[0])
	}
	for _, c := range codes {
		if p, ok := pack([]byte(c)); ok {
			s.packed = append(s.packed, p)
			continue
		}
		if s.long == nil {
			s.long = map[string]struct{}{}
		}
		s.long[c] = struct{}{}
	}
	slices.Sort(s.packed)
	if len(s.packed) > 8 {
		s.hashed = newPackedSet(s.packed)
	}
	return s
}

// pack packs up to 7 bytes and their length into an integer.
func pack(v []byte) (uint64, bool) {
	if len(v) > 7 {
		return 0, false
	}
	x := uint64(len(v))
	for _, c := range v {
		x = x<<8 | uint64(c)
	}
	return x | uint64(len(v))<<56, true
}

func (c *codeSet) empty() bool { return c.packed == nil && c.long == nil }

func (c *codeSet) has(v []byte) bool {
	if c.one != nil {
		return string(v) == string(c.one)
	}
	return c.hasMany(v)
}

func (c *codeSet) hasMany(v []byte) bool {
	p, ok := pack(v)
	if !ok {
		_, found := c.long[string(v)]
		return found
	}
	return c.hasPacked(p)
}

// hasPacked reports whether the packed value p is one of the packed codes.
func (c *codeSet) hasPacked(p uint64) bool {
	if len(c.packed) <= 8 {
		return slices.Contains(c.packed, p)
	}
	return c.hashed.has(p)
}

// A checkSet is the semantic checks registered with a spec in one
// registry, with what the first set taught about which segments they want.
// The compiled table itself is shared by every registry holding the spec
// (see withChecks); the checkSet is not.
type checkSet struct {
	makers []func() Check
	once   sync.Once
	wants  [][]bool // per check, the segment kinds it looks at (nil: all), set by once
}

// withChecks returns a copy of cs that shares its compiled table and has
// its own checks.
func (cs *compiledSpec) withChecks(checks []func() Check) *compiledSpec {
	c := *cs
	c.checks = nil
	if len(checks) > 0 {
		c.checks = &checkSet{makers: checks}
	}
	return &c
}

// makers returns the functions that make the checks of a set.
func (cs *compiledSpec) makers() []func() Check {
	if cs.checks == nil {
		return nil
	}
	return cs.checks.makers
}

type compiler struct {
	cs  *compiledSpec
	err error
}

func compile(s *Spec) (*compiledSpec, error) {
	c := &compiler{cs: &compiledSpec{spec: s, kinds: make([]uint8, idSpace)}}
	if s.SetID == "" || s.Version == "" {
		return nil, fmt.Errorf("ig: spec %q: SetID and Version are required", s.Name)
	}
	root := &Loop{Usage: Required, Repeat: 1, Children: s.Children}
	c.cs.root = c.loop(root, "")
	if c.err != nil {
		return nil, fmt.Errorf("ig: spec %s %s: %w", s.SetID, s.Version, c.err)
	}
	kids := c.cs.root.kids
	if len(kids) < 2 || kids[0].seg == nil || kids[0].seg.id != "ST" || kids[len(kids)-1].seg == nil || kids[len(kids)-1].seg.id != "SE" {
		return nil, fmt.Errorf("ig: spec %s %s: the transaction set must start with ST and end with SE", s.SetID, s.Version)
	}
	for _, l := range c.cs.loops {
		l.base = c.cs.nCounts
		c.cs.nCounts += len(l.kids)
		l.candAt = make([]uint16, c.cs.nKind+2)
		for k := 1; k <= c.cs.nKind; k++ {
			l.candAt[k] = uint16(len(l.cands))
			for i, t := range l.trig {
				if t.kind == k {
					cd := cand{child: int32(i), seg: t, qualElem: int8(t.qualElem), qualComp: t.qualComp}
					switch q := &t.qual; {
					case q.one != nil:
						cd.qualOne, _ = pack(q.one) // 0 when too long to pack
					case q.long == nil:
						cd.qualSet = &t.qual
					}
					l.cands = append(l.cands, cd)
				}
			}
		}
		l.candAt[c.cs.nKind+1] = uint16(len(l.cands))
	}
	c.cs.split = splitLoop(c.cs)
	return c.cs, nil
}

// cand is a child of a loop that a segment ID can start: the walker's hot
// data, kept together.
type cand struct {
	child    int32
	qualElem int8     // the element holding the qualifier, 0: none
	qualComp bool     // the qualifier is its first component
	qualOne  uint64   // the qualifier code packed, when there is exactly one
	qualSet  *codeSet // else the codes, when all can be packed
	seg      *cSeg
}

// noCode is a packed value that is never a packed code.
const noCode = ^uint64(0)

// qualKey names where the candidate's qualifier is: candidates with the
// same key read the same value from a segment.
func (c *cand) qualKey() int8 {
	k := c.qualElem << 1
	if c.qualComp {
		k |= 1
	}
	return k
}

// qualifier returns the candidate's qualifier value in seg, packed; noCode
// when it is too long to be a packed code.
func (c *cand) qualifier(seg *x12.Segment) uint64 {
	v := seg.Element(int(c.qualElem))
	if c.qualComp {
		d := seg.Delimiters()
		for i, b := range v {
			if b == d.Component || (b == d.Repetition && b != 0) {
				v = v[:i]
				break
			}
		}
	}
	if p, ok := pack(v); ok {
		return p
	}
	return noCode
}

// hasQualifier reports whether seg, whose ID is the candidate's and whose
// qualifier value is q (from qualifier), has one of its codes.
func (c *cand) hasQualifier(seg *x12.Segment, q uint64) bool {
	switch {
	case c.qualOne != 0:
		return q == c.qualOne
	case c.qualSet != nil:
		return q != noCode && c.qualSet.hasPacked(q)
	}
	return c.seg.matches(seg) // codes too long to pack
}

// idSpace is the number of possible segment IDs: a letter, then one or two
// letters or digits.
const idSpace = 26 * 37 * 37

var alnum37 = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = int8(c-'0') + 1
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = int8(c-'A') + 11
	}
	return t
}()

// idIndex numbers a segment ID in [0, idSpace), or returns -1 when it is
// not one (a letter, then one or two capital letters or digits).
func idIndex(id []byte) int {
	if len(id) < 2 || len(id) > 3 || id[0] < 'A' || id[0] > 'Z' {
		return -1
	}
	b, c := int(alnum37[id[1]]), 0
	if len(id) == 3 {
		c = int(alnum37[id[2]])
	}
	if b <= 0 || c < 0 {
		return -1
	}
	return (int(id[0]-'A')*37+b)*37 + c
}

// wants returns, per check, the segment kinds it looks at (nil: all),
// learnt from checks, the first set's.
func (cs *compiledSpec) wants(checks []Check) [][]bool {
	if cs.checks == nil {
		return nil
	}
	cs.checks.once.Do(func() {
		for _, c := range checks {
			var wants []bool // nil: every segment
			if f, ok := c.(SegmentFilter); ok {
				wants = make([]bool, cs.nKind+1)
				for _, id := range f.SegmentIDs() {
					wants[cs.kindOf(idIndex([]byte(id)))] = true
				}
				wants[0] = false
			}
			cs.checks.wants = append(cs.checks.wants, wants)
		}
	})
	return cs.checks.wants
}

// kindOf returns the number in the spec of the segment ID numbered idx by
// idIndex, 0 if the spec has no such segment.
func (cs *compiledSpec) kindOf(idx int) int {
	if idx < 0 {
		return 0
	}
	return int(cs.kinds[idx])
}

func (c *compiler) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf(format, args...)
	}
}

func (c *compiler) loop(l *Loop, id string) *cLoop {
	cl := &cLoop{id: id, name: l.Name, usage: l.Usage, repeat: l.Repeat}
	c.cs.loops = append(c.cs.loops, cl)
	if len(l.Children) == 0 {
		c.fail("loop %s has no children", id)
		return cl
	}
	positions := make([]int, len(l.Children))
	for i, n := range l.Children {
		switch n := n.(type) {
		case *Segment:
			cl.kids = append(cl.kids, cNode{seg: c.segment(n, id)})
			positions[i] = n.Pos
		case *Loop:
			if n.ID == "" {
				c.fail("a loop inside %q has no ID", id)
				return cl
			}
			cl.kids = append(cl.kids, cNode{loop: c.loop(n, n.ID)})
			positions[i] = n.Pos
		default:
			c.fail("loop %q: child %d is %T, want *Segment or *Loop", id, i, n)
			return cl
		}
	}
	if cl.kids[0].seg == nil && id != "" {
		c.fail("loop %s must start with a segment", id)
		return cl
	}
	cl.hl = cl.kids[0].seg != nil && cl.kids[0].seg.id == "HL"
	cl.group = make([]int, len(cl.kids))
	cl.trig = make([]*cSeg, len(cl.kids))
	for i := range cl.kids {
		if i > 0 && positions[i] == positions[i-1] {
			cl.group[i] = cl.group[i-1]
		} else {
			cl.group[i] = i
		}
		cl.trig[i] = cl.kids[i].trigger()
		if cl.kids[i].usage() == Required {
			cl.required = append(cl.required, i)
		}
	}
	cl.reqFrom = make([]int, len(cl.kids)+1)
	for i, q := len(cl.kids), len(cl.required); i >= 0; i-- {
		for q > 0 && cl.required[q-1] >= i {
			q--
		}
		cl.reqFrom[i] = q
	}
	return cl
}

func (c *compiler) segment(s *Segment, loopID string) *cSeg {
	i := idIndex([]byte(s.ID))
	if i < 0 {
		c.fail("segment ID %q must be a letter and one or two letters or digits", s.ID)
		return &cSeg{}
	}
	cs := &cSeg{id: s.ID, idx: i, name: s.Name, loopID: loopID, usage: s.Usage, maxUse: s.MaxUse}
	if c.cs.kinds[i] == 0 {
		if c.cs.nKind == 255 {
			c.fail("more than 255 segment IDs")
		}
		c.cs.nKind++
		c.cs.kinds[i] = uint8(c.cs.nKind)
	}
	cs.kind = int(c.cs.kinds[i])
	cs.elems = c.elements(s.Elements, s.ID)
	cs.hot = hotElems(cs.elems)
	for i := range cs.elems {
		if cs.elems[i].usage == Required && i < 64 {
			cs.reqMask |= 1 << i
		}
	}
	cs.rules = c.rules(s.Syntax, len(s.Elements), s.ID)
	// The qualifier, as pyx12's segment matching uses it.
	if len(cs.elems) > 0 {
		e := &cs.elems[0]
		switch {
		case s.ID == "HL":
			if len(cs.elems) >= 3 && !cs.elems[2].codes.empty() {
				cs.qualElem, cs.qual = 3, cs.elems[2].codes
			}
		case e.kind == kID && e.usage == Required && !e.codes.empty():
			cs.qualElem, cs.qual = 1, e.codes
		case e.kind == kComposite && len(e.comps) > 0 && (e.comps[0].kind == kID || e.comps[0].kind == kAN) && !e.comps[0].codes.empty():
			cs.qualElem, cs.qualComp, cs.qual = 1, true, e.comps[0].codes
		}
	}
	for i := 0; i+1 < len(s.Elements); i++ {
		if s.Elements[i].Ref == "1250" && s.Elements[i+1].Ref == "1251" {
			cs.dateFmt = i + 1
		}
	}
	return cs
}

func (c *compiler) elements(els []Element, where string) []cElem {
	out := make([]cElem, len(els))
	for i := range els {
		out[i] = c.element(&els[i], fmt.Sprintf("%s%02d", where, i+1))
	}
	return out
}

func (c *compiler) element(e *Element, where string) cElem {
	ce := cElem{ref: e.Ref, name: e.Name, usage: e.Usage, min: e.Min, max: e.Max, repeat: e.Repeat, list: e.CodeList}
	if e.CodeList != "" {
		ce.listSet = codeListSets()[e.CodeList]
		ce.stable = stableList(e.CodeList)
	}
	switch e.Usage {
	case Required, Situational, NotUsed:
	default:
		c.fail("%s: usage %q", where, string(rune(e.Usage)))
	}
	if ce.repeat < 1 {
		ce.repeat = 1
	}
	if e.IsComposite() {
		ce.kind = kComposite
		ce.comps = make([]cElem, len(e.Components))
		for j := range e.Components {
			if e.Components[j].IsComposite() {
				c.fail("%s-%d: a component cannot be a composite", where, j+1)
			}
			ce.comps[j] = c.element(&e.Components[j], fmt.Sprintf("%s-%d", where, j+1))
		}
		ce.rules = c.rules(e.Syntax, len(e.Components), where)
		ce.hot = hotElems(ce.comps)
		for j := range ce.comps {
			if ce.comps[j].usage == Required && j < 64 {
				ce.reqMask |= 1 << j
			}
		}
		return ce
	}
	switch t := e.Type; {
	case t == AN:
		ce.kind = kAN
	case t == ID:
		ce.kind = kID
	case t == DT:
		ce.kind = kDT
	case t == TM:
		ce.kind = kTM
	case t == R:
		ce.kind = kR
	case t == B:
		ce.kind = kB
	case len(t) == 2 && t[0] == 'N' && t[1] >= '0' && t[1] <= '9':
		ce.kind = kN
	default:
		c.fail("%s: data type %q", where, string(t))
	}
	if e.Max < e.Min || e.Max < 1 {
		c.fail("%s: length %d..%d", where, e.Min, e.Max)
	}
	if len(e.Codes) > 0 {
		ce.codes = newCodeSet(e.Codes)
	}
	if e.Pattern != "" {
		re, err := regexp.Compile("^(?:" + e.Pattern + ")$")
		if err != nil {
			c.fail("%s: pattern: %v", where, err)
		}
		ce.pattern = re
	}
	if e.Usage != NotUsed && e.CodeList == "" && e.Pattern == "" {
		switch {
		case (ce.kind == kAN || ce.kind == kID) && ce.codes.empty():
			ce.fast = fastLength
		case (ce.kind == kAN || ce.kind == kID) && !ce.codes.empty():
			ce.fast = fastCode
		case ce.kind == kN:
			ce.fast = fastInt
		case ce.kind == kR:
			ce.fast = fastDecimal
		}
	}
	return ce
}

func hotElems(els []cElem) []hotElem {
	hot := make([]hotElem, len(els))
	for i := range els {
		e := &els[i]
		h := hotElem{fast: e.fast, min: uint16(min(e.min, 1<<16-1)), max: uint16(min(e.max, 1<<16-1))}
		if e.codes.one != nil {
			h.one, _ = pack(e.codes.one)
		} else if n := len(e.codes.packed); n > 1 && n <= 8 && e.codes.long == nil {
			h.few = e.codes.packed
		} else if !e.codes.empty() {
			h.many = &e.codes
		}
		hot[i] = h
	}
	return hot
}

// Shortcuts for plain values (printable, no separators) that need only one
// test when good: the length of a free-text value, membership of a code, or
// the digits of a number.
const (
	fastLength = 1 + iota
	fastCode
	fastInt     // N: an optional minus sign and digits
	fastDecimal // R: see decimalDigits
)

func (c *compiler) rules(rs []Rule, n int, where string) []cRule {
	var out []cRule
	for _, r := range rs {
		k, pos, err := r.Parse()
		if err != nil {
			c.fail("%s: %v", where, err)
			continue
		}
		cr := cRule{kind: k, pos: pos, text: string(r)}
		for _, p := range pos {
			if p > n || p > 64 {
				c.fail("%s: syntax rule %s names position %d of %d", where, r, p, n)
			}
			cr.mask |= 1 << (p - 1)
		}
		cr.first = 1 << (pos[0] - 1)
		out = append(out, cr)
	}
	return out
}

// label names an element position the way guides do: NM103, CLM05-1.
func label(seg string, elem, comp int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%02d", seg, elem)
	if comp > 0 {
		fmt.Fprintf(&b, "-%d", comp)
	}
	return b.String()
}
