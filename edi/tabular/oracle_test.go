package tabular

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// excelizeRows reads the first sheet of a workbook with excelize, as the
// package did before it had its own reader: raw cell values, trimmed, with
// the sheet row numbers. It is the independent oracle the XLSX tests and the
// benchmark compare the streaming reader with.
func excelizeRows(in io.Reader) (rows [][]string, nums []int, err error) {
	f, err := excelize.OpenReader(in, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, nil, fmt.Errorf("workbook has no sheets")
	}
	it, err := f.Rows(sheets[0])
	if err != nil {
		return nil, nil, err
	}
	defer it.Close()
	n := 0
	for it.Next() {
		n++
		cells, err := it.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return rows, nums, fmt.Errorf("row %d: %w", n, err)
		}
		blank := true
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
			if cells[i] != "" {
				blank = false
			}
		}
		if !blank {
			rows = append(rows, cells)
			nums = append(nums, n)
		}
	}
	return rows, nums, it.Error()
}
