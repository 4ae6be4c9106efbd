package x12

import (
	"io"
	"strings"
	"testing"
)

// ISA11 is the repetition separator from ISA12 version 00402 on (the 274
// is 00405); before, it is the standards identifier.
func TestISA11IsTheRepetitionSeparatorFrom00402(t *testing.T) {
	tests := []struct {
		version string
		want    byte
	}{
		{"00401", 0},
		{"00402", '^'},
		{"00405", '^'},
		{"00501", '^'},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			in := isa('*', '^', ':', '~', tt.version) + "GS*PW*S*R*20260115*1200*1*X*004050X109~"
			rd := NewReader(strings.NewReader(in))
			for {
				s, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := s.Delimiters().Repetition; got != tt.want {
					t.Errorf("%s: repetition separator %q, want %q", s.ID(), got, tt.want)
				}
			}
		})
	}
}
