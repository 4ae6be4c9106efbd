package hl7

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Versions are the MSH-12 version IDs the codec reads.
var Versions = []string{"2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2"}

// Check returns the syntax problems of a message read by a Reader: the
// header fields every message needs (MSH-7 a valid timestamp, required from
// v2.4 and optional in v2.3 and v2.3.1; MSH-9 message code and trigger
// event, the trigger in EVN-1 when MSH-9.2 is empty; MSH-10, MSH-11, MSH-12 a version in Versions) and malformed escape
// sequences anywhere. It returns nil for a sound message.
func Check(m *Message) []*Error {
	var errs []*Error
	msh := &m.Segments[0]
	add := func(s *Segment, f int, format string, args ...any) {
		errs = append(errs, ErrorAt(m, s, f, fmt.Sprintf(format, args...)))
	}
	if v := msh.Field(7).Comp(1).String(); v == "" {
		if ver := m.Version(); ver != "2.3" && ver != "2.3.1" {
			add(msh, 7, "date/time of message is missing")
		}
	} else if _, err := ParseTime(v, time.UTC); err != nil {
		add(msh, 7, "%v", err)
	}
	code, trigger := m.Type()
	if code == "" {
		add(msh, 9, "message code (MSH-9.1) is missing")
	} else if trigger == "" && code != "ACK" {
		// EVN-1 carries the trigger event when MSH-9.2 leaves it out.
		if evn := m.First("EVN"); evn == nil || evn.Get(1, 1, 1, 1) == "" {
			add(msh, 9, "trigger event (MSH-9.2, or EVN-1) is missing")
		}
	}
	if m.ControlID() == "" {
		add(msh, 10, "message control ID is missing")
	}
	if p := msh.Field(11).Comp(1).String(); p == "" {
		add(msh, 11, "processing ID is missing")
	} else if p != "P" && p != "T" && p != "D" {
		add(msh, 11, "processing ID %q is not P, T or D", p)
	}
	if v := m.Version(); v == "" {
		add(msh, 12, "version ID is missing")
	} else if !slices.Contains(Versions, v) {
		add(msh, 12, "version %q is not one of %s", v, strings.Join(Versions, ", "))
	}
	for i := range m.Segments {
		s := &m.Segments[i]
		first := 1
		if s.Name == "MSH" {
			first = 3
		}
		for f := first; f <= s.Fields(); f++ {
			if err := CheckEscapes(s.Field(f).Bytes(), m.Delimiters); err != nil {
				add(s, f, "%v", err)
			}
		}
	}
	return errs
}

// ParseTime reads an HL7 DTM/TS value, YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]]
// with an optional +/-ZZZZ offset; without one the time is in loc.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	v := s
	zone := ""
	if i := strings.IndexAny(v, "+-"); i >= 0 {
		v, zone = v[:i], v[i:]
	}
	frac := ""
	if i := strings.IndexByte(v, '.'); i >= 0 {
		v, frac = v[:i], v[i+1:]
		if len(v) != 14 || len(frac) < 1 || len(frac) > 4 || !digits(frac) {
			return time.Time{}, fmt.Errorf("time %q: fraction of a second needs YYYYMMDDHHMMSS and 1 to 4 digits", s)
		}
	}
	switch len(v) {
	case 4, 6, 8, 10, 12, 14:
	default:
		return time.Time{}, fmt.Errorf("time %q is not YYYY[MM[DD[HH[MM[SS[.SSSS]]]]]][+/-ZZZZ]", s)
	}
	if !digits(v) {
		return time.Time{}, fmt.Errorf("time %q is not YYYY[MM[DD[HH[MM[SS[.SSSS]]]]]][+/-ZZZZ]", s)
	}
	if zone != "" {
		if len(zone) != 5 || !digits(zone[1:]) {
			return time.Time{}, fmt.Errorf("time %q: offset %q is not +/-ZZZZ", s, zone)
		}
		h, mi := int(zone[1]-'0')*10+int(zone[2]-'0'), int(zone[3]-'0')*10+int(zone[4]-'0')
		if h > 14 || mi > 59 {
			return time.Time{}, fmt.Errorf("time %q: offset %q out of range", s, zone)
		}
		off := (h*60 + mi) * 60
		if zone[0] == '-' {
			off = -off
		}
		loc = time.FixedZone(zone, off)
	}
	// The parts the value leaves out are the first month, day, hour,
	// minute and second.
	part := func(i int) int {
		if i+2 > len(v) {
			return -1
		}
		return int(v[i]-'0')*10 + int(v[i+1]-'0')
	}
	year := int(v[0]-'0')*1000 + int(v[1]-'0')*100 + int(v[2]-'0')*10 + int(v[3]-'0')
	month, day, hour, minute, sec := max(part(4), 1), max(part(6), 1), max(part(8), 0), max(part(10), 0), max(part(12), 0)
	if (len(v) >= 6 && part(4) == 0) || (len(v) >= 8 && part(6) == 0) ||
		month > 12 || day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("time %q is not a valid date/time", s)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc)
	if frac != "" {
		ns := 0
		for i := 0; i < 9; i++ {
			ns *= 10
			if i < len(frac) {
				ns += int(frac[i] - '0')
			}
		}
		t = t.Add(time.Duration(ns))
	}
	return t, nil
}

// daysIn returns the number of days of month m of year y.
func daysIn(m time.Month, y int) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}
