package rules

import (
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
)

func TestMemberAddress(t *testing.T) {
	invoice := domain.Address{Street: "1 Invoice St", City: "Fresno", State: "CA", Zip: "93721"}
	enrolled := domain.Address{Street: "2 Enrolled Ave", City: "Oakland", State: "CA", Zip: "946121234"}
	noStreet := domain.Address{City: "Fresno", State: "CA", Zip: "93721"}
	tests := []struct {
		name      string
		onInvoice domain.Address
		member    *domain.Enrollee
		want      domain.Address
		missing   bool
	}{
		{"invoice address", invoice, &domain.Enrollee{Member: domain.Member{Address: enrolled}}, invoice, false},
		{"834 address when the invoice has none", domain.Address{}, &domain.Enrollee{Member: domain.Member{Address: enrolled}}, enrolled, false},
		{"834 address when the invoice's is partial", noStreet, &domain.Enrollee{Member: domain.Member{Address: enrolled}}, enrolled, false},
		{"no 834 record", domain.Address{}, nil, domain.Address{}, true},
		{"834 record without an address", domain.Address{}, &domain.Enrollee{}, domain.Address{}, true},
		{"partial on both", noStreet, &domain.Enrollee{Member: domain.Member{Address: domain.Address{Street: "x", City: "y", State: "CA"}}}, noStreet, true},
	}
	for _, tt := range tests {
		l := domain.InvoiceLine{Member: domain.Member{Address: tt.onInvoice}}
		d := MemberAddress(&l, tt.member)
		if (d != nil) != tt.missing || l.Member.Address != tt.want {
			t.Errorf("%s: decision %+v, address %+v", tt.name, d, l.Member.Address)
		}
		if d != nil && (d.Rule != FieldMissing || d.Field != "member_address") {
			t.Errorf("%s: %+v", tt.name, d)
		}
	}
}
