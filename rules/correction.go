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
	// names no claim the gateway sent.
	CorrectionUnknown = "CORRECTION-ORIGINAL-UNKNOWN"
)

// Original is what the state store knows of the claim a replacement or
// void names in original_claim; the pipeline gathers it.
type Original struct {
	Found       bool   // a claim sent has that CLM01 or invoice number
	CLM01       string // its CLM01
	Run         int64  // the run that sent it
	EncounterID string // the latest DHCS Encounter ID reported for the CLM01; "" = none yet
}

// DecideCorrection decides a replacement or void against its original:
// CORRECTION-ORIGINAL-UNKNOWN when original_claim names no claim sent,
// CORRECTION-HELD when DHCS has not reported the original's Encounter ID
// yet. Nil means the line goes out with the original's CLM01 and Encounter
// ID (2300 REF*F8).
func DecideCorrection(l *domain.InvoiceLine, o Original) *Decision {
	switch {
	case !o.Found:
		return &Decision{Rule: CorrectionUnknown, Field: "original_claim",
			Message: fmt.Sprintf("original_claim %q is neither the CLM01 nor the invoice number of a claim sent", l.OriginalClaim)}
	case o.EncounterID == "":
		return &Decision{Rule: CorrectionHeld, Field: "original_claim",
			Message: fmt.Sprintf("held: claim %s (run %d) has no DHCS Encounter ID yet; load DHCS's 277CA or EVR for it and send this line again", o.CLM01, o.Run)}
	}
	return nil
}
