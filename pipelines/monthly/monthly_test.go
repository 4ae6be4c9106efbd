package monthly_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	mp "github.com/calaim-gateway/calaim-gateway/mappings/providerfile"
	"github.com/calaim-gateway/calaim-gateway/mappings/roster"
	"github.com/calaim-gateway/calaim-gateway/pipelines/monthly"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/schemas"
	"github.com/calaim-gateway/calaim-gateway/store"
)

var ctx = context.Background()

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func month(s string) mp.Month {
	m, err := mp.ParseMonth(s)
	if err != nil {
		panic(err)
	}
	return m
}

// testConfig is the defaults with a plan: county 33 is HCP 305, 36 is 306.
func testConfig(t *testing.T) (*config.Config, *rules.Set) {
	t.Helper()
	cfg := config.Default()
	tp := cfg.Partners[cfg.Encounters.TradingPartner]
	tp.Plan = config.Plan{Name: "TESTPLAN", TIN: "123456789", HCPCodes: map[string]string{"33": "305", "36": "306"}}
	cfg.Partners[cfg.Encounters.TradingPartner] = tp
	rs, err := cfg.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	return cfg, rs
}

func span(from, to, county string) domain.SpanOp {
	s := domain.EligibilitySpan{From: day(from), PlanCode: "010", County: county}
	if to != "" {
		s.To = day(to)
	}
	return domain.SpanOp{Kind: domain.SpanUpsert, Span: s}
}

func member(cin, county string, ops ...domain.SpanOp) *domain.EnrollmentChange {
	return &domain.EnrollmentChange{Enrollee: domain.Enrollee{Member: domain.Member{CIN: cin, LastName: "DOE", FirstName: "J"}, County: county}, Ops: ops}
}

// state builds the test's state:
//   - A: eligible all year (county 33); an approved ECM authorization from
//     Sep 15 to Dec 31 (crosses months), decided in September.
//   - B: eligibility ends Oct 15 (mid-month); an approved, open ECM
//     authorization decided Oct 2, no provider named.
//   - C: eligible (county 36); a CS02 denial decided Nov 3 (the next month);
//     a pending ECM request from Oct 20; two CS12 lines in October, one in
//     November, an outreach line in October.
//   - D: eligible (county 36); Transitional Rent approved Oct 1 to Mar 31
//     (decided in September) with one rent line in October; a CS01
//     approval decided Oct 10.
//   - E: an ECM approval decided in October but no 834 record and no
//     county: left out (no plan code).
//   - a roster site in county 36 offering ECM (POF1A) and CS12, capacity 40.
func state(t *testing.T) *store.SQLite {
	t.Helper()
	st, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fill(t, st)
	return st
}

// testStore is what the tests load the state through (store.SQLite,
// store.Postgres).
type testStore interface {
	monthly.Store
	BeginEnrollmentLoad(ctx context.Context, kind, file string, sum [32]byte) (store.EnrollmentLoad, error)
	BeginRun(ctx context.Context, kind, inputs string) (store.Run, error)
	CompleteRun(ctx context.Context, run int64, summary string) error
	RecordServices(ctx context.Context, run store.Run, services []domain.SentService) error
	LoadRoster(ctx context.Context, file string, sum [32]byte, sites []store.ProviderSite) (store.RosterLoad, error)
	NextControlNumber(ctx context.Context, scope string) (int64, error)
}

// fill loads the state described at state into st.
func fill(t *testing.T, st testStore) {
	t.Helper()
	l, err := st.BeginEnrollmentLoad(ctx, store.LoadKind834, "e.834", sha256.Sum256([]byte("e")))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*domain.EnrollmentChange{
		member("91000001A", "33", span("2026-01-01", "", "33")),
		member("91000002B", "33", span("2026-01-01", "2026-10-15", "33")),
		member("91000003C", "36", span("2026-01-01", "", "36")),
		member("91000004D", "36", span("2026-01-01", "", "36")),
	} {
		if err := l.PutMember(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	al, err := st.BeginEnrollmentLoad(ctx, store.LoadKindAuth, "a.csv", sha256.Sum256([]byte("a")))
	if err != nil {
		t.Fatal(err)
	}
	auth := func(n, cin, svc, pof, npi string, status domain.AuthStatus, from, to, decided string) domain.Authorization {
		a := domain.Authorization{Number: n, CIN: cin, Service: svc, POF: pof, ProviderNPI: npi, Status: status, Type: domain.AuthInitial, From: day(from)}
		if to != "" {
			a.To = day(to)
		}
		if decided != "" {
			a.Decided = day(decided)
		}
		return a
	}
	for _, a := range []domain.Authorization{
		auth("A1", "91000001A", "ECM", "POF1A", "1234567893", domain.AuthApproved, "2026-09-15", "2026-12-31", "2026-09-10"),
		auth("B1", "91000002B", "ECM", "POF3A", "", domain.AuthApproved, "2026-08-01", "", "2026-10-02"),
		auth("C1", "91000003C", "CS02", "", "", domain.AuthDenied, "2026-10-01", "", "2026-11-03"),
		auth("C2", "91000003C", "ECM", "", "", domain.AuthPending, "2026-10-20", "", ""),
		auth("D1", "91000004D", "TR", "", "", domain.AuthApproved, "2026-10-01", "2027-03-31", "2026-09-25"),
		auth("D2", "91000004D", "CS01", "", "1234567893", domain.AuthApproved, "2026-10-10", "2026-12-31", "2026-10-10"),
		auth("E1", "91000005E", "ECM", "POF1A", "", domain.AuthApproved, "2026-10-01", "", "2026-10-05"),
	} {
		if err := al.PutAuthorization(ctx, &a); err != nil {
			t.Fatal(err)
		}
	}
	if err := al.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	run, err := st.BeginRun(ctx, "convert", "test")
	if err != nil {
		t.Fatal(err)
	}
	svc := func(cin, service, hcpcs, mod, date string, units domain.Quantity, charge domain.Money, outreach bool) domain.SentService {
		return domain.SentService{CIN: cin, Service: service, HCPCS: hcpcs, Modifiers: []string{mod}, Outreach: outreach, From: day(date), To: day(date), Units: units, Charge: charge, NPI: "1234567893"}
	}
	if err := st.RecordServices(ctx, run, []domain.SentService{
		svc("91000003C", "CS12", "S5170", "U6", "2026-10-05", 14000, 21000, false),
		svc("91000003C", "CS12", "S5170", "U6", "2026-10-31", 14500, 21750, false),
		svc("91000003C", "CS12", "S5170", "U6", "2026-11-01", 14000, 21000, false),
		svc("91000003C", "ECM", "G9012", "U8", "2026-10-07", 1000, 0, true),
		svc("91000004D", "TR", "H0044", "U6", "2026-10-01", 1000, 150000, false),
	}); err != nil {
		t.Fatal(err)
	}
	if err := run.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := st.CompleteRun(ctx, run.ID(), "ok"); err != nil {
		t.Fatal(err)
	}
	site := roster.Site{NPI: "1234567893", Name: "Harbor Care", County: "36", POFs: []string{"POF1A"}, CommunitySupports: []string{"CS12"},
		From: day("2026-01-01"), CapacityCurrent: 40, CapacityMax: -1, Address: domain.Address{Street: "1 Main St", Zip: "92501"}}
	rec, _ := json.Marshal(&site)
	if _, err := st.LoadRoster(ctx, "r.csv", sha256.Sum256([]byte("r")), []store.ProviderSite{{Key: site.Key(), Contract: site.Contract(), Record: rec, SourceRow: 2}}); err != nil {
		t.Fatal(err)
	}
}

func build(t *testing.T, st monthly.Store, cfg *config.Config, rs *rules.Set, m string, dir string) (*monthly.Result, error) {
	t.Helper()
	return monthly.Run(ctx, monthly.Job{Month: month(m), OutDir: dir, Store: st, Config: cfg, Rules: rs, Log: slog.New(slog.DiscardHandler)})
}

// readFile decodes a written file and checks it against the schema as a
// whole document.
func readFile(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := schemas.Embedded()
	v, err := schemas.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if vs := set.ValidateMonthly(v); len(vs) != 0 {
		t.Fatalf("the written file is invalid: %v", vs)
	}
	return v.(map[string]any)
}

func records(doc map[string]any, ds string) []map[string]any {
	var out []map[string]any
	for _, r := range doc[ds].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

func TestCountsAtMonthBoundaries(t *testing.T) {
	cfg, rs := testConfig(t)
	st := state(t)
	dir := t.TempDir()
	res, err := build(t, st, cfg, rs, "2026-10", dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(res.Path) != "TESTPLAN_ECMCS_20261031_00001.json" || res.Type != "Original" {
		t.Errorf("file %s %s", res.Path, res.Type)
	}
	doc := readFile(t, res.Path)
	want := map[string]int{
		"ecmEnrollment": 2, "populationsOfFocus": 2, "outreach": 1, "ecmAuthorizations": 2, "leadCareManager": 1,
		"ecmProviderNetwork": 1, "csAuthorizations": 1, "csServicesReceived": 3, "csUtilization": 2, "csProviderNetwork": 1,
		"closedLoopReferrals": 0, "transitionalRent": 1,
	}
	counts := doc["header"].(map[string]any)["recordCounts"].(map[string]any)
	for ds, n := range want {
		if got := len(doc[ds].([]any)); got != n {
			t.Errorf("%s: %d records, want %d", ds, got, n)
		}
		if c := counts[ds].(json.Number).String(); c != strings.TrimSpace(jsonInt(n)) {
			t.Errorf("%s: header count %s, want %d", ds, c, n)
		}
	}
	enr := records(doc, "ecmEnrollment")
	// A: crossing months, in force on Oct 31; B: eligibility ended Oct 15.
	if enr[0]["cin"] != "91000001A" || enr[0]["enrollmentStatus"] != "Enrolled" || enr[0]["ecmEndDate"] != "20261231" || enr[0]["planCode"] != "305" {
		t.Errorf("A: %v", enr[0])
	}
	if enr[1]["cin"] != "91000002B" || enr[1]["enrollmentStatus"] != "Disenrolled" || enr[1]["disenrollmentReason"] != "Medi-Cal Eligibility Ended" || enr[1]["ecmEndDate"] != "20261015" {
		t.Errorf("B: %v", enr[1])
	}
	auths := records(doc, "ecmAuthorizations")
	if auths[0]["authorizationId"] != "B1" || auths[0]["authorizationStatus"] != "Approved" || auths[0]["decisionDate"] != "20261002" ||
		auths[1]["authorizationId"] != "C2" || auths[1]["authorizationStatus"] != "Requested" || auths[1]["decisionDate"] != nil || auths[1]["requestDate"] != nil {
		t.Errorf("ECM authorizations (A1 was decided in September): %v", auths)
	}
	cs := records(doc, "csAuthorizations")
	if cs[0]["authorizationId"] != "D2" || cs[0]["communitySupport"] != "Housing Transition Navigation Services" {
		t.Errorf("CS authorizations (C1's denial is November's): %v", cs)
	}
	util := records(doc, "csUtilization")
	if util[0]["communitySupport"] != "Medically Tailored Meals/Medically Supportive Food" || util[0]["membersServed"].(json.Number) != "1" ||
		util[0]["services"].(json.Number) != "2" || util[0]["units"].(json.Number) != "28.5" || util[0]["billedAmount"] != "427.50" {
		t.Errorf("utilization (the November line is not October's): %v", util[0])
	}
	tr := records(doc, "transitionalRent")[0]
	if tr["servicesReceived"].(json.Number) != "1" || tr["billedAmount"] != "1500.00" || tr["decisionDate"] != "20260925" {
		t.Errorf("transitional rent: %v", tr)
	}
	out := records(doc, "outreach")[0]
	if out["outreachOutcome"] != "Not Reported" || out["outreachMethod"] != "Not Reported" || out["procedureCode"] != "G9012" {
		t.Errorf("outreach: %v", out)
	}
	net := records(doc, "ecmProviderNetwork")[0]
	if net["capacityCurrent"].(json.Number) != "40" || net["capacityMaximum"] != nil || net["planCode"] != "306" {
		t.Errorf("network: %v", net)
	}
	side, err := os.ReadFile(res.SideReport)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"requestDate, turnaroundDays", "outreachMethod In Person / Telephonic/Video", "ADT-derived data", "provider returns", "closedLoopReferrals",
		"no plan code for the member's county", "the ECM authorization names no provider"} {
		if !strings.Contains(string(side), want) {
			t.Errorf("side report lacks %q:\n%s", want, side)
		}
	}

	// November: the denial decided on Nov 3 is November's; B (eligibility
	// ended in October) is gone; A is still enrolled.
	nov, err := build(t, st, cfg, rs, "2026-11", dir)
	if err != nil {
		t.Fatal(err)
	}
	nd := readFile(t, nov.Path)
	cs = records(nd, "csAuthorizations")
	if len(cs) != 1 || cs[0]["authorizationId"] != "C1" || cs[0]["authorizationStatus"] != "Denied" || cs[0]["decisionDate"] != "20261103" {
		t.Errorf("November CS authorizations: %v", cs)
	}
	if e := records(nd, "ecmEnrollment"); len(e) != 1 || e[0]["cin"] != "91000001A" {
		t.Errorf("November enrollment: %v", e)
	}
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }

// The same state gives the same name and the same bytes, whatever the
// order the rows went in.
func TestDeterministic(t *testing.T) {
	cfg, rs := testConfig(t)
	st := state(t)
	a, err := build(t, st, cfg, rs, "2026-10", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := build(t, st, cfg, rs, "2026-10", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	da, _ := os.ReadFile(a.Path)
	db, _ := os.ReadFile(b.Path)
	if filepath.Base(a.Path) != filepath.Base(b.Path) || !bytes.Equal(da, db) {
		t.Errorf("two builds differ: %s %s", a.Path, b.Path)
	}
	st2 := state(t) // a second store with the same content
	c, err := build(t, st2, cfg, rs, "2026-10", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dc, _ := os.ReadFile(c.Path)
	// generatedAt is the state's own time (the loads' commit times), so
	// only that line may differ between two stores loaded at other times.
	strip := func(b []byte) string {
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(l, `"header"`) {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	if strip(da) != strip(dc) {
		t.Error("the same content in another store gives other records")
	}
}

// An invalid document is never written: the violations come back.
func TestInvalidDocumentNotWritten(t *testing.T) {
	cfg, rs := testConfig(t)
	st := state(t)
	// A CIN the schema refuses (the 834 and the feed accept 9 letters or digits).
	l, err := st.BeginEnrollmentLoad(ctx, store.LoadKind834, "bad.834", sha256.Sum256([]byte("bad834")))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.PutMember(ctx, member("X1000001A", "33", span("2026-01-01", "", "33"))); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	al, err := st.BeginEnrollmentLoad(ctx, store.LoadKindAuth, "bad.csv", sha256.Sum256([]byte("bad")))
	if err != nil {
		t.Fatal(err)
	}
	a := domain.Authorization{Number: "X1", CIN: "X1000001A", Service: "ECM", Status: domain.AuthApproved, Type: domain.AuthInitial, From: day("2026-10-01"), Decided: day("2026-10-01")}
	if err := al.PutAuthorization(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if err := al.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	res, err := build(t, st, cfg, rs, "2026-10", dir)
	if !errors.Is(err, monthly.ErrInvalid) {
		t.Fatalf("err %v", err)
	}
	found := false
	for _, v := range res.Violations {
		if strings.HasSuffix(v.Pointer, "/cin") && v.Keyword == "pattern" {
			found = true
		}
	}
	if !found || res.Invalid != 2 {
		t.Errorf("violations %v (%d)", res.Violations, res.Invalid)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
	if v, _, _ := st.LatestVersion(ctx, "2026-10"); v != 0 {
		t.Errorf("an invalid build recorded version %d", v)
	}
}

// With schemas_dir, the plan's files are the ones validated against, and
// where the builder differs is reported field by field.
func TestOfficialSchemaSwap(t *testing.T) {
	cfg, rs := testConfig(t)
	st := state(t)
	dir := t.TempDir()
	data, _ := os.ReadFile(filepath.Join("..", "..", "schemas", schemas.MonthlyFile))
	var doc map[string]any
	json.Unmarshal(data, &doc)
	defs := doc["$defs"].(map[string]any)
	defs["money"].(map[string]any)["pattern"] = "^[0-9]+$" // whole dollars
	out, _ := json.Marshal(doc)
	os.WriteFile(filepath.Join(dir, schemas.MonthlyFile), out, 0o644)
	cfg.SchemasDir = dir
	res, err := build(t, st, cfg, rs, "2026-10", t.TempDir())
	if !errors.Is(err, monthly.ErrInvalid) {
		t.Fatalf("err %v", err)
	}
	if len(res.Violations) == 0 || !strings.HasSuffix(res.Violations[0].Pointer, "/billedAmount") || res.Violations[0].Keyword != "pattern" {
		t.Errorf("violations %v", res.Violations)
	}
	found := false
	for _, m := range res.Mismatches {
		if m.Where == "csServicesReceived" && m.Field == "billedAmount" && strings.Contains(m.Problem, "pattern") {
			found = true
		}
	}
	if !found {
		t.Errorf("mismatches %v", res.Mismatches)
	}
}

// An approved ECM authorization without an end date runs its policy
// period from the rule set (12 months for an initial one): in the month it
// ends the member is Disenrolled, "Authorization Ended", on its last day.
func TestEnrollmentEndsWithThePolicyPeriod(t *testing.T) {
	cfg, rs := testConfig(t)
	st, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	l, err := st.BeginEnrollmentLoad(ctx, store.LoadKind834, "m.834", sha256.Sum256([]byte("m.834")))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.PutMember(ctx, member("91234567A", "33", span("2023-01-01", "", "33"))); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	putAuth(t, st, "auth.csv", domain.Authorization{Number: "E1", CIN: "91234567A", Service: "ECM", ProviderNPI: "1234567893",
		Status: domain.AuthApproved, Type: domain.AuthInitial, From: day("2024-01-15"), Decided: day("2024-01-10")})
	res, err := build(t, st, cfg, rs, "2025-01", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	enr := records(readFile(t, res.Path), "ecmEnrollment")
	if len(enr) != 1 || enr[0]["enrollmentStatus"] != "Disenrolled" || enr[0]["disenrollmentReason"] != "Authorization Ended" || enr[0]["ecmEndDate"] != "20250114" {
		t.Errorf("ecmEnrollment %v, want Disenrolled, Authorization Ended, 20250114", enr)
	}
}

// stateAt is a store whose state last changed at a given time.
type stateAt struct {
	*store.SQLite
	at time.Time
}

func (s stateAt) StateAsOf(context.Context) (time.Time, error) { return s.at, nil }

// submissionDate is the state's date where the plan is (timezone): a
// change at 5:30 p.m. on Nov 4 in Los Angeles is 01:30 UTC on Nov 5, and
// the file is dated the 4th; generatedAt keeps the instant in UTC. An
// empty state dates the month's last day.
func TestSubmissionDateInThePlansTimeZone(t *testing.T) {
	cfg, rs := testConfig(t)
	cfg.Timezone = "America/Los_Angeles"
	st := state(t)
	for _, tt := range []struct {
		at         time.Time
		date, when string
	}{
		{time.Date(2026, 11, 5, 1, 30, 0, 0, time.UTC), "20261104", "2026-11-05T01:30:00Z"},
		{time.Date(2026, 11, 5, 8, 0, 0, 0, time.UTC), "20261105", "2026-11-05T08:00:00Z"},
		{time.Time{}, "20261031", "2026-10-31T00:00:00Z"},
	} {
		res, err := build(t, stateAt{st, tt.at}, cfg, rs, "2026-10", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		h := readFile(t, res.Path)["header"].(map[string]any)
		if h["submissionDate"] != tt.date || h["generatedAt"] != tt.when {
			t.Errorf("state at %s: submissionDate %v, generatedAt %v; want %s, %s", tt.at, h["submissionDate"], h["generatedAt"], tt.date, tt.when)
		}
	}
}
