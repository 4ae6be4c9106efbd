package rules

// ValidNPI reports whether s is a 10-digit National Provider Identifier
// whose last digit is the Luhn check digit computed over the card-issuer
// prefix 80840 and the first nine digits (CMS, "Requirements for NPI check
// digit").
func ValidNPI(s string) bool {
	if len(s) != 10 {
		return false
	}
	// Luhn over "80840"+s, from the right: double every second digit.
	// The prefix 80840 contributes a constant 24 at these positions.
	sum := 24
	for i := 9; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if (9-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// NormalizeTIN strips the hyphens of a tax ID written as an EIN
// (12-3456789) or an SSN (123-45-6789) and reports whether the result is
// nine digits.
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
	return s, true
}
