// Package encounter turns accepted invoice lines into 837P claims: one claim
// per invoice, member, billing and rendering provider, with at most 50 lines
// and 12 diagnoses. It streams: lines of a claim must be adjacent in the
// input (as invoices are written); a claim that reappears later, or grows
// past the 837P limits, continues in a new claim with the same CLM01.
package encounter

import (
	"slices"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/x837p"
)

// Options are the plan's defaults for values an invoice may leave out.
type Options struct {
	Payer                 x837p.Party
	ClaimFilingIndicator  string // SBR09
	DefaultPlaceOfService string // CLM05-1 when the invoice gives none
	DefaultDiagnosis      string // HI when a line gives none (no decimal point)
}

// Assembler groups lines into claims and hands each finished claim to Emit.
type Assembler struct {
	opts Options
	emit func(*x837p.Claim) error

	cur    *x837p.Claim
	curKey string
	auths  []string // per line of cur, for the claim-level REF*G1
}

// NewAssembler returns an Assembler calling emit for each claim. The claim
// passed to emit is only valid during the call.
func NewAssembler(opts Options, emit func(*x837p.Claim) error) *Assembler {
	return &Assembler{opts: opts, emit: emit}
}

func claimKey(l *domain.InvoiceLine) string {
	return l.InvoiceNumber + "\x00" + l.Member.CIN + "\x00" + l.Billing.NPI + "\x00" + l.Billing.TIN + "\x00" + l.Rendering.NPI
}

// Add appends an accepted line, with its line item control number.
func (a *Assembler) Add(l *domain.InvoiceLine, control string) error {
	dx := l.Diagnoses
	if len(dx) == 0 {
		dx = []string{a.opts.DefaultDiagnosis}
	}
	key := claimKey(l)
	if a.cur != nil && (key != a.curKey || len(a.cur.Lines) >= x837p.MaxLinesPerClaim || !fits(a.cur.Diagnoses, dx)) {
		if err := a.Flush(); err != nil {
			return err
		}
	}
	if a.cur == nil {
		a.start(l, key)
	}
	c := a.cur
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
		Billing:              l.Billing,
		Subscriber:           l.Member,
		Payer:                a.opts.Payer,
		ClaimFilingIndicator: a.opts.ClaimFilingIndicator,
		PatientControlNumber: l.InvoiceNumber,
		PlaceOfService:       pos,
		Lines:                make([]x837p.ServiceLine, 0, 4),
	}
	if l.Rendering.NPI != "" && l.Rendering.NPI != l.Billing.NPI {
		r := l.Rendering
		c.Rendering = &r
	}
	a.cur, a.curKey, a.auths = c, key, a.auths[:0]
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
	return a.emit(c)
}

func allEqual(s []string, v string) bool {
	for _, x := range s {
		if x != v {
			return false
		}
	}
	return true
}
