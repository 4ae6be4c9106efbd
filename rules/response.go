package rules

import (
	"strings"
)

// What DHCS's answers to the plan's 837P files mean for each encounter
// (docs/dhcs.md "DHCS's answers"). The statuses are store's: accepted,
// rejected, or sent (received, no verdict yet).
const (
	// Response277CAStatus reads a 277CA claim status (STC01-1 category).
	Response277CAStatus = "RESPONSE-277CA-STATUS"
	// Response999Status reads a 999 transaction set (IK501) or group (AK901) status.
	Response999Status = "RESPONSE-999-STATUS"
	// ResponseEVRStatus reads an EVR Encounter's Status attribute.
	ResponseEVRStatus = "RESPONSE-EVR-STATUS"
	// ResponseUnmatched reports an answer that matches nothing the gateway sent.
	ResponseUnmatched = "RESPONSE-UNMATCHED"
)

// Encounter statuses an answer decides (the values of store.Encounter*).
const (
	StatusSent     = "sent"
	StatusAccepted = "accepted"
	StatusRejected = "rejected"
)

// Status277CA decides an encounter's status from its 277CA STC01-1 claim
// status category (X12 code source 507): F1 (DHCS's accepted, B4 [P]), F0,
// F3, F4 finalized and A2 accepted into adjudication are accepted; A0, A1
// (forwarded, received) and A5 (split) are not a verdict yet; F2 (DHCS's
// denied, B4 [P]) and every other category (A3, A4, A6, A7, A8, E0-E4,
// unknown) reject it, so an unknown answer is looked at, not lost.
func Status277CA(category string) string {
	switch category {
	case "F0", "F1", "F3", "F4", "A2":
		return StatusAccepted
	case "A0", "A1", "A5":
		return StatusSent
	}
	return StatusRejected
}

// Status999 decides what a 999 IK501 (or, for a group without AK2, AK901)
// means for the claims of the set: A (accepted) and E (accepted with
// errors) leave them waiting for the 277CA; R, M, W, X and any other
// value reject them (005010X231A1 code list 717).
func Status999(code string) string {
	switch code {
	case "A", "E":
		return StatusSent
	}
	return StatusRejected
}

// Status999Set decides what a 999 says of the claims of one transaction
// set from its IK501 and its group's AK901: a group rejected as a whole
// (AK901 R, M, W, X or another value, as for an error in the group's own
// envelope or counts) rejects every set of it, whatever the set's IK501;
// a group accepted (A, E), partly accepted (P) or without AK9 ("") leaves
// each set to its own IK501 (Status999).
func Status999Set(set, group string) string {
	switch group {
	case "", "A", "E", "P":
		return Status999(set)
	}
	return StatusRejected
}

// StatusEVR decides an encounter's status from the EVR Encounter's Status
// attribute: Accepted is accepted (B4 [I], the only value observed);
// anything else (Rejected, Denied, unknown) rejects it.
func StatusEVR(status string) string {
	if strings.EqualFold(strings.TrimSpace(status), "accepted") {
		return StatusAccepted
	}
	return StatusRejected
}

// claimStatusText are the words of the claim status codes (X12 code source
// 508) and entity codes (98) DHCS is seen to use (B4 [P]) or that a 277CA
// commonly carries; a code not listed is shown as its number.
var claimStatusText = map[string]string{
	"20":  "accepted for processing",
	"21":  "missing or invalid information",
	"54":  "duplicate of a previously processed claim/line",
	"97":  "patient eligibility not found with entity",
	"116": "claim submitted to incorrect payer",
	"164": "entity's contract/member number",
	"187": "date(s) of service",
	"562": "entity's National Provider Identifier (NPI)",
}

var entityText = map[string]string{
	"QC": "patient",
	"85": "billing provider",
	"82": "rendering provider",
	"IL": "subscriber",
	"PR": "payer",
}

// DescribeClaimStatus puts a 277CA STC01 (category:status[:entity]) in
// words, e.g. "F2:97:QC" → "F2:97:QC patient eligibility not found with
// entity (patient)".
func DescribeClaimStatus(stc string) string {
	parts := strings.Split(stc, ":")
	if len(parts) < 2 {
		return stc
	}
	text, ok := claimStatusText[parts[1]]
	if !ok {
		text = "claim status code " + parts[1] + " (X12 code source 508)"
	}
	if len(parts) > 2 && parts[2] != "" {
		e, ok := entityText[parts[2]]
		if !ok {
			e = "entity " + parts[2]
		}
		text += " (" + e + ")"
	}
	return stc + " " + text
}
