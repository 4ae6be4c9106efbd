package rules

import "testing"

func TestValidNPI(t *testing.T) {
	tests := []struct {
		npi  string
		want bool
	}{
		{"1234567893", true},  // the CMS worked example
		{"1234567890", false}, // wrong check digit
		{"1245319599", true},
		{"1003000126", true},
		{"1003000127", false},
		{"123456789", false},
		{"12345678931", false},
		{"12345678a3", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidNPI(tt.npi); got != tt.want {
			t.Errorf("ValidNPI(%q) = %v, want %v", tt.npi, got, tt.want)
		}
	}
}

// TestValidNPIExhaustiveCheckDigit checks that exactly one check digit is
// valid for a base number, computed by the textbook Luhn algorithm.
func TestValidNPIExhaustiveCheckDigit(t *testing.T) {
	for _, base := range []string{"123456789", "100300012", "999999999", "000000000"} {
		want := luhnCheckDigit("80840" + base)
		for d := byte('0'); d <= '9'; d++ {
			if got := ValidNPI(base + string(d)); got != (d == want) {
				t.Errorf("ValidNPI(%s%c) = %v, textbook check digit %c", base, d, got, want)
			}
		}
	}
}

func luhnCheckDigit(payload string) byte {
	sum := 0
	double := true
	for i := len(payload) - 1; i >= 0; i-- {
		d := int(payload[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

func TestNormalizeTIN(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"123456789", "123456789", true},
		{"12-3456789", "123456789", true},
		{"12345678", "12345678", false},
		{"1234567890", "1234567890", false},
		{"123-45-6789", "123456789", true},
		{"12-34567-89", "12-34567-89", false},
		{"1-23456789", "1-23456789", false},
		{"12A456789", "12A456789", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeTIN(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("NormalizeTIN(%q) = %q %v, want %q %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
