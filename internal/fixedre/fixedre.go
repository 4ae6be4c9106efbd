// Package fixedre matches strings against a regular expression the way
// regexp does, faster for the shape configured identifiers have: anchored
// at both ends, one ASCII byte class per position (`^[0-9A-Z]{9}$`, the
// Medi-Cal CIN; `^[0-9]{10}$`). Such an expression is a table of byte sets,
// one per position, checked in a loop; any other expression is left to
// regexp.
package fixedre

import (
	"regexp"
	"regexp/syntax"
	"unicode"
)

// Matcher matches strings against a regular expression.
type Matcher struct {
	re  *regexp.Regexp
	pos []byteSet // nil: re decides
}

// byteSet is a set of ASCII bytes.
type byteSet [2]uint64

func (s *byteSet) add(c rune) { s[c>>6] |= 1 << (c & 63) }

func (s *byteSet) has(c byte) bool { return c < 0x80 && s[c>>6]&(1<<(c&63)) != 0 }

// Compile returns a Matcher of re.
func Compile(re *regexp.Regexp) *Matcher {
	m := &Matcher{re: re}
	prog, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return m
	}
	prog = prog.Simplify()
	if prog.Op != syntax.OpConcat || len(prog.Sub) < 2 ||
		prog.Sub[0].Op != syntax.OpBeginText || prog.Sub[len(prog.Sub)-1].Op != syntax.OpEndText {
		return m
	}
	var pos []byteSet
	if !appendSets(&pos, prog.Sub[1:len(prog.Sub)-1]) || len(pos) == 0 {
		return m
	}
	m.pos = pos
	return m
}

// appendSets appends the byte set of each position of subs, and reports
// false when one of them is not a single ASCII byte.
func appendSets(pos *[]byteSet, subs []*syntax.Regexp) bool {
	for _, r := range subs {
		switch r.Op {
		case syntax.OpConcat, syntax.OpCapture:
			if !appendSets(pos, r.Sub) {
				return false
			}
		case syntax.OpLiteral:
			for _, c := range r.Rune {
				var s byteSet
				if c >= 0x80 {
					return false
				}
				s.add(c)
				if r.Flags&syntax.FoldCase != 0 {
					for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
						if f >= 0x80 {
							return false // e.g. k and the Kelvin sign
						}
						s.add(f)
					}
				}
				*pos = append(*pos, s)
			}
		case syntax.OpCharClass:
			var s byteSet
			for i := 0; i+1 < len(r.Rune); i += 2 {
				lo, hi := r.Rune[i], r.Rune[i+1]
				if hi >= 0x80 {
					return false
				}
				for c := lo; c <= hi; c++ {
					s.add(c)
				}
			}
			*pos = append(*pos, s)
		default:
			return false
		}
	}
	return true
}

// MatchString reports whether s matches, as the regular expression's
// MatchString does.
func (m *Matcher) MatchString(s string) bool {
	if m.pos == nil {
		return m.re.MatchString(s)
	}
	if len(s) != len(m.pos) {
		return false
	}
	for i := range len(s) {
		if !m.pos[i].has(s[i]) {
			return false
		}
	}
	return true
}

// String returns the regular expression's source text.
func (m *Matcher) String() string { return m.re.String() }

// Fixed reports whether the Matcher uses its table (true) or regexp.
func (m *Matcher) Fixed() bool { return m.pos != nil }
