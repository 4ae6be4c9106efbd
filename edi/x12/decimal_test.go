package x12

import "testing"

func TestParseDecimal(t *testing.T) {
	for _, c := range []struct {
		in     string
		places int
		want   int64
		ok     bool
	}{
		{"125", 2, 12500, true},
		{"125.5", 2, 12550, true},
		{"0.05", 2, 5, true},
		{"-3.25", 2, -325, true},
		{".5", 2, 50, true},
		{"5.", 2, 500, true},
		{"10.500", 2, 1050, true},
		{"1.255", 2, 0, false},
		{"100.25", 6, 100250000, true},
		{"0.000001", 6, 1, true},
		{"0.0000001", 6, 0, false},
		{"1.0000000", 6, 1000000, true},
		{"999999999999", 0, 999999999999, true},
		{"1000000000000", 0, 0, false}, // thirteen digits
		{"-999999999999.999999", 6, -999999999999999999, true},
		{"007", 0, 7, true},
		{"", 2, 0, false},
		{"-", 2, 0, false},
		{".", 2, 0, false},
		{"-.", 2, 0, false},
		{"1.2.3", 2, 0, false},
		{"abc", 2, 0, false},
		{"+5", 2, 0, false},
		{"1E3", 2, 0, false},
		{" 5", 2, 0, false},
		{"--5", 2, 0, false},
	} {
		got, ok := ParseDecimal([]byte(c.in), c.places)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("ParseDecimal(%q, %d) = %d, %v; want %d, %v", c.in, c.places, got, ok, c.want, c.ok)
		}
	}
}
