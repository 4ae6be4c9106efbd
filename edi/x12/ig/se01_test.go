package ig_test

import (
	"slices"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
)

// An SE01 that is not a count reports the count mismatch (IK5 4), like a
// wrong count does.
func TestSE01NotANumberIsACountMismatch(t *testing.T) {
	clean := lines(readTestdata(t, "837p-clean.x12"))
	tests := []struct {
		name string
		se   string
		want []string
	}{
		{"the count", "SE*45*0001~", nil},
		{"one less", "SE*44*0001~", []string{"IK5/4 SE @45 e1"}},
		{"letters", "SE*4S*0001~", []string{"IK4/6 SE @45 e1", "IK5/4 SE @45 e1"}},
		{"empty", "SE**0001~", []string{"IK4/1 SE @45 e1", "IK5/4 SE @45 e1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := validate(t, join(replace(47, tt.se)(slices.Clone(clean)), true), ig.Options{})
			if res.err != nil {
				t.Fatal(res.err)
			}
			if got, want := keys(res.findings), slices.Sorted(slices.Values(tt.want)); !slices.Equal(got, want) {
				t.Errorf("findings\n got %q\nwant %q", got, want)
			}
		})
	}
}
