package rules

import "github.com/calaim-gateway/calaim-gateway/internal/civil"

// Rule IDs are a contract: operators and downstream reports match on them.
const (
	FieldMissing   = "FIELD-MISSING"
	FieldInvalid   = "FIELD-INVALID"
	NPIInvalid     = "NPI-INVALID"
	TINInvalid     = "TIN-INVALID"
	CodeNotAllowed = "CODE-NOT-ALLOWED"
	DuplicateLine  = "DUPLICATE-LINE"
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

// Catalog lists every rule the gateway applies, in evaluation order. The
// invoice rules are below; rule sets for other features add theirs from
// their own files' init functions (files initialize in name order).
var Catalog = []Rule{
	{ID: FieldMissing, Description: "A required invoice value is absent.",
		Source: "Invoice template (README); DHCS minimum necessary data elements (community-supports-and-billing.md 5.3)", From: 20220101},
	{ID: FieldInvalid, Description: "An invoice value is malformed: dates, money, units > 0, service_to >= service_from, date of service not in the future, state and ZIP shape (billing ZIP+4 for 837P 2010AA), code shapes.",
		Source: "005010X222A1 element formats; community-supports-and-billing.md 5.4", From: 20220101},
	{ID: NPIInvalid, Description: "An NPI fails the check digit (Luhn over the 80840 prefix).",
		Source: "CMS NPI check-digit standard; S000:407 (billing NPI required)", From: 20220101},
	{ID: TINInvalid, Description: "The billing provider's tax ID is not 9 digits.",
		Source: "005010X222A1 2010AA REF*EI", From: 20220101},
	{ID: CodeNotAllowed, Description: "The HCPCS code and modifier set are not in the DHCS ECM/CS coding table in force on the date of service (modifiers match in any position; no extra modifiers).",
		Source: "S000:435, S003:346-348, S004:1986-1990; coding table rules/data/hcpcs_ecm_cs.csv", From: 20220101},
	{ID: DuplicateLine, Description: "Same member, billing provider, dates, code, modifiers and units as a line already sent, in an earlier run or earlier in this run (PACES denies a whole encounter for one duplicate line).",
		Source: "S000:474 (no double billing); DHCS Data Quality FAQ: PACES line-level duplicate logic", From: 20220101},
}

// Lookup returns the catalog entry for id.
func Lookup(id string) (Rule, bool) {
	for _, r := range Catalog {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}
