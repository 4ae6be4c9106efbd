package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
)

// With state.store: postgres every command uses the PostgreSQL store: the
// roster, 834 and authorization feed load there, convert applies every
// rule from there, provider-file reads its sites there, and nothing is
// written to a SQLite store.
func TestCommandsUseTheConfiguredPostgres(t *testing.T) {
	srv := testsrv.Postgres(t)
	t.Setenv("CALGW_TEST_PG_DSN", srv.DSN)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "calgw.yaml")
	if err := os.WriteFile(cfg, []byte("state: {store: postgres, postgres: {dsn_env: CALGW_TEST_PG_DSN}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	data := filepath.Join("..", "..", "internal", "demo", "data")
	run := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := calgw(t, append([]string{"--config", cfg, "--state", state}, args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, stdout, stderr)
		}
		return stdout
	}
	run("ingest", "--kind", "roster", filepath.Join(data, "roster.csv"))
	run("ingest", "--kind", "834", "--out", filepath.Join(dir, "reports"), filepath.Join(data, "enrollment.834"))
	run("ingest", "--kind", "auth", "--out", filepath.Join(dir, "reports"), filepath.Join(data, "authorizations.csv"))
	invoices, err := filepath.Glob(filepath.Join(data, "invoices", "*"))
	if err != nil || len(invoices) == 0 {
		t.Fatalf("demo invoices: %v", err)
	}
	out := run(append([]string{"convert", "--out", filepath.Join(dir, "out")}, invoices...)...)
	for _, rule := range []string{"PROVIDER-NOT-CONTRACTED", "ELIG-NOT-ENROLLED", "AUTH-MISSING"} {
		if !strings.Contains(out, rule) {
			t.Errorf("convert on PostgreSQL did not apply %s:\n%s", rule, out)
		}
	}
	run("provider-file", "--month", "2026-09", "--out", filepath.Join(dir, "274"))

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for q, min := range map[string]int{
		"SELECT count(*) FROM enrollment_members": 10,
		"SELECT count(*) FROM enrollment_auths":   6,
		"SELECT count(*) FROM provider_sites":     3,
		"SELECT count(*) FROM sent_lines":         7,
	} {
		var n int
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n < min {
			t.Errorf("%s = %d, want at least %d", q, n, min)
		}
	}
	if _, err := os.Stat(filepath.Join(state, "calgw.db")); err == nil {
		t.Error("a SQLite store was written as well")
	}
}
