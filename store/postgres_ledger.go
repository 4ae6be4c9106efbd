package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The file ledger on PostgreSQL (see ledger.go for the model and the
// statements).

// postgresLedgerMigrations are the PostgreSQL migrations of the ledger
// component, in order (see sqliteComponents in migrate.go).
var postgresLedgerMigrations = []string{
	`CREATE TABLE ledger_files (
		id           BIGSERIAL PRIMARY KEY,
		source       TEXT NOT NULL,
		path         TEXT NOT NULL,
		name         TEXT NOT NULL,
		kind         TEXT NOT NULL,
		size         BIGINT NOT NULL,
		mod_time     TIMESTAMPTZ NOT NULL,
		etag         TEXT NOT NULL DEFAULT '',
		state        TEXT NOT NULL,
		claim_path   TEXT NOT NULL DEFAULT '',
		work_dir     TEXT NOT NULL DEFAULT '',
		hash         TEXT NOT NULL DEFAULT '',
		duplicate_of BIGINT,
		run_id       BIGINT,
		run_output   TEXT NOT NULL DEFAULT '',
		outputs      TEXT NOT NULL DEFAULT '[]',
		note         TEXT NOT NULL DEFAULT '',
		attempts     INTEGER NOT NULL DEFAULT 0,
		failures     INTEGER NOT NULL DEFAULT 0,
		last_error   TEXT NOT NULL DEFAULT '',
		next_attempt TIMESTAMPTZ NOT NULL DEFAULT 'epoch',
		owner        TEXT NOT NULL DEFAULT '',
		node         TEXT NOT NULL DEFAULT '',
		lease_until  TIMESTAMPTZ NOT NULL DEFAULT 'epoch',
		noticed      TIMESTAMPTZ NOT NULL DEFAULT now(),
		updated      TIMESTAMPTZ NOT NULL DEFAULT now()
	)`,
	`CREATE UNIQUE INDEX ledger_files_pending_path ON ledger_files(source, path)
		WHERE state NOT IN ` + finalStates,
	`CREATE UNIQUE INDEX ledger_files_content ON ledger_files(hash)
		WHERE hash <> '' AND duplicate_of IS NULL AND state IN ` + contentStates,
	`CREATE INDEX ledger_files_due ON ledger_files(next_attempt) WHERE state NOT IN ` + finalStates,
	`CREATE INDEX ledger_files_path ON ledger_files(source, path)`,
	// Pre-commit starts that have not ended (FileEntry.Starts).
	`ALTER TABLE ledger_files ADD COLUMN starts INTEGER NOT NULL DEFAULT 0`,
	// Where a quarantined entry's source file went (FileEntry.QuarantinePath).
	`ALTER TABLE ledger_files ADD COLUMN quarantine_path TEXT NOT NULL DEFAULT ''`,
}

// pgLedger is the ledger's PostgreSQL dialect: times are TIMESTAMPTZ from
// the database's clock, 'epoch' for none; several instances share the
// database.
var pgLedger = &ledgerDialect{
	at:          func(p string) string { return `(now() + ` + p + `::float8 * interval '1 second')` },
	fromNow:     func(d time.Duration) any { return d.Seconds() },
	zero:        `'epoch'::timestamptz`,
	seconds:     func(d string) string { return `EXTRACT(EPOCH FROM ` + d + `)::float8` },
	modTime:     func(t time.Time) any { return t },
	timeDest:    func(t *time.Time) any { return t },
	modTimeDest: func(t *time.Time) any { return t },
	greatest:    `GREATEST`,
	shared:      true,
	uniqueViolation: func(err error) bool {
		var pgErr *pgconn.PgError
		return errors.As(err, &pgErr) && pgErr.Code == "23505"
	},
}

// pgConn is a ledgerConn on the pool or a transaction.
type pgConn struct{ q pgQuerier }

func (c pgConn) exec(ctx context.Context, q string, args ...any) error {
	_, err := c.q.Exec(ctx, q, args...)
	return err
}

func (c pgConn) queryRow(ctx context.Context, q string, args ...any) rowScanner {
	return c.q.QueryRow(ctx, q, args...)
}

type pgDB struct {
	pgConn
	pool *pgxpool.Pool
}

func newPGDB(pool *pgxpool.Pool) pgDB { return pgDB{pgConn{pool}, pool} }

func (d pgDB) query(ctx context.Context, q string, args ...any) (dbRows, error) {
	rows, err := d.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (d pgDB) begin(ctx context.Context) (ledgerTx, error) {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return pgTx{pgConn{tx}, tx}, nil
}

type pgTx struct {
	pgConn
	tx pgx.Tx
}

func (t pgTx) commit(ctx context.Context) error { return t.tx.Commit(ctx) }

func (t pgTx) rollback(ctx context.Context) { t.tx.Rollback(context.WithoutCancel(ctx)) }

// BindRuns returns a Store whose runs commit entry id as well.
func (p *Postgres) BindRuns(id int64, owner, workDir string, afterCommit func()) Store {
	return &pgBound{Postgres: p, file: id, owner: owner, workDir: workDir, afterCommit: afterCommit}
}

type pgBound struct {
	*Postgres
	file        int64
	owner       string
	workDir     string
	afterCommit func()
}

func (b *pgBound) BeginRun(ctx context.Context, kind, inputs string) (Run, error) {
	r, err := b.Postgres.BeginRun(ctx, kind, inputs)
	if err != nil {
		return nil, err
	}
	pr := r.(*pgRun)
	pr.beforeCommit = func(ctx context.Context, tx pgx.Tx, temp, output string) error {
		return b.commitRun(ctx, pgConn{tx}, b.file, b.owner, b.workDir, pr.id, output)
	}
	pr.afterCommit = b.afterCommit
	return pr, nil
}
