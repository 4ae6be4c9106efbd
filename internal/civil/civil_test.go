package civil

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Date
		ok   bool
	}{
		{"2026-01-15", 20260115, true},
		{"01/15/2026", 20260115, true},
		{"1/5/2026", 20260105, true},
		{"20260115", 20260115, true},
		{"2024-02-29", 20240229, true},
		{"2026-02-29", 0, false}, // not a leap year
		{"2100-02-29", 0, false}, // century, not leap
		{"2000-02-29", 20000229, true},
		{"2026-13-01", 0, false},
		{"2026-04-31", 0, false},
		{"15/01/2026", 0, false},
		{"2026/01/15", 0, false},
		{"1/15/26", 0, false},
		{"", 0, false},
		{"2026-1-15", 0, false},
		{"abcd-ef-gh", 0, false},
		{"1//2026", 0, false},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestArithmetic(t *testing.T) {
	d := New(2026, time.January, 31)
	if got := d.AddMonths(1); got != 20260228 {
		t.Errorf("Jan 31 + 1 month = %v, want 2026-02-28", got)
	}
	if got := d.AddMonths(12); got != 20270131 {
		t.Errorf("+12 months = %v", got)
	}
	if got := New(2026, 3, 15).AddMonths(-3); got != 20251215 {
		t.Errorf("-3 months = %v", got)
	}
	if got := d.AddDays(29); got != 20260301 {
		t.Errorf("+29 days = %v", got)
	}
	if got := New(2026, 1, 1).DaysUntil(New(2026, 1, 31)); got != 30 {
		t.Errorf("DaysUntil = %d", got)
	}
	if d.String() != "2026-01-31" || d.Compact() != "20260131" {
		t.Errorf("format %s %s", d.String(), d.Compact())
	}
}

func TestFromExcelSerial(t *testing.T) {
	// 45658 is 2025-01-01 in the 1900 date system (checked in LibreOffice).
	if d, ok := FromExcelSerial(45658); !ok || d != 20250101 {
		t.Errorf("FromExcelSerial(45658) = %v %v", d, ok)
	}
	if _, ok := FromExcelSerial(0); ok {
		t.Error("serial 0 accepted")
	}
}

func TestParseCell(t *testing.T) {
	for _, c := range []struct {
		v           string
		spreadsheet bool
		want        Date
		ok          bool
	}{
		{"2026-01-01", false, 20260101, true},
		{"2026-01-01", true, 20260101, true},
		{"46023", true, 20260101, true}, // the serial of 2026-01-01
		{"46023.0", true, 20260101, true},
		{"46023", false, 0, false}, // a CSV cell is not a serial
		{"46023.5", true, 0, false},
		{"0", true, 0, false},
		{"1e300", true, 0, false},
		{"", true, 0, false},
		{"soon", true, 0, false},
	} {
		got, err := ParseCell(c.v, c.spreadsheet)
		if ok := err == nil; got != c.want || ok != c.ok {
			t.Errorf("ParseCell(%q, %v) = %v %v, want %v, ok %v", c.v, c.spreadsheet, got, err, c.want, c.ok)
		}
	}
}

func TestParseCellIn1904(t *testing.T) {
	for _, c := range []struct {
		v    string
		want Date
		ok   bool
	}{
		{"0", 19040101, true}, // day 0 of the 1904 date system
		{"1", 19040102, true},
		{"44804", 20260901, true}, // 46266 in the 1900 date system
		{"44804.0", 20260901, true},
		{"2026-09-01", 20260901, true},
		{"-1", 0, false},
		{"2957003", 99991231, true},
		{"2957004", 0, false},
		{"44804.5", 0, false},
	} {
		got, err := ParseCellIn(c.v, true, true)
		if ok := err == nil; got != c.want || ok != c.ok {
			t.Errorf("ParseCellIn(%q, true, true) = %v %v, want %v, ok %v", c.v, got, err, c.want, c.ok)
		}
	}
}

// A date cell: text whatever the file, a serial number of the 1900 or the
// 1904 date system from a spreadsheet only.
func TestParseCellIn(t *testing.T) {
	for _, tt := range []struct {
		v                     string
		spreadsheet, date1904 bool
		want                  Date
		bad                   bool
	}{
		{"2026-09-01", false, false, 20260901, false},
		{"2026-09-01", true, true, 20260901, false},
		{"46266", true, false, 20260901, false},
		{"44804", true, true, 20260901, false},
		{"44804", false, true, 0, true}, // a CSV cell is never a serial
	} {
		got, err := ParseCellIn(tt.v, tt.spreadsheet, tt.date1904)
		if (err != nil) != tt.bad || !tt.bad && got != tt.want {
			t.Errorf("ParseCellIn(%q, %v, %v) = %s, %v; want %s", tt.v, tt.spreadsheet, tt.date1904, got, err, tt.want)
		}
	}
}

// The 1900 date system counts 1900 as a leap year, as Lotus 1-2-3 did:
// serial 60 is 1900-02-29, a day that did not exist, and the serials
// before it are one day later than days since 1899-12-30 would make them.
func TestFromExcelSerial1900LeapYear(t *testing.T) {
	for _, c := range []struct {
		serial int
		want   Date
		ok     bool
	}{
		{1, 19000101, true},
		{31, 19000131, true},
		{59, 19000228, true},
		{60, 0, false}, // 1900-02-29
		{61, 19000301, true},
		{45658, 20250101, true},
		{2958465, 99991231, true},
		{2958466, 0, false},
	} {
		got, ok := FromExcelSerial(c.serial)
		if got != c.want || ok != c.ok {
			t.Errorf("FromExcelSerial(%d) = %v %v, want %v %v", c.serial, got, ok, c.want, c.ok)
		}
	}
}
