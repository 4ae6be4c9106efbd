package rules

// Replacements and voids (837P CLM05-3 7 and 8) reuse the original claim's
// CLM01 and carry its DHCS Encounter ID in 2300 REF*F8
// (docs/sources/dhcs-observed-formats.md B2.4 [S]; the ID is the 277CA
// REF*1K, B4 [P]).
const (
	// CorrectionHeld holds a replacement or void whose original's DHCS
	// Encounter ID is not known yet: it is not sent.
	CorrectionHeld = "CORRECTION-HELD"
	// CorrectionUnknown rejects a replacement or void whose original_claim
	// names no claim the gateway sent.
	CorrectionUnknown = "CORRECTION-ORIGINAL-UNKNOWN"
)
