package rules

import (
	"slices"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// Rule IDs are a contract: operators and downstream reports match on them.
const (
	FieldMissing   = "FIELD-MISSING"
	FieldInvalid   = "FIELD-INVALID"
	NPIInvalid     = "NPI-INVALID"
	TINInvalid     = "TIN-INVALID"
	CodeNotAllowed = "CODE-NOT-ALLOWED"
	DuplicateLine  = "DUPLICATE-LINE"

	InvoiceNumberUnsafe = "INVOICE-NUMBER-UNSAFE"
)

// Rule describes one check for `calgw rules` and for reports.
type Rule struct {
	ID          string
	Description string
	Source      string     // where the rule comes from
	From, To    civil.Date // effective dates; zero To = open
}

// Decision is a rule's finding on one line: the line is rejected for it.
type Decision struct {
	Rule    string // one of the rule IDs
	Field   string // the invoice column concerned, if any
	Message string // for people; never holds member names, IDs or birth dates
}

// catalog lists every rule the gateway applies, in evaluation order: the
// invoice rules, the enrollment and authorization rules with the checks of
// their feeds, and the provider contract rule. It is the one list `calgw
// rules` prints and reports look rule descriptions up in.
var catalog = []Rule{
	{ID: FieldMissing, Description: "A required invoice value is absent. The member's address (member_address, member_city, member_state, member_zip) is required unless the member's 834 record has one: the patient is the subscriber (SBR02 18), so 837P 2010BA N3/N4 are required.",
		Source: "Invoice template (README); DHCS minimum necessary data elements (community-supports-and-billing.md 5.3); 005010X222A1 2010BA N3/N4 situational rule", From: 20220101},
	{ID: FieldInvalid, Description: "An invoice value is malformed: dates, money, units > 0, service_to >= service_from, date of service not in the future, state and ZIP shape (billing ZIP+4 for 837P 2010AA), code shapes.",
		Source: "005010X222A1 element formats; community-supports-and-billing.md 5.4", From: 20220101},
	{ID: InvoiceNumberUnsafe, Description: "The invoice number, which becomes the 837P claim's patient control number (CLM01), holds a character X12 does not allow there (an element, segment, component or repetition separator * ~ : ^ |, a backslash, a control character or a character outside printable ASCII), or starts with = + - or @, which a spreadsheet would run as a formula.",
		Source: "005010X222A1 CLM01 (AN, basic and extended character sets; the separators are reserved); OWASP CSV Injection", From: 20220101},
	{ID: NPIInvalid, Description: "An NPI fails the check digit (Luhn over the 80840 prefix).",
		Source: "CMS NPI check-digit standard; S000:407 (billing NPI required)", From: 20220101},
	{ID: TINInvalid, Description: "The billing provider's tax ID is not 9 digits.",
		Source: "005010X222A1 2010AA REF*EI", From: 20220101},
	{ID: CodeNotAllowed, Description: "The HCPCS code and modifier set are not in the DHCS ECM/CS coding table in force on every date of service of the line (modifiers match in any position; no extra modifiers).",
		Source: "S000:435, S003:346-348, S004:1986-1990; coding table rules/data/hcpcs_ecm_cs.csv", From: 20220101},
	{ID: DuplicateLine, Description: "Same member, line dates, rendering provider (else billing provider), procedure code and modifiers in any order as a line already sent, in an earlier run or earlier in this run (PACES denies a whole encounter for one duplicate line).",
		Source: "S000:474 (no double billing); DHCS Data Quality FAQ: PACES line-level duplicate logic; dhcs-observed-formats.md B5 [I] (key fields), [P] (277CA STC*F2:54)", From: 20220101},
	{ID: EligNotEnrolled, From: 20220101,
		Description: "No eligibility span with this plan (834 HD loops; eligibility.plan_codes) covers every date of service, or the member has no enrollment record.",
		Source:      "S004:109 (ECM requires MCP enrollment), S004:1752 (no payment for non-members, even under streamlined authorization); ecm-policy-rules.md 6.1 G-ELIG-1"},
	{ID: EligShareOfCost, From: 20220101,
		Description: "The member has a share of cost (834 2300 AMT, eligibility.share_of_cost_amount) on a date of service that is not a long-term-care share of cost (eligibility.ltc_share_of_cost_aid_codes).",
		Source:      "S004:123 (share of cost, except LTC, excludes from managed care and ECM); ecm-policy-rules.md 0 BASE-02"},
	{ID: EligMemberMismatch, From: 20220101,
		Description: "The CIN is enrolled but the invoice's member_dob differs from the date of birth in the 834 (2100A DMG02).",
		Source:      "[gateway] the encounter's subscriber (837P 2010BA) must be the enrolled member (S004:109); 834 DMG02"},
	{ID: ECMExcluded, From: 20220101,
		Description: "An ECM line (outreach excepted) for a member who is in a program that excludes ECM on the date of service: hospice, PACE, FIDE-SNP, EAE D-SNP, non-EAE D-SNP after the continuity window, 1915(c) waivers, CCT, Family Mosaic, plan CCM (rules/data/ecm_exclusions.csv; membership from the other_programs feed, D-SNP kind from the 834 REF*DX contract and rules/data/dsnp_contracts.csv).",
		Source:      "S004:1029-1444 Figures 2-3: S004:1090, S004:1278, S004:1297-1310, S004:1352, S004:1359, S004:1363; ecm-policy-rules.md 6.1 G-EXCL-1"},
	{ID: POFNotLive, From: 20220101,
		Description: "The ECM population of focus on the covering authorization was not live in the member's county (834) on the date of service (rules/data/pof_golive.csv).",
		Source:      "S004:89-101, Appendix A S004:2022-2051; ecm-policy-rules.md 0.1, 6.1 G-POF-1"},
	{ID: AuthMissing, From: 20220101,
		Description: "No approved authorization for this member, service and provider covers the dates of service (or the authorization named on the line is denied, pending or out of range), and no exception applies.",
		Source:      "S004:1681 (ECM authorization periods); ecm-policy-rules.md 6.1 G-AUTH-1; community-supports-and-billing.md 1.2 CS-G-08"},
	{ID: AuthOutreachExempt, From: 20220101,
		Description: "Exception to AUTH-MISSING (never a rejection): outreach lines (coding-table legs with outreach=Y: ECM outreach G9012 U8, housing outreach T1016 U8) need no authorization.",
		Source:      "S004:1763 (no authorization for outreach under streamlined authorization), S004:1597 (unsuccessful outreach is payable); ecm-policy-rules.md 6.1 G-OUT-1"},
	{ID: AuthStreamlinedWindow, From: 20250101,
		Description: "Exception to AUTH-MISSING (never a rejection): a streamlined ECM authorization (feed type streamlined, any status) covers 30 calendar days from its start date (the first ECM service, day 1) for its provider, when the provider's roster type and contracted POF are a Figure 5 pair or eligibility.streamlined_extensions names the provider; a denial ends it at the end of decision_communicated_date. Initial authorizations only.",
		Source:      "S004:1701, S004:1705, S004:1742-1748, S004:1750; rules/data/figure5_pairs.csv, auth_periods.csv; ecm-policy-rules.md 2.2, 6.1 G-SA-1"},
	{ID: AuthJIPrerelease, From: 20240101,
		Description: "Exception to AUTH-MISSING (never a rejection): a JI pre-release ECM authorization (feed type ji_prerelease, not denied) covers from its start date, the day of release, retroactively (the enrollment rule moves it to the MCP enrollment date when that is later).",
		Source:      "S004:1717 (fn 74), S004:477; ecm-policy-rules.md 2.2 Figure 5 row 4"},
	{ID: AuthOtherProvider, From: 20250101,
		Description: "An ECM line under a streamlined authorization for a member who has an open (approved) ECM authorization with another ECM provider on the date of service: no payment for the streamlined window.",
		Source:      "S004:1753-1755 (exception 2), S004:1761; ecm-policy-rules.md 6.1 G-DUP-1"},
	{ID: AuthUnitsExceeded, From: 20220101,
		Description: "The units billed under an authorization, across every line sent in any invoice and run, would exceed its units_authorized.",
		Source:      "[gateway] the plan's authorization feed (units_authorized); S000:474 (no double billing)"},
	{ID: CSLimitExceeded, From: 20220101,
		Description: "A Community Supports limit would be exceeded, counted over every line sent (rules/data/cs_limits.csv): Short-Term Post-Hospitalization Housing and Transitional Rent at most 6 months in total; other limits are empty parameters a plan fills in.",
		Source:      "S000:350-352 (CS04 six months in total), S004:250 (Transitional Rent up to six months); community-supports-and-billing.md 1.3-1.4"},
	{ID: TRNeedsECM, From: 20250101,
		Description: "A Transitional Rent line without an ECM authorization (approved, streamlined window or JI pre-release, any provider) covering its dates of service.",
		Source:      "S004:250 (authorizing Transitional Rent requires authorizing ECM), S004:159; ecm-policy-rules.md 6.1 G-TR-1"},
	{ID: EnrollmentMemberInvalid, From: 20220101,
		Description: "834 ingest: a member loop with bad data (no usable CIN, an invalid date of birth or coverage date, an unknown county, a termination without an end date, an implementation-guide error inside the loop) is reported with its segment position and skipped; the rest of the file loads.",
		Source:      "005010X220A1; dhcs-public-specs.md 5.2 (DHCS 834 layout)"},
	{ID: EnrollmentSetRejected, From: 20220101,
		Description: "834 ingest: a transaction set that is structurally broken (envelope, header or trailer errors: the 999 rejects it for reasons outside a member loop) is not loaded; a 999 is written beside the report.",
		Source:      "005010X220A1, 005010X231A1"},
	{ID: EnrollmentFileSuperseded, From: 20220101,
		Description: "834 ingest: a change file dated before the period start of a full file loaded before for a health-plan code it carries (any full file when it or one of its coverage loops carries none) is not applied: the full file is the plan's newer picture.",
		Source:      "docs/enrollment.md (full and change files); dhcs-public-specs.md 5.2 (DHCS 834 layout)"},
	{ID: EnrollmentFileOutOfOrder, From: 20220101,
		Description: "834 ingest: a change file dated before a change file applied before it for the same health-plan codes is applied with a warning: what it changes of members the newer file also changed may be stale.",
		Source:      "docs/enrollment.md (full and change files)"},
	{ID: AuthFeedInvalid, From: 20220101,
		Description: "Authorization feed: a row with a missing or malformed value (CIN, service, NPI, POF, status, type, dates, units) is reported and not loaded.",
		Source:      "docs/enrollment.md authorization feed template"},
	{ID: AuthPeriodPolicy, From: 20220101,
		Description: "Authorization feed: a row that contradicts policy is reported and not loaded (an ECM initial authorization longer than 12 months, a reauthorization longer than 6 months, a streamlined, auto or JI type on a Community Support).",
		Source:      "S004:1681, S004:1715 (streamlined ECM does not change CS authorization); rules/data/auth_periods.csv"},
	{ID: ProgramFeedInvalid, From: 20220101,
		Description: "other_programs feed: a row with a missing or malformed value is reported and not loaded.",
		Source:      "docs/enrollment.md other_programs template"},
	{ID: ProviderNotContracted,
		Description: "The billing provider (billing_npi) is not contracted, on every date of service, for the service billed: " +
			"an ECM line needs a contracted ECM population of focus (the line's POF when known, else any), a Community Supports line needs that Community Support (coding-table service id), per the provider roster.",
		Source: "Provider roster (calgw ingest --kind roster); ECM Policy Guide S004 L1699-1705 (contracted ECM providers); community-supports-and-billing.md 1.2 CS-G-17 (CS offered by contracted providers)",
		From:   20220101},
	{ID: CorrectionUnknown, From: 20220101,
		Description: "A replacement or void (frequency 7 or 8) names in original_claim a CLM01 or invoice number the gateway never sent.",
		Source:      "dhcs-observed-formats.md B2.4 [S] (CLM01 must equal the original encounter's CLM01)"},
	{ID: CorrectionAmbiguous, From: 20220101,
		Description: "A replacement or void names in original_claim an invoice number the gateway sent as several claims (one per member, rendering provider or 50 lines) in its latest run: which claim it corrects is not known; its CLM01 must be given.",
		Source:      "dhcs-observed-formats.md B2.4 [S] (a correction carries the CLM01 and Encounter ID of the one encounter it corrects)"},
	{ID: CorrectionSplit, From: 20220101,
		Description: "A line of a replacement or void that would send the original's CLM01 in a second claim of the run (its rows not adjacent to the correction's first ones, or past 50 lines or 12 diagnoses) is rejected: DHCS takes one replacement or void per encounter.",
		Source:      "dhcs-observed-formats.md B2.2 [S] (a CLM01 is reused only by the void or replacement of its encounter), B2.4 [S]"},
	{ID: CorrectionHeld, From: 20220101,
		Description: "A replacement or void is held, not sent: the DHCS Encounter ID of its original (2300 REF*F8) is not known yet, or an earlier replacement or void of the same CLM01 has no answer yet (the ID it would cite is about to be superseded); ingest DHCS's 277CA (calgw ingest --kind 277ca) and send the line again.",
		Source:      "dhcs-observed-formats.md B2.4 [S] (REF*F8 = DHCS Encounter ID), B4 [P] (277CA REF*1K)"},
	{ID: CorrectionResend, From: 20220101,
		Description: "Exception (never a rejection): a replacement (frequency 7) of an encounter DHCS never recorded (no Encounter ID, its latest submission rejected, as by a 999 rejecting its transaction set) goes out again as an original (CLM05-3 1) with the same CLM01 and no REF*F8.",
		Source:      "dhcs-observed-formats.md B2.2 [S] (a CLM01 is unique unless the encounter is a void or replacement; one DHCS never recorded is not a reuse), B2.4 [S]"},
	{ID: CorrectionNotReceived, From: 20220101,
		Description: "A void (frequency 8) of an encounter DHCS never recorded (no Encounter ID, its latest submission rejected): there is nothing to void.",
		Source:      "dhcs-observed-formats.md B2.4 [S] (a void carries the DHCS Encounter ID in REF*F8)"},
	{ID: CorrectionVoided, From: 20220101,
		Description: "A replacement or void (frequency 7 or 8) of a claim whose latest submission is a void DHCS accepted: the encounter no longer exists, so DHCS would deny it; the service goes out as a new original with a new invoice number (CLM01). A void still without an answer holds the correction (CORRECTION-HELD); after a void DHCS rejected the encounter is corrected as before.",
		Source:      "dhcs-observed-formats.md B2.2 [S] (a CLM01 is reused only by the void or replacement of its encounter), B2.4 [S] (a correction cites a DHCS Encounter ID), B2.5 [S] (denied encounters, not voided ones, can be corrected); [gateway]"},
	{ID: Response277CAStatus, From: 20220101,
		Description: "A DHCS 277CA answer to an encounter: STC01 category F1 (and F0, F3, F4, A2) accepts it, A0, A1, A5 leave it waiting, F2 and every other category reject it, with the claim status code in words (54 duplicate, 97:QC eligibility not found).",
		Source:      "dhcs-observed-formats.md B4 [P] (STC*F1:20 WQ accepted, STC*F2:<status> U denied); X12 code sources 507, 508"},
	{ID: Response999Status, From: 20220101,
		Description: "A 999 answer to a transaction set of an 837P sent: IK501 A or E leaves its encounters waiting for the 277CA; R, M, W, X reject every encounter of the set; a group rejected as a whole (AK901 R, M, W, X) rejects every set of it, with AK2 or without.",
		Source:      "005010X231A1 (IK501, AK901); DHCS 999s not observed (dhcs-observed-formats.md B4)"},
	{ID: ResponseEVRStatus, From: 20220101,
		Description: "A DHCS Encounter Validation Response: an Encounter with Status Accepted is accepted, any other status rejects it, with its error responses (Id, Description, SNIP or not, service line) as the reason. A Transaction that lists no encounters and is not Accepted rejects every encounter of its set (the file EncounterFileName names, GroupControlNumber, OriginatorTransactionId as ST02); an EVR whose ValidationStatus is not Accepted and that lists no encounters rejects every encounter of that file.",
		Source:      "dhcs-observed-formats.md B4 [I] (EVR tree), B2.5 [S] (denial reasons are on the EVR)"},
	{ID: ResponseUnmatched, From: 20220101,
		Description: "A 999 set, 277CA claim, EVR encounter, or EVR transaction or file answered without its encounters, that matches nothing the gateway sent (GS06/ST02 and sender IDs or file, or CLM01), or names nothing it could match, is reported in the response's report, not dropped.",
		Source:      "[gateway] reconciliation of DHCS's answers"},
	{ID: HCPUnknown, From: 20220101,
		Description: "The trading-partner profile has an HCP (plan) code table and the member's county of enrollment on the date of service (834 span REF*ZX, else the member's county) has no HCP code in it, and there is no default_hcp.",
		Source:      "dhcs-observed-formats.md B2.1 [S]/[P] (CLM01 starts with the HCP code of the member's plan on the date of service), B2.6 [S] (one file per HCP code)"},
	{ID: ADTNoticeProvider, Description: "An ADT event (admit, discharge, transfer, registration, class change) of a member goes to the ECM provider of each approved ECM authorization in force on the event date, and to no one else. A cancel of one (A11, A12, A13) goes to the providers notified of the event it cancelled, and to no one else: to no one when that event was never notified.",
		Source: "ECM policy guide L1902 (ADT to ECM providers within 24 hours), L1898-1905 (MCP to ECM provider minimum data); ecm-policy-rules.md 2.7 and 5; [gateway] a cancel goes to the holders of the event it cancels", From: 20230101},
	{ID: ADTNoticeLate, Description: "An ADT notice written, or delivered to the ECM provider's destination, 24 hours or more after its event was received, or written by the daemon and not delivered 24 hours after, is late: it is still sent, counted in calgw_adt_notices_late_total and listed in the day's summary.",
		Source: "ECM policy guide L1902; ecm-policy-rules.md 2.7", From: 20230101},
	{ID: POFUtilizationThreshold, Description: "A member without an approved ECM authorization in force meets the numeric threshold of a population of focus at risk for avoidable hospital or ED utilization: adults (21 and over) 5 or more ED visits or 3 or more unplanned inpatient stays in 6 months, children and youth 3 or more ED visits or 2 or more unplanned inpatient stays in 12 months, counted from ADT events (every ED visit; the stays POF-UNPLANNED-STAY says are unplanned); an ED visit that becomes an inpatient stay counts once, as the stay (rules/data/pof_utilization.csv). A candidate for review, never a decision: avoidability is a judgment.",
		Source: "S004:272-277, S004:285-291, S004:312-314; ecm-policy-rules.md POF2A, POF2B", From: 20220101},
	{ID: POFUnplannedStay, Description: "An inpatient stay counts toward POF-UTILIZATION-THRESHOLD only when unplanned: one of its A01 (class I) or A06 events carries a PV1-4 admission type that rules/data/adt_admission_types.csv marks unplanned on the event's day (A accident, E emergency, U urgent). C elective, R routine, L labor and delivery and N newborn stays are planned and count for nothing, neither as stays nor as ED visits. A stay none of whose admit events carries PV1-4 counts (the table's row with an empty code), and so does a code the table does not list (its * row). Every ED visit counts: whether a visit or stay was avoidable is a judgment ADT data cannot make.",
		Source: "S004:277, S004:291 (unplanned stays), S004:283, S004:303 (fn 18, 19: avoidable); HL7 v2.5.1 PV1-4, user-defined table 0007; rules/data/adt_admission_types.csv", From: 20220101},
}

// Catalog returns every rule, in evaluation order (a copy: the list itself
// never changes).
func Catalog() []Rule { return slices.Clone(catalog) }

// Lookup returns the catalog entry for id.
func Lookup(id string) (Rule, bool) {
	for _, r := range catalog {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}
