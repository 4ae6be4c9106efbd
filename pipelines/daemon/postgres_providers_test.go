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

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/pipelines/contracts"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/pipelines/providerfile"
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
// wrap, when not nil, makes the store the daemon runs on from the
// instance's.
func startPGInstance(t *testing.T, name, dsn, stateDir, yaml string, wrap func(*store.Postgres) store.LedgerStore) *pgInstance {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenPostgres(ctx, dsn, store.PostgresOptions{Owner: name, Lease: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	in := &pgInstance{name: name, st: st, log: &logBuffer{}}
	log := slog.New(slog.NewTextHandler(in.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var ls store.LedgerStore = st
	if wrap != nil {
		ls = wrap(st)
	}
	d, err := New(ctx, Options{Config: loadConfig(t, yaml), Store: ls, StateDir: stateDir, Instance: name, Shared: true, Log: log,
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

// rosterConfig is a localConfig on PostgreSQL (2 s leases) with roster
// and invoice routes.
func rosterConfig(dir string) string {
	return localConfig(dir, `
routes:
  - {pattern: "roster-*", kind: roster}
  - {pattern: "*.csv", kind: invoice}
state: {store: postgres, postgres: {dsn_env: CALGW_TEST_PG_DSN}, lease: 2s}
`)
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
	feeds := rosterConfig(dir)
	start := func(yaml string) (*pgInstance, *pgInstance) {
		return startPGInstance(t, "instance-a", dsn, filepath.Join(dir, "state-a"), yaml, nil),
			startPGInstance(t, "instance-b", dsn, filepath.Join(dir, "state-b"), yaml, nil)
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

// pausedStore is the store of an instance that pauses in the 274 job (a
// long stop of the process, a frozen VM): the job's read of the roster
// waits for release, and the instance renews no lease from then on.
type pausedStore struct {
	*store.Postgres
	reading chan struct{} // closed when the job reads the roster
	release chan struct{}
	paused  atomic.Bool
}

func (p *pausedStore) ProviderSiteRecords(ctx context.Context, from, to civil.Date) ([][]byte, error) {
	if p.paused.CompareAndSwap(false, true) {
		close(p.reading)
		<-p.release
	}
	return p.Postgres.ProviderSiteRecords(ctx, from, to)
}

func (p *pausedStore) RenewLeases(ctx context.Context, owner string, lease time.Duration) error {
	if p.paused.Load() {
		return nil
	}
	return p.Postgres.RenewLeases(ctx, owner, lease)
}

// An instance pauses in the month's 274 job until its lease expires;
// another takes the job over, writes and delivers the files. When the
// first wakes and finishes writing its own, the store no longer lets it
// record them: DHCS gets the month's files once.
func TestPostgres274TakenOverFromAPausedInstance(t *testing.T) {
	srv := testsrv.Postgres(t)
	var dbs atomic.Int64
	dsn := pgDatabase(t, srv, &dbs)
	dir := t.TempDir()
	yaml := withMonthlyJob(rosterConfig(dir))
	ctx := context.Background()
	pg, err := store.OpenPostgres(ctx, dsn, store.PostgresOptions{Owner: "loader"})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	tables := providerfile.TablesOf(mustRules(t, loadConfig(t, yaml)))
	rosterFile := filepath.Join(t.TempDir(), "roster.csv")
	if err := os.WriteFile(rosterFile, openRoster(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if res, err := contracts.Ingest(ctx, pg, tables, []string{rosterFile}, nil); err != nil || !res[0].Loaded() {
		t.Fatalf("roster: %+v %v", res, err)
	}

	paused := &pausedStore{reading: make(chan struct{}), release: make(chan struct{})}
	a := startPGInstance(t, "instance-a", dsn, filepath.Join(dir, "state-a"), yaml, func(st *store.Postgres) store.LedgerStore {
		paused.Postgres = st
		return paused
	})
	select {
	case <-paused.reading:
	case <-time.After(20 * time.Second):
		t.Fatal("instance a did not start the 274 job")
	}
	b := startPGInstance(t, "instance-b", dsn, filepath.Join(dir, "state-b"), yaml, nil)
	waitFor(t, 30*time.Second, "b to finish the job", settled(t, b.st, 1))
	close(paused.release)
	waitFor(t, 20*time.Second, "a to find the job no longer its own", func() bool {
		return strings.Contains(a.log.String(), "file no longer held by this instance")
	})
	a.stop()
	b.stop()

	files, err := b.st.Files(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].State != store.FileArchived || files[0].Owner != "" || !strings.Contains(files[0].Note, "3 county file(s)") {
		t.Fatalf("ledger: %+v", files)
	}
	if !strings.Contains(b.log.String(), "msg=processed ") {
		t.Error("b did not process the job")
	}
	if got := listDir(t, filepath.Join(dir, "outbox", "dhcs")); len(got) != 3 {
		t.Errorf("DHCS received %v, want one 274 per county, once", got)
	}
}
