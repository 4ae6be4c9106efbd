// Package tabular reads spreadsheet-shaped files — CSV and the first sheet of
// an XLSX workbook — one row at a time, with a header row naming the columns.
// It is a codec: it knows rows, cells and positions, not what the columns mean.
package tabular

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Format is the kind of a tabular file.
type Format string

const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// ErrNotTabular means the file is neither CSV text nor an XLSX workbook.
var ErrNotTabular = errors.New("not a CSV or XLSX file")

// Row is one data row. Cells are trimmed of surrounding spaces. Number is
// the row's position in the file as a person would count it: the 1-based
// line of a CSV file where the record starts, or the sheet row number of an
// XLSX file. The Cells slice is reused by the next call to Next.
type Row struct {
	Number int
	Cells  []string
}

// Cell returns cell i, or "" when the row is shorter.
func (r Row) Cell(i int) string {
	if i < 0 || i >= len(r.Cells) {
		return ""
	}
	return r.Cells[i]
}

// Blank reports whether every cell is empty.
func (r Row) Blank() bool {
	for _, c := range r.Cells {
		if c != "" {
			return false
		}
	}
	return true
}

// RowError is a problem with one row that does not stop the reader (for
// example a CSV record with a stray quote). The caller reports it and goes on.
type RowError struct {
	Row int
	Err error
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %v", e.Row, e.Err) }
func (e *RowError) Unwrap() error { return e.Err }

// Header maps column names to positions. Names compare case-insensitively,
// ignoring surrounding spaces; columns without a name are ignored.
type Header struct {
	Names []string // as written in the file, trimmed
	// Date1904: the file is an XLSX workbook in the 1904 date system
	// (workbookPr date1904), whose date serials count days from 1904-01-01
	// rather than from 1899-12-30.
	Date1904 bool
	index    map[string]int
}

// NewHeader makes the header of rows that come from elsewhere than a file,
// as a file's header row of these names would.
func NewHeader(names []string) *Header { return newHeader(names) }

func newHeader(cells []string) *Header {
	h := &Header{Names: make([]string, len(cells)), index: make(map[string]int, len(cells))}
	for i, c := range cells {
		c = strings.TrimSpace(c)
		h.Names[i] = c
		k := strings.ToLower(c)
		if _, dup := h.index[k]; !dup && k != "" {
			h.index[k] = i
		}
	}
	return h
}

// Index returns the position of the named column, or -1.
func (h *Header) Index(name string) int {
	if i, ok := h.index[strings.ToLower(strings.TrimSpace(name))]; ok {
		return i
	}
	return -1
}

// Columns maps the required and optional column names the header has to
// their positions, and lists the required ones it lacks (in order).
func (h *Header) Columns(required, optional []string) (col map[string]int, missing []string) {
	col = make(map[string]int, len(required)+len(optional))
	for _, c := range required {
		if i := h.Index(c); i >= 0 {
			col[c] = i
		} else {
			missing = append(missing, c)
		}
	}
	for _, c := range optional {
		if i := h.Index(c); i >= 0 {
			col[c] = i
		}
	}
	return col, missing
}

// Duplicates lists names that appear in more than one column.
func (h *Header) Duplicates() []string {
	seen := map[string]int{}
	var dups []string
	for _, n := range h.Names {
		k := strings.ToLower(n)
		if k == "" {
			continue
		}
		seen[k]++
		if seen[k] == 2 {
			dups = append(dups, n)
		}
	}
	return dups
}

// Reader reads rows after the header.
type Reader struct {
	Format Format
	Header *Header

	next   func() (Row, error)
	closer io.Closer
}

// Next returns the next non-blank row, a *RowError for a damaged row that
// may be skipped, or io.EOF.
func (r *Reader) Next() (Row, error) {
	for {
		row, err := r.next()
		if err != nil {
			return row, err
		}
		if !row.Blank() {
			return row, nil
		}
	}
}

// Close releases the file.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// Open opens a CSV or XLSX file, telling them apart by content (an XLSX
// workbook is a ZIP archive), and reads its header row: the first non-blank
// row. An XLSX file is read within the default Options.
func Open(path string) (*Reader, error) { return OpenWith(path, nil) }

// OpenWith is Open within opts (nil means the defaults).
func OpenWith(path string, opts *Options) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := NewReader(f, st.Size(), opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closeAlso(f)
	return r, nil
}

// closeAlso makes Close close c after what the reader already closes.
func (r *Reader) closeAlso(c io.Closer) {
	if r.closer == nil {
		r.closer = c
		return
	}
	r.closer = closers{r.closer, c}
}

// NewReader reads CSV or XLSX content of the given size from r, as Open
// does a file: uploads and stored objects take the same path as files. It
// reads within opts (nil means the defaults). Closing the Reader does not
// close r.
func NewReader(r io.ReaderAt, size int64, opts *Options) (*Reader, error) {
	var magic [4]byte
	if n, _ := r.ReadAt(magic[:], 0); n == 4 && string(magic[:]) == "PK\x03\x04" {
		return newXLSX(r, size, opts)
	}
	return NewCSVWith(io.NewSectionReader(r, 0, size), opts)
}

// NewCSV reads CSV text: RFC 4180 quoting, CRLF or LF line ends, an optional
// UTF-8 byte order mark, and records of varying length, within the default
// Options.
func NewCSV(in io.Reader) (*Reader, error) { return NewCSVWith(in, nil) }

// NewCSVWith is NewCSV within opts (nil means the defaults): a record past
// MaxRecordBytes or MaxColumns stops the reading with a *LimitError naming
// the line it starts on.
func NewCSVWith(in io.Reader, opts *Options) (*Reader, error) {
	br := bufio.NewReaderSize(in, 256<<10)
	if head, _ := br.Peek(3); bytes.Equal(head, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	if head, _ := br.Peek(512); !looksLikeText(head) {
		return nil, ErrNotTabular
	}
	cr := csv.NewReader(newCSVLimiter(br, opts.withDefaults()))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	r := &Reader{Format: CSV}
	r.next = func() (Row, error) {
		rec, err := cr.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return Row{Number: pe.StartLine}, &RowError{Row: pe.StartLine, Err: fmt.Errorf("malformed CSV record: %v", pe.Err)}
			}
			return Row{}, err
		}
		line, _ := cr.FieldPos(0)
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		return Row{Number: line, Cells: rec}, nil
	}
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Reader) readHeader() error {
	for {
		row, err := r.next()
		if err == io.EOF {
			return fmt.Errorf("no header row: %w", ErrNotTabular)
		}
		if err != nil {
			return fmt.Errorf("header: %w", err)
		}
		if !row.Blank() {
			r.Header = newHeader(row.Cells)
			return nil
		}
	}
}

// looksLikeText reports whether b is plausibly text: valid UTF-8 (allowing a
// character cut at the end) without NUL bytes.
func looksLikeText(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			return len(b) < utf8.UTFMax // a cut multi-byte character at the end
		}
		b = b[size:]
	}
	return true
}

// OpenXLSX reads the first sheet of a workbook (the first in the
// workbook's list of sheets), streaming its rows, within the default
// Options. Cells are returned as stored (a date is its serial number, a
// number its plain decimal value), not as formatted for display; the
// header's Date1904 tells which date system the serials count in.
func OpenXLSX(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := newXLSX(f, st.Size(), nil)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closeAlso(f)
	return r, nil
}

func newXLSX(in io.ReaderAt, size int64, opts *Options) (*Reader, error) {
	opt := opts.withDefaults()
	wb, err := openWorkbook(in, size, opt)
	if err != nil {
		return nil, err
	}
	name, sheetPart, sstPart, date1904, err := wb.firstSheet()
	if err != nil {
		return nil, err
	}
	sst, err := wb.sharedStrings(sstPart)
	if err != nil {
		return nil, err
	}
	p, err := wb.open(sheetPart)
	if err != nil {
		return nil, fmt.Errorf("sheet %q: %w", name, err)
	}
	s := newSheetReader(p, opt, sst)
	r := &Reader{Format: XLSX, next: s.next, closer: p}
	if err := r.readHeader(); err != nil {
		r.Close()
		return nil, err
	}
	r.Header.Date1904 = date1904
	return r, nil
}

type closers []io.Closer

func (cs closers) Close() error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
