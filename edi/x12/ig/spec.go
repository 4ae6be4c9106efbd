package ig

import (
	"fmt"
	"strconv"
)

// A Spec is one implementation guide's definition of a transaction set: the
// loops, segments and elements from ST to SE with their usage, repeat
// counts, positions and value rules, as printed in the guide.
//
// Specs are plain data so that they can be generated (see the *_gen.go
// files) or written by hand. A hand-written table reads like the guide:
//
//	var Spec274 = &Spec{
//		Name: "Health Care Provider Information", SetID: "274", Version: "004050X109", FunctionalID: "PF",
//		Children: []Node{
//			&Segment{ID: "ST", Name: "Transaction Set Header", Usage: Required, Pos: 100, MaxUse: 1,
//				Elements: []Element{
//					{Ref: "143", Name: "Transaction Set Identifier Code", Usage: Required, Type: ID, Min: 3, Max: 3, Codes: []string{"274"}},
//					{Ref: "329", Name: "Transaction Set Control Number", Usage: Required, Type: AN, Min: 4, Max: 9},
//				}},
//			&Loop{ID: "2000A", Name: "Information Source Level", Usage: Required, Pos: 100, Repeat: 0, Children: []Node{
//				&Segment{ID: "HL", ...},
//			}},
//			&Segment{ID: "SE", ...},
//		},
//	}
//
// A table is matched the way pyx12 walks its maps: children are tried in
// order, adjacent children with the same Pos may occur in any order among
// themselves, and a segment is told apart from another with the same ID by
// its qualifier (see Segment).
type Spec struct {
	Name         string // title of the guide, e.g. "Health Care Claim: Professional"
	SetID        string // ST01, e.g. "837"
	Version      string // GS08 and ST03, e.g. "005010X222A1"
	FunctionalID string // GS01, e.g. "HC"
	Source       string // where the table comes from, e.g. the map file it was generated from
	Children     []Node // the transaction set from ST (first) to SE (last); IG tables are flattened into it
}

// Node is a child of a loop: a *Segment or a *Loop.
type Node interface{ isNode() }

func (*Loop) isNode()    {}
func (*Segment) isNode() {}

// Usage is an implementation guide's usage designator.
type Usage byte

// Usage designators.
const (
	Required    Usage = 'R'
	Situational Usage = 'S'
	NotUsed     Usage = 'N'
)

func (u Usage) String() string {
	switch u {
	case Required:
		return "required"
	case Situational:
		return "situational"
	case NotUsed:
		return "not used"
	}
	return "usage(" + strconv.Quote(string(rune(u))) + ")"
}

// A Loop is a repeating group of segments opened by its first segment (the
// loop's trigger, e.g. NM1 for 2010BA).
type Loop struct {
	ID       string // IG loop ID, e.g. "2010BA" (IK303, CTX04)
	Name     string // e.g. "Subscriber Name"
	Usage    Usage
	Pos      int    // position of the trigger segment in the IG table, e.g. 150 for "0150"
	Repeat   int    // maximum number of loop iterations; 0 means unbounded (">1")
	Children []Node // segments and loops in IG order; Children[0] must be the trigger *Segment
}

// A Segment is one segment as used at one place of a guide.
//
// Qualifier: when two segments with the same ID can occur at the same place
// (NM1*85 and NM1*87, REF*0F and REF*1L), the validator tells them apart the
// way pyx12 does, by the first element's code when that element is a
// required ID with valid codes, or by the first component of a leading
// composite with valid codes; for HL it uses HL03's codes.
type Segment struct {
	ID       string    // segment ID, e.g. "NM1"
	Name     string    // IG name, e.g. "Subscriber Name"
	Usage    Usage     // R, S or N
	Pos      int       // position in the IG table, e.g. 150 for "0150"
	MaxUse   int       // maximum uses at this place; 0 means unbounded (">1")
	Syntax   []Rule    // segment syntax notes, element positions, e.g. "P0304"
	Elements []Element // Elements[0] is element 01
}

// An Element is a simple data element or a composite at one position of a
// segment, or a component of a composite.
type Element struct {
	Ref        string    // data element reference number, e.g. "1035"; "C040" for a composite (IK402)
	Name       string    // IG name, e.g. "Subscriber Last Name"
	Usage      Usage     // R, S or N
	Type       DataType  // simple elements only; empty for a composite
	Min, Max   int       // length bounds (simple elements)
	Repeat     int       // maximum repetitions; 0 and 1 mean the element does not repeat
	Codes      []string  // valid codes; nil means any value of the type
	CodeList   string    // external code list name ("states", "country", "pos", ...), see Options.CodeList
	Pattern    string    // regular expression a value must match as a whole (IK403 I12)
	Components []Element // the components of a composite, in order (non-nil, maybe empty, for a composite); nil for a simple element
	Syntax     []Rule    // composite syntax notes, component positions, e.g. "P0102"
}

// IsComposite reports whether the element is a composite.
func (e *Element) IsComposite() bool { return e.Components != nil }

// DataType is an X12 simple data element type.
type DataType string

// Data element types. N0 to N9 are integers with that many implied decimal
// places; any "N"+digit string works.
const (
	AN DataType = "AN" // string: characters of the X12 character set
	ID DataType = "ID" // identifier: a code
	DT DataType = "DT" // date: CCYYMMDD (8) or YYMMDD (6)
	TM DataType = "TM" // time: HHMM, HHMMSS, HHMMSSD or HHMMSSDD
	R  DataType = "R"  // decimal number: optional minus sign and decimal point
	N0 DataType = "N0" // integer
	N2 DataType = "N2" // number with two implied decimal places
	B  DataType = "B"  // binary data: not checked
)

// A Rule is an X12 syntax note as printed in the guides: a letter and two or
// more two-digit positions (elements of a segment, or components of a
// composite):
//
//	P  paired: if any is present, all are present ("P0304")
//	R  required: at least one is present ("R0203")
//	E  exclusion: at most one is present ("E0405")
//	C  conditional: if the first is present, all the others are ("C0605")
//	L  list conditional: if the first is present, at least one other is ("L100405")
type Rule string

// Parse returns the rule's letter and positions.
func (r Rule) Parse() (kind byte, positions []int, err error) {
	s := string(r)
	if len(s) < 5 || (len(s)-1)%2 != 0 {
		return 0, nil, fmt.Errorf("ig: syntax rule %q: want a letter and two or more 2-digit positions", s)
	}
	switch s[0] {
	case 'P', 'R', 'E', 'C', 'L':
	default:
		return 0, nil, fmt.Errorf("ig: syntax rule %q: unknown kind %q", s, s[0])
	}
	for i := 1; i < len(s); i += 2 {
		n, err := strconv.Atoi(s[i : i+2])
		if err != nil || n < 1 {
			return 0, nil, fmt.Errorf("ig: syntax rule %q: bad position %q", s, s[i:i+2])
		}
		positions = append(positions, n)
	}
	return s[0], positions, nil
}
