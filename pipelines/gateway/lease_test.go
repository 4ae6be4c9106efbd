package gateway

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// A command on PostgreSQL keeps its runs' leases while it runs: a
// conversion that outlasts the lease is not taken for the run of a dead
// instance, which another instance's recovery would abort.
func TestCommandRunOutlastsItsLeaseOnPostgres(t *testing.T) {
	srv := testsrv.Postgres(t)
	t.Setenv("CALGW_TEST_PG_DSN", srv.DSN)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "calgw.yaml")
	if err := os.WriteFile(cfg, []byte("state: {store: postgres, lease: 1s, postgres: {dsn_env: CALGW_TEST_PG_DSN}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g, err := Open(ctx, Options{Config: cfg, State: filepath.Join(dir, "state")})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	other, err := store.OpenPostgres(ctx, srv.DSN, store.PostgresOptions{Owner: "daemon", Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	run, err := g.st.BeginRun(ctx, "convert", "{}")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // the conversion outlasts the lease
	pending, err := other.PendingRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range pending { // what the other instance's recovery does
		t.Errorf("another instance finds the command's live run %d abandoned", r.ID)
		other.AbortRun(ctx, r.ID, "interrupted before its output was written")
	}
	if err := run.Written(ctx, "", ""); err != nil {
		t.Errorf("Written: %v", err)
	}
}
