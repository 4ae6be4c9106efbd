package roster

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// FuzzRosterReader feeds arbitrary bytes through the CSV reader (within
// small limits, so that memory stays small) and the roster decoder. It must
// not panic, and a site decoded without problems must hold what the 274
// and the rules need.
func FuzzRosterReader(f *testing.F) {
	for _, p := range []string{"../../internal/demo/data/roster.csv", "../../testdata/roster/sample-roster.csv", "../../testdata/roster/bad-roster.csv"} {
		if b, err := os.ReadFile(filepath.Clean(p)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("npi,tin\n\"1\"\"2\",3\n"))
	tables := Tables{Rules: rules.DefaultTables(), Coding: rules.DefaultCodingTable()}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := tabular.NewCSVWith(bytes.NewReader(data), &tabular.Options{MaxRecordBytes: 64 << 10, MaxColumns: 256})
		if err != nil {
			return
		}
		dec, err := NewDecoder(r.Header, tabular.CSV, "fuzz.csv", tables)
		if err != nil {
			if !errors.Is(err, ErrNotRoster) {
				t.Fatalf("NewDecoder error is not ErrNotRoster: %v", err)
			}
			return
		}
		var s Site
		for {
			row, err := r.Next()
			if err != nil {
				var re *tabular.RowError
				if errors.As(err, &re) {
					continue
				}
				return
			}
			if ps := dec.Decode(row, &s); len(ps) == 0 {
				if len(s.NPI) != 10 || len(s.TIN) != 9 || (len(s.Address.Zip) != 5 && len(s.Address.Zip) != 9) || !s.From.Valid() ||
					(s.To != 0 && s.To < s.From) || len(s.POFs)+len(s.CommunitySupports) == 0 {
					t.Fatalf("accepted an impossible site: %+v", s)
				}
			}
		}
	})
}
