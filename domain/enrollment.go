package domain

import (
	"cmp"
	"slices"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// Enrollee is a member as the plan's enrollment (834) files describe them:
// identity, demographics and eligibility spans with this or another plan.
type Enrollee struct {
	Member              // CIN, name, DOB, gender, residence address (2100A)
	SubscriberID string // REF*0F: the subscriber's ID (a family's head for a dependent)
	County       string // two-digit county code (N4 CY, or REF*3H field 1)
	AidCode      string // REF*3H field 2 (as written: leading zeros matter)
	CaseNumber   string // REF*3H field 3
	DSNP         DSNP   // Medicare D-SNP enrollment (REF*DX), when the file names one
	Spans        []EligibilitySpan
}

// DSNP names a member's Medicare Dual Special Needs Plan: the CMS contract
// (H-number) and plan benefit package, which identify the D-SNP kind
// (FIDE, EAE, non-EAE) through the plan's contract table. In a change
// (EnrollmentChange.Enrollee), a DSNP without a Contract whose To is set
// says the member has no D-SNP after To (a REF*DX without a contract in a
// change file); a stored member's DSNP always names its contract.
type DSNP struct {
	Contract string     // REF*DX field 1, e.g. H1234
	PBP      string     // REF*DX field 2
	From     civil.Date // REF*DX field 3, when given
	// To is the last day in the D-SNP (0: open): the day before the period
	// of the first full file that lists the member without it.
	To civil.Date
}

// IsZero reports whether no D-SNP is named.
func (d DSNP) IsZero() bool { return d.Contract == "" }

// EligibilitySpan is one coverage period (2300 HD loop).
type EligibilitySpan struct {
	From, To    civil.Date // DTP*348 / DTP*349; To zero = open
	PlanCode    string     // HD04 field 1: the health-plan code
	PlanStatus  string     // HD04 field 2
	AidCodes    []string   // REF*RB, then the aid codes of REF*CE (aid code;status pairs)
	County      string     // REF*ZX, or the member's county
	ShareOfCost Money      // AMT (spend down) in cents; 0 = none
}

// Covers reports whether d falls in the span.
func (s *EligibilitySpan) Covers(d civil.Date) bool {
	return d >= s.From && (s.To == 0 || d <= s.To)
}

// Overlaps reports whether the span shares a day with [from, to] (to zero = open).
func (s *EligibilitySpan) Overlaps(from, to civil.Date) bool {
	return (to == 0 || s.From <= to) && (s.To == 0 || s.To >= from)
}

// SpanOpKind says what a change does to the spans.
type SpanOpKind uint8

const (
	// SpanUpsert adds the span, replacing one with the same start date and
	// plan code (021 add, 001 change, 025 reinstate, 030 audit).
	SpanUpsert SpanOpKind = iota + 1
	// SpanEnd ends the spans of a plan ("" = every plan) on a date: a span
	// that starts after it is removed, one that covers it ends on it (024).
	SpanEnd
	// SpanDelete removes the span with the same start date and plan code
	// (HD01 002).
	SpanDelete
	// SpanAdd adds the span as it is, beside any other: a member's spans
	// as the store keeps them (two spans may share a start date and plan
	// code, as a cut can leave them).
	SpanAdd
)

// SpanOp is one change to a member's eligibility spans.
type SpanOp struct {
	Kind SpanOpKind
	Span EligibilitySpan // SpanUpsert, SpanAdd, SpanDelete: the span; SpanEnd: Span.PlanCode
	End  civil.Date      // SpanEnd: the last covered day
}

// EnrollmentChange is what one 834 member loop says about a member: the
// demographics as of the file, and changes to the spans, applied in order.
type EnrollmentChange struct {
	Enrollee Enrollee // demographics; its Spans are unused
	// Replace is set by a full (audit) file: before the ops, spans are cut
	// out of [ReplaceFrom, ReplaceTo] (ReplaceTo zero = open), so that the
	// file's spans become the member's whole picture for its period. Only
	// the spans of the plan codes the ops name are cut (PlanCodes): DHCS
	// sends one full file per plan code, and the member's spans of other
	// codes are not this file's to say. A change naming no plan code (a
	// loop without coverage loops) cuts every span.
	Replace                bool
	ReplaceFrom, ReplaceTo civil.Date
	Ops                    []SpanOp
}

// Apply applies a change to e: the change's demographics replace e's (a
// value the change leaves empty keeps e's), then the spans are cut for a
// full file and the ops applied in order. Spans stay sorted by start date
// and plan code.
func (e *Enrollee) Apply(c *EnrollmentChange) {
	n := &c.Enrollee
	setStr := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	setStr(&e.CIN, n.CIN)
	setStr(&e.LastName, n.LastName)
	setStr(&e.FirstName, n.FirstName)
	if n.DOB != 0 {
		e.DOB = n.DOB
	}
	setStr(&e.Gender, n.Gender)
	if !n.Address.IsZero() {
		e.Address = n.Address
	}
	setStr(&e.SubscriberID, n.SubscriberID)
	setStr(&e.County, n.County)
	setStr(&e.AidCode, n.AidCode)
	setStr(&e.CaseNumber, n.CaseNumber)
	switch {
	case !n.DSNP.IsZero():
		e.DSNP = n.DSNP
	case c.Replace && !e.DSNP.IsZero() && e.DSNP.To == 0 && (c.ReplaceTo == 0 || e.DSNP.From <= c.ReplaceTo):
		// A full file is the member's picture for its period: naming no
		// D-SNP, it ends the stored one before the period (and drops one
		// that would start inside it). One that starts after the period
		// is not the file's to say.
		if e.DSNP.From >= c.ReplaceFrom {
			e.DSNP = DSNP{}
		} else {
			e.DSNP.To = c.ReplaceFrom.AddDays(-1)
		}
	case !c.Replace && n.DSNP.To != 0 && !e.DSNP.IsZero() && (e.DSNP.To == 0 || e.DSNP.To > n.DSNP.To):
		// A change file's REF*DX without a contract: the member has no
		// D-SNP after n.DSNP.To. The stored one ends then, or goes if it
		// would start after it.
		if e.DSNP.From > n.DSNP.To {
			e.DSNP = DSNP{}
		} else {
			e.DSNP.To = n.DSNP.To
		}
	}
	if c.Replace {
		e.Spans = CutSpans(e.Spans, c.ReplaceFrom, c.ReplaceTo, c.PlanCodes())
	}
	for i := range c.Ops {
		op := &c.Ops[i]
		switch op.Kind {
		case SpanUpsert:
			e.Spans = slices.DeleteFunc(e.Spans, func(s EligibilitySpan) bool {
				return s.From == op.Span.From && s.PlanCode == op.Span.PlanCode
			})
			e.Spans = append(e.Spans, op.Span)
		case SpanAdd:
			e.Spans = append(e.Spans, op.Span)
		case SpanDelete:
			e.Spans = slices.DeleteFunc(e.Spans, func(s EligibilitySpan) bool {
				return s.From == op.Span.From && s.PlanCode == op.Span.PlanCode
			})
		case SpanEnd:
			e.Spans = slices.DeleteFunc(e.Spans, func(s EligibilitySpan) bool {
				return (op.Span.PlanCode == "" || s.PlanCode == op.Span.PlanCode) && s.From > op.End
			})
			for j := range e.Spans {
				s := &e.Spans[j]
				if (op.Span.PlanCode == "" || s.PlanCode == op.Span.PlanCode) && (s.To == 0 || s.To > op.End) {
					s.To = op.End
				}
			}
		}
	}
	slices.SortStableFunc(e.Spans, func(a, b EligibilitySpan) int {
		switch {
		case a.From != b.From:
			return cmp.Compare(a.From, b.From)
		case a.PlanCode != b.PlanCode:
			return strings.Compare(a.PlanCode, b.PlanCode)
		}
		return cmp.Compare(a.To, b.To)
	})
}

// PlanCodes returns the plan codes the change's ops name, each once, in
// order ("" for a span without a code); nil when it has no op with a span.
func (c *EnrollmentChange) PlanCodes() []string {
	var codes []string
	for i := range c.Ops {
		if op := &c.Ops[i]; op.Kind != SpanEnd && !slices.Contains(codes, op.Span.PlanCode) {
			codes = append(codes, op.Span.PlanCode)
		}
	}
	return codes
}

// CutSpans removes [from, to] (to zero = open) from the spans whose plan
// code is in codes (nil: every span): a span inside it goes, one that
// straddles a boundary keeps the part outside.
func CutSpans(spans []EligibilitySpan, from, to civil.Date, codes []string) []EligibilitySpan {
	out := spans[:0:0]
	for _, s := range spans {
		if !s.Overlaps(from, to) || (codes != nil && !slices.Contains(codes, s.PlanCode)) {
			out = append(out, s)
			continue
		}
		if s.From < from {
			before := s
			before.To = from.AddDays(-1)
			out = append(out, before)
		}
		if to != 0 && (s.To == 0 || s.To > to) {
			after := s
			after.From = to.AddDays(1)
			out = append(out, after)
		}
	}
	return out
}

// AuthStatus is an authorization's decision.
type AuthStatus string

const (
	AuthApproved AuthStatus = "approved"
	AuthDenied   AuthStatus = "denied"
	AuthPending  AuthStatus = "pending"
)

// AuthType is the kind of an authorization.
type AuthType string

const (
	AuthInitial         AuthType = "initial"
	AuthReauthorization AuthType = "reauthorization"
	AuthStreamlined     AuthType = "streamlined"      // ECM streamlined (formerly presumptive) authorization
	AuthAutoPlanChange  AuthType = "auto_plan_change" // automatic ECM authorization after a plan change
	AuthJIPrerelease    AuthType = "ji_prerelease"    // ECM after justice-involved pre-release services
)

// Authorization is one record of the plan's authorization feed.
type Authorization struct {
	Number      string // authorization_number
	CIN         string
	Service     string // coding-table service id: ECM, CS01..CS14, TR, HO
	ProviderNPI string // the authorized provider; "" = any provider
	POF         string // ECM population of focus (POF1A ... POF9)
	Status      AuthStatus
	Type        AuthType
	From, To    civil.Date // start_date, end_date (To zero = open)
	// Units is units_authorized in thousandths; HasUnits false = no limit.
	Units    Quantity
	HasUnits bool
	Decided  civil.Date // decision_date
	// Communicated is the day the decision reached the provider: a denied
	// streamlined authorization pays through the end of that day.
	Communicated civil.Date
	Source       Source // the feed row it came from
}

// ProgramSpan says a member is in another program (hospice, PACE, a
// 1915(c) waiver, ...) from From to To (To zero = open).
type ProgramSpan struct {
	CIN      string
	Program  string // a program id of rules/data/ecm_exclusions.csv
	From, To civil.Date
	Source   string // where the plan learned it (feed name), for messages
}

// Covers reports whether d falls in the program span.
func (p *ProgramSpan) Covers(d civil.Date) bool {
	return d >= p.From && (p.To == 0 || d <= p.To)
}
