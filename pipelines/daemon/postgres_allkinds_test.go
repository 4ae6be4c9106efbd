package daemon

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// TestEveryKindAcrossTwoInstancesWithAKill: two `calgw run` processes share
// one PostgreSQL store; one is killed (SIGKILL) at its second commit and
// started again. A roster, the demo 834 and its authorization feed are
// dropped first, then eight invoices that each bill the one Housing
// Deposit unit AUTH-CS-1003 authorizes, on different days, converted by
// both instances at once. Each file is processed once; every invoice line
// is judged against the feeds loaded before it (the contract, enrollment
// and authorization rules all apply on PostgreSQL); and the unit is
// granted once: one deposit goes out, seven are over the authorized
// units, and the counter holds one unit.
func TestEveryKindAcrossTwoInstancesWithAKill(t *testing.T) {
	srv := testsrv.Postgres(t)
	var dbs atomic.Int64
	dsn := pgDatabase(t, srv, &dbs)
	dir := t.TempDir()
	cfg := writeConfig(t, localConfig(dir, feedRoutes+"state: {store: postgres, postgres: {dsn_env: CALGW_TEST_PG_DSN}, lease: 2s}\n"))
	env := "CALGW_TEST_PG_DSN=" + dsn
	stateA, stateB := filepath.Join(dir, "state-a"), filepath.Join(dir, "state-b")
	a := startCalgw(t, "instance-a", dir, cfg, stateA, env, envCrashAt+"=committed:2")
	b := startCalgw(t, "instance-b", dir, cfg, stateB, env)

	inbox := filepath.Join(dir, "inbox")
	dropFile(t, inbox, "roster-demo.csv", readTestdata(t, "../../internal/demo/data/roster.csv"))
	dropFile(t, inbox, "sunrise-2026-09.834", readTestdata(t, enrollmentData+"demo-sunrise-2026-09.834"))
	dropFile(t, inbox, "auth-2026-09.csv", readTestdata(t, enrollmentData+"demo-auth-2026-09.csv"))
	waitFor(t, 90*time.Second, "the feeds archived", drained(t, dir, 3))

	const invoices = 8
	for i := range invoices {
		dropFile(t, inbox, fmt.Sprintf("bay-%d.csv", i), []byte(demoHeader+"\n"+depositLine(fmt.Sprintf("INV-K-%d", i), 1, fmt.Sprintf("%02d", i+1))+"\n"))
	}
	// Instance a dies at its second commit, a feed's or an invoice's; it
	// is started again and the two go on.
	a.crashed(90 * time.Second)
	a2 := startCalgw(t, "instance-a-again", dir, cfg, stateA, env)
	waitFor(t, 120*time.Second, "every file archived", drained(t, dir, 3+invoices))
	a2.term()
	b.term()

	if n := pgCount(t, dsn, `SELECT COUNT(*) FROM ledger_files`); n != 3+invoices {
		t.Errorf("%d ledger entries, want %d (each file once)", n, 3+invoices)
	}
	if n := pgCount(t, dsn, `SELECT COUNT(*) FROM ledger_files WHERE state = 'archived'`); n != 3+invoices {
		t.Errorf("%d archived, want %d", n, 3+invoices)
	}
	for q, want := range map[string]int{
		`SELECT COUNT(*) FROM roster_files`:                                                                          1,
		`SELECT COUNT(*) FROM enrollment_loads WHERE kind = '834'`:                                                   1,
		`SELECT COUNT(*) FROM enrollment_loads WHERE kind = 'auth'`:                                                  1,
		`SELECT COUNT(*) FROM runs WHERE status IN ('open', 'written')`:                                              0,
		`SELECT COALESCE(SUM(amount), 0) FROM enrollment_usage WHERE key = '` + rules.UnitsKey("AUTH-CS-1003") + `'`: 1000,
	} {
		if n := pgCount(t, dsn, q); n != want {
			t.Errorf("%s = %d, want %d", q, n, want)
		}
	}
	_, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs"))
	exactlyOnce(t, all.ids, all.lines)
	if all.lines != 1 {
		t.Errorf("%d deposit lines delivered, want the one authorized unit: %v", all.lines, all.ids)
	}
	var rejects strings.Builder
	for _, f := range listDir(t, filepath.Join(dir, "outbox", "responses")) {
		if strings.HasSuffix(f, ".rejects.csv") {
			rejects.Write(readTestdata(t, filepath.Join(dir, "outbox", "responses", f)))
		}
	}
	if n := strings.Count(rejects.String(), ","+rules.AuthUnitsExceeded+","); n != invoices-1 {
		t.Errorf("%d lines over the authorized unit, want %d:\n%s", n, invoices-1, rejects.String())
	}
	for _, other := range []string{rules.ProviderNotContracted, rules.EligNotEnrolled, rules.AuthMissing} {
		if strings.Contains(rejects.String(), ","+other+",") {
			t.Errorf("a line rejected %s: the feeds loaded before it were not applied:\n%s", other, rejects.String())
		}
	}
}
