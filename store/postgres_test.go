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
