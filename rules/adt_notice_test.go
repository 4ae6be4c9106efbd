package rules

import (
	"slices"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

func TestADTNoticeProviders(t *testing.T) {
	d := func(s string) civil.Date { v, _ := civil.Parse(s); return v }
	auth := func(npi, svc string, st domain.AuthStatus, from, to string) domain.Authorization {
		a := domain.Authorization{ProviderNPI: npi, Service: svc, Status: st, From: d(from)}
		if to != "" {
			a.To = d(to)
		}
		return a
	}
	auths := []domain.Authorization{
		auth("1111111111", "ECM", domain.AuthApproved, "2026-03-01", "2026-03-31"),
		auth("2222222222", "ECM", domain.AuthApproved, "2026-03-02", ""),
		auth("3333333333", "CS01", domain.AuthApproved, "2026-01-01", ""),
		auth("4444444444", "ECM", domain.AuthDenied, "2026-01-01", ""),
		auth("5555555555", "ECM", domain.AuthPending, "2026-01-01", ""),
		auth("", "ECM", domain.AuthApproved, "2026-01-01", ""),
		auth("1111111111", "ECM", domain.AuthApproved, "2026-01-01", ""),
	}
	tests := []struct {
		day  string
		want []string
	}{
		{"2026-02-28", []string{"1111111111"}},
		{"2026-03-01", []string{"1111111111"}},
		{"2026-03-02", []string{"1111111111", "2222222222"}},
		{"2026-03-31", []string{"1111111111", "2222222222"}},
		{"2026-04-01", []string{"1111111111", "2222222222"}},
	}
	for _, tt := range tests {
		if got := ADTNoticeProviders(auths, d(tt.day), nil); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.day, got, tt.want)
		}
	}
	// The end date is the last day in force; the start the first.
	one := auths[:1]
	for day, want := range map[string]int{"2026-02-28": 0, "2026-03-01": 1, "2026-03-31": 1, "2026-04-01": 0} {
		if got := len(ADTNoticeProviders(one, d(day), nil)); got != want {
			t.Errorf("%s: %d providers, want %d", day, got, want)
		}
	}
}

func TestIsADTNoticeLate(t *testing.T) {
	r := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for w, want := range map[time.Duration]bool{0: false, 24*time.Hour - time.Millisecond: false, 24 * time.Hour: true, 30 * time.Hour: true} {
		if got := IsADTNoticeLate(r, r.Add(w)); got != want {
			t.Errorf("after %v: late %v, want %v", w, got, want)
		}
	}
}

// An approved ECM authorization without an end date is in force for the
// policy period of its type from its start (auth_periods.csv), as billing
// reads it; a streamlined one for its window whatever its end date says.
// Without periods such an authorization is open.
func TestADTNoticeProvidersPolicyPeriod(t *testing.T) {
	d := func(s string) civil.Date { v, _ := civil.Parse(s); return v }
	data := DefaultEligibilityTables()
	auths := []domain.Authorization{
		{ProviderNPI: "1111111111", Service: "ECM", Status: domain.AuthApproved, Type: domain.AuthInitial, From: d("2025-01-01")},
		{ProviderNPI: "2222222222", Service: "ECM", Status: domain.AuthApproved, Type: domain.AuthReauthorization, From: d("2025-01-01")},
		{ProviderNPI: "3333333333", Service: "ECM", Status: domain.AuthApproved, Type: domain.AuthStreamlined, From: d("2025-03-01"), To: d("2025-12-31")},
	}
	for day, want := range map[string][]string{
		"2025-03-30": {"1111111111", "2222222222", "3333333333"},
		"2025-03-31": {"1111111111", "2222222222"},
		"2025-06-30": {"1111111111", "2222222222"},
		"2025-07-01": {"1111111111"},
		"2025-12-31": {"1111111111"},
		"2026-01-01": nil,
	} {
		if got := ADTNoticeProviders(auths, d(day), data); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", day, got, want)
		}
	}
	if got := ADTNoticeProviders(auths[:1], d("2027-01-01"), nil); len(got) != 1 {
		t.Errorf("without periods: %v, want the open authorization's provider", got)
	}
}

// An approved ECM authorization naming no provider addresses no notice but
// is an ECM authorization in force all the same.
func TestHasECMAuthorization(t *testing.T) {
	d := func(s string) civil.Date { v, _ := civil.Parse(s); return v }
	data := DefaultEligibilityTables()
	anyProvider := []domain.Authorization{{Service: "ECM", Status: domain.AuthApproved, Type: domain.AuthInitial, From: d("2026-01-01")}}
	if got := ADTNoticeProviders(anyProvider, d("2026-03-01"), data); len(got) != 0 {
		t.Errorf("providers %v, want none", got)
	}
	if !HasECMAuthorization(anyProvider, d("2026-03-01"), data) {
		t.Error("an approved ECM authorization naming no provider: not in force")
	}
	for _, day := range []string{"2025-12-31", "2027-01-01"} {
		if HasECMAuthorization(anyProvider, d(day), data) {
			t.Errorf("%s: in force", day)
		}
	}
	denied := []domain.Authorization{{Service: "ECM", Status: domain.AuthDenied, ProviderNPI: "1111111111", From: d("2026-01-01")}}
	if HasECMAuthorization(denied, d("2026-03-01"), data) {
		t.Error("a denied authorization: in force")
	}
}
