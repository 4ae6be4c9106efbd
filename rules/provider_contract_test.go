package rules

import (
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

func TestProviderNotContracted(t *testing.T) {
	coding := DefaultCodingTable()
	leg := func(hcpcs, mods string, dos civil.Date) *CodeLeg {
		m, _ := ParseModifiers(mods)
		l, res := coding.Lookup(hcpcs, m, dos)
		if l == nil {
			t.Fatalf("%s %s: %v", hcpcs, mods, res)
		}
		return l
	}
	ecm := leg("G9008", "U1", 20260901)
	outreach := leg("G9012", "U8", 20260901)
	cs05 := leg("T2033", "U6", 20260901) // Recuperative Care
	cs01 := leg("H0043", "U6", 20260901) // Housing Transition Navigation
	ho := leg("T1016", "U8", 20260901)   // housing outreach

	housing := domain.ProviderContract{NPI: "1456789019", CommunitySupports: []string{"CS01", "CS02", "HO"}, From: 20260101, To: 20260930}
	ecmSite := domain.ProviderContract{NPI: "1582345678", POFs: []string{"POF1A", "POF3A"}, From: 20250101}
	renewed := domain.ProviderContract{NPI: "1456789019", CommunitySupports: []string{"CS01"}, From: 20261001}

	for _, tc := range []struct {
		name      string
		contracts []domain.ProviderContract
		q         ContractQuery
		reject    string // part of the message; "" = the line passes
	}{
		{"CS contracted", []domain.ProviderContract{housing}, ContractQuery{From: 20260901, Leg: cs01}, ""},
		{"first day of the contract", []domain.ProviderContract{housing}, ContractQuery{From: 20260101, Leg: cs01}, ""},
		{"day before the contract", []domain.ProviderContract{housing}, ContractQuery{From: 20251231, Leg: cs01}, "only 2026-01-01 to 2026-09-30, not on 2025-12-31"},
		{"last day of the contract", []domain.ProviderContract{housing}, ContractQuery{From: 20260930, Leg: cs01}, ""},
		{"day after the contract", []domain.ProviderContract{housing}, ContractQuery{From: 20261001, Leg: cs01}, "not on 2026-10-01"},
		{"span running past the end", []domain.ProviderContract{housing}, ContractQuery{From: 20260925, To: 20261005, Leg: cs01}, "not on 2026-10-01 (date of service 2026-09-25 to 2026-10-05)"},
		{"span bridged by a renewal", []domain.ProviderContract{renewed, housing}, ContractQuery{From: 20260925, To: 20261005, Leg: cs01}, ""},
		{"CS not offered", []domain.ProviderContract{housing}, ContractQuery{From: 20260901, Leg: cs05}, "not contracted for Community Support CS05 (Recuperative Care (Medical Respite)) (roster: Community Supports CS01 CS02 HO)"},
		{"housing outreach offered", []domain.ProviderContract{housing}, ContractQuery{From: 20260901, Leg: ho}, ""},
		{"housing outreach not offered", []domain.ProviderContract{renewed}, ContractQuery{From: 20261101, Leg: ho}, "outreach service HO"},
		{"ECM, no POF known: any", []domain.ProviderContract{ecmSite}, ContractQuery{From: 20260903, Leg: ecm}, ""},
		{"ECM outreach", []domain.ProviderContract{ecmSite}, ContractQuery{From: 20260903, Leg: outreach}, ""},
		{"ECM, right POF", []domain.ProviderContract{ecmSite}, ContractQuery{From: 20260903, Leg: ecm, POF: "POF3A"}, ""},
		{"ECM, wrong POF", []domain.ProviderContract{ecmSite}, ContractQuery{From: 20260903, Leg: ecm, POF: "POF9"}, "not contracted for ECM population of focus POF9 (roster: ECM POF1A POF3A)"},
		{"ECM billed by a CS-only provider", []domain.ProviderContract{housing}, ContractQuery{From: 20260903, Leg: ecm}, "not contracted for ECM (any population of focus)"},
		{"CS billed by an ECM-only provider", []domain.ProviderContract{ecmSite}, ContractQuery{From: 20260903, Leg: cs01}, "roster: ECM POF1A POF3A"},
		{"unknown NPI", nil, ContractQuery{NPI: "1234567893", From: 20260903, Leg: cs01}, "billing NPI 1234567893 is not in the provider roster"},
		{"no leg: left to CODE-NOT-ALLOWED", nil, ContractQuery{From: 20260903}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.q.NPI == "" {
				tc.q.NPI = "1456789019"
			}
			d := CheckProviderContract(tc.contracts, tc.q)
			switch {
			case tc.reject == "" && d != nil:
				t.Errorf("rejected: %s", d.Message)
			case tc.reject != "" && d == nil:
				t.Errorf("passed, want %q", tc.reject)
			case d != nil && (d.Rule != ProviderNotContracted || d.Field != "billing_npi" || !strings.Contains(d.Message, tc.reject)):
				t.Errorf("decision %+v, want message with %q", d, tc.reject)
			}
		})
	}
	if _, ok := Lookup(ProviderNotContracted); !ok {
		t.Error("PROVIDER-NOT-CONTRACTED is not in the catalog")
	}
}
