// Package domain holds the plain records that flow between the codecs, the
// mappings and the rules: invoice lines, providers, members. It has no I/O
// and no policy.
package domain

import (
	"strconv"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// Address is a postal address.
type Address struct {
	Street string
	City   string
	State  string // two-letter USPS code
	Zip    string // 5 or 9 digits, no hyphen
}

// IsZero reports whether no part of the address is set.
func (a Address) IsZero() bool { return a == Address{} }

// Provider identifies a billing or rendering provider.
type Provider struct {
	NPI      string
	TIN      string // 9 digits, no hyphen
	Name     string // organization name, or "Last, First" for a person
	Address  Address
	Taxonomy string
}

// Member is a Medi-Cal member as an invoice or enrollment file names them.
type Member struct {
	CIN       string // Medi-Cal Client Index Number
	LastName  string
	FirstName string
	DOB       civil.Date
	Gender    string // "F", "M" or "U"
	Address   Address
}

// Money is an amount in cents.
type Money int64

// String formats m as an X12 decimal: no trailing zeros after the point
// ("150", "150.5", "0.05").
func (m Money) String() string {
	neg := m < 0
	if neg {
		m = -m
	}
	s := strconv.FormatInt(int64(m/100), 10)
	if c := int64(m % 100); c != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(100+c, 10)[1:], "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Quantity is a count of units in thousandths (1.5 units = 1500).
type Quantity int64

// String formats q as an X12 decimal without trailing zeros.
func (q Quantity) String() string {
	s := strconv.FormatInt(int64(q/1000), 10)
	if f := int64(q % 1000); f != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(1000+f, 10)[1:], "0")
	}
	return s
}

// Source locates a record in its input file.
type Source struct {
	File string // base name of the input file
	Row  int    // 1-based row (line of a CSV, sheet row of an XLSX)
}

// InvoiceLine is one service line of a provider invoice, decoded and typed.
type InvoiceLine struct {
	Source        Source
	InvoiceNumber string
	InvoiceDate   civil.Date
	LineNumber    string // as the provider numbered it; may be empty

	Billing   Provider
	Rendering Provider // NPI and Name only; zero when the billing provider rendered the service
	Member    Member

	From, To  civil.Date // dates of service
	Units     Quantity
	Charge    Money
	HCPCS     string   // as given, or resolved from Service by the coding table
	Modifiers []string // as given (order kept), or resolved from Service
	Service   string   // service name as given, when the invoice used one

	PlaceOfService      string   // two-digit CMS place-of-service code; empty = profile default
	Diagnoses           []string // ICD-10-CM codes without the decimal point
	AuthorizationNumber string
	Note                string

	// ClaimDiagnoses are the claim's diagnoses in HI order (the principal
	// first), when the claim has codes beyond those its lines point at (a
	// claim received as an 837P); empty = the lines' own, in order.
	ClaimDiagnoses []string

	// Frequency is CLM05-3: "" or "1" an original, "7" a replacement, "8" a
	// void of the claim OriginalClaim names (its CLM01 or invoice number).
	Frequency     string
	OriginalClaim string
	// OriginalEncounterID is the DHCS Encounter ID of the original claim
	// (2300 REF*F8), filled by the gateway from the claims it sent.
	OriginalEncounterID string

	// ProviderClaimID is the provider's own claim ID (its 837P CLM01) of a
	// line the plan received as an 837P: it goes out in 2300 REF*D9.
	ProviderClaimID string
}
