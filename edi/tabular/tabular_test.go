package tabular

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func readAll(t *testing.T, r *Reader) (rows [][]string, nums []int, rowErrs []int) {
	t.Helper()
	for {
		row, err := r.Next()
		if err == io.EOF {
			return
		}
		var re *RowError
		if errors.As(err, &re) {
			rowErrs = append(rowErrs, re.Row)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, append([]string(nil), row.Cells...))
		nums = append(nums, row.Number)
	}
}

func TestCSVEdgeCases(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantRows [][]string
		wantNums []int
		wantErrs []int
	}{
		{
			name:     "BOM and CRLF",
			in:       "\xef\xbb\xbfA,B\r\n1,2\r\n3,4\r\n",
			wantRows: [][]string{{"1", "2"}, {"3", "4"}},
			wantNums: []int{2, 3},
		},
		{
			name:     "quoted comma, quote and newline",
			in:       "A,B\n\"x, y\",\"say \"\"hi\"\"\"\n\"multi\nline\",z\nlast,row\n",
			wantRows: [][]string{{"x, y", `say "hi"`}, {"multi\nline", "z"}, {"last", "row"}},
			wantNums: []int{2, 3, 5},
		},
		{
			name:     "blank trailing rows and short rows",
			in:       "A,B,C\n1,2\n,,\n\n  ,  \n",
			wantRows: [][]string{{"1", "2"}},
			wantNums: []int{2},
		},
		{
			name:     "blank rows before header",
			in:       "\n,,\nA,B\n1,2\n",
			wantRows: [][]string{{"1", "2"}},
			wantNums: []int{4},
		},
		{
			name:     "stray quote is a row error, the reader goes on",
			in:       "A,B\n1,2\n3,\"4\"x\n5,6\n",
			wantRows: [][]string{{"1", "2"}, {"5", "6"}},
			wantNums: []int{2, 4},
			wantErrs: []int{3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewCSV(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			rows, nums, errs := readAll(t, r)
			if !equal2(rows, tt.wantRows) || !equalInts(nums, tt.wantNums) || !equalInts(errs, tt.wantErrs) {
				t.Errorf("got rows %q nums %v errs %v\nwant rows %q nums %v errs %v", rows, nums, errs, tt.wantRows, tt.wantNums, tt.wantErrs)
			}
		})
	}
}

func TestHeaderCaseInsensitive(t *testing.T) {
	r, err := NewCSV(strings.NewReader(" Member_CIN ,HCPCS,,hcpcs\n1,2,3,4\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Header.Index("member_cin") != 0 || r.Header.Index("Hcpcs") != 1 || r.Header.Index("missing") != -1 {
		t.Errorf("index: %v", r.Header.index)
	}
	if d := r.Header.Duplicates(); len(d) != 1 || !strings.EqualFold(d[0], "hcpcs") {
		t.Errorf("duplicates = %v", d)
	}
}

func TestNotTabular(t *testing.T) {
	for name, in := range map[string]string{
		"binary": "\x00\x01\x02\x03 binary",
		"empty":  "",
		"blank":  "\n\n",
	} {
		if _, err := NewCSV(strings.NewReader(in)); !errors.Is(err, ErrNotTabular) {
			t.Errorf("%s: err = %v, want ErrNotTabular", name, err)
		}
	}
}

func TestXLSX(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.xlsx")
	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetRow(sheet, "A1", &[]any{"Invoice_Number", "Service_From", "Charge_Amount"}))
	must(f.SetSheetRow(sheet, "A2", &[]any{"INV-1", "2026-01-15", 150.75}))
	// Row 3 left empty; a real date cell on row 4.
	must(f.SetCellValue(sheet, "A4", "INV-2"))
	must(f.SetCellValue(sheet, "B4", 45658)) // a date serial
	style, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	must(f.SetCellStyle(sheet, "B4", "B4", style))
	must(f.SetCellValue(sheet, "C4", 20))
	must(f.SaveAs(path))

	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Format != XLSX || r.Header.Index("service_from") != 1 {
		t.Fatalf("format %s header %v", r.Format, r.Header.Names)
	}
	rows, nums, _ := readAll(t, r)
	want := [][]string{{"INV-1", "2026-01-15", "150.75"}, {"INV-2", "45658", "20"}}
	if !equal2(rows, want) || !equalInts(nums, []int{2, 4}) {
		t.Errorf("rows %q nums %v, want %q [2 4]", rows, nums, want)
	}
}

func TestOpenDetectsCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.xlsx") // the name lies: content decides
	os.WriteFile(path, []byte("a,b\n1,2\n"), 0o644)
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Format != CSV {
		t.Errorf("format = %s", r.Format)
	}
}

func equal2(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") {
			return false
		}
	}
	return true
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestHeaderColumns(t *testing.T) {
	h := newHeader([]string{" Member_CIN ", "units", "Note", "units"})
	col, missing := h.Columns([]string{"member_cin", "hcpcs", "units", "service_from"}, []string{"note", "modifiers"})
	if want := map[string]int{"member_cin": 0, "units": 1, "note": 2}; !reflect.DeepEqual(col, want) {
		t.Errorf("columns %v, want %v", col, want)
	}
	if want := []string{"hcpcs", "service_from"}; !reflect.DeepEqual(missing, want) {
		t.Errorf("missing %v, want %v", missing, want)
	}
}
