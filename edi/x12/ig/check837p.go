package ig

import (
	"fmt"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// claimBalance checks the 837P claim rules the tables cannot express
// (005010X222A1): the total claim charge amount (2300 CLM02) equals the sum
// of the service line charge amounts (2400 SV102) of the claim, and the
// service lines are numbered 1, 2, 3… in order (2400 LX01).
type claimBalance struct {
	open  bool
	clm   Pos   // the CLM segment
	total int64 // CLM02 in micro-units
	sum   int64 // SV102 so far
	lines int   // service lines seen
	bad   bool  // an amount could not be read: leave it to the element checks
	lx    int   // LX01 of the claim's previous line, 0 before the first
}

func newClaimBalance() Check { return &claimBalance{} }

// SegmentIDs makes claimBalance a SegmentFilter.
func (c *claimBalance) SegmentIDs() []string { return []string{"CLM", "HL", "LX", "SV1"} }

func (c *claimBalance) Segment(t *Txn, seg *x12.Segment) {
	switch string(seg.ID()) {
	case "CLM":
		c.close(t)
		total, ok := parseAmount(seg.Element(2))
		*c = claimBalance{open: true, clm: t.Pos(), total: total, bad: !ok}
	case "HL":
		c.close(t)
		c.lx = 0
	case "LX":
		if t.Loop() == "2400" {
			c.lineNumber(t, seg.Element(1))
		}
	case "SV1":
		if c.open && t.Loop() == "2400" {
			amt, ok := parseAmount(seg.Element(2))
			c.bad = c.bad || !ok
			c.sum += amt
			c.lines++
		}
	}
}

func (c *claimBalance) End(t *Txn) { c.close(t) }

func (c *claimBalance) close(t *Txn) {
	if !c.open {
		return
	}
	c.open = false
	if c.bad || c.lines == 0 || c.total == c.sum {
		return // a claim without service lines is reported by the table
	}
	t.Report(Finding{Pos: c.clm, Level: LevelElement, Code: ElemPatternMismatch, Element: 2, ElementRef: "782",
		Msg: fmt.Sprintf("CLM02 (Total Claim Charge Amount) is %s but the service lines (SV102) add up to %s",
			formatAmount(c.total), formatAmount(c.sum))})
}

const amountScale = 1_000_000 // amounts are compared in millionths

// parseAmount reads an X12 R value into millionths.
func parseAmount(b []byte) (int64, bool) { return x12.ParseDecimal(b, 6) }

// formatAmount prints millionths as a plain decimal (amounts are not PHI).
func formatAmount(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	s := fmt.Sprintf("%s%d.%06d", sign, v/amountScale, v%amountScale)
	for s[len(s)-1] == '0' && s[len(s)-2] != '.' && s[len(s)-3] != '.' {
		s = s[:len(s)-1]
	}
	return s
}

// lineNumber checks LX01, v, against the claim's previous line number.
func (c *claimBalance) lineNumber(t *Txn, v []byte) {
	n, ok := atoi(v)
	if !ok { // not a number: the element checks report it
		c.lx++
		return
	}
	if n != c.lx+1 {
		t.Report(Finding{Pos: t.Pos(), Level: LevelElement, Code: ElemPatternMismatch, Element: 1, ElementRef: "554",
			Msg: fmt.Sprintf("LX01 (Assigned Number) must be %d: service lines are numbered 1, 2, 3… within a claim", c.lx+1), Value: string(v)})
	}
	c.lx = n
}

// subscriberAddress checks the situational rule of 2010BA N3, N4 and DMG
// (005010X222A1): "Required when the patient is the subscriber". The
// patient is the subscriber when the subscriber's HL (2000B) has no patient
// HL (2000C) under it; the address is then required, and its absence is
// reported on the subscriber's NM1*IL as an implementation dependent
// segment missing (IK304 I6). So is 2000B SBR02 (Individual Relationship
// Code 18, "required when the subscriber is the same person as the
// patient"): its absence is an implementation dependent data element
// missing (IK403 I9) on the SBR.
type subscriberAddress struct {
	open        bool // a 2010BA loop is open and its HL may still get a 2000C child
	named       bool // the HL's 2010BA has started (a repeat is the table's finding)
	name        Pos  // the NM1*IL
	n3, n4, dmg bool
	sbr         Pos  // the HL's 2000B SBR
	sbrSeen     bool // the HL has an SBR
	sbr02       bool // and its SBR02 is sent
}

func newSubscriberAddress() Check { return &subscriberAddress{} }

// NewSubscriberCheck returns the 837P check of the situational rules that
// hold when the patient is the subscriber (2010BA N3, N4 and DMG, 2000B
// SBR02), for a registry that registers the 837P with checks of its own
// in place of NewRegistry's.
func NewSubscriberCheck() Check { return newSubscriberAddress() }

// SegmentIDs makes subscriberAddress a SegmentFilter.
func (c *subscriberAddress) SegmentIDs() []string {
	return []string{"HL", "SBR", "NM1", "N3", "N4", "DMG"}
}

func (c *subscriberAddress) Segment(t *Txn, seg *x12.Segment) {
	switch string(seg.ID()) {
	case "HL":
		if string(seg.Element(3)) == "23" { // a patient HL: the patient is not the subscriber
			c.open = false
		}
		c.close(t)
		c.named, c.sbrSeen = false, false
	case "SBR":
		if t.Loop() == "2000B" && !c.sbrSeen {
			c.sbr, c.sbrSeen, c.sbr02 = t.Pos(), true, len(seg.Element(2)) > 0
		}
	case "NM1":
		if t.Loop() == "2010BA" && !c.named {
			*c = subscriberAddress{open: true, named: true, name: t.Pos(), sbr: c.sbr, sbrSeen: c.sbrSeen, sbr02: c.sbr02}
		}
	case "N3":
		c.n3 = c.n3 || t.Loop() == "2010BA"
	case "N4":
		c.n4 = c.n4 || t.Loop() == "2010BA"
	case "DMG":
		c.dmg = c.dmg || t.Loop() == "2010BA"
	}
}

func (c *subscriberAddress) End(t *Txn) { c.close(t) }

func (c *subscriberAddress) close(t *Txn) {
	if !c.open {
		return
	}
	c.open = false
	if c.sbrSeen && !c.sbr02 {
		t.Report(Finding{Pos: c.sbr, Level: LevelElement, Code: ElemDependentMissing, Element: 2, ElementRef: "1069",
			Msg: "SBR02 (Individual Relationship Code) is missing: it is required (18) when the subscriber is the patient (no 2000C patient loop)"})
	}
	for _, s := range []struct {
		id   string
		seen bool
		name string
	}{{"N3", c.n3, "Subscriber Address"}, {"N4", c.n4, "Subscriber City, State, ZIP Code"}, {"DMG", c.dmg, "Subscriber Demographic Information"}} {
		if !s.seen {
			pos := c.name
			pos.Segment = s.id
			t.Report(Finding{Pos: pos, Level: LevelSegment, Code: SegDependentMissing,
				Msg: fmt.Sprintf("%s (%s) is missing in loop 2010BA: it is required when the patient is the subscriber (no 2000C patient loop)", s.id, s.name)})
		}
	}
}
