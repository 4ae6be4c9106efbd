package rules

import (
	"fmt"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// HCPUnknown rejects a line whose member has no HCP (plan) code on the date
// of service: DHCS takes one file per HCP code, and CLM01 starts with it
// (docs/sources/dhcs-observed-formats.md B2.1 [S]/[P], B2.6 [S]).
const HCPUnknown = "HCP-UNKNOWN"

// CountyOn returns the member's county of enrollment on day: the county of
// the 834 span covering day (the latest-starting one), else the member's
// own county; "" when the member is unknown or has neither.
func CountyOn(m *domain.Enrollee, day civil.Date) string {
	if m == nil {
		return ""
	}
	var best *domain.EligibilitySpan
	for i := range m.Spans {
		s := &m.Spans[i]
		if s.Covers(day) && s.County != "" && (best == nil || s.From > best.From) {
			best = s
		}
	}
	if best != nil {
		return best.County
	}
	return m.County
}

// ChooseHCP decides the HCP code of a line from the member's county of
// enrollment on the line's first date of service and the plan's county →
// HCP code table (lookup, from the trading-partner profile).
func ChooseHCP(m *domain.Enrollee, l *domain.InvoiceLine, lookup func(county string) (string, bool)) (string, *Decision) {
	county := CountyOn(m, l.From)
	if hcp, ok := lookup(county); ok {
		return hcp, nil
	}
	msg := "the member has no county of enrollment on " + l.From.String() + " in the 834 data and the profile has no default_hcp"
	if county != "" {
		msg = fmt.Sprintf("county %s (the member's county of enrollment on %s) is not in the profile's plan.hcp_codes and there is no default_hcp", county, l.From)
	}
	return "", &Decision{Rule: HCPUnknown, Field: "member_cin", Message: msg}
}
