package rules

import (
	"fmt"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// CompleteAddress reports whether a has the four parts an 837P N3/N4 pair
// needs: street, city, state and ZIP.
func CompleteAddress(a domain.Address) bool {
	return a.Street != "" && a.City != "" && a.State != "" && a.Zip != ""
}

// MemberAddress decides the member's address on an 837P (2010BA N3/N4).
// The patient is always the subscriber (SBR02 18, no 2000C), so
// 005010X222A1 requires it. The invoice's own member address is used when
// complete; else the address of the member's 834 record (enrolled, nil when
// the member is unknown) is put on the line; with neither, the line is
// rejected as FIELD-MISSING member_address.
func MemberAddress(l *domain.InvoiceLine, enrolled *domain.Enrollee) *Decision {
	if CompleteAddress(l.Member.Address) {
		return nil
	}
	if enrolled != nil && CompleteAddress(enrolled.Address) {
		l.Member.Address = enrolled.Address
		return nil
	}
	return &Decision{Rule: FieldMissing, Field: "member_address",
		Message: "the member's address is required (837P 2010BA N3/N4): give member_address, member_city, member_state and member_zip on the invoice, or load the member's 834 with its residence address (N3/N4 of loop 2100A: calgw ingest --kind 834)"}
}

// BillingAddress decides the billing provider's address on an 837P (2010AA
// N3/N4: a street address, never a post office box or lock box, with a 9-digit ZIP+4
// in N403). sites are the provider roster's sites of the line's billing NPI
// (none when the roster does not know it). The roster's site is used when
// the roster knows the provider: the site in force on the first date of
// service (else any), preferring the one with the invoice's 5-digit ZIP,
// then one with a 9-digit ZIP. A site with a 5-digit ZIP gives way to a
// complete invoice address with a ZIP+4 of the same 5 digits; otherwise
// the line is rejected, saying which ZIP lacks its +4. Without a roster
// site the invoice's billing_address, billing_city, billing_state and
// billing_zip are required, the ZIP with 9 digits.
func BillingAddress(l *domain.InvoiceLine, sites []domain.ProviderContract) []Decision {
	inv := l.Billing.Address
	if site := pickSite(sites, l.From, inv.Zip); site != nil {
		a := site.Address
		switch {
		case len(a.Zip) == 9:
			l.Billing.Address = a
		case CompleteAddress(inv) && len(inv.Zip) == 9 && inv.Zip[:5] == a.Zip:
			// the invoice's own address, with the ZIP+4 the roster lacks
		default:
			have := "no billing_zip"
			if inv.Zip != "" {
				have = "billing_zip " + inv.Zip
			}
			return []Decision{{Rule: FieldInvalid, Field: "billing_zip", Message: fmt.Sprintf(
				"the billing provider's ZIP code needs all 9 digits (ZIP+4) for the 837P: the provider roster's site %q has ZIP %s (5 digits; add the +4 to the roster's site_zip) and the invoice has %s (give the full ZIP+4 there instead) (837P 2010AA N403)",
				site.Site, a.Zip, have)}}
		}
		return poBoxCheck(l)
	}
	var ds []Decision
	for _, f := range []struct{ col, v string }{{"billing_address", inv.Street}, {"billing_city", inv.City}, {"billing_state", inv.State}, {"billing_zip", inv.Zip}} {
		if f.v == "" {
			ds = append(ds, Decision{Rule: FieldMissing, Field: f.col, Message: f.col + " is required unless the plan's provider roster lists a site of billing_npi " + l.Billing.NPI})
		}
	}
	if len(inv.Zip) == 5 {
		ds = append(ds, Decision{Rule: FieldInvalid, Field: "billing_zip", Message: fmt.Sprintf(
			"billing_zip %s has 5 digits: give the full 9-digit ZIP+4 (for example 94103-1520), which DHCS requires for the billing address, or have the plan's provider roster list the site with its ZIP+4 (837P 2010AA N403)", inv.Zip)})
	}
	return append(ds, poBoxCheck(l)...)
}

func poBoxCheck(l *domain.InvoiceLine) []Decision {
	if s := l.Billing.Address.Street; hasBox(s) && poBox().MatchString(s) {
		return []Decision{{Rule: FieldInvalid, Field: "billing_address", Message: "billing_address must be a street address, not a post office box or lock box (837P 2010AA N3)"}}
	}
	return nil
}

// hasBox reports whether s holds "box" in any case: a street without it
// is no post office box, and the regular expression is not needed.
func hasBox(s string) bool {
	for i := 0; i+3 <= len(s); i++ {
		if (s[i]|0x20) == 'b' && (s[i+1]|0x20) == 'o' && (s[i+2]|0x20) == 'x' {
			return true
		}
	}
	return false
}

// pickSite returns the roster site whose address is the billing address
// (nil when none has a complete address): in force on day (else any), with
// the ZIP's 5 digits, else with a 9-digit ZIP, else the first.
func pickSite(sites []domain.ProviderContract, day civil.Date, zip string) *domain.ProviderContract {
	var best *domain.ProviderContract
	score := func(s *domain.ProviderContract) int {
		n := 0
		if s.Covers(day) {
			n += 4
		}
		if len(zip) >= 5 && strings.HasPrefix(s.Address.Zip, zip[:5]) {
			n += 2
		}
		if len(s.Address.Zip) == 9 {
			n++
		}
		return n
	}
	for i := range sites {
		s := &sites[i]
		if CompleteAddress(s.Address) && (best == nil || score(s) > score(best)) {
			best = s
		}
	}
	return best
}
