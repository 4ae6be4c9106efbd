package x274

import (
	"bytes"
	"reflect"
	"testing"
)

// A site's N2 carries up to two names (N201, N202); both are read back.
func TestSiteWithTwoN2NamesReadsBack(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  []string
	}{
		{"one name", []string{"ECM"}, []string{"ECM"}},
		{"two names", []string{"ECM", "Street Medicine"}, []string{"ECM", "Street Medicine"}},
		{"three names: N2 has two", []string{"ECM", "Street Medicine", "Housing"}, []string{"ECM", "Street Medicine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := groups()
			gs[1].Sites[0].Names = tt.names
			data := encode(t, header(), gs)
			f, err := Read(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Sites()[1].Names; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("names %q, want %q", got, tt.want)
			}
		})
	}
}
