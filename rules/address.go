package rules

import "github.com/calaim-gateway/calaim-gateway/domain"

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
