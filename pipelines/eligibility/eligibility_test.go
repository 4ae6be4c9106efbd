package eligibility

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

const (
	testdata = "../../testdata/enrollment/"
	provA    = "1234567893"
)

// envStore is what the tests need of the state store: SQLite or PostgreSQL.
type envStore interface {
	store.Store
	ingest.Store
	EnrollmentStatus(ctx context.Context) (store.EnrollmentStatus, error)
	Member(ctx context.Context, cin string) (*domain.Enrollee, bool, error)
	Usage(ctx context.Context, key string) (int64, civil.Date, error)
}

type env struct {
	t   testing.TB
	dir string
	st  envStore
	cfg *config.Config
}

func newEnv(t *testing.T) *env { return newEnvFor(t) }

func newEnvFor(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, dir: dir, st: st, cfg: cfg}
}

func (e *env) job(files ...string) ingest.Job {
	return ingest.Job{Files: files, OutDir: filepath.Join(e.dir, "reports"), Store: e.st, Config: e.cfg, Coding: rules.DefaultCodingTable(),
		Tables: rules.DefaultTables(), Data: rules.DefaultEligibilityTables()}
}

func (e *env) write(name, content string) string {
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// load puts the family 834, an authorization feed and a programs feed in the store.
func (e *env) load(auths string) {
	e.t.Helper()
	ctx := context.Background()
	for _, r := range ingest.Ingest834(ctx, e.job(testdata+"family-change.834")) {
		if r.Err != nil || r.Loaded != 7 {
			e.t.Fatalf("834: %+v", r)
		}
	}
	for _, r := range ingest.IngestAuth(ctx, e.job(e.write("auth.csv", auths))) {
		if r.Err != nil || r.Rejected != 0 {
			e.t.Fatalf("auth feed: %+v", r)
		}
	}
	for _, r := range ingest.IngestPrograms(ctx, e.job(e.write("programs.csv", "member_cin,program,start_date,end_date\n91000007G,hospice,2026-03-15,\n"))) {
		if r.Err != nil || r.Loaded != 1 {
			e.t.Fatalf("programs feed: %+v", r)
		}
	}
}

func (e *env) judge(mode string) *Judge {
	e.t.Helper()
	st, err := e.st.EnrollmentStatus(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	rs, err := e.cfg.LoadRules()
	if err != nil {
		e.t.Fatal(err)
	}
	j, err := New(Options{Rules: rs, Groups: GroupsFor(mode, st), Status: &st})
	if err != nil {
		e.t.Fatal(err)
	}
	return j
}

const invoiceHeader = "invoice_number,invoice_date,line_number,billing_npi,billing_tin,billing_name,billing_address,billing_city,billing_state,billing_zip,member_cin,member_last_name,member_first_name,member_dob,service_from,service_to,hcpcs,modifiers,units,charge_amount,authorization_number,member_address,member_city,member_state,member_zip\n"

// line writes an invoice row: line number, member, DOB, dates, code, units.
func line(n int, cin, dob, from, to, code string, units int) string {
	f := strings.Fields(code)
	mods := ""
	if len(f) > 1 {
		mods = f[1]
	}
	return fmt.Sprintf("INV-%d,2026-11-01,%d,%s,941234567,Harbor ECM,1 Main St,Los Angeles,CA,900121234,%s,DOE,PAT,%s,%s,%s,%s,%s,%d,10.00,,1 Elm St,Fresno,CA,93721\n",
		n, n, provA, cin, dob, from, to, f[0], mods, units)
}

func (e *env) convert(name string, j *Judge, rows ...string) map[string][]string {
	e.t.Helper()
	return e.convertFile(name, j, invoiceHeader, rows...)
}

// convertFile converts rows under header and returns the rejects' rule IDs
// by line number.
func (e *env) convertFile(name string, j *Judge, header string, rows ...string) map[string][]string {
	e.t.Helper()
	in := e.write(name+".csv", header+strings.Join(rows, ""))
	out := filepath.Join(e.dir, name)
	res, err := encounters.Convert(context.Background(), encounters.Job{Inputs: []string{in}, OutDir: out, Store: e.st, Config: e.cfg,
		Coding: rules.DefaultCodingTable(), Today: 20261123, Judges: []encounters.Judge{j}})
	if err != nil {
		e.t.Fatal(err)
	}
	f, err := os.Open(res.RejectsPath)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		e.t.Fatal(err)
	}
	got := map[string][]string{} // line number → rule IDs
	for _, r := range recs[1:] {
		got[r[3]] = append(got[r[3]], r[4])
		for _, leak := range []string{"91000", "GARCIA", "1985-03-12"} {
			if strings.Contains(r[6], leak) {
				e.t.Errorf("message repeats member data: %s", r[6])
			}
		}
	}
	for k := range got {
		sort.Strings(got[k])
	}
	return got
}

const elena, elenaDOB = "91000001A", "1985-03-12"

// newPGEnv is an env whose store is a fresh database on srv.
func newPGEnv(t *testing.T, srv *testsrv.PostgresServer, db string) *env {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenPostgres(ctx, strings.Replace(srv.DSN, "/"+srv.Database+"?", "/"+db+"?", 1), store.PostgresOptions{Owner: "eligibility-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, dir: t.TempDir(), st: st, cfg: cfg}
}

// The judge on a PostgreSQL run decides as on a SQLite one.
func TestRulesOnPostgres(t *testing.T) {
	srv := testsrv.Postgres(t)
	t.Run("RulesInConvert", func(t *testing.T) { rulesInConvert(t, newPGEnv(t, srv, "rules")) })
	t.Run("AbandonedRunForgetsUsage", func(t *testing.T) { abandonedRunForgetsUsage(t, newPGEnv(t, srv, "abandoned")) })
}

func TestRulesInConvert(t *testing.T) { rulesInConvert(t, newEnv(t)) }

func rulesInConvert(t *testing.T, e *env) {
	e.load(`authorization_number,member_cin,service,provider_npi,pof,status,type,start_date,end_date,units_authorized,decision_date,decision_communicated_date
U-1,91000001A,ECM,1234567893,POF1A,approved,initial,2026-01-01,2026-12-31,3,2025-12-30,2025-12-30
C-4,91000001A,CS04,1234567893,,approved,initial,2026-03-01,2026-12-31,,2026-02-20,2026-02-20
`)
	j := e.judge(config.RulesAuto)
	if g := j.Groups(); !g.Enrollment || !g.Exclusions || !g.Authorization {
		t.Fatalf("groups %+v", g)
	}
	got := e.convert("run1", j,
		line(1, elena, elenaDOB, "2026-03-02", "2026-03-02", "G9008 U1", 1),            // sent: 1 of 3 units
		line(2, elena, elenaDOB, "2026-03-03", "2026-03-03", "G9008 U1", 2),            // sent: 3 of 3
		line(3, elena, elenaDOB, "2026-03-04", "2026-03-04", "G9008 U1", 1),            // 4 > 3
		line(1, elena, elenaDOB, "2026-03-02", "2026-03-02", "G9008 U1", 1),            // identical to line 1: a duplicate, not over the limit
		line(5, elena, "1985-03-13", "2026-03-06", "2026-03-06", "G9012 U8", 1),        // wrong DOB
		line(6, "91000006F", "1961-11-30", "2026-03-05", "2026-03-05", "H0043 U6", 1),  // share of cost, no authorization
		line(7, "93000000Z", "1990-01-01", "2026-03-05", "2026-03-05", "G9012 U8", 1),  // not enrolled (outreach needs no authorization)
		line(8, "91000007G", "1972-10-01", "2026-03-05", "2026-03-05", "G9012 U8", 1),  // outreach: accepted
		line(9, "91000007G", "1972-10-01", "2026-03-20", "2026-03-20", "G9008 U1", 1),  // in hospice, and no authorization
		line(10, "91000004D", "1967-11-30", "2026-02-27", "2026-02-27", "G9012 U8", 1), // terminated: never had coverage with the plan
		line(11, elena, elenaDOB, "2026-03-01", "2026-03-31", "H0043 U3", 31),          // CS04: 31 of 184 days
		line(12, elena, elenaDOB, "2026-04-01", "2026-08-30", "H0043 U3", 152),         // 183 of 184
	)
	want := map[string][]string{
		"3":  {rules.AuthUnitsExceeded},
		"1":  {rules.DuplicateLine},
		"5":  {rules.EligMemberMismatch},
		"6":  {rules.AuthMissing, rules.EligShareOfCost},
		"7":  {rules.EligNotEnrolled},
		"9":  {rules.AuthMissing, rules.ECMExcluded},
		"10": {rules.EligNotEnrolled},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("run 1 rejects:\n got %v\nwant %v", got, want)
	}
	// The counters hold across invoices and runs.
	got = e.convert("run2", j,
		line(21, elena, elenaDOB, "2026-03-10", "2026-03-10", "G9008 U1", 1), // 3 already sent under U-1
		line(22, elena, elenaDOB, "2026-08-31", "2026-09-01", "H0043 U3", 2), // 185 days > 184 from 2026-03-01
		line(23, elena, elenaDOB, "2026-08-31", "2026-08-31", "H0043 U3", 1), // 184: exactly the limit
	)
	want = map[string][]string{"21": {rules.AuthUnitsExceeded}, "22": {rules.CSLimitExceeded}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("run 2 rejects:\n got %v\nwant %v", got, want)
	}
	if n, first, _ := e.st.Usage(context.Background(), "cs:CS04:"+elena); n != 184 || first.String() != "2026-03-01" {
		t.Errorf("CS04 usage %d from %s", n, first)
	}
}

// An abandoned run's counters roll back with it.
func TestAbandonedRunForgetsUsage(t *testing.T) { abandonedRunForgetsUsage(t, newEnv(t)) }

func abandonedRunForgetsUsage(t *testing.T, e *env) {
	e.load("authorization_number,member_cin,service,provider_npi,pof,status,type,start_date,end_date,units_authorized\nU-1,91000001A,ECM,1234567893,POF1A,approved,initial,2026-01-01,2026-12-31,2\n")
	ctx := context.Background()
	coding := rules.DefaultCodingTable()
	leg, _ := coding.Lookup("G9008", []string{"U1"}, 20260302)
	l := &domain.InvoiceLine{Member: domain.Member{CIN: elena, DOB: 19850312}, Billing: domain.Provider{NPI: provA}, From: 20260302, To: 20260302, Units: 2000,
		HCPCS: "G9008", Modifiers: []string{"U1"}}
	decide := func(j *Judge, run store.Run) []rules.Decision {
		ds, err := j.Judge(ctx, run, l, leg)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	j := e.judge(config.RulesAuto)
	run, _ := e.st.BeginRun(ctx, "convert", "{}")
	if ds := decide(j, run); len(ds) != 0 {
		t.Fatal(ds)
	}
	if err := j.Sent(ctx, run, l, leg); err != nil {
		t.Fatal(err)
	}
	l2 := *l
	l2.From, l2.To = 20260303, 20260303
	if ds, _ := j.Judge(ctx, run, &l2, leg); len(ds) != 1 || ds[0].Rule != rules.AuthUnitsExceeded {
		t.Errorf("in the run, the counter moved: %v", ds)
	}
	run.Abandon(ctx, "test")
	run, _ = e.st.BeginRun(ctx, "convert", "{}")
	defer run.Abandon(ctx, "test")
	if ds := decide(j, run); len(ds) != 0 {
		t.Errorf("after the abandoned run: %v", ds)
	}
}

// With nothing loaded, auto runs no rule (the embedded demo converts as
// before); all enforces them anyway.
func TestGroupsFollowTheLoadedData(t *testing.T) {
	e := newEnv(t)
	j := e.judge(config.RulesAuto)
	if j.Groups().Any() {
		t.Errorf("auto with nothing loaded: %+v", j.Groups())
	}
	if got := e.convert("none", j, line(1, elena, elenaDOB, "2026-03-02", "2026-03-02", "G9008 U1", 1)); len(got) != 0 {
		t.Errorf("rules ran with nothing loaded: %v", got)
	}
	got := e.convert("all", e.judge(config.RulesAll), line(2, elena, elenaDOB, "2026-03-02", "2026-03-02", "G9008 U1", 1))
	if fmt.Sprint(got) != fmt.Sprint(map[string][]string{"2": {rules.AuthMissing, rules.EligNotEnrolled}}) {
		t.Errorf("all with nothing loaded: %v", got)
	}
	if g := e.judge(config.RulesOff).Groups(); g.Any() {
		t.Errorf("off: %+v", g)
	}
	if s := Describe(rules.Groups{Enrollment: true}); !strings.Contains(s, "on: enrollment") || !strings.Contains(s, "skipped: program exclusions") {
		t.Errorf("describe: %s", s)
	}
	_ = civil.Date(0)
}

// A void withdraws an encounter DHCS holds: the enrollment and
// authorization rules, which decide whether a service may be billed, do
// not stand in its way (an authorization denied or a coverage ended after
// the line was sent is why a plan voids it). A replacement bills the
// service again and is judged.
func TestVoidIsNotJudged(t *testing.T) {
	e := newEnv(t)
	const feed = "authorization_number,member_cin,service,provider_npi,pof,status,type,start_date,end_date\n"
	e.load(feed + "U-1,91000001A,ECM,1234567893,POF1A,approved,initial,2026-01-01,2026-12-31\n")
	if got := e.convert("run1", e.judge(config.RulesAuto), line(1, elena, elenaDOB, "2026-03-02", "2026-03-02", "G9008 U1", 1)); len(got) != 0 {
		t.Fatalf("original: %v", got)
	}
	for _, r := range ingest.IngestAuth(context.Background(), e.job(e.write("denied.csv", feed+"U-1,91000001A,ECM,1234567893,POF1A,denied,initial,2026-01-01,2026-12-31\n"))) {
		if r.Err != nil || r.Loaded != 1 {
			t.Fatalf("auth feed: %+v", r)
		}
	}
	header := strings.TrimSuffix(invoiceHeader, "\n") + ",frequency,original_claim\n"
	correction := func(n int, frequency string) string {
		return strings.TrimSuffix(line(n, elena, elenaDOB, "2026-03-02", "2026-03-02", "G9008 U1", 1), "\n") + "," + frequency + ",INV-1\n"
	}
	got := e.convertFile("run2", e.judge(config.RulesAuto), header, correction(2, "8"), correction(3, "7"))
	// The void waits for the original's DHCS Encounter ID, as any void
	// does; the replacement is not authorized.
	want := map[string][]string{"2": {rules.CorrectionHeld}, "3": {rules.AuthMissing}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("corrections:\n got %v\nwant %v", got, want)
	}
}
