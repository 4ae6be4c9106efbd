package domain

import "testing"

func TestMoneyString(t *testing.T) {
	for m, want := range map[Money]string{0: "0", 15000: "150", 15050: "150.5", 5: "0.05", 123456: "1234.56", -250: "-2.5"} {
		if got := m.String(); got != want {
			t.Errorf("Money(%d) = %q, want %q", int64(m), got, want)
		}
	}
}

func TestQuantityString(t *testing.T) {
	for q, want := range map[Quantity]string{1000: "1", 1500: "1.5", 250: "0.25", 12001: "12.001"} {
		if got := q.String(); got != want {
			t.Errorf("Quantity(%d) = %q, want %q", int64(q), got, want)
		}
	}
}
