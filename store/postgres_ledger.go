package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The file ledger on PostgreSQL (see ledger.go for the model). Times come
// from the database's clock, so instances on machines whose clocks differ
// agree on when a lease expires.

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
}

func pgFileColumns(prefix string) string {
	cols := []string{"id", "source", "path", "name", "kind", "size", "mod_time", "etag", "state", "claim_path", "work_dir", "hash",
		"COALESCE(%sduplicate_of, 0)", "COALESCE(%srun_id, 0)", "run_output", "outputs", "note", "attempts", "failures",
		"last_error", "owner", "node", "lease_until", "noticed", "updated", "starts"}
	for i, c := range cols {
		if strings.Contains(c, "%s") {
			cols[i] = fmt.Sprintf(c, prefix)
		} else {
			cols[i] = prefix + c
		}
	}
	return strings.Join(cols, ", ")
}

var pgFileCols = pgFileColumns("")

func scanPGFile(r rowScanner) (*FileEntry, error) {
	var e FileEntry
	var state, outputs string
	if err := r.Scan(&e.ID, &e.Source, &e.Path, &e.Name, &e.Kind, &e.Size, &e.ModTime, &e.ETag, &state, &e.ClaimPath,
		&e.WorkDir, &e.Hash, &e.DuplicateOf, &e.RunID, &e.RunOutput, &outputs, &e.Note, &e.Attempts, &e.Failures,
		&e.LastError, &e.Owner, &e.Node, &e.LeaseUntil, &e.Noticed, &e.Updated, &e.Starts); err != nil {
		return nil, err
	}
	e.State = FileState(state)
	e.ModTime, e.LeaseUntil, e.Noticed, e.Updated = e.ModTime.UTC(), e.LeaseUntil.UTC(), e.Noticed.UTC(), e.Updated.UTC()
	var err error
	if e.Outputs, err = decodeOutputs(outputs); err != nil {
		return nil, err
	}
	return &e, nil
}

func (p *Postgres) RegisterFile(ctx context.Context, n FileNotice) (int64, bool, error) {
	q := `INSERT INTO ledger_files(source, path, name, kind, size, mod_time, etag, state)
		SELECT $1, $2, $3, $4, $5, $6, $7, 'queued'`
	if n.Once {
		q += ` WHERE NOT EXISTS (SELECT 1 FROM ledger_files WHERE source = $1 AND path = $2)`
	}
	q += ` ON CONFLICT DO NOTHING RETURNING id`
	var id int64
	err := p.pool.QueryRow(ctx, q, n.Source, n.Path, n.Name, n.Kind, n.Size, n.ModTime, n.ETag).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: register %s:%s: %w", n.Source, n.Path, err)
	}
	return id, true, nil
}

// pgTakeable is the condition TakeFile and NextFileDue share; $1 owner, $2 node.
const pgTakeable = `state NOT IN ` + finalStates + `
	AND (owner = '' OR owner = $1 OR lease_until < now())
	AND (state NOT IN ('committed', 'processed') OR owner IN ('', $1) OR node = $2)`

func (p *Postgres) TakeFile(ctx context.Context, owner, node string, lease time.Duration) (*FileEntry, error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: take file: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// SKIP LOCKED: instances taking at once get different entries instead
	// of queueing behind each other's row locks.
	e, err := scanPGFile(tx.QueryRow(ctx, `WITH c AS (
			SELECT id FROM ledger_files WHERE `+pgTakeable+` AND next_attempt <= now()
			ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
		UPDATE ledger_files f SET owner = $1, node = $2, lease_until = now() + $3::float8 * interval '1 second', updated = now(),
			starts = f.starts + CASE WHEN f.state IN `+preCommitStates+` THEN 1 ELSE 0 END
		FROM c WHERE f.id = c.id RETURNING `+pgFileColumns("f."), owner, node, lease.Seconds()))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: take file: %w", err)
	}
	if e.RunID != 0 && (e.State == FileCommitted || e.State == FileProcessed) {
		// Taking over an entry whose run was committed adopts the run, so
		// that the new owner's recovery finishes it.
		if _, err := tx.Exec(ctx, `UPDATE runs SET owner = $1, lease_until = now() + $2::float8 * interval '1 second'
			WHERE id = $3 AND status IN ('open', 'written')`, owner, lease.Seconds(), e.RunID); err != nil {
			return nil, fmt.Errorf("store: take file %d: adopt run %d: %w", e.ID, e.RunID, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("store: take file: %w", err)
	}
	return e, nil
}

func (p *Postgres) NextFileDue(ctx context.Context, owner, node string) (time.Duration, bool, error) {
	var secs *float64
	err := p.pool.QueryRow(ctx, `SELECT EXTRACT(EPOCH FROM MIN(GREATEST(next_attempt,
			CASE WHEN owner IN ('', $1) THEN 'epoch'::timestamptz ELSE lease_until END)) - now())::float8
		FROM ledger_files WHERE state NOT IN `+finalStates+`
		AND (state NOT IN ('committed', 'processed') OR owner IN ('', $1) OR node = $2)`, owner, node).Scan(&secs)
	if err != nil {
		return 0, false, fmt.Errorf("store: next file due: %w", err)
	}
	if secs == nil {
		return 0, false, nil
	}
	return time.Duration(*secs * float64(time.Second)), true, nil
}

// RenewLeases extends the owner's leases with two statements, each its own
// transaction. They must not share one: a run's commit locks its runs row
// and then its ledger_files row, so a transaction locking ledger_files and
// then runs (as a pgx batch would) deadlocks with it.
func (p *Postgres) RenewLeases(ctx context.Context, owner string, lease time.Duration) error {
	if _, err := p.pool.Exec(ctx, `UPDATE ledger_files SET lease_until = now() + $2::float8 * interval '1 second'
		WHERE owner = $1 AND state NOT IN `+finalStates, owner, lease.Seconds()); err != nil {
		return fmt.Errorf("store: renew leases: %w", err)
	}
	if _, err := p.pool.Exec(ctx, `UPDATE runs SET lease_until = now() + $2::float8 * interval '1 second'
		WHERE owner = $1 AND status IN ('open', 'written')`, owner, lease.Seconds()); err != nil {
		return fmt.Errorf("store: renew leases: %w", err)
	}
	return nil
}

func (p *Postgres) ReleaseFiles(ctx context.Context, owner string) error {
	_, err := p.pool.Exec(ctx, `UPDATE ledger_files SET owner = '', lease_until = 'epoch', updated = now(),
		starts = CASE WHEN state IN `+preCommitStates+` THEN GREATEST(starts - 1, 0) ELSE starts END
		WHERE owner = $1 AND state NOT IN `+finalStates+` AND state NOT IN ('committed', 'processed')`, owner)
	if err != nil {
		return fmt.Errorf("store: release files: %w", err)
	}
	return nil
}

// update changes entry id held by owner in one of states; set is the SET
// clause with placeholders numbered from $4 ($1 id, $2 owner, $3 states).
func (p *Postgres) update(ctx context.Context, q pgQuerier, id int64, owner string, states []FileState, set string, args ...any) (*FileEntry, error) {
	names := make([]string, len(states))
	for i, st := range states {
		names[i] = string(st)
	}
	all := append([]any{id, owner, names}, args...)
	e, err := scanPGFile(q.QueryRow(ctx, `UPDATE ledger_files SET `+set+`, updated = now()
		WHERE id = $1 AND owner = $2 AND state = ANY($3) RETURNING `+pgFileCols, all...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notHeld(id, "want "+strings.Join(names, " or "))
	}
	if err != nil {
		return nil, fmt.Errorf("store: file %d: %w", id, err)
	}
	return e, nil
}

func (p *Postgres) ClaimFile(ctx context.Context, id int64, owner, claimPath, workDir string) (*FileEntry, error) {
	return p.update(ctx, p.pool, id, owner, []FileState{FileQueued}, `state = 'claimed', claim_path = $4, work_dir = $5`, claimPath, workDir)
}

func (p *Postgres) SetFileContent(ctx context.Context, id int64, owner, hash, workDir string) (*FileEntry, error) {
	for attempt := 0; ; attempt++ {
		e, err := p.setFileContent(ctx, id, owner, hash, workDir)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && attempt < 3 {
			continue // another instance took the content meanwhile: this one is its duplicate
		}
		return e, err
	}
}

func (p *Postgres) setFileContent(ctx context.Context, id int64, owner, hash, workDir string) (*FileEntry, error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: file %d content: %w", id, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var dup int64
	var dupName string
	var dupNoticed time.Time
	err = tx.QueryRow(ctx, `SELECT id, name, noticed FROM ledger_files
		WHERE hash = $1 AND duplicate_of IS NULL AND state IN `+contentStates+` AND id <> $2 ORDER BY id LIMIT 1`,
		hash, id).Scan(&dup, &dupName, &dupNoticed)
	var e *FileEntry
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		e, err = p.update(ctx, tx, id, owner, []FileState{FileClaimed}, `state = 'processing', hash = $4, work_dir = $5`, hash, workDir)
	case err != nil:
		return nil, fmt.Errorf("store: file %d content: %w", id, err)
	default:
		e, err = p.update(ctx, tx, id, owner, []FileState{FileClaimed}, `state = 'archive', hash = $4, work_dir = $5, duplicate_of = $6, note = $7`,
			hash, workDir, dup, duplicateNote(dup, dupName, dupNoticed))
	}
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("store: file %d content: %w", id, err)
	}
	return e, nil
}

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
		_, err := b.update(ctx, tx, b.file, b.owner, []FileState{FileProcessing},
			`state = 'committed', run_id = $4, run_output = $5, work_dir = $6`, pr.id, output, b.workDir)
		return err
	}
	pr.afterCommit = b.afterCommit
	return pr, nil
}

func (p *Postgres) FileProcessed(ctx context.Context, id int64, owner string, outputs []FileOutput, note string) (*FileEntry, error) {
	enc, err := encodeOutputs(outputs)
	if err != nil {
		return nil, err
	}
	return p.update(ctx, p.pool, id, owner, []FileState{FileProcessing, FileCommitted},
		`state = 'processed', outputs = $4, note = $5`, enc, note)
}

func (p *Postgres) FileOutputDelivery(ctx context.Context, id int64, owner string, index int, attempted, delivered bool) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: file %d delivery: %w", id, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var outputs string
	err = tx.QueryRow(ctx, `SELECT outputs FROM ledger_files WHERE id = $1 AND owner = $2 AND state = 'processed' FOR UPDATE`,
		id, owner).Scan(&outputs)
	if errors.Is(err, pgx.ErrNoRows) {
		return notHeld(id, "want processed")
	}
	if err != nil {
		return fmt.Errorf("store: file %d delivery: %w", id, err)
	}
	enc, err := markOutput(id, outputs, index, attempted, delivered)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE ledger_files SET outputs = $1, updated = now() WHERE id = $2`, enc, id); err != nil {
		return fmt.Errorf("store: file %d delivery: %w", id, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: file %d delivery: %w", id, err)
	}
	return nil
}

func (p *Postgres) DecideFile(ctx context.Context, id int64, owner string, state FileState, note string) (*FileEntry, error) {
	cur, err := p.File(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkDecision(id, cur.State, state); err != nil {
		return nil, err
	}
	return p.update(ctx, p.pool, id, owner, []FileState{cur.State}, `state = $4, note = $5`, string(state), appendNote(cur.Note, note))
}

func (p *Postgres) RedoFile(ctx context.Context, id int64, owner, reason string) (*FileEntry, error) {
	return p.update(ctx, p.pool, id, owner, []FileState{FileCommitted},
		`state = 'processing', run_id = NULL, run_output = '', note = $4`, "redone: "+reason)
}

func (p *Postgres) FinishFile(ctx context.Context, id int64, owner string, state FileState, where string) error {
	var from []FileState
	switch state {
	case FileArchived:
		from = []FileState{FileArchive}
	case FileQuarantined:
		from = []FileState{FileQuarantine}
	case FileLost:
		from = []FileState{FileQueued, FileClaimed}
	default:
		return fmt.Errorf("store: file %d: %q is not a final state", id, state)
	}
	cur, err := p.File(ctx, id)
	if err != nil {
		return err
	}
	_, err = p.update(ctx, p.pool, id, owner, from, `state = $4, note = $5, owner = '', lease_until = 'epoch'`,
		string(state), appendNote(cur.Note, where))
	return err
}

func (p *Postgres) RetryFile(ctx context.Context, id int64, owner, errMsg string, failure bool, delay time.Duration, release bool) (*FileEntry, error) {
	f := 0
	if failure {
		f = 1
	}
	return p.update(ctx, p.pool, id, owner, pendingStates,
		`attempts = attempts + 1, failures = failures + $4, last_error = $5,
		next_attempt = now() + $6::float8 * interval '1 second',
		starts = CASE WHEN state IN `+preCommitStates+` THEN GREATEST(starts - 1, 0) ELSE starts END,
		owner = CASE WHEN $7 AND state NOT IN ('committed', 'processed') THEN '' ELSE owner END`,
		f, errMsg, delay.Seconds(), release)
}

func (p *Postgres) ReleaseClaim(ctx context.Context, id int64, owner, note string, delay time.Duration) (*FileEntry, error) {
	cur, err := p.File(ctx, id)
	if err != nil {
		return nil, err
	}
	return p.update(ctx, p.pool, id, owner, []FileState{FileClaimed, FileProcessing},
		`state = 'queued', claim_path = '', work_dir = '', hash = '', note = $4,
		next_attempt = now() + $5::float8 * interval '1 second', owner = '', lease_until = 'epoch',
		starts = GREATEST(starts - 1, 0)`, appendNote(cur.Note, note), delay.Seconds())
}

func (p *Postgres) File(ctx context.Context, id int64) (*FileEntry, error) {
	e, err := scanPGFile(p.pool.QueryRow(ctx, `SELECT `+pgFileCols+` FROM ledger_files WHERE id = $1`, id))
	return fileFound(e, err, id, pgx.ErrNoRows)
}

func (p *Postgres) Files(ctx context.Context, limit int) ([]FileEntry, error) {
	rows, err := p.pool.Query(ctx, filesQuery(pgFileCols, limit))
	if err != nil {
		return nil, fmt.Errorf("store: files: %w", err)
	}
	defer rows.Close()
	return readFiles(rows, scanPGFile)
}

func (p *Postgres) CountFiles(ctx context.Context) (map[FileState]int, error) {
	rows, err := p.pool.Query(ctx, countStatesQuery)
	if err != nil {
		return nil, fmt.Errorf("store: count files: %w", err)
	}
	defer rows.Close()
	return readCounts(rows)
}
