package tabular

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"unicode/utf8"
)

// FuzzXLSX reads arbitrary input as a workbook: as the whole file when it
// starts like a ZIP archive, else as the XML inside the first sheet's
// <sheetData> of a small workbook with shared strings. The reader must not
// panic and must stay within its bounds: each row numbered above the last
// and at most MaxRows, at most MaxColumns cells of at most MaxCellLength
// characters, and no more calls to Next than rows.
func FuzzXLSX(f *testing.F) {
	f.Add(book{sst: `<si><t>H</t></si><si><r><t>a</t></r><r><t xml:space="preserve"> b</t></r></si>`, sheets: []string{
		`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>I</t></is></c></row><row r="3"><c r="B3" t="s"><v>1</v></c><c t="b"><v>1</v></c></row>`,
	}}.zip(f))
	f.Add(book{reverse: true, sheets: []string{`<row><c><v>1</v></c><c r="D1"><f>A1</f></c></row><row><c t="e"><v>#N/A</v></c></row>`, `<row/>`}}.zip(f))
	f.Add([]byte(`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="str"><v>x</v></c></row><row><c><v>45658</v></c><c r="XFD2"><v>1</v></c></row>`))
	f.Add([]byte(`<row><c t="inlineStr"><is><t>_x0041_</t><r><t>b</t></r></is></c></row><row r="1048576"><c r="A1"><v>1</v></c></row>`))
	f.Add([]byte(`<row><c r="A1"><v>1</v></c><c r="A1"><v>2</v></c><c r="1A"/></row><row r="0"><c><v>1</c></row>`))
	opts := &Options{MaxPartSize: 1 << 20, MaxSharedStrings: 1 << 16, MaxRows: 1000, MaxColumns: 64, MaxCellLength: 256, MaxTokenSize: 4096}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !bytes.HasPrefix(data, []byte("PK")) {
			data = book{sst: `<si><t>H</t></si><si><t>s</t></si>`, sheets: []string{string(data)}}.zip(t)
		}
		r, err := NewReader(bytes.NewReader(data), int64(len(data)), opts)
		if err != nil {
			return
		}
		defer r.Close()
		if len(r.Header.Names) > opts.MaxColumns {
			t.Fatalf("header of %d columns", len(r.Header.Names))
		}
		last := 0
		for calls := 1; ; calls++ {
			if calls > opts.MaxRows+1 {
				t.Fatalf("%d calls to Next", calls)
			}
			row, err := r.Next()
			var re *RowError
			if errors.As(err, &re) {
				row.Number = re.Row
			} else if err == io.EOF {
				return
			} else if err != nil {
				return
			}
			if row.Number <= last || row.Number > opts.MaxRows {
				t.Fatalf("row %d after row %d", row.Number, last)
			}
			last = row.Number
			if len(row.Cells) > opts.MaxColumns {
				t.Fatalf("row %d has %d cells", row.Number, len(row.Cells))
			}
			for _, c := range row.Cells {
				if utf8.RuneCountInString(c) > opts.MaxCellLength {
					t.Fatalf("row %d: a cell of %d characters", row.Number, utf8.RuneCountInString(c))
				}
			}
		}
	})
}
