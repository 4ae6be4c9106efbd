package monthly

import "testing"

func TestNumberAndMoney(t *testing.T) {
	for _, tc := range []struct {
		n    Number
		want string
	}{{0, "0"}, {14000, "14"}, {14500, "14.5"}, {125, "0.125"}, {1010, "1.01"}, {-2500, "-2.5"}} {
		b, _ := tc.n.MarshalJSON()
		if string(b) != tc.want {
			t.Errorf("%d: %s, want %s", tc.n, b, tc.want)
		}
	}
	for _, tc := range []struct {
		c    int64
		want string
	}{{0, "0.00"}, {5, "0.05"}, {21750, "217.50"}, {-150, "-1.50"}} {
		if got := money(tc.c); got != tc.want {
			t.Errorf("%d: %s, want %s", tc.c, got, tc.want)
		}
	}
}
