package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"modernc.org/sqlite"
)

// Postgres is the Store for several gateway instances sharing their state:
// control numbers, runs and sent lines (duplicate detection holds across
// instances: a line key is unique in the database, and a second instance
// inserting the same key waits for the first one's run to commit or roll
// back), and the file ledger with leases.
//
// Runs belong to the instance that began them (PostgresOptions.Owner).
// PendingRuns lists only the caller's own interrupted runs, and open runs
// whose owner stopped renewing its lease (their transaction died with the
// connection, so aborting them loses nothing). A written run of another
// instance is never listed: its output is on that instance's disk, and only
// an instance that takes over the ledger entry holding it adopts the run.
type Postgres struct {
	pool  *pgxpool.Pool
	owner string
	lease time.Duration
	fileLedger

	mu     sync.Mutex
	active map[int64]*pgRun // runs this Store has open: never "pending"
	checks map[*pgRun]bool  // checks this Store has open (Close rolls them back)

	// adtMembers are the members RecordADT found before.
	adtMembers knownMembers
}

// PostgresOptions configure OpenPostgres.
type PostgresOptions struct {
	// Owner names this instance; runs it begins are its own. Keep it stable
	// across restarts (the daemon keeps it in its state directory), so that
	// a restarted instance finishes its own runs at once.
	Owner string
	// Lease is how long another instance waits for an instance that stopped
	// renewing (RenewLeases) before treating its open runs and held files as
	// abandoned. Default 60s.
	Lease time.Duration
	// MaxConns bounds the connection pool (default 4: a run holds one for
	// its transaction).
	MaxConns int32
}

// DefaultLease is the lease a held file or open run keeps without renewal.
const DefaultLease = 60 * time.Second

// postgresComponents are the PostgreSQL schema components, as for SQLite
// (migrate.go): each an ordered list of migrations.
var postgresComponents = map[string][]string{
	"core":       postgresCoreMigrations,
	"ledger":     postgresLedgerMigrations,
	"enrollment": postgresEnrollmentMigrations,
	"providers":  postgresProvidersMigrations,
	"claims":     postgresClaimsMigrations,
	"monitoring": postgresMonitoringMigrations,
	"web":        postgresWebMigrations,
	"inbox":      postgresInboxMigrations,
	"adt":        postgresADTMigrations,
	"inbound":    postgresInboundMigrations,
}

// postgresCoreMigrations are the PostgreSQL migrations of the core
// component, in order (see sqliteComponents in migrate.go).
var postgresCoreMigrations = []string{
	`CREATE TABLE control_numbers (
		scope TEXT PRIMARY KEY,
		last  BIGINT NOT NULL
	)`,
	`CREATE TABLE runs (
		id          BIGSERIAL PRIMARY KEY,
		kind        TEXT NOT NULL,
		inputs      TEXT NOT NULL,
		status      TEXT NOT NULL,
		started     TIMESTAMPTZ NOT NULL DEFAULT now(),
		ended       TIMESTAMPTZ,
		temp        TEXT,
		output      TEXT,
		summary     TEXT,
		owner       TEXT NOT NULL DEFAULT '',
		lease_until TIMESTAMPTZ NOT NULL DEFAULT now()
	)`,
	`CREATE INDEX runs_pending ON runs(owner) WHERE status IN ('open', 'written')`,
	// The whole 128-bit line key as a uuid: no collisions to resolve.
	`CREATE TABLE sent_lines (
		key     UUID PRIMARY KEY,
		run_id  BIGINT NOT NULL,
		control TEXT NOT NULL,
		invoice TEXT NOT NULL,
		line_no TEXT NOT NULL
	)`,
	`CREATE INDEX sent_lines_run ON sent_lines(run_id)`,
	// Pending lines: service lines of claims accepted from providers'
	// 837Ps, waiting to be converted and sent (InboundClaim.Lines). The
	// duplicate check sees them as it sees sent lines. The file and time
	// are those of the claim (inbound_claims, by invoice).
	`CREATE TABLE pending_lines (
		key     UUID PRIMARY KEY,
		invoice TEXT NOT NULL,
		line_no TEXT NOT NULL
	)`,
	// The usage counters a pending line moves once sent (Line.Uses): a
	// run's usage counters add them up while the line is pending, and they
	// go with it when it stops being pending.
	`CREATE TABLE pending_usage (
		key     UUID NOT NULL REFERENCES pending_lines(key) ON DELETE CASCADE,
		counter TEXT NOT NULL,
		amount  BIGINT NOT NULL,
		first   INTEGER NOT NULL
	)`,
	`CREATE INDEX pending_usage_counter ON pending_usage(counter)`,
	`CREATE INDEX pending_usage_line ON pending_usage(key)`,
}

// migrationLock is the advisory lock key that serialises migrations of
// instances starting at once.
const migrationLock = 0x63616c6777 // "calgw"

// OpenPostgres connects to the database named by dsn (a postgres:// URL or
// key=value string) and brings its schema up to date.
func OpenPostgres(ctx context.Context, dsn string, opts PostgresOptions) (*Postgres, error) {
	if opts.Owner == "" {
		return nil, errors.New("store: postgres: an owner (instance name) is required")
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 4
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included: do not pass it on.
		return nil, errors.New("store: postgres: the DSN is not a valid connection string")
	}
	cfg.MaxConns = opts.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	p := &Postgres{pool: pool, owner: opts.Owner, lease: opts.Lease, fileLedger: fileLedger{newPGDB(pool), pgLedger}, active: map[int64]*pgRun{}, checks: map[*pgRun]bool{}}
	if err := p.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return p, nil
}

// Close rolls back the runs still open (they become pending, for this
// owner's next recovery) and closes the connection pool.
func (p *Postgres) Close() error {
	p.mu.Lock()
	open := make([]*pgRun, 0, len(p.active)+len(p.checks))
	for _, r := range p.active {
		open = append(open, r)
	}
	for r := range p.checks {
		open = append(open, r)
	}
	p.active, p.checks = map[int64]*pgRun{}, map[*pgRun]bool{}
	p.mu.Unlock()
	for _, r := range open {
		r.mu.Lock()
		if !r.done {
			r.tx.Rollback(context.Background())
			r.done = true
		}
		r.mu.Unlock()
	}
	p.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (p *Postgres) Ping(ctx context.Context) error { return p.pool.Ping(ctx) }

// Owner is the instance name runs are recorded under.
func (p *Postgres) Owner() string { return p.owner }

func (p *Postgres) migrate(ctx context.Context) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: postgres migrate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return fmt.Errorf("store: postgres migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_versions (
		component TEXT PRIMARY KEY,
		version   INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("store: postgres migrate: %w", err)
	}
	names := make([]string, 0, len(postgresComponents))
	for n := range postgresComponents {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		migrations := postgresComponents[name]
		var version int
		err := tx.QueryRow(ctx, `SELECT version FROM schema_versions WHERE component = $1`, name).Scan(&version)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("store: postgres migrate %s: %w", name, err)
		}
		if version > len(migrations) {
			return fmt.Errorf("store: the database has %s schema version %d, newer than this calgw knows (%d): upgrade calgw", name, version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return fmt.Errorf("store: postgres %s migration %d: %w", name, i+1, err)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_versions(component, version) VALUES ($1, $2)
			ON CONFLICT (component) DO UPDATE SET version = excluded.version`, name, len(migrations)); err != nil {
			return fmt.Errorf("store: postgres migrate %s: %w", name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: postgres migrate: %w", err)
	}
	return nil
}

type pgQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func pgNextControl(ctx context.Context, q pgQuerier, scope string) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `INSERT INTO control_numbers(scope, last) VALUES ($1, 1)
		ON CONFLICT (scope) DO UPDATE SET last = CASE WHEN control_numbers.last >= $2 THEN 1 ELSE control_numbers.last + 1 END
		RETURNING last`, scope, int64(MaxControlNumber)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: control number %s: %w", scope, err)
	}
	return n, nil
}

func (p *Postgres) NextControlNumber(ctx context.Context, scope string) (int64, error) {
	return pgNextControl(ctx, p.pool, scope)
}

func (p *Postgres) BeginRun(ctx context.Context, kind, inputs string) (Run, error) {
	r := &pgRun{p: p}
	var err error
	if r.tx, err = p.pool.Begin(ctx); err != nil {
		return nil, fmt.Errorf("store: begin run: %w", err)
	}
	// The run's row commits on its own, so that other instances see who
	// holds it; mu keeps PendingRuns from seeing it before it is active.
	p.mu.Lock()
	defer p.mu.Unlock()
	err = p.pool.QueryRow(ctx, `INSERT INTO runs(kind, inputs, status, owner, lease_until)
		VALUES ($1, $2, $3, $4, now() + $5::float8 * interval '1 second') RETURNING id, started`,
		kind, inputs, RunOpen, p.owner, p.lease.Seconds()).Scan(&r.id, &r.started)
	if err != nil {
		r.tx.Rollback(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("store: begin run: %w", err)
	}
	p.active[r.id] = r
	return r, nil
}

func (p *Postgres) BeginCheck(ctx context.Context, kind, inputs string) (Run, error) {
	r := &pgRun{p: p, check: true}
	var err error
	if r.tx, err = p.pool.Begin(ctx); err != nil {
		return nil, fmt.Errorf("store: begin check: %w", err)
	}
	err = r.tx.QueryRow(ctx, `INSERT INTO runs(kind, inputs, status, owner) VALUES ($1, $2, $3, $4) RETURNING id, started`,
		kind, inputs, RunOpen, p.owner).Scan(&r.id, &r.started)
	if err != nil {
		r.tx.Rollback(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("store: begin check: %w", err)
	}
	p.mu.Lock()
	p.checks[r] = true
	p.mu.Unlock()
	return r, nil
}

// checkEnded forgets a check that ended.
func (p *Postgres) checkEnded(r *pgRun) {
	p.mu.Lock()
	delete(p.checks, r)
	p.mu.Unlock()
}

func (p *Postgres) inactive(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.active, id)
}

func (p *Postgres) activeRuns() []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := make([]int64, 0, len(p.active))
	for id := range p.active {
		ids = append(ids, id)
	}
	return ids
}

// pgRun is a run's transaction. pgx transactions are not safe for
// concurrent use, and Convert's stages call a run from two goroutines: mu
// serialises them.
type pgRun struct {
	p       *Postgres
	id      int64
	started time.Time
	mu      sync.Mutex
	tx      pgx.Tx
	done    bool
	// askedPending: whether any line is pending was asked; noPending: none was.
	askedPending, noPending bool
	check                   bool // BeginCheck's: never written, its row rolled back
	// seen is the lines a check run recorded, and those an ordinary run
	// recorded since its last PrefetchLines, by key (checkLines).
	seen map[[16]byte]seenLine
	// pre is what PrefetchLines found, by key.
	pre map[[16]byte]pgPrefetched
	// An ordinary run's lines recorded after PrefetchLines and not yet
	// inserted, and the pending lines to delete (flush).
	queued   []Line
	released []pgtype.UUID
	// Usage counter moves queued by AddUsage, by key, and their keys in
	// the order first moved (flushUsage).
	usage     map[string]usageMove
	usageKeys []string

	beforeCommit func(ctx context.Context, tx pgx.Tx, temp, output string) error
	afterCommit  func()
}

func (r *pgRun) ID() int64 { return r.id }

func (r *pgRun) NextControlNumber(ctx context.Context, scope string) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return 0, fmt.Errorf("%w: run %d is closed", ErrNoRun, r.id)
	}
	return pgNextControl(ctx, r.tx, scope)
}

func (r *pgRun) RecordLines(ctx context.Context, lines []Line) ([]*PriorLine, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return nil, fmt.Errorf("%w: run %d is closed", ErrNoRun, r.id)
	}
	prior := make([]*PriorLine, len(lines))
	if err := r.pendingPrior(ctx, lines, prior); err != nil {
		return nil, err
	}
	if r.check || r.prefetched(lines) {
		return prior, r.checkLines(ctx, lines, prior)
	}
	if err := r.flush(ctx); err != nil {
		return nil, err
	}
	// A key repeated within the batch duplicates its first occurrence here;
	// only first occurrences go to the database.
	first := make(map[[16]byte]int, len(lines))
	var fresh []Line
	for i := range lines {
		l := &lines[i]
		if prior[i] != nil {
			continue
		}
		if j, ok := first[l.Key]; ok {
			f := &lines[j]
			prior[i] = &PriorLine{Run: r.id, Control: f.Control, Invoice: f.Invoice, LineNo: f.LineNo, At: r.started}
			continue
		}
		first[l.Key] = i
		fresh = append(fresh, *l)
	}
	if len(fresh) == 0 {
		return prior, nil
	}
	inserted, err := pgInsertLines(ctx, r.tx, r.id, fresh)
	if err != nil {
		return nil, fmt.Errorf("store: record lines of run %d: %w", r.id, err)
	}
	if len(r.pre) > 0 { // a line PrefetchLines found unsent is this run's now
		for k, i := range first {
			if _, ok := r.pre[k]; ok && inserted[k] {
				if r.seen == nil {
					r.seen = map[[16]byte]seenLine{}
				}
				r.seen[k] = seenLine{control: lines[i].Control, invoice: lines[i].Invoice, lineNo: lines[i].LineNo}
			}
		}
	}
	var dups []pgtype.UUID
	for i := range fresh {
		if !inserted[fresh[i].Key] {
			dups = append(dups, pgtype.UUID{Bytes: fresh[i].Key, Valid: true})
		}
	}
	if len(dups) == 0 {
		return prior, nil
	}
	// Committed lines of other runs, and this run's own from earlier batches.
	found := make(map[[16]byte]PriorLine, len(dups))
	if err := pgLookUpSent(ctx, r.tx, dups, found); err != nil {
		return nil, fmt.Errorf("store: look up duplicates in run %d: %w", r.id, err)
	}
	for k, i := range first {
		if inserted[k] {
			continue
		}
		p, ok := found[k]
		if !ok {
			// Only possible if the row vanished between the two statements
			// (its run was aborted): report it rather than send it twice.
			return nil, fmt.Errorf("store: run %d: line %s conflicted with a line that is gone; retry the run", r.id, lines[i].Control)
		}
		prior[i] = &p
	}
	return prior, nil
}

// prefetched tells whether PrefetchLines looked every line up.
func (r *pgRun) prefetched(lines []Line) bool {
	if len(r.pre) == 0 {
		return false
	}
	for i := range lines {
		if _, ok := r.pre[lines[i].Key]; !ok {
			return false
		}
	}
	return true
}

// checkLines is RecordLines of a check run, which is rolled back, and of
// an ordinary run's lines PrefetchLines looked up: it looks the lines up
// in sent_lines instead of inserting them, and remembers them, so that a
// line repeated later in the run is its duplicate as it would be once
// inserted. A check never inserts them, so it never waits for another run
// inserting the same key: it sees the lines committed. An ordinary run
// queues them, one round trip for a batch instead of one per line: flush
// inserts them, and fails the run if another run sent one of them in the
// meantime.
func (r *pgRun) checkLines(ctx context.Context, lines []Line, prior []*PriorLine) error {
	if r.seen == nil {
		r.seen = map[[16]byte]seenLine{}
	}
	var ask []pgtype.UUID // the keys PrefetchLines did not look up
	for i := range lines {
		if _, ok := r.pre[lines[i].Key]; !ok && prior[i] == nil {
			ask = append(ask, pgtype.UUID{Bytes: lines[i].Key, Valid: true})
		}
	}
	found := map[[16]byte]PriorLine{}
	if len(ask) > 0 {
		if err := r.flush(ctx); err != nil {
			return err
		}
		if err := pgLookUpSent(ctx, r.tx, ask, found); err != nil {
			return fmt.Errorf("store: look up lines of run %d: %w", r.id, err)
		}
	}
	for i := range lines {
		if prior[i] != nil {
			continue
		}
		l := &lines[i]
		if s, ok := r.seen[l.Key]; ok {
			prior[i] = &PriorLine{Run: r.id, Control: s.control, Invoice: s.invoice, LineNo: s.lineNo, At: r.started}
			continue
		}
		if k, ok := r.pre[l.Key]; ok && k.sent != nil {
			p := *k.sent
			prior[i] = &p
			continue
		}
		if p, ok := found[l.Key]; ok {
			prior[i] = &p
			continue
		}
		r.seen[l.Key] = seenLine{control: l.Control, invoice: l.Invoice, lineNo: l.LineNo}
		if !r.check {
			r.queued = append(r.queued, *l)
		}
	}
	return nil
}

// flush writes the usage moves AddUsage queued, inserts the lines
// checkLines queued and deletes the pending lines pendingPrior released.
// A queued line whose key another run sent since PrefetchLines fails the
// run: the caller told it was not sent, and nothing is sent twice (run
// again, it is a duplicate).
func (r *pgRun) flush(ctx context.Context) error {
	if err := r.flushUsage(ctx); err != nil {
		return err
	}
	if len(r.released) > 0 {
		if _, err := r.tx.Exec(ctx, `DELETE FROM pending_lines WHERE key = ANY($1)`, r.released); err != nil {
			return fmt.Errorf("store: pending lines of run %d: %w", r.id, err)
		}
		r.released = r.released[:0]
	}
	if len(r.queued) == 0 {
		return nil
	}
	inserted, err := pgInsertLines(ctx, r.tx, r.id, r.queued)
	if err != nil {
		return fmt.Errorf("store: record lines of run %d: %w", r.id, err)
	}
	for i := range r.queued {
		if !inserted[r.queued[i].Key] {
			return fmt.Errorf("store: run %d: line %s: %w", r.id, r.queued[i].Control, ErrSentMeanwhile)
		}
	}
	r.queued = r.queued[:0]
	return nil
}

// pgLookUpSent adds to found the sent lines of keys.
func pgLookUpSent(ctx context.Context, tx pgx.Tx, keys []pgtype.UUID, found map[[16]byte]PriorLine) error {
	rows, err := tx.Query(ctx, `SELECT l.key, l.run_id, l.control, l.invoice, l.line_no, COALESCE(r.output, ''), r.started
		FROM sent_lines l JOIN runs r ON r.id = l.run_id WHERE l.key = ANY($1)`, keys)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k pgtype.UUID
		var p PriorLine
		if err := rows.Scan(&k, &p.Run, &p.Control, &p.Invoice, &p.LineNo, &p.Output, &p.At); err != nil {
			return err
		}
		found[k.Bytes] = p
	}
	return rows.Err()
}

// pgInsertLines inserts lines (of distinct keys) as sent by run, leaving a
// key another run sent, and returns the keys it inserted.
func pgInsertLines(ctx context.Context, tx pgx.Tx, run int64, lines []Line) (map[[16]byte]bool, error) {
	keys := make([]pgtype.UUID, len(lines))
	controls, invoices, lineNos := make([]string, len(lines)), make([]string, len(lines)), make([]string, len(lines))
	for i := range lines {
		l := &lines[i]
		keys[i] = pgtype.UUID{Bytes: l.Key, Valid: true}
		controls[i], invoices[i], lineNos[i] = l.Control, l.Invoice, l.LineNo
	}
	rows, err := tx.Query(ctx, `INSERT INTO sent_lines(key, run_id, control, invoice, line_no)
		SELECT k, $2, c, i, l FROM unnest($1::uuid[], $3::text[], $4::text[], $5::text[]) AS t(k, c, i, l)
		ON CONFLICT (key) DO NOTHING
		RETURNING key`, keys, run, controls, invoices, lineNos)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	inserted := make(map[[16]byte]bool, len(keys))
	for rows.Next() {
		var k pgtype.UUID
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		inserted[k.Bytes] = true
	}
	return inserted, rows.Err()
}

// pgPrefetched is what PrefetchLines found under a key: its pending line
// and its sent line (nil when none).
type pgPrefetched struct {
	pending, sent *PriorLine
}

// PrefetchLines implements LinePrefetcher: it looks the lines' keys up in
// pending_lines (locking them, as RecordLines would) and in sent_lines,
// in one query each, so that RecordLines of one line at a time (the judges
// decide a line after the lines before it are recorded) queries nothing
// more for them. It replaces what an earlier call fetched, and first
// writes what the run's RecordLines queued since (flush). A line that is
// its own pending line (same key, invoice and line number: the conversion
// of an inbound claim's encounter lines) stops being pending now, before
// the judges read the usage counters, which would otherwise count its
// usage as pending beside its own.
func (r *pgRun) PrefetchLines(ctx context.Context, lines []Line) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return fmt.Errorf("%w: run %d is closed", ErrNoRun, r.id)
	}
	if err := r.flush(ctx); err != nil {
		return err
	}
	if r.pre == nil {
		r.pre = map[[16]byte]pgPrefetched{}
	}
	clear(r.pre)
	if !r.check {
		clear(r.seen) // inserted now: sent_lines has them
	}
	if len(lines) == 0 {
		return nil
	}
	some, err := r.anyPending(ctx)
	if err != nil {
		return err
	}
	keys := make([]pgtype.UUID, 0, len(lines))
	for i := range lines {
		if _, ok := r.pre[lines[i].Key]; !ok {
			r.pre[lines[i].Key] = pgPrefetched{}
			keys = append(keys, pgtype.UUID{Bytes: lines[i].Key, Valid: true})
		}
	}
	if some {
		pending, err := pgLockPending(ctx, r.tx, keys)
		if err != nil {
			return fmt.Errorf("store: pending lines of run %d: %w", r.id, err)
		}
		var own []pgtype.UUID
		for i := range lines {
			l := &lines[i]
			if p := pending[l.Key]; p != nil && p.Invoice == l.Invoice && p.LineNo == l.LineNo {
				own = append(own, pgtype.UUID{Bytes: l.Key, Valid: true})
				delete(pending, l.Key)
			}
		}
		if len(own) > 0 {
			if _, err := r.tx.Exec(ctx, `DELETE FROM pending_lines WHERE key = ANY($1)`, own); err != nil {
				return fmt.Errorf("store: pending lines of run %d: %w", r.id, err)
			}
		}
		for k, p := range pending {
			r.pre[k] = pgPrefetched{pending: p}
		}
	}
	sent := map[[16]byte]PriorLine{}
	if err := pgLookUpSent(ctx, r.tx, keys, sent); err != nil {
		return fmt.Errorf("store: look up lines of run %d: %w", r.id, err)
	}
	for k, p := range sent {
		f := r.pre[k]
		f.sent = &p
		r.pre[k] = f
	}
	return nil
}

// pgLockPending returns the pending lines of keys, locked until the run
// ends.
func pgLockPending(ctx context.Context, tx pgx.Tx, keys []pgtype.UUID) (map[[16]byte]*PriorLine, error) {
	rows, err := tx.Query(ctx, `SELECT key, invoice, line_no FROM pending_lines
		WHERE key = ANY($1) FOR UPDATE`, keys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	pending := map[[16]byte]*PriorLine{}
	for rows.Next() {
		var k pgtype.UUID
		p := &PriorLine{Pending: true}
		if err := rows.Scan(&k, &p.Invoice, &p.LineNo); err != nil {
			return nil, err
		}
		pending[k.Bytes] = p
	}
	return pending, rows.Err()
}

// anyPending tells whether any line is pending, asking once per run.
func (r *pgRun) anyPending(ctx context.Context) (bool, error) {
	if !r.askedPending {
		var some bool
		if err := r.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pending_lines)`).Scan(&some); err != nil {
			return false, fmt.Errorf("store: pending lines of run %d: %w", r.id, err)
		}
		r.askedPending, r.noPending = true, !some
	}
	return !r.noPending, nil
}

func (r *pgRun) ReleaseLines(ctx context.Context, lines []Line) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return fmt.Errorf("%w: run %d is closed", ErrNoRun, r.id)
	}
	if len(lines) == 0 {
		return nil
	}
	if some, err := r.anyPending(ctx); err != nil || !some {
		return err
	}
	if err := r.flush(ctx); err != nil {
		return err
	}
	keys := make([]pgtype.UUID, len(lines))
	invoices, lineNos := make([]string, len(lines)), make([]string, len(lines))
	for i := range lines {
		keys[i] = pgtype.UUID{Bytes: lines[i].Key, Valid: true}
		invoices[i], lineNos[i] = lines[i].Invoice, lines[i].LineNo
	}
	if _, err := r.tx.Exec(ctx, `DELETE FROM pending_lines p USING unnest($1::uuid[], $2::text[], $3::text[]) AS t(k, i, l)
		WHERE p.key = t.k AND p.invoice = t.i AND p.line_no = t.l`, keys, invoices, lineNos); err != nil {
		return fmt.Errorf("store: release pending lines of run %d: %w", r.id, err)
	}
	return nil
}

// pendingPrior sets prior[i] for each line that repeats a pending line of
// another invoice or line number, and deletes the pending lines the lines
// are (locking them until the run ends). When no line is pending at the
// run's first call, none is looked for again in the run: a claim accepted
// from then on is found when its own line is sent, as a duplicate of the
// run's line.
func (r *pgRun) pendingPrior(ctx context.Context, lines []Line, prior []*PriorLine) error {
	if some, err := r.anyPending(ctx); err != nil || !some {
		return err
	}
	keys := make([]pgtype.UUID, len(lines))
	var ask []pgtype.UUID // the keys PrefetchLines did not look up
	pending := map[[16]byte]*PriorLine{}
	for i := range lines {
		keys[i] = pgtype.UUID{Bytes: lines[i].Key, Valid: true}
		if k, ok := r.pre[lines[i].Key]; ok {
			if k.pending != nil {
				pending[lines[i].Key] = k.pending
			}
			continue
		}
		ask = append(ask, keys[i])
	}
	if len(ask) > 0 {
		if err := r.flush(ctx); err != nil {
			return err
		}
		found, err := pgLockPending(ctx, r.tx, ask)
		if err != nil {
			return fmt.Errorf("store: pending lines of run %d: %w", r.id, err)
		}
		maps.Copy(pending, found)
	}
	if len(pending) == 0 {
		return nil
	}
	var sent []pgtype.UUID
	for i := range lines {
		l := &lines[i]
		p := pending[l.Key]
		switch {
		case p == nil:
		case p.Invoice == l.Invoice && p.LineNo == l.LineNo:
			sent = append(sent, keys[i])
			delete(pending, l.Key)
			if k, ok := r.pre[l.Key]; ok {
				k.pending = nil
				r.pre[l.Key] = k
			}
		default:
			cp := *p
			var at *time.Time
			err := r.tx.QueryRow(ctx, fmt.Sprintf(selectPendingClaim, "$1"), p.Invoice).Scan(&cp.Output, &at)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("store: pending lines of run %d: %w", r.id, err)
			}
			if at != nil {
				cp.At = *at
			}
			prior[i] = &cp
		}
	}
	r.released = append(r.released, sent...) // deleted by flush, before any other statement reads them
	return nil
}

func (r *pgRun) Written(ctx context.Context, temp, output string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return fmt.Errorf("%w: run %d is closed", ErrNoRun, r.id)
	}
	if r.check {
		r.tx.Rollback(context.WithoutCancel(ctx))
		r.done = true
		r.p.checkEnded(r)
		return fmt.Errorf("%w: run %d is a check", ErrNoRun, r.id)
	}
	status := RunWritten
	if output == "" {
		status = RunCompleted
	}
	fail := func(err error) error {
		r.tx.Rollback(context.WithoutCancel(ctx))
		r.done = true
		return err
	}
	if err := r.flush(ctx); err != nil {
		return fail(err)
	}
	tag, err := r.tx.Exec(ctx, `UPDATE runs SET status = $1, temp = $2, output = $3,
		ended = CASE WHEN $1 = 'completed' THEN now() END WHERE id = $4 AND status = $5`,
		status, temp, output, r.id, RunOpen)
	if err != nil {
		return fail(fmt.Errorf("store: run %d written: %w", r.id, err))
	}
	if tag.RowsAffected() != 1 {
		return fail(fmt.Errorf("%w: run %d (aborted by another instance after its lease expired?)", ErrNoRun, r.id))
	}
	if r.beforeCommit != nil {
		if err := r.beforeCommit(ctx, r.tx, temp, output); err != nil {
			return fail(err)
		}
	}
	if err := r.tx.Commit(ctx); err != nil {
		r.done = true
		return fmt.Errorf("store: run %d written: %w", r.id, err)
	}
	r.done = true
	r.p.inactive(r.id)
	if r.afterCommit != nil {
		r.afterCommit()
	}
	return nil
}

func (r *pgRun) Abandon(ctx context.Context, reason string) error {
	r.mu.Lock()
	open := !r.done
	if open {
		r.tx.Rollback(context.WithoutCancel(ctx))
		r.done = true
	}
	r.mu.Unlock()
	if r.check {
		r.p.checkEnded(r)
		return nil // the run's row went with the rest
	}
	defer r.p.inactive(r.id)
	if !open {
		return r.p.AbortRun(ctx, r.id, reason)
	}
	// Nothing of the run was committed: only its row is left to mark.
	tag, err := r.p.pool.Exec(ctx, `UPDATE runs SET status = $1, ended = now(), summary = $2 WHERE id = $3 AND status = $4`,
		RunAborted, reason, r.id, RunOpen)
	if err != nil {
		return fmt.Errorf("store: abort run %d: %w", r.id, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("%w: run %d", ErrNoRun, r.id)
	}
	return nil
}

func (p *Postgres) CompleteRun(ctx context.Context, run int64, summary string) error {
	tag, err := p.pool.Exec(ctx, `UPDATE runs SET status = $1, ended = now(), summary = $2 WHERE id = $3 AND status IN ($4, $5)`,
		RunCompleted, summary, run, RunWritten, RunCompleted)
	if err != nil {
		return fmt.Errorf("store: complete run %d: %w", run, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("%w: run %d", ErrNoRun, run)
	}
	return nil
}

func (p *Postgres) AbortRun(ctx context.Context, run int64, reason string) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: abort run %d: %w", run, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Another instance's run is aborted only while it is open and its lease
	// expired (PendingRuns lists no other): once its owner renewed the lease
	// or wrote the run, the owner finishes it.
	tag, err := tx.Exec(ctx, `UPDATE runs SET status = $1, ended = now(), summary = $2 WHERE id = $3
		AND ((owner = $6 AND status IN ($4, $5)) OR (status = $4 AND lease_until < now()))`,
		RunAborted, reason, run, RunOpen, RunWritten, p.owner)
	if err != nil {
		return fmt.Errorf("store: abort run %d: %w", run, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("%w: run %d", ErrNoRun, run)
	}
	for _, t := range []string{"sent_lines", "sent_claims", "encounter_submissions"} {
		if _, err := tx.Exec(ctx, `DELETE FROM `+t+` WHERE run_id = $1`, run); err != nil {
			return fmt.Errorf("store: abort run %d: %w", run, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: abort run %d: %w", run, err)
	}
	return nil
}

func (p *Postgres) PendingRuns(ctx context.Context) ([]RunInfo, error) {
	rows, err := p.pool.Query(ctx, `SELECT id, kind, status, started, inputs, COALESCE(temp, ''), COALESCE(output, '')
		FROM runs WHERE status IN ('open', 'written')
		AND ((owner = $1 AND NOT (id = ANY($2))) OR (status = 'open' AND owner <> $1 AND lease_until < now()))
		ORDER BY id`, p.owner, p.activeRuns())
	if err != nil {
		return nil, fmt.Errorf("store: pending runs: %w", err)
	}
	defer rows.Close()
	var out []RunInfo
	for rows.Next() {
		var r RunInfo
		if err := rows.Scan(&r.ID, &r.Kind, &r.Status, &r.Started, &r.Inputs, &r.Temp, &r.Output); err != nil {
			return nil, fmt.Errorf("store: pending runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ErrSentMeanwhile means that another run sent a line while a run on
// PostgreSQL judged it (not sent) and before the run wrote it: the run is
// rolled back and, run again, finds the line a duplicate. IsTransient
// reports it.
var ErrSentMeanwhile = errors.New("another run sent the line while this one judged it; run it again")

// IsTransient reports whether a store error is worth retrying as is: the
// database was unreachable or restarting, or a transaction lost a
// serialization conflict or a deadlock (PostgreSQL), or the database was
// busy (SQLite), or another run sent a line of the run (ErrSentMeanwhile).
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrSentMeanwhile) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "40001", pgErr.Code == "40P01", // serialization failure, deadlock
			len(pgErr.Code) == 5 && pgErr.Code[:2] == "08",                      // connection exceptions
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", // shutting down, starting up
			pgErr.Code == "53300": // too many connections
			return true
		}
		return false
	}
	if pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return true
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		switch sqliteErr.Code() & 0xff {
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
			return true
		}
	}
	return false
}
