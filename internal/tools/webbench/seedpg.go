package main

import (
	"context"
	"fmt"
	"log"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// bigTables are the tables the seed fills; their indexes (other than
// primary keys) are dropped before the rows are copied in and made again
// from their own definitions afterwards.
var bigTables = []string{"ledger_files", "line_decisions", "sent_claims", "run_interchanges", "reject_counts"}

// seedPostgres fills the database at dsn: the schema from the store's own
// migrations, then the same rows as the SQLite seed, copied in (COPY) on
// one connection per table at once.
func seedPostgres(ctx context.Context, dsn string, files, lines int) error {
	st, err := store.OpenPostgres(ctx, dsn, store.PostgresOptions{Owner: "webbench-seed"})
	if err != nil {
		return err
	}
	st.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	start := time.Now()
	idx, err := pgIndexes(ctx, conn)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(idx)) {
		if _, err := conn.Exec(ctx, `DROP INDEX `+pgx.Identifier{name}.Sanitize()); err != nil {
			return err
		}
	}
	for _, t := range bigTables {
		if _, err := conn.Exec(ctx, `TRUNCATE `+t); err != nil {
			return err
		}
	}

	// One COPY per table, each on its own connection, fed by the generator.
	type table struct {
		name string
		cols []string
		ch   chan [][]any
	}
	tables := map[string]*table{
		"ledger_files":     {name: "ledger_files", cols: []string{"id", "source", "path", "name", "kind", "size", "mod_time", "state", "hash", "run_id", "note", "noticed", "updated"}},
		"line_decisions":   {name: "line_decisions", cols: []string{"run_id", "seq", "file", "row_no", "invoice", "line_no", "cin", "npi", "code", "from_date", "to_date", "outcome", "rule", "field", "source", "message", "facts"}},
		"sent_claims":      {name: "sent_claims", cols: []string{"clm01", "run_id", "invoice", "hcp"}},
		"run_interchanges": {name: "run_interchanges", cols: []string{"run_id", "isa13", "file"}},
		"reject_counts":    {name: "reject_counts", cols: []string{"day", "rule", "lines"}},
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, t := range tables {
		t.ch = make(chan [][]any, 8)
		g.Go(func() error {
			c, err := pgx.Connect(gctx, dsn)
			if err != nil {
				return err
			}
			defer c.Close(context.WithoutCancel(gctx))
			src := &chanSource{ch: t.ch}
			n, err := c.CopyFrom(gctx, pgx.Identifier{t.name}, t.cols, src)
			if err != nil {
				// Let the generator finish rather than block on a full channel.
				go func() {
					for range t.ch {
					}
				}()
				return fmt.Errorf("copy %s: %w", t.name, err)
			}
			log.Printf("webbench: copied %d rows into %s", n, t.name)
			return nil
		})
	}
	var written int
	g.Go(func() error {
		sk := &pgSink{out: map[string]*batcher{}}
		for n, t := range tables {
			sk.out[n] = &batcher{ch: t.ch, ctx: gctx}
		}
		var err error
		written, err = generate(time.Now(), files, lines, sk)
		for _, b := range sk.out {
			if err == nil {
				err = b.flush()
			}
			close(b.ch)
		}
		return err
	})
	if err := g.Wait(); err != nil {
		return err
	}
	log.Printf("webbench: rows copied in %s; building indexes", time.Since(start).Round(time.Second))
	if _, err := conn.Exec(ctx, `SET maintenance_work_mem = '1GB'`); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(idx)) {
		if _, err := conn.Exec(ctx, idx[name]); err != nil {
			return fmt.Errorf("%s: %w", idx[name], err)
		}
	}
	again, err := pgIndexes(ctx, conn)
	if err != nil {
		return err
	}
	if !maps.Equal(idx, again) {
		return fmt.Errorf("the indexes made again differ from the migrations':\n%v\n%v", idx, again)
	}
	if _, err := conn.Exec(ctx, `SELECT setval('ledger_files_id_seq', $1)`, files); err != nil {
		return err
	}
	// A loaded table has not been vacuumed yet; autovacuum keeps a live one
	// so (the visibility map lets index-only scans skip the table).
	for _, t := range bigTables {
		if _, err := conn.Exec(ctx, `VACUUM (ANALYZE) `+t); err != nil {
			return err
		}
	}
	log.Printf("webbench: seeded %d files and %d line decisions into PostgreSQL in %s (%d indexes made again, identical)",
		files, written, time.Since(start).Round(time.Second), len(idx))
	return nil
}

// pgIndexes returns the definitions of the big tables' indexes that no
// constraint owns, by name.
func pgIndexes(ctx context.Context, conn *pgx.Conn) (map[string]string, error) {
	rows, err := conn.Query(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)`, bigTables)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, d string
		if err := rows.Scan(&n, &d); err != nil {
			return nil, err
		}
		out[n] = d
	}
	return out, rows.Err()
}

// batcher sends a table's rows to its COPY in batches.
type batcher struct {
	ctx  context.Context
	ch   chan [][]any
	rows [][]any
}

const copyBatch = 2000

func (b *batcher) add(row []any) error {
	b.rows = append(b.rows, row)
	if len(b.rows) < copyBatch {
		return nil
	}
	return b.flush()
}

func (b *batcher) flush() error {
	if len(b.rows) == 0 {
		return nil
	}
	select {
	case b.ch <- b.rows:
	case <-b.ctx.Done():
		return b.ctx.Err()
	}
	b.rows = make([][]any, 0, copyBatch)
	return nil
}

// pgSink turns the seed's rows into the PostgreSQL columns' values.
type pgSink struct{ out map[string]*batcher }

func (s *pgSink) file(f fileRow) error {
	var run any
	if f.run != nil {
		run = int64(f.run.(int))
	}
	t := f.noticed.UTC().Truncate(time.Microsecond)
	return s.out["ledger_files"].add([]any{int64(f.id), "inbox", "archive/" + fileName(f.id), fileName(f.id), f.kind, int64(2048), t, f.state, hash(f.id), run, f.note, t, t})
}

func (s *pgSink) claim(clm01 string, run int, invoice string) error {
	return s.out["sent_claims"].add([]any{clm01, int64(run), invoice, ""})
}

func (s *pgSink) interchange(run, isa13 int, file string) error {
	return s.out["run_interchanges"].add([]any{int64(run), int64(isa13), file})
}

func (s *pgSink) line(vals []any) error {
	row := make([]any, len(vals))
	for i, v := range vals {
		if n, ok := v.(int); ok {
			v = int64(n)
		}
		row[i] = v
	}
	return s.out["line_decisions"].add(row)
}

func (s *pgSink) rejects(day int64, rule string, lines int) error {
	return s.out["reject_counts"].add([]any{int32(day), rule, int32(lines)})
}

// chanSource is a pgx.CopyFromSource over batches of rows.
type chanSource struct {
	ch    chan [][]any
	batch [][]any
	row   []any
}

func (c *chanSource) Next() bool {
	for len(c.batch) == 0 {
		b, ok := <-c.ch
		if !ok {
			return false
		}
		c.batch = b
	}
	c.row, c.batch = c.batch[0], c.batch[1:]
	return true
}

func (c *chanSource) Values() ([]any, error) { return c.row, nil }
func (c *chanSource) Err() error             { return nil }
