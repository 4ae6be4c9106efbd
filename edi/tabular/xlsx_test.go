package tabular

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// zipPart is one part of a hand-made XLSX archive, in archive order.
type zipPart struct{ name, body string }

func zipOf(t testing.TB, parts ...zipPart) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, p.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	nsMain = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	nsRels = `xmlns="http://schemas.openxmlformats.org/package/2006/relationships"`
	relDoc = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
)

// book describes a minimal workbook: its sheets in the workbook's order,
// the shared strings, the styles and the 1904 flag.
type book struct {
	sheets   []string // sheet XML bodies (inside <sheetData>), first is the first sheet
	sst      string   // <si> items, or "" for no shared strings part
	styles   string   // the styles part body, or ""
	date1904 bool
	reverse  bool // write the sheet parts into the archive last sheet first
}

func (b book) parts() []zipPart {
	var sheets, rels strings.Builder
	var sheetParts []zipPart
	for i, body := range b.sheets {
		fmt.Fprintf(&sheets, `<sheet name="S%d" sheetId="%d" r:id="rId%d"/>`, i+1, i+1, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%sworksheet" Target="worksheets/sheet%d.xml"/>`, i+1, relDoc, i+1)
		sheetParts = append(sheetParts, zipPart{fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1),
			`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet ` + nsMain + `><sheetData>` + body + `</sheetData></worksheet>`})
	}
	if b.reverse {
		for i, j := 0, len(sheetParts)-1; i < j; i, j = i+1, j-1 {
			sheetParts[i], sheetParts[j] = sheetParts[j], sheetParts[i]
		}
	}
	n := len(b.sheets)
	if b.sst != "" {
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%ssharedStrings" Target="sharedStrings.xml"/>`, n+1, relDoc)
	}
	if b.styles != "" {
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%sstyles" Target="styles.xml"/>`, n+2, relDoc)
	}
	pr := ""
	if b.date1904 {
		pr = `<workbookPr date1904="1"/>`
	}
	parts := []zipPart{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships ` + nsRels + `><Relationship Id="rId1" Type="` + relDoc + `officeDocument" Target="xl/workbook.xml"/></Relationships>`},
	}
	parts = append(parts, sheetParts...) // sheets before the workbook: the order of parts does not matter
	parts = append(parts,
		zipPart{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook ` + nsMain + `>` + pr + `<sheets>` + sheets.String() + `</sheets></workbook>`},
		zipPart{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships ` + nsRels + `>` + rels.String() + `</Relationships>`},
	)
	if b.sst != "" {
		parts = append(parts, zipPart{"xl/sharedStrings.xml", `<?xml version="1.0" encoding="UTF-8"?><sst ` + nsMain + `>` + b.sst + `</sst>`})
	}
	if b.styles != "" {
		parts = append(parts, zipPart{"xl/styles.xml", `<?xml version="1.0" encoding="UTF-8"?><styleSheet ` + nsMain + `>` + b.styles + `</styleSheet>`})
	}
	return parts
}

func (b book) zip(t testing.TB) []byte { return zipOf(t, b.parts()...) }

// readXLSX reads data with NewReader and returns the header and the rows.
func readXLSX(t *testing.T, data []byte, opts *Options) (header []string, rows [][]string, nums []int) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Format != XLSX {
		t.Fatalf("format %s", r.Format)
	}
	rows, nums, errs := readAll(t, r)
	if len(errs) > 0 {
		t.Fatalf("row errors on rows %v", errs)
	}
	return r.Header.Names, rows, nums
}

// sameAsExcelize checks that the header and rows read by NewReader are
// what excelize reads from the same file.
func sameAsExcelize(t *testing.T, data []byte, header []string, rows [][]string, nums []int) {
	t.Helper()
	xrows, xnums, err := excelizeRows(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("excelize: %v", err)
	}
	got := append([][]string{header}, rows...)
	if !equal2(got, xrows) || !equalInts(nums, xnums[1:]) {
		t.Errorf("stream   %q rows %v\nexcelize %q rows %v", got, nums, xrows, xnums)
	}
}

func TestXLSXHandMade(t *testing.T) {
	tests := []struct {
		name     string
		book     book
		wantHead []string
		wantRows [][]string
		wantNums []int
	}{
		{
			name: "inline strings, numbers, booleans, formula results, errors",
			book: book{sheets: []string{
				`<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c><c r="B1" t="inlineStr"><is><t> Amount </t></is></c><c r="C1" t="inlineStr"><is><t>Flag</t></is></c><c r="D1" t="inlineStr"><is><t>Calc</t></is></c><c r="E1" t="inlineStr"><is><t>Err</t></is></c></row>` +
					`<row r="2"><c r="A2" t="inlineStr"><is><t>Ann</t></is></c><c r="B2"><v>150.75</v></c><c r="C2" t="b"><v>1</v></c><c r="D2" t="str"><f>A2&amp;"x"</f><v>Annx</v></c><c r="E2" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>` +
					`<row r="3"><c r="A3" t="inlineStr"><is><t>Bob</t></is></c><c r="B3"><v>1.0000000000000001E-3</v></c><c r="C3" t="b"><v>0</v></c><c r="D3"><f>B3*2</f></c></row>`,
			}},
			wantHead: []string{"Name", "Amount", "Flag", "Calc", "Err"},
			wantRows: [][]string{{"Ann", "150.75", "1", "Annx", "#DIV/0!"}, {"Bob", "1.0000000000000001E-3", "0", ""}},
			wantNums: []int{2, 3},
		},
		{
			name: "shared strings: rich text runs, xml:space, escapes, phonetic runs left out",
			book: book{
				sst: `<si><t>ID</t></si><si><r><rPr><b/></rPr><t>Na</t></r><r><t xml:space="preserve">me  </t></r></si>` +
					`<si><t xml:space="preserve">  padded  </t></si><si><r><t>rich</t></r><r><t xml:space="preserve"> text</t></r><rPh sb="0" eb="1"><t>PHONETIC</t></rPh></si>` +
					`<si><t>line_x000D_break_x005F_x0041_</t></si><si/>`,
				sheets: []string{`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>` +
					`<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c></row>` +
					`<row r="3"><c r="A3" t="s"><v> 4 </v></c><c r="B3" t="s"><v>5</v></c><c r="C3" t="s"><v>99</v></c></row>`},
			},
			wantHead: []string{"ID", "Name"},
			wantRows: [][]string{{"padded", "rich text"}, {"line\rbreak_x0041_"}},
			wantNums: []int{2, 3},
		},
		{
			name: "rows and cells without r, gaps filled with empty cells",
			book: book{sheets: []string{
				`<row><c t="inlineStr"><is><t>A</t></is></c><c t="inlineStr"><is><t>B</t></is></c><c t="inlineStr"><is><t>C</t></is></c><c t="inlineStr"><is><t>D</t></is></c></row>` +
					`<row><c><v>1</v></c><c r="C2"><v>3</v></c><c><v>4</v></c></row>` +
					`<row r="5"><c r="B5"><v>2</v></c><c r="D5"/></row>` +
					`<row><c r="D6"><v>x</v></c></row>` +
					`<row r="9"><c r="$A$9"><v>9</v></c><c r="e9"><v>5</v></c></row>`,
			}},
			wantHead: []string{"A", "B", "C", "D"},
			wantRows: [][]string{{"1", "", "3", "4"}, {"", "2"}, {"", "", "", "x"}, {"9", "", "", "", "5"}},
			wantNums: []int{2, 5, 6, 9},
		},
		{
			name: "date styles and a custom date format: the stored serial, as before",
			book: book{
				styles: `<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd"/></numFmts>` +
					`<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs>`,
				sheets: []string{`<row r="1"><c r="A1" t="inlineStr"><is><t>Built_In</t></is></c><c r="B1" t="inlineStr"><is><t>Custom</t></is></c><c r="C1" t="inlineStr"><is><t>Plain</t></is></c></row>` +
					`<row r="2"><c r="A2" s="1"><v>45658</v></c><c r="B2" s="2"><v>46266.5</v></c><c r="C2"><v>45658</v></c></row>`},
			},
			wantHead: []string{"Built_In", "Custom", "Plain"},
			wantRows: [][]string{{"45658", "46266.5", "45658"}},
			wantNums: []int{2},
		},
		{
			name: "1904 date system: the stored serial, as before",
			book: book{
				date1904: true,
				styles:   `<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs>`,
				sheets:   []string{`<row r="1"><c r="A1" t="inlineStr"><is><t>Date</t></is></c></row><row r="2"><c r="A2" s="1"><v>44196</v></c></row>`},
			},
			wantHead: []string{"Date"},
			wantRows: [][]string{{"44196"}},
			wantNums: []int{2},
		},
		{
			name: "the first sheet is not the first sheet part in the archive",
			book: book{reverse: true, sheets: []string{
				`<row r="1"><c r="A1" t="inlineStr"><is><t>First</t></is></c></row><row r="2"><c r="A2"><v>1</v></c></row>`,
				`<row r="1"><c r="A1" t="inlineStr"><is><t>Second</t></is></c></row><row r="2"><c r="A2"><v>2</v></c></row>`,
			}},
			wantHead: []string{"First"},
			wantRows: [][]string{{"1"}},
			wantNums: []int{2},
		},
		{
			name: "blank rows before the header and between rows, other elements skipped",
			book: book{sheets: []string{
				`<row r="2" spans="1:2"><c r="A2" t="inlineStr"><is><t>  </t></is></c></row><row r="3"><c r="A3" t="inlineStr"><is><t>H</t></is></c><extLst><ext/></extLst></row>` +
					`<row r="4"/><row r="7"><c r="A7"><v>7</v><extLst/></c></row>`,
			}},
			wantHead: []string{"H"},
			wantRows: [][]string{{"7"}},
			wantNums: []int{7},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.book.zip(t)
			head, rows, nums := readXLSX(t, data, nil)
			if !reflect.DeepEqual(head, tt.wantHead) || !equal2(rows, tt.wantRows) || !equalInts(nums, tt.wantNums) {
				t.Errorf("got header %q rows %q nums %v\nwant header %q rows %q nums %v", head, rows, nums, tt.wantHead, tt.wantRows, tt.wantNums)
			}
			sameAsExcelize(t, data, head, rows, nums)
		})
	}
}

// TestXLSXWrittenByExcelize reads workbooks excelize writes and compares
// every cell with what excelize reads back.
func TestXLSXWrittenByExcelize(t *testing.T) {
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		write func(f *excelize.File, sheet string)
		want  [][]string // header then rows; nil: compare with excelize only
	}{
		{"values of every kind", func(f *excelize.File, sheet string) {
			must(f.SetSheetRow(sheet, "A1", &[]any{"Str", "Int", "Float", "Bool", "Date", "Time", "Formula"}))
			must(f.SetSheetRow(sheet, "A2", &[]any{" spaced ", 42, 150.75, true, time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 1, 12, 30, 0, 0, time.UTC)}))
			must(f.SetCellFormula(sheet, "G2", "B2*2"))
			must(f.SetSheetRow(sheet, "A3", &[]any{"0012", -1e-7, 1.0 / 3, false}))
		}, nil},
		{"rich text and shared strings", func(f *excelize.File, sheet string) {
			must(f.SetCellValue(sheet, "A1", "Note"))
			must(f.SetCellRichText(sheet, "A2", []excelize.RichTextRun{{Text: "bold ", Font: &excelize.Font{Bold: true}}, {Text: "plain"}}))
			must(f.SetCellValue(sheet, "A3", "Note"))
			must(f.SetCellValue(sheet, "A4", "line\r\nbreak"))
		}, [][]string{{"Note"}, {"bold plain"}, {"Note"}, {"line\r\nbreak"}}},
		{"gaps and a sheet that is not Sheet1 first", func(f *excelize.File, sheet string) {
			must(f.SetSheetName(sheet, "Invoices"))
			_, err := f.NewSheet("Other")
			must(err)
			must(f.SetCellValue("Other", "A1", "wrong sheet"))
			must(f.SetCellValue("Invoices", "B2", "Head"))
			must(f.SetCellValue("Invoices", "D2", "Tail"))
			must(f.SetCellValue("Invoices", "D40", 7))
			must(f.SetCellValue("Invoices", "A41", 8))
		}, [][]string{{"", "Head", "", "Tail"}, {"", "", "", "7"}, {"8"}}},
		{"date styles", func(f *excelize.File, sheet string) {
			must(f.SetCellValue(sheet, "A1", "Date"))
			must(f.SetCellValue(sheet, "A2", 45658))
			style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
			must(err)
			must(f.SetCellStyle(sheet, "A2", "A2", style))
			custom := "yyyy-mm-dd"
			style, err = f.NewStyle(&excelize.Style{CustomNumFmt: &custom})
			must(err)
			must(f.SetCellValue(sheet, "A3", 46266))
			must(f.SetCellStyle(sheet, "A3", "A3", style))
		}, [][]string{{"Date"}, {"45658"}, {"46266"}}},
		{"stream writer", func(f *excelize.File, sheet string) {
			sw, err := f.NewStreamWriter(sheet)
			must(err)
			must(sw.SetRow("A1", []any{"ID", "Name", "Amount"}))
			for i := 2; i <= 50; i++ {
				must(sw.SetRow(fmt.Sprintf("A%d", i), []any{i, fmt.Sprintf("name %d", i), float64(i) * 1.25}))
			}
			must(sw.Flush())
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := excelize.NewFile()
			tt.write(f, f.GetSheetName(0))
			var buf bytes.Buffer
			must(f.Write(&buf))
			data := buf.Bytes()
			head, rows, nums := readXLSX(t, data, nil)
			if tt.want != nil {
				if got := append([][]string{head}, rows...); !equal2(got, tt.want) {
					t.Errorf("got %q\nwant %q", got, tt.want)
				}
			}
			sameAsExcelize(t, data, head, rows, nums)
		})
	}
}

func TestXLSXBadCellReference(t *testing.T) {
	data := book{sheets: []string{
		`<row r="1"><c r="A1" t="inlineStr"><is><t>H</t></is></c></row>` +
			`<row r="2"><c r="A2"><v>1</v></c><c r="2B"><v>2</v></c><c r="C2"><v>3</v></c></row>` +
			`<row r="3"><c r="A3"><v>4</v></c></row>`,
	}}.zip(t)
	r, err := NewReader(bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, nums, errs := readAll(t, r)
	if !equal2(rows, [][]string{{"4"}}) || !equalInts(nums, []int{3}) || !equalInts(errs, []int{2}) {
		t.Errorf("rows %q nums %v row errors %v, want [[4]] [3] [2]", rows, nums, errs)
	}
}

func TestXLSXNotAWorkbook(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated zip", []byte("PK\x03\x04 not really a zip"), "not a CSV or XLSX file"},
		{"zip without a workbook", zipOf(t, zipPart{"hello.txt", "hi"}), "no workbook part"},
		{"workbook without sheets", zipOf(t, zipPart{"xl/workbook.xml", `<workbook ` + nsMain + `><sheets/></workbook>`}), "workbook has no sheets"},
		{"sheet without a part", zipOf(t, zipPart{"xl/workbook.xml", `<workbook ` + nsMain + `><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`}), `sheet "S"`},
		{"empty sheet", book{sheets: []string{""}}.zip(t), "no header row"},
		{"truncated sheet XML", zipOf(t, append(book{sheets: []string{""}}.parts()[:2], zipPart{"xl/workbook.xml", `<workbook ` + nsMain + `><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`},
			zipPart{"xl/_rels/workbook.xml.rels", `<Relationships ` + nsRels + `><Relationship Id="rId1" Type="` + relDoc + `worksheet" Target="/xl/worksheets/sheet1.xml"/></Relationships>`},
			zipPart{"xl/worksheets/sheet1.xml", `<worksheet><sheetData><row><c t="inlineStr"><is><t>H</t></is></c></row><row><c><v>2</v></c><c><v>3`})...), "xl/worksheets/sheet1.xml: unexpected EOF"},
		{"mismatched sheet XML", book{sheets: []string{`<row><c t="inlineStr"><is><t>H</t></is></c></row><row><c><v>2</c></row>`}}.zip(t), "xl/worksheets/sheet1.xml"},
		{"UTF-16 part", zipOf(t, zipPart{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-16"?><workbook/>`}), "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.data), int64(len(tt.data)), nil)
			for err == nil {
				_, err = r.Next()
				var re *RowError
				if errors.As(err, &re) {
					err = nil
				}
			}
			if err == io.EOF || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

// TestNewReaderSniffs reads the same rows as CSV and as XLSX through
// NewReader, and the XLSX file through Open and OpenXLSX.
func TestNewReaderSniffs(t *testing.T) {
	csv := []byte("ID,Name\n1,Ann\n")
	xlsx := book{sheets: []string{`<row><c t="inlineStr"><is><t>ID</t></is></c><c t="inlineStr"><is><t>Name</t></is></c></row><row><c><v>1</v></c><c t="inlineStr"><is><t>Ann</t></is></c></row>`}}.zip(t)
	path := filepath.Join(t.TempDir(), "in.csv") // the name lies: content decides
	if err := os.WriteFile(path, xlsx, 0o644); err != nil {
		t.Fatal(err)
	}
	open := map[string]func() (*Reader, error){
		"NewReader CSV":  func() (*Reader, error) { return NewReader(bytes.NewReader(csv), int64(len(csv)), nil) },
		"NewReader XLSX": func() (*Reader, error) { return NewReader(bytes.NewReader(xlsx), int64(len(xlsx)), nil) },
		"Open XLSX":      func() (*Reader, error) { return Open(path) },
		"OpenXLSX":       func() (*Reader, error) { return OpenXLSX(path) },
	}
	for name, open := range open {
		t.Run(name, func(t *testing.T) {
			r, err := open()
			if err != nil {
				t.Fatal(err)
			}
			rows, nums, _ := readAll(t, r)
			if !reflect.DeepEqual(r.Header.Names, []string{"ID", "Name"}) || !equal2(rows, [][]string{{"1", "Ann"}}) || !equalInts(nums, []int{2}) {
				t.Errorf("%s: header %q rows %q nums %v", r.Format, r.Header.Names, rows, nums)
			}
			if err := r.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestUnescapeOOXML(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                 "plain",
		"a_x000D_b":             "a\rb",
		"_x005F_x0041_":         "_x0041_",
		"_x0041__x0042_":        "AB",
		"_xD800_ surrogate":     " surrogate",
		"_x00zz_ not hex _x12_": "_x00zz_ not hex _x12_",
	} {
		if got := unescapeOOXML(in); got != want {
			t.Errorf("unescapeOOXML(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRefColumn(t *testing.T) {
	for ref, want := range map[string]int{"A1": 1, "Z9": 26, "AA1": 27, "$C$7": 3, "xfd1": 16384, "XFE1": 16385, "ZZZZZZ1": 16385, "A1048576": 1,
		"": 0, "1A": 0, "A": 0, "A0": 0, "A1048577": 0, "A1B": 0, "A-1": 0} {
		got, ok := refColumn(ref)
		if got != want || ok != (want > 0) {
			t.Errorf("refColumn(%q) = %d %v, want %d", ref, got, ok, want)
		}
	}
	for n, want := range map[int]string{1: "A", 26: "Z", 27: "AA", 703: "AAA", 16384: "XFD"} {
		if got := columnName(n); got != want {
			t.Errorf("columnName(%d) = %q, want %q", n, got, want)
		}
	}
}

// A workbook in the 1904 date system (workbookPr date1904, an xsd:boolean)
// says so on its header, so that its date serials are read from 1904-01-01.
func TestXLSXDate1904Flag(t *testing.T) {
	sheet := `<row r="1"><c r="A1" t="inlineStr"><is><t>Date</t></is></c></row><row r="2"><c r="A2"><v>44804</v></c></row>`
	for _, tt := range []struct {
		name string
		pr   string // the workbookPr element, "" for none
		want bool
	}{
		{"no workbookPr", "", false},
		{"workbookPr without date1904", `<workbookPr defaultThemeVersion="124226"/>`, false},
		{"date1904 1", `<workbookPr date1904="1"/>`, true},
		{"date1904 true", `<workbookPr date1904="true"/>`, true},
		{"date1904 0", `<workbookPr date1904="0"/>`, false},
		{"date1904 false", `<workbookPr date1904="false"/>`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parts := book{sheets: []string{sheet}}.parts()
			for i := range parts {
				if parts[i].name == "xl/workbook.xml" {
					parts[i].body = strings.Replace(parts[i].body, "<sheets>", tt.pr+"<sheets>", 1)
				}
			}
			data := zipOf(t, parts...)
			r, err := NewReader(bytes.NewReader(data), int64(len(data)), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Header.Date1904 != tt.want {
				t.Errorf("Header.Date1904 = %v, want %v", r.Header.Date1904, tt.want)
			}
			row, err := r.Next()
			if err != nil || row.Cell(0) != "44804" {
				t.Errorf("row %v %v: the stored serial is returned as it is", row, err)
			}
		})
	}
	r, err := NewCSV(strings.NewReader("Date\n2026-09-01\n"))
	if err != nil || r.Header.Date1904 {
		t.Errorf("CSV header Date1904 %v, %v", r.Header.Date1904, err)
	}
}
