package rules

import (
	"slices"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
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

func TestBillingAddress(t *testing.T) {
	invoice9 := domain.Address{Street: "1 Invoice St", City: "Fresno", State: "CA", Zip: "937211234"}
	invoice5 := domain.Address{Street: "1 Invoice St", City: "Fresno", State: "CA", Zip: "93721"}
	site := func(name, zip string, from, to civil.Date) domain.ProviderContract {
		return domain.ProviderContract{Site: name, From: from, To: to,
			Address: domain.Address{Street: name + " St", City: "Fresno", State: "CA", Zip: zip}}
	}
	tests := []struct {
		name    string
		invoice domain.Address
		sites   []domain.ProviderContract
		want    string // the street used; "" = rejected
		fields  []string
	}{
		{"no roster: the invoice's", invoice9, nil, "1 Invoice St", nil},
		{"no roster: 5-digit ZIP", invoice5, nil, "", []string{"billing_zip"}},
		{"no roster: no address", domain.Address{}, nil, "", []string{"billing_address", "billing_city", "billing_state", "billing_zip"}},
		{"no roster: PO box", domain.Address{Street: "PO Box 12", City: "Fresno", State: "CA", Zip: "937211234"}, nil, "", []string{"billing_address"}},
		// 2010AA N301: "Post Office Box or Lock Box addresses are to be sent in the Pay-To Address Loop".
		{"no roster: lock box", domain.Address{Street: "Lock Box 4471", City: "Fresno", State: "CA", Zip: "937211234"}, nil, "", []string{"billing_address"}},
		{"no roster: lockbox", domain.Address{Street: "Lockbox 4471", City: "Fresno", State: "CA", Zip: "937211234"}, nil, "", []string{"billing_address"}},
		{"no roster: Boxer St is a street", domain.Address{Street: "12 Boxer St", City: "Fresno", State: "CA", Zip: "937211234"}, nil, "12 Boxer St", nil},
		{"roster ZIP+4 over a 5-digit invoice ZIP", invoice5, []domain.ProviderContract{site("Main", "937215555", 20220101, 0)}, "Main St", nil},
		{"roster ZIP+4 with no invoice address", domain.Address{}, []domain.ProviderContract{site("Main", "937215555", 20220101, 0)}, "Main St", nil},
		{"roster 5 digits, invoice ZIP+4 of the same ZIP", invoice9, []domain.ProviderContract{site("Main", "93721", 20220101, 0)}, "1 Invoice St", nil},
		{"roster 5 digits, invoice ZIP+4 of another ZIP", invoice9, []domain.ProviderContract{site("Main", "93722", 20220101, 0)}, "", []string{"billing_zip"}},
		{"roster 5 digits, invoice 5 digits", invoice5, []domain.ProviderContract{site("Main", "93721", 20220101, 0)}, "", []string{"billing_zip"}},
		{"the site in force on the date of service", domain.Address{}, []domain.ProviderContract{site("Old", "937210001", 20220101, 20251231), site("New", "937210002", 20260101, 0)}, "New St", nil},
		{"day before a site starts", domain.Address{}, []domain.ProviderContract{site("Old", "937210001", 20220101, 20260901), site("New", "937210002", 20260902, 0)}, "Old St", nil},
		{"in force before the invoice's ZIP", invoice5, []domain.ProviderContract{site("Old", "937210001", 20220101, 20251231), site("New", "946120002", 20260101, 0)}, "New St", nil},
		{"the site with the invoice's ZIP", invoice5, []domain.ProviderContract{site("Other", "946121111", 20220101, 0), site("Main", "937212222", 20220101, 0)}, "Main St", nil},
		{"a site with a ZIP+4 before one without", domain.Address{}, []domain.ProviderContract{site("Five", "94612", 20220101, 0), site("Nine", "946121111", 20220101, 0)}, "Nine St", nil},
		{"a site without a complete address is not used", invoice9, []domain.ProviderContract{{Site: "Bare", From: 20220101}}, "1 Invoice St", nil},
	}
	for _, tt := range tests {
		l := domain.InvoiceLine{Billing: domain.Provider{NPI: "1456789019", Address: tt.invoice}, From: 20260901, To: 20260901}
		ds := BillingAddress(&l, tt.sites)
		var fields []string
		for _, d := range ds {
			fields = append(fields, d.Field)
			if strings.Contains(d.Message, "roster's site") != (len(tt.sites) > 0) {
				t.Errorf("%s: message %q", tt.name, d.Message)
			}
		}
		if !slices.Equal(fields, tt.fields) {
			t.Errorf("%s: decisions %+v, want fields %v", tt.name, ds, tt.fields)
		}
		if tt.want != "" && (l.Billing.Address.Street != tt.want || len(l.Billing.Address.Zip) != 9) {
			t.Errorf("%s: address %+v, want street %s with a ZIP+4", tt.name, l.Billing.Address, tt.want)
		}
	}
}
