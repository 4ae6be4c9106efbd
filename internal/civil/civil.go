// Package civil is a calendar date without time or zone, the way dates of
// service, birth and coverage appear in health-care files.
package civil

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Date is a calendar date encoded as the integer YYYYMMDD, so that dates
// compare with < and == and print cheaply. The zero Date means "no date".
type Date uint32

// New returns the date y-m-d. It does not normalize: use Valid to check.
func New(y int, m time.Month, d int) Date {
	return Date(uint32(y)*10000 + uint32(m)*100 + uint32(d))
}

// FromTime returns the calendar date of t in t's location.
func FromTime(t time.Time) Date {
	y, m, d := t.Date()
	return New(y, m, d)
}

// Today returns today's date in loc.
func Today(loc *time.Location) Date { return FromTime(time.Now().In(loc)) }

func (d Date) Year() int         { return int(d / 10000) }
func (d Date) Month() time.Month { return time.Month(d / 100 % 100) }
func (d Date) Day() int          { return int(d % 100) }
func (d Date) IsZero() bool      { return d == 0 }

// Valid reports whether d is a real calendar date between years 1800 and 9999.
func (d Date) Valid() bool {
	y, m, day := d.Year(), d.Month(), d.Day()
	if y < 1800 || y > 9999 || m < 1 || m > 12 || day < 1 {
		return false
	}
	return day <= daysIn(y, m)
}

func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// Time returns midnight UTC of d.
func (d Date) Time() time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

// AddDays returns d moved by n calendar days.
func (d Date) AddDays(n int) Date { return FromTime(d.Time().AddDate(0, 0, n)) }

// AddMonths returns d moved by n calendar months. When the day does not
// exist in the target month it is clamped to the month's last day
// (2026-01-31 + 1 month = 2026-02-28), which is how authorization periods
// are counted, unlike time.AddDate's normalization.
func (d Date) AddMonths(n int) Date {
	y, m := d.Year(), int(d.Month())-1+n
	y += m / 12
	m %= 12
	if m < 0 {
		m += 12
		y--
	}
	day := d.Day()
	if last := daysIn(y, time.Month(m+1)); day > last {
		day = last
	}
	return New(y, time.Month(m+1), day)
}

// DaysUntil returns the number of days from d to e (negative when e is before d).
func (d Date) DaysUntil(e Date) int {
	return int(e.Time().Sub(d.Time()).Hours() / 24)
}

// String formats d as YYYY-MM-DD ("" for the zero Date).
func (d Date) String() string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year(), int(d.Month()), d.Day())
}

// Compact formats d as CCYYMMDD, the X12 D8 format.
func (d Date) Compact() string {
	if d == 0 {
		return ""
	}
	return strconv.FormatUint(uint64(d), 10)
}

// Parse reads a date written as YYYY-MM-DD, MM/DD/YYYY (one- or two-digit
// month and day) or CCYYMMDD.
func Parse(s string) (Date, error) {
	d, ok := parse(s)
	if !ok || !d.Valid() {
		return 0, fmt.Errorf("%q is not a date (want YYYY-MM-DD or MM/DD/YYYY)", s)
	}
	return d, nil
}

func parse(s string) (Date, bool) {
	switch {
	case len(s) == 10 && s[4] == '-' && s[7] == '-':
		y, ok1 := atoi(s[0:4])
		m, ok2 := atoi(s[5:7])
		d, ok3 := atoi(s[8:10])
		return New(y, time.Month(m), d), ok1 && ok2 && ok3
	case len(s) == 8 && s[1] != '/' && s[2] != '/':
		n, ok := atoi(s)
		return Date(n), ok
	}
	// M/D/YYYY with one- or two-digit month and day.
	var parts [3]string
	p, start := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			if p == 2 {
				return 0, false
			}
			parts[p] = s[start:i]
			p++
			start = i + 1
		}
	}
	if p != 2 {
		return 0, false
	}
	parts[2] = s[start:]
	if len(parts[0]) < 1 || len(parts[0]) > 2 || len(parts[1]) < 1 || len(parts[1]) > 2 || len(parts[2]) != 4 {
		return 0, false
	}
	m, ok1 := atoi(parts[0])
	d, ok2 := atoi(parts[1])
	y, ok3 := atoi(parts[2])
	return New(y, time.Month(m), d), ok1 && ok2 && ok3
}

func atoi(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// ParseCell reads a date from a table cell: what Parse takes, or, when the
// cell comes from a spreadsheet, the date serial its reader gives for a
// date-formatted cell ("46023", or "46023.0"; see FromExcelSerial). The
// error is Parse's.
func ParseCell(v string, spreadsheet bool) (Date, error) { return ParseCellIn(v, spreadsheet, false) }

// ParseCellIn is ParseCell for a spreadsheet whose serials may count in the
// 1904 date system (date1904: see FromExcelSerial1904); a cell not from a
// spreadsheet is never a serial, whatever date1904 says.
func ParseCellIn(v string, spreadsheet, date1904 bool) (Date, error) {
	switch {
	case !spreadsheet:
		return Parse(v)
	case date1904:
		return parseCell(v, FromExcelSerial1904)
	}
	return parseCell(v, FromExcelSerial)
}

func parseCell(v string, fromSerial func(int) (Date, bool)) (Date, error) {
	d, err := Parse(v)
	if err == nil {
		return d, nil
	}
	serial, isSerial := 0, false
	if n, e := strconv.Atoi(v); e == nil {
		serial, isSerial = n, true
	} else if f, e := strconv.ParseFloat(v, 64); e == nil && f == math.Trunc(f) && math.Abs(f) < 1e9 {
		serial, isSerial = int(f), true
	}
	if isSerial {
		if d, ok := fromSerial(serial); ok {
			return d, nil
		}
	}
	return 0, err
}

// FromExcelSerial converts a spreadsheet date serial in the 1900 date
// system (serial 1 is 1900-01-01) to a Date. The system counts 1900 as a
// leap year: serial 60 is 1900-02-29, which did not exist and is refused,
// and from serial 61 (1900-03-01) a serial is the days since 1899-12-30.
func FromExcelSerial(serial int) (Date, bool) {
	if serial < 1 || serial == 60 || serial > 2958465 {
		return 0, false
	}
	base := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	if serial < 60 {
		base = base.AddDate(0, 0, 1)
	}
	return FromTime(base.AddDate(0, 0, serial)), true
}

// FromExcelSerial1904 converts a date serial of a workbook in the 1904 date
// system (workbookPr date1904: days since 1904-01-01, which is serial 0) to
// a Date.
func FromExcelSerial1904(serial int) (Date, bool) {
	if serial < 0 || serial > 2957003 {
		return 0, false
	}
	base := time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	return FromTime(base.AddDate(0, 0, serial)), true
}
