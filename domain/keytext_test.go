package domain

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestKeyText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"GOODHOSP", "GOODHOSP"},
		{"HÔPITAL", "HÔPITAL"}, // valid UTF-8 kept
		{"\uFFFD", "\uFFFD"},   // a replacement character sent as such
		{`A\T\B`, `A\T\B`},     // HL7 escapes kept
		{`\x`, `\x`},           // not followed by two hex digits
		{`\xd4`, `\xd4`},       // lower-case hex is not an escape
		{`\xG1`, `\xG1`},
		{"H\xd4P", `H\xD4P`},         // Latin-1 Ô
		{"H\xc9P", `H\xC9P`},         // Latin-1 É
		{"H\xd4\xc9P", `H\xD4\xC9P`}, // a run of invalid bytes, each
		{"A\x00B", `A\x00B`},         // NUL
		{`H\xD4P`, `H\x5CxD4P`},      // the escape itself, sent as text
		{"\xff" + `\x41`, `\xFF\x5Cx41`},
		{"\xe2\x82", `\xE2\x82`}, // a cut multi-byte character
		{"é\xe9", `é\xE9`},
	} {
		got := KeyText(tt.in)
		if got != tt.want {
			t.Errorf("KeyText(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !utf8.ValidString(got) || strings.Contains(got, "\x00") {
			t.Errorf("KeyText(%q) = %q: not valid text", tt.in, got)
		}
		if raw := RawKeyText(got); raw != tt.in {
			t.Errorf("RawKeyText(%q) = %q, want %q", got, raw, tt.in)
		}
	}
	// No two values share a text: every string of up to three bytes drawn
	// from the bytes that matter.
	alphabet := []string{"", "\\", "x", "D", "4", "\xd4", "\x00", "\xc3", "\xa9", "A"}
	seen := map[string]string{}
	for _, a := range alphabet {
		for _, b := range alphabet {
			for _, c := range alphabet {
				for _, d := range alphabet {
					s := a + b + c + d
					k := KeyText(s)
					if prev, ok := seen[k]; ok && prev != s {
						t.Fatalf("%q and %q both give %q", prev, s, k)
					}
					if raw := RawKeyText(k); raw != s {
						t.Fatalf("RawKeyText(KeyText(%q)) = %q", s, raw)
					}
					seen[k] = s
				}
			}
		}
	}
}
