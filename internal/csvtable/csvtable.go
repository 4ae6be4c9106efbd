// Package csvtable reads the project's data tables (the coding table, the
// rule tables, the 274 mapping): CSV files whose first row names the
// columns, read by name; lines starting with # are comments; a row may have
// fewer fields than the header. Every error names the table and the line.
package csvtable

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Reader reads the rows of a table one at a time.
type Reader struct {
	name string
	cr   *csv.Reader
	col  map[string]int
	row  Row
}

// NewReader reads the header of the table called name (the prefix of its
// errors, e.g. a path) and checks that it has the required columns (column
// names are compared in lower case, trimmed).
func NewReader(r io.Reader, name string, required ...string) (*Reader, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, c := range required {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%s: missing column %q", name, c)
		}
	}
	return &Reader{name: name, cr: cr, col: col}, nil
}

// Next moves to the next row. It returns io.EOF after the last one, and an
// error naming the table for a row that is not CSV (the caller may report
// it and go on to the next).
func (t *Reader) Next() error {
	rec, err := t.cr.Read()
	if err == io.EOF {
		return err
	}
	if err != nil { // a *csv.ParseError: it names the line
		t.row = Row{name: t.name, col: t.col}
		return fmt.Errorf("%s: %w", t.name, err)
	}
	line, _ := t.cr.FieldPos(0)
	t.row = Row{name: t.name, line: line, rec: rec, col: t.col}
	return nil
}

// Row is the current row, valid until the next call to Next.
func (t *Reader) Row() Row { return t.row }

// Row is a row of a table.
type Row struct {
	name string
	line int
	rec  []string
	col  map[string]int
}

// Line is the row's line in the file.
func (r Row) Line() int { return r.line }

// Get returns the value of column c, trimmed ("" when the row or the table
// has none).
func (r Row) Get(c string) string {
	if i, ok := r.col[c]; ok && i < len(r.rec) {
		return strings.TrimSpace(r.rec[i])
	}
	return ""
}

// Keep returns a copy of the row that stays valid after Next.
func (r Row) Keep() Row {
	r.rec = slices.Clone(r.rec)
	return r
}

// Errorf returns an error about the row: "TABLE line N: message".
func (r Row) Errorf(format string, a ...any) error {
	return fmt.Errorf("%s line %d: %s", r.name, r.line, fmt.Sprintf(format, a...))
}
