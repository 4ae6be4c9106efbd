package tabular

import (
	"errors"
	"fmt"
	"strings"
)

// Options bound the work and memory of reading a file, so that a small
// hostile file (a zip bomb, a sheet of a million columns, a CSV line of
// 100 MB) is refused instead of read. A zero field takes its default. CSV
// input is bounded by MaxRecordBytes and MaxColumns; an XLSX workbook by
// the others and MaxColumns.
type Options struct {
	// MaxRecordBytes is the most bytes of one CSV record (its quoted line
	// breaks included). Default 1 MiB.
	MaxRecordBytes int
	// MaxPartSize is the most uncompressed bytes read from any one part of
	// the workbook (the sheet, the shared strings, the workbook and its
	// relationships), counted as inflated, whatever the part declares.
	// Default 256 MiB.
	MaxPartSize int64
	// MaxSharedStrings is the most bytes the shared string table may hold
	// in memory: the text plus 16 bytes for each string. Default 64 MiB.
	MaxSharedStrings int64
	// MaxRows is the highest sheet row number read. Default 1,048,576,
	// Excel's limit.
	MaxRows int
	// MaxColumns is the highest column number, and the most cells in a
	// row (fields of a CSV record). Default 16,384 (column XFD), Excel's
	// limit.
	MaxColumns int
	// MaxCellLength is the most characters in one cell value. Default
	// 32,767, Excel's limit.
	MaxCellLength int
	// MaxTokenSize is the most bytes of one XML token (a tag, a run of
	// text or spaces, a comment), which the XML decoder holds whole in
	// memory. Default 1 MiB, room for a cell of MaxCellLength characters
	// written as character references.
	MaxTokenSize int
}

// The defaults of Options.
const (
	DefaultMaxRecordBytes   = 1 << 20
	DefaultMaxPartSize      = 256 << 20
	DefaultMaxSharedStrings = 64 << 20
	DefaultMaxRows          = 1 << 20
	DefaultMaxColumns       = 1 << 14
	DefaultMaxCellLength    = 1<<15 - 1
	DefaultMaxTokenSize     = 1 << 20
)

// sharedStringOverhead is what each shared string costs beyond its text
// (a string header), counted against MaxSharedStrings so that a table of
// millions of empty strings is bounded too.
const sharedStringOverhead = 16

func (o *Options) withDefaults() Options {
	var d Options
	if o != nil {
		d = *o
	}
	if d.MaxRecordBytes <= 0 {
		d.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if d.MaxPartSize <= 0 {
		d.MaxPartSize = DefaultMaxPartSize
	}
	if d.MaxSharedStrings <= 0 {
		d.MaxSharedStrings = DefaultMaxSharedStrings
	}
	if d.MaxRows <= 0 {
		d.MaxRows = DefaultMaxRows
	}
	if d.MaxColumns <= 0 {
		d.MaxColumns = DefaultMaxColumns
	}
	if d.MaxCellLength <= 0 {
		d.MaxCellLength = DefaultMaxCellLength
	}
	if d.MaxTokenSize <= 0 {
		d.MaxTokenSize = DefaultMaxTokenSize
	}
	return d
}

// ErrLimit is wrapped by every *LimitError.
var ErrLimit = errors.New("file exceeds a reading limit")

// LimitError is a workbook refused because it goes past one of the bounds
// of Options, or because a part inflates past the size it declares.
type LimitError struct {
	Limit string // the Options field ("MaxPartSize", ...) or "declared size"
	Max   int64  // the bound
	Part  string // the part of the workbook being read, or "csv" (or "jsonl", a JSON-lines reader's)
	Row   int    // the sheet row, or the CSV line the record starts on, or 0
	Cell  string // the cell reference, or ""
	Item  int    // the shared string's index when Part is the shared strings, else -1
}

func (e *LimitError) Error() string {
	var b strings.Builder
	if e.Part == "csv" || e.Part == "jsonl" {
		fmt.Fprintf(&b, "%s line %d", e.Part, e.Row)
		if e.Limit == "MaxColumns" {
			fmt.Fprintf(&b, ": more than %d fields in one record (MaxColumns, limits.fields_per_row)", e.Max)
		} else {
			fmt.Fprintf(&b, ": a record longer than %d bytes (MaxRecordBytes, limits.csv_record_bytes)", e.Max)
		}
		return b.String()
	}
	b.WriteString("xlsx ")
	b.WriteString(e.Part)
	if e.Row > 0 {
		fmt.Fprintf(&b, " row %d", e.Row)
	}
	if e.Cell != "" {
		fmt.Fprintf(&b, " cell %s", e.Cell)
	}
	if e.Item >= 0 {
		fmt.Fprintf(&b, " string %d", e.Item)
	}
	switch e.Limit {
	case "declared size":
		fmt.Fprintf(&b, ": inflates past its declared size of %d bytes", e.Max)
	case "MaxPartSize", "MaxSharedStrings":
		fmt.Fprintf(&b, ": more than %s of %d bytes", e.Limit, e.Max)
	case "MaxRows":
		fmt.Fprintf(&b, ": row number past MaxRows of %d", e.Max)
	case "MaxColumns":
		fmt.Fprintf(&b, ": column past MaxColumns of %d", e.Max)
	case "MaxTokenSize":
		fmt.Fprintf(&b, ": an XML token longer than MaxTokenSize of %d bytes", e.Max)
	case "MaxCellLength":
		fmt.Fprintf(&b, ": value longer than MaxCellLength of %d characters", e.Max)
	default:
		fmt.Fprintf(&b, ": past %s of %d", e.Limit, e.Max)
	}
	return b.String()
}

func (e *LimitError) Unwrap() error { return ErrLimit }
