package domain_test

import (
	"fmt"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
)

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
		if got := domain.ValidNPI(tt.npi); got != tt.want {
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
			if got := domain.ValidNPI(base + string(d)); got != (d == want) {
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

func ExampleValidNPI() {
	fmt.Println(domain.ValidNPI("1234567893")) // the CMS worked example
	fmt.Println(domain.ValidNPI("1234567890")) // wrong check digit
	// Output:
	// true
	// false
}
