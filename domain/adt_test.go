package domain

import "testing"

func TestSenderKey(t *testing.T) {
	tests := []struct {
		name                     string
		profile, app, fac, msh10 string
		want                     string
	}{
		{"all four parts", "county", "EPIC", "STMARYS", "M1", "county|EPIC|STMARYS|M1"},
		{"another facility of the profile", "county", "EPIC", "MERCY", "M1", "county|EPIC|MERCY|M1"},
		{"another application of the facility", "county", "CERNER", "STMARYS", "M1", "county|CERNER|STMARYS|M1"},
		{"empty MSH-3", "county", "", "STMARYS", "M1", "county||STMARYS|M1"},
		{"empty MSH-4", "county", "EPIC", "", "M1", "county|EPIC||M1"},
		{"both empty", "default", "", "", "M1", "default|||M1"},
		{"HL7 null is empty", "county", `""`, ` "" `, "M1", "county|||M1"},
		{"surrounding spaces and tabs trimmed", "county", " EPIC\t", "\tSTMARYS  ", "M1", "county|EPIC|STMARYS|M1"},
		{"inner spaces kept", "county", "ST MARYS", "ST  MARYS", "M1", "county|ST MARYS|ST  MARYS|M1"},
		{"case kept", "county", "epic", "StMarys", "M1", "county|epic|StMarys|M1"},
		{"MSH-10 kept as sent", "county", "EPIC", "STMARYS", " m1 ", "county|EPIC|STMARYS| m1 "},
		{"profile kept as given", " County ", "EPIC", "STMARYS", "M1", " County |EPIC|STMARYS|M1"},
		{"separator inside a part", "county", "A|B", "C", "M1", `county|A\|B|C|M1`},
		{"backslash inside a part", "county", `A\`, "B", "M1", `county|A\\|B|M1`},
	}
	for _, tt := range tests {
		if got := SenderKey(tt.profile, tt.app, tt.fac, tt.msh10); got != tt.want {
			t.Errorf("%s: SenderKey(%q, %q, %q, %q) = %q, want %q", tt.name, tt.profile, tt.app, tt.fac, tt.msh10, got, tt.want)
		}
	}
	// No two different sending systems (or MSH-10s) share a key, however
	// the separator and the escape fall inside the parts.
	parts := []string{"", "A", "B", `\`, "|", `A|`, `|B`, `A\`, `\|`, `A\|B`, "a", "A B"}
	seen := map[string][4]string{}
	for _, p := range parts {
		for _, a := range parts {
			for _, f := range parts {
				for _, c := range []string{"M1", "M|1", `M\`} {
					k := SenderKey(p, a, f, c)
					q := [4]string{p, a, f, c}
					if prev, ok := seen[k]; ok && prev != q {
						t.Fatalf("%q and %q both give the key %q", prev, q, k)
					}
					seen[k] = q
				}
			}
		}
	}
	// Only the read of MSH-3.1 and MSH-4.1 joins different values: the
	// same facility written with spaces around it is the same system.
	if SenderKey("p", "EPIC", "STMARYS", "M1") != SenderKey("p", "EPIC ", " STMARYS", "M1") {
		t.Error("surrounding spaces make another sending system")
	}
	if SenderKey("p", "EPIC", "STMARYS", "M1") == SenderKey("p", "EPIC", "MERCY", "M1") {
		t.Error("two facilities of one profile share a key")
	}
}

func TestSendingID(t *testing.T) {
	for in, want := range map[string]string{"": "", `""`: "", ` "" `: "", " A ": "A", "a b": "a b", `"A"`: `"A"`, "\tA\t": "A"} {
		if got := SendingID(in); got != want {
			t.Errorf("SendingID(%q) = %q, want %q", in, got, want)
		}
	}
}
