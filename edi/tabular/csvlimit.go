package tabular

import "io"

// csvLimiter passes CSV text through, refusing a record longer than
// maxBytes or with more than maxFields fields before encoding/csv holds it
// whole in memory. It follows RFC 4180 quoting just enough to tell a line
// break or comma inside quotes from one that ends a record or a field (a
// doubled quote toggles twice).
type csvLimiter struct {
	r         io.Reader
	maxBytes  int
	maxFields int

	line     int  // 1-based line of the next byte
	start    int  // the line the current record starts on
	inQuotes bool // inside a quoted field
	bytes    int  // bytes of the current record so far
	fields   int  // fields of the current record so far
	err      error
}

func newCSVLimiter(r io.Reader, o Options) *csvLimiter {
	return &csvLimiter{r: r, maxBytes: o.MaxRecordBytes, maxFields: o.MaxColumns, line: 1, start: 1, fields: 1}
}

func (l *csvLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i := 0; i < n; i++ {
		l.bytes++ // the record's bytes, its line end included
		switch p[i] {
		case '"':
			l.inQuotes = !l.inQuotes
		case ',':
			if !l.inQuotes {
				l.fields++
			}
		}
		switch {
		case l.bytes > l.maxBytes:
			l.err = &LimitError{Limit: "MaxRecordBytes", Max: int64(l.maxBytes), Part: "csv", Row: l.start, Item: -1}
			return i, l.err
		case l.fields > l.maxFields:
			l.err = &LimitError{Limit: "MaxColumns", Max: int64(l.maxFields), Part: "csv", Row: l.start, Item: -1}
			return i, l.err
		}
		if p[i] == '\n' {
			l.line++
			if !l.inQuotes {
				l.start, l.bytes, l.fields = l.line, 0, 1
			}
		}
	}
	return n, err
}
