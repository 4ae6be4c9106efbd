package x837p

import (
	"strings"
	"testing"
)

// A line's REF*G1 (2400) is written only when it differs from the claim's
// (2300): the claim's authorization is not repeated on its lines.
func TestLineAuthorizationOnlyWhenItDiffersFromTheClaims(t *testing.T) {
	tests := []struct {
		name       string
		claim      string
		lines      []string
		want       int // REF*G1 segments
		wantInLine int // of them after the first LX
	}{
		{"claim only", "AUTH-1", []string{"AUTH-1", "AUTH-1"}, 1, 0},
		{"one line differs", "AUTH-1", []string{"AUTH-1", "AUTH-2"}, 2, 1},
		{"lines only", "", []string{"AUTH-1", "AUTH-2"}, 2, 2},
		{"none", "", []string{"", ""}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := claim("INV-1", line("H0043", 100, 20260901, 20260901), line("H0044", 200, 20260902, 20260902))
			c.PriorAuthorization = tt.claim
			for i, a := range tt.lines {
				c.Lines[i].PriorAuthorization = a
			}
			out := string(encode(t, header(), c))
			validate(t, []byte(out))
			lines := out[strings.Index(out, "LX*1~"):]
			if got, in := strings.Count(out, "REF*G1*"), strings.Count(lines, "REF*G1*"); got != tt.want || in != tt.wantInLine {
				t.Errorf("%d REF*G1 (%d in lines), want %d (%d)\n%s", got, in, tt.want, tt.wantInLine, out)
			}
		})
	}
}
