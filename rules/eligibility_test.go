package rules

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

func d(s string) civil.Date {
	v, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

const (
	provA = "1234567893" // the billing provider of the test lines
	provB = "1245319599" // another ECM provider
)

// leg returns the coding-table leg of a code.
func leg(t *testing.T, code string, dos civil.Date) *CodeLeg {
	t.Helper()
	f := strings.Fields(code)
	l, res := DefaultCodingTable().Lookup(f[0], f[1:], dos)
	if res != CodeAllowed {
		t.Fatalf("%s: %v", code, res)
	}
	return l
}

func line(from, to string) *domain.InvoiceLine {
	return &domain.InvoiceLine{
		Member:  domain.Member{CIN: "91234567A", DOB: d("1980-02-14")},
		Billing: domain.Provider{NPI: provA},
		From:    d(from), To: d(to), Units: 1000,
	}
}

func enrolled(spans ...domain.EligibilitySpan) *domain.Enrollee {
	return &domain.Enrollee{Member: domain.Member{CIN: "91234567A", DOB: d("1980-02-14")}, County: "19", Spans: spans}
}

func span(from, to string) domain.EligibilitySpan {
	s := domain.EligibilitySpan{From: d(from), PlanCode: "010"}
	if to != "" {
		s.To = d(to)
	}
	return s
}

func newElig(t *testing.T) *Eligibility {
	t.Helper()
	return NewEligibility(DefaultTables(), DefaultEligibilityTables(), nil, nil, nil)
}

// rulesOf lists the rule IDs of the decisions.
func rulesOf(ds []Decision) string {
	var ids []string
	for _, x := range ds {
		ids = append(ids, x.Rule)
	}
	return strings.Join(ids, ",")
}

func TestEnrollmentRules(t *testing.T) {
	e := newElig(t)
	soc := span("2026-01-01", "2026-12-31")
	soc.ShareOfCost = 12500
	ltc := soc
	ltc.AidCodes = []string{"13"}
	other := span("2026-01-01", "")
	other.PlanCode = "999"
	tests := []struct {
		name     string
		member   *domain.Enrollee
		plans    []string
		ltc      []string
		from, to string
		dob      string
		want     string
	}{
		{"no enrollment record", nil, nil, nil, "2026-03-01", "2026-03-01", "", EligNotEnrolled},
		{"first day of the span", enrolled(span("2026-01-01", "2026-06-30")), nil, nil, "2026-01-01", "2026-01-01", "", ""},
		{"last day of the span", enrolled(span("2026-01-01", "2026-06-30")), nil, nil, "2026-06-30", "2026-06-30", "", ""},
		{"day after the span", enrolled(span("2026-01-01", "2026-06-30")), nil, nil, "2026-07-01", "2026-07-01", "", EligNotEnrolled},
		{"day before the span", enrolled(span("2026-01-01", "2026-06-30")), nil, nil, "2025-12-31", "2025-12-31", "", EligNotEnrolled},
		{"line runs past the span", enrolled(span("2026-01-01", "2026-06-30")), nil, nil, "2026-06-29", "2026-07-01", "", EligNotEnrolled},
		{"open span", enrolled(span("2026-01-01", "")), nil, nil, "2030-01-01", "2030-01-01", "", ""},
		{"adjacent spans cover a line across them", enrolled(span("2026-01-01", "2026-03-31"), span("2026-04-01", "2026-04-30")), nil, nil, "2026-03-30", "2026-04-02", "", ""},
		{"gap between spans", enrolled(span("2026-01-01", "2026-03-30"), span("2026-04-01", "2026-04-30")), nil, nil, "2026-03-30", "2026-04-02", "", EligNotEnrolled},
		{"another plan's span does not count", enrolled(other), []string{"010"}, nil, "2026-03-01", "2026-03-01", "", EligNotEnrolled},
		{"every plan code counts by default", enrolled(other), nil, nil, "2026-03-01", "2026-03-01", "", ""},
		{"share of cost", enrolled(soc), nil, nil, "2026-03-01", "2026-03-01", "", EligShareOfCost},
		{"LTC share of cost does not exclude", enrolled(ltc), nil, []string{"13"}, "2026-03-01", "2026-03-01", "", ""},
		{"LTC aid code not configured", enrolled(ltc), nil, nil, "2026-03-01", "2026-03-01", "", EligShareOfCost},
		{"date of birth differs", enrolled(span("2026-01-01", "")), nil, nil, "2026-03-01", "2026-03-01", "1980-02-15", EligMemberMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.PlanCodes = tt.plans
			e.LTCAidCode = map[string]bool{}
			for _, c := range tt.ltc {
				e.LTCAidCode[c] = true
			}
			l := line(tt.from, tt.to)
			if tt.dob != "" {
				l.Member.DOB = d(tt.dob)
			}
			ds, _ := e.Decide(&Facts{Member: tt.member}, l, leg(t, "H0043 U6", l.From), Groups{Enrollment: true})
			if got := rulesOf(ds); got != tt.want {
				t.Errorf("got %q, want %q (%v)", got, tt.want, ds)
			}
			for _, x := range ds {
				if strings.Contains(x.Message, "91234567A") || strings.Contains(x.Message, "1980") {
					t.Errorf("message repeats member data: %s", x.Message)
				}
			}
		})
	}
}

func auth(number, service, typ, status, from, to string) domain.Authorization {
	a := domain.Authorization{Number: number, CIN: "91234567A", Service: service, ProviderNPI: provA, POF: "POF1A",
		Type: domain.AuthType(typ), Status: domain.AuthStatus(status), From: d(from)}
	if to != "" {
		a.To = d(to)
	}
	return a
}

func TestAuthorizationRules(t *testing.T) {
	e := newElig(t)
	e.Extensions = []StreamlinedExtension{{NPI: provA, POFs: []string{"POF1A"}}}
	otherProv := auth("A-B", "ECM", "initial", "approved", "2026-01-01", "2026-12-31")
	otherProv.ProviderNPI = provB
	denied := auth("S-1", "ECM", "streamlined", "denied", "2026-03-01", "")
	denied.Communicated = d("2026-03-10")
	cs04 := auth("C-4", "CS04", "initial", "approved", "2026-01-01", "2026-12-31")
	cs04.POF = ""
	tr := auth("T-1", "TR", "initial", "approved", "2026-01-01", "2026-12-31")
	tr.POF = ""
	tests := []struct {
		name     string
		code     string
		auths    []domain.Authorization
		from, to string
		named    string
		want     string
	}{
		{"approved initial, first day", "G9008 U1", []domain.Authorization{auth("A-1", "ECM", "initial", "approved", "2026-01-01", "2026-12-31")}, "2026-01-01", "2026-01-01", "", ""},
		{"approved initial, last day", "G9008 U1", []domain.Authorization{auth("A-1", "ECM", "initial", "approved", "2026-01-01", "2026-12-31")}, "2026-12-31", "2026-12-31", "", ""},
		{"approved initial, day after", "G9008 U1", []domain.Authorization{auth("A-1", "ECM", "initial", "approved", "2026-01-01", "2026-12-31")}, "2027-01-01", "2027-01-01", "", AuthMissing},
		{"initial without end: 12 months, last day", "G9008 U1", []domain.Authorization{auth("A-1", "ECM", "initial", "approved", "2026-01-15", "")}, "2027-01-14", "2027-01-14", "", ""},
		{"initial without end: 12 months, day after", "G9008 U1", []domain.Authorization{auth("A-1", "ECM", "initial", "approved", "2026-01-15", "")}, "2027-01-15", "2027-01-15", "", AuthMissing},
		{"reauthorization without end: 6 months", "G9008 U1", []domain.Authorization{auth("A-1", "ECM", "reauthorization", "approved", "2026-01-15", "")}, "2026-07-15", "2026-07-15", "", AuthMissing},
		{"denied", "G9008 U1", []domain.Authorization{auth("A-1", "ECM", "initial", "denied", "2026-01-01", "2026-12-31")}, "2026-03-01", "2026-03-01", "", AuthMissing},
		{"pending", "G9008 U1", []domain.Authorization{auth("A-1", "ECM", "initial", "pending", "2026-01-01", "2026-12-31")}, "2026-03-01", "2026-03-01", "", AuthMissing},
		{"another provider's authorization", "G9008 U1", []domain.Authorization{otherProv}, "2026-03-01", "2026-03-01", "", AuthMissing},
		{"another service's authorization", "G9008 U1", []domain.Authorization{cs04}, "2026-03-01", "2026-03-01", "", AuthMissing},
		{"no authorization at all", "G9008 U1", nil, "2026-03-01", "2026-03-01", "", AuthMissing},
		{"ECM outreach needs none", "G9012 U8", nil, "2026-03-01", "2026-03-01", "", ""},
		{"housing outreach needs none", "T1016 U8", nil, "2026-03-01", "2026-03-01", "", ""},
		{"streamlined day 1", "G9008 U1", []domain.Authorization{auth("S-1", "ECM", "streamlined", "pending", "2026-03-01", "")}, "2026-03-01", "2026-03-01", "", ""},
		{"streamlined day 30", "G9008 U1", []domain.Authorization{auth("S-1", "ECM", "streamlined", "pending", "2026-03-01", "")}, "2026-03-30", "2026-03-30", "", ""},
		{"streamlined day 31", "G9008 U1", []domain.Authorization{auth("S-1", "ECM", "streamlined", "pending", "2026-03-01", "")}, "2026-03-31", "2026-03-31", "", AuthMissing},
		{"streamlined before its start", "G9008 U1", []domain.Authorization{auth("S-1", "ECM", "streamlined", "pending", "2026-03-01", "")}, "2026-02-28", "2026-02-28", "", AuthMissing},
		{"streamlined approved still only 30 days", "G9008 U1", []domain.Authorization{auth("S-1", "ECM", "streamlined", "approved", "2026-03-01", "2027-02-28")}, "2026-03-31", "2026-03-31", "", AuthMissing},
		{"streamlined denied: the day it was communicated", "G9008 U1", []domain.Authorization{denied}, "2026-03-10", "2026-03-10", "", ""},
		{"streamlined denied: the day after", "G9008 U1", []domain.Authorization{denied}, "2026-03-11", "2026-03-11", "", AuthMissing},
		{"streamlined before the policy's effective date", "G9008 U1", []domain.Authorization{auth("S-1", "ECM", "streamlined", "pending", "2024-03-01", "")}, "2024-03-02", "2024-03-02", "", AuthMissing},
		{"streamlined, open authorization with another provider", "G9008 U1", []domain.Authorization{auth("S-1", "ECM", "streamlined", "pending", "2026-03-01", ""), otherProv}, "2026-03-05", "2026-03-05", "", AuthOtherProvider},
		{"JI pre-release: the day before release", "G9008 U1", []domain.Authorization{auth("J-1", "ECM", "ji_prerelease", "pending", "2026-05-10", "")}, "2026-05-09", "2026-05-09", "", AuthMissing},
		{"JI pre-release: the release date", "G9008 U1", []domain.Authorization{auth("J-1", "ECM", "ji_prerelease", "pending", "2026-05-10", "")}, "2026-05-10", "2026-05-10", "", ""},
		{"JI pre-release denied", "G9008 U1", []domain.Authorization{auth("J-1", "ECM", "ji_prerelease", "denied", "2026-05-10", "")}, "2026-05-10", "2026-05-10", "", AuthMissing},
		{"CS authorization covers", "H0043 U3", []domain.Authorization{cs04}, "2026-03-01", "2026-03-07", "", ""},
		{"Transitional Rent without ECM", "H0044 U6", []domain.Authorization{tr}, "2026-03-01", "2026-03-31", "", TRNeedsECM},
		{"Transitional Rent with ECM", "H0044 U6", []domain.Authorization{tr, auth("A-1", "ECM", "initial", "approved", "2026-01-01", "2026-12-31")}, "2026-03-01", "2026-03-31", "", ""},
		{"Transitional Rent with ECM of another provider", "H0044 U6", []domain.Authorization{tr, otherProv}, "2026-03-01", "2026-03-31", "", ""},
		{"Transitional Rent with neither", "H0044 U6", nil, "2026-03-01", "2026-03-31", "", AuthMissing + "," + TRNeedsECM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := line(tt.from, tt.to)
			l.AuthorizationNumber = tt.named
			f := &Facts{Auths: tt.auths, Usage: func(string) (int64, civil.Date) { return 0, 0 }}
			ds, _ := e.Decide(f, l, leg(t, tt.code, l.From), Groups{Authorization: true})
			if got := rulesOf(ds); got != tt.want {
				t.Errorf("got %q, want %q (%v)", got, tt.want, ds)
			}
		})
	}
}

// The streamlined window needs a provider that qualifies: a Figure 5 pair
// in the roster (type and contracted POF), or a configured extension.
func TestStreamlinedProvider(t *testing.T) {
	e := newElig(t)
	a := auth("S-1", "ECM", "streamlined", "pending", "2026-03-01", "")
	a.POF = "POF2A"
	contract := func(types []string, pofs []string) func(string) []domain.ProviderContract {
		return func(npi string) []domain.ProviderContract {
			if npi != provA {
				return nil
			}
			return []domain.ProviderContract{{NPI: provA, Types: types, POFs: pofs, From: d("2025-01-01")}}
		}
	}
	tests := []struct {
		name      string
		contracts func(string) []domain.ProviderContract
		ext       []StreamlinedExtension
		want      string
	}{
		{"no roster, no extension", nil, nil, AuthMissing},
		{"primary care contracted for POF2A", contract([]string{"primary_care"}, []string{"POF2A"}), nil, ""},
		{"primary care not contracted for the POF", contract([]string{"primary_care"}, []string{"POF1A"}), nil, AuthMissing},
		{"street medicine is not a POF2A pair", contract([]string{"street_medicine"}, []string{"POF2A"}), nil, AuthMissing},
		{"extension for the POF", nil, []StreamlinedExtension{{NPI: provA, POFs: []string{"POF2A"}}}, ""},
		{"extension for another POF", nil, []StreamlinedExtension{{NPI: provA, POFs: []string{"POF9"}}}, AuthMissing},
		{"extension for every POF, expired", nil, []StreamlinedExtension{{NPI: provA, To: d("2026-02-28")}}, AuthMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.Extensions = tt.ext
			l := line("2026-03-05", "2026-03-05")
			ds, _ := e.Decide(&Facts{Auths: []domain.Authorization{a}, Contracts: tt.contracts}, l, leg(t, "G9008 U1", l.From), Groups{Authorization: true})
			if got := rulesOf(ds); got != tt.want {
				t.Errorf("got %q, want %q (%v)", got, tt.want, ds)
			}
		})
	}
}

func TestPOFNotLive(t *testing.T) {
	e := newElig(t)
	tests := []struct {
		pof, county, dos string
		want             string
	}{
		{"POF1A", "10", "2022-06-30", POFNotLive}, // Fresno: Appendix A column 2, 2022-07-01
		{"POF1A", "10", "2022-07-01", ""},
		{"POF1A", "19", "2022-01-01", ""}, // Los Angeles: column 1
		{"POF9", "19", "2023-12-31", POFNotLive},
		{"POF9", "19", "2024-01-01", ""},
		{"POF5", "", "2022-12-31", POFNotLive}, // statewide, no county needed
		{"POF1A", "", "2022-03-01", ""},        // county-specific POF, county unknown: not decidable
	}
	for _, tt := range tests {
		a := auth("A-1", "ECM", "initial", "approved", "2021-06-01", "2026-12-31")
		a.POF = tt.pof
		m := enrolled(span("2020-01-01", ""))
		m.County = tt.county
		l := line(tt.dos, tt.dos)
		ds, _ := e.Decide(&Facts{Member: m, Auths: []domain.Authorization{a}}, l, leg(t, "G9008 U1", d("2022-01-01")), Groups{Authorization: true})
		if got := rulesOf(ds); got != tt.want {
			t.Errorf("%s county %q on %s: got %q, want %q (%v)", tt.pof, tt.county, tt.dos, got, tt.want, ds)
		}
	}
}

func TestUnitsAndLimits(t *testing.T) {
	e := newElig(t)
	a := auth("A-1", "ECM", "initial", "approved", "2026-01-01", "2026-12-31")
	a.Units, a.HasUnits = 10000, true
	cs04 := auth("C-4", "CS04", "initial", "approved", "2026-01-01", "2026-12-31")
	tests := []struct {
		name     string
		code     string
		auth     domain.Authorization
		used     int64
		first    string
		units    domain.Quantity
		from, to string
		want     string
		use      int64 // amount the line adds when sent
	}{
		{"units below the limit", "G9008 U1", a, 8000, "", 2000, "2026-03-01", "2026-03-01", "", 2000},
		{"units one over", "G9008 U1", a, 8000, "", 3000, "2026-03-01", "2026-03-01", AuthUnitsExceeded, 0},
		{"units exactly used up", "G9008 U1", a, 10000, "", 500, "2026-03-01", "2026-03-01", AuthUnitsExceeded, 0},
		// CS04: 6 months from the first day 2026-01-01 = 181 days.
		{"CS04 reaches 181 days", "H0043 U3", cs04, 170, "2026-01-01", 11000, "2026-06-20", "2026-06-30", "", 11},
		{"CS04 182 days", "H0043 U3", cs04, 171, "2026-01-01", 11000, "2026-06-20", "2026-06-30", CSLimitExceeded, 0},
		{"CS04 first stay", "H0043 U3", cs04, 0, "", 7000, "2026-03-01", "2026-03-07", "", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := line(tt.from, tt.to)
			l.Units = tt.units
			var first civil.Date
			if tt.first != "" {
				first = d(tt.first)
			}
			f := &Facts{Auths: []domain.Authorization{tt.auth}, Usage: func(key string) (int64, civil.Date) {
				if strings.HasPrefix(key, "auth-units:") == (tt.code == "G9008 U1") {
					return tt.used, first
				}
				return 0, 0
			}}
			ds, uses := e.Decide(f, l, leg(t, tt.code, l.From), Groups{Authorization: true})
			if got := rulesOf(ds); got != tt.want {
				t.Errorf("got %q, want %q (%v)", got, tt.want, ds)
			}
			var added int64
			for _, u := range uses {
				if strings.HasPrefix(u.Key, "cs:") == (tt.code != "G9008 U1") {
					added += u.Amount
				}
			}
			if added != tt.use {
				t.Errorf("uses %v, want %d", uses, tt.use)
			}
		})
	}
}

func TestECMExcluded(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, n := range []string{"auth_periods.csv", "cs_limits.csv", "ecm_exclusions.csv"} {
		b, _ := embedded.ReadFile("data/" + n)
		fsys[n] = &fstest.MapFile{Data: b}
	}
	fsys["dsnp_contracts.csv"] = &fstest.MapFile{Data: []byte("contract,pbp,kind,effective_from,effective_to,source\nH1111,,non_eae_dsnp,2020-01-01,,test\nH2222,001,eae_dsnp,2020-01-01,,test\n")}
	data, err := LoadEligibilityTables(fsys)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEligibility(DefaultTables(), data, nil, nil, nil)
	hospice := []domain.ProgramSpan{{Program: "hospice", From: d("2026-03-01")}}
	endOf2023 := auth("A-0", "ECM", "initial", "approved", "2023-06-01", "2024-05-31")
	tests := []struct {
		name     string
		code     string
		programs []domain.ProgramSpan
		dsnp     domain.DSNP
		auths    []domain.Authorization
		dos      string
		want     string
	}{
		{"day before hospice", "G9008 U1", hospice, domain.DSNP{}, nil, "2026-02-28", ""},
		{"first day of hospice", "G9008 U1", hospice, domain.DSNP{}, nil, "2026-03-01", ECMExcluded},
		{"outreach is not excluded", "G9012 U8", hospice, domain.DSNP{}, nil, "2026-03-01", ""},
		{"Community Supports are not excluded", "H0043 U6", hospice, domain.DSNP{}, nil, "2026-03-01", ""},
		{"program the table does not exclude", "G9008 U1", []domain.ProgramSpan{{Program: "ccs", From: d("2026-01-01")}}, domain.DSNP{}, nil, "2026-03-01", ""},
		{"EAE D-SNP before 2023", "G9008 U1", nil, domain.DSNP{Contract: "H2222", PBP: "001"}, nil, "2022-12-31", ""},
		{"EAE D-SNP from 2023", "G9008 U1", nil, domain.DSNP{Contract: "H2222", PBP: "001"}, nil, "2023-01-01", ECMExcluded},
		{"EAE contract, other PBP", "G9008 U1", nil, domain.DSNP{Contract: "H2222", PBP: "002"}, nil, "2023-01-01", ""},
		{"non-EAE D-SNP in 2023", "G9008 U1", nil, domain.DSNP{Contract: "H1111"}, nil, "2023-12-31", ""},
		{"non-EAE D-SNP 2024 without continuity", "G9008 U1", nil, domain.DSNP{Contract: "H1111"}, nil, "2024-01-01", ECMExcluded},
		{"non-EAE D-SNP 2024, authorized at the end of 2023", "G9008 U1", nil, domain.DSNP{Contract: "H1111"}, []domain.Authorization{endOf2023}, "2024-05-31", ""},
		{"non-EAE D-SNP 2025, continuity over", "G9008 U1", nil, domain.DSNP{Contract: "H1111"}, []domain.Authorization{endOf2023}, "2025-01-01", ECMExcluded},
		{"unknown D-SNP contract", "G9008 U1", nil, domain.DSNP{Contract: "H9999"}, nil, "2025-01-01", ""},
		{"EAE D-SNP on its last day", "G9008 U1", nil, domain.DSNP{Contract: "H2222", PBP: "001", To: d("2026-03-31")}, nil, "2026-03-31", ECMExcluded},
		{"EAE D-SNP ended the day before", "G9008 U1", nil, domain.DSNP{Contract: "H2222", PBP: "001", To: d("2026-03-31")}, nil, "2026-04-01", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := enrolled(span("2020-01-01", ""))
			m.DSNP = tt.dsnp
			l := line(tt.dos, tt.dos)
			ds, _ := e.Decide(&Facts{Member: m, Programs: tt.programs, Auths: tt.auths}, l, leg(t, tt.code, l.From), Groups{Exclusions: true})
			if got := rulesOf(ds); got != tt.want {
				t.Errorf("got %q, want %q (%v)", got, tt.want, ds)
			}
		})
	}
}

// A period of months ends the day before the same day N months on, or on
// the month's last day when the month has no such day.
func TestAuthPeriodLast(t *testing.T) {
	months := func(n int) *AuthPeriod { return &AuthPeriod{N: n, Months: true} }
	for _, tt := range []struct {
		p           *AuthPeriod
		start, want string
	}{
		{months(6), "2025-08-28", "2026-02-27"},
		{months(6), "2025-08-29", "2026-02-28"}, // no February 29 in 2026
		{months(6), "2025-08-31", "2026-02-28"},
		{months(6), "2027-08-31", "2028-02-29"},
		{months(6), "2026-03-31", "2026-09-30"},
		{months(6), "2026-03-30", "2026-09-29"},
		{months(12), "2026-01-01", "2026-12-31"},
		{months(12), "2024-02-29", "2025-02-28"},
		{months(1), "2026-01-31", "2026-02-28"},
		{months(1), "2026-01-15", "2026-02-14"},
		{&AuthPeriod{N: 30}, "2026-01-31", "2026-03-01"},
		{&AuthPeriod{N: 1}, "2026-01-31", "2026-01-31"},
	} {
		if got := tt.p.Last(d(tt.start)); got != d(tt.want) {
			t.Errorf("%s from %s: %s, want %s", tt.p.Describe(), tt.start, got, tt.want)
		}
	}
}

func TestEligibilityTablesLoad(t *testing.T) {
	data := DefaultEligibilityTables()
	if p, ok := data.Period("ECM", domain.AuthInitial, d("2026-01-31")); !ok || p.Last(d("2026-01-31")) != d("2027-01-30") {
		t.Errorf("initial period: %+v %v", p, ok)
	}
	if p, ok := data.Period("ECM", domain.AuthStreamlined, d("2026-01-31")); !ok || p.Last(d("2026-01-31")) != d("2026-03-01") {
		t.Errorf("streamlined window: %+v %v", p, ok)
	}
	if l, ok := data.Limit("CS04", d("2026-01-01")); !ok || l.Max != 6 || l.Unit != "month" {
		t.Errorf("CS04 limit: %+v %v", l, ok)
	}
	if _, ok := data.Limit("CS02", d("2026-01-01")); ok {
		t.Error("CS02 has no limit in the seeds")
	}
	bad := fstest.MapFS{
		"auth_periods.csv":   {Data: []byte("service,type,period,period_unit,effective_from,effective_to,source\nECM,forever,12,year,2022-01-01,,x\n")},
		"cs_limits.csv":      {Data: []byte("service_id,measure,max,unit,per,effective_from,effective_to,source\nCS04,days,six,month,member,2022-01-01,,x\n")},
		"ecm_exclusions.csv": {Data: []byte("program,name,excluded_from,excluded_to,continuity_active_on,continuity_to,source\nhospice,Hospice,2022-13-01,,,,x\n")},
		"dsnp_contracts.csv": {Data: []byte("contract,pbp,kind,effective_from,effective_to,source\nH1,,medicare,2022-01-01,,x\n")},
	}
	_, err := LoadEligibilityTables(bad)
	for _, want := range []string{"auth_periods.csv line 2: type", "period_unit", "cs_limits.csv line 2: max", "ecm_exclusions.csv line 2", "dsnp_contracts.csv line 2: kind"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}

// Every rule of the feature is catalogued with a source and a date.
func TestCatalogEntries(t *testing.T) {
	for _, id := range []string{EligNotEnrolled, EligShareOfCost, EligMemberMismatch, POFNotLive, AuthMissing, AuthOutreachExempt,
		AuthStreamlinedWindow, AuthJIPrerelease, AuthOtherProvider, AuthUnitsExceeded, CSLimitExceeded, TRNeedsECM, ECMExcluded} {
		r, ok := Lookup(id)
		if !ok || r.Source == "" || r.From == 0 || r.Description == "" {
			t.Errorf("%s: %+v %v", id, r, ok)
		}
	}
}

// A line identical to one already sent is over a limit only by counting
// itself twice: the limit decisions go (it is DUPLICATE-LINE, decided by
// the caller with the sent lines), and the other decisions stay.
func TestLimitsOfASentLine(t *testing.T) {
	e := newElig(t)
	a := auth("A-1", "ECM", "initial", "approved", "2026-01-01", "2026-12-31")
	a.Units, a.HasUnits = 10000, true
	cs04 := auth("C-4", "CS04", "initial", "approved", "2026-01-01", "2026-12-31")
	full := func(string) (int64, civil.Date) { return 10000, d("2026-01-01") }
	tests := []struct {
		name  string
		code  string
		auth  domain.Authorization
		sent  func(LineKey) bool
		spans bool // enrolled: without, ELIG-NOT-ENROLLED stays beside the limit
		want  string
	}{
		{"units, not sent", "G9008 U1", a, func(LineKey) bool { return false }, true, AuthUnitsExceeded},
		{"units, unknown", "G9008 U1", a, nil, true, AuthUnitsExceeded},
		{"units, sent", "G9008 U1", a, func(LineKey) bool { return true }, true, ""},
		{"CS limit, sent", "H0043 U3", cs04, func(LineKey) bool { return true }, true, ""},
		{"CS limit, not sent", "H0043 U3", cs04, func(LineKey) bool { return false }, true, CSLimitExceeded},
		{"sent, other decisions stay", "G9008 U1", a, func(LineKey) bool { return true }, false, EligNotEnrolled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := line("2026-06-20", "2026-06-30")
			l.Units = 11000
			var asked LineKey
			f := &Facts{Auths: []domain.Authorization{tt.auth}, Usage: full}
			if tt.spans {
				f.Member = enrolled(span("2026-01-01", ""))
			}
			if tt.sent != nil {
				f.Sent = func(k LineKey) bool { asked = k; return tt.sent(k) }
			}
			ds, _ := e.Decide(f, l, leg(t, tt.code, l.From), Groups{Enrollment: true, Authorization: true})
			if got := rulesOf(ds); got != tt.want {
				t.Errorf("got %q, want %q (%v)", got, tt.want, ds)
			}
			if tt.sent != nil && tt.spans && asked != KeyOf(l) {
				t.Errorf("asked about key %x, want the line's %x", asked, KeyOf(l))
			}
		})
	}
}

// A replacement or void stands for its original, whose units and days the
// counters already hold (they do not move for a correction): it is not
// over a limit by counting them a second time, even when it corrects the
// dates (so its duplicate key is not the original's).
func TestLimitsOfACorrection(t *testing.T) {
	e := newElig(t)
	a := auth("A-1", "ECM", "initial", "approved", "2026-01-01", "2026-12-31")
	a.Units, a.HasUnits = 3000, true
	cs04 := auth("C-4", "CS04", "initial", "approved", "2026-01-01", "2026-12-31")
	tests := []struct {
		name      string
		code      string
		auth      domain.Authorization
		used      int64 // the original's amount, counted when it was sent
		frequency string
		from, to  string
		units     domain.Quantity
		want      string
	}{
		// 3 units authorized, the original's 3 sent.
		{"units, a new line", "G9008 U1", a, 3000, "", "2026-03-03", "2026-03-03", 3000, AuthUnitsExceeded},
		{"units, replacement moving the date", "G9008 U1", a, 3000, "7", "2026-03-03", "2026-03-03", 3000, ""},
		{"units, void", "G9008 U1", a, 3000, "8", "2026-03-02", "2026-03-02", 3000, ""},
		// CS04: 181 days from 2026-01-01 (6 months), all used by the original.
		{"CS04, a new stay", "H0043 U3", cs04, 181, "", "2026-06-21", "2026-06-30", 10000, CSLimitExceeded},
		{"CS04, replacement moving the stay a day", "H0043 U3", cs04, 181, "7", "2026-06-21", "2026-06-30", 10000, ""},
		{"CS04, void", "H0043 U3", cs04, 181, "8", "2026-06-20", "2026-06-29", 10000, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := line(tt.from, tt.to)
			l.Units, l.Frequency = tt.units, tt.frequency
			f := &Facts{Member: enrolled(span("2026-01-01", "")), Auths: []domain.Authorization{tt.auth},
				Usage: func(string) (int64, civil.Date) { return tt.used, d("2026-01-01") },
				Sent:  func(LineKey) bool { return false }}
			ds, _ := e.Decide(f, l, leg(t, tt.code, l.From), Groups{Enrollment: true, Authorization: true})
			if got := rulesOf(ds); got != tt.want {
				t.Errorf("got %q, want %q (%v)", got, tt.want, ds)
			}
		})
	}
}

// A calendar-year limit in days counts each day of service in its own
// year: a stay over New Year counts its December days in the year ending
// and its January days in the year starting, each against its own budget.
func TestCSLimitPerCalendarYear(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, n := range []string{"auth_periods.csv", "ecm_exclusions.csv", "dsnp_contracts.csv"} {
		b, _ := embedded.ReadFile("data/" + n)
		fsys[n] = &fstest.MapFile{Data: b}
	}
	fsys["cs_limits.csv"] = &fstest.MapFile{Data: []byte("service_id,measure,max,unit,per,effective_from,effective_to,source\nCS06,days,14,day,calendar_year,2022-01-01,,test\n")}
	data, err := LoadEligibilityTables(fsys)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEligibility(DefaultTables(), data, nil, nil, nil)
	respite := auth("R-1", "CS06", "initial", "approved", "2026-01-01", "2027-12-31")
	const y2026, y2027 = "cs:CS06:91234567A:2026", "cs:CS06:91234567A:2027"
	tests := []struct {
		name     string
		used     map[string]int64
		from, to string
		want     string
		uses     map[string]int64
	}{
		{"14 days in a year", nil, "2026-12-01", "2026-12-14", "", map[string]int64{y2026: 14}},
		{"15 days in a year", nil, "2026-12-01", "2026-12-15", CSLimitExceeded, nil},
		{"over New Year: 2 days in each year's budget", map[string]int64{y2026: 12}, "2026-12-30", "2027-01-02", "", map[string]int64{y2026: 2, y2027: 2}},
		{"over New Year: the year ending is full", map[string]int64{y2026: 13}, "2026-12-30", "2027-01-02", CSLimitExceeded, nil},
		{"over New Year: the January days fit the new year", map[string]int64{y2026: 11}, "2026-12-30", "2027-01-03", "", map[string]int64{y2026: 2, y2027: 3}},
		{"over New Year: the new year is full", map[string]int64{y2027: 13}, "2026-12-31", "2027-01-02", CSLimitExceeded, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := line(tt.from, tt.to)
			f := &Facts{Auths: []domain.Authorization{respite}, Usage: func(key string) (int64, civil.Date) { return tt.used[key], 0 }}
			ds, uses := e.Decide(f, l, leg(t, "H0045 U6", l.From), Groups{Authorization: true})
			if got := rulesOf(ds); got != tt.want {
				t.Errorf("got %q, want %q (%v)", got, tt.want, ds)
			}
			got := map[string]int64{}
			for _, u := range uses {
				if strings.HasPrefix(u.Key, "cs:") {
					got[u.Key] += u.Amount
				}
			}
			if len(tt.uses) == 0 && len(got) != 0 || len(tt.uses) != 0 && fmt.Sprint(got) != fmt.Sprint(tt.uses) {
				t.Errorf("uses %v, want %v", got, tt.uses)
			}
		})
	}
}
