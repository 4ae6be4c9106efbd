package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
)

// planDB is the console's PostgreSQL engine that has each read explained
// first, keeping the plans' scans without an index condition.
type planDB struct {
	pgWeb
	t     *testing.T
	mu    sync.Mutex
	scans map[string][]string // query → its scans without an index condition
	seen  int
}

// planNode is a node of a plan in EXPLAIN's JSON format.
type planNode struct {
	Type      string     `json:"Node Type"`
	Relation  string     `json:"Relation Name"`
	IndexCond string     `json:"Index Cond"`
	Filter    string     `json:"Filter"`
	Plans     []planNode `json:"Plans"`
}

// unindexed lists the scans of a plan that read a table without an index
// condition: a sequential scan, or an index read in full with a filter on
// each entry (an index chosen for its order only).
func (n planNode) unindexed() []string {
	var out []string
	switch {
	case n.Type == "Seq Scan":
		out = append(out, n.Type+" on "+n.Relation)
	case (n.Type == "Index Scan" || n.Type == "Index Only Scan") && n.IndexCond == "" && n.Filter != "":
		out = append(out, n.Type+" on "+n.Relation+" filtered by "+n.Filter)
	}
	for _, c := range n.Plans {
		out = append(out, c.unindexed()...)
	}
	return out
}

func (p *planDB) explain(ctx context.Context, q string, args ...any) {
	if isWrite(q) {
		return
	}
	var js []byte
	if err := p.pool.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+rebind(q), args...).Scan(&js); err != nil {
		p.t.Fatalf("EXPLAIN %s: %v", q, err)
	}
	var plans []struct{ Plan planNode }
	if err := json.Unmarshal(js, &plans); err != nil || len(plans) != 1 {
		p.t.Fatalf("EXPLAIN %s: %v %s", q, err, js)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen++
	if u := plans[0].Plan.unindexed(); len(u) > 0 {
		p.scans[q] = append(p.scans[q], u...)
	}
}

func (p *planDB) query(ctx context.Context, q string, args ...any) (dbRows, error) {
	p.explain(ctx, q, args...)
	return p.pgWeb.query(ctx, q, args...)
}

func (p *planDB) queryRow(ctx context.Context, q string, args ...any) rowScanner {
	p.explain(ctx, q, args...)
	return p.pgWeb.queryRow(ctx, q, args...)
}

// TestPostgresConsoleQueriesUseIndexes explains every query the console's
// pages and searches make, with sequential scans priced out of the
// planner's choice (enable_seqscan off): a plan that still scans a table,
// or reads an index in full filtering each entry, has no index for its
// condition, and would read the whole table at a million files.
func TestPostgresConsoleQueriesUseIndexes(t *testing.T) {
	srv := testsrv.Postgres(t)
	ctx := context.Background()
	p, err := OpenPostgres(ctx, srv.DSN+"&options=-c%20enable_seqscan%3Doff", PostgresOptions{Owner: "plans"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var off string
	if err := p.pool.QueryRow(ctx, `SHOW enable_seqscan`).Scan(&off); err != nil || off != "off" {
		t.Fatalf("enable_seqscan = %q %v", off, err)
	}
	db := &planDB{pgWeb: pgWeb{p.pool}, t: t, scans: map[string][]string{}}
	c := &Console{db: db, ledger: p}
	now := time.Now()
	e := &FileEntry{ID: 1, Source: "inbox", Path: "a.csv"}
	// Each call is a query of a page or a search (pipelines/web).
	calls := []func() error{
		func() error { _, err := c.FilesByDay(ctx, now.AddDate(0, 0, -7)); return err },
		func() error { _, err := c.PendingLag(ctx); return err },
		func() error { _, err := c.ListFiles(ctx, FileFilter{}); return err },
		func() error { _, err := c.ListFiles(ctx, FileFilter{BeforeID: 9}); return err },
		func() error { _, err := c.ListFiles(ctx, FileFilter{State: FileQuarantined, Limit: 20}); return err },
		func() error { _, err := c.ListFiles(ctx, FileFilter{Kind: "834", BeforeID: 9}); return err },
		func() error {
			_, err := c.ListFiles(ctx, FileFilter{Since: now.AddDate(0, 0, -1), Until: now})
			return err
		},
		func() error {
			_, err := c.ListFiles(ctx, FileFilter{Since: now.AddDate(0, 0, -1), Until: now, BeforeID: 9, State: FileArchived})
			return err
		},
		func() error { _, err := c.ListFiles(ctx, FileFilter{Source: "inbox"}); return err },
		func() error { _, err := c.ListFiles(ctx, FileFilter{UploadedBy: 3}); return err },
		func() error { _, err := c.File(ctx, 1); return ignoreNoFile(err) },
		func() error { _, err := c.FileOfRun(ctx, 1); return err },
		func() error { _, err := c.FileByPath(ctx, "inbox", "a.csv"); return err },
		func() error { _, err := c.FilesByNameOrHash(ctx, "invoice-1.csv"); return err },
		func() error { _, err := c.FilesByNameOrHash(ctx, "0123456789abcdef"); return err },
		func() error { _, err := c.Uploader(ctx, e); return err },
		func() error { _, err := c.RunRuleCounts(ctx, 1); return err },
		func() error { _, err := c.RunBillingNPIs(ctx, 1); return err },
		func() error { _, err := c.RunDecisions(ctx, 1, false, "", 0, 100); return err },
		func() error { _, err := c.RunDecisions(ctx, 1, true, "CODE-NOT-ALLOWED", 0, 100); return err },
		func() error { _, _, err := c.Decision(ctx, 1, 1); return err },
		func() error { _, err := c.InvoiceLines(ctx, "INV1", 0, 200); return err },
		func() error { _, err := c.InvoiceLines(ctx, "INV1", 1, 200); return err },
		func() error { _, err := c.InvoiceDecisions(ctx, "INV1", 0, 200); return err },
		func() error { _, err := c.MemberDecisions(ctx, "90000001A", 200); return err },
		func() error { _, _, err := c.ClaimByCLM01(ctx, "INV1"); return err },
		func() error { _, err := c.RunInterchanges(ctx, 1); return err },
		func() error { _, err := c.InterchangesByISA13(ctx, 1); return err },
		func() error { _, err := c.RejectsByRule(ctx, now.AddDate(0, 0, -30)); return err },
		func() error { _, _, err := c.SessionUser(ctx, "token", now); return ignoreNoSession(err) },
		func() error { _, err := c.AuditEvents(ctx, 200); return err },
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if db.seen < len(calls) {
		t.Fatalf("%d queries explained for %d calls", db.seen, len(calls))
	}
	for q, tables := range db.scans {
		t.Errorf("%v: %s", tables, strings.Join(strings.Fields(q), " "))
	}
}

func ignoreNoFile(err error) error {
	if errors.Is(err, ErrNoFile) {
		return nil
	}
	return err
}

func ignoreNoSession(err error) error {
	if errors.Is(err, ErrNoSession) {
		return nil
	}
	return err
}
