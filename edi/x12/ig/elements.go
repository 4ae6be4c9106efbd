package ig

import (
	"fmt"
	"math/bits"
	"sync"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// elemErr is an element problem found by the checks below, before it
// becomes a Finding. value is a view into the reader's buffer.
type elemErr struct {
	elem, comp, rep int
	code            string
	ce              *cElem
	msg             string
	value           []byte
}

// Character classes, OR-ed over a value in one pass.
const (
	clsBad      uint8 = 1 << iota // outside the X12 character set (printable ASCII)
	clsComp                       // the component separator
	clsRep                        // the repetition separator
	clsNonDigit                   // not 0-9
)

func (r *run) buildClasses() {
	for c := 0; c < 256; c++ {
		var k uint8
		if c < 0x20 || c > 0x7e {
			k |= clsBad
		}
		if c < '0' || c > '9' {
			k |= clsNonDigit
		}
		r.cls[c] = k
	}
	r.cls[r.d.Component] |= clsComp
	if r.d.Repetition != 0 {
		r.cls[r.d.Repetition] |= clsRep
	}
}

func (r *run) scan(v []byte) uint8 {
	var k uint8
	for _, c := range v {
		k |= r.cls[c]
	}
	return k
}

// checkElements checks the elements of a segment placed at cs. The result
// is valid until the next call.
func (r *run) checkElements(seg *x12.Segment, cs *cSeg) []elemErr {
	errs := r.errs[:0]
	data, ends := seg.Raw()
	var present uint64
	for i := 1; i < len(ends); i++ {
		start, end := int(ends[i-1])+1, int(ends[i])
		if start == end {
			continue // empty
		}
		if i > len(cs.elems) {
			errs = append(errs, elemErr{elem: i, code: ElemTooMany, msg: fmt.Sprintf("is beyond the %d elements of %s", len(cs.elems), cs.id), value: data[start:end]})
			break
		}
		if i <= 64 {
			present |= 1 << (i - 1)
		}
		plain := seg.Plain(i)
		if plain {
			// The length test inline (most elements), the others in good.
			if h := &cs.hot[i-1]; h.fast == fastLength {
				if n := end - start; n >= int(h.min) && n <= int(h.max) {
					continue
				}
			} else if h.good(data[start:end]) {
				continue
			}
		}
		v := data[start:end]
		ce := &cs.elems[i-1]
		var flags uint8
		if !plain || ce.kind > kID {
			flags = r.scan(v) // AN and ID values that are plain need no look
		}
		switch {
		case ce.usage == NotUsed:
			errs = append(errs, elemErr{elem: i, code: ElemNotUsedPresent, ce: ce, msg: "is present but not used by the implementation guide", value: v})
		case flags&(clsRep|clsComp) == 0 && ce.kind != kComposite:
			if code, msg := r.checkValue(ce, v, flags); code != "" {
				errs = append(errs, elemErr{elem: i, code: code, ce: ce, msg: msg, value: v})
			}
		case flags&clsRep == 0 && ce.kind == kComposite:
			errs = r.checkComposite(errs, ce, v, i, 0)
		default:
			errs = r.checkElement(errs, ce, v, i, flags)
		}
	}
	if n := len(ends); n >= 2 && ends[n-1] == ends[n-2]+1 {
		// X12 syntax: a segment ends after its last element with data.
		errs = append(errs, elemErr{elem: n - 1, code: ElemTooMany, msg: "is empty: the segment ends with an element separator (trailing separators are not allowed)"})
	}
	if miss := cs.reqMask &^ present; miss != 0 {
		for ; miss != 0; miss &= miss - 1 {
			i := bits.TrailingZeros64(miss)
			errs = append(errs, elemErr{elem: i + 1, code: ElemRequiredMissing, ce: &cs.elems[i], msg: "is required but missing"})
		}
	}
	for i := range cs.rules {
		if !cs.rules[i].holds(present) {
			errs = checkRule(errs, &cs.rules[i], present, cs.elems, 0, 0)
		}
	}
	if cs.dateFmt > 0 && present&(3<<(cs.dateFmt-1)) == 3<<(cs.dateFmt-1) {
		f, v := seg.Element(cs.dateFmt), seg.Element(cs.dateFmt+1)
		if !validPeriod(f, v) {
			errs = append(errs, elemErr{elem: cs.dateFmt + 1, code: ElemInvalidDate, ce: &cs.elems[cs.dateFmt],
				msg: fmt.Sprintf("is not a valid date or period in format %s", printable(f)), value: v})
		}
	}
	r.errs = errs
	return errs
}

// checkElement checks an element with repetitions or components.
func (r *run) checkElement(errs []elemErr, ce *cElem, v []byte, pos int, flags uint8) []elemErr {
	if flags&clsRep == 0 {
		return r.checkOne(errs, ce, v, pos, 0, flags)
	}
	if ce.repeat <= 1 {
		return append(errs, elemErr{elem: pos, code: ElemTooManyRepetitions, ce: ce, msg: "repeats but the element does not repeat", value: v})
	}
	rs := r.d.Repetition
	for k, start := 1, 0; ; k++ {
		end := start
		for end < len(v) && v[end] != rs {
			end++
		}
		if k > ce.repeat {
			return append(errs, elemErr{elem: pos, rep: k, code: ElemTooManyRepetitions, ce: ce, msg: fmt.Sprintf("repeats more than %d times", ce.repeat), value: v[start:]})
		}
		if part := v[start:end]; len(part) > 0 {
			errs = r.checkOne(errs, ce, part, pos, k, r.scan(part))
		}
		if end == len(v) {
			return errs
		}
		start = end + 1
	}
}

func (r *run) checkOne(errs []elemErr, ce *cElem, v []byte, pos, rep int, flags uint8) []elemErr {
	if ce.kind == kComposite {
		return r.checkComposite(errs, ce, v, pos, rep)
	}
	if flags&clsComp != 0 {
		return append(errs, elemErr{elem: pos, rep: rep, code: ElemTooManyComponents, ce: ce, msg: "has components but is not a composite", value: v})
	}
	if code, msg := r.checkValue(ce, v, flags); code != "" {
		errs = append(errs, elemErr{elem: pos, rep: rep, code: code, ce: ce, msg: msg, value: v})
	}
	return errs
}

func (r *run) checkComposite(errs []elemErr, ce *cElem, v []byte, pos, rep int) []elemErr {
	cs := r.d.Component
	var present uint64
	for j, start := 1, 0; ; j++ {
		// Find the component's end and its character classes in one pass.
		var flags uint8
		end := start
		for ; end < len(v); end++ {
			c := v[end]
			if c == cs {
				break
			}
			flags |= r.cls[c]
		}
		if part := v[start:end]; len(part) > 0 {
			if j > len(ce.comps) {
				errs = append(errs, elemErr{elem: pos, comp: j, rep: rep, code: ElemTooManyComponents, ce: ce,
					msg: fmt.Sprintf("has more than its %d components", len(ce.comps)), value: v[start:]})
				break
			}
			if j <= 64 {
				present |= 1 << (j - 1)
			}
			if flags&clsBad != 0 || !ce.hot[j-1].good(part) {
				r.checkComponent(&errs, ce, part, pos, j, rep, flags)
			}
		}
		if end == len(v) {
			break
		}
		start = end + 1
	}
	for miss := ce.reqMask &^ present; miss != 0; miss &= miss - 1 {
		j := bits.TrailingZeros64(miss)
		errs = append(errs, elemErr{elem: pos, comp: j + 1, rep: rep, code: ElemRequiredMissing, ce: &ce.comps[j], msg: "is required but missing"})
	}
	for i := range ce.rules {
		if !ce.rules[i].holds(present) {
			errs = checkRule(errs, &ce.rules[i], present, ce.comps, pos, rep)
		}
	}
	return errs
}

// checkComponent checks component j of a composite the long way.
func (r *run) checkComponent(errs *[]elemErr, ce *cElem, part []byte, pos, j, rep int, flags uint8) {
	if cc := &ce.comps[j-1]; cc.usage == NotUsed {
		*errs = append(*errs, elemErr{elem: pos, comp: j, rep: rep, code: ElemNotUsedPresent, ce: cc, msg: "is present but not used by the implementation guide", value: part})
	} else if code, msg := r.checkValue(cc, part, flags); code != "" {
		*errs = append(*errs, elemErr{elem: pos, comp: j, rep: rep, code: code, ce: cc, msg: msg, value: part})
	}
}

// checkValue checks a simple value (an element or a component) against its
// type, length and codes. It returns the IK403 code and message of the
// first problem, or "" when the value is good.
func (r *run) checkValue(ce *cElem, v []byte, flags uint8) (code, msg string) {
	n := len(v)
	switch ce.kind {
	case kAN, kID:
		if flags&clsBad != 0 {
			return ElemInvalidChar, "contains a character outside the X12 character set"
		}
		if !ce.codes.empty() {
			if !ce.codes.has(v) {
				return ElemInvalidCode, "is not one of the guide's codes"
			}
			return "", ""
		}
	case kN:
		if flags&clsNonDigit != 0 {
			digits := v
			if digits[0] == '-' {
				digits = digits[1:]
			}
			if len(digits) == 0 || r.scan(digits)&clsNonDigit != 0 {
				return ElemInvalidChar, "is not an integer"
			}
			n = len(digits)
		}
	case kR:
		if flags&clsNonDigit != 0 {
			var ok bool
			if n, ok = decimalDigits(v); !ok {
				return ElemInvalidChar, "is not a decimal number"
			}
		}
	case kDT:
		if flags&clsNonDigit != 0 {
			return ElemInvalidDate, "is not a date"
		}
	case kTM:
		if flags&clsNonDigit != 0 {
			return ElemInvalidTime, "is not a time"
		}
	case kB:
		return "", ""
	}
	if n < ce.min {
		return ElemTooShort, fmt.Sprintf("is shorter than its minimum length %d", ce.min)
	}
	if n > ce.max {
		return ElemTooLong, fmt.Sprintf("is longer than its maximum length %d", ce.max)
	}
	switch {
	case ce.kind == kDT && !validDate(v):
		return ElemInvalidDate, "is not a valid date"
	case ce.kind == kTM && !validTime(v):
		return ElemInvalidTime, "is not a valid time"
	case ce.list != "" && !r.inList(ce, v):
		return ElemInvalidCode, fmt.Sprintf("is not in the %s code list", ce.list)
	case ce.pattern != nil && !ce.pattern.Match(v):
		return ElemPatternMismatch, "does not have the form the guide requires"
	}
	return "", ""
}

func (r *run) inList(ce *cElem, v []byte) bool {
	if f := r.v.opts.CodeList; f != nil {
		return f(ce.list, v)
	}
	return !ce.stable || ce.listSet == nil || ce.listSet.has(v)
}

// intDigits checks an X12 N value (optional minus sign, digits) and returns
// its number of digits, or -1 when it is not one.
func intDigits(v []byte) int {
	if len(v) > 0 && v[0] == '-' {
		v = v[1:]
	}
	if len(v) == 0 {
		return -1
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return -1
		}
	}
	return len(v)
}

// decimalDigits checks an X12 R value (optional minus sign, digits, at most
// one decimal point) and returns its length without sign and point.
func decimalDigits(v []byte) (int, bool) {
	if len(v) > 0 && v[0] == '-' {
		v = v[1:]
	}
	digits, points := 0, 0
	for _, c := range v {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			points++
		default:
			return 0, false
		}
	}
	return digits, digits > 0 && points <= 1
}

func checkRule(errs []elemErr, rule *cRule, present uint64, elems []cElem, elem, rep int) []elemErr {
	p := present & rule.mask
	at := func(posn int, code, msg string) []elemErr {
		e := elemErr{elem: posn, rep: rep, code: code, ce: &elems[posn-1], msg: msg}
		if elem > 0 { // a composite's rule: positions are components
			e.elem, e.comp = elem, posn
		}
		return append(errs, e)
	}
	switch rule.kind {
	case 'P':
		if p != 0 && p != rule.mask {
			for _, q := range rule.pos {
				if present&(1<<(q-1)) == 0 {
					errs = at(q, ElemConditionalMissing, fmt.Sprintf("is required by syntax rule %s (all or none present)", rule.text))
				}
			}
		}
	case 'R':
		if p == 0 {
			errs = at(rule.pos[0], ElemConditionalMissing, fmt.Sprintf("is required by syntax rule %s (at least one present)", rule.text))
		}
	case 'E':
		if bits.OnesCount64(p) > 1 {
			for _, q := range rule.pos[1:] {
				if present&(1<<(q-1)) != 0 {
					errs = at(q, ElemExclusionViolated, fmt.Sprintf("is excluded by syntax rule %s (at most one present)", rule.text))
					break
				}
			}
		}
	case 'C':
		if p&rule.first != 0 {
			for _, q := range rule.pos[1:] {
				if present&(1<<(q-1)) == 0 {
					errs = at(q, ElemConditionalMissing, fmt.Sprintf("is required by syntax rule %s (when the first is present)", rule.text))
				}
			}
		}
	case 'L':
		if p&rule.first != 0 && p&^rule.first == 0 {
			errs = at(rule.pos[1], ElemConditionalMissing, fmt.Sprintf("is required by syntax rule %s (one of the others when the first is present)", rule.text))
		}
	}
	return errs
}

// elemFinding turns an element problem into a Finding at the current
// transaction set position.
func (r *run) elemFinding(e *elemErr, segID string, level Level) Finding {
	f := Finding{Pos: r.tx.cur, Level: level, Code: e.code, Element: e.elem, Component: e.comp, Repetition: e.rep, Value: string(e.value)}
	f.Segment = segID
	name := ""
	if e.ce != nil {
		name = " (" + e.ce.name + ")"
		if e.ce.kind != kComposite || e.comp == 0 {
			if e.ce.kind != kComposite {
				f.ElementRef = e.ce.ref
			}
		}
	}
	f.Msg = label(segID, e.elem, e.comp) + name + " " + e.msg
	if e.rep > 1 {
		f.Msg = fmt.Sprintf("%s (repetition %d)", f.Msg, e.rep)
	}
	return f
}

// --- dates and times --------------------------------------------------------------

func num(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// validDate checks CCYYMMDD or YYMMDD (assumed 20YY).
func validDate(v []byte) bool {
	if !allDigits(v) {
		return false
	}
	var y, m, d int
	switch len(v) {
	case 8:
		y, m, d = num(v[:4]), num(v[4:6]), num(v[6:8])
	case 6:
		y, m, d = 2000+num(v[:2]), num(v[2:4]), num(v[4:6])
	default:
		return false
	}
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// validTime checks HHMM, HHMMSS, HHMMSSD or HHMMSSDD.
func validTime(v []byte) bool {
	if !allDigits(v) || len(v) < 4 || len(v) > 8 || len(v) == 5 {
		return false
	}
	if num(v[:2]) > 23 || num(v[2:4]) > 59 {
		return false
	}
	return len(v) < 6 || num(v[4:6]) <= 59
}

// validPeriod checks a date or period (data element 1251) in the format its
// qualifier (1250) names. Formats it does not know are accepted.
func validPeriod(format, v []byte) bool {
	rangeOf := func(n int, ok func([]byte) bool) bool {
		return len(v) == 2*n+1 && v[n] == '-' && ok(v[:n]) && ok(v[n+1:]) && string(v[:n]) <= string(v[n+1:])
	}
	dateTime := func(b []byte) bool { return len(b) == 12 && validDate(b[:8]) && validTime(b[8:]) }
	switch string(format) {
	case "D8":
		return len(v) == 8 && validDate(v)
	case "D6":
		return len(v) == 6 && validDate(v)
	case "RD8":
		return rangeOf(8, validDate)
	case "DT":
		return dateTime(v)
	case "RDT":
		return rangeOf(12, dateTime)
	case "TM":
		return len(v) == 4 && validTime(v)
	}
	return true
}

// --- external code lists -------------------------------------------------------------

var codeListSets = sync.OnceValue(func() map[string]*codeSet {
	lists := externalCodeLists()
	m := make(map[string]*codeSet, len(lists))
	for name, codes := range lists {
		s := newCodeSet(codes)
		m[name] = &s
	}
	return m
})

// stableList reports whether an external code list is checked by default: standards
// that change rarely (USPS state codes, ISO 3166 countries, ISO 4217
// currencies, CMS place of service codes).
func stableList(name string) bool {
	switch name {
	case "states", "country", "currency", "pos":
		return true
	}
	return false
}

// StableCodeLists is the default Options.CodeList. It checks the external
// code lists that change rarely (states, country, currency, pos) against the
// built-in copies, and accepts any code of the lists that their maintainers
// update several times a year (claim status codes, claim status category
// codes, remark codes, entity identifiers): the built-in copies of those are
// a snapshot and would reject codes added since.
func StableCodeLists(list string, code []byte) bool {
	if !stableList(list) {
		return true
	}
	return SnapshotCodeLists(list, code)
}

// SnapshotCodeLists checks every external code list against the built-in
// copies from the pyx12 snapshot; a list it does not have accepts any code.
func SnapshotCodeLists(list string, code []byte) bool {
	s := codeListSets()[list]
	return s == nil || s.has(code)
}
