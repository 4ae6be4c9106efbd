package authfeed

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// FuzzJSONLinesFeed feeds arbitrary JSON lines through the feed reader
// (within small limits, so that memory stays small; a line past them
// stops the reading with a limit error naming a later line) and the
// authorization decoder. It must not panic, rows must come in
// increasing order, and a row decoded without errors must be an
// authorization the rules can use.
func FuzzJSONLinesFeed(f *testing.F) {
	if b, err := os.ReadFile(filepath.Clean("../../testdata/enrollment/auth-feed.jsonl")); err == nil {
		f.Add(b)
	}
	f.Add([]byte("{\"member_cin\": 1e400, \"units_authorized\": null}\n{\"a\":[1]}\n{"))
	d := &Decoder{Coding: rules.DefaultCodingTable(), Tables: rules.DefaultTables(), Data: rules.DefaultEligibilityTables(), File: "fuzz.jsonl"}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || data[0] != '{' {
			data = append([]byte{'{'}, data...) // read as JSON lines, not CSV
		}
		p := filepath.Join(dir, "feed.jsonl")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rows, err := OpenRowsWith(p, &tabular.Options{MaxRecordBytes: 4 << 10, MaxColumns: 256}) // small limits: memory stays small
		if err != nil {
			return
		}
		defer rows.Close()
		if rows.Format != "jsonl" {
			t.Fatalf("read as %s", rows.Format)
		}
		last := 0
		var a domain.Authorization
		for {
			rec, n, err := rows.Next()
			if err == io.EOF {
				return
			}
			var re *RowError
			if errors.As(err, &re) {
				continue
			}
			var le *tabular.LimitError
			if errors.As(err, &le) && (le.Part != "jsonl" || le.Row <= last) {
				t.Fatalf("limit error %v after row %d", le, last)
			}
			if err != nil {
				return
			}
			if n <= last {
				t.Fatalf("row %d after row %d", n, last)
			}
			last = n
			if fs := d.Decode(rec, n, &a); !HasError(fs) {
				if a.CIN == "" || !a.From.Valid() || (a.To != 0 && a.To < a.From) {
					t.Fatalf("accepted an impossible authorization: %+v", a)
				}
			}
		}
	})
}
