package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/pipelines/contracts"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// pgInstance is a daemon in the test process on a PostgreSQL store of its
// own (one connection pool, one owner), as one `calgw run` of several.
type pgInstance struct {
	name string
	st   *store.Postgres
	log  *logBuffer
	stop func() error
}

// startPGInstance runs a daemon named name on the database dsn with the
// configuration yaml, the contract judge on, until the test ends or stop.
func startPGInstance(t *testing.T, name, dsn, stateDir, yaml string) *pgInstance {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenPostgres(ctx, dsn, store.PostgresOptions{Owner: name, Lease: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	in := &pgInstance{name: name, st: st, log: &logBuffer{}}
	log := slog.New(slog.NewTextHandler(in.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := New(ctx, Options{Config: loadConfig(t, yaml), Store: st, StateDir: stateDir, Instance: name, Shared: true, Log: log,
		Judges: func(ctx context.Context) ([]encounters.Judge, error) {
			j, err := contracts.New(ctx, contracts.ModeAuto, st, log)
			if err != nil {
				return nil, err
			}
			return []encounters.Judge{j}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(rctx) }()
	stopped := false
	in.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Errorf("%s: Run did not return within 20s of the shutdown", name)
			return nil
		}
	}
	t.Cleanup(func() {
		if err := in.stop(); err != nil {
			t.Errorf("%s: Run: %v", name, err)
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, in.log.String())
		}
	})
	return in
}

// TestPostgresRosterContractsAnd274 runs two instances on one PostgreSQL
// store: a roster dropped into the shared inbox is loaded into PostgreSQL
// once; an invoice from a billing NPI the roster does not know is rejected
// PROVIDER-NOT-CONTRACTED and one from a contracted provider goes out; the
// month's 274 job, due on both instances at once, runs once, and DHCS gets
// one file per county.
func TestPostgresRosterContractsAnd274(t *testing.T) {
	srv := testsrv.Postgres(t)
	var dbs atomic.Int64
	dsn := pgDatabase(t, srv, &dbs)
	dir := t.TempDir()
	pgYAML := "state: {store: postgres, postgres: {dsn_env: CALGW_TEST_PG_DSN}, lease: 2s}\n"
	feeds := localConfig(dir, `
routes:
  - {pattern: "roster-*", kind: roster}
  - {pattern: "*.csv", kind: invoice}
`) + pgYAML
	start := func(yaml string) (*pgInstance, *pgInstance) {
		return startPGInstance(t, "instance-a", dsn, filepath.Join(dir, "state-a"), yaml),
			startPGInstance(t, "instance-b", dsn, filepath.Join(dir, "state-b"), yaml)
	}
	a, b := start(feeds)

	dropFile(t, filepath.Join(dir, "inbox"), "roster-network.csv", openRoster(t))
	waitFor(t, 30*time.Second, "the roster loaded", settled(t, a.st, 1))
	if e := byName(t, a.st)["roster-network.csv"]; e.State != store.FileArchived || !strings.Contains(e.Note, "roster loaded: 3 site(s): 3 new") {
		t.Fatalf("roster: %s %s", e.State, e.Note)
	}
	if n := pgCount(t, dsn, `SELECT COUNT(*) FROM provider_sites`); n != 3 {
		t.Fatalf("%d provider sites in PostgreSQL, want 3", n)
	}

	// 1234567893 is a well-formed NPI that the roster does not hold.
	uncontracted := strings.ReplaceAll(string(invoice("NC-1", 0, 2)), ",1456789019,", ",1234567893,")
	dropFile(t, filepath.Join(dir, "inbox"), "uncontracted.csv", []byte(uncontracted))
	dropFile(t, filepath.Join(dir, "inbox"), "contracted.csv", invoice("CO-1", 10, 2))
	waitFor(t, 30*time.Second, "the invoices done", settled(t, a.st, 3))
	files := byName(t, a.st)
	if e := files["contracted.csv"]; e.State != store.FileArchived || !strings.HasPrefix(e.Note, "2 lines accepted, 0 rejected") {
		t.Errorf("contracted.csv: %s %s", e.State, e.Note)
	}
	e := files["uncontracted.csv"]
	if e.State != store.FileArchived || !strings.HasPrefix(e.Note, "0 lines accepted, 2 rejected") {
		t.Errorf("uncontracted.csv: %s %s", e.State, e.Note)
	}
	rejects, err := os.ReadFile(filepath.Join(dir, "outbox", "responses", "uncontracted."+strconv.FormatInt(e.ID, 10)+".rejects.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(rejects), rules.ProviderNotContracted); n != 2 {
		t.Errorf("%d PROVIDER-NOT-CONTRACTED rejects, want 2:\n%s", n, rejects)
	}
	n837, sent := delivered837s(t, filepath.Join(dir, "outbox", "dhcs"))
	if n837 != 1 || len(sent.ids) != 2 {
		t.Errorf("%d 837s with %d lines, want the contracted invoice's 2 lines in one", n837, len(sent.ids))
	}
	a.stop()
	b.stop()

	// Both instances restart with the 274 job, due now on both.
	a, b = start(withMonthlyJob(feeds))
	waitFor(t, 60*time.Second, "the month's 274 job done", settled(t, a.st, 4))
	time.Sleep(500 * time.Millisecond) // more polls: the job is not registered again
	a.stop()
	b.stop()

	period := time.Now().In(loadConfig(t, feeds).Location()).Format("2006-01")
	if n := pgCount(t, dsn, `SELECT COUNT(*) FROM ledger_files WHERE source = 'schedule'`); n != 1 {
		t.Errorf("%d ledger entries for the 274 job, want 1", n)
	}
	var job store.FileEntry
	for _, f := range byName(t, a.st) {
		if f.Source == scheduleSource {
			job = f
		}
	}
	if job.State != store.FileArchived || job.Path != "provider-network/"+period || !strings.Contains(job.Note, "3 county file(s)") {
		t.Errorf("job entry: %+v", job)
	}
	processed := 0
	for _, in := range []*pgInstance{a, b} {
		for _, l := range strings.Split(in.log.String(), "\n") {
			if strings.Contains(l, "msg=processed ") && strings.Contains(l, " kind=274 ") {
				processed++
			}
		}
	}
	if processed != 1 {
		t.Errorf("the 274 job was processed %d times, want once", processed)
	}
	var x274 []string
	for _, n := range listDir(t, filepath.Join(dir, "outbox", "dhcs")) {
		if strings.HasPrefix(n, "274-") {
			x274 = append(x274, n)
		}
	}
	if len(x274) != 3 {
		t.Errorf("DHCS received the 274s %v, want one per county (10, 19, 38)", x274)
	}
}
