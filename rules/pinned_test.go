package rules

import (
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// A streamlined window covers every date of a multi-day line or none of
// it: a line that starts inside the 30 days and ends on day 31 is not
// covered.
func TestStreamlinedWindowCoversEveryDateOfAMultiDayLine(t *testing.T) {
	e := newElig(t)
	e.Extensions = []StreamlinedExtension{{NPI: provA, POFs: []string{"POF1A"}}}
	s := auth("S-1", "ECM", "streamlined", "pending", "2026-03-01", "")
	tests := []struct {
		name     string
		from, to string
		want     string
	}{
		{"days 28 to 30", "2026-03-28", "2026-03-30", ""},
		{"days 29 to 31", "2026-03-29", "2026-03-31", AuthMissing},
		{"day 1 to day 31", "2026-03-01", "2026-03-31", AuthMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := line(tt.from, tt.to)
			ds, _ := e.Decide(&Facts{Auths: []domain.Authorization{s}}, l, leg(t, "G9008 U1", l.From), Groups{Authorization: true})
			if got := rulesOf(ds); got != tt.want {
				t.Errorf("got %q, want %q (%v)", got, tt.want, ds)
			}
		})
	}
}

// A month limit counts from the first day of service of any line, also
// of a line dated before the first day already counted (invoices arrive
// out of order): six months from 2026-01-01 are 181 days, not the 184
// from 2026-03-01.
func TestCSMonthLimitCountsFromAnEarlierLine(t *testing.T) {
	e := newElig(t)
	cs04 := auth("C-4", "CS04", "initial", "approved", "2026-01-01", "2026-12-31")
	tests := []struct {
		name  string
		used  int64
		first string
		want  string
	}{
		{"181 days from the earlier line", 174, "2026-03-01", ""},
		{"182 days from the earlier line", 175, "2026-03-01", CSLimitExceeded},
		{"first day counted is the line's own", 175, "2026-01-01", CSLimitExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := line("2026-01-01", "2026-01-07")
			l.Units = 7000
			f := &Facts{Auths: []domain.Authorization{cs04}, Usage: func(key string) (int64, civil.Date) {
				if strings.HasPrefix(key, "cs:") {
					return tt.used, d(tt.first)
				}
				return 0, 0
			}}
			ds, _ := e.Decide(f, l, leg(t, "H0043 U3", l.From), Groups{Authorization: true})
			if got := rulesOf(ds); got != tt.want {
				t.Errorf("got %q, want %q (%v)", got, tt.want, ds)
			}
			if tt.want != "" && !strings.Contains(ds[0].Message, "2026-01-01") {
				t.Errorf("message does not count from the line's first day: %s", ds[0].Message)
			}
		})
	}
}

// A share of cost that starts partway through a line's dates excludes the
// line, and the message names the day it starts.
func TestShareOfCostStartingWithinTheLine(t *testing.T) {
	e := newElig(t)
	before := span("2026-01-01", "2026-03-14")
	soc := span("2026-03-15", "2026-12-31")
	soc.ShareOfCost = 12500
	tests := []struct {
		name     string
		from, to string
		want     string
	}{
		{"line ends the day before", "2026-03-10", "2026-03-14", ""},
		{"line runs into the share of cost", "2026-03-10", "2026-03-15", EligShareOfCost},
		{"line starts inside it", "2026-03-20", "2026-03-20", EligShareOfCost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := line(tt.from, tt.to)
			ds, _ := e.Decide(&Facts{Member: enrolled(before, soc)}, l, leg(t, "H0043 U6", l.From), Groups{Enrollment: true})
			if got := rulesOf(ds); got != tt.want {
				t.Fatalf("got %q, want %q (%v)", got, tt.want, ds)
			}
			if tt.want != "" {
				day := max(d("2026-03-15"), l.From).String()
				if !strings.Contains(ds[0].Message, day) {
					t.Errorf("message does not name %s: %s", day, ds[0].Message)
				}
			}
		})
	}
}

// A service name with modifiers that are not its leg's is rejected; the
// line is not rewritten to the leg's code and modifiers.
func TestServiceNameWithTheWrongModifier(t *testing.T) {
	checker := &LineChecker{Coding: DefaultCodingTable(), Today: 20261123}
	tests := []struct {
		name      string
		modifiers []string
		rule      string
		hcpcs     string // the line's code after the check
	}{
		{"no modifiers: the leg's", nil, "", "H0044"},
		{"the leg's modifier", []string{"U2"}, "", "H0044"},
		{"another modifier", []string{"U6"}, CodeNotAllowed, ""},
		{"the leg's and another", []string{"U2", "U6"}, CodeNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := goodLine()
			l.HCPCS, l.Modifiers, l.Service = "", tt.modifiers, "Housing Deposits"
			_, ds := checker.Check(&l, nil)
			got := ""
			if len(ds) > 0 {
				got = ds[0].Rule + "/" + ds[0].Field
			}
			want := ""
			if tt.rule != "" {
				want = tt.rule + "/modifiers"
			}
			if got != want || l.HCPCS != tt.hcpcs {
				t.Errorf("got %q with code %q, want %q with %q (%+v)", got, l.HCPCS, want, tt.hcpcs, ds)
			}
		})
	}
}

// A member born on the date of service is valid; born the day after is not.
func TestMemberBornOnTheDateOfService(t *testing.T) {
	checker := &LineChecker{Coding: DefaultCodingTable(), Today: 20261123}
	tests := []struct {
		dob  civil.Date
		want string
	}{
		{20260831, ""},
		{20260901, ""},
		{20260902, FieldInvalid + "/member_dob"},
	}
	for _, tt := range tests {
		l := goodLine() // date of service 2026-09-01
		l.Member.DOB = tt.dob
		_, ds := checker.Check(&l, nil)
		got := ""
		if len(ds) > 0 {
			got = ds[0].Rule + "/" + ds[0].Field
		}
		if got != tt.want {
			t.Errorf("born %s: got %q, want %q (%+v)", tt.dob, got, tt.want, ds)
		}
	}
}
