package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// The enrollment component on PostgreSQL: the same tables, rows and
// encoding as on SQLite (enrollment.go, enrollment_codec.go), with one
// dialect difference. SQLite merges a member's change into its row inside
// the database (the calgw_enroll_* functions, one statement per member);
// PostgreSQL has no such functions, so a load merges in Go with the same
// codec: it collects up to pgMemberBatch changes, reads their members
// FOR UPDATE in one statement, merges, and writes them back in one
// statement. Loads of one kind are serialised by a transaction-scoped
// advisory lock, as SQLite's single writer serialises all loads: a second
// instance loading the same content waits and then finds it loaded.
//
// Usage counters and concurrent conversions: a run's view takes a
// transaction-scoped advisory lock on a usage counter's key
// (pg_advisory_xact_lock(pgLockUsage, hashtext(key))) before it first
// reads or moves the counter, and holds it until the run commits or rolls
// back. A second run touching the same counter (the same authorization's
// units, the same member's Community Supports limit) waits for the first
// run to end, and its read, a new statement under READ COMMITTED, sees
// what the first run committed: a counter is never double-counted or
// over-granted across instances. Two runs that take the same counters in
// opposite orders deadlock; PostgreSQL breaks it by failing one of them
// (40P01, IsTransient), whose run rolls back whole and is retried.

// postgresEnrollmentMigrations are the PostgreSQL migrations of the enrollment
// component, in order (see sqliteComponents in migrate.go).
var postgresEnrollmentMigrations = []string{
	`CREATE TABLE enrollment_loads (
		id          BIGSERIAL PRIMARY KEY,
		kind        TEXT NOT NULL,  -- 834, auth, other_programs
		file        TEXT NOT NULL,  -- base name
		sha256      TEXT NOT NULL,
		interchange TEXT NOT NULL DEFAULT '',  -- 834: ISA06/ISA13 of the first interchange
		started     TIMESTAMPTZ NOT NULL DEFAULT now(),
		finished    TIMESTAMPTZ,
		summary     TEXT NOT NULL DEFAULT ''
	)`,
	`CREATE UNIQUE INDEX enrollment_loads_content ON enrollment_loads(kind, sha256)`,
	`CREATE TABLE enrollment_members (
		cin_key BIGINT PRIMARY KEY,
		load_id BIGINT NOT NULL,
		data    BYTEA NOT NULL
	)`,
	`CREATE TABLE enrollment_auths (
		number       TEXT PRIMARY KEY,
		cin_key      BIGINT NOT NULL,
		cin          TEXT NOT NULL,
		service      TEXT NOT NULL,
		provider_npi TEXT NOT NULL,
		pof          TEXT NOT NULL,
		status       TEXT NOT NULL,
		type         TEXT NOT NULL,
		start_date   INTEGER NOT NULL,
		end_date     INTEGER NOT NULL,
		units        BIGINT,           -- thousandths; NULL = no limit
		decided      INTEGER NOT NULL,
		communicated INTEGER NOT NULL,
		load_id      BIGINT NOT NULL,
		source       TEXT NOT NULL     -- file and row
	)`,
	`CREATE INDEX enrollment_auths_member ON enrollment_auths(cin_key)`,
	`CREATE TABLE enrollment_programs (
		cin_key    BIGINT NOT NULL,
		cin        TEXT NOT NULL,
		program    TEXT NOT NULL,
		start_date INTEGER NOT NULL,
		end_date   INTEGER NOT NULL,
		source     TEXT NOT NULL,
		load_id    BIGINT NOT NULL,
		PRIMARY KEY (cin_key, program, start_date)
	)`,
	`CREATE TABLE enrollment_usage (
		key      TEXT PRIMARY KEY,
		amount   BIGINT NOT NULL,
		first    INTEGER NOT NULL,
		last_run BIGINT NOT NULL
	)`,
	// The number of members, kept by the 834 loads that add them (loads are
	// serialised by their advisory lock), so that EnrollmentStatus reads one
	// row instead of counting the members table.
	`CREATE TABLE enrollment_member_count (
		one     BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
		members BIGINT NOT NULL
	)`,
	`INSERT INTO enrollment_member_count(members) SELECT count(*) FROM enrollment_members`,
	// An 834's kind, date and plan codes (EnrollmentFile), and the full
	// file that superseded a change file (0: none): see Place.
	`ALTER TABLE enrollment_loads ADD COLUMN file_kind TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE enrollment_loads ADD COLUMN file_date INTEGER NOT NULL DEFAULT 0`,
	`ALTER TABLE enrollment_loads ADD COLUMN plan_codes TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE enrollment_loads ADD COLUMN superseded_by BIGINT NOT NULL DEFAULT 0`,
}

// Classes of the two-key advisory locks (pg_advisory_xact_lock(class,
// hashtext(name))): their key space is apart from the one-key locks.
const (
	pgLockLoad  = 0x63616c01 // a load of one kind
	pgLockUsage = 0x63616c02 // a usage counter
)

// pgMemberBatch is how many member changes a PostgreSQL load merges per
// round trip.
const pgMemberBatch = 500

// pgLoad is one feed file being loaded into PostgreSQL: one transaction.
type pgLoad struct {
	tx   pgx.Tx
	id   int64
	kind string
	done bool

	// Member changes not yet merged, in file order.
	keys    []int64
	changes [][]byte
	scratch applyScratch
}

// BeginEnrollmentLoad starts loading a feed file of kind (LoadKind834,
// LoadKindAuth, LoadKindOtherPrograms) whose content has the SHA-256 sum.
// A file whose content was loaded before gets an *AlreadyLoadedError. A
// load waits for another instance's load of the same kind to end.
func (p *Postgres) BeginEnrollmentLoad(ctx context.Context, kind, file string, sum [32]byte) (EnrollmentLoad, error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: begin %s load: %w", kind, err)
	}
	l := &pgLoad{tx: tx, kind: kind}
	fail := func(err error) (EnrollmentLoad, error) {
		l.Rollback()
		return nil, err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(pgLockLoad), kind); err != nil {
		return fail(fmt.Errorf("store: begin %s load: %w", kind, err))
	}
	hexSum := fmt.Sprintf("%x", sum)
	var prior AlreadyLoadedError
	var at *time.Time
	err = tx.QueryRow(ctx, `SELECT id, file, finished FROM enrollment_loads WHERE kind = $1 AND sha256 = $2`, kind, hexSum).Scan(&prior.Load, &prior.File, &at)
	if err == nil {
		if at != nil {
			prior.At = *at
		}
		return fail(&prior)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return fail(fmt.Errorf("store: begin %s load: %w", kind, err))
	}
	if err := tx.QueryRow(ctx, `INSERT INTO enrollment_loads(kind, file, sha256) VALUES ($1, $2, $3) RETURNING id`,
		kind, file, hexSum).Scan(&l.id); err != nil {
		return fail(fmt.Errorf("store: begin %s load: %w", kind, err))
	}
	if kind == LoadKind834 {
		// What the members get from here on is undone when the file is
		// superseded (Place); the load itself stays.
		if _, err := tx.Exec(ctx, `SAVEPOINT enrollment_file`); err != nil {
			return fail(fmt.Errorf("store: begin %s load: %w", kind, err))
		}
	}
	return l, nil
}

func (l *pgLoad) ID() int64 { return l.id }

// PutMember queues the change; it is merged with the next batch.
func (l *pgLoad) PutMember(ctx context.Context, c *domain.EnrollmentChange) error {
	l.keys = append(l.keys, CINKey(c.Enrollee.CIN))
	l.changes = append(l.changes, encodeChange(nil, c))
	if len(l.keys) >= pgMemberBatch {
		return l.flush(ctx)
	}
	return nil
}

// flush merges the queued changes into their members: the members are
// read FOR UPDATE, merged in Go in file order, and written back.
func (l *pgLoad) flush(ctx context.Context) error {
	if len(l.keys) == 0 {
		return nil
	}
	defer func() { l.keys, l.changes = l.keys[:0], l.changes[:0] }()
	rows, err := l.tx.Query(ctx, `SELECT cin_key, data, load_id FROM enrollment_members WHERE cin_key = ANY($1) FOR UPDATE`, l.keys)
	if err != nil {
		return fmt.Errorf("store: members at load %d: %w", l.id, err)
	}
	merged := make(map[int64][]byte, len(l.keys))
	listed := make(map[int64]bool, len(l.keys)) // by this load already
	for rows.Next() {
		var k, load int64
		var data []byte
		if err := rows.Scan(&k, &data, &load); err != nil {
			rows.Close()
			return fmt.Errorf("store: members at load %d: %w", l.id, err)
		}
		merged[k], listed[k] = data, load == l.id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: members at load %d: %w", l.id, err)
	}
	order := make([]int64, 0, len(l.keys)) // each key once, as first met
	seen := make(map[int64]bool, len(l.keys))
	for i, k := range l.keys {
		if !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
		out, err := l.scratch.apply(merged[k], l.changes[i], listed[k])
		if err != nil {
			return fmt.Errorf("store: member at load %d: %w", l.id, err)
		}
		merged[k], listed[k] = append([]byte(nil), out...), true
	}
	data := make([][]byte, len(order))
	for i, k := range order {
		data[i] = merged[k]
	}
	// xmax = 0 marks a row the upsert inserted rather than updated.
	if _, err := l.tx.Exec(ctx, `WITH up AS (INSERT INTO enrollment_members(cin_key, load_id, data)
		SELECT k, $2, d FROM unnest($1::bigint[], $3::bytea[]) AS t(k, d)
		ON CONFLICT (cin_key) DO UPDATE SET data = excluded.data, load_id = excluded.load_id
		RETURNING (xmax = 0) AS added)
		UPDATE enrollment_member_count SET members = members + (SELECT count(*) FROM up WHERE added)`, order, l.id, data); err != nil {
		return fmt.Errorf("store: members at load %d: %w", l.id, err)
	}
	return nil
}

func (l *pgLoad) TouchMember(ctx context.Context, cin string) error {
	if err := l.flush(ctx); err != nil {
		return err
	}
	if _, err := l.tx.Exec(ctx, `UPDATE enrollment_members SET load_id = $1 WHERE cin_key = $2`, l.id, CINKey(cin)); err != nil {
		return fmt.Errorf("store: member at load %d: %w", l.id, err)
	}
	return nil
}

func (l *pgLoad) Savepoint(ctx context.Context) error {
	return l.flushExec(ctx, `SAVEPOINT enrollment_set`)
}
func (l *pgLoad) Release(ctx context.Context) error {
	return l.flushExec(ctx, `RELEASE enrollment_set`)
}
func (l *pgLoad) RollbackTo(ctx context.Context) error {
	if err := l.flushExec(ctx, `ROLLBACK TO enrollment_set`); err != nil {
		return err
	}
	return l.flushExec(ctx, `RELEASE enrollment_set`)
}

// flushExec merges the queued changes, then runs sql: a savepoint
// statement applies to what was queued before it.
func (l *pgLoad) flushExec(ctx context.Context, sql string) error {
	if err := l.flush(ctx); err != nil {
		return err
	}
	if _, err := l.tx.Exec(ctx, sql); err != nil {
		return fmt.Errorf("store: load %d: %w", l.id, err)
	}
	return nil
}

func (l *pgLoad) CutAbsent(ctx context.Context, from, to civil.Date, codes []string) (int64, error) {
	if len(codes) == 0 {
		return 0, nil
	}
	if err := l.flush(ctx); err != nil {
		return 0, err
	}
	rows, err := l.tx.Query(ctx, `SELECT cin_key, data FROM enrollment_members WHERE load_id <> $1 FOR UPDATE`, l.id)
	if err != nil {
		return 0, fmt.Errorf("store: full-file cut: %w", err)
	}
	var keys []int64
	var data [][]byte
	for rows.Next() {
		var k int64
		var old []byte
		if err := rows.Scan(&k, &old); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: full-file cut: %w", err)
		}
		yes, err := l.scratch.overlaps(old, from, to, codes)
		if err == nil && yes {
			var out []byte
			if out, err = l.scratch.cut(old, from, to, codes); err == nil {
				keys, data = append(keys, k), append(data, append([]byte(nil), out...))
			}
		}
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: full-file cut: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: full-file cut: %w", err)
	}
	if len(keys) == 0 {
		return 0, nil
	}
	tag, err := l.tx.Exec(ctx, `UPDATE enrollment_members m SET data = t.d FROM unnest($1::bigint[], $2::bytea[]) AS t(k, d) WHERE m.cin_key = t.k`, keys, data)
	if err != nil {
		return 0, fmt.Errorf("store: full-file cut: %w", err)
	}
	return tag.RowsAffected(), nil
}

func (l *pgLoad) PutAuthorization(ctx context.Context, a *domain.Authorization) error {
	var units *int64
	if a.HasUnits {
		u := int64(a.Units)
		units = &u
	}
	tag, err := l.tx.Exec(ctx, `INSERT INTO enrollment_auths(number, cin_key, cin, service, provider_npi, pof, status, type,
			start_date, end_date, units, decided, communicated, load_id, source)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (number) DO UPDATE SET service = excluded.service, provider_npi = excluded.provider_npi, pof = excluded.pof,
			status = excluded.status, type = excluded.type, start_date = excluded.start_date, end_date = excluded.end_date,
			units = excluded.units, decided = excluded.decided, communicated = excluded.communicated,
			load_id = excluded.load_id, source = excluded.source
		WHERE enrollment_auths.cin = excluded.cin`,
		a.Number, CINKey(a.CIN), a.CIN, a.Service, a.ProviderNPI, a.POF, string(a.Status), string(a.Type),
		int64(a.From), int64(a.To), units, int64(a.Decided), int64(a.Communicated), l.id,
		fmt.Sprintf("%s row %d", a.Source.File, a.Source.Row))
	if err != nil {
		return fmt.Errorf("store: authorization %s: %w", a.Number, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrAuthOtherMember
	}
	return nil
}

func (l *pgLoad) PutProgram(ctx context.Context, p *domain.ProgramSpan) error {
	_, err := l.tx.Exec(ctx, `INSERT INTO enrollment_programs(cin_key, cin, program, start_date, end_date, source, load_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (cin_key, program, start_date) DO UPDATE SET end_date = excluded.end_date, source = excluded.source, load_id = excluded.load_id`,
		CINKey(p.CIN), p.CIN, p.Program, int64(p.From), int64(p.To), p.Source, l.id)
	if err != nil {
		return fmt.Errorf("store: program span: %w", err)
	}
	return nil
}

func (l *pgLoad) Place(ctx context.Context, f EnrollmentFile) (FileOrder, error) {
	if err := l.flush(ctx); err != nil {
		return FileOrder{}, err
	}
	order, err := placeFile(f, func(fileKind string, each func(r LoadRef, codes string) (bool, error)) error {
		rows, err := l.tx.Query(ctx, `SELECT id, file, file_date, plan_codes FROM enrollment_loads
			WHERE kind = $1 AND file_kind = $2 AND superseded_by = 0 AND id <> $3 ORDER BY file_date DESC, id DESC`,
			LoadKind834, fileKind, l.id)
		if err != nil {
			return err
		}
		defer rows.Close()
		return eachLoad(rows, each)
	})
	if err != nil {
		return FileOrder{}, fmt.Errorf("store: place load %d: %w", l.id, err)
	}
	var by int64
	if order.SupersededBy != nil {
		by = order.SupersededBy.Load
		if _, err := l.tx.Exec(ctx, `ROLLBACK TO SAVEPOINT enrollment_file`); err != nil {
			return FileOrder{}, fmt.Errorf("store: undo superseded load %d: %w", l.id, err)
		}
	}
	// What follows (a full file's cut) is not undone: no savepoint to keep.
	if _, err := l.tx.Exec(ctx, `RELEASE SAVEPOINT enrollment_file`); err != nil {
		return FileOrder{}, fmt.Errorf("store: place load %d: %w", l.id, err)
	}
	if _, err := l.tx.Exec(ctx, `UPDATE enrollment_loads SET file_kind = $1, file_date = $2, plan_codes = $3, superseded_by = $4 WHERE id = $5`,
		f.kind(), int64(f.Date), encodePlanCodes(f.PlanCodes), by, l.id); err != nil {
		return FileOrder{}, fmt.Errorf("store: place load %d: %w", l.id, err)
	}
	return order, nil
}

func (l *pgLoad) Commit(ctx context.Context, interchange, summary string) error {
	if l.done {
		return errors.New("store: load already finished")
	}
	if err := l.flush(ctx); err != nil {
		l.Rollback()
		return err
	}
	if _, err := l.tx.Exec(ctx, `UPDATE enrollment_loads SET finished = now(), summary = $1, interchange = $2 WHERE id = $3`,
		summary, interchange, l.id); err != nil {
		l.Rollback()
		return fmt.Errorf("store: finish load %d: %w", l.id, err)
	}
	l.done = true
	if err := l.tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit load %d: %w", l.id, err)
	}
	return nil
}

func (l *pgLoad) Rollback() {
	if l.done {
		return
	}
	l.done = true
	l.tx.Rollback(context.Background())
}

// EnrollmentStatus counts the loads of each kind and the members.
func (p *Postgres) EnrollmentStatus(ctx context.Context) (EnrollmentStatus, error) {
	var st EnrollmentStatus
	err := p.pool.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE kind = $1), count(*) FILTER (WHERE kind = $2), count(*) FILTER (WHERE kind = $3),
		(SELECT members FROM enrollment_member_count)
		FROM enrollment_loads`, LoadKind834, LoadKindAuth, LoadKindOtherPrograms).Scan(&st.Loads834, &st.AuthLoads, &st.ProgramLoads, &st.Members)
	if err != nil {
		return st, fmt.Errorf("store: enrollment status: %w", err)
	}
	return st, nil
}

// Member returns the stored member with this CIN (false when none).
func (p *Postgres) Member(ctx context.Context, cin string) (*domain.Enrollee, bool, error) {
	return pgMember(ctx, p.pool, cin, nil)
}

// Authorizations returns the stored authorizations of a member.
func (p *Postgres) Authorizations(ctx context.Context, cin string) ([]domain.Authorization, error) {
	return pgAuths(ctx, p.pool, cin, nil)
}

// Programs returns the stored program spans of a member.
func (p *Postgres) Programs(ctx context.Context, cin string) ([]domain.ProgramSpan, error) {
	return pgPrograms(ctx, p.pool, cin, nil)
}

// Usage returns a usage counter as committed (for tests and reports).
func (p *Postgres) Usage(ctx context.Context, key string) (int64, civil.Date, error) {
	return pgUsage(ctx, p.pool, key)
}

func pgMember(ctx context.Context, q pgQuerier, cin string, strs map[string]string) (*domain.Enrollee, bool, error) {
	var data []byte
	err := q.QueryRow(ctx, `SELECT data FROM enrollment_members WHERE cin_key = $1`, CINKey(cin)).Scan(&data)
	return memberFound(data, err, pgx.ErrNoRows, cin, strs)
}

func pgAuths(ctx context.Context, q pgQuerier, cin string, out []domain.Authorization) ([]domain.Authorization, error) {
	rows, err := q.Query(ctx, `SELECT number, cin, service, provider_npi, pof, status, type, start_date, end_date, units, decided, communicated, source
		FROM enrollment_auths WHERE cin_key = $1 ORDER BY start_date, number`, CINKey(cin))
	if err != nil {
		return nil, fmt.Errorf("store: authorizations: %w", err)
	}
	defer rows.Close()
	return scanAuths(rows, cin, out)
}

func pgPrograms(ctx context.Context, q pgQuerier, cin string, out []domain.ProgramSpan) ([]domain.ProgramSpan, error) {
	rows, err := q.Query(ctx, `SELECT cin, program, start_date, end_date, source FROM enrollment_programs WHERE cin_key = $1 ORDER BY program, start_date`, CINKey(cin))
	if err != nil {
		return nil, fmt.Errorf("store: programs: %w", err)
	}
	defer rows.Close()
	return scanPrograms(rows, cin, out)
}

func pgUsage(ctx context.Context, q pgQuerier, key string) (int64, civil.Date, error) {
	var amount, first int64
	err := q.QueryRow(ctx, `SELECT amount, first FROM enrollment_usage WHERE key = $1`, key).Scan(&amount, &first)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("store: usage: %w", err)
	}
	return amount, civil.Date(first), nil
}

// usageMove is what a run's AddUsage calls moved a counter by and not yet
// written: the sum of the amounts and the earliest date.
type usageMove struct {
	amount int64
	first  civil.Date
}

// queueUsage adds a move to those the run writes at its next flushUsage.
func (r *pgRun) queueUsage(key string, amount int64, date civil.Date) {
	if r.usage == nil {
		r.usage = map[string]usageMove{}
	}
	m, ok := r.usage[key]
	if !ok {
		r.usageKeys = append(r.usageKeys, key)
		m.first = date
	}
	m.amount += amount
	m.first = min(m.first, date)
	r.usage[key] = m
}

// flushUsage writes the queued usage moves in one statement, as the
// upserts of each AddUsage would have left the counters: amounts added,
// the earliest first date kept, last_run the run.
func (r *pgRun) flushUsage(ctx context.Context) error {
	if len(r.usageKeys) == 0 {
		return nil
	}
	amounts, firsts := make([]int64, len(r.usageKeys)), make([]int64, len(r.usageKeys))
	for i, k := range r.usageKeys {
		m := r.usage[k]
		amounts[i], firsts[i] = m.amount, int64(m.first)
	}
	if _, err := r.tx.Exec(ctx, `INSERT INTO enrollment_usage(key, amount, first, last_run)
		SELECT k, a, f, $4 FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS t(k, a, f)
		ON CONFLICT (key) DO UPDATE SET amount = enrollment_usage.amount + excluded.amount,
			first = LEAST(enrollment_usage.first, excluded.first), last_run = excluded.last_run`,
		r.usageKeys, amounts, firsts, r.id); err != nil {
		return fmt.Errorf("store: usage counters of run %d: %w", r.id, err)
	}
	clear(r.usage)
	r.usageKeys = r.usageKeys[:0]
	return nil
}

// pgView is the EnrollmentView of a PostgreSQL run: its statements run in
// the run's transaction, under the run's lock (a run is shared by
// Convert's stages).
type pgView struct {
	r      *pgRun
	strs   map[string]string
	locked map[string]bool // usage counters this run holds
	memberPrefetch
}

var _ MemberPrefetcher = (*pgView)(nil)

func newPGView(r *pgRun) *pgView {
	return &pgView{r: r, strs: map[string]string{}, locked: map[string]bool{}}
}

func (v *pgView) Run() int64 { return v.r.id }

// in runs f on the run's transaction.
func (v *pgView) in(f func(tx pgx.Tx) error) error {
	v.r.mu.Lock()
	defer v.r.mu.Unlock()
	if v.r.done {
		return fmt.Errorf("%w: run %d is closed", ErrNoRun, v.r.id)
	}
	return f(v.r.tx)
}

// pgAuthsAny reads the authorizations of an array of CIN keys, in the
// order pgAuths reads one member's.
const pgAuthsAny = `SELECT number, cin, service, provider_npi, pof, status, type, start_date, end_date, units, decided, communicated, source
	FROM enrollment_auths WHERE cin_key = ANY($1) ORDER BY start_date, number`

// AuthorizationsOf returns the stored authorizations of those of cins
// that have any, by CIN, each member's as Authorizations returns them, in
// one query.
func (p *Postgres) AuthorizationsOf(ctx context.Context, cins []string) (map[string][]domain.Authorization, error) {
	var m memberPrefetch
	keys := m.reset(cins, MemberParts{Authorizations: true})
	if len(keys) == 0 {
		return m.auths, nil
	}
	rows, err := p.pool.Query(ctx, pgAuthsAny, keys)
	if err != nil {
		return nil, fmt.Errorf("store: authorizations: %w", err)
	}
	defer rows.Close()
	if err := m.scanAuths(rows); err != nil {
		return nil, err
	}
	return m.auths, nil
}

// PrefetchMembers implements MemberPrefetcher: one query for all of cins,
// and one for each part.
func (v *pgView) PrefetchMembers(ctx context.Context, cins []string, parts MemberParts) error {
	if len(v.strs) > 4096 {
		clear(v.strs)
	}
	keys := v.reset(cins, parts)
	if len(keys) == 0 {
		return nil
	}
	return v.in(func(tx pgx.Tx) error {
		return v.each(pgPrefetchSQL, v.strs, func(q string, scan func(resultRows) error) error {
			rows, err := tx.Query(ctx, q, keys)
			if err != nil {
				return fmt.Errorf("store: members: %w", err)
			}
			defer rows.Close()
			return scan(rows)
		})
	})
}

// pgPrefetchSQL are the queries of PrefetchMembers on PostgreSQL: members,
// authorizations and program spans of an array of CIN keys.
var pgPrefetchSQL = [3]string{
	`SELECT data FROM enrollment_members WHERE cin_key = ANY($1)`,
	pgAuthsAny,
	`SELECT cin, program, start_date, end_date, source FROM enrollment_programs WHERE cin_key = ANY($1) ORDER BY program, start_date`,
}

func (v *pgView) Member(ctx context.Context, cin string) (m *domain.Enrollee, ok bool, err error) {
	if m, hit := v.member(cin); hit {
		return m, m != nil, nil
	}
	if len(v.strs) > 4096 {
		clear(v.strs)
	}
	err = v.in(func(tx pgx.Tx) error {
		m, ok, err = pgMember(ctx, tx, cin, v.strs)
		return err
	})
	return m, ok, err
}

func (v *pgView) Authorizations(ctx context.Context, cin string, out []domain.Authorization) ([]domain.Authorization, error) {
	if as, hit := v.authorizations(cin, out); hit {
		return as, nil
	}
	err := v.in(func(tx pgx.Tx) error {
		var err error
		out, err = pgAuths(ctx, tx, cin, out)
		return err
	})
	return out, err
}

func (v *pgView) Programs(ctx context.Context, cin string, out []domain.ProgramSpan) ([]domain.ProgramSpan, error) {
	if ps, hit := v.programsOf(cin, out); hit {
		return ps, nil
	}
	err := v.in(func(tx pgx.Tx) error {
		var err error
		out, err = pgPrograms(ctx, tx, cin, out)
		return err
	})
	return out, err
}

// hold takes the run's lock on a usage counter (once per run): it waits
// for any other run holding it to end. The caller's next statement, a new
// snapshot, sees what that run committed.
func (v *pgView) hold(ctx context.Context, tx pgx.Tx, key string) error {
	if v.locked[key] {
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(pgLockUsage), key); err != nil {
		return fmt.Errorf("store: usage %s: lock: %w", key, err)
	}
	v.held(key)
	return nil
}

// held notes a usage counter's lock as the run's.
func (v *pgView) held(key string) {
	if len(v.locked) >= 100_000 {
		clear(v.locked) // taking a held lock again is harmless
	}
	v.locked[key] = true
}

// Usage reads a counter as the run sees it, its own moves included, as
// PrefetchUsage of that one key does: a counter the run does not hold yet
// is locked and read in one round trip.
func (v *pgView) Usage(ctx context.Context, key string) (int64, civil.Date, error) {
	counts, err := v.PrefetchUsage(ctx, []string{key})
	c := counts[key]
	return c.Amount, c.First, err
}

var _ UsagePrefetcher = (*pgView)(nil)

// PrefetchUsage implements UsagePrefetcher: the run's queued moves are
// written first when one of keys has any (flushUsage); then the counters
// the run does not hold yet are locked, in key order, and every counter of
// keys is read, in one batch, the read a statement after the locks, so
// that its snapshot is taken once the locks are held.
func (v *pgView) PrefetchUsage(ctx context.Context, keys []string) (map[string]UsageCount, error) {
	out := make(map[string]UsageCount, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	err := v.in(func(tx pgx.Tx) error {
		var lock []string
		queued := false
		for _, k := range keys {
			if !v.locked[k] {
				lock = append(lock, k)
			}
			_, q := v.r.usage[k]
			queued = queued || q
		}
		if queued {
			if err := v.r.flushUsage(ctx); err != nil {
				return err
			}
		}
		slices.Sort(lock)
		lock = slices.Compact(lock)
		b := &pgx.Batch{}
		if len(lock) > 0 {
			b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext(k)) FROM unnest($2::text[]) AS k`, int32(pgLockUsage), lock)
		}
		b.Queue(`SELECT key, sum(amount)::bigint, min(first)::bigint FROM (
			SELECT key, amount, first FROM enrollment_usage WHERE key = ANY($1)
			UNION ALL SELECT counter, amount, first FROM pending_usage WHERE counter = ANY($1)) AS u GROUP BY key`, keys)
		res := tx.SendBatch(ctx, b)
		defer res.Close()
		if len(lock) > 0 {
			if _, err := res.Exec(); err != nil {
				return fmt.Errorf("store: usage: lock: %w", err)
			}
		}
		rows, err := res.Query()
		if err != nil {
			return fmt.Errorf("store: usage: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var amount, first int64
			if err := rows.Scan(&k, &amount, &first); err != nil {
				return fmt.Errorf("store: usage: %w", err)
			}
			out[k] = UsageCount{Amount: amount, First: civil.Date(first)}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: usage: %w", err)
		}
		for _, k := range lock {
			v.held(k)
		}
		return nil
	})
	return out, err
}

// AddUsage takes the counter's lock as Usage does, when the run does not
// hold it yet, and queues the move: the run writes its moves in one
// statement before anything else it runs that reads them (flushUsage).
func (v *pgView) AddUsage(ctx context.Context, key string, amount int64, date civil.Date) error {
	return v.in(func(tx pgx.Tx) error {
		if err := v.hold(ctx, tx, key); err != nil {
			return err
		}
		v.r.queueUsage(key, amount, date)
		return nil
	})
}

func (v *pgView) WasSent(ctx context.Context, key [16]byte) (sent bool, err error) {
	err = v.in(func(tx pgx.Tx) error {
		if _, ok := v.r.seen[key]; ok { // a check run's own line
			sent = true
			return nil
		}
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sent_lines WHERE key = $1)`, pgtype.UUID{Bytes: key, Valid: true}).Scan(&sent); err != nil {
			return fmt.Errorf("store: sent line: %w", err)
		}
		return nil
	})
	return sent, err
}
