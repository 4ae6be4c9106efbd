package inbound837

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/mappings/invoice"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/rules"
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
	invoice.ColFrequency, invoice.ColOriginalClaim,
}

// isoDate writes a CCYYMMDD date as YYYY-MM-DD; anything else as it is.
func isoDate(d string) string {
	if len(d) != 8 {
		return d
	}
	return d[:4] + "-" + d[4:6] + "-" + d[6:]
}

// EncounterRows returns the claim's service lines as invoice rows (in
// encounterColumns order): the invoice number is the plan's claim number
// (the 277CA's REF*1K), provider_claim_id the provider's CLM01 (the
// outbound 2300 REF*D9); a line gives its own place of service,
// authorization and rendering provider, else the claim's; its diagnoses
// are the codes its SV107 points at. A replacement or void (CLM05-3 7 or
// 8) names in original_claim the plan's claim number of its original
// (its 2300 REF*F8), which the invoice conversion finds in the claims sent.
func EncounterRows(c *Claim) [][]string {
	e := &c.Enc
	rows := make([][]string, 0, len(e.Lines))
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
			AssignedNumber(c.ISA13, c.Ordinal), isoDate(e.InvoiceDate), l.Number,
			e.BillingNPI, e.BillingTIN, e.BillingName, e.BillingTaxonomy,
			e.BillingStreet, e.BillingCity, e.BillingState, e.BillingZip,
			e.MemberCIN, e.MemberLast, e.MemberFirst, isoDate(e.MemberDOB), e.MemberGender,
			e.MemberStreet, e.MemberCity, e.MemberState, e.MemberZip,
			isoDate(l.From), isoDate(l.To), l.Units, l.Charge,
			l.HCPCS, strings.Join(l.Modifiers, " "), rnpi, rname,
			pos, strings.Join(dx, " "), auth, c.ID,
			freq, orig,
		})
	}
	return rows
}

// writeEncounterRows writes the header and rows of claims as CSV.
func writeEncounterRows(w io.Writer, header bool, claims []*Claim) error {
	cw := csv.NewWriter(w)
	if header {
		if err := cw.Write(encounterColumns); err != nil {
			return err
		}
	}
	for _, c := range claims {
		for _, row := range EncounterRows(c) {
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// judge decides levels 6 and 7 of a set's claims: the same rules as an
// invoice line (rules.LineChecker, the judges, the duplicate check), run
// by encounters.Convert in check-only mode over the claims' encounter
// lines. A line's decision fails its claim with the rule's edit
// (snip.ForRule) and the partner's action; a replacement or void without
// the plan's claim number of its original (2300 REF*F8) fails
// SNIP7-FREQUENCY, as does one whose original the conversion would not
// correct (rules.DecideCorrection).
type judge struct {
	ctx     context.Context
	st      store.Store
	cfg     *config.Config
	coding  *rules.CodingTable
	judges  []encounters.Judge
	profile snip.Profile
	tmp     string // a directory for the check's files
}

func (j *judge) claims(claims []*Claim) error {
	var check []*Claim
	for _, c := range claims {
		switch f := c.Enc.Frequency; {
		case f == "" || f == "1" || (f == "7" || f == "8") && c.Enc.PayerClaim != "":
			check = append(check, c)
		case f == "7" || f == "8":
			c.Fail(snip.Frequency, j.profile.Action(snip.Frequency), c.Line, "CLM", "CLM05-3 is "+f+" but 2300 REF*F8 (the plan's claim number of the original) is missing")
		default:
			c.Fail(snip.Frequency, j.profile.Action(snip.Frequency), c.Line, "CLM", "CLM05-3 is "+f+": only 1, 7 and 8 are taken")
		}
	}
	if len(check) == 0 {
		return nil
	}
	in := filepath.Join(j.tmp, "claims.csv")
	f, err := os.Create(in)
	if err != nil {
		return fmt.Errorf("inbound837: levels 6 and 7: %w", err)
	}
	err = writeEncounterRows(f, true, check)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("inbound837: levels 6 and 7: %w", err)
	}
	res, err := encounters.Convert(j.ctx, encounters.Job{Inputs: []string{in}, OutDir: filepath.Join(j.tmp, "out"), Store: j.st,
		Config: j.cfg, Coding: j.coding, Judges: j.judges, CheckOnly: true})
	if err != nil {
		return fmt.Errorf("inbound837: levels 6 and 7: %w", err)
	}
	// Lines are decided in row order: the k-th decision is the k-th line.
	type at struct{ c, l int }
	var lines []at
	for ci, c := range check {
		for li := range c.Enc.Lines {
			lines = append(lines, at{ci, li})
		}
	}
	for _, d := range res.Lines {
		if d.Outcome != store.OutcomeRejected || d.Seq < 1 || d.Seq > len(lines) {
			continue
		}
		p := lines[d.Seq-1]
		c, l := check[p.c], &check[p.c].Enc.Lines[p.l]
		id := snip.ForRule(d.Rule)
		msg := d.Rule + ": " + d.Message
		if d.Field != "" {
			msg = d.Rule + " (" + d.Field + "): " + d.Message
		}
		c.Fail(id, j.profile.Action(id), l.Line, "SV1", "service line "+l.Number+": "+msg)
		c.Hits[len(c.Hits)-1].Text = l.Text
	}
	return nil
}
