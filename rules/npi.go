package rules

import "github.com/calaim-gateway/calaim-gateway/domain"

// ValidNPI reports whether s is a 10-digit NPI with a valid check digit;
// it is domain.ValidNPI, which the codecs use too.
func ValidNPI(s string) bool { return domain.ValidNPI(s) }

// NormalizeTIN strips the hyphens of a tax ID written as an EIN
// (12-3456789) or an SSN (123-45-6789) and reports whether the result is
// nine digits, not all zeros (neither the IRS nor the SSA issues that).
func NormalizeTIN(s string) (string, bool) {
	switch {
	case len(s) == 10 && s[2] == '-':
		s = s[:2] + s[3:]
	case len(s) == 11 && s[3] == '-' && s[6] == '-':
		s = s[:3] + s[4:6] + s[7:]
	}
	if len(s) != 9 {
		return s, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return s, false
		}
	}
	return s, s != "000000000"
}
