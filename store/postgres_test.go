package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/calaim-gateway/calaim-gateway/store/storetest"
)

// pgDatabases makes a fresh database on srv for each test that asks. Its
// collation is a linguistic one (ICU en-US, not the server's C), so that a
// query whose order depends on the collation sorts differently from SQLite
// and fails the conformance tests.
type pgDatabases struct {
	srv *testsrv.PostgresServer
	n   atomic.Int64
}

func (d *pgDatabases) fresh(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, d.srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("t%d", d.n.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"); err != nil {
		t.Fatal(err)
	}
	return strings.Replace(d.srv.DSN, "/"+d.srv.Database+"?", "/"+name+"?", 1)
}

// skewedClock gives the database of dsn a clock (now()) skew away from
// this machine's, and returns the DSN that uses it: a function now() in a
// schema searched before pg_catalog.
func skewedClock(t testing.TB, dsn string, skew time.Duration) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA clock`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE FUNCTION clock.now() RETURNS timestamptz LANGUAGE sql STABLE
		AS $$ SELECT pg_catalog.now() + make_interval(secs => %d) $$`, int(skew.Seconds()))); err != nil {
		t.Fatal(err)
	}
	dsn += "&options=-c%20search_path%3Dpublic%2Cclock%2Cpg_catalog"
	skewed, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer skewed.Close(ctx)
	var now time.Time
	if err := skewed.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
		t.Fatal(err)
	}
	if d := now.Sub(time.Now().Add(skew)); d < -5*time.Second || d > 5*time.Second {
		t.Fatalf("database clock %v, want this machine's %+v", now, skew)
	}
	return dsn
}

// TestPostgresLedgerKeepsTheDatabaseClock runs the ledger on a database
// whose clock is an hour ahead of this machine's, or behind it: leases and
// retries are measured on the database's clock, which the instances on
// several machines share, never on an instance's own.
func TestPostgresLedgerKeepsTheDatabaseClock(t *testing.T) {
	dbs := &pgDatabases{srv: testsrv.Postgres(t)}
	ctx := context.Background()
	for _, skew := range []time.Duration{time.Hour, -time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			dsn := skewedClock(t, dbs.fresh(t), skew)
			a, b := openPG(t, dsn, "a", time.Minute), openPG(t, dsn, "b", time.Minute)
			id, _, err := a.RegisterFile(ctx, store.FileNotice{Source: "inbox", Path: "a.csv", Name: "a.csv", Kind: "invoice", ModTime: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			e, err := a.TakeFile(ctx, "a", "node1", 500*time.Millisecond)
			if err != nil || e == nil || e.ID != id {
				t.Fatalf("a took %+v %v", e, err)
			}
			if d := e.LeaseUntil.Sub(time.Now().Add(skew)); d < -5*time.Second || d > 5*time.Second {
				t.Errorf("lease until %v: not the database's clock", e.LeaseUntil)
			}
			if e, err := b.TakeFile(ctx, "b", "node1", time.Minute); err != nil || e != nil {
				t.Fatalf("b took %+v %v while a's lease holds", e, err)
			}
			if wait, ok, err := b.NextFileDue(ctx, "b", "node1"); err != nil || !ok || wait > 500*time.Millisecond || wait < -5*time.Second {
				t.Fatalf("next due for b = %v %v %v, want a's lease", wait, ok, err)
			}
			time.Sleep(700 * time.Millisecond)
			if e, err := b.TakeFile(ctx, "b", "node1", time.Minute); err != nil || e == nil || e.ID != id {
				t.Fatalf("b took %+v %v after a's lease expired", e, err)
			}
			if _, err := b.RetryFile(ctx, id, "b", "later", false, 10*time.Minute, true); err != nil {
				t.Fatal(err)
			}
			if e, err := a.TakeFile(ctx, "a", "node1", time.Minute); err != nil || e != nil {
				t.Fatalf("a took %+v %v before the retry was due", e, err)
			}
			if wait, ok, err := a.NextFileDue(ctx, "a", "node1"); err != nil || !ok || wait > 10*time.Minute || wait < 10*time.Minute-5*time.Second {
				t.Fatalf("next due for a = %v %v %v, want the retry's ten minutes", wait, ok, err)
			}
		})
	}
}

func openPG(t testing.TB, dsn, owner string, lease time.Duration) *store.Postgres {
	t.Helper()
	s, err := store.OpenPostgres(context.Background(), dsn, store.PostgresOptions{Owner: owner, Lease: lease})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgresConformance(t *testing.T) {
	dbs := &pgDatabases{srv: testsrv.Postgres(t)}
	storetest.Run(t, storetest.Backend{
		Shared: true,
		Fresh: func(t *testing.T) func(string) store.LedgerStore {
			dsn := dbs.fresh(t)
			return func(owner string) store.LedgerStore { return openPG(t, dsn, owner, time.Minute) }
		},
	})

	t.Run("OpenRunOfDeadInstanceIsAbortedByOthers", func(t *testing.T) {
		// An instance dies with a run open: PostgreSQL rolls its transaction
		// back, and once its lease expires another instance's recovery may
		// abort the run. While the lease holds, the run is left alone.
		dsn := dbs.fresh(t)
		a := openPG(t, dsn, "a", 500*time.Millisecond)
		b := openPG(t, dsn, "b", time.Minute)
		ctx := context.Background()
		r, err := a.BeginRun(ctx, "convert", "{}")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.RecordLines(ctx, []store.Line{{Key: storetest.Key(40, 1), Control: "a-1"}}); err != nil {
			t.Fatal(err)
		}
		a.Close() // the connection drops: the run's transaction is rolled back
		if p, _ := b.PendingRuns(ctx); len(p) != 0 {
			t.Fatalf("pending before the lease expired: %+v", p)
		}
		time.Sleep(700 * time.Millisecond)
		p, err := b.PendingRuns(ctx)
		if err != nil || len(p) != 1 || p[0].ID != r.ID() || p[0].Status != store.RunOpen {
			t.Fatalf("pending after the lease expired = %+v %v", p, err)
		}
		if err := b.AbortRun(ctx, r.ID(), "owner died"); err != nil {
			t.Fatal(err)
		}
		rb, _ := b.BeginRun(ctx, "convert", "{}")
		if prior, err := rb.RecordLines(ctx, []store.Line{{Key: storetest.Key(40, 1), Control: "b-1"}}); err != nil || prior[0] != nil {
			t.Fatalf("the dead run's line: %+v %v", prior, err)
		}
		rb.Abandon(ctx, "test")
	})

	t.Run("AbortedByOthersTheRunCannotCommit", func(t *testing.T) {
		// A live instance whose lease expired (a long pause, a partition)
		// finds its run aborted and cannot commit it.
		dsn := dbs.fresh(t)
		a := openPG(t, dsn, "a", 200*time.Millisecond)
		b := openPG(t, dsn, "b", time.Minute)
		ctx := context.Background()
		r, _ := a.BeginRun(ctx, "convert", "{}")
		time.Sleep(300 * time.Millisecond)
		p, _ := b.PendingRuns(ctx)
		if len(p) != 1 {
			t.Fatalf("pending = %+v", p)
		}
		if err := b.AbortRun(ctx, r.ID(), "lease expired"); err != nil {
			t.Fatal(err)
		}
		if err := r.Written(ctx, "", ""); !errors.Is(err, store.ErrNoRun) {
			t.Fatalf("Written after another instance aborted the run: %v, want ErrNoRun", err)
		}
	})

	t.Run("StaleListingDoesNotAbortALiveRun", func(t *testing.T) {
		// Another instance lists a run whose lease expired, and the run's
		// owner goes on: it renews its lease, or writes the run, before the
		// listing instance aborts it. The abort finds the run no longer
		// abandoned and leaves it, and its lines, alone.
		dsn := dbs.fresh(t)
		a := openPG(t, dsn, "a", 200*time.Millisecond)
		b := openPG(t, dsn, "b", time.Minute)
		ctx := context.Background()
		renewed, _ := a.BeginRun(ctx, "convert", "{}")
		written, _ := a.BeginRun(ctx, "convert", "{}")
		if _, err := written.RecordLines(ctx, []store.Line{{Key: storetest.Key(41, 1), Control: "a-1"}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		p, err := b.PendingRuns(ctx)
		if err != nil || len(p) != 2 {
			t.Fatalf("pending = %+v %v", p, err)
		}
		if err := a.RenewLeases(ctx, "a", time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := written.Written(ctx, "/tmp/a.837.tmp", "/tmp/a.837"); err != nil {
			t.Fatal(err)
		}
		for _, r := range []store.Run{renewed, written} {
			if err := b.AbortRun(ctx, r.ID(), "lease expired"); !errors.Is(err, store.ErrNoRun) {
				t.Errorf("AbortRun of run %d, live again: %v, want ErrNoRun", r.ID(), err)
			}
		}
		if err := renewed.Written(ctx, "", ""); err != nil {
			t.Errorf("Written of the renewed run: %v", err)
		}
		rb, _ := b.BeginRun(ctx, "convert", "{}")
		defer rb.Abandon(ctx, "test")
		if prior, err := rb.RecordLines(ctx, []store.Line{{Key: storetest.Key(41, 1), Control: "b-1"}}); err != nil || prior[0] == nil {
			t.Fatalf("the written run's line is not a duplicate: %+v %v", prior, err)
		}
	})

	t.Run("ControlNumbersWrap", func(t *testing.T) {
		dsn := dbs.fresh(t)
		s := openPG(t, dsn, "a", time.Minute)
		ctx := context.Background()
		s.NextControlNumber(ctx, "ISA/w")
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `UPDATE control_numbers SET last = $1 WHERE scope = 'ISA/w'`, store.MaxControlNumber); err != nil {
			t.Fatal(err)
		}
		if n, err := s.NextControlNumber(ctx, "ISA/w"); err != nil || n != 1 {
			t.Fatalf("after the maximum: %d %v, want 1", n, err)
		}
	})

	t.Run("MigrationsRunOnceForConcurrentStarts", func(t *testing.T) {
		dsn := dbs.fresh(t)
		errs := make(chan error, 4)
		for i := range 4 {
			go func() {
				s, err := store.OpenPostgres(context.Background(), dsn, store.PostgresOptions{Owner: fmt.Sprint(i)})
				if err == nil {
					s.Close()
				}
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("BadDSNDoesNotLeakIt", func(t *testing.T) {
		_, err := store.OpenPostgres(context.Background(), "postgres://u:s3cret@[::1", store.PostgresOptions{Owner: "a"})
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("err = %v", err)
		}
	})
}
