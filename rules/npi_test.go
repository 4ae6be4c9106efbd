package rules

import "testing"

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
		{"000000000", "000000000", false},
		{"00-0000000", "000000000", false},
		{"000000001", "000000001", true},
	}
	for _, tt := range tests {
		got, ok := NormalizeTIN(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("NormalizeTIN(%q) = %q %v, want %q %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
