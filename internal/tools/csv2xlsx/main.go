// Command csv2xlsx turns an invoice-shaped CSV file into an XLSX workbook the
// way a spreadsheet user would have typed it: date columns as real date
// cells, units and amounts as numbers, everything else as text. It makes the
// XLSX files under testdata/ and internal/demo/data/ reproducible:
//
//	go run ./internal/tools/csv2xlsx -in testdata/invoices/valley-meals-2026-09.csv -out internal/demo/data/invoices/valley-meals-2026-09.xlsx
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

func main() {
	in := flag.String("in", "", "CSV file")
	out := flag.String("out", "", "XLSX file to write")
	sheet := flag.String("sheet", "Invoice", "sheet name")
	flag.Parse()
	if *in == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := convert(*in, *out, *sheet); err != nil {
		log.Fatal(err)
	}
}

func isDateColumn(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, "_date") || strings.HasSuffix(n, "_dob") || n == "service_from" || n == "service_to" ||
		n == "contract_start" || n == "contract_end" || n == "start_date" || n == "end_date"
}

func isNumberColumn(name string) bool {
	n := strings.ToLower(name)
	return n == "units" || n == "charge_amount" || n == "units_authorized" || strings.HasPrefix(n, "capacity_")
}

func convert(in, out, sheet string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return err
	}
	x := excelize.NewFile()
	defer x.Close()
	if err := x.SetSheetName(x.GetSheetName(0), sheet); err != nil {
		return err
	}
	dateStyle, err := x.NewStyle(&excelize.Style{NumFmt: 14}) // m/d/yyyy
	if err != nil {
		return err
	}
	header := rows[0]
	for r, row := range rows {
		for c, v := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			var val any = v
			if r > 0 && v != "" {
				switch {
				case isDateColumn(header[c]):
					if t, err := parseDate(v); err == nil {
						val = t
						if err := x.SetCellStyle(sheet, cell, cell, dateStyle); err != nil {
							return err
						}
					}
				case isNumberColumn(header[c]):
					if n, err := strconv.ParseFloat(strings.NewReplacer("$", "", ",", "").Replace(v), 64); err == nil {
						val = n
					}
				}
			}
			if err := x.SetCellValue(sheet, cell, val); err != nil {
				return fmt.Errorf("%s: %w", cell, err)
			}
		}
	}
	return x.SaveAs(out)
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", "01/02/2006", "1/2/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date: %q", s)
}
