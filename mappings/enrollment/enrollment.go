// Package enrollment maps the segments of an 834 enrollment file
// (005010X220A1, as DHCS sends it) to member records: one
// domain.EnrollmentChange per member loop (2000 INS), with the position of
// every data problem. It is a pure transform fed one segment at a time, so
// memory stays flat however large the file is; reading, validation and
// storage are the caller's. Which ID is the member's and whether a member
// loop as a whole is usable (ENR-MEMBER-INVALID) are decided by
// rules.MemberCIN and rules.CheckMemberLoop; values that cannot be read (a
// date that is not a date, a county code not in the rule set's table) are
// reported where they are read.
//
// What is read (dhcs-public-specs.md 5.2):
//
//	BGN02/03/08              file reference, date, action (RX/4 full file, 2 change file)
//	DTP*007/090/091 (header) the period a full file replaces
//	INS01/03                 subscriber flag, maintenance type (001 change, 021 add, 024 term, 025 reinstate, 030 audit)
//	REF*0F, REF*1L, NM109    subscriber ID; the member's CIN (REF*1L, else NM109 with NM108 ZZ, else REF*0F of a subscriber)
//	REF*3H                   county;aid code;case number (';'-separated), or packed: county (2 digits),
//	                         aid code (2) and case number up to a ';' ("343N7777777122;B", DHCS's samples)
//	REF*DX                   Medicare D-SNP contract;PBP;start (CCYYMMDD); no contract: no D-SNP
//	DTP*357                  member-level eligibility end (a 024 without coverage loops)
//	NM1*IL, N3, N4, DMG      name, residence address and county (N405 CY, N406), date of birth, gender
//	HD01, HD04               coverage maintenance type; health-plan code;status
//	DTP*348/349              coverage start and end (D8, or RD8 for both)
//	AMT (configured, R)      share of cost (spend down)
//	REF*RB, REF*CE, REF*ZX   primary aid code; aid code;status pairs; county of the coverage
package enrollment

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/fixedre"
	"github.com/calaim-gateway/calaim-gateway/internal/strarena"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// Options configure the mapping.
type Options struct {
	// MemberID is the shape a CIN must have (configuration
	// encounters.member_id_pattern); nil accepts any.
	MemberID *regexp.Regexp
	// County normalizes a county code ("19", "9") to the two-digit code, and
	// reports unknown ones; nil accepts any two-digit code.
	County func(string) (string, bool)
	// ShareOfCostAmount is the AMT01 qualifier of the share of cost in the
	// coverage loop (default "R", spend down).
	ShareOfCostAmount string
	// ProblemsOnly finds the members' problems and leaves out what only
	// loading needs (names, address, aid codes, case number, plan code):
	// what `calgw validate` wants, faster.
	ProblemsOnly bool
}

// Pos is a segment's place in the input.
type Pos struct {
	Ordinal int64 // 1-based segment number
	Line    int64
	Offset  int64
}

func posOf(seg *x12.Segment) Pos {
	return Pos{Ordinal: seg.Ordinal, Line: seg.Line, Offset: seg.Offset}
}

// String formats the position for reports.
func (p Pos) String() string {
	return fmt.Sprintf("segment %d (line %d, byte %d)", p.Ordinal, p.Line, p.Offset)
}

// Problem is bad data in a member loop: the member is not loaded.
type Problem struct {
	Pos     Pos
	Element string // e.g. "DMG02", "REF*3H"
	Loop    string // the guide's loop ID, when an implementation-guide finding gives it
	Code    string // an implementation-guide finding's 999 code ("IK403 8"); "" for a data problem
	Message string // never holds data values
}

// Member is one member loop, mapped.
type Member struct {
	Number   int // 1-based number of the member loop in the input
	Start    Pos // the INS segment
	Change   domain.EnrollmentChange
	Problems []Problem
}

// OK reports whether the member may be loaded.
func (m *Member) OK() bool { return len(m.Problems) == 0 }

// Header is what a transaction set's header says.
type Header struct {
	Reference string     // BGN02
	Date      civil.Date // BGN03
	Action    string     // BGN08
	// Full is true for a full (audit) file: BGN08 RX (replace) or 4
	// (verify). Its members' spans replace what the store has for the
	// period [From, To] (To zero = open); a member the file does not list
	// loses its coverage of the file's plan codes (PlanCodes) in the period.
	Full     bool
	From, To civil.Date
	// Total is QTY*TO, the member loops the sender says the set holds
	// (-1 when the header has none).
	Total int
}

type level uint8

const (
	lvOutside  level = iota // envelope, between transaction sets
	lvHeader                // ST .. first INS
	lvMember                // 2000 and 2100x
	lvCoverage              // 2300 and its child loops
	lvReport                // 2700 reporting categories (LS .. LE)
)

// Mapper turns segments into members. Feed it every segment in order with
// Segment (envelope segments are ignored) and call Flush at the end; each
// member loop is handed to OnMember when it ends. The *Member passed is
// reused: it is valid only during the call.
type Mapper struct {
	opts     Options
	memberID *fixedre.Matcher // opts.MemberID, nil for any
	strs     strarena.Arena   // the members' strings, a few allocations per hundred
	scratch  []byte
	counties map[string]countyCode // county lookups by the value as sent
	OnMember func(m *Member) error
	// OnHeader is called when a transaction set's header is complete (at
	// its first member loop, or at SE for a set without members).
	OnHeader func(h *Header) error

	hdr     Header
	hdrDone bool
	dtp007  civil.Date
	dtp090  civil.Date
	dtp091  civil.Date
	lv      level
	sub     byte // in lvMember: 'n' member name loop, 'o' another 2100 loop; in lvCoverage: 'c' HD level, 'o' child loop
	members int

	m        Member
	open     bool // a member loop is open
	subscr   bool // INS01 = Y
	mt       string
	ref1L    string
	ref0F    string
	nm109    string
	dtp357   civil.Date
	named    bool // the member name loop has a last name
	cov      coverage
	covOpen  bool
	covCount int
	codes    []string            // PlanCodes
	codeSet  map[string]struct{} // codes, for the lookup at each HD
}

// coverage is the 2300 loop being read.
type coverage struct {
	pos      Pos
	mt       string
	span     domain.EligibilitySpan
	hasStart bool
	hasEnd   bool
	bad      bool
}

// New returns a Mapper.
func New(opts Options) *Mapper {
	if opts.ShareOfCostAmount == "" {
		opts.ShareOfCostAmount = "R"
	}
	p := &Mapper{opts: opts, counties: map[string]countyCode{}}
	if opts.MemberID != nil {
		p.memberID = fixedre.Compile(opts.MemberID)
	}
	return p
}

// Fork returns a Mapper for a later part of the transaction set p is in,
// from one of its member loops' INS on, with p's options and header: a
// validation split into parts maps each on its own goroutine. p must have
// seen the set's first INS. The fork has no callbacks; it numbers its
// member loops from 1 and its positions are those of the segments it is
// given; Join puts them in order.
func (p *Mapper) Fork() *Mapper {
	return &Mapper{opts: p.opts, memberID: p.memberID, counties: map[string]countyCode{},
		hdr: p.hdr, hdrDone: p.hdrDone, dtp007: p.dtp007, dtp090: p.dtp090, dtp091: p.dtp091, lv: lvHeader}
}

// Join continues p with the work of q, forked from p, which was given the
// segments that follow those p was given, from an INS on: p's open member
// loop ends (as at that INS, through OnMember) and p takes on q's state,
// its member loops numbered on from p's and its positions moved by ordinal
// segments and line lines (a fork's count from its start). q's own
// callbacks were its part's business: p keeps its own.
func (p *Mapper) Join(q *Mapper, ordinal, line int64) error {
	if err := p.endMember(); err != nil {
		return err
	}
	n := p.members
	onMember, onHeader := p.OnMember, p.OnHeader
	*p = *q
	p.OnMember, p.OnHeader = onMember, onHeader
	p.members += n
	p.m.Shift(n, ordinal, line)
	p.cov.pos = p.cov.pos.shift(ordinal, line)
	return nil
}

// Shift renumbers a member loop a fork mapped for its place in the input:
// its number moves by members, its positions by ordinal segments and line
// lines (see Join).
func (m *Member) Shift(members int, ordinal, line int64) {
	m.Number += members
	m.Start = m.Start.shift(ordinal, line)
	for i := range m.Problems {
		m.Problems[i].Pos = m.Problems[i].Pos.shift(ordinal, line)
	}
}

func (p Pos) shift(ordinal, line int64) Pos {
	p.Ordinal += ordinal
	p.Line += line
	return p
}

// Members is the number of member loops seen so far.
func (p *Mapper) Members() int { return p.members }

// Header returns the current transaction set's header.
func (p *Mapper) Header() Header { return p.hdr }

// InMember reports whether a member loop is open: a finding at this point
// belongs to it.
func (p *Mapper) InMember() bool { return p.open }

// Reject adds a problem to the open member loop (an implementation-guide
// finding inside it, say). It reports false when no member loop is open.
func (p *Mapper) Reject(pos Pos, loop, element, code, msg string) bool {
	if !p.open {
		return false
	}
	p.m.Problems = append(p.m.Problems, Problem{Pos: pos, Loop: loop, Element: element, Code: code, Message: msg})
	return true
}

func (p *Mapper) problem(seg *x12.Segment, element, format string, a ...any) {
	p.problemAt(posOf(seg), element, format, a...)
}

func (p *Mapper) problemAt(pos Pos, element, format string, a ...any) {
	p.m.Problems = append(p.m.Problems, Problem{Pos: pos, Element: element, Message: fmt.Sprintf(format, a...)})
}

// Segment maps one segment.
func (p *Mapper) Segment(seg *x12.Segment) error {
	id := seg.ID()
	switch string(id) {
	case "ISA", "GS", "GE", "IEA", "TA1":
		return nil
	case "ST":
		if err := p.Flush(); err != nil {
			return err
		}
		p.hdr, p.hdrDone = Header{Total: -1}, false
		p.dtp007, p.dtp090, p.dtp091 = 0, 0, 0
		p.lv = lvHeader
		return nil
	case "SE":
		return p.EndSet()
	case "INS":
		if err := p.endMember(); err != nil {
			return err
		}
		if err := p.headerDone(); err != nil {
			return err
		}
		p.beginMember(seg)
		return nil
	}
	switch p.lv {
	case lvHeader:
		p.headerSegment(seg)
	case lvMember:
		p.memberSegment(seg)
	case lvCoverage:
		p.coverageSegment(seg)
	case lvReport:
		if string(id) == "LE" {
			p.lv = lvCoverage
			p.sub = 'o'
		}
	}
	return nil
}

// Flush ends the open member loop (end of the transaction set or input).
func (p *Mapper) Flush() error { return p.endMember() }

// EndSet ends the transaction set, as its SE does: the open member loop is
// handed over, and the header if the set had no member.
func (p *Mapper) EndSet() error {
	if err := p.Flush(); err != nil {
		return err
	}
	err := p.headerDone()
	p.lv = lvOutside
	return err
}

func (p *Mapper) headerSegment(seg *x12.Segment) {
	switch string(seg.ID()) {
	case "BGN":
		p.hdr.Reference = seg.ElementString(2)
		p.hdr.Date, _ = parseD8(seg.Element(3))
		p.hdr.Action = seg.ElementString(8)
		p.hdr.Full = p.hdr.Action == "RX" || p.hdr.Action == "4"
	case "QTY":
		if string(seg.Element(1)) == "TO" {
			if n, err := strconv.Atoi(string(seg.Element(2))); err == nil && n >= 0 {
				p.hdr.Total = n
			}
		}
	case "DTP":
		d, ok := parseD8(seg.Element(3))
		if !ok || string(seg.Element(2)) != "D8" {
			return
		}
		switch string(seg.Element(1)) {
		case "007":
			p.dtp007 = d
		case "090":
			p.dtp090 = d
		case "091":
			p.dtp091 = d
		}
	}
}

func (p *Mapper) headerDone() error {
	if p.hdrDone || p.lv == lvOutside {
		return nil
	}
	p.hdrDone = true
	h := &p.hdr
	switch {
	case p.dtp090 != 0:
		h.From = p.dtp090
	case p.dtp007 != 0:
		h.From = p.dtp007
	default:
		h.From = h.Date
	}
	h.To = p.dtp091
	if p.OnHeader != nil {
		return p.OnHeader(h)
	}
	return nil
}

func (p *Mapper) beginMember(seg *x12.Segment) {
	p.members++
	ops := p.m.Change.Ops[:0]
	probs := p.m.Problems[:0]
	p.m = Member{Number: p.members, Start: posOf(seg), Problems: probs}
	p.m.Change.Ops = ops
	p.open = true
	p.lv, p.sub = lvMember, 0
	p.subscr = string(seg.Element(1)) == "Y"
	p.mt = p.code(seg.Element(3), insCodes[:])
	p.ref1L, p.ref0F, p.nm109 = "", "", ""
	p.dtp357, p.named = 0, false
	p.covOpen, p.covCount = false, 0
	if !rules.MaintenanceTypeValid(p.mt) {
		p.problem(seg, "INS03", "maintenance type code is not 001, 021, 024, 025 or 030")
	}
	if p.hdr.Full {
		p.m.Change.Replace = true
		p.m.Change.ReplaceFrom, p.m.Change.ReplaceTo = p.hdr.From, p.hdr.To
	}
}

func (p *Mapper) memberSegment(seg *x12.Segment) {
	e := &p.m.Change.Enrollee
	switch string(seg.ID()) {
	case "REF":
		if p.sub != 0 {
			return // REF segments of 2100 loops are not read
		}
		v := seg.Element(2)
		switch string(seg.Element(1)) {
		case "0F":
			p.ref0F = p.strs.String(v)
			e.SubscriberID = p.ref0F
		case "1L":
			p.ref1L = p.strs.String(v)
		case "3H":
			county, aid, cs := ref3H(v)
			if len(county) > 0 {
				if c, ok := p.county(county); ok {
					e.County = c
				} else {
					p.problem(seg, "REF*3H", "county code (field 1) is not a California county code")
				}
			}
			if !p.opts.ProblemsOnly {
				e.AidCode = p.strs.Upper(aid)
				e.CaseNumber = p.strs.String(cs)
			}
		case "DX":
			var from civil.Date
			if s := field(v, 3); len(s) > 0 {
				d, ok := parseD8(s)
				if !ok {
					p.problem(seg, "REF*DX", "D-SNP start (field 3) is not a CCYYMMDD date")
				}
				from = d
			}
			contract := bytes.TrimSpace(field(v, 1))
			switch {
			case len(contract) > 0:
				if !p.opts.ProblemsOnly {
					e.DSNP = domain.DSNP{Contract: p.strs.Upper(contract), PBP: p.strs.String(bytes.TrimSpace(field(v, 2))), From: from}
				}
			case !p.hdr.Full && p.hdr.From != 0:
				// No Medicare Advantage contract (DHCS's samples send a
				// member with a Part D plan only as ";;;S5617;D635;20240901"):
				// the member has no D-SNP from the file's date, and a stored
				// one ends the day before. A full file ends it so without
				// REF*DX already (domain.Enrollee.Apply).
				e.DSNP = domain.DSNP{To: p.hdr.From.AddDays(-1)}
			default:
				e.DSNP = domain.DSNP{}
			}
		}
	case "DTP":
		if p.sub != 0 {
			return
		}
		if string(seg.Element(1)) == "357" {
			d, ok := parseD8(seg.Element(3))
			if !ok {
				p.problem(seg, "DTP03", "eligibility end date is not a CCYYMMDD date")
			}
			p.dtp357 = d
		}
	case "NM1":
		switch string(seg.Element(1)) {
		case "IL", "74":
			p.sub = 'n'
			p.named = len(seg.Element(3)) > 0
			if !p.opts.ProblemsOnly {
				e.LastName, e.FirstName = p.strs.String(seg.Element(3)), p.strs.String(seg.Element(4))
			}
			if string(seg.Element(8)) == "ZZ" {
				p.nm109 = p.strs.String(seg.Element(9))
			}
		default:
			p.sub = 'o'
		}
	case "N3":
		if p.sub == 'n' && !p.opts.ProblemsOnly {
			p.scratch = append(append(append(p.scratch[:0], seg.Element(1)...), ' '), seg.Element(2)...)
			e.Address.Street = p.strs.String(bytes.TrimSpace(p.scratch))
		}
	case "N4":
		if p.sub == 'n' {
			if !p.opts.ProblemsOnly {
				e.Address.City, e.Address.State, e.Address.Zip = p.strs.String(seg.Element(1)), p.strs.String(seg.Element(2)), p.strs.String(seg.Element(3))
			}
			if string(seg.Element(5)) == "CY" && e.County == "" {
				if c, ok := p.county(seg.Element(6)); ok {
					e.County = c
				} else {
					p.problem(seg, "N406", "county code is not a California county code")
				}
			}
		}
	case "DMG":
		if p.sub != 'n' {
			return
		}
		if string(seg.Element(1)) != "D8" {
			p.problem(seg, "DMG01", "date of birth format is not D8")
			return
		}
		d, ok := parseD8(seg.Element(2))
		if !ok {
			p.problem(seg, "DMG02", "date of birth is not a valid CCYYMMDD date")
		}
		e.DOB = d
		switch g := string(seg.Element(3)); g {
		case "F", "M", "U":
			e.Gender = g
		default:
			e.Gender = "U"
		}
	case "HD":
		p.beginCoverage(seg)
	}
}

func (p *Mapper) beginCoverage(seg *x12.Segment) {
	p.endCoverage()
	p.lv, p.sub = lvCoverage, 'c'
	p.covOpen = true
	p.covCount++
	c := &p.cov
	*c = coverage{pos: posOf(seg), mt: p.code(seg.Element(1), hdCodes[:])}
	if !p.opts.ProblemsOnly {
		desc := seg.Element(4)
		c.span.PlanCode = p.strs.String(bytes.TrimSpace(field(desc, 1)))
		c.span.PlanStatus = p.strs.String(bytes.TrimSpace(field(desc, 2)))
		p.addCode(c.span.PlanCode)
	}
	c.span.County = p.m.Change.Enrollee.County
	switch c.mt {
	case "001", "002", "021", "024", "025", "026", "030", "032":
	default:
		p.problem(seg, "HD01", "maintenance type code is not a coverage maintenance type")
		c.bad = true
	}
}

// PlanCodes returns the HD04 health-plan codes of the coverage loops read
// so far, each once, in the order first read ("" for a loop without one):
// the codes a full file's cut applies to. With ProblemsOnly it is empty.
func (p *Mapper) PlanCodes() []string { return p.codes }

func (p *Mapper) addCode(code string) {
	if n := len(p.codes); n > 0 && p.codes[n-1] == code {
		return
	}
	if _, ok := p.codeSet[code]; ok {
		return
	}
	if p.codeSet == nil {
		p.codeSet = map[string]struct{}{}
	}
	code = strings.Clone(code)
	p.codeSet[code] = struct{}{}
	p.codes = append(p.codes, code)
}

func (p *Mapper) coverageSegment(seg *x12.Segment) {
	c := &p.cov
	switch string(seg.ID()) {
	case "HD":
		p.beginCoverage(seg)
		return
	case "LX", "COB":
		p.sub = 'o' // 2310 provider, 2320 coordination of benefits
		return
	case "LS":
		p.endCoverage()
		p.lv = lvReport
		return
	}
	if p.sub != 'c' {
		return
	}
	switch string(seg.ID()) {
	case "DTP":
		q := string(seg.Element(1))
		if q != "348" && q != "349" {
			return
		}
		format, v := string(seg.Element(2)), seg.Element(3)
		switch {
		case format == "D8":
			d, ok := parseD8(v)
			if !ok {
				p.problem(seg, "DTP03", "coverage date is not a valid CCYYMMDD date")
				c.bad = true
				return
			}
			if q == "348" {
				c.span.From, c.hasStart = d, true
			} else {
				c.span.To, c.hasEnd = d, true
			}
		case format == "RD8" && q == "348":
			from, ok1 := parseD8(field(v, 1, '-'))
			to, ok2 := parseD8(field(v, 2, '-'))
			if !ok1 || !ok2 {
				p.problem(seg, "DTP03", "coverage period is not a valid CCYYMMDD-CCYYMMDD range")
				c.bad = true
				return
			}
			if to < from {
				p.problem(seg, "DTP03", "coverage period ends before it starts")
				c.bad = true
				return
			}
			c.span.From, c.span.To, c.hasStart, c.hasEnd = from, to, true, true
		default:
			p.problem(seg, "DTP02", "coverage date format is not D8 (or RD8 for DTP*348)")
			c.bad = true
		}
	case "AMT":
		if string(seg.Element(1)) != p.opts.ShareOfCostAmount {
			return
		}
		cents, ok := parseMoney(seg.Element(2))
		if !ok {
			p.problem(seg, "AMT02", "share of cost amount is not a decimal number of dollars")
			c.bad = true
			return
		}
		c.span.ShareOfCost = domain.Money(cents)
	case "REF":
		v := seg.Element(2)
		q := seg.Element(1)
		if p.opts.ProblemsOnly && string(q) != "ZX" {
			return // the aid codes
		}
		switch string(q) {
		case "RB":
			if a := p.strs.Upper(bytes.TrimSpace(v)); a != "" {
				// First, and once: DHCS sends REF*CE, which names it too, before REF*RB.
				c.span.AidCodes = append([]string{a}, slices.DeleteFunc(c.span.AidCodes, func(s string) bool { return s == a })...)
			}
		case "CE":
			for k := 1; ; k += 2 {
				a := field(v, k)
				if a == nil {
					break
				}
				if s := p.strs.Upper(bytes.TrimSpace(a)); s != "" && !contains(c.span.AidCodes, s) {
					c.span.AidCodes = append(c.span.AidCodes, s)
				}
			}
		case "ZX":
			if cc, ok := p.county(v); ok {
				c.span.County = cc
			} else {
				p.problem(seg, "REF*ZX", "county code is not a California county code")
				c.bad = true
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// endCoverage turns the open coverage loop into a span operation.
func (p *Mapper) endCoverage() {
	if !p.covOpen {
		return
	}
	p.covOpen = false
	c := &p.cov
	if c.bad {
		return // reported already
	}
	ops := &p.m.Change.Ops
	full := p.hdr.Full
	switch {
	case c.mt == "024" && !c.hasEnd:
		p.problemAt(c.pos, "HD01", "coverage termination (024) without an end date (DTP*349)")
		return
	case !full && c.mt == "024":
		*ops = append(*ops, domain.SpanOp{Kind: domain.SpanEnd, Span: domain.EligibilitySpan{PlanCode: c.span.PlanCode}, End: c.span.To})
	case c.mt == "002":
		if !c.hasStart {
			p.problemAt(c.pos, "HD01", "coverage deletion (002) without its start date (DTP*348)")
			return
		}
		*ops = append(*ops, domain.SpanOp{Kind: domain.SpanDelete, Span: c.span})
	default:
		if !c.hasStart {
			p.problemAt(c.pos, "DTP*348", "coverage loop without a start date (DTP*348)")
			return
		}
		if c.hasEnd && c.span.To < c.span.From {
			// No day of coverage from DTP*348 on: DHCS sends a month
			// without enrollment so (DTP*349 the day before DTP*348). A
			// full file has cut its period already; in a change file the
			// span of that start and plan goes, as with 002.
			if !full {
				*ops = append(*ops, domain.SpanOp{Kind: domain.SpanDelete, Span: c.span})
			}
			return
		}
		*ops = append(*ops, domain.SpanOp{Kind: domain.SpanUpsert, Span: c.span})
	}
}

// endMember finishes the open member loop and hands it over.
func (p *Mapper) endMember() error {
	if !p.open {
		return nil
	}
	p.endCoverage()
	p.open = false
	p.lv = lvHeader
	m := &p.m
	e := &m.Change.Enrollee
	// Which ID is the member's and whether the loop is usable are decided
	// in rules (ENR-MEMBER-INVALID); this turns the answers into the
	// member's CIN, problems and span operation.
	loop := rules.MemberLoop{
		FullFile: p.hdr.Full, MaintenanceType: p.mt, Subscriber: p.subscr,
		RefCIN: p.ref1L, NameID: p.nm109, SubscriberID: p.ref0F,
		Named: p.named, CoverageLoops: p.covCount, TerminationEnd: p.dtp357,
	}
	e.CIN = strings.ToUpper(strings.TrimSpace(rules.MemberCIN(loop)))
	var valid func(string) bool
	shape := ""
	if p.memberID != nil {
		valid, shape = p.memberID.MatchString, p.memberID.String()
	}
	findings, endAt357 := rules.CheckMemberLoop(loop, e.CIN, valid, shape)
	for _, f := range findings {
		p.problemAt(m.Start, f.Element, "%s", f.Message)
	}
	if endAt357 {
		// The loop says only when the member's coverage ends, in a full
		// file too: the period is not cut, so the days up to DTP*357 stay.
		m.Change.Replace = false
		m.Change.Ops = append(m.Change.Ops, domain.SpanOp{Kind: domain.SpanEnd, End: p.dtp357})
	}
	if p.OnMember != nil {
		return p.OnMember(m)
	}
	return nil
}

// The maintenance type codes of INS03 and HD01.
var (
	insCodes = [...]string{"001", "021", "024", "025", "030"}
	hdCodes  = [...]string{"001", "002", "021", "024", "025", "026", "030", "032"}
)

// code returns v as one of the codes, without copying it, or as a string
// of the arena.
func (p *Mapper) code(v []byte, codes []string) string {
	for _, c := range codes {
		if string(v) == c {
			return c
		}
	}
	return p.strs.String(v)
}

// countyCode is a county lookup's answer.
type countyCode struct {
	code string
	ok   bool
}

// maxCountyLookups bounds the lookups a Mapper remembers: a file names its
// counties in a few ways (58 codes, with or without a leading zero, or by
// name), never in thousands unless the values are garbage.
const maxCountyLookups = 1024

func (p *Mapper) county(v []byte) (string, bool) {
	if c, ok := p.counties[string(v)]; ok {
		return c.code, c.ok
	}
	s := strings.TrimSpace(string(v))
	var c countyCode
	if p.opts.County == nil {
		if len(s) == 1 {
			s = "0" + s
		}
		c = countyCode{s, len(s) == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9'}
	} else {
		c.code, c.ok = p.opts.County(s)
	}
	if len(p.counties) < maxCountyLookups {
		p.counties[string(v)] = c
	}
	return c.code, c.ok
}

// field returns the k-th (1-based) sep-separated field of v (sep default
// ';', the DHCS composite separator inside an element), or nil.
// ref3H splits REF02 of a REF*3H into county, aid code and case number.
// DHCS sends it in two layouts: with semicolons, "34;10;1234567" (the
// county one or two digits), and packed, as in DHCS's own sample 834s,
// "343N7777777122;B": two digits of county, two characters of aid code and
// the case number, up to a semicolon (what follows it is not read). A
// first field of five characters or more that opens with two digits is the
// packed layout.
func ref3H(v []byte) (county, aid, caseNumber []byte) {
	first := field(v, 1)
	if len(first) >= 5 && isDigit(first[0]) && isDigit(first[1]) {
		return first[:2], first[2:4], first[4:]
	}
	return first, field(v, 2), field(v, 3)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func field(v []byte, k int, sep ...byte) []byte {
	s := byte(';')
	if len(sep) > 0 {
		s = sep[0]
	}
	return x12.Field(v, s, k)
}

// parseD8 reads CCYYMMDD.
func parseD8(b []byte) (civil.Date, bool) {
	if len(b) != 8 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	d := civil.Date(n)
	return d, d.Valid()
}

// parseMoney reads a decimal amount of dollars ("125", "125.5", "-3.25")
// into cents.
func parseMoney(b []byte) (int64, bool) { return x12.ParseDecimal(b, 2) }
