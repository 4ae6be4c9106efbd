package authfeed

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
)

// Rows reads a feed file row by row: CSV or XLSX with a header row (see
// edi/tabular), or JSON lines (one object per line, keys = the column
// names). Names compare case-insensitively.
type Rows struct {
	Format string // "csv", "xlsx" or "jsonl"

	tab  *tabular.Reader
	row  tabular.Row
	sc   *bufio.Scanner
	f    *os.File
	line int
	max  int // JSON lines: the longest line read
	obj  map[string]string
}

// Record is the current row.
type Record interface {
	Get(col string) string
}

// OpenRows opens a feed file, telling JSON lines (the first non-blank byte
// is '{') from CSV and XLSX, within tabular's default limits.
func OpenRows(path string) (*Rows, error) { return OpenRowsWith(path, nil) }

// OpenRowsWith is OpenRows within opts (nil: the defaults). A JSON line is
// a record: one longer than opts.MaxRecordBytes stops the reading with a
// *tabular.LimitError naming the line.
func OpenRowsWith(path string, opts *tabular.Options) (*Rows, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = bytes.TrimLeft(bytes.TrimPrefix(head[:n], []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(head) > 0 && head[0] == '{' {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		max := tabular.DefaultMaxRecordBytes
		if opts != nil && opts.MaxRecordBytes > 0 {
			max = opts.MaxRecordBytes
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, min(64<<10, max+1)), max+1) // +1: the line break
		return &Rows{Format: "jsonl", sc: sc, f: f, max: max}, nil
	}
	f.Close()
	t, err := tabular.OpenWith(path, opts)
	if err != nil {
		return nil, err
	}
	return &Rows{Format: string(t.Format), tab: t}, nil
}

// Date1904 reports whether the rows come from an XLSX workbook in the 1904
// date system (tabular.Header.Date1904).
func (r *Rows) Date1904() bool { return r.tab != nil && r.tab.Header.Date1904 }

// HasColumn reports whether the header names col (JSON lines: always true;
// a missing key reads as empty).
func (r *Rows) HasColumn(col string) bool {
	return r.tab == nil || r.tab.Header.Index(col) >= 0
}

// Columns lists the header's names (nil for JSON lines).
func (r *Rows) Columns() []string {
	if r.tab == nil {
		return nil
	}
	return r.tab.Header.Names
}

// RowError is a row that cannot be read (bad CSV quoting, bad JSON); the
// reader goes on with the next row.
type RowError struct {
	Row int
	Err error
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %v", e.Row, e.Err) }

// Next reads the next non-blank row and returns its number (the line of a
// CSV or JSON-lines file, the sheet row of an XLSX), a *RowError for a
// damaged row (a JSON line that is not one object, alone on its line), or
// io.EOF.
func (r *Rows) Next() (Record, int, error) {
	if r.tab != nil {
		row, err := r.tab.Next()
		var re *tabular.RowError
		if errors.As(err, &re) {
			return nil, re.Row, &RowError{Row: re.Row, Err: re.Err}
		}
		if err != nil {
			return nil, 0, err
		}
		r.row = row
		return tabRecord{r}, row.Number, nil
	}
	for r.sc.Scan() {
		r.line++
		b := bytes.TrimSpace(r.sc.Bytes())
		if r.line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		if len(b) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, r.line, &RowError{Row: r.line, Err: fmt.Errorf("not a JSON object: %v", err)}
		}
		if off := dec.InputOffset(); off < int64(len(b)) {
			return nil, r.line, &RowError{Row: r.line, Err: fmt.Errorf("not one JSON object: the line goes on after the object (byte %d)", off+1)}
		}
		if r.obj == nil {
			r.obj = map[string]string{}
		}
		clear(r.obj)
		for k, v := range m {
			var s string
			switch v := v.(type) {
			case nil:
			case string:
				s = v
			case json.Number:
				s = v.String()
			case bool:
				s = fmt.Sprint(v)
			default:
				return nil, r.line, &RowError{Row: r.line, Err: fmt.Errorf("%s is not a string or number", k)}
			}
			r.obj[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(s)
		}
		return mapRecord(r.obj), r.line, nil
	}
	if err := r.sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return nil, r.line + 1, &tabular.LimitError{Limit: "MaxRecordBytes", Max: int64(r.max), Part: "jsonl", Row: r.line + 1, Item: -1}
	} else if err != nil {
		return nil, r.line, err
	}
	return nil, 0, io.EOF
}

// Close releases the file.
func (r *Rows) Close() error {
	if r.tab != nil {
		return r.tab.Close()
	}
	return r.f.Close()
}

type tabRecord struct{ r *Rows }

func (t tabRecord) Get(col string) string { return t.r.row.Cell(t.r.tab.Header.Index(col)) }

type mapRecord map[string]string

func (m mapRecord) Get(col string) string { return m[col] }
