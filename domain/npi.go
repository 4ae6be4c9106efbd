package domain

// ValidNPI reports whether s is a 10-digit National Provider Identifier
// whose last digit is the Luhn check digit computed over the card-issuer
// prefix 80840 and the first nine digits (CMS, "Requirements for NPI check
// digit"). It is a property of the identifier, not a plan's policy: the
// codecs (the 274 table's check) and the rules both use it.
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
