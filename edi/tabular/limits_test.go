package tabular

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"testing"
)

// firstError reads data to the end and returns the first error that stops
// the reader (from NewReader or Next), or nil.
func firstError(data []byte, opts *Options) error {
	r, err := NewReader(bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		_, err := r.Next()
		var re *RowError
		switch {
		case err == io.EOF:
			return nil
		case errors.As(err, &re):
		case err != nil:
			return err
		}
	}
}

// lyingZip is a workbook whose sheet part declares an uncompressed size of
// declared bytes but inflates to the whole sheet.
func lyingZip(t *testing.T, sheet string, declared uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range (book{sheets: []string{sheet}}).parts() {
		if p.name != "xl/worksheets/sheet1.xml" {
			w, err := zw.Create(p.name)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, p.body)
			continue
		}
		var deflated bytes.Buffer
		fw, _ := flate.NewWriter(&deflated, flate.BestCompression)
		io.WriteString(fw, p.body)
		fw.Close()
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: p.name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE([]byte(p.body)),
			CompressedSize64: uint64(deflated.Len()), UncompressedSize64: declared,
		})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(deflated.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLimits(t *testing.T) {
	header := `<row r="1"><c r="A1" t="inlineStr"><is><t>H</t></is></c></row>`
	bomb := header + strings.Repeat(`<row><c><v>0</v></c></row>`, 40000) // ~1 MB inflating from a few KB
	tests := []struct {
		name string
		data []byte
		opts *Options
		want LimitError
	}{
		{"zip bomb: the sheet inflates past MaxPartSize", book{sheets: []string{bomb}}.zip(t), &Options{MaxPartSize: 64 << 10},
			LimitError{Limit: "MaxPartSize", Max: 64 << 10, Part: "xl/worksheets/sheet1.xml", Item: -1}},
		{"a declared size that lies", lyingZip(t, bomb, 1000), nil,
			LimitError{Limit: "declared size", Max: 1000, Part: "xl/worksheets/sheet1.xml", Item: -1}},
		{"a declared size that lies under MaxPartSize", lyingZip(t, bomb, 1000), &Options{MaxPartSize: 64 << 10},
			LimitError{Limit: "declared size", Max: 1000, Part: "xl/worksheets/sheet1.xml", Item: -1}},
		{"too many rows", book{sheets: []string{header + `<row r="2"><c><v>1</v></c></row><row r="4"><c><v>1</v></c></row>`}}.zip(t), &Options{MaxRows: 3},
			LimitError{Limit: "MaxRows", Max: 3, Part: "xl/worksheets/sheet1.xml", Row: 4, Item: -1}},
		{"too many rows without r", book{sheets: []string{header + strings.Repeat(`<row><c><v>1</v></c></row>`, 3)}}.zip(t), &Options{MaxRows: 3},
			LimitError{Limit: "MaxRows", Max: 3, Part: "xl/worksheets/sheet1.xml", Row: 4, Item: -1}},
		{"a row past Excel's grid, by default", book{sheets: []string{header + `<row r="1048577"><c><v>1</v></c></row>`}}.zip(t), nil,
			LimitError{Limit: "MaxRows", Max: 1 << 20, Part: "xl/worksheets/sheet1.xml", Row: 1048577, Item: -1}},
		{"a column past MaxColumns", book{sheets: []string{header + `<row r="2"><c r="A2"><v>1</v></c><c r="D2"><v>1</v></c></row>`}}.zip(t), &Options{MaxColumns: 3},
			LimitError{Limit: "MaxColumns", Max: 3, Part: "xl/worksheets/sheet1.xml", Row: 2, Cell: "D2", Item: -1}},
		{"empty cells without r past MaxColumns", book{sheets: []string{header + `<row r="2">` + strings.Repeat(`<c/>`, 4) + `</row>`}}.zip(t), &Options{MaxColumns: 3},
			LimitError{Limit: "MaxColumns", Max: 3, Part: "xl/worksheets/sheet1.xml", Row: 2, Cell: "D2", Item: -1}},
		{"a column past Excel's grid, by default", book{sheets: []string{header + `<row r="2"><c r="XFE2"><v>1</v></c></row>`}}.zip(t), nil,
			LimitError{Limit: "MaxColumns", Max: 1 << 14, Part: "xl/worksheets/sheet1.xml", Row: 2, Cell: "XFE2", Item: -1}},
		{"cells that go back, more than MaxColumns", book{sheets: []string{header + `<row r="2">` + strings.Repeat(`<c r="A2"><v>1</v></c>`, 4) + `</row>`}}.zip(t), &Options{MaxColumns: 3},
			LimitError{Limit: "MaxColumns", Max: 3, Part: "xl/worksheets/sheet1.xml", Row: 2, Cell: "A2", Item: -1}},
		{"a huge inline cell", book{sheets: []string{header + `<row r="2"><c r="B2" t="inlineStr"><is><t>12345678901</t></is></c></row>`}}.zip(t), &Options{MaxCellLength: 10},
			LimitError{Limit: "MaxCellLength", Max: 10, Part: "xl/worksheets/sheet1.xml", Row: 2, Cell: "B2", Item: -1}},
		{"a huge shared string cell", book{sst: `<si><t>H</t></si><si><t>12345678901</t></si>`, sheets: []string{`<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="C2" t="s"><v>1</v></c></row>`}}.zip(t), &Options{MaxCellLength: 10},
			LimitError{Limit: "MaxCellLength", Max: 10, Part: "xl/worksheets/sheet1.xml", Row: 2, Cell: "C2", Item: -1}},
		{"a huge header cell", book{sheets: []string{`<row r="1"><c r="A1"><v>` + strings.Repeat("9", 40000) + `</v></c></row>`}}.zip(t), nil,
			LimitError{Limit: "MaxCellLength", Max: 32767, Part: "xl/worksheets/sheet1.xml", Row: 1, Cell: "A1", Item: -1}},
		{"spaces between rows past MaxTokenSize", book{sheets: []string{header + strings.Repeat(" ", 5000) + `<row r="2"><c><v>1</v></c></row>`}}.zip(t), &Options{MaxTokenSize: 1000},
			LimitError{Limit: "MaxTokenSize", Max: 1000, Part: "xl/worksheets/sheet1.xml", Item: -1}},
		{"a comment past MaxTokenSize", book{sheets: []string{header + "<!--" + strings.Repeat("<a>", 2000) + "-->"}}.zip(t), &Options{MaxTokenSize: 1000},
			LimitError{Limit: "MaxTokenSize", Max: 1000, Part: "xl/worksheets/sheet1.xml", Item: -1}},
		{"a tag past MaxTokenSize", book{sheets: []string{header + `<row r="2" x="` + strings.Repeat("y", 2000) + `"/>`}}.zip(t), &Options{MaxTokenSize: 1000},
			LimitError{Limit: "MaxTokenSize", Max: 1000, Part: "xl/worksheets/sheet1.xml", Item: -1}},
		{"a shared string past MaxTokenSize", book{sst: `<si><t>` + strings.Repeat("x", 2000) + `</t></si>`, sheets: []string{header}}.zip(t), &Options{MaxTokenSize: 1000},
			LimitError{Limit: "MaxTokenSize", Max: 1000, Part: "xl/sharedStrings.xml", Item: -1}},
		{"a 2 MB run of spaces, by default", book{sheets: []string{header + strings.Repeat(" ", 2<<20)}}.zip(t), nil,
			LimitError{Limit: "MaxTokenSize", Max: 1 << 20, Part: "xl/worksheets/sheet1.xml", Item: -1}},
		{"shared strings past MaxSharedStrings", book{sst: strings.Repeat(`<si><t>0123456789</t></si>`, 10), sheets: []string{header}}.zip(t), &Options{MaxSharedStrings: 100},
			LimitError{Limit: "MaxSharedStrings", Max: 100, Part: "xl/sharedStrings.xml", Item: 3}},
		{"empty shared strings count too", book{sst: strings.Repeat(`<si/>`, 10), sheets: []string{header}}.zip(t), &Options{MaxSharedStrings: 100},
			LimitError{Limit: "MaxSharedStrings", Max: 100, Part: "xl/sharedStrings.xml", Item: 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := firstError(tt.data, tt.opts)
			var le *LimitError
			if !errors.As(err, &le) || !errors.Is(err, ErrLimit) {
				t.Fatalf("err = %v, want a *LimitError", err)
			}
			if *le != tt.want {
				t.Errorf("limit error %+v\nwant        %+v", *le, tt.want)
			}
			for _, s := range []string{tt.want.Part, tt.want.Cell} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
			if tt.want.Limit != "declared size" && !strings.Contains(err.Error(), tt.want.Limit) {
				t.Errorf("error %q does not name %s", err, tt.want.Limit)
			}
		})
	}
}

// TestLimitsAtTheBound reads files just within each bound.
func TestLimitsAtTheBound(t *testing.T) {
	data := book{sst: `<si><t>H</t></si><si><t>éééééééééé</t></si>`, sheets: []string{
		`<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="3"><c r="C3" t="s"><v>1</v></c></row>`,
	}}.zip(t)
	opts := &Options{MaxRows: 3, MaxColumns: 3, MaxCellLength: 10, MaxSharedStrings: 1 + 20 + 2*sharedStringOverhead, MaxPartSize: 1 << 10}
	if err := firstError(data, opts); err != nil {
		t.Fatal(err)
	}
	_, rows, _ := readXLSX(t, data, opts)
	if !equal2(rows, [][]string{{"", "", "éééééééééé"}}) {
		t.Errorf("rows %q", rows)
	}
}

// TestPartCountsInflatedBytes checks the guard on the bytes read from a
// part, which holds even when the archive's own check would not.
func TestPartCountsInflatedBytes(t *testing.T) {
	p := &part{name: "xl/worksheets/sheet1.xml", rc: io.NopCloser(strings.NewReader(strings.Repeat("x", 100))), declared: 10, max: 64}
	n, err := io.Copy(io.Discard, p)
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "MaxPartSize" || n > 64 {
		t.Errorf("read %d bytes, err %v; want at most 64 and MaxPartSize", n, err)
	}
}

// A CSV record past MaxRecordBytes or MaxColumns stops the reading with a
// *LimitError naming the limit and the line the record starts on; a
// record at the limits is read, quoted commas and line breaks included.
func TestCSVLimits(t *testing.T) {
	const head = "a,b,c\n" // 6 bytes, 3 fields
	tests := []struct {
		name, body string
		limit      string // "" = read whole
		line       int
	}{
		{"at both limits", "1,2,3\n\"\n\",,\n", "", 0},
		{"one field too many", "1,2,3\n1,2,3,4\n", "MaxColumns", 3},
		{"a record one byte too long", "1,2,3\n1,2,33\n", "MaxRecordBytes", 3},
		{"a quoted line break counts in its record", "\"1\n2\",2\n", "MaxRecordBytes", 2},
		{"one line without commas", "12345678901234567890\n", "MaxRecordBytes", 2},
	}
	for _, tt := range tests {
		r, err := NewCSVWith(strings.NewReader(head+tt.body), &Options{MaxRecordBytes: 6, MaxColumns: 3})
		for err == nil {
			_, err = r.Next()
		}
		var le *LimitError
		if tt.limit == "" {
			if err != io.EOF {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if !errors.As(err, &le) || le.Limit != tt.limit || le.Row != tt.line || !strings.Contains(err.Error(), fmt.Sprintf("csv line %d", tt.line)) {
			t.Errorf("%s: %v (%+v)", tt.name, err, le)
		}
	}
}
