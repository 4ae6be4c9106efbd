package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/pipelines/judges"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// eligibilityJudges builds the judges of each conversion from what st
// holds (pipelines/judges), as `calgw run` does.
func eligibilityJudges(cfg *config.Config, st *store.Postgres) func(context.Context) ([]encounters.Judge, error) {
	rs, err := cfg.LoadRules()
	return func(ctx context.Context) ([]encounters.Judge, error) {
		if err != nil {
			return nil, err
		}
		return judges.New(ctx, judges.Env{Config: cfg, Rules: rs, Store: st})
	}
}

// demoHeader is the invoice template with the service and authorization
// columns (internal/demo's invoices).
const demoHeader = "invoice_number,invoice_date,line_number,billing_npi,billing_tin,billing_name,billing_address,billing_city,billing_state,billing_zip,billing_taxonomy,member_cin,member_last_name,member_first_name,member_dob,member_gender,service_from,service_to,hcpcs,modifiers,service,units,charge_amount,place_of_service,diagnosis,authorization_number,note"

// depositLine bills a Housing Deposit (H0044 U2, one unit) for member
// 91234567A of the demo 834 under AUTH-CS-1003, which authorizes one unit.
func depositLine(inv string, line int, day string) string {
	return fmt.Sprintf("%s,2026-10-02,%d,1456789019,94-1234567,Bay Street Housing Partners,1200 Mission St,San Francisco,CA,94103-1520,251S00000X,91234567A,Rivera,Ana,1978-04-12,F,2026-09-%s,2026-09-%s,H0044,U2,,1,1500.00,12,Z59.01,AUTH-CS-1003,deposit",
		inv, line, day, day)
}

// TestEnrollmentFeedsOnPostgres: two instances share a PostgreSQL state
// store. The demo 834, authorization feed and an other-programs feed
// dropped into the inbox are loaded into PostgreSQL; then two invoices, each billing the one
// authorized Housing Deposit unit of the same member, and one line for a
// member who is not enrolled, are converted with the eligibility and
// authorization rules: one deposit goes out, the other is over the
// authorized units (whichever instance converts it), and the member
// without enrollment is rejected.
func TestEnrollmentFeedsOnPostgres(t *testing.T) {
	srv := testsrv.Postgres(t)
	var dbs atomic.Int64
	dsn := pgDatabase(t, srv, &dbs)
	dir := t.TempDir()
	routes := strings.Replace(feedRoutes, "  - {pattern: \"roster-*\", kind: roster}\n", "", 1)
	cfg := loadConfig(t, localConfig(dir, routes+"state: {store: postgres, postgres: {dsn_env: CALGW_TEST_PG_DSN}, lease: 2s}\n"))
	ctx := context.Background()
	var pgs []*store.Postgres
	for _, name := range []string{"instance-a", "instance-b"} {
		pg, err := store.OpenPostgres(ctx, dsn, store.PostgresOptions{Owner: name, Lease: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pg.Close() })
		pgs = append(pgs, pg)
		log := &logBuffer{}
		d, err := New(ctx, Options{Config: cfg, Store: pg, StateDir: t.TempDir(), Instance: name, Shared: true,
			Log: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})), Judges: eligibilityJudges(cfg, pg)})
		if err != nil {
			t.Fatal(err)
		}
		h := &harness{t: t, dir: dir, cfg: cfg, st: pg, d: d, log: log}
		h.run()
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s log:\n%s", name, log.String())
			}
		})
	}
	inbox := filepath.Join(dir, "inbox")
	dropFile(t, inbox, "sunrise-2026-09.834", readTestdata(t, enrollmentData+"demo-sunrise-2026-09.834"))
	dropFile(t, inbox, "auth-2026-09.csv", readTestdata(t, enrollmentData+"demo-auth-2026-09.csv"))
	dropFile(t, inbox, "programs-2026-09.csv", readTestdata(t, enrollmentData+"other-programs.csv"))
	waitFor(t, 60*time.Second, "the feeds archived", drained(t, dir, 3))
	waitFor(t, 20*time.Second, "the feeds' ledger entries final", settled(t, pgs[0], 3))
	status, err := pgs[0].EnrollmentStatus(ctx)
	if err != nil || status.Loads834 != 1 || status.AuthLoads != 1 || status.ProgramLoads != 1 || status.Members == 0 {
		t.Fatalf("loaded into PostgreSQL: %+v %v", status, err)
	}
	if _, ok, err := pgs[1].Member(ctx, "91234567A"); err != nil || !ok {
		t.Fatalf("member 91234567A: %v %v", ok, err)
	}
	if ps, err := pgs[1].Programs(ctx, "91000007G"); err != nil || len(ps) != 1 || ps[0].Program != "hospice" {
		t.Fatalf("programs of 91000007G: %+v %v", ps, err)
	}

	notEnrolled := strings.NewReplacer("91234567A,Rivera,Ana,1978-04-12", "99999999Z,Nobody,Ned,1970-01-01", "AUTH-CS-1003", "").Replace(depositLine("INV-PG-1", 2, "06"))
	dropFile(t, inbox, "bay-1.csv", []byte(demoHeader+"\n"+depositLine("INV-PG-1", 1, "05")+"\n"+notEnrolled+"\n"))
	dropFile(t, inbox, "bay-2.csv", []byte(demoHeader+"\n"+depositLine("INV-PG-2", 1, "20")+"\n"))
	waitFor(t, 60*time.Second, "the invoices archived", drained(t, dir, 5))
	waitFor(t, 20*time.Second, "every ledger entry final", settled(t, pgs[0], 5))

	files := byName(t, pgs[0])
	var rejects string
	for _, name := range []string{"bay-1.csv", "bay-2.csv"} {
		e := files[name]
		if e.State != store.FileArchived {
			t.Fatalf("%s: %s (%s)", name, e.State, e.Note)
		}
		rejects += string(readTestdata(t, filepath.Join(dir, "outbox", "responses", strings.TrimSuffix(name, ".csv")+"."+itoa(e.ID)+".rejects.csv")))
	}
	if n := strings.Count(rejects, ","+rules.AuthUnitsExceeded+","); n != 1 {
		t.Errorf("%d lines over the authorized unit, want 1:\n%s", n, rejects)
	}
	if !strings.Contains(rejects, "INV-PG-1,2,"+rules.EligNotEnrolled+",") {
		t.Errorf("the member not enrolled was not rejected:\n%s", rejects)
	}
	_, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs"))
	if all.lines != 1 {
		t.Errorf("%d lines delivered, want the one authorized deposit: %v", all.lines, all.ids)
	}
	if n, _, err := pgs[1].Usage(ctx, rules.UnitsKey("AUTH-CS-1003")); err != nil || n != 1000 {
		t.Errorf("units used under AUTH-CS-1003: %d %v, want 1000 (one unit)", n, err)
	}
}
