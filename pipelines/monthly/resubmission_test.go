package monthly_test

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/pipelines/monthly"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// pgState is the test's state in a fresh database on srv.
func pgState(t *testing.T, srv *testsrv.PostgresServer, db string) *store.Postgres {
	t.Helper()
	conn, err := pgx.Connect(ctx, srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenPostgres(ctx, strings.Replace(srv.DSN, "/"+srv.Database+"?", "/"+db+"?", 1), store.PostgresOptions{Owner: "monthly-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fill(t, st)
	return st
}

// TestMonthlyVoidsAndResubmissions runs voidsAndResubmissions on both
// state stores.
func TestMonthlyVoidsAndResubmissions(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { voidsAndResubmissions(t, state(t)) })
	t.Run("PostgreSQL", func(t *testing.T) { voidsAndResubmissions(t, pgState(t, testsrv.Postgres(t), "voids")) })
}

// putAuth loads one authorization (the feed replaces it by number).
func putAuth(t *testing.T, st testStore, file string, a domain.Authorization) {
	t.Helper()
	al, err := st.BeginEnrollmentLoad(ctx, store.LoadKindAuth, file, sha256.Sum256([]byte(file)))
	if err != nil {
		t.Fatal(err)
	}
	if err := al.PutAuthorization(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if err := al.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
}

// respond ingests DHCS's response to a file, rejecting the records named.
func respond(t *testing.T, st testStore, path string, reject map[string]string) {
	t.Helper()
	cfg, _ := testConfig(t)
	resp := writeResponse(t, t.TempDir(), filepath.Base(path), "Accepted", reject)
	if r := monthly.IngestResponse(ctx, ingest.Job{Files: []string{resp}, Store: st, Config: cfg})[0]; r.Err != nil || r.Rejected != len(reject) {
		t.Fatalf("ingest: %+v", r)
	}
}

// byField returns the records of a data set whose field has the value.
func byField(doc map[string]any, ds, field, value string) []map[string]any {
	var out []map[string]any
	for _, r := range records(doc, ds) {
		if r[field] == value {
			out = append(out, r)
		}
	}
	return out
}

// Over a month's files, a record DHCS accepted and the state no longer
// gives goes as a Void naming it with the content DHCS accepted; a
// changed record goes as a Resubmission of the record DHCS holds, again
// after DHCS rejected a first Resubmission of it; a record whose Void DHCS
// accepted comes back as a new Original.
func voidsAndResubmissions(t *testing.T, st testStore) {
	cfg, rs := testConfig(t)
	out := t.TempDir()
	v1, err := build(t, st, cfg, rs, "2026-10", out)
	if err != nil {
		t.Fatal(err)
	}
	d1 := readFile(t, v1.Path)
	d2held := byField(d1, "csAuthorizations", "authorizationId", "D2")
	aHeld := byField(d1, "ecmEnrollment", "cin", "91000001A")
	if len(d2held) != 1 || len(aHeld) != 1 {
		t.Fatalf("first file: D2 %v, A %v", d2held, aHeld)
	}
	respond(t, st, v1.Path, nil) // DHCS accepts every record

	// D2's decision moves to November: no longer October's (withdrawn);
	// A's ECM authorization ends later: A's enrollment record changes.
	d2 := domain.Authorization{Number: "D2", CIN: "91000004D", Service: "CS01", ProviderNPI: "1234567893", Status: domain.AuthApproved,
		Type: domain.AuthInitial, From: day("2026-10-10"), To: day("2026-12-31"), Decided: day("2026-11-02")}
	putAuth(t, st, "d2-nov.csv", d2)
	a1 := domain.Authorization{Number: "A1", CIN: "91000001A", Service: "ECM", POF: "POF1A", ProviderNPI: "1234567893", Status: domain.AuthApproved,
		Type: domain.AuthInitial, From: day("2026-09-15"), To: day("2027-03-31"), Decided: day("2026-09-10")}
	putAuth(t, st, "a1-mar.csv", a1)

	v2, err := build(t, st, cfg, rs, "2026-10", out)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(v2.Path) != "TESTPLAN_ECMCS_20261031_00002.json" || v2.Type != "Resubmission" {
		t.Fatalf("second file %s %s", v2.Path, v2.Type)
	}
	d2doc := readFile(t, v2.Path) // the whole file, Void included, passes the schema
	cs := records(d2doc, "csAuthorizations")
	if len(cs) != 1 {
		t.Fatalf("csAuthorizations: %v, want D2's Void alone", cs)
	}
	void := cs[0]
	if void["recordType"] != "Void" || void["parentRecordId"] != d2held[0]["recordId"] || void["recordId"] == d2held[0]["recordId"] {
		t.Errorf("Void %v: want recordType Void naming %v with an ID of its own", void, d2held[0]["recordId"])
	}
	// The Void carries what DHCS accepted, not today's state.
	for _, f := range []string{"planCode", "authorizationId", "cin", "authorizationStatus", "decisionDate", "startDate", "endDate", "communitySupport", "providerNpi"} {
		if void[f] != d2held[0][f] {
			t.Errorf("Void %s = %v, accepted record has %v", f, void[f], d2held[0][f])
		}
	}
	if void["decisionDate"] != "20261010" {
		t.Errorf("Void decisionDate %v, want the accepted 20261010", void["decisionDate"])
	}
	if c := d2doc["header"].(map[string]any)["recordCounts"].(map[string]any)["csAuthorizations"]; c.(interface{ String() string }).String() != "1" {
		t.Errorf("header count of csAuthorizations %v, want the Void counted", c)
	}
	enr := records(d2doc, "ecmEnrollment")
	if len(enr) != 1 || enr[0]["recordType"] != "Resubmission" || enr[0]["parentRecordId"] != aHeld[0]["recordId"] {
		t.Fatalf("A's enrollment: %v, want a Resubmission of %v", enr, aHeld[0]["recordId"])
	}
	side, err := os.ReadFile(v2.SideReport)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(side), "Voids:\n  csAuthorizations       1\n") {
		t.Errorf("side report lacks the Void count:\n%s", side)
	}

	// DHCS rejects the Resubmission and accepts the Void.
	respond(t, st, v2.Path, map[string]string{enr[0]["recordId"].(string): "ecmEndDate"})
	// D2 is October's again.
	d2.Decided = day("2026-10-10")
	putAuth(t, st, "d2-oct.csv", d2)

	v3, err := build(t, st, cfg, rs, "2026-10", out)
	if err != nil {
		t.Fatal(err)
	}
	d3 := readFile(t, v3.Path)
	enr = records(d3, "ecmEnrollment")
	if len(enr) != 1 || enr[0]["recordType"] != "Resubmission" || enr[0]["parentRecordId"] != aHeld[0]["recordId"] || enr[0]["ecmEndDate"] != "20270331" {
		t.Errorf("A's enrollment after the rejected Resubmission: %v, want a Resubmission of the record DHCS holds, %v", enr, aHeld[0]["recordId"])
	}
	cs = records(d3, "csAuthorizations")
	if len(cs) != 1 || cs[0]["authorizationId"] != "D2" || cs[0]["recordType"] != "Original" || cs[0]["parentRecordId"] != nil {
		t.Errorf("D2 after its accepted Void: %v, want a new Original", cs)
	}
	if n := len(records(d3, "csServicesReceived")); n != 0 {
		t.Errorf("accepted unchanged records sent again: %d", n)
	}

	// DHCS accepts the third file; the fourth, with nothing changed, sends
	// nothing and voids nothing.
	respond(t, st, v3.Path, nil)
	v4, err := build(t, st, cfg, rs, "2026-10", out)
	if err != nil {
		t.Fatal(err)
	}
	for ds, n := range v4.Counts {
		if n != 0 {
			t.Errorf("fourth file: %d %s record(s), want none", n, ds)
		}
	}
}

// A record DHCS holds whose body the store does not have (sent before it
// kept bodies) cannot be voided: the side report counts it, to void by
// hand, and the file stays valid.
func TestMonthlyRecordWithoutBodyIsCountedNotVoided(t *testing.T) {
	cfg, rs := testConfig(t)
	st := state(t)
	out := t.TempDir()
	v1, err := build(t, st, cfg, rs, "2026-10", out)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := st.SubmittedRecords(ctx, "2026-10")
	if err != nil {
		t.Fatal(err)
	}
	err = st.ReplaceSubmission(ctx, "2026-10", 1, func(yield func(store.SubmittedRecord) error) error {
		for _, r := range recs {
			r.Body = nil
			if err := yield(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	respond(t, st, v1.Path, nil)
	putAuth(t, st, "d2-nov.csv", domain.Authorization{Number: "D2", CIN: "91000004D", Service: "CS01", ProviderNPI: "1234567893", Status: domain.AuthApproved,
		Type: domain.AuthInitial, From: day("2026-10-10"), To: day("2026-12-31"), Decided: day("2026-11-02")})
	v2, err := build(t, st, cfg, rs, "2026-10", out)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(records(readFile(t, v2.Path), "csAuthorizations")); n != 0 {
		t.Errorf("%d csAuthorizations record(s), want none (no body to void with)", n)
	}
	side, _ := os.ReadFile(v2.SideReport)
	if !strings.Contains(string(side), "Voids:\n  none\n  csAuthorizations: 1 record(s) DHCS holds are gone from the state") {
		t.Errorf("side report:\n%s", side)
	}
}

// A member whose ECM authorization is denied after DHCS accepted the
// month's file leaves ECM for that month: each of the member's ECM
// records goes as a Void naming the accepted one, data set by data set.
func TestMonthlyMemberLeavingECMIsVoidedInEveryDataSet(t *testing.T) {
	cfg, rs := testConfig(t)
	st := state(t)
	out := t.TempDir()
	v1, err := build(t, st, cfg, rs, "2026-10", out)
	if err != nil {
		t.Fatal(err)
	}
	d1 := readFile(t, v1.Path)
	respond(t, st, v1.Path, nil)
	putAuth(t, st, "a1-denied.csv", domain.Authorization{Number: "A1", CIN: "91000001A", Service: "ECM", POF: "POF1A", ProviderNPI: "1234567893",
		Status: domain.AuthDenied, Type: domain.AuthInitial, From: day("2026-09-15"), To: day("2026-12-31"), Decided: day("2026-09-10")})
	v2, err := build(t, st, cfg, rs, "2026-10", out)
	if err != nil {
		t.Fatal(err)
	}
	d2 := readFile(t, v2.Path)
	for _, ds := range []string{"ecmEnrollment", "populationsOfFocus", "leadCareManager"} {
		held := byField(d1, ds, "cin", "91000001A")
		got := records(d2, ds)
		if len(held) != 1 || len(got) != 1 {
			t.Errorf("%s: held %v, sent %v: want one Void of the one accepted record", ds, held, got)
			continue
		}
		if got[0]["recordType"] != "Void" || got[0]["parentRecordId"] != held[0]["recordId"] || got[0]["cin"] != "91000001A" {
			t.Errorf("%s: %v, want a Void naming %v", ds, got[0], held[0]["recordId"])
		}
	}
	if n := len(records(d2, "ecmAuthorizations")); n != 0 {
		t.Errorf("ecmAuthorizations: %d record(s); A1 was decided in September, never October's", n)
	}
}
