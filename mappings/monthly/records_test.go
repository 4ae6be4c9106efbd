package monthly

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/mappings/roster"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

func TestNumberAndMoney(t *testing.T) {
	for _, tc := range []struct {
		n    Number
		want string
	}{{0, "0"}, {14000, "14"}, {14500, "14.5"}, {125, "0.125"}, {1010, "1.01"}, {-2500, "-2.5"}} {
		b, _ := tc.n.MarshalJSON()
		if string(b) != tc.want {
			t.Errorf("%d: %s, want %s", tc.n, b, tc.want)
		}
	}
	for _, tc := range []struct {
		c    int64
		want string
	}{{0, "0.00"}, {5, "0.05"}, {21750, "217.50"}, {-150, "-1.50"}} {
		if got := money(tc.c); got != tc.want {
			t.Errorf("%d: %s, want %s", tc.c, got, tc.want)
		}
	}
}

// An outreach line reports what the outreach code table says of it, on
// the table's dates, exactly on its modifiers; anything else is Not
// Reported, never guessed.
func TestOutreachOf(t *testing.T) {
	saved := OutreachCodes
	t.Cleanup(func() { OutreachCodes = saved })
	if o, m := outreachOf(&domain.SentService{HCPCS: "G9012", Modifiers: []string{"U8"}, From: 20261007}); o != NotReported || m != NotReported {
		t.Errorf("G9012 U8 in the built-in table: %s / %s, want Not Reported for both", o, m)
	}
	OutreachCodes = []OutreachCode{
		{HCPCS: "G9012", Modifiers: "GQ U8", Outcome: "Unsuccessful", Method: "Telephonic/Video", From: 20260101, To: 20261231},
	}
	for _, tc := range []struct {
		name          string
		hcpcs         string
		mods          []string
		from          civil.Date
		outcome, meth string
	}{
		{"first day", "G9012", []string{"GQ", "U8"}, 20260101, "Unsuccessful", "Telephonic/Video"},
		{"last day", "G9012", []string{"GQ", "U8"}, 20261231, "Unsuccessful", "Telephonic/Video"},
		{"the day before", "G9012", []string{"GQ", "U8"}, 20251231, NotReported, NotReported},
		{"the day after", "G9012", []string{"GQ", "U8"}, 20270101, NotReported, NotReported},
		{"other modifiers", "G9012", []string{"U8"}, 20260601, NotReported, NotReported},
		{"other code", "T1016", []string{"GQ", "U8"}, 20260601, NotReported, NotReported},
	} {
		o, m := outreachOf(&domain.SentService{HCPCS: tc.hcpcs, Modifiers: tc.mods, From: tc.from})
		if o != tc.outcome || m != tc.meth {
			t.Errorf("%s: %s / %s, want %s / %s", tc.name, o, m, tc.outcome, tc.meth)
		}
	}
}

// A service record's identity does not move when another line of the
// member comes in later (an earlier date, or an ECM line): an unchanged
// record keeps its key, so a Resubmission leaves it alone. Two identical
// lines still have two keys.
func TestServiceKeysStable(t *testing.T) {
	m := NewMapper(Params{From: 20260601, To: 20260630, PlanCode: func(string) (string, bool) { return "306", true },
		ServiceName: map[string]string{"CS01": "Housing Transition Navigation Services"}})
	keys := func(svcs ...domain.SentService) map[string]string {
		out := map[string]string{}
		mem := &Member{CIN: "91234567A", Services: svcs}
		err := m.Member(mem, func(ds, key string, r Record) error {
			out[key] = ds
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cs := domain.SentService{Service: "CS01", HCPCS: "H0043", From: 20260620, Units: 1000, NPI: "1111111111"}
	outreach := domain.SentService{Service: ServiceECM, HCPCS: "G9012", Modifiers: []string{"U8"}, Outreach: true, From: 20260625, NPI: "2222222222"}
	before := keys(cs, outreach)
	earlier := cs
	earlier.From = 20260605
	ecm := domain.SentService{Service: ServiceECM, HCPCS: "G9008", From: 20260601, NPI: "2222222222"}
	after := keys(ecm, earlier, cs, outreach)
	for k, ds := range before {
		if after[k] != ds {
			t.Errorf("%s record %q: not kept when other lines came in (keys now %v)", ds, k, after)
		}
	}
	if twice := keys(cs, cs); len(twice) != 2 {
		t.Errorf("two identical lines: keys %v, want two", twice)
	}
}

// An approved ECM authorization without an end date runs its type's policy
// period (Params.Periods): the member is Enrolled through its last day,
// Disenrolled ("Authorization Ended", with that day) in the month it ends,
// and has no enrollment record after; without Periods it is open.
func TestEnrollmentOfAnAuthorizationWithoutEnd(t *testing.T) {
	auth := domain.Authorization{Number: "A1", CIN: "91234567A", Service: ServiceECM, Status: domain.AuthApproved, Type: domain.AuthInitial, From: 20240115}
	mem := func() *Member {
		return &Member{CIN: "91234567A", Auths: []domain.Authorization{auth},
			Enrollee: &domain.Enrollee{Member: domain.Member{CIN: "91234567A"}, County: "34", Spans: []domain.EligibilitySpan{{From: 20230101, PlanCode: "306", County: "34"}}}}
	}
	for _, tt := range []struct {
		from, to civil.Date
		periods  *rules.EligibilityTables
		want     string // status, reason, end; "" = no record
	}{
		{20241201, 20241231, rules.DefaultEligibilityTables(), "Enrolled  -"},
		{20250101, 20250131, rules.DefaultEligibilityTables(), "Disenrolled Authorization Ended 20250114"},
		{20250201, 20250228, rules.DefaultEligibilityTables(), ""},
		{20260601, 20260630, nil, "Enrolled  -"},
	} {
		m := NewMapper(Params{From: tt.from, To: tt.to, PlanCode: func(string) (string, bool) { return "306", true }, Periods: tt.periods})
		got := ""
		err := m.Member(mem(), func(ds, key string, r Record) error {
			if e, ok := r.(*EnrollmentRecord); ok && ds == DSEnrollment {
				reason, end := "", "-"
				if e.DisenrollmentReason != nil {
					reason = *e.DisenrollmentReason
				}
				if e.ECMEndDate != nil {
					end = *e.ECMEndDate
				}
				got = e.EnrollmentStatus + " " + reason + " " + end
			}
			return nil
		})
		if err != nil || got != tt.want {
			t.Errorf("month %s: enrollment %q (%v), want %q", tt.from, got, err, tt.want)
		}
	}
}

// A member's populations of focus in a month are those of the approved
// ECM authorizations in force on a day of it: an initial authorization
// without an end date whose 12 months ended before the month adds none,
// while the reauthorization in force adds its own; each population once.
func TestPopulationsOfFocusOfAuthorizationsInForce(t *testing.T) {
	m := NewMapper(Params{From: 20261001, To: 20261031, PlanCode: func(string) (string, bool) { return "306", true },
		POFName: map[string]string{"POF1A": "Adults experiencing homelessness", "POF3A": "Adults with serious mental health and/or SUD needs"},
		Periods: rules.DefaultEligibilityTables()})
	mem := &Member{CIN: "91234567A", Auths: []domain.Authorization{
		{Number: "A1", Service: ServiceECM, Status: domain.AuthApproved, Type: domain.AuthInitial, From: 20240301, POF: "POF1A", ProviderNPI: "1234567893"},
		{Number: "A2", Service: ServiceECM, Status: domain.AuthApproved, Type: domain.AuthReauthorization, From: 20260901, To: 20270228, POF: "POF3A", ProviderNPI: "1234567893"},
		{Number: "A3", Service: ServiceECM, Status: domain.AuthApproved, Type: domain.AuthStreamlined, From: 20261020, POF: "POF3A", ProviderNPI: "1234567893"},
	}, Enrollee: &domain.Enrollee{Member: domain.Member{CIN: "91234567A"}, County: "34", Spans: []domain.EligibilitySpan{{From: 20230101, PlanCode: "306", County: "34"}}}}
	var got []string
	err := m.Member(mem, func(ds, key string, r Record) error {
		if p, ok := r.(*POFRecord); ok {
			got = append(got, p.PopulationOfFocus)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "Adults with serious mental health and/or SUD needs" {
		t.Errorf("populations of focus %q, want only the one of the authorizations in force in October 2026", got)
	}
}

// A Transitional Rent line counts once, under the approved authorization
// in force on its date (the latest to start when two are): a request
// denied in the month, or still pending, reports none of it.
func TestTransitionalRentLineCountsUnderOneApproval(t *testing.T) {
	m := NewMapper(Params{From: 20261001, To: 20261031, PlanCode: func(string) (string, bool) { return "306", true },
		ServiceName: map[string]string{"TR": "Transitional Rent"}, Periods: rules.DefaultEligibilityTables()})
	mem := &Member{CIN: "91234567A", Auths: []domain.Authorization{
		{Number: "T1", Service: ServiceTransitionalRent, Status: domain.AuthDenied, Type: domain.AuthInitial, From: 20261001, Decided: 20261005},
		{Number: "T2", Service: ServiceTransitionalRent, Status: domain.AuthApproved, Type: domain.AuthInitial, From: 20261010, To: 20270331, Decided: 20261008},
		{Number: "T3", Service: ServiceTransitionalRent, Status: domain.AuthApproved, Type: domain.AuthInitial, From: 20260401, To: 20261031, Decided: 20260325},
		{Number: "T4", Service: ServiceTransitionalRent, Status: domain.AuthPending, Type: domain.AuthInitial, From: 20261001},
	}, Services: []domain.SentService{
		{Service: ServiceTransitionalRent, HCPCS: "H0044", From: 20261001, Charge: 100000, NPI: "1234567893"},
		{Service: ServiceTransitionalRent, HCPCS: "H0044", From: 20261015, Charge: 120000, NPI: "1234567893"},
	}}
	got := map[string]string{}
	err := m.Member(mem, func(ds, key string, r Record) error {
		if tr, ok := r.(*TransitionalRentRecord); ok {
			got[tr.AuthorizationID] = fmt.Sprintf("%d %s", tr.ServicesReceived, tr.BilledAmount)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"T1": "0 0.00", "T2": "1 1200.00", "T3": "1 1000.00", "T4": "0 0.00"}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: services and amount %q, want %q (all: %v)", id, got[id], w, got)
		}
	}
}

// An authorization approved or denied without a decision date belongs to
// no month's authorization data sets: the side report tells it, once, in
// the month it starts.
func TestDecidedAuthorizationWithoutDecisionDateIsTold(t *testing.T) {
	mem := &Member{CIN: "91234567A", Auths: []domain.Authorization{
		{Number: "A1", Service: ServiceECM, Status: domain.AuthApproved, Type: domain.AuthInitial, From: 20261001, POF: "POF1A", ProviderNPI: "1234567893"},
		{Number: "C1", Service: "CS01", Status: domain.AuthDenied, Type: domain.AuthInitial, From: 20261031},
		{Number: "C2", Service: "CS01", Status: domain.AuthPending, Type: domain.AuthInitial, From: 20261015},
	}}
	for _, tt := range []struct {
		from, to civil.Date
		want     map[string]int
	}{
		{20261001, 20261031, map[string]int{
			"ecmAuthorizations: authorization left out: approved without a decision_date (the month it was decided in is unknown)": 1,
			"csAuthorizations: authorization left out: denied without a decision_date (the month it was decided in is unknown)":    1,
		}},
		{20261101, 20261130, map[string]int{}},
		{20260901, 20260930, map[string]int{}},
	} {
		m := NewMapper(Params{From: tt.from, To: tt.to, PlanCode: func(string) (string, bool) { return "306", true },
			POFName: map[string]string{"POF1A": "Adults experiencing homelessness"}, ServiceName: map[string]string{"CS01": "Housing Transition Navigation Services"}})
		var auths []string
		err := m.Member(mem, func(ds, key string, r Record) error {
			if ds == DSECMAuths || ds == DSCSAuths {
				auths = append(auths, key)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if tt.from == 20261001 && (len(auths) != 1 || auths[0] != "C2") {
			t.Errorf("October: authorization records %v, want only the pending C2", auths)
		}
		gaps := map[string]int{}
		for k, n := range m.Gaps {
			if strings.Contains(k, "decision_date") {
				gaps[k] = n
			}
		}
		if fmt.Sprint(gaps) != fmt.Sprint(tt.want) {
			t.Errorf("month %s: gaps %v, want %v", tt.from, gaps, tt.want)
		}
	}
}

// A provider's name is cut at the schema's 100 characters, not bytes: a
// name of accented or CJK letters keeps its characters whole.
func TestProviderNameKeepsItsCharacters(t *testing.T) {
	m := NewMapper(Params{From: 20261001, To: 20261031, PlanCode: func(string) (string, bool) { return "306", true },
		POFName: map[string]string{"POF1A": "Adults experiencing homelessness"}})
	for _, name := range []string{strings.Repeat("Peña ", 12), strings.Repeat("社区健康中心", 10), strings.Repeat("ñ", 101)} {
		site := roster.Site{NPI: "1234567893", Name: name, County: "36", POFs: []string{"POF1A"}, From: 20260101, CapacityCurrent: -1, CapacityMax: -1}
		var got string
		err := m.Networks([]roster.Site{site}, func(ds, key string, r Record) error {
			got = r.(*ECMNetworkRecord).ProviderName
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []rune(name)
		want = want[:min(len(want), 100)]
		if got != string(want) || !utf8.ValidString(got) {
			t.Errorf("name %q: providerName %q, want %q", name, got, string(want))
		}
	}
}

// An approved Transitional Rent authorization without an end date runs
// the period a plan gives Transitional Rent in auth_periods.csv, as its
// lines do: no record in the months after it ends.
func TestTransitionalRentAuthorizationRunsItsPeriod(t *testing.T) {
	periods := &rules.EligibilityTables{Periods: []rules.AuthPeriod{{Service: ServiceTransitionalRent, Type: domain.AuthInitial, N: 6, Months: true, From: 20260101}}}
	mem := &Member{CIN: "91234567A", Auths: []domain.Authorization{
		{Number: "T1", Service: ServiceTransitionalRent, Status: domain.AuthApproved, Type: domain.AuthInitial, From: 20260401, Decided: 20260325},
	}}
	for _, tt := range []struct {
		from, to civil.Date
		want     int
	}{{20260901, 20260930, 1}, {20261001, 20261031, 0}} {
		m := NewMapper(Params{From: tt.from, To: tt.to, PlanCode: func(string) (string, bool) { return "306", true }, Periods: periods})
		n := 0
		err := m.Member(mem, func(ds, key string, r Record) error {
			if ds == DSTransitionalRent {
				n++
			}
			return nil
		})
		if err != nil || n != tt.want {
			t.Errorf("month %s: %d transitionalRent record(s) (%v), want %d (the 6 months end on 20260930)", tt.from, n, err, tt.want)
		}
	}
}
