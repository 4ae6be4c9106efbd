package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
)

// pgDatabase makes an empty database on srv for one test and returns its DSN.
func pgDatabase(t *testing.T, srv *testsrv.PostgresServer, n *atomic.Int64) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("daemon%d", n.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	return strings.Replace(srv.DSN, "/"+srv.Database+"?", "/"+name+"?", 1)
}

// pgCount runs a counting query.
func pgCount(t *testing.T, dsn, q string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestPostgres runs `calgw run` instances sharing a PostgreSQL state store.
func TestPostgres(t *testing.T) {
	srv := testsrv.Postgres(t)
	var dbs atomic.Int64
	pgYAML := "state: {store: postgres, postgres: {dsn_env: CALGW_TEST_PG_DSN}, lease: 2s}\n"

	t.Run("TwoInstancesProcess200FilesExactlyOnce", func(t *testing.T) {
		dsn := pgDatabase(t, srv, &dbs)
		dir := t.TempDir()
		cfg := writeConfig(t, localConfig(dir, pgYAML))
		const files = 200
		lines := 0
		for i := range files {
			n := 1 + i%2
			dropFile(t, filepath.Join(dir, "inbox"), fmt.Sprintf("f%03d.csv", i), invoice(fmt.Sprintf("PG-%03d", i), 10*i, n))
			lines += n
		}
		env := "CALGW_TEST_PG_DSN=" + dsn
		a := startCalgw(t, "instance-a", dir, cfg, filepath.Join(dir, "state-a"), env)
		b := startCalgw(t, "instance-b", dir, cfg, filepath.Join(dir, "state-b"), env)
		waitFor(t, 120*time.Second, "every file archived", drained(t, dir, files))
		a.term()
		b.term()

		if n := pgCount(t, dsn, `SELECT COUNT(*) FROM ledger_files WHERE state = 'archived' AND duplicate_of IS NULL`); n != files {
			t.Errorf("%d files archived in the ledger, want %d", n, files)
		}
		if n := pgCount(t, dsn, `SELECT COUNT(*) FROM ledger_files`); n != files {
			t.Errorf("%d ledger entries, want %d (one per file)", n, files)
		}
		if n := pgCount(t, dsn, `SELECT COUNT(*) FROM sent_lines`); n != lines {
			t.Errorf("%d sent lines recorded, want %d", n, lines)
		}
		if n := pgCount(t, dsn, `SELECT COUNT(*) FROM runs WHERE status <> 'completed'`); n != 0 {
			t.Errorf("%d runs not completed: %s", n, pgRuns(t, dsn))
		}
		n837, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs"))
		if n837 != files {
			t.Errorf("%d 837s delivered, want %d", n837, files)
		}
		exactlyOnce(t, all.ids, lines)
		if n := len(listDir(t, filepath.Join(dir, "outbox", "responses"))); n != 2*files {
			t.Errorf("%d responses, want %d", n, 2*files)
		}
		// Both instances did part of the work.
		da, db := strings.Count(a.output(), `msg="file done"`), strings.Count(b.output(), `msg="file done"`)
		t.Logf("instance a finished %d files, b %d", da, db)
		if da == 0 || db == 0 || da+db != files {
			t.Errorf("files finished: a %d, b %d; want both > 0, %d in all", da, db, files)
		}
	})

	// An instance dies holding a file; another takes it over once the
	// lease expires and finishes it: at "claimed" from the processing
	// folder, at "committed" from the dead instance's work directory
	// (same node), adopting its run.
	for _, point := range []string{"claimed", "committed"} {
		t.Run("LeaseTakeoverAfterACrashAt_"+point, func(t *testing.T) {
			dsn := pgDatabase(t, srv, &dbs)
			dir := t.TempDir()
			cfg := writeConfig(t, localConfig(dir, pgYAML))
			const files = 6
			for i := range files {
				dropFile(t, filepath.Join(dir, "inbox"), fmt.Sprintf("t%d.csv", i), invoice(fmt.Sprintf("TO-%d", i), 10*i, 2))
			}
			env := "CALGW_TEST_PG_DSN=" + dsn
			a := startCalgw(t, "instance-a", dir, cfg, filepath.Join(dir, "state-a"), env, envCrashAt+"="+point)
			a.crashed(30 * time.Second)
			b := startCalgw(t, "instance-b", dir, cfg, filepath.Join(dir, "state-b"), env)
			waitFor(t, 60*time.Second, "every file archived", drained(t, dir, files))
			b.term()
			if point == "committed" && !strings.Contains(b.output(), "resuming a file whose run committed") {
				t.Error("b did not resume a's committed run")
			}
			if n := pgCount(t, dsn, `SELECT COUNT(*) FROM ledger_files WHERE state = 'archived'`); n != files {
				t.Errorf("%d archived, want %d", n, files)
			}
			if n := pgCount(t, dsn, `SELECT COUNT(*) FROM runs WHERE status IN ('open', 'written')`); n != 0 {
				t.Errorf("%d runs left open or written", n)
			}
			_, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs"))
			exactlyOnce(t, all.ids, 2*files)
		})
	}
}

// pgRuns describes the runs that did not complete, for a failure message.
func pgRuns(t *testing.T, dsn string) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		return err.Error()
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT id, status, COALESCE(summary, ''), COALESCE(output, '') FROM runs WHERE status <> 'completed' ORDER BY id`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id int64
		var status, summary, output string
		rows.Scan(&id, &status, &summary, &output)
		fmt.Fprintf(&b, "[run %d %s %q output %q] ", id, status, summary, output)
	}
	return b.String()
}

// TestPostgresRestartingDatabaseIsRetriedWithBackoff runs `calgw run` on a
// PostgreSQL store reached through a proxy that plays the database's
// restart: at start it answers 57P03 ("not yet accepting connections"),
// later it refuses connections, then answers 57P03 again. The daemon waits
// at start instead of exiting, logs the outage as transient (not as a
// configuration error), and processes the files soon after the database is
// back: with the normal backoff, not retry.max (10 minutes here).
func TestPostgresRestartingDatabaseIsRetriedWithBackoff(t *testing.T) {
	srv := testsrv.Postgres(t)
	var dbs atomic.Int64
	dsn := pgDatabase(t, srv, &dbs)
	proxy := testsrv.NewPostgresProxy(t, srv)
	pdsn := strings.Replace(dsn, fmt.Sprintf("%s:%d", srv.Host, srv.Port), proxy.Addr, 1)
	dir := t.TempDir()
	yaml := strings.Replace(localConfig(dir, "state: {store: postgres, postgres: {dsn_env: CALGW_TEST_PG_DSN}, lease: 2s}\n"),
		"retry: {initial: 50ms, max: 400ms, max_attempts: 2}", "retry: {initial: 50ms, max: 10m, max_attempts: 2}", 1)
	cfg := writeConfig(t, yaml)

	proxy.Starting()
	p := startCalgw(t, "instance", dir, cfg, filepath.Join(dir, "state"), "CALGW_TEST_PG_DSN="+pdsn)
	waitFor(t, 20*time.Second, "the start waiting for the database", func() bool {
		return strings.Contains(p.output(), "state store not reachable yet")
	})
	time.Sleep(300 * time.Millisecond)
	proxy.Up()
	dropFile(t, filepath.Join(dir, "inbox"), "first.csv", invoice("PGR-1", 1, 2))
	waitFor(t, 20*time.Second, "the first file archived", drained(t, dir, 1))

	proxy.Stopped()
	dropFile(t, filepath.Join(dir, "inbox"), "second.csv", invoice("PGR-2", 10, 2))
	waitFor(t, 20*time.Second, "the outage noticed", func() bool {
		return strings.Contains(p.output(), "connection refused")
	})
	time.Sleep(time.Second)
	proxy.Starting()
	time.Sleep(time.Second)
	proxy.Up()
	waitFor(t, 20*time.Second, "the second file archived after the restart", drained(t, dir, 2))
	p.term()

	out := p.output()
	for _, bad := range []string{"check its configuration", "check the configuration"} {
		if strings.Contains(out, bad) {
			t.Errorf("the database's restart was logged as a configuration error (%q)", bad)
		}
	}
	if !strings.Contains(out, "57P03") {
		t.Error("the log never saw the database starting up (57P03): the proxy did not play the restart")
	}
}
