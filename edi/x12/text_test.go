package x12

import "testing"

func TestText(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"Bay Street Housing", 60, "Bay Street Housing"},
		{"José María Núñez", 60, "Jose Maria Nunez"},
		{"López*Ñúñez", 60, "Lopez Nunez"},
		{"  two   spaces ~ tilde ", 60, "two spaces tilde"},
		{"tab\tand\nnewline", 60, "tab and newline"},
		{"Nguyen, Linh", 60, "Nguyen, Linh"},
		{"abcdefghij", 5, "abcde"},
		{"abcd efghij", 5, "abcd"},
		{"東京 Clinic", 60, "Clinic"},
		{"Strauß Straße", 60, "Strauss Strasse"},
		{"Ødegaard Æbelø", 60, "Odegaard AEbelo"},
		{"Łukasz Wałęsa", 60, "Lukasz Walesa"},
		{"O’Brien – Smith", 60, "O'Brien - Smith"},
		{"“Casa” Đorđević", 60, `"Casa" Dordevic`},
		{"Straße", 5, "Stras"},
		{"", 60, ""},
	}
	for _, tt := range tests {
		if got := Text(tt.in, tt.max); got != tt.want {
			t.Errorf("Text(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
	if got := Digits("(916) 555-0100 x2"); got != "91655501002" {
		t.Errorf("Digits = %q", got)
	}
}
