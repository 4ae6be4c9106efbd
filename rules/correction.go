package rules

import (
	"fmt"

	"github.com/calaim-gateway/calaim-gateway/domain"
)

// Replacements and voids (837P CLM05-3 7 and 8) reuse the original claim's
// CLM01 and carry its DHCS Encounter ID in 2300 REF*F8
// (docs/sources/dhcs-observed-formats.md B2.4 [S]; the ID is the 277CA
// REF*1K, B4 [P], or the EVR EncounterId, B2.3 [S]).
const (
	// CorrectionHeld holds a replacement or void whose original's DHCS
	// Encounter ID is not known yet: it is not sent.
	CorrectionHeld = "CORRECTION-HELD"
	// CorrectionUnknown rejects a replacement or void whose original_claim
	// names no claim the gateway sent for the line's billing provider.
	CorrectionUnknown = "CORRECTION-ORIGINAL-UNKNOWN"
	// CorrectionAmbiguous rejects a replacement or void whose original_claim
	// is an invoice number that became several claims: which one it
	// corrects is not known, so its CLM01 must be given.
	CorrectionAmbiguous = "CORRECTION-ORIGINAL-AMBIGUOUS"
	// CorrectionResend sends a replacement of an encounter DHCS never
	// recorded as an original with the same CLM01 (never a rejection).
	CorrectionResend = "CORRECTION-RESEND"
	// CorrectionNotReceived rejects a void of an encounter DHCS never recorded.
	CorrectionNotReceived = "CORRECTION-NOT-RECEIVED"
	// CorrectionSplit rejects a line of a replacement or void that would
	// send its CLM01 in a second claim of the run.
	CorrectionSplit = "CORRECTION-SPLIT"
	// CorrectionVoided rejects a replacement or void of an encounter whose
	// void DHCS accepted: the encounter no longer exists.
	CorrectionVoided = "CORRECTION-VOIDED"
)

// Original is what the state store knows of the claim a replacement or
// void names in original_claim; the pipeline gathers it.
type Original struct {
	// Claims is how many claims sent for the line's billing provider
	// original_claim names: 0 none, 1 for a CLM01 or an invoice number that
	// became one claim, more when the invoice became several in the latest
	// run that sent it (the original is then ambiguous).
	Claims      int
	CLM01       string // its CLM01
	Run         int64  // the run that sent it
	EncounterID string // the latest DHCS Encounter ID reported for the CLM01; "" = none yet
	Latest      string // the status of the CLM01's latest submission: StatusSent, StatusAccepted, StatusRejected
	Frequency   string // the CLM05-3 of the CLM01's latest submission: 1, 7 or 8; "" when none is recorded
}

// Correction is how a replacement or void goes out.
type Correction struct {
	// Decision rejects or holds the line; nil: it goes out.
	Decision *Decision
	// Frequency is the CLM05-3 it goes out with: the line's 7 or 8, or 1
	// when it resends an encounter DHCS never received (CORRECTION-RESEND).
	Frequency   string
	CLM01       string // the original's
	EncounterID string // 2300 REF*F8; "" for a resend
	Rule        string // the rule that decided, "" for a plain replacement or void
}

// DecideCorrection decides a replacement or void (frequency 7 or 8)
// against its original:
//   - CORRECTION-ORIGINAL-UNKNOWN when original_claim names no claim sent
//     for the line's billing provider;
//   - CORRECTION-ORIGINAL-AMBIGUOUS when it is an invoice number that
//     became several claims (its CLM01 must be given);
//   - CORRECTION-VOIDED when the CLM01's latest submission is a void DHCS
//     accepted: the encounter is gone, and DHCS denies a replacement or
//     void of it (a void still waiting is held below; a void DHCS rejected
//     leaves the encounter to correct);
//   - when DHCS holds no encounter for the CLM01 (no Encounter ID and its
//     latest submission rejected, as a 999 rejecting its set does): a
//     replacement goes out again as an original with the same CLM01
//     (CORRECTION-RESEND), a void is rejected (CORRECTION-NOT-RECEIVED);
//   - CORRECTION-HELD when DHCS has not reported the original's Encounter
//     ID yet, or has not answered the CLM01's latest submission (an earlier
//     replacement or void still waiting: the ID it cites is about to be
//     superseded, and REF*F8 carries the latest one);
//   - else it goes out with the original's CLM01 and Encounter ID.
func DecideCorrection(l *domain.InvoiceLine, o Original) Correction {
	switch {
	case o.Claims == 0:
		return Correction{Decision: &Decision{Rule: CorrectionUnknown, Field: "original_claim",
			Message: fmt.Sprintf("original_claim %q is neither the CLM01 nor the invoice number of a claim sent for billing NPI %s", l.OriginalClaim, l.Billing.NPI)}}
	case o.Claims > 1:
		return Correction{Decision: &Decision{Rule: CorrectionAmbiguous, Field: "original_claim",
			Message: fmt.Sprintf("original_claim %q is the invoice number of %d claims sent (run %d: one per member, rendering provider or 50 lines); give the CLM01 of the claim to correct (run report or 277CA)", l.OriginalClaim, o.Claims, o.Run)}}
	case o.Frequency == "8" && o.Latest == StatusAccepted:
		return Correction{Decision: &Decision{Rule: CorrectionVoided, Field: "original_claim",
			Message: fmt.Sprintf("claim %s was voided (DHCS accepted its void): a voided encounter cannot be replaced or voided again; send the service as a new original (no frequency, no original_claim) with a new invoice number", o.CLM01)}}
	case o.EncounterID == "" && o.Latest == StatusRejected && l.Frequency == "8":
		return Correction{Decision: &Decision{Rule: CorrectionNotReceived, Field: "frequency",
			Message: fmt.Sprintf("claim %s was rejected before DHCS recorded it (no Encounter ID): there is nothing to void", o.CLM01)}}
	case o.EncounterID == "" && o.Latest == StatusRejected:
		return Correction{Frequency: "1", CLM01: o.CLM01, Rule: CorrectionResend}
	case o.Latest == StatusSent && o.EncounterID != "":
		return Correction{Decision: &Decision{Rule: CorrectionHeld, Field: "original_claim",
			Message: fmt.Sprintf("held: DHCS has not answered the latest submission of claim %s yet (a replacement or void of it still waiting), so the Encounter ID REF*F8 must carry is not known; load DHCS's 277CA or EVR for it and send this line again", o.CLM01)}}
	case o.EncounterID == "":
		return Correction{Decision: &Decision{Rule: CorrectionHeld, Field: "original_claim",
			Message: fmt.Sprintf("held: claim %s (run %d) has no DHCS Encounter ID yet; load DHCS's 277CA or EVR for it and send this line again", o.CLM01, o.Run)}}
	}
	return Correction{Frequency: l.Frequency, CLM01: o.CLM01, EncounterID: o.EncounterID}
}

// DecideCorrectionSplit rejects (CORRECTION-SPLIT) a line of an accepted
// replacement or void when secondClaim: its claim was already started in
// this run and the line cannot join it (its rows are not adjacent, or the
// claim has 50 lines or 12 diagnoses). DHCS takes one replacement or void
// per encounter and CLM01: a second claim with the same CLM01 would
// replace the first one's lines, or be denied as a second void. nil when
// the line goes out.
func DecideCorrectionSplit(l *domain.InvoiceLine, secondClaim bool) *Decision {
	if l.Frequency == "" || !secondClaim {
		return nil
	}
	return &Decision{Rule: CorrectionSplit, Field: "original_claim",
		Message: fmt.Sprintf("claim %s is already corrected by earlier lines of this file, and this line cannot join them (send a correction's lines together: adjacent, at most 50 lines and 12 diagnoses); send the whole correction again", l.OriginalClaim)}
}
