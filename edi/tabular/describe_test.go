package tabular

import (
	"strings"
	"testing"
)

// A header is described by the template columns it has; anything else is
// counted, never shown (a data row in its place holds member data).
func TestDescribeNeverEchoesUnknownCells(t *testing.T) {
	known := []string{"member_cin", "service", "start_date"}
	tests := []struct {
		names []string
		want  string
	}{
		{[]string{"A-1", "91234567A", "Rivera", "1978-04-12"}, "4 column(s), none of them a template column name: is the header row missing?"},
		{[]string{"member_cin", "Service", "notes"}, "the columns member_cin, service and 1 other column(s) (not shown)"},
		{[]string{"member_cin", " START_DATE "}, "the columns member_cin, start_date"},
		{[]string{"", ""}, "an empty first row"},
	}
	for _, tt := range tests {
		h := newHeader(tt.names)
		got := h.Describe(known)
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.names, got, tt.want)
		}
		for _, n := range tt.names {
			if n != "" && !strings.Contains(strings.Join(known, " "), strings.ToLower(strings.TrimSpace(n))) && strings.Contains(got, n) {
				t.Errorf("%q: the description shows %q", tt.names, n)
			}
		}
	}
}
