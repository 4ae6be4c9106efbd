package rules_test

import (
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

func day(s string) civil.Date {
	if s == "" {
		return 0
	}
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// The authorization periods at their edges: 12 calendar months for an
// initial ECM authorization, 6 for a reauthorization, the 30-day
// streamlined window (a warning only), and the warnings for a missing end
// or communication date.
func TestAuthorizationPeriod(t *testing.T) {
	tabs := rules.DefaultEligibilityTables()
	tests := []struct {
		typ          domain.AuthType
		status       domain.AuthStatus
		from, to     string
		communicated string
		want         string // field:rule, "(w)" for a warning; "" = nothing
	}{
		{domain.AuthInitial, domain.AuthApproved, "2026-01-01", "2026-12-31", "", ""},
		{domain.AuthInitial, domain.AuthApproved, "2026-01-01", "2027-01-01", "", "end:AUTH-PERIOD-POLICY"},
		{domain.AuthInitial, domain.AuthApproved, "2026-01-31", "2027-01-30", "", ""},
		{domain.AuthInitial, domain.AuthApproved, "2026-01-31", "2027-01-31", "", "end:AUTH-PERIOD-POLICY"},
		{domain.AuthInitial, domain.AuthDenied, "2026-01-01", "2027-06-01", "", ""}, // a denial covers nothing
		{domain.AuthInitial, domain.AuthApproved, "2026-01-01", "", "", "end:AUTH-FEED-INVALID(w)"},
		{domain.AuthReauthorization, domain.AuthApproved, "2026-03-15", "2026-09-14", "", ""},
		{domain.AuthReauthorization, domain.AuthApproved, "2026-03-15", "2026-09-15", "", "end:AUTH-PERIOD-POLICY"},
		{domain.AuthJIPrerelease, domain.AuthApproved, "2023-12-31", "2025-06-01", "", ""}, // no JI period before 2024
		{domain.AuthJIPrerelease, domain.AuthApproved, "2024-01-01", "2025-01-01", "", "end:AUTH-PERIOD-POLICY"},
		{domain.AuthStreamlined, domain.AuthApproved, "2026-03-01", "2026-03-30", "", ""},
		{domain.AuthStreamlined, domain.AuthApproved, "2026-03-01", "2026-03-31", "", "end:AUTH-FEED-INVALID(w)"},
		{domain.AuthStreamlined, domain.AuthDenied, "2026-03-01", "2026-03-10", "", "communicated:AUTH-FEED-INVALID(w)"},
		{domain.AuthStreamlined, domain.AuthDenied, "2026-03-01", "2026-03-10", "2026-03-05", ""},
		{domain.AuthStreamlined, domain.AuthApproved, "2024-12-31", "2025-01-10", "", "start:AUTH-PERIOD-POLICY"},
	}
	for _, tt := range tests {
		a := domain.Authorization{Service: "ECM", Type: tt.typ, Status: tt.status, From: day(tt.from), To: day(tt.to), Communicated: day(tt.communicated)}
		var got []string
		for _, f := range tabs.AuthorizationPeriod(&a) {
			s := f.Field + ":" + f.Rule
			if f.Warning {
				s += "(w)"
			}
			if strings.Contains(f.Message, "91234567A") {
				t.Errorf("message holds member data: %s", f.Message)
			}
			got = append(got, s)
		}
		if g := strings.Join(got, ","); g != tt.want {
			t.Errorf("%s %s %s..%s: %q, want %q", tt.typ, tt.status, tt.from, tt.to, g, tt.want)
		}
	}
}

// A Community Support is authorized initial or reauthorization only.
func TestCSAuthorizationType(t *testing.T) {
	for typ, bad := range map[domain.AuthType]bool{
		domain.AuthInitial: false, domain.AuthReauthorization: false,
		domain.AuthStreamlined: true, domain.AuthAutoPlanChange: true, domain.AuthJIPrerelease: true,
	} {
		f := rules.CSAuthorizationType(typ)
		if (f != nil) != bad {
			t.Errorf("%s: %+v", typ, f)
		}
		if f != nil && (f.Rule != rules.AuthPeriodPolicy || f.Field != rules.AuthFieldType || f.Warning) {
			t.Errorf("%s: %+v", typ, f)
		}
	}
}

// The standard ECM periods (12 months initial, 6 months reauthorization)
// apply to authorizations starting on or after 2023-07-01 (S003:224-226):
// an authorization that starts the day before has no policy period, so a
// longer one is not contradicted and one without an end is not cut at 12
// or 6 months.
func TestAuthorizationPeriodEffectiveDate(t *testing.T) {
	tabs := rules.DefaultEligibilityTables()
	tests := []struct {
		typ      domain.AuthType
		from, to string
		want     string
	}{
		{domain.AuthInitial, "2023-06-30", "2024-12-31", ""},
		{domain.AuthInitial, "2023-07-01", "2024-12-31", "end:AUTH-PERIOD-POLICY"},
		{domain.AuthInitial, "2023-07-01", "2024-06-30", ""},
		{domain.AuthReauthorization, "2023-06-30", "2024-06-30", ""},
		{domain.AuthReauthorization, "2023-07-01", "2024-06-30", "end:AUTH-PERIOD-POLICY"},
		{domain.AuthReauthorization, "2023-07-01", "2023-12-31", ""},
		{domain.AuthAutoPlanChange, "2023-06-30", "2024-12-31", ""},
		{domain.AuthAutoPlanChange, "2023-07-01", "2024-12-31", "end:AUTH-PERIOD-POLICY"},
		{domain.AuthInitial, "2023-06-30", "", ""},
		{domain.AuthInitial, "2023-07-01", "", "end:AUTH-FEED-INVALID(w)"},
	}
	for _, tt := range tests {
		a := domain.Authorization{Service: "ECM", Type: tt.typ, Status: domain.AuthApproved, From: day(tt.from), To: day(tt.to)}
		var got []string
		for _, f := range tabs.AuthorizationPeriod(&a) {
			s := f.Field + ":" + f.Rule
			if f.Warning {
				s += "(w)"
			}
			got = append(got, s)
		}
		if g := strings.Join(got, ","); g != tt.want {
			t.Errorf("%s %s..%s: %q, want %q", tt.typ, tt.from, tt.to, g, tt.want)
		}
	}
}
