package inbound837

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/mappings/invoice"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/rules/snip"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// SuffixEncounters names the accepted claims' encounter lines, in the
// invoice template: `calgw convert` (or the daemon's invoices route) sends
// them to DHCS in the next 837P.
const SuffixEncounters = ".encounters.csv"

// encounterColumns are the invoice template columns the encounter lines
// fill (mappings/invoice).
var encounterColumns = []string{
	invoice.ColInvoiceNumber, invoice.ColInvoiceDate, invoice.ColLineNumber,
	invoice.ColBillingNPI, invoice.ColBillingTIN, invoice.ColBillingName, invoice.ColBillingTaxonomy,
	invoice.ColBillingAddress, invoice.ColBillingCity, invoice.ColBillingState, invoice.ColBillingZip,
	invoice.ColMemberCIN, invoice.ColMemberLastName, invoice.ColMemberFirstName, invoice.ColMemberDOB, invoice.ColMemberGender,
	invoice.ColMemberAddress, invoice.ColMemberCity, invoice.ColMemberState, invoice.ColMemberZip,
	invoice.ColServiceFrom, invoice.ColServiceTo, invoice.ColUnits, invoice.ColChargeAmount,
	invoice.ColHCPCS, invoice.ColModifiers, invoice.ColRenderingNPI, invoice.ColRenderingName,
	invoice.ColPlaceOfService, invoice.ColDiagnosis, invoice.ColAuthorization, invoice.ColProviderClaimID,
	invoice.ColFrequency, invoice.ColOriginalClaim, invoice.ColClaimDiagnoses,
}

// isoDate writes a CCYYMMDD date as YYYY-MM-DD; anything else as it is.
func isoDate(d string) string {
	if len(d) != 8 {
		return d
	}
	return d[:4] + "-" + d[4:6] + "-" + d[6:]
}

// EncounterRows returns the claim's service lines as invoice rows (in
// encounterColumns order), made once per claim: the invoice number is the plan's claim number
// (the 277CA's REF*1K), provider_claim_id the provider's CLM01 (the
// outbound 2300 REF*D9); a line gives its own place of service,
// authorization and rendering provider, else the claim's; its diagnoses
// are the codes its SV107 points at, and claim_diagnoses every code of the
// claim's HI in order (the principal first, codes no line points at too),
// so that the encounter's HI is the provider's. A replacement or void (CLM05-3 7 or
// 8) names in original_claim the plan's claim number of its original
// (its 2300 REF*F8), which the invoice conversion finds in the claims sent.
func EncounterRows(c *Claim) [][]string {
	if c.rows == nil {
		c.rows = encounterRows(c)
	}
	return c.rows
}

func encounterRows(c *Claim) [][]string {
	e := &c.Enc
	rows := make([][]string, 0, len(e.Lines))
	claimDx := strings.Join(e.Diagnoses, " ")
	for i := range e.Lines {
		l := &e.Lines[i]
		pos, auth, rnpi, rname := l.PlaceOfService, l.Authorization, l.RenderingNPI, l.RenderingName
		if pos == "" {
			pos = e.PlaceOfService
		}
		if auth == "" {
			auth = e.Authorization
		}
		if rnpi == "" {
			rnpi, rname = e.RenderingNPI, e.RenderingName
		}
		freq, orig := "", ""
		if e.Frequency == "7" || e.Frequency == "8" {
			freq, orig = e.Frequency, e.PayerClaim
		}
		var dx []string
		for _, p := range l.Pointers {
			if p >= 1 && p <= len(e.Diagnoses) {
				dx = append(dx, e.Diagnoses[p-1])
			}
		}
		rows = append(rows, []string{
			c.PlanClaim(), isoDate(e.InvoiceDate), l.Number,
			e.BillingNPI, e.BillingTIN, e.BillingName, e.BillingTaxonomy,
			e.BillingStreet, e.BillingCity, e.BillingState, e.BillingZip,
			e.MemberCIN, e.MemberLast, e.MemberFirst, isoDate(e.MemberDOB), e.MemberGender,
			e.MemberStreet, e.MemberCity, e.MemberState, e.MemberZip,
			isoDate(l.From), isoDate(l.To), l.Units, l.Charge,
			l.HCPCS, strings.Join(l.Modifiers, " "), rnpi, rname,
			pos, strings.Join(dx, " "), auth, c.ID,
			freq, orig, claimDx,
		})
	}
	return rows
}

// judge decides levels 6 and 7 of a set's claims: the same rules as an
// invoice line (rules.LineChecker, the judges, the duplicate check), run
// by an encounters.Checker over the claims' encounter lines, one check per
// set, so that a line repeating one accepted in an earlier set of the file
// is a duplicate too. A line's decision fails its claim with the rule's
// edit (snip.ForRule) and the partner's action; a replacement or void
// whose 2300 REF*F8 is not the plan's claim number of an accepted claim of
// its sender fails SNIP7-FREQUENCY, as does one whose original the
// conversion would not correct (rules.DecideCorrection), and one without
// REF*F8 that the edit let through (the partner warns on
// SNIP4-CLM05-REF-F8): it corrects no claim.
type judge struct {
	ctx      context.Context
	check    *encounters.Checker
	inbound  store.InboundStore // finds a correction's original; nil: not checked
	profile  snip.Profile
	claimsOf []*Claim
	// failing says, during decide, which claims a rejection fails and
	// then which are withdrawn; withdrawn holds the members of those.
	failing   []bool
	withdrawn map[string]bool
	rows      [][]string
	lines     []at
}

// notOwnOriginal says why a replacement's or void's REF*F8 does not name
// an original this sender may correct ("" when it does): it must be the
// plan's claim number (277CA REF*1K) of a claim the same sender sent and
// the plan accepted, so that no provider replaces or voids another's
// encounter.
func (j *judge) notOwnOriginal(c *Claim) (string, error) {
	if j.inbound == nil {
		return "", nil
	}
	orig, ok, err := j.inbound.InboundClaim(j.ctx, c.Enc.PayerClaim)
	switch {
	case err != nil:
		return "", fmt.Errorf("inbound837: the original of claim %s: %w", c.ID, err)
	case !ok || orig.Sender != c.Sender:
		return "is not the plan's claim number (the 277CA's REF*1K) of a claim this sender sent", nil
	case !orig.Accepted:
		return "names a claim the plan rejected in its 277CA: send the corrected claim as a new one (CLM05-3 1)", nil
	}
	return "", nil
}

// notInUnits returns the first line of c not counted in units (SV103 MJ,
// minutes), nil when every line is: the encounter line carries SV104 as
// units and the outbound 837P writes it with SV103 UN, so minutes would
// be sent as that many units.
func notInUnits(c *Claim) *EncounterLine {
	for i := range c.Enc.Lines {
		if l := &c.Enc.Lines[i]; l.UnitBasis != "UN" {
			return l
		}
	}
	return nil
}

// at is a service line: its claim and its index in the claim.
type at struct{ c, l int }

func (j *judge) claims(claims []*Claim) error {
	check := j.claimsOf[:0]
	for _, c := range claims {
		if c.Enc.Dependent {
			// 2010CA has no member ID: the encounter line would carry the
			// subscriber's CIN, name and birth date for the patient.
			c.Fail(snip.Eligibility, j.profile.Action(snip.Eligibility), c.Line, "CLM", "the patient is not the subscriber (a 2000C patient loop): "+
				"a Medi-Cal member is billed under their own CIN, as the subscriber (2010BA, SBR02 18, no 2000C); the encounter cannot name the patient")
			continue
		}
		if l := notInUnits(c); l != nil {
			c.Fail(snip.InvoiceRule, j.profile.Action(snip.InvoiceRule), l.Line, "SV1", "service line "+l.Number+": SV103 is "+l.UnitBasis+
				", not UN: the encounter to DHCS counts units of service (SV103 UN, SV104 the units of the code's DHCS unit), so the line cannot be sent on as it is; bill it in units")
			continue
		}
		switch f := c.Enc.Frequency; {
		case f == "" || f == "1":
			check = append(check, c)
		case (f == "7" || f == "8") && c.Enc.PayerClaim != "":
			if why, err := j.notOwnOriginal(c); err != nil {
				return err
			} else if why != "" {
				c.Fail(snip.Frequency, j.profile.Action(snip.Frequency), c.Line, "CLM", "CLM05-3 is "+f+" but 2300 REF*F8 "+c.Enc.PayerClaim+" "+why)
				continue
			}
			check = append(check, c)
		case f == "7" || f == "8":
			c.Fail(snip.Frequency, j.profile.Action(snip.Frequency), c.Line, "CLM", "CLM05-3 is "+f+" but 2300 REF*F8 (the plan's claim number of the original) is missing")
		default:
			c.Fail(snip.Frequency, j.profile.Action(snip.Frequency), c.Line, "CLM", "CLM05-3 is "+f+": only 1, 7 and 8 are taken")
		}
	}
	j.claimsOf = check
	// A claim rejected for one of its lines is not sent, so its other
	// lines must not make a later claim's lines duplicates or over a
	// limit: the later claims of its member are checked again without it.
	// After such a check the next one takes one claim, and each check that
	// decides all its claims takes twice as many as the one before, so
	// that a file whose every member has several such claims is checked
	// claim by claim, not again and again whole.
	for start, size := 0, len(check); start < len(check); {
		n, err := j.decide(check[start:min(start+size, len(check))])
		if err != nil {
			return err
		}
		if start+n < len(check) && n < size {
			size = 1
		} else {
			size *= 2
		}
		start += n
	}
	return nil
}

// memberOf is a claim's member as the duplicate keys and usage counters
// of its lines know it (the invoice decoding's CIN). Claims of different
// members share neither: a line's key holds its CIN, and its counters are
// its CIN's or its authorization's, which is one member's.
func memberOf(c *Claim) string { return strings.ToUpper(strings.TrimSpace(c.Enc.MemberCIN)) }

// decide puts the service lines of claims through levels 6 and 7 and
// returns how many of claims, from the first, it decided. A claim it
// rejects while it accepted another of its lines is withdrawn: it is
// rejected and what its lines moved is not kept. The claims after it of
// its member, whose lines it may have made duplicates or over a limit,
// are not decided, nor any after the first of them: they are left to be
// checked again.
func (j *judge) decide(claims []*Claim) (int, error) {
	// Lines are decided in row order: the k-th decision is the k-th line.
	j.rows, j.lines = j.rows[:0], j.lines[:0]
	for ci, c := range claims {
		j.rows = append(j.rows, EncounterRows(c)...)
		for li := range c.Enc.Lines {
			j.lines = append(j.lines, at{ci, li})
		}
	}
	res, err := j.check.Hold(j.ctx, j.rows)
	if err != nil {
		return 0, fmt.Errorf("levels 6 and 7: %w", err)
	}
	clear(j.failing)
	j.failing = slices.Grow(j.failing[:0], len(claims))[:len(claims)]
	for _, d := range res {
		if d.Outcome == store.OutcomeRejected && d.Seq >= 1 && d.Seq <= len(j.lines) && j.profile.Action(snip.ForRule(d.Rule)) != snip.Warn {
			j.failing[j.lines[d.Seq-1].c] = true
		}
	}
	clear(j.withdrawn)
	if j.withdrawn == nil {
		j.withdrawn = map[string]bool{}
	}
	decided, rows := len(claims), len(j.lines)
	for seq := 0; seq < len(j.lines); {
		ci := j.lines[seq].c
		end := seq + len(claims[ci].Enc.Lines)
		member := memberOf(claims[ci])
		if j.withdrawn[member] {
			decided, rows = ci, seq
			break
		}
		if j.failing[ci] {
			for s := seq; s < end; s++ {
				if _, ok := j.check.Sent(s + 1); ok {
					j.withdrawn[member] = true
					break
				}
			}
			j.failing[ci] = j.withdrawn[member] // true: withdrawn
		}
		seq = end
	}
	for seq, p := range j.lines[:rows] {
		l := &claims[p.c].Enc.Lines[p.l]
		l.Sent, l.Pending = j.check.Sent(seq + 1)
		if j.failing[p.c] {
			l.Sent, l.Pending = store.Line{}, false
		}
	}
	for _, d := range res {
		if d.Outcome != store.OutcomeRejected || d.Seq < 1 || d.Seq > rows {
			continue
		}
		p := j.lines[d.Seq-1]
		c, l := claims[p.c], &claims[p.c].Enc.Lines[p.l]
		id := snip.ForRule(d.Rule)
		msg := d.Rule + ": " + d.Message
		if d.Field != "" {
			msg = d.Rule + " (" + d.Field + "): " + d.Message
		}
		c.Fail(id, j.profile.Action(id), l.Line, "SV1", "service line "+l.Number+": "+msg)
		c.Hits[len(c.Hits)-1].Text = l.Text
	}
	if err := j.check.Keep(rows, func(seq int) bool { return j.failing[j.lines[seq-1].c] }); err != nil {
		return 0, fmt.Errorf("levels 6 and 7: %w", err)
	}
	return decided, nil
}
