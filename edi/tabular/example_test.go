package tabular_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/xuri/excelize/v2"
)

// An upload held in memory (or an S3 object read with ranges) takes the
// same path as a file: NewReader tells CSV from XLSX by content.
func ExampleNewReader() {
	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	f.SetSheetRow(sheet, "A1", &[]any{"Invoice_Number", "Charge_Amount"})
	f.SetSheetRow(sheet, "A3", &[]any{"INV-1", 150.75})
	var upload bytes.Buffer
	f.Write(&upload)

	for _, content := range [][]byte{upload.Bytes(), []byte("Invoice_Number,Charge_Amount\nINV-2,20\n")} {
		r, err := tabular.NewReader(bytes.NewReader(content), int64(len(content)), nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Println(r.Format, row.Number, row.Cell(r.Header.Index("charge_amount")))
		}
		r.Close()
	}
	// Output:
	// xlsx 3 150.75
	// csv 2 20
}

// A workbook past a bound is refused with an error that names the bound,
// the part and the cell.
func ExampleOptions() {
	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	f.SetCellValue(sheet, "A1", "Note")
	f.SetCellValue(sheet, "A2", strings.Repeat("x", 100))
	var upload bytes.Buffer
	f.Write(&upload)

	r, err := tabular.NewReader(bytes.NewReader(upload.Bytes()), int64(upload.Len()), &tabular.Options{MaxCellLength: 80})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	_, err = r.Next()
	fmt.Println(errors.Is(err, tabular.ErrLimit))
	fmt.Println(err)
	// Output:
	// true
	// xlsx xl/worksheets/sheet1.xml row 2 cell A2: value longer than MaxCellLength of 80 characters
}
