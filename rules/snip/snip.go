// Package snip names the edits an inbound 837P (005010X222A1) is put
// through, by WEDI SNIP level, each with a stable edit ID, the level it
// belongs to, its default action, and plain words for the provider: what is
// wrong and what to change. A trading-partner profile may change an edit's
// action for one partner. The code-set edits of level 5 are pure functions
// here; levels 1 and 2 classify the findings of the implementation-guide
// validator (edi/x12/ig) by their acknowledgment codes.
package snip

import (
	"fmt"
	"sort"

	"github.com/calaim-gateway/calaim-gateway/rules"
)

// Level is a WEDI SNIP edit level, 1 to 7.
type Level int

// The SNIP levels.
const (
	Syntax      Level = 1 // X12 syntax integrity
	Guide       Level = 2 // implementation-guide requirements
	Balancing   Level = 3 // amounts and counts that must add up
	Situational Level = 4 // inter-segment situational rules
	CodeSet     Level = 5 // external code sets
	LineOfBiz   Level = 6 // product type / line of business (DHCS ECM/CS coding)
	Partner     Level = 7 // trading-partner specific (eligibility, authorization, contract, duplicate)
)

// Action is what a failed edit does.
type Action uint8

// Actions, from the mildest.
const (
	Warn        Action = iota + 1 // noted; the claim goes on
	RejectClaim                   // the claim is rejected in the 277CA; the others go on
	RejectSet                     // the transaction set is rejected in the 999
)

func (a Action) String() string {
	switch a {
	case Warn:
		return "warn"
	case RejectClaim:
		return "reject_claim"
	case RejectSet:
		return "reject_set"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// ParseAction reads an action as a partner profile writes it.
func ParseAction(s string) (Action, error) {
	for _, a := range []Action{Warn, RejectClaim, RejectSet} {
		if a.String() == s {
			return a, nil
		}
	}
	return 0, fmt.Errorf("snip: action %q: want warn, reject_claim or reject_set", s)
}

// Edit is one named edit.
type Edit struct {
	ID      string
	Level   Level
	Default Action
	Plain   string // what is wrong, in plain words
	Fix     string // what to change
	Source  string // where the edit comes from
	// Status is the 277CA claim status code (code source 508) a
	// claim-rejecting hit of the edit is reported with, in STC01-2.
	Status string
}

// Edit IDs. They are a contract: reports, profiles and 277CA texts name them.
const (
	SyntaxSegment     = "SNIP1-SEGMENT"
	SyntaxElement     = "SNIP1-ELEMENT"
	SyntaxEnvelope    = "SNIP1-ENVELOPE"
	GuideSegment      = "SNIP2-SEGMENT"
	GuideElement      = "SNIP2-ELEMENT"
	GuideLineNumber   = "SNIP2-LX-SEQUENCE"
	BalanceClaimTotal = "SNIP3-CLM02-SV102"
	SituationalSet    = "SNIP4-SITUATIONAL"
	// SituationalPayerClaim is the guide's situational rule of 2300
	// REF*F8 (Payer Claim Control Number): required when CLM05-3 is 7
	// (replacement) or 8 (void).
	SituationalPayerClaim = "SNIP4-CLM05-REF-F8"
	CodeHCPCS             = "SNIP5-HCPCS"
	CodeICD10             = "SNIP5-ICD10CM"
	CodePOS               = "SNIP5-POS"
	CodeNPI               = "SNIP5-NPI"
	CodeState             = "SNIP5-STATE"
	CodeZIP               = "SNIP5-ZIP"
	DHCSCode              = "SNIP6-DHCS-CODE"
	InvoiceRule           = "SNIP6-INVOICE-RULE"
	Eligibility           = "SNIP7-ELIGIBILITY"
	Authorization         = "SNIP7-AUTHORIZATION"
	Contract              = "SNIP7-CONTRACT"
	Duplicate             = "SNIP7-DUPLICATE"
	Frequency             = "SNIP7-FREQUENCY"
)

// edits is every edit, in level order.
var edits = []Edit{
	{SyntaxEnvelope, Syntax, RejectSet, "The interchange envelope (ISA/IEA, GS/GE) is not well formed.",
		"Fix the envelope: ISA is 106 characters, IEA01/IEA02 and GE01/GE02 match the counts and control numbers.", "X12 005010 syntax", "21"},
	{SyntaxSegment, Syntax, RejectSet, "A segment breaks X12 syntax (unknown, out of order, or repeated too often).",
		"Send the segments in the order and number the 837P guide lists.", "X12 005010 syntax; 999 IK304 codes 1–8", "21"},
	{SyntaxElement, Syntax, RejectSet, "A data element breaks X12 syntax (missing, too long or short, bad characters, bad date).",
		"Correct the element shown: its length, characters and date format.", "X12 005010 syntax; 999 IK403 codes 1–13", "21"},
	{GuideSegment, Guide, RejectSet, "A segment the 837P implementation guide requires is missing, or one it does not use is present.",
		"Add or remove the segment shown, as the 005010X222A1 guide requires.", "005010X222A1; 999 IK304 codes I4–I9", "21"},
	{GuideElement, Guide, RejectSet, "A data element does not follow the 837P implementation guide (code not used, required value missing).",
		"Use a value the 005010X222A1 guide allows in the element shown.", "005010X222A1; 999 IK403 codes I6–I13", "21"},
	{GuideLineNumber, Guide, RejectSet, "Service lines are not numbered 1, 2, 3… within the claim (LX01).",
		"Number the claim's service lines from 1 without gaps.", "005010X222A1 2400 LX01", "21"},
	{BalanceClaimTotal, Balancing, RejectClaim, "The claim total (CLM02) is not the sum of the line charges (SV102).",
		"Make CLM02 equal the sum of the claim's SV102 amounts.", "005010X222A1 2300 CLM02 note", "178"},
	{SituationalSet, Situational, RejectSet, "A situational rule of the 837P guide is not met (a segment or element required when another is present).",
		"Send the element or segment the guide requires in this situation.", "005010X222A1 situational rules; 999 IK304 I6/I9, IK403 2/10/I9", "21"},
	{SituationalPayerClaim, Situational, RejectClaim, "A replacement or void (CLM05-3 7 or 8) does not name the claim it corrects: 2300 REF*F8 (Payer Claim Control Number) is missing.",
		"Put the plan's claim number of the original (REF*1K of the plan's 277CA) in 2300 REF*F8, or send the claim as an original (CLM05-3 1).", "005010X222A1 2300 REF*F8 situational rule; 999 IK304 I6", "21"},
	{CodeHCPCS, CodeSet, RejectClaim, "The procedure code (SV101-2) is not shaped like a HCPCS/CPT code.",
		"Send a five-character HCPCS code: a letter or digit, three digits, a letter or digit (for example G9008).", "HCPCS Level II / CPT code structure", "454"},
	{CodeICD10, CodeSet, RejectClaim, "A diagnosis code (HI) is not shaped like an ICD-10-CM code.",
		"Send the ICD-10-CM code without the dot: a letter, a digit, a letter or digit, then up to four more (for example Z5989).", "ICD-10-CM code structure", "255"},
	{CodePOS, CodeSet, RejectClaim, "The place of service (CLM05-1 or SV105) is not a CMS place of service code.",
		"Use a two-digit CMS place of service code (for example 11 office, 12 home).", "CMS Place of Service Code Set (table posCodes)", "249"},
	{CodeNPI, CodeSet, RejectClaim, "An NPI (NM109 with NM108 = XX) fails the NPI check digit.",
		"Correct the NPI: ten digits whose last digit is the Luhn check digit (prefix 80840).", "45 CFR 162.406; NPI check digit", "562"},
	{CodeState, CodeSet, RejectClaim, "A state code (N402) is not a US state, territory or DC code.",
		"Use the two-letter USPS state code (for example CA).", "USPS state abbreviations", "126"},
	{CodeZIP, CodeSet, RejectClaim, "A ZIP code (N403) is not 5 or 9 digits.",
		"Send the ZIP code as 5 or 9 digits, no hyphen.", "005010X222A1 N403; USPS ZIP+4", "126"},
	{DHCSCode, LineOfBiz, RejectClaim, "The procedure code with these modifiers is not an ECM or Community Supports service DHCS allows on the date of service.",
		"Bill the HCPCS code with the modifiers the DHCS ECM/CS coding table lists for the date of service.", "DHCS ECM/CS coding table (rules/data/hcpcs_ecm_cs.csv)", "454"},
	{InvoiceRule, LineOfBiz, RejectClaim, "A service line breaks one of the plan's encounter rules for invoice lines (the rule is named in the report).",
		"Correct the value the report names, as for an invoice line.", "rules.Catalog (docs/rules.md), the rule named in the report", "21"},
	{Eligibility, Partner, RejectClaim, "The member is not eligible for this service on the date of service (not enrolled with the plan, share of cost, an excluding program, or the 834 does not match).",
		"Check the member's Medi-Cal ID (CIN) and enrollment on the date of service; bill only dates the member is enrolled.", "rules ELIG-*, ECM-EXCLUDED, POF-NOT-LIVE (plan 834 and program feeds)", "97"},
	{Authorization, Partner, RejectClaim, "No ECM or Community Supports authorization covers this service, provider, date or number of units.",
		"Bill under the authorization the plan issued (2300 or 2400 REF*G1), within its dates and units.", "rules AUTH-*, CS-LIMIT, TR-NEEDS-ECM (plan authorization feed)", "21"},
	{Contract, Partner, RejectClaim, "The billing provider is not contracted with the plan for this service on the date of service.",
		"Bill under the NPI and site the plan's contract names, or ask the plan's provider services.", "rule PROVIDER-NOT-CONTRACTED (plan provider roster)", "21"},
	{Duplicate, Partner, RejectClaim, "A service line repeats one already sent to DHCS, or one earlier in this claim set (same member, dates, provider, code and modifiers).",
		"Do not send a service twice; to correct a claim already accepted, send a replacement.", "rule DUPLICATE-LINE; DHCS 277CA status 54 (dhcs-observed-formats.md)", "54"},
	{Frequency, Partner, RejectClaim, "A replacement or void (CLM05-3 7 or 8) does not name a claim the plan accepted and sent on, or DHCS has not answered for that claim yet.",
		"Put the plan's claim number of the original (REF*1K of the plan's 277CA) in 2300 REF*F8; if the plan says it is held, send it again later.", "rules CORRECTION-* (docs/dhcs.md); 005010X222A1 2300 REF*F8", "21"},
}

// Entity returns the entity code (STC01-3) a 277CA status of the edit is
// reported with when its hit names no party of its own (the NM101 of the
// NM1 or N4 it is on): 85 billing provider for the NPI edit, QC patient
// for the eligibility edit, "" for the others.
func (e Edit) Entity() string {
	switch e.ID {
	case CodeNPI:
		return "85"
	case Eligibility:
		return "QC"
	}
	return ""
}

// ForRule returns the edit that reports a decision of rule (a rules.Catalog
// ID) against a claim's line: eligibility, authorization, contract and
// duplicate rules are level 7, the DHCS coding table and every other
// invoice rule level 6.
func ForRule(rule string) string {
	switch rule {
	case rules.CodeNotAllowed:
		return DHCSCode
	case rules.CorrectionUnknown, rules.CorrectionAmbiguous, rules.CorrectionHeld, rules.CorrectionNotReceived, rules.CorrectionVoided:
		return Frequency
	case rules.DuplicateLine:
		return Duplicate
	case rules.ProviderNotContracted:
		return Contract
	case rules.EligNotEnrolled, rules.EligShareOfCost, rules.EligMemberMismatch, rules.ECMExcluded, rules.POFNotLive:
		return Eligibility
	case rules.AuthMissing, rules.AuthOtherProvider, rules.AuthUnitsExceeded, rules.CSLimitExceeded, rules.TRNeedsECM,
		rules.AuthOutreachExempt, rules.AuthStreamlinedWindow, rules.AuthJIPrerelease, rules.AuthPeriodPolicy:
		return Authorization
	}
	return InvoiceRule
}

// Edits returns every edit in level order.
func Edits() []Edit { return append([]Edit(nil), edits...) }

// Lookup returns the edit with the ID.
func Lookup(id string) (Edit, bool) {
	for _, e := range edits {
		if e.ID == id {
			return e, true
		}
	}
	return Edit{}, false
}

// Profile is a trading partner's settings: an action per edit ID that
// replaces the default.
type Profile struct {
	Actions map[string]Action
}

// NewProfile checks a partner's overrides (edit ID → action as ParseAction
// reads it) and returns the profile.
func NewProfile(overrides map[string]string) (Profile, error) {
	p := Profile{Actions: map[string]Action{}}
	ids := make([]string, 0, len(overrides))
	for id := range overrides {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if _, ok := Lookup(id); !ok {
			return Profile{}, fmt.Errorf("snip: partner profile: unknown edit ID %q", id)
		}
		a, err := ParseAction(overrides[id])
		if err != nil {
			return Profile{}, fmt.Errorf("snip: partner profile: edit %s: %w", id, err)
		}
		p.Actions[id] = a
	}
	return p, nil
}

// Action returns the action of edit id for this partner: its override, or
// the edit's default. An unknown ID rejects the set.
func (p Profile) Action(id string) Action {
	if a, ok := p.Actions[id]; ok {
		return a
	}
	if e, ok := Lookup(id); ok {
		return e.Default
	}
	return RejectSet
}
