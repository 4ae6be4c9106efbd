// Package x837p writes 837 Professional encounters (ASC X12 005010X222A1)
// from typed claims, streaming: one claim at a time, with the envelopes,
// hierarchical levels, transaction-set splits and counts handled here.
package x837p

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// Version is the implementation guide this package writes (GS08, ST03).
const Version = "005010X222A1"

// MaxLinesPerClaim is the 2400 loop's repeat limit in 005010X222A1.
const MaxLinesPerClaim = 50

// MaxDiagnosesPerClaim is the number of codes HI can carry (HI01..HI12).
const MaxDiagnosesPerClaim = 12

// Party is a submitter, receiver or payer named in the 837P header loops.
type Party struct {
	Name string // NM103
	ID   string // NM109
}

// Contact is the submitter's EDI contact (1000A PER).
type Contact struct {
	Name  string // PER02
	Phone string // PER04 with PER03 "TE"
	Email string // PER06 with PER05 "EM"
}

// Header holds what is the same for every claim of an interchange.
type Header struct {
	Interchange     x12.InterchangeHeader // ControlNumber is set by the caller
	Group           x12.GroupHeader       // ControlNumber is set by the caller; FunctionalID and Version are filled in
	Submitter       Party                 // 1000A NM1*41, NM108 "46"
	SubmitterPER    Contact               // 1000A PER*IC
	Receiver        Party                 // 1000B NM1*40, NM108 "46"
	TransactionType string                // BHT06: "RP" reporting (encounters) or "CH" chargeable
	MaxClaimsPerST  int                   // claims per transaction set; 0 = 5000
	// NextSTControl reserves a transaction set control number (ST02).
	NextSTControl func() (int64, error)
}

// Claim is one 2300 claim with its billing provider and subscriber.
type Claim struct {
	Billing              domain.Provider // 2010AA; Taxonomy goes to 2000A PRV*BI when set
	Subscriber           domain.Member   // 2010BA (the patient is the subscriber)
	Payer                Party           // 2010BB, NM108 "PI"
	ClaimFilingIndicator string          // SBR09, e.g. "MC" Medicaid
	PatientControlNumber string          // CLM01
	PlaceOfService       string          // CLM05-1
	FrequencyCode        string          // CLM05-3; "" = "1" original, "7" replacement, "8" void
	PriorAuthorization   string          // 2300 REF*G1
	PayerClaimControl    string          // 2300 REF*F8: the DHCS Encounter ID a replacement or void corrects
	// ClaimIdentifier is 2300 REF*D9 (claim identifier for transmission
	// intermediaries): the provider's own CLM01 of a claim the plan
	// received as an 837P and forwards.
	ClaimIdentifier string
	Diagnoses       []string         // HI: first ABK (principal), the rest ABF; no decimal points
	Rendering       *domain.Provider // 2310B when the rendering provider differs from the billing provider
	Lines           []ServiceLine    // 2400, at most MaxLinesPerClaim
}

// ServiceLine is one 2400 service line.
type ServiceLine struct {
	HCPCS              string   // SV101-2
	Modifiers          []string // SV101-3..6
	Charge             domain.Money
	Units              domain.Quantity
	PlaceOfService     string // SV105, only when it differs from CLM05-1
	DiagnosisPointers  []int  // SV107, 1-based positions in Claim.Diagnoses
	From, To           civil.Date
	PriorAuthorization string // 2400 REF*G1, when it differs from the claim's
	ControlNumber      string // 2400 REF*6R line item control number
}

// Total is the sum of the line charges (CLM02).
func (c *Claim) Total() domain.Money {
	var t domain.Money
	for _, l := range c.Lines {
		t += l.Charge
	}
	return t
}

// Encoder writes one interchange with one functional group.
type Encoder struct {
	w   *x12.Writer
	h   Header
	err error

	open       bool // ISA/GS written
	inST       bool
	claimsInST int
	stCount    int
	hl         int // last HL01 in the open ST
	billingHL  int
	billingKey string
	claims     int
	lines      int
	st         int64 // ST02 of the open (or last) transaction set
}

// NewEncoder returns an Encoder writing to w with delimiters d.
func NewEncoder(w io.Writer, d x12.Delimiters, h Header, opts ...x12.WriterOption) *Encoder {
	if h.MaxClaimsPerST <= 0 {
		h.MaxClaimsPerST = 5000
	}
	if h.TransactionType == "" {
		h.TransactionType = "RP"
	}
	h.Group.FunctionalID = "HC"
	h.Group.Version = Version
	return &Encoder{w: x12.NewWriter(w, d, opts...), h: h}
}

// Claims and Lines count what was written.
func (e *Encoder) Claims() int          { return e.claims }
func (e *Encoder) Lines() int           { return e.lines }
func (e *Encoder) TransactionSets() int { return e.stCount }

// TransactionControl is the ST02 of the transaction set the last claim
// went in (0 before the first claim).
func (e *Encoder) TransactionControl() int64 { return e.st }

func (e *Encoder) seg(id string, els ...string) {
	if e.err == nil {
		e.err = e.w.Segment(id, els...)
	}
}

// Encode writes one claim.
func (e *Encoder) Encode(c *Claim) error {
	if e.err != nil {
		return e.err
	}
	if err := checkClaim(c); err != nil {
		return err
	}
	if !e.open {
		if e.err = e.w.BeginInterchange(e.h.Interchange); e.err != nil {
			return e.err
		}
		if e.err = e.w.BeginGroup(e.h.Group); e.err != nil {
			return e.err
		}
		e.open = true
	}
	if e.inST && e.claimsInST >= e.h.MaxClaimsPerST {
		if e.err = e.w.EndTransaction(); e.err != nil {
			return e.err
		}
		e.inST = false
	}
	if !e.inST {
		if err := e.beginST(); err != nil {
			return err
		}
	}
	e.billing(&c.Billing)
	e.subscriber(c)
	e.claim(c)
	e.claimsInST++
	e.claims++
	e.lines += len(c.Lines)
	return e.err
}

func checkClaim(c *Claim) error {
	switch {
	case len(c.Lines) == 0:
		return fmt.Errorf("x837p: claim %s has no service lines", c.PatientControlNumber)
	case len(c.Lines) > MaxLinesPerClaim:
		return fmt.Errorf("x837p: claim %s has %d service lines; the limit is %d", c.PatientControlNumber, len(c.Lines), MaxLinesPerClaim)
	case len(c.Diagnoses) == 0:
		return fmt.Errorf("x837p: claim %s has no diagnosis (HI is required)", c.PatientControlNumber)
	case len(c.Diagnoses) > MaxDiagnosesPerClaim:
		return fmt.Errorf("x837p: claim %s has %d diagnoses; the limit is %d", c.PatientControlNumber, len(c.Diagnoses), MaxDiagnosesPerClaim)
	}
	for i, l := range c.Lines {
		if len(l.Modifiers) > 4 {
			return fmt.Errorf("x837p: claim %s line %d has %d modifiers; the limit is 4", c.PatientControlNumber, i+1, len(l.Modifiers))
		}
		if len(l.DiagnosisPointers) == 0 || len(l.DiagnosisPointers) > 4 {
			return fmt.Errorf("x837p: claim %s line %d needs 1 to 4 diagnosis pointers", c.PatientControlNumber, i+1)
		}
		for _, p := range l.DiagnosisPointers {
			if p < 1 || p > len(c.Diagnoses) {
				return fmt.Errorf("x837p: claim %s line %d points at diagnosis %d of %d", c.PatientControlNumber, i+1, p, len(c.Diagnoses))
			}
		}
	}
	return nil
}

func (e *Encoder) beginST() error {
	n, err := e.h.NextSTControl()
	if err != nil {
		e.err = fmt.Errorf("x837p: reserve ST control number: %w", err)
		return e.err
	}
	if e.err = e.w.BeginTransaction("837", n, Version); e.err != nil {
		return e.err
	}
	e.inST = true
	e.st = n
	e.stCount++
	e.claimsInST = 0
	e.hl = 0
	e.billingKey = ""
	now := e.h.Group.Date
	if now.IsZero() {
		now = time.Now()
	}
	// BHT03, the originator's reference DHCS's 277CA echoes, is unique to
	// the set: ISA13 and ST02, each as 9 digits (18 of BHT03's 50).
	ref := fmt.Sprintf("%09d%09d", e.h.Interchange.ControlNumber, n)
	e.seg("BHT", "0019", "00", ref, now.Format("20060102"), now.Format("1504"), e.h.TransactionType)
	// 1000A submitter, 1000B receiver.
	e.seg("NM1", "41", "2", x12.Text(e.h.Submitter.Name, 60), "", "", "", "", "46", e.h.Submitter.ID)
	per := []string{"IC", x12.Text(e.h.SubmitterPER.Name, 60)}
	if p := e.h.SubmitterPER.Phone; p != "" {
		per = append(per, "TE", x12.Digits(p))
	}
	if m := e.h.SubmitterPER.Email; m != "" {
		per = append(per, "EM", m)
	}
	e.seg("PER", per...)
	e.seg("NM1", "40", "2", x12.Text(e.h.Receiver.Name, 60), "", "", "", "", "46", e.h.Receiver.ID)
	return e.err
}

// billing opens a 2000A level unless the previous claim had the same billing provider.
func (e *Encoder) billing(p *domain.Provider) {
	key := strings.Join([]string{p.NPI, p.TIN, p.Name, p.Taxonomy, p.Address.Street, p.Address.City, p.Address.State, p.Address.Zip}, "\x00")
	if key == e.billingKey {
		return
	}
	e.billingKey = key
	e.hl++
	e.billingHL = e.hl
	e.seg("HL", strconv.Itoa(e.hl), "", "20", "1")
	if p.Taxonomy != "" {
		e.seg("PRV", "BI", "PXC", p.Taxonomy)
	}
	e.seg("NM1", "85", "2", x12.Text(p.Name, 60), "", "", "", "", "XX", p.NPI)
	e.address(p.Address)
	e.seg("REF", "EI", p.TIN)
}

func (e *Encoder) address(a domain.Address) {
	e.seg("N3", x12.Text(a.Street, 55))
	e.seg("N4", x12.Text(a.City, 30), a.State, a.Zip)
}

func (e *Encoder) subscriber(c *Claim) {
	e.hl++
	e.seg("HL", strconv.Itoa(e.hl), strconv.Itoa(e.billingHL), "22", "0")
	e.seg("SBR", "P", "18", "", "", "", "", "", "", c.ClaimFilingIndicator)
	m := &c.Subscriber
	e.seg("NM1", "IL", "1", x12.Text(m.LastName, 60), x12.Text(m.FirstName, 35), "", "", "", "MI", m.CIN)
	if a := m.Address; a.Street != "" && a.City != "" && a.State != "" && a.Zip != "" {
		e.address(a)
	}
	gender := m.Gender
	if gender == "" {
		gender = "U"
	}
	e.seg("DMG", "D8", m.DOB.Compact(), gender)
	e.seg("NM1", "PR", "2", x12.Text(c.Payer.Name, 60), "", "", "", "", "PI", c.Payer.ID)
}

func (e *Encoder) claim(c *Claim) {
	freq := c.FrequencyCode
	if freq == "" {
		freq = "1"
	}
	d := e.w.Delimiters()
	comp := string([]byte{d.Component})
	// CLM06 provider signature on file, CLM07 assignment accepted, CLM08
	// benefits assigned, CLM09 release of information on file.
	e.seg("CLM", c.PatientControlNumber, c.Total().String(), "", "", c.PlaceOfService+comp+"B"+comp+freq, "Y", "A", "Y", "Y")
	if c.PriorAuthorization != "" {
		e.seg("REF", "G1", c.PriorAuthorization)
	}
	if c.PayerClaimControl != "" {
		e.seg("REF", "F8", c.PayerClaimControl)
	}
	if c.ClaimIdentifier != "" {
		e.seg("REF", "D9", c.ClaimIdentifier)
	}
	hi := make([]string, len(c.Diagnoses))
	for i, dx := range c.Diagnoses {
		q := "ABF"
		if i == 0 {
			q = "ABK"
		}
		hi[i] = q + comp + dx
	}
	e.seg("HI", hi...)
	if r := c.Rendering; r != nil && r.NPI != "" && r.NPI != c.Billing.NPI {
		last, first, entity := splitName(r.Name)
		e.seg("NM1", "82", entity, last, first, "", "", "", "XX", r.NPI)
		if r.Taxonomy != "" {
			e.seg("PRV", "PE", "PXC", r.Taxonomy)
		}
	}
	for i := range c.Lines {
		e.line(c, i)
	}
}

func (e *Encoder) line(c *Claim, i int) {
	l := &c.Lines[i]
	d := e.w.Delimiters()
	comp := string([]byte{d.Component})
	e.seg("LX", strconv.Itoa(i+1))
	proc := "HC" + comp + l.HCPCS
	for _, m := range l.Modifiers {
		proc += comp + m
	}
	pos := ""
	if l.PlaceOfService != "" && l.PlaceOfService != c.PlaceOfService {
		pos = l.PlaceOfService
	}
	ptrs := make([]string, len(l.DiagnosisPointers))
	for j, p := range l.DiagnosisPointers {
		ptrs[j] = strconv.Itoa(p)
	}
	e.seg("SV1", proc, l.Charge.String(), "UN", l.Units.String(), pos, "", strings.Join(ptrs, comp))
	if l.To != 0 && l.To != l.From {
		e.seg("DTP", "472", "RD8", l.From.Compact()+"-"+l.To.Compact())
	} else {
		e.seg("DTP", "472", "D8", l.From.Compact())
	}
	if l.PriorAuthorization != "" && l.PriorAuthorization != c.PriorAuthorization {
		e.seg("REF", "G1", l.PriorAuthorization)
	}
	if l.ControlNumber != "" {
		e.seg("REF", "6R", l.ControlNumber)
	}
}

// Close ends the transaction set, group and interchange. With no claim
// written it writes nothing and reports false.
func (e *Encoder) Close() (wrote bool, err error) {
	if e.err != nil {
		return false, e.err
	}
	if !e.open {
		return false, nil
	}
	if e.inST {
		if e.err = e.w.EndTransaction(); e.err != nil {
			return false, e.err
		}
	}
	if e.err = e.w.EndGroup(); e.err != nil {
		return false, e.err
	}
	if e.err = e.w.EndInterchange(); e.err != nil {
		return false, e.err
	}
	return true, nil
}

// splitName reads "Last, First" as a person (NM102 "1") and anything else,
// or a name with nothing an 837P can carry on either side of the comma, as
// an organization (NM102 "2"); the parts come back as x12.Text writes them
// (NM103 at most 60 characters, NM104 35).
func splitName(name string) (last, first, entity string) {
	if l, f, ok := strings.Cut(name, ","); ok {
		if last, first = x12.Text(l, 60), x12.Text(f, 35); last != "" && first != "" {
			return last, first, "1"
		}
	}
	return x12.Text(name, 60), "", "2"
}
