// Package encounter turns accepted invoice lines into 837P claims: one claim
// per invoice, member, billing and rendering provider, with at most 50 lines
// and 12 diagnoses. It streams: lines of a claim must be adjacent in the
// input (as invoices are written); a claim that reappears later, or grows
// past the 837P limits, continues in a new claim with the same CLM01 (the
// conversion rejects such a line of a replacement or void instead,
// rules.CorrectionSplit: Continues tells it).
//
// Where each invoice column goes (005010X222A1; edi/x12/x837p writes the
// segments, the envelope values come from the trading-partner profile):
//
//	invoice column            loop   segment/element          note
//	billing_npi               2010AA NM1*85 NM109 (XX)        a new 2000A HL when the billing provider changes
//	billing_name              2010AA NM1*85 NM103             organization (NM102 2)
//	billing_tin               2010AA REF*EI REF02             9 digits
//	billing_address           2010AA N3 N301                  a street, never a PO box
//	billing_city/state/zip    2010AA N4 N401/N402/N403        ZIP+4 (9 digits)
//	billing_taxonomy          2000A  PRV*BI*PXC PRV03         when given
//	member_cin                2010BA NM1*IL NM109 (MI)        the patient is the subscriber: SBR02 18, no 2000C
//	member_last/first_name    2010BA NM1*IL NM103/NM104
//	member_address/city/...   2010BA N3/N4                    all four, else the member's 834 address (rules.MemberAddress)
//	member_dob, member_gender 2010BA DMG02/DMG03 (D8)         gender U when not given
//	invoice_number            2300   CLM01                    patient control number; with an HCP code table
//	                                                          (plan.hcp_codes) CLM01 is HCP code + run + claim
//	                                                          sequence instead (Options.ClaimID), unique for ever
//	charge_amount (sum)       2300   CLM02                    the sum of the claim's SV102
//	place_of_service          2300   CLM05-1 (B, frequency 1) the first line's, else encounters.default_place_of_service
//	frequency                 2300   CLM05-3                  7 replacement, 8 void; else 1
//	original_claim            2300   CLM01, REF*F8            with 7/8: the original's CLM01 and its DHCS
//	                                                          Encounter ID (from an ingested 277CA)
//	authorization_number      2300   REF*G1                   when every line of the claim has the same one
//	provider_claim_id         2300   REF*D9                   the provider's CLM01 of a claim received as an 837P
//	claim_diagnoses           2300   HI (ABK, then ABF)       the claim's codes in order, when given
//	diagnosis                 2300   HI (ABK, then ABF)       after claim_diagnoses; else encounters.default_diagnosis,
//	                                                          never ABK while a line gave a code of its own
//	rendering_npi/_name       2310B  NM1*82 NM109 (XX)        when not the billing NPI; a person or an organization
//	(line number in claim)    2400   LX01                     1, 2, 3 ... within the claim
//	hcpcs, modifiers          2400   SV101 (HC:code:mod...)   from the coding table when the line names a service
//	charge_amount             2400   SV102
//	units                     2400   SV103 UN, SV104
//	place_of_service          2400   SV105                    only when it differs from CLM05-1
//	diagnosis (pointers)      2400   SV107                    pointers into the claim's HI
//	service_from/service_to   2400   DTP*472 D8, or RD8       RD8 when the dates differ
//	authorization_number      2400   REF*G1                   when the claim's lines differ
//	(gateway)                 2400   REF*6R                   line item control number, unique per line sent
//
// The payer (2010BB NM1*PR) and SBR09 claim filing indicator come from
// Options; the submitter (1000A), receiver (1000B) and envelope from the
// trading partner's profile (per HCP code: ISA06 TIN + HCP, GS02 and 1000A
// NM109 the TIN; docs/dhcs.md).
package encounter

import (
	"slices"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/x837p"
)

// Options are the plan's defaults for values an invoice may leave out.
type Options struct {
	Payer                 x837p.Party
	ClaimFilingIndicator  string // SBR09
	DefaultPlaceOfService string // CLM05-1 when the invoice gives none
	DefaultDiagnosis      string // HI when a line gives none (no decimal point)
	// ClaimID returns CLM01 of a new claim starting with l; nil = the
	// invoice number.
	ClaimID func(l *domain.InvoiceLine) string
}

// Assembler groups lines into claims and hands each finished claim to Emit.
type Assembler struct {
	opts Options
	emit func(*x837p.Claim) error

	cur    *x837p.Claim
	curKey string
	auths  []string // per line of cur, for the claim-level REF*G1
	// givenDefault: a line of cur lists the default diagnosis as a code of
	// its own (or of its claim's), so it may stay the principal one.
	givenDefault bool
}

// NewAssembler returns an Assembler calling emit for each claim. The claim
// passed to emit is only valid during the call.
func NewAssembler(opts Options, emit func(*x837p.Claim) error) *Assembler {
	return &Assembler{opts: opts, emit: emit}
}

func claimKey(l *domain.InvoiceLine) string {
	return l.InvoiceNumber + "\x00" + l.Member.CIN + "\x00" + l.Billing.NPI + "\x00" + l.Billing.TIN + "\x00" + l.Rendering.NPI +
		"\x00" + l.Frequency + "\x00" + l.OriginalClaim + "\x00" + l.ProviderClaimID + "\x00" + strings.Join(l.ClaimDiagnoses, " ")
}

// Continues reports whether Add(l) would add l to the claim being built
// rather than start a new claim: same claim key, and room for a line and
// its diagnoses.
func (a *Assembler) Continues(l *domain.InvoiceLine) bool {
	return a.continues(claimKey(l), a.diagnoses(l))
}

func (a *Assembler) continues(key string, dx []string) bool {
	return a.cur != nil && key == a.curKey && len(a.cur.Lines) < x837p.MaxLinesPerClaim && fits(a.cur.Diagnoses, dx)
}

// diagnoses are l's diagnoses, else its claim's principal one, else the
// default one.
func (a *Assembler) diagnoses(l *domain.InvoiceLine) []string {
	switch {
	case len(l.Diagnoses) > 0:
		return l.Diagnoses
	case len(l.ClaimDiagnoses) > 0:
		return l.ClaimDiagnoses[:1]
	}
	return []string{a.opts.DefaultDiagnosis}
}

// Add appends an accepted line, with its line item control number.
func (a *Assembler) Add(l *domain.InvoiceLine, control string) error {
	dx := a.diagnoses(l)
	key := claimKey(l)
	if a.cur != nil && !a.continues(key, dx) {
		if err := a.Flush(); err != nil {
			return err
		}
	}
	if a.cur == nil {
		a.start(l, key)
	}
	c := a.cur
	a.givenDefault = a.givenDefault || slices.Contains(l.Diagnoses, a.opts.DefaultDiagnosis) ||
		slices.Contains(l.ClaimDiagnoses, a.opts.DefaultDiagnosis)
	ptrs := make([]int, 0, len(dx))
	for _, code := range dx {
		i := slices.Index(c.Diagnoses, code)
		if i < 0 {
			c.Diagnoses = append(c.Diagnoses, code)
			i = len(c.Diagnoses) - 1
		}
		if !slices.Contains(ptrs, i+1) {
			ptrs = append(ptrs, i+1)
		}
	}
	pos := l.PlaceOfService
	if pos == "" {
		pos = a.opts.DefaultPlaceOfService
	}
	c.Lines = append(c.Lines, x837p.ServiceLine{
		HCPCS:              l.HCPCS,
		Modifiers:          l.Modifiers,
		Charge:             l.Charge,
		Units:              l.Units,
		PlaceOfService:     pos,
		DiagnosisPointers:  ptrs,
		From:               l.From,
		To:                 l.To,
		PriorAuthorization: l.AuthorizationNumber,
		ControlNumber:      control,
	})
	a.auths = append(a.auths, l.AuthorizationNumber)
	return nil
}

// fits reports whether the claim's diagnoses can take the line's.
func fits(have, add []string) bool {
	n := len(have)
	for _, d := range add {
		if !slices.Contains(have, d) {
			n++
		}
	}
	return n <= x837p.MaxDiagnosesPerClaim
}

func (a *Assembler) start(l *domain.InvoiceLine, key string) {
	pos := l.PlaceOfService
	if pos == "" {
		pos = a.opts.DefaultPlaceOfService
	}
	c := &x837p.Claim{
		Diagnoses:            slices.Clone(l.ClaimDiagnoses), // HI in the claim's order; the lines add theirs after
		Billing:              l.Billing,
		Subscriber:           l.Member,
		Payer:                a.opts.Payer,
		ClaimFilingIndicator: a.opts.ClaimFilingIndicator,
		PatientControlNumber: l.InvoiceNumber,
		PlaceOfService:       pos,
		ClaimIdentifier:      l.ProviderClaimID,
		Lines:                make([]x837p.ServiceLine, 0, 4),
	}
	switch {
	case l.Frequency != "":
		// A replacement or void: the original's CLM01 and DHCS Encounter ID.
		c.FrequencyCode = l.Frequency
		c.PatientControlNumber, c.PayerClaimControl = l.OriginalClaim, l.OriginalEncounterID
	case a.opts.ClaimID != nil:
		c.PatientControlNumber = a.opts.ClaimID(l)
	}
	if l.Rendering.NPI != "" && l.Rendering.NPI != l.Billing.NPI {
		r := l.Rendering
		c.Rendering = &r
	}
	a.cur, a.curKey, a.auths, a.givenDefault = c, key, a.auths[:0], false
}

// Flush emits the claim being built, if any.
func (a *Assembler) Flush() error {
	c := a.cur
	if c == nil {
		return nil
	}
	a.cur = nil
	// One authorization for every line goes to the claim (2300 REF*G1);
	// otherwise each line carries its own (2400 REF*G1).
	if auth := a.auths[0]; auth != "" && allEqual(a.auths, auth) {
		c.PriorAuthorization = auth
	}
	if !a.givenDefault && len(c.Diagnoses) > 1 && c.Diagnoses[0] == a.opts.DefaultDiagnosis {
		lastDefault(c)
	}
	return a.emit(c)
}

// lastDefault moves the claim's first diagnosis, the default one that its
// first lines got for giving none, to the end of HI, so that a code a
// line gave is the principal one (ABK); the lines' pointers follow.
func lastDefault(c *x837p.Claim) {
	n := len(c.Diagnoses)
	c.Diagnoses = append(c.Diagnoses[1:], c.Diagnoses[0])
	for i := range c.Lines {
		for k, p := range c.Lines[i].DiagnosisPointers {
			if p == 1 {
				c.Lines[i].DiagnosisPointers[k] = n
			} else {
				c.Lines[i].DiagnosisPointers[k] = p - 1
			}
		}
	}
}

func allEqual(s []string, v string) bool {
	for _, x := range s {
		if x != v {
			return false
		}
	}
	return true
}
