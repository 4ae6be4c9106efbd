package rules_test

import (
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// The embedded thresholds are the policy guide's: adults 21 and over 5 ED
// visits or 3 inpatient stays in 6 months (S004 L276-277), children and
// youth 3 or 2 in 12 months (S004 L289-291).
func TestUtilizationThresholdsAreThePolicyGuides(t *testing.T) {
	ths := rules.DefaultTables().Utilization
	want := map[string]rules.UtilizationThreshold{
		"POF2A": {POF: "POF2A", MinAge: 21, MaxAge: -1, WindowMonths: 6, EDVisits: 5, InpatientStays: 3},
		"POF2B": {POF: "POF2B", MinAge: 0, MaxAge: 20, WindowMonths: 12, EDVisits: 3, InpatientStays: 2},
	}
	if len(ths) != len(want) {
		t.Fatalf("%d thresholds, want %d", len(ths), len(want))
	}
	for _, th := range ths {
		w := want[th.POF]
		if th.MinAge != w.MinAge || th.MaxAge != w.MaxAge || th.WindowMonths != w.WindowMonths || th.EDVisits != w.EDVisits || th.InpatientStays != w.InpatientStays || th.Source == "" {
			t.Errorf("%s: %+v, want %+v with a source", th.POF, th, w)
		}
	}
}

// planned returns planned inpatient stays on days.
func planned(days ...civil.Date) []rules.UtilizationVisit {
	out := visitsOn(true, days...)
	for i := range out {
		out[i].Planned = true
	}
	return out
}

func visitsOn(inpatient bool, days ...civil.Date) []rules.UtilizationVisit {
	var out []rules.UtilizationVisit
	for _, d := range days {
		out = append(out, rules.UtilizationVisit{Day: d, Inpatient: inpatient})
	}
	return out
}

// Counts at the thresholds and the window's edges (as of 2026-06-30 the
// adult window is 2025-12-31 to 2026-06-30; the child window 2025-07-01 to
// 2026-06-30).
func TestMeetsUtilizationThreshold(t *testing.T) {
	ths := rules.DefaultTables().Utilization
	asOf := civil.New(2026, 6, 30)
	d := func(y int, m time.Month, day int) civil.Date { return civil.New(y, m, day) }
	inWindow := []civil.Date{d(2026, 2, 1), d(2026, 3, 1), d(2026, 4, 1), d(2026, 5, 1)}
	for _, tc := range []struct {
		name    string
		age     int
		visits  []rules.UtilizationVisit
		wantPOF string // "" = does not qualify
	}{
		{"adult 5 ED", 30, visitsOn(false, append(inWindow, d(2026, 6, 1))...), "POF2A"},
		{"adult 4 ED", 30, visitsOn(false, inWindow...), ""},
		{"adult 5th ED on the window's first day", 30, visitsOn(false, append(inWindow, d(2025, 12, 31))...), "POF2A"},
		{"adult 5th ED the day before the window", 30, visitsOn(false, append(inWindow, d(2025, 12, 30))...), ""},
		{"adult 5th ED on the as-of date", 30, visitsOn(false, append(inWindow, asOf)...), "POF2A"},
		{"adult 5th ED the day after", 30, visitsOn(false, append(inWindow, asOf.AddDays(1))...), ""},
		{"adult 3 stays", 45, visitsOn(true, inWindow[:3]...), "POF2A"},
		{"adult 2 stays", 45, visitsOn(true, inWindow[:2]...), ""},
		{"adult 2 stays and 4 ED", 45, append(visitsOn(true, inWindow[:2]...), visitsOn(false, inWindow...)...), ""},
		{"child 3 ED", 20, visitsOn(false, inWindow[:3]...), "POF2B"},
		{"child 3rd ED 11 months back", 20, visitsOn(false, d(2025, 7, 1), d(2026, 1, 1), d(2026, 2, 1)), "POF2B"},
		{"child 3rd ED a year and a day back", 20, visitsOn(false, d(2025, 6, 30), d(2026, 1, 1), d(2026, 2, 1)), ""},
		{"child 2 stays", 5, visitsOn(true, inWindow[:2]...), "POF2B"},
		{"child 1 stay", 5, visitsOn(true, inWindow[:1]...), ""},
		{"21 with 3 ED is an adult", 21, visitsOn(false, inWindow[:3]...), ""},
		{"adult 3 planned stays", 45, planned(inWindow[:3]...), ""},
		{"adult 2 unplanned stays and 1 planned", 45, append(visitsOn(true, inWindow[:2]...), planned(inWindow[2])...), ""},
		{"adult 4 ED and a planned stay: not a 5th ED visit", 45, append(visitsOn(false, inWindow...), planned(d(2026, 6, 1))...), ""},
		{"child 2 planned stays", 5, planned(inWindow[:2]...), ""},
		{"child 1 unplanned stay and 1 planned", 5, append(visitsOn(true, inWindow[:1]...), planned(inWindow[1])...), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, ok := rules.MeetsUtilizationThreshold(ths, tc.age, asOf, tc.visits)
			got := ""
			if ok {
				got = res.Threshold.POF
			}
			if got != tc.wantPOF {
				t.Errorf("got %q (%+v), want %q", got, res, tc.wantPOF)
			}
		})
	}
	res, ok := rules.MeetsUtilizationThreshold(ths, 45, asOf, append(append(visitsOn(true, inWindow[:3]...), planned(inWindow[:2]...)...), planned(d(2025, 12, 30))...))
	if !ok || res.Inpatient != 3 || res.Planned != 2 || res.EDVisits != 0 {
		t.Errorf("3 unplanned and 2 planned stays in the window, 1 planned before it: %+v %v", res, ok)
	}
	if _, ok := rules.MeetsUtilizationThreshold(ths, 10, civil.New(2023, 6, 30), visitsOn(true, d(2023, 1, 1), d(2023, 2, 1))); ok {
		t.Error("POF2B before 2023-07-01 (its go-live)")
	}
}

func TestAgeOn(t *testing.T) {
	for _, tc := range []struct {
		dob  civil.Date
		want int
	}{{civil.New(2005, 6, 30), 21}, {civil.New(2005, 7, 1), 20}, {civil.New(2005, 6, 29), 21}, {civil.New(2005, 5, 31), 21}, {civil.New(2005, 12, 1), 20}} {
		if got := rules.AgeOn(tc.dob, civil.New(2026, 6, 30)); got != tc.want {
			t.Errorf("born %s: %d, want %d", tc.dob, got, tc.want)
		}
	}
}

// An ED registration that becomes an inpatient stay (same visit number)
// counts once, as the stay (S004 L314); outpatient, preadmit and lone
// discharge events are no visit.
func TestUtilizationVisits(t *testing.T) {
	at := func(day int) time.Time { return time.Date(2026, 3, day, 20, 0, 0, 0, time.UTC) }
	ev := func(kind domain.ADTKind, class, visit string, day int) domain.ADTEvent {
		return domain.ADTEvent{Sender: "stm", Kind: kind, PatientClass: class, VisitNumber: visit, EventTime: at(day)}
	}
	loc, _ := time.LoadLocation("America/Los_Angeles")
	got := rules.UtilizationVisits([]domain.ADTEvent{
		ev(domain.ADTRegister, "E", "V1", 2), ev(domain.ADTToInpatient, "I", "V1", 3), // ED then inpatient: one stay
		ev(domain.ADTRegister, "E", "", 5),                                       // ED
		ev(domain.ADTAdmit, "I", "V2", 7), ev(domain.ADTDischarge, "I", "V2", 9), // one stay
		ev(domain.ADTRegister, "O", "V3", 10), // outpatient
		ev(domain.ADTPreadmit, "I", "V4", 11), // preadmit
		ev(domain.ADTDischarge, "I", "", 12),  // a discharge alone
		ev(domain.ADTAdmit, "E", "V5", 1),     // ED (admit of class E)
	}, rules.DefaultTables().AdmissionTypes, loc)
	want := []rules.UtilizationVisit{
		{Day: civil.New(2026, 3, 1), Inpatient: false},
		{Day: civil.New(2026, 3, 2), Inpatient: true},
		{Day: civil.New(2026, 3, 5), Inpatient: false},
		{Day: civil.New(2026, 3, 7), Inpatient: true},
	}
	if len(got) != len(want) {
		t.Fatalf("visits %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("visit %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestUtilizationVisitsBySendingSystem: one profile may carry several
// hospitals' systems, whose visit numbers are their own: the same PV1-19
// from two sending facilities, or two sending applications, is two visits;
// from one system (its IDs sent with other spacing) one.
func TestUtilizationVisitsBySendingSystem(t *testing.T) {
	at := time.Date(2026, 3, 2, 20, 0, 0, 0, time.UTC)
	ev := func(app, fac string) domain.ADTEvent {
		return domain.ADTEvent{Sender: "hie", SendingApplication: app, SendingFacility: fac, Kind: domain.ADTRegister, PatientClass: "E", VisitNumber: "V1", EventTime: at}
	}
	for _, tc := range []struct {
		name   string
		events []domain.ADTEvent
		want   int
	}{
		{"two facilities", []domain.ADTEvent{ev("EPIC", "STMARYS"), ev("EPIC", "MERCY")}, 2},
		{"two applications", []domain.ADTEvent{ev("EPIC", "STMARYS"), ev("CERNER", "STMARYS")}, 2},
		{"one system", []domain.ADTEvent{ev("EPIC", "STMARYS"), ev(" EPIC", "STMARYS ")}, 1},
	} {
		if got := rules.UtilizationVisits(tc.events, rules.DefaultTables().AdmissionTypes, time.UTC); len(got) != tc.want {
			t.Errorf("%s: %d visits %+v, want %d", tc.name, len(got), got, tc.want)
		}
	}
}

// POF-UNPLANNED-STAY: a stay is unplanned when one of its admit (class I)
// or to-inpatient events carries an unplanned PV1-4 type; a stay whose
// admit events carry none is judged by the table's not-sent row; a planned
// stay is marked planned and never becomes an ED visit, even when it began
// in the ED; the admission types of other events (ED registrations,
// discharges, transfers) do not decide.
func TestUtilizationVisitsUnplanned(t *testing.T) {
	type e struct {
		kind  domain.ADTKind
		class string
		atype string
		day   int
		visit string
	}
	tab, err := writeAdmissionTypes(t, `E,yes,2022-01-01,,x
C,no,2022-01-01,2026-03-09,x
C,yes,2026-03-10,,x
R,no,2022-01-01,,x
*,yes,2022-01-01,,x
,no,2026-03-05,,x
,yes,2022-01-01,2026-03-04,x
`)
	if err != nil {
		t.Fatal(err)
	}
	d := func(day int) civil.Date { return civil.New(2026, 3, day) }
	for _, tc := range []struct {
		name   string
		events []e
		want   rules.UtilizationVisit // Day 0 = no visit
	}{
		{"emergency admit", []e{{domain.ADTAdmit, "I", "E", 2, "V"}}, rules.UtilizationVisit{Day: d(2), Inpatient: true}},
		{"elective admit", []e{{domain.ADTAdmit, "I", "C", 2, "V"}}, rules.UtilizationVisit{Day: d(2), Inpatient: true, Planned: true}},
		{"routine admit", []e{{domain.ADTAdmit, "I", "R", 2, "V"}}, rules.UtilizationVisit{Day: d(2), Inpatient: true, Planned: true}},
		{"elective on the day its row ends", []e{{domain.ADTAdmit, "I", "C", 9, "V"}}, rules.UtilizationVisit{Day: d(9), Inpatient: true, Planned: true}},
		{"elective on the day the next row starts", []e{{domain.ADTAdmit, "I", "C", 10, "V"}}, rules.UtilizationVisit{Day: d(10), Inpatient: true}},
		{"a code no row names", []e{{domain.ADTAdmit, "I", "Z", 2, "V"}}, rules.UtilizationVisit{Day: d(2), Inpatient: true}},
		{"not sent, on the not-sent row's last counted day", []e{{domain.ADTAdmit, "I", "", 4, "V"}}, rules.UtilizationVisit{Day: d(4), Inpatient: true}},
		{"not sent, once the not-sent row says planned", []e{{domain.ADTAdmit, "I", "", 5, "V"}}, rules.UtilizationVisit{Day: d(5), Inpatient: true, Planned: true}},
		{"elective A01 then emergency A06: unplanned", []e{{domain.ADTAdmit, "I", "C", 2, "V"}, {domain.ADTToInpatient, "I", "E", 3, "V"}}, rules.UtilizationVisit{Day: d(2), Inpatient: true}},
		{"emergency A06 then elective A01: unplanned", []e{{domain.ADTToInpatient, "I", "E", 2, "V"}, {domain.ADTAdmit, "I", "C", 3, "V"}}, rules.UtilizationVisit{Day: d(2), Inpatient: true}},
		{"an elective A01 decides over an A06 without a code", []e{{domain.ADTAdmit, "I", "C", 2, "V"}, {domain.ADTToInpatient, "I", "", 3, "V"}}, rules.UtilizationVisit{Day: d(2), Inpatient: true, Planned: true}},
		{"not sent is judged on the first admit event's day", []e{{domain.ADTToInpatient, "I", "", 6, "V"}, {domain.ADTAdmit, "I", "", 4, "V"}}, rules.UtilizationVisit{Day: d(4), Inpatient: true}},
		{"ED then elective A06: planned, not an ED visit", []e{{domain.ADTRegister, "E", "E", 2, "V"}, {domain.ADTToInpatient, "I", "C", 3, "V"}}, rules.UtilizationVisit{Day: d(2), Inpatient: true, Planned: true}},
		{"the ED registration's type does not decide the stay", []e{{domain.ADTRegister, "E", "E", 6, "V"}, {domain.ADTToInpatient, "I", "", 7, "V"}}, rules.UtilizationVisit{Day: d(6), Inpatient: true, Planned: true}},
		{"a transfer's or discharge's type does not decide", []e{{domain.ADTAdmit, "I", "C", 2, "V"}, {domain.ADTTransfer, "I", "E", 3, "V"}, {domain.ADTDischarge, "I", "E", 4, "V"}}, rules.UtilizationVisit{Day: d(2), Inpatient: true, Planned: true}},
		{"an outpatient admit's type does not decide", []e{{domain.ADTAdmit, "O", "E", 2, "V"}, {domain.ADTToInpatient, "I", "R", 3, "V"}}, rules.UtilizationVisit{Day: d(3), Inpatient: true, Planned: true}},
		{"ED visit with an elective type is still an ED visit", []e{{domain.ADTRegister, "E", "C", 2, "V"}}, rules.UtilizationVisit{Day: d(2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var evs []domain.ADTEvent
			for _, x := range tc.events {
				evs = append(evs, domain.ADTEvent{Sender: "stm", Kind: x.kind, PatientClass: x.class, AdmissionType: x.atype, VisitNumber: x.visit,
					EventTime: time.Date(2026, 3, x.day, 12, 0, 0, 0, time.UTC)})
			}
			got := rules.UtilizationVisits(evs, tab.AdmissionTypes, time.UTC)
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("visits %+v, want [%+v]", got, tc.want)
			}
		})
	}
}
