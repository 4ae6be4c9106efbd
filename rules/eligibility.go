package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// Rule IDs of the enrollment and authorization rules (a contract, like the
// invoice rules').
const (
	EligNotEnrolled    = "ELIG-NOT-ENROLLED"
	EligShareOfCost    = "ELIG-SHARE-OF-COST"
	EligMemberMismatch = "ELIG-MEMBER-MISMATCH"
	ECMExcluded        = "ECM-EXCLUDED"
	POFNotLive         = "POF-NOT-LIVE"
	AuthMissing        = "AUTH-MISSING"
	AuthOtherProvider  = "AUTH-OTHER-PROVIDER"
	AuthUnitsExceeded  = "AUTH-UNITS-EXCEEDED"
	CSLimitExceeded    = "CS-LIMIT"
	TRNeedsECM         = "TR-NEEDS-ECM"

	// Exceptions to AUTH-MISSING: catalogued rules that let a line through;
	// they never appear in rejects.csv.
	AuthOutreachExempt    = "AUTH-OUTREACH-EXEMPT"
	AuthStreamlinedWindow = "AUTH-STREAMLINED-WINDOW"
	AuthJIPrerelease      = "AUTH-JI-PRERELEASE"

	// Checks of the input feeds, reported by `calgw ingest` and `calgw validate`.
	EnrollmentMemberInvalid = "ENR-MEMBER-INVALID"
	EnrollmentSetRejected   = "ENR-SET-REJECTED"
	AuthFeedInvalid         = "AUTH-FEED-INVALID"
	AuthPeriodPolicy        = "AUTH-PERIOD-POLICY"
	ProgramFeedInvalid      = "PROGRAM-FEED-INVALID"

	// Checks of an 834's date against the 834s loaded before, reported by
	// `calgw ingest` (the store knows what was loaded).
	EnrollmentFileSuperseded = "ENR-FILE-SUPERSEDED"
	EnrollmentFileOutOfOrder = "ENR-FILE-OUT-OF-ORDER"
)

// Groups of the eligibility and authorization rules, each switched on when
// its data has been loaded (see config eligibility.rules).
type Groups struct {
	Enrollment    bool // ELIG-*: needs an 834
	Exclusions    bool // ECM-EXCLUDED: needs an 834 or an other_programs feed
	Authorization bool // AUTH-*, POF-NOT-LIVE, TR-NEEDS-ECM, CS-LIMIT: needs an authorization feed
}

// Any reports whether any group is on.
func (g Groups) Any() bool { return g.Enrollment || g.Exclusions || g.Authorization }

// Facts are what the state store knows about the member of one invoice
// line, gathered by the caller with indexed lookups (never a scan).
type Facts struct {
	Member   *domain.Enrollee // nil: no enrollment record for the CIN
	Auths    []domain.Authorization
	Programs []domain.ProgramSpan
	// Contracts returns the roster's contracts of a provider (nil when the
	// roster is not loaded or does not know it).
	Contracts func(npi string) []domain.ProviderContract
	// Usage returns a usage counter so far: the amount (days or thousandths
	// of units) and the first date of service counted.
	Usage func(key string) (amount int64, first civil.Date)
	// Sent reports whether a line with this duplicate-detection key was
	// already sent (nil: none was).
	Sent func(key LineKey) bool
}

// Use is a usage counter that moves when a line is sent.
type Use struct {
	Key    string
	Amount int64
	Date   civil.Date // the line's first date of service
}

// StreamlinedExtension extends streamlined authorization to a provider by
// the plan's agreement (configuration).
type StreamlinedExtension struct {
	NPI      string
	POFs     []string // empty = every POF
	From, To civil.Date
}

// Eligibility decides the enrollment and authorization rules for a line.
// It is read-only after construction and safe for concurrent use.
type Eligibility struct {
	Tables     *Tables
	Data       *EligibilityTables
	PlanCodes  []string // HD04 codes that are this plan; empty = any
	LTCAidCode map[string]bool
	Extensions []StreamlinedExtension
	from       map[string]civil.Date // rule ID → effective from
}

// NewEligibility builds the rule set.
func NewEligibility(t *Tables, d *EligibilityTables, planCodes, ltcAidCodes []string, ext []StreamlinedExtension) *Eligibility {
	e := &Eligibility{Tables: t, Data: d, PlanCodes: planCodes, LTCAidCode: map[string]bool{}, Extensions: ext, from: map[string]civil.Date{}}
	for _, c := range ltcAidCodes {
		e.LTCAidCode[strings.ToUpper(c)] = true
	}
	for _, r := range catalog {
		e.from[r.ID] = r.From
	}
	return e
}

// inForce reports whether rule id applies to a line with this first date of service.
func (e *Eligibility) inForce(id string, dos civil.Date) bool {
	f, ok := e.from[id]
	return ok && dos >= f
}

// Decide applies the groups of rules that are on to one line and returns
// the decisions against it and the usage counters it moves if sent. leg is
// the coding-table leg the line was billed with.
func (e *Eligibility) Decide(f *Facts, l *domain.InvoiceLine, leg *CodeLeg, on Groups) ([]Decision, []Use) {
	var ds []Decision
	add := func(d *Decision) {
		if d != nil && e.inForce(d.Rule, l.From) {
			ds = append(ds, *d)
		}
	}
	if on.Enrollment {
		add(e.notEnrolled(f, l))
		add(e.shareOfCost(f, l))
		add(e.memberMismatch(f, l))
	}
	if on.Exclusions {
		add(e.ecmExcluded(f, l, leg))
	}
	var uses []Use
	if on.Authorization {
		b := e.basis(f, l, leg)
		add(b.decision)
		add(e.pofNotLive(f, l, leg, &b))
		d, u := e.unitsExceeded(f, l, &b)
		add(d)
		uses = append(uses, u...)
		d, u = e.csLimit(f, l, leg, &b)
		add(d)
		uses = append(uses, u...)
		add(e.trNeedsECM(f, l, leg))
	}
	if len(ds) > 0 {
		return withoutLimitsOfACountedLine(f, l, ds), nil
	}
	return nil, uses
}

// withoutLimitsOfACountedLine drops AUTH-UNITS-EXCEEDED and CS-LIMIT from
// the decisions against a line the counters already hold: a replacement or
// void (frequency 7 or 8), whose original was counted when it was sent and
// for which the counters do not move, or a line identical to one already
// sent, which is DUPLICATE-LINE (decided with the run's sent lines). Either
// would be over a limit only by being counted twice.
func withoutLimitsOfACountedLine(f *Facts, l *domain.InvoiceLine, ds []Decision) []Decision {
	limited := false
	for _, d := range ds {
		limited = limited || d.Rule == AuthUnitsExceeded || d.Rule == CSLimitExceeded
	}
	if !limited || l.Frequency == "" && (f.Sent == nil || !f.Sent(KeyOf(l))) {
		return ds
	}
	out := ds[:0]
	for _, d := range ds {
		if d.Rule != AuthUnitsExceeded && d.Rule != CSLimitExceeded {
			out = append(out, d)
		}
	}
	return out
}

// thisPlan reports whether a span is with this plan.
func (e *Eligibility) thisPlan(s *domain.EligibilitySpan) bool {
	return len(e.PlanCodes) == 0 || slices.Contains(e.PlanCodes, s.PlanCode)
}

// covered reports whether the union of intervals covers every day of
// [from, to], and the first day that is not covered.
func unionCovers(iv [][2]civil.Date, from, to civil.Date) (bool, civil.Date) {
	slices.SortFunc(iv, func(a, b [2]civil.Date) int { return int(a[0]) - int(b[0]) })
	day := from
	for _, x := range iv {
		if x[0] > day {
			break
		}
		if x[1] == 0 {
			return true, 0
		}
		if x[1] >= day {
			if x[1] >= to {
				return true, 0
			}
			day = x[1].AddDays(1)
		}
	}
	return false, day
}

// ELIG-NOT-ENROLLED.
func (e *Eligibility) notEnrolled(f *Facts, l *domain.InvoiceLine) *Decision {
	if f.Member == nil {
		return &Decision{Rule: EligNotEnrolled, Field: "member_cin", Message: "the member has no enrollment with the plan in its 834 files"}
	}
	var iv [][2]civil.Date
	for i := range f.Member.Spans {
		if s := &f.Member.Spans[i]; e.thisPlan(s) {
			iv = append(iv, [2]civil.Date{s.From, s.To})
		}
	}
	if ok, day := unionCovers(iv, l.From, l.To); !ok {
		return &Decision{Rule: EligNotEnrolled, Field: "service_from", Message: fmt.Sprintf(
			"the member is not enrolled with the plan on %s (834 eligibility spans)", day)}
	}
	return nil
}

// ELIG-SHARE-OF-COST.
func (e *Eligibility) shareOfCost(f *Facts, l *domain.InvoiceLine) *Decision {
	if f.Member == nil {
		return nil
	}
	for i := range f.Member.Spans {
		s := &f.Member.Spans[i]
		if s.ShareOfCost <= 0 || !s.Overlaps(l.From, l.To) || !e.thisPlan(s) {
			continue
		}
		if e.LTCAidCode[strings.ToUpper(f.Member.AidCode)] || slices.ContainsFunc(s.AidCodes, func(a string) bool { return e.LTCAidCode[strings.ToUpper(a)] }) {
			continue
		}
		day := max(s.From, l.From)
		return &Decision{Rule: EligShareOfCost, Field: "service_from", Message: fmt.Sprintf(
			"the member has a share of cost on %s that is not a long-term-care share of cost: members with a share of cost are excluded from managed care and ECM (S004:123)", day)}
	}
	return nil
}

// ELIG-MEMBER-MISMATCH.
func (e *Eligibility) memberMismatch(f *Facts, l *domain.InvoiceLine) *Decision {
	if f.Member == nil || f.Member.DOB == 0 || l.Member.DOB == 0 || f.Member.DOB == l.Member.DOB {
		return nil
	}
	return &Decision{Rule: EligMemberMismatch, Field: "member_dob", Message: "member_dob differs from the date of birth the plan's 834 has for this CIN: check the member on the line"}
}

// ECM-EXCLUDED.
func (e *Eligibility) ecmExcluded(f *Facts, l *domain.InvoiceLine, leg *CodeLeg) *Decision {
	if leg == nil || leg.Program != ProgramECM || leg.Outreach {
		return nil
	}
	check := func(program string, from, to civil.Date) *Decision {
		x, ok := e.Data.Exclusions[program]
		if !ok {
			return nil
		}
		// The first day of service that is in the program while it excludes ECM.
		day := max(l.From, from, x.From)
		end := l.To
		if to != 0 {
			end = min(end, to)
		}
		if x.To != 0 {
			end = min(end, x.To)
		}
		if day > end {
			return nil
		}
		if x.ContinuityTo != 0 && end <= x.ContinuityTo && e.hasApprovedECM(f, x.ContinuityOn) {
			return nil // continuity of care
		}
		return &Decision{Rule: ECMExcluded, Field: "service_from", Message: fmt.Sprintf(
			"on %s the member is enrolled in %s, which excludes ECM (%s)", day, x.Name, x.Source)}
	}
	for i := range f.Programs {
		p := &f.Programs[i]
		if d := check(p.Program, p.From, p.To); d != nil {
			return d
		}
	}
	if m := f.Member; m != nil && !m.DSNP.IsZero() {
		if kind := e.Data.DSNPKind(m.DSNP.Contract, m.DSNP.PBP, l.From); kind != "" {
			if d := check(kind, m.DSNP.From, m.DSNP.To); d != nil {
				return d
			}
		}
	}
	return nil
}

// hasApprovedECM reports whether an approved ECM authorization of the
// member covers day.
func (e *Eligibility) hasApprovedECM(f *Facts, day civil.Date) bool {
	for i := range f.Auths {
		a := &f.Auths[i]
		if a.Service == "ECM" && a.Status == domain.AuthApproved && a.Type != domain.AuthStreamlined {
			if from, to, ok := e.coverage(a); ok && day >= from && (to == 0 || day <= to) {
				return true
			}
		}
	}
	return false
}
