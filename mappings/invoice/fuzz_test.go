package invoice

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
)

// FuzzInvoiceReader feeds arbitrary bytes through the CSV reader and the
// invoice decoder. Whatever the input, they must not panic, rows must come
// in increasing order, and a line decoded without problems must hold
// values the 837P can carry.
func FuzzInvoiceReader(f *testing.F) {
	for _, p := range []string{"../../internal/demo/data/invoices/bay-street-housing-2026-09.csv", "../../internal/demo/data/invoices/golden-state-ecm-2026-09.csv", "../../testdata/invoices/invoice-template.csv"} {
		if b, err := os.ReadFile(filepath.Clean(p)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("\xef\xbb\xbfinvoice_number,hcpcs\r\n\"a\"\"b\",x\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := tabular.NewCSV(bytes.NewReader(data))
		if err != nil {
			return
		}
		dec, err := NewDecoder(r.Header, tabular.CSV, "fuzz.csv")
		if err != nil {
			if !errors.Is(err, ErrNotInvoice) {
				t.Fatalf("NewDecoder error is not ErrNotInvoice: %v", err)
			}
			return
		}
		last := 0
		var l domain.InvoiceLine
		for {
			row, err := r.Next()
			if err == io.EOF {
				return
			}
			var re *tabular.RowError
			if errors.As(err, &re) {
				continue
			}
			if err != nil {
				return
			}
			if row.Number <= last {
				t.Fatalf("row %d after row %d", row.Number, last)
			}
			last = row.Number
			if ps := dec.Decode(row, &l); len(ps) == 0 {
				if l.Charge < 0 || l.Units <= 0 || !l.From.Valid() || !l.To.Valid() || !l.Member.DOB.Valid() || len(l.Modifiers) > 4 || len(l.InvoiceNumber) > 38 {
					t.Fatalf("accepted an impossible line: %+v", l)
				}
				if l.HCPCS == "" && l.Service == "" {
					t.Fatal("accepted a line with neither code nor service")
				}
			}
		}
	})
}
