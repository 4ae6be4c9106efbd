package tabular

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

const benchRows = 100_000

var (
	benchOnce sync.Once
	benchData []byte
	benchErr  error
)

// benchWorkbook is a 100,000-row invoice-like sheet written by excelize's
// stream writer: strings (shared), integers, amounts and dates.
func benchWorkbook(b *testing.B) []byte {
	b.Helper()
	benchOnce.Do(func() { benchData, benchErr = writeBenchWorkbook(benchRows) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchData
}

func writeBenchWorkbook(rows int) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter(f.GetSheetName(0))
	if err != nil {
		return nil, err
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		return nil, err
	}
	if err := sw.SetRow("A1", []any{"Invoice_Number", "Member_CIN", "Member_Last_Name", "HCPCS", "Service_From", "Units", "Charge_Amount", "Note"}); err != nil {
		return nil, err
	}
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 2; i <= rows+1; i++ {
		row := []any{
			fmt.Sprintf("INV-%07d", i), fmt.Sprintf("9%07dA", i%5000), "Lastname", "H0043",
			excelize.Cell{StyleID: dateStyle, Value: day.AddDate(0, 0, i%365)},
			i%8 + 1, float64(i%10000) / 4, "",
		}
		if err := sw.SetRow(fmt.Sprintf("A%d", i), row); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// BenchmarkXLSX reads the same 100,000-row workbook with the streaming
// reader and with excelize (the reader this package used before) in one
// run; ns/row is the time per data row.
func BenchmarkXLSX(b *testing.B) {
	data := benchWorkbook(b)
	readers := []struct {
		name string
		read func() (int, error)
	}{
		{"stream", func() (int, error) {
			r, err := NewReader(bytes.NewReader(data), int64(len(data)), nil)
			if err != nil {
				return 0, err
			}
			defer r.Close()
			n := 0
			for {
				_, err := r.Next()
				if err == io.EOF {
					return n, nil
				}
				if err != nil {
					return n, err
				}
				n++
			}
		}},
		{"excelize", func() (int, error) {
			rows, _, err := excelizeRows(bytes.NewReader(data))
			return len(rows) - 1, err
		}},
	}
	for _, rd := range readers {
		b.Run(rd.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				n, err := rd.read()
				if err != nil {
					b.Fatal(err)
				}
				if n != benchRows {
					b.Fatalf("read %d rows, want %d", n, benchRows)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
		})
	}
}
