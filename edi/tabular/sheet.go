package tabular

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// sheetReader streams the rows of a worksheet part token by token. Cell
// values are returned as stored: a number (a date too) is its stored
// decimal text, a boolean "0" or "1", an error its code ("#N/A"), a formula
// its cached result; styles are not read. Where files leave room, it reads
// them as excelize's row reader does (which this package used before):
//
//   - a row's number is its r attribute, or one more than the previous
//     row's;
//   - a cell's column is its r reference, or one more than the previous
//     cell's; the cells left out before it read as empty, the empty cells
//     at the end of a row are dropped (unless they hold a formula), and a
//     cell whose column is at or before the last one is appended;
//   - a shared string index that is not a number reads as 0, one outside
//     the table as an empty cell;
//   - a bad cell reference is a *RowError, and the rest of its row is
//     skipped.
//
// It differs from excelize on damaged files: a row numbered at or below the
// previous one takes the next number (excelize adds its cells to the row
// before), malformed XML is an error (excelize ends the sheet there), and
// a column past MaxColumns stops the reader (excelize makes a column past
// XFD a *RowError).
type sheetReader struct {
	part  *part
	d     *decoder
	opt   Options
	sst   []string
	cur   int // the row number the r attributes give
	num   int // the number of the last row returned
	cells []string
	v, is []byte
	done  bool
}

func newSheetReader(p *part, opt Options, sst []string) *sheetReader {
	return &sheetReader{part: p, d: newDecoder(p, opt.MaxTokenSize), opt: opt, sst: sst}
}

// fail turns a decoder error into the reader's error: a limit as it is,
// anything else with the part's name.
func (s *sheetReader) fail(err error) error {
	s.done = true
	var le *LimitError
	if errors.As(err, &le) {
		return le
	}
	return fmt.Errorf("xlsx %s: %w", s.part.name, err)
}

func (s *sheetReader) next() (Row, error) {
	for !s.done {
		tok, err := s.d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Row{}, s.fail(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "row" {
				return s.row(t)
			}
		case xml.EndElement:
			if t.Name.Local == "sheetData" {
				s.done = true
			}
		}
	}
	s.done = true
	return Row{}, io.EOF
}

// row reads the rest of a <row> element.
func (s *sheetReader) row(start xml.StartElement) (Row, error) {
	if n, err := strconv.Atoi(attr(start, "r")); err == nil && n != 0 {
		s.cur = n
	} else {
		s.cur++
	}
	s.num = max(s.num+1, s.cur)
	num := s.num
	if num > s.opt.MaxRows {
		s.done = true
		return Row{}, &LimitError{Limit: "MaxRows", Max: int64(s.opt.MaxRows), Part: s.part.name, Row: num, Item: -1}
	}
	cells := s.cells[:0]
	col := 0
	var rowErr error
	for {
		tok, err := s.d.RawToken()
		if err != nil {
			return Row{}, s.fail(noEOF(err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "c" || rowErr != nil {
				if err := skip(s.d, t.Name.Local); err != nil {
					return Row{}, s.fail(err)
				}
				continue
			}
			var val string
			var keep bool
			col, val, keep, rowErr, err = s.cell(t, col, num)
			if err != nil {
				return Row{}, err
			}
			if !keep {
				continue
			}
			for len(cells) < col-1 {
				cells = append(cells, "")
			}
			cells = append(cells, val)
			if len(cells) > s.opt.MaxColumns {
				s.done = true
				return Row{}, &LimitError{Limit: "MaxColumns", Max: int64(s.opt.MaxColumns), Part: s.part.name, Row: num, Cell: columnName(col) + strconv.Itoa(num), Item: -1}
			}
		case xml.EndElement:
			if err := closes(t, "row"); err != nil {
				return Row{}, s.fail(err)
			}
			s.cells = cells
			if rowErr != nil {
				return Row{Number: num}, &RowError{Row: num, Err: rowErr}
			}
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			return Row{Number: num, Cells: cells}, nil
		}
	}
}

// cell reads the rest of a <c> element that follows the cell in column
// prev. It returns the cell's column and value, whether the value takes a
// place in the row, a bad cell reference (rowErr: the rest of the row is
// skipped), or an error that stops the reader.
func (s *sheetReader) cell(start xml.StartElement, prev, rowNum int) (col int, val string, keep bool, rowErr, err error) {
	var ref, typ string
	for _, a := range start.Attr {
		switch a.Name.Local {
		case "r":
			ref = a.Value
		case "t":
			typ = a.Value
		}
	}
	col = prev + 1
	if ref != "" {
		c, ok := refColumn(ref)
		if !ok {
			if e := skip(s.d, "c"); e != nil {
				return prev, "", false, nil, s.fail(e)
			}
			return prev, "", false, fmt.Errorf("cell reference %q is not valid", ref), nil
		}
		col = c
	}
	if col > s.opt.MaxColumns {
		s.done = true
		return col, "", false, nil, &LimitError{Limit: "MaxColumns", Max: int64(s.opt.MaxColumns), Part: s.part.name, Row: rowNum, Cell: columnName(min(col, 1<<20)) + strconv.Itoa(rowNum), Item: -1}
	}
	s.v = s.v[:0]
	hasIS, hasF := false, false
	for done := false; !done; {
		tok, e := s.d.RawToken()
		if e != nil {
			return col, "", false, nil, s.fail(noEOF(e))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "v":
				s.v, e = readText(s.d, s.v[:0], "v")
			case "is":
				s.is, e = readRichText(s.d, s.is[:0], "is")
				hasIS = true
			case "f":
				hasF = true
				e = skip(s.d, "f")
			default:
				e = skip(s.d, t.Name.Local)
			}
			if e != nil {
				return col, "", false, nil, s.fail(e)
			}
		case xml.EndElement:
			if e := closes(t, "c"); e != nil {
				return col, "", false, nil, s.fail(e)
			}
			done = true
		}
	}
	switch typ {
	case "s":
		if len(s.v) > 0 {
			i, e := strconv.Atoi(strings.TrimSpace(string(s.v)))
			if e != nil {
				i = 0
			}
			if i >= 0 && i < len(s.sst) {
				val = s.sst[i]
			}
		}
	case "inlineStr":
		if hasIS {
			val = unescapeOOXML(string(s.is))
		} else {
			val = string(s.v)
		}
	default:
		val = string(s.v)
	}
	if len(val) > s.opt.MaxCellLength && utf8.RuneCountInString(val) > s.opt.MaxCellLength {
		s.done = true
		return col, "", false, nil, &LimitError{Limit: "MaxCellLength", Max: int64(s.opt.MaxCellLength), Part: s.part.name, Row: rowNum, Cell: columnName(col) + strconv.Itoa(rowNum), Item: -1}
	}
	return col, val, val != "" || hasF, nil, nil
}

// refColumn returns the column number of a cell reference such as "C7" or
// "$AB$12", capped just past Excel's last column so that it cannot
// overflow. The row part has to be a row of Excel's grid.
func refColumn(ref string) (int, bool) {
	i := 0
	for i < len(ref) && ref[i] == '$' {
		i++
	}
	col, letters := 0, 0
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			break
		}
		letters++
		if col <= DefaultMaxColumns {
			col = col*26 + int(c-'a'+1)
		}
	}
	if letters == 0 {
		return 0, false
	}
	if i < len(ref) && ref[i] == '$' {
		i++
	}
	row, digits := 0, 0
	for ; i < len(ref) && '0' <= ref[i] && ref[i] <= '9'; i++ {
		digits++
		if row <= DefaultMaxRows {
			row = row*10 + int(ref[i]-'0')
		}
	}
	if digits == 0 || i != len(ref) || row < 1 || row > DefaultMaxRows {
		return 0, false
	}
	return min(col, DefaultMaxColumns+1), true
}

// columnName is the letters of column n: 1 is A, 27 is AA.
func columnName(n int) string {
	var b [8]byte
	i := len(b)
	for n > 0 && i > 0 {
		n--
		i--
		b[i] = byte('A' + n%26)
		n /= 26
	}
	return string(b[i:])
}
