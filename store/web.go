package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The web component keeps what the web console needs: its users (password
// hashes, roles, the billing NPIs a provider is bound to), their sessions,
// the audit log of who viewed or changed what, the decision recorded for
// every invoice line a conversion judged (with the evidence the judges
// used), the interchanges each run wrote, and the uploads made through the
// console. Its queries are written once, with ? placeholders, and run on
// both engines (Console).

// Roles of console users.
const (
	RoleOperator = "operator"
	RoleAdmin    = "admin"
	RoleProvider = "provider"
)

// ValidRole reports whether r is a console role.
func ValidRole(r string) bool {
	return r == RoleOperator || r == RoleAdmin || r == RoleProvider
}

// User is a console user.
type User struct {
	ID       int64
	Name     string
	Role     string
	NPIs     []string // billing NPIs a provider is bound to
	Hash     string   // the password hash (PHC string: $argon2id$...)
	Disabled bool
	Created  time.Time
}

// Session is a signed-in browser. Token is the hash of the cookie's value:
// a stolen database does not give working cookies.
type Session struct {
	Token   string
	UserID  int64
	CSRF    string
	Created time.Time
	Expires time.Time
}

// AuditEvent is one entry of the audit log.
type AuditEvent struct {
	ID     int64
	At     time.Time
	User   string // user name ("" for anonymous)
	Action string // view, search, requeue, login, login-failed, user-add, upload, ...
	Object string // what: "file 12", "line 4/7", "user bob"
	Detail string // never PHI: search terms are hashed
	Addr   string
}

// Fact is one piece of evidence a decision used, as the judge recorded it.
type Fact struct {
	Kind   string `json:"kind"`   // coding, span, member, authorization, usage, contract, duplicate, ...
	Detail string `json:"detail"` // what it said
}

// LineDecision is the decision on one invoice line, recorded by the run
// that judged it.
type LineDecision struct {
	Run     int64
	Seq     int // the line's position in the run, from 1
	File    string
	Row     int
	Invoice string
	LineNo  string
	CIN     string
	NPI     string // billing NPI
	Code    string // HCPCS and modifiers
	From    string // dates of service, YYYY-MM-DD
	To      string
	Outcome string // accepted or rejected
	Rule    string // the rule that decided it ("" when accepted)
	Field   string
	Source  string // the rule's source citation
	Message string
	Facts   []Fact
	// PriorRun is, for a line rejected as DUPLICATE-LINE, the run that
	// sent the line it repeats (the line's own run when the earlier line
	// came before it in the same run); 0 when that line is pending (a
	// claim from a provider's 837P not sent yet) or for another outcome.
	PriorRun int64
}

// Line outcomes.
const (
	OutcomeAccepted = "accepted"
	OutcomeRejected = "rejected"
)

// Interchange is an X12 interchange a run wrote.
type Interchange struct {
	Run   int64
	ISA13 int64
	File  string
}

// DecisionStore records line decisions and interchanges inside a run
// (store.SQLite, store.Postgres): they are kept only if the run is Written.
type DecisionStore interface {
	RecordDecisions(ctx context.Context, run Run, ds []LineDecision) error
	RecordInterchanges(ctx context.Context, run Run, is []Interchange) error
}

var (
	_ DecisionStore = (*SQLite)(nil)
	_ DecisionStore = (*Postgres)(nil)
)

// PriorRunStore tells, inside an open run, the billing NPIs of the lines
// an earlier run accepted, each once, from the decisions that run recorded
// (none when it recorded none): whose line a DUPLICATE-LINE repeats
// (store.SQLite, store.Postgres).
type PriorRunStore interface {
	RunBillingNPIs(ctx context.Context, run Run, of int64) ([]string, error)
}

var (
	_ PriorRunStore = (*SQLite)(nil)
	_ PriorRunStore = (*Postgres)(nil)
)

// ConsoleStore gives the console's queries (store.SQLite, store.Postgres).
type ConsoleStore interface {
	Console() *Console
}

var (
	_ ConsoleStore = (*SQLite)(nil)
	_ ConsoleStore = (*Postgres)(nil)
)

var sqliteWebMigrations = []string{
	`CREATE TABLE web_users (
		id       INTEGER PRIMARY KEY AUTOINCREMENT,
		name     TEXT NOT NULL UNIQUE,
		role     TEXT NOT NULL,
		npis     TEXT NOT NULL DEFAULT '',
		hash     TEXT NOT NULL,
		disabled INTEGER NOT NULL DEFAULT 0,
		created  INTEGER NOT NULL
	)`,
	`CREATE TABLE web_sessions (
		token   TEXT PRIMARY KEY,
		user_id INTEGER NOT NULL,
		csrf    TEXT NOT NULL,
		created INTEGER NOT NULL,
		expires INTEGER NOT NULL
	)`,
	`CREATE TABLE audit_log (
		id     INTEGER PRIMARY KEY AUTOINCREMENT,
		at     INTEGER NOT NULL,
		user_name TEXT NOT NULL,
		action TEXT NOT NULL,
		object TEXT NOT NULL,
		detail TEXT NOT NULL,
		addr   TEXT NOT NULL
	)`,
	`CREATE TABLE line_decisions (` + lineDecisionColumnsDDL + `)`,
	`CREATE TABLE run_interchanges (
		run_id INTEGER NOT NULL,
		isa13  INTEGER NOT NULL,
		file   TEXT NOT NULL,
		PRIMARY KEY (run_id, isa13)
	)`,
	`CREATE TABLE web_uploads (
		source  TEXT NOT NULL,
		path    TEXT NOT NULL,
		user_id INTEGER NOT NULL,
		at      INTEGER NOT NULL,
		PRIMARY KEY (source, path)
	)`,
	// Rejected lines by day (UTC, of the run that recorded them) and rule,
	// counted as they are recorded: rejects by rule over time without a
	// scan of the decisions.
	`CREATE TABLE reject_counts (
		day   INTEGER NOT NULL,
		rule  TEXT NOT NULL,
		lines INTEGER NOT NULL,
		PRIMARY KEY (day, rule)
	)`,
	// The console's look-ups and the ledger's listings (by state, kind,
	// time, name, hash, run).
	`CREATE INDEX line_decisions_invoice ON line_decisions(invoice)`,
	`CREATE INDEX line_decisions_cin ON line_decisions(cin)`,
	`CREATE INDEX line_decisions_rule ON line_decisions(rule, run_id)`,
	`CREATE INDEX run_interchanges_isa13 ON run_interchanges(isa13)`,
	`CREATE INDEX audit_log_at ON audit_log(at)`,
	`CREATE INDEX web_sessions_expires ON web_sessions(expires)`,
	`CREATE INDEX ledger_files_run ON ledger_files(run_id)`,
	`CREATE INDEX ledger_files_hash ON ledger_files(hash)`,
	`CREATE INDEX ledger_files_name ON ledger_files(name)`,
	`CREATE INDEX ledger_files_noticed ON ledger_files(noticed, kind, state)`,
	`CREATE INDEX ledger_files_state ON ledger_files(state, id)`,
	`CREATE INDEX ledger_files_kind ON ledger_files(kind, id)`,
	`CREATE INDEX web_uploads_user ON web_uploads(user_id, at)`,
	`ALTER TABLE line_decisions ADD COLUMN prior_run INTEGER NOT NULL DEFAULT 0`,
}

var postgresWebMigrations = []string{
	`CREATE TABLE web_users (
		id       BIGSERIAL PRIMARY KEY,
		name     TEXT NOT NULL UNIQUE,
		role     TEXT NOT NULL,
		npis     TEXT NOT NULL DEFAULT '',
		hash     TEXT NOT NULL,
		disabled INTEGER NOT NULL DEFAULT 0,
		created  BIGINT NOT NULL
	)`,
	`CREATE TABLE web_sessions (
		token   TEXT PRIMARY KEY,
		user_id BIGINT NOT NULL,
		csrf    TEXT NOT NULL,
		created BIGINT NOT NULL,
		expires BIGINT NOT NULL
	)`,
	`CREATE TABLE audit_log (
		id     BIGSERIAL PRIMARY KEY,
		at     BIGINT NOT NULL,
		user_name TEXT NOT NULL,
		action TEXT NOT NULL,
		object TEXT NOT NULL,
		detail TEXT NOT NULL,
		addr   TEXT NOT NULL
	)`,
	`CREATE TABLE line_decisions (` + strings.ReplaceAll(lineDecisionColumnsDDL, "INTEGER", "BIGINT") + `)`,
	`CREATE TABLE run_interchanges (
		run_id BIGINT NOT NULL,
		isa13  BIGINT NOT NULL,
		file   TEXT NOT NULL,
		PRIMARY KEY (run_id, isa13)
	)`,
	`CREATE TABLE web_uploads (
		source  TEXT NOT NULL,
		path    TEXT NOT NULL,
		user_id BIGINT NOT NULL,
		at      BIGINT NOT NULL,
		PRIMARY KEY (source, path)
	)`,
	// Rejected lines by day (UTC, of the run that recorded them) and rule,
	// counted as they are recorded: rejects by rule over time without a
	// scan of the decisions.
	`CREATE TABLE reject_counts (
		day   INTEGER NOT NULL,
		rule  TEXT NOT NULL,
		lines INTEGER NOT NULL,
		PRIMARY KEY (day, rule)
	)`,
	// The console's look-ups and the ledger's listings (by state, kind,
	// time, name, hash, run).
	`CREATE INDEX line_decisions_invoice ON line_decisions(invoice)`,
	`CREATE INDEX line_decisions_cin ON line_decisions(cin)`,
	`CREATE INDEX line_decisions_rule ON line_decisions(rule, run_id)`,
	`CREATE INDEX run_interchanges_isa13 ON run_interchanges(isa13)`,
	`CREATE INDEX audit_log_at ON audit_log(at)`,
	`CREATE INDEX web_sessions_expires ON web_sessions(expires)`,
	`CREATE INDEX ledger_files_run ON ledger_files(run_id)`,
	`CREATE INDEX ledger_files_hash ON ledger_files(hash)`,
	`CREATE INDEX ledger_files_name ON ledger_files(name)`,
	`CREATE INDEX ledger_files_noticed ON ledger_files(noticed, kind, state)`,
	`CREATE INDEX ledger_files_state ON ledger_files(state, id)`,
	`CREATE INDEX ledger_files_kind ON ledger_files(kind, id)`,
	`CREATE INDEX web_uploads_user ON web_uploads(user_id, at)`,
	`ALTER TABLE line_decisions ADD COLUMN prior_run BIGINT NOT NULL DEFAULT 0`,
}

const lineDecisionColumnsDDL = `
		run_id      INTEGER NOT NULL,
		seq         INTEGER NOT NULL,
		file        TEXT NOT NULL,
		row_no      INTEGER NOT NULL,
		invoice     TEXT NOT NULL,
		line_no     TEXT NOT NULL,
		cin         TEXT NOT NULL,
		npi         TEXT NOT NULL,
		code        TEXT NOT NULL,
		from_date   TEXT NOT NULL,
		to_date     TEXT NOT NULL,
		outcome     TEXT NOT NULL,
		rule        TEXT NOT NULL,
		field       TEXT NOT NULL,
		source      TEXT NOT NULL,
		message     TEXT NOT NULL,
		facts       TEXT NOT NULL,
		PRIMARY KEY (run_id, seq)`

const decisionCols = `run_id, seq, file, row_no, invoice, line_no, cin, npi, code, from_date, to_date, outcome, rule, field, source, message, facts, prior_run`

// ---- the engines behind one set of queries ----

// dbRows is a query's result on either engine.
type dbRows interface {
	resultRows
	Close()
}

// webDB runs a query written with ? placeholders on one engine.
type webDB interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args ...any) (dbRows, error)
	queryRow(ctx context.Context, q string, args ...any) rowScanner
	// execTx runs fn's statements in one transaction: all are kept when fn
	// and the commit succeed, none otherwise.
	execTx(ctx context.Context, fn func(exec func(q string, args ...any) error) error) error
	noRows() error
	// epochMS is the SQL of a ledger time column in unix milliseconds.
	epochMS(col string) string
	// utcDay is the SQL of a value naming the UTC day of a ledger time
	// column, cheap to group by; dayNumber turns such a value into the
	// day's number (days since 1970-01-01).
	utcDay(col string) string
	dayNumber(day string) string
	// timeArg is a time as the ledger's time columns compare it.
	timeArg(t time.Time) any
	scanFile(r rowScanner) (*FileEntry, error)
}

// sqliteWeb writes through a connection of its own and reads through a
// pool of read-only ones, so that many console users read at once beside
// the daemon's writer. The console's writes never take one of the store's
// connections: a run holds one for its write transaction and reads through
// the other, and a console write waiting there for the run's lock would
// keep the run from reading until the wait ended in SQLITE_BUSY.
type sqliteWeb struct {
	writer, readers *sql.DB
	// turn takes the store's single writer's turn (SQLite.turn) and
	// returns its release.
	turn func(ctx context.Context) (func(), error)
}

// isWrite reports whether a statement writes (an INSERT ... RETURNING is a query).
func isWrite(q string) bool {
	q = strings.TrimSpace(q)
	return !strings.HasPrefix(q, "SELECT") && !strings.HasPrefix(q, "WITH")
}

func (s sqliteWeb) reader(q string) *sql.DB {
	if isWrite(q) {
		return s.writer
	}
	return s.readers
}

func (s sqliteWeb) exec(ctx context.Context, q string, args ...any) (int64, error) {
	end, err := s.turn(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	res, err := s.writer.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s sqliteWeb) query(ctx context.Context, q string, args ...any) (dbRows, error) {
	end := func() {}
	if isWrite(q) {
		var err error
		if end, err = s.turn(ctx); err != nil {
			return nil, err
		}
	}
	rows, err := s.reader(q).QueryContext(ctx, q, args...)
	if err != nil {
		end()
		return nil, err
	}
	return turnRows{sqlRows{rows}, sync.OnceFunc(end)}, nil
}

func (s sqliteWeb) queryRow(ctx context.Context, q string, args ...any) rowScanner {
	if !isWrite(q) {
		return s.readers.QueryRowContext(ctx, q, args...)
	}
	end, err := s.turn(ctx)
	if err != nil {
		return errRow{err}
	}
	return turnRow{s.writer.QueryRowContext(ctx, q, args...), sync.OnceFunc(end)}
}

// turnRows and turnRow give the writer's turn back when the write's
// result has been read.
type turnRows struct {
	dbRows
	end func()
}

func (r turnRows) Close() {
	r.dbRows.Close()
	r.end()
}

type turnRow struct {
	row *sql.Row
	end func()
}

func (r turnRow) Scan(dest ...any) error {
	defer r.end()
	return r.row.Scan(dest...)
}

func (s sqliteWeb) execTx(ctx context.Context, fn func(exec func(q string, args ...any) error) error) error {
	end, err := s.turn(ctx)
	if err != nil {
		return err
	}
	defer end()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	err = fn(func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (sqliteWeb) noRows() error { return sql.ErrNoRows }

func (sqliteWeb) epochMS(col string) string { return col }

func (sqliteWeb) utcDay(col string) string { return col + ` / 86400000` }

func (sqliteWeb) dayNumber(day string) string { return day }

func (sqliteWeb) timeArg(t time.Time) any { return ms(t) }

func (sqliteWeb) scanFile(r rowScanner) (*FileEntry, error) { return sqliteLedger.scanFile(r) }

type pgWeb struct{ pool *pgxpool.Pool }

// rebind turns ? placeholders into $1, $2, ...
func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func (p pgWeb) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := p.pool.Exec(ctx, rebind(q), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (p pgWeb) execTx(ctx context.Context, fn func(exec func(q string, args ...any) error) error) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return err
	}
	err = fn(func(q string, args ...any) error {
		_, err := tx.Exec(ctx, rebind(q), args...)
		return err
	})
	if err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	return tx.Commit(ctx)
}

type pgRows struct{ pgx.Rows }

func (r pgRows) Close() { r.Rows.Close() }

func (p pgWeb) query(ctx context.Context, q string, args ...any) (dbRows, error) {
	rows, err := p.pool.Query(ctx, rebind(q), args...)
	if err != nil {
		return nil, err
	}
	return pgRows{rows}, nil
}

func (p pgWeb) queryRow(ctx context.Context, q string, args ...any) rowScanner {
	return p.pool.QueryRow(ctx, rebind(q), args...)
}

func (pgWeb) noRows() error { return pgx.ErrNoRows }

func (pgWeb) epochMS(col string) string {
	return "CAST(EXTRACT(EPOCH FROM " + col + ") * 1000 AS BIGINT)"
}

// utcDay truncates to the day: no numeric arithmetic for each row.
func (pgWeb) utcDay(col string) string { return `date_trunc('day', ` + col + `, 'UTC')` }

func (pgWeb) dayNumber(day string) string {
	return `CAST(EXTRACT(EPOCH FROM ` + day + `) AS BIGINT) / 86400`
}

func (pgWeb) timeArg(t time.Time) any { return t }

func (pgWeb) scanFile(r rowScanner) (*FileEntry, error) { return pgLedger.scanFile(r) }

// Console is the web console's view of the store, the same on both engines.
type Console struct {
	db     webDB
	ledger Ledger
}

// ConsoleReaders bounds the console's read-only SQLite connections. The
// console lets as many pages run at once (web.Server), so that a page
// never waits for a connection: database/sql hands a freed connection to a
// random waiter, which would make the slowest waits long.
const ConsoleReaders = 8

// consoleMmap is how much of the database file each console reader maps
// instead of copying it into its page cache with a read per page:
// readers share the operating system's pages (SQLite's largest default).
const consoleMmap = 2147418112

// Console implements ConsoleStore.
func (s *SQLite) Console() *Console {
	s.consoleOnce.Do(func() {
		web := sqliteWeb{writer: s.db, readers: s.db, turn: func(ctx context.Context) (func(), error) {
			if err := s.takeTurn(ctx); err != nil {
				return nil, err
			}
			return s.endTurn, nil
		}}
		dsn := SQLiteURI(s.path) + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=query_only(1)&_pragma=cache_size(-16000)&_pragma=mmap_size(" + strconv.Itoa(consoleMmap) + ")"
		if r, err := sql.Open("sqlite", dsn); err == nil {
			r.SetMaxOpenConns(ConsoleReaders)
			r.SetMaxIdleConns(ConsoleReaders)
			s.readers, web.readers = r, r
		}
		// One connection: the console's writes queue for it in order, and
		// only it waits (busy_timeout) for a run's write lock.
		if w, err := sql.Open("sqlite", sqliteDSN(s.path, 1000)); err == nil {
			w.SetMaxOpenConns(1)
			s.writer, web.writer = w, w
		}
		s.console = &Console{db: web, ledger: s}
	})
	return s.console
}

// Console implements ConsoleStore.
func (p *Postgres) Console() *Console { return &Console{db: pgWeb{p.pool}, ledger: p} }

// ErrNoUser means no such user.
var ErrNoUser = errors.New("store: no such user")

// ErrUserExists means the name is taken.
var ErrUserExists = errors.New("store: user name taken")

// AddUser adds a user and returns its ID.
func (c *Console) AddUser(ctx context.Context, u User) (int64, error) {
	if !ValidRole(u.Role) {
		return 0, fmt.Errorf("store: role %q: want operator, admin or provider", u.Role)
	}
	if u.Name == "" || u.Hash == "" {
		return 0, fmt.Errorf("store: a user needs a name and a password hash")
	}
	var exists int
	err := c.db.queryRow(ctx, `SELECT COUNT(*) FROM web_users WHERE name = ?`, u.Name).Scan(&exists)
	if err != nil {
		return 0, fmt.Errorf("store: add user: %w", err)
	}
	if exists > 0 {
		return 0, fmt.Errorf("%w: %s", ErrUserExists, u.Name)
	}
	var id int64
	err = c.db.queryRow(ctx, `INSERT INTO web_users(name, role, npis, hash, disabled, created) VALUES (?, ?, ?, ?, 0, ?) RETURNING id`,
		u.Name, u.Role, strings.Join(u.NPIs, ","), u.Hash, ms(time.Now())).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: add user %s: %w", u.Name, err)
	}
	return id, nil
}

const userCols = `id, name, role, npis, hash, disabled, created`

func scanUser(r rowScanner) (*User, error) {
	var u User
	var npis string
	var disabled int
	var created int64
	if err := r.Scan(&u.ID, &u.Name, &u.Role, &npis, &u.Hash, &disabled, &created); err != nil {
		return nil, err
	}
	if npis != "" {
		u.NPIs = strings.Split(npis, ",")
	}
	u.Disabled = disabled != 0
	u.Created = fromMS(created)
	return &u, nil
}

func (c *Console) userBy(ctx context.Context, where string, arg any) (*User, error) {
	u, err := scanUser(c.db.queryRow(ctx, `SELECT `+userCols+` FROM web_users WHERE `+where, arg))
	if errors.Is(err, c.db.noRows()) {
		return nil, ErrNoUser
	}
	if err != nil {
		return nil, fmt.Errorf("store: user: %w", err)
	}
	return u, nil
}

// UserByName returns a user by name (ErrNoUser when none).
func (c *Console) UserByName(ctx context.Context, name string) (*User, error) {
	return c.userBy(ctx, `name = ?`, name)
}

// User returns a user by ID (ErrNoUser when none).
func (c *Console) User(ctx context.Context, id int64) (*User, error) {
	return c.userBy(ctx, `id = ?`, id)
}

// Users lists the users by name.
func (c *Console) Users(ctx context.Context) ([]User, error) {
	rows, err := c.db.query(ctx, `SELECT `+userCols+` FROM web_users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: users: %w", err)
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}

// SetUserDisabled disables or enables a user; disabling ends its sessions.
func (c *Console) SetUserDisabled(ctx context.Context, id int64, disabled bool) error {
	d := 0
	if disabled {
		d = 1
	}
	n, err := c.db.exec(ctx, `UPDATE web_users SET disabled = ? WHERE id = ?`, d, id)
	if err != nil {
		return fmt.Errorf("store: user %d: %w", id, err)
	}
	if n == 0 {
		return ErrNoUser
	}
	if disabled {
		if _, err := c.db.exec(ctx, `DELETE FROM web_sessions WHERE user_id = ?`, id); err != nil {
			return fmt.Errorf("store: user %d sessions: %w", id, err)
		}
	}
	return nil
}

// CountUsers counts the users.
func (c *Console) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := c.db.queryRow(ctx, `SELECT COUNT(*) FROM web_users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: users: %w", err)
	}
	return n, nil
}

// ErrNoSession means the session is unknown or expired.
var ErrNoSession = errors.New("store: no such session")

// CreateSession records a session.
func (c *Console) CreateSession(ctx context.Context, s Session) error {
	_, err := c.db.exec(ctx, `INSERT INTO web_sessions(token, user_id, csrf, created, expires) VALUES (?, ?, ?, ?, ?)`,
		s.Token, s.UserID, s.CSRF, ms(s.Created), ms(s.Expires))
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// Session returns a session that has not expired at now.
func (c *Console) Session(ctx context.Context, token string, now time.Time) (*Session, error) {
	var s Session
	var created, expires int64
	err := c.db.queryRow(ctx, `SELECT token, user_id, csrf, created, expires FROM web_sessions WHERE token = ? AND expires > ?`,
		token, ms(now)).Scan(&s.Token, &s.UserID, &s.CSRF, &created, &expires)
	if errors.Is(err, c.db.noRows()) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("store: session: %w", err)
	}
	s.Created, s.Expires = fromMS(created), fromMS(expires)
	return &s, nil
}

// SessionUser returns the user of a session that has not expired at now
// and whose user is not disabled, in one look-up.
func (c *Console) SessionUser(ctx context.Context, token string, now time.Time) (*Session, *User, error) {
	var s Session
	var created, expires int64
	var u User
	var npis string
	var disabled int
	var ucreated int64
	err := c.db.queryRow(ctx, `SELECT s.token, s.user_id, s.csrf, s.created, s.expires,
		u.id, u.name, u.role, u.npis, u.hash, u.disabled, u.created
		FROM web_sessions s JOIN web_users u ON u.id = s.user_id
		WHERE s.token = ? AND s.expires > ? AND u.disabled = 0`, token, ms(now)).Scan(
		&s.Token, &s.UserID, &s.CSRF, &created, &expires, &u.ID, &u.Name, &u.Role, &npis, &u.Hash, &disabled, &ucreated)
	if errors.Is(err, c.db.noRows()) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: session: %w", err)
	}
	s.Created, s.Expires = fromMS(created), fromMS(expires)
	if npis != "" {
		u.NPIs = strings.Split(npis, ",")
	}
	u.Created = fromMS(ucreated)
	return &s, &u, nil
}

// DeleteSession ends a session.
func (c *Console) DeleteSession(ctx context.Context, token string) error {
	if _, err := c.db.exec(ctx, `DELETE FROM web_sessions WHERE token = ?`, token); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes the sessions expired at now.
func (c *Console) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	if _, err := c.db.exec(ctx, `DELETE FROM web_sessions WHERE expires <= ?`, ms(now)); err != nil {
		return fmt.Errorf("store: expire sessions: %w", err)
	}
	return nil
}

// Audit appends an event to the audit log.
func (c *Console) Audit(ctx context.Context, e AuditEvent) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	_, err := c.db.exec(ctx, `INSERT INTO audit_log(at, user_name, action, object, detail, addr) VALUES (?, ?, ?, ?, ?, ?)`,
		ms(e.At), e.User, e.Action, e.Object, e.Detail, e.Addr)
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// auditChunk events go in one INSERT (6 parameters each, far under
// SQLite's 32766 and PostgreSQL's 65535 limits).
const auditChunk = 500

// AuditMany appends events to the audit log, in their order, in one
// transaction: all are written or none. Any number of events may be
// written; they go in statements of auditChunk events.
func (c *Console) AuditMany(ctx context.Context, es []AuditEvent) error {
	if len(es) == 0 {
		return nil
	}
	now := time.Now()
	err := c.db.execTx(ctx, func(exec func(q string, args ...any) error) error {
		var b strings.Builder
		args := make([]any, 0, 6*min(len(es), auditChunk))
		for start := 0; start < len(es); start += auditChunk {
			chunk := es[start:min(start+auditChunk, len(es))]
			b.Reset()
			args = args[:0]
			b.WriteString(`INSERT INTO audit_log(at, user_name, action, object, detail, addr) VALUES `)
			for i, e := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?, ?, ?, ?)")
				at := e.At
				if at.IsZero() {
					at = now
				}
				args = append(args, ms(at), e.User, e.Action, e.Object, e.Detail, e.Addr)
			}
			if err := exec(b.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: audit: %d events: %w", len(es), err)
	}
	return nil
}

// AuditEvents lists the latest events, newest first.
func (c *Console) AuditEvents(ctx context.Context, limit int) ([]AuditEvent, error) {
	rows, err := c.db.query(ctx, `SELECT id, at, user_name, action, object, detail, addr FROM audit_log ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.User, &e.Action, &e.Object, &e.Detail, &e.Addr); err != nil {
			return nil, fmt.Errorf("store: audit log: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// ---- decisions, recorded inside a run ----

// decisionArgs flattens decisions for one multi-row insert.
func decisionArgs(run int64, ds []LineDecision) ([]any, error) {
	args := make([]any, 0, len(ds)*18)
	for _, d := range ds {
		facts, err := json.Marshal(d.Facts)
		if err != nil {
			return nil, err
		}
		args = append(args, run, d.Seq, d.File, d.Row, d.Invoice, d.LineNo, d.CIN, d.NPI, d.Code, d.From, d.To,
			d.Outcome, d.Rule, d.Field, d.Source, d.Message, string(facts), d.PriorRun)
	}
	return args, nil
}

// decisionChunk rows go in one INSERT (18 parameters each, under SQLite's
// 32766 and PostgreSQL's 65535 limits).
const decisionChunk = 500

func insertDecisionsSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO line_decisions(` + decisionCols + `) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	return b.String()
}

const upsertRejectCount = `INSERT INTO reject_counts(day, rule, lines) VALUES (?, ?, ?)
	ON CONFLICT (day, rule) DO UPDATE SET lines = reject_counts.lines + excluded.lines`

// today is the UTC day number (days since 1970-01-01) reject counts are kept under.
func today() int64 { return time.Now().UTC().Unix() / 86400 }

func rejectsByRule(ds []LineDecision) map[string]int {
	out := map[string]int{}
	for _, d := range ds {
		if d.Outcome == OutcomeRejected {
			out[d.Rule]++
		}
	}
	return out
}

// RecordDecisions implements DecisionStore for a run of the SQLite store.
func (s *SQLite) RecordDecisions(ctx context.Context, run Run, ds []LineDecision) error {
	r, ok := run.(*sqliteRun)
	if !ok || r.done {
		return fmt.Errorf("%w: not an open SQLite run", ErrNoRun)
	}
	all := ds
	for len(ds) > 0 {
		n := min(len(ds), decisionChunk)
		args, err := decisionArgs(r.id, ds[:n])
		if err != nil {
			return fmt.Errorf("store: record decisions: %w", err)
		}
		if _, err := r.conn.ExecContext(ctx, insertDecisionsSQL(n), args...); err != nil {
			return fmt.Errorf("store: record decisions of run %d: %w", r.id, err)
		}
		ds = ds[n:]
	}
	for rule, n := range rejectsByRule(all) {
		if _, err := r.conn.ExecContext(ctx, upsertRejectCount, today(), rule, n); err != nil {
			return fmt.Errorf("store: reject counts of run %d: %w", r.id, err)
		}
	}
	return nil
}

// RecordInterchanges implements DecisionStore for a run of the SQLite store.
func (s *SQLite) RecordInterchanges(ctx context.Context, run Run, is []Interchange) error {
	r, ok := run.(*sqliteRun)
	if !ok || r.done {
		return fmt.Errorf("%w: not an open SQLite run", ErrNoRun)
	}
	for _, i := range is {
		if _, err := r.conn.ExecContext(ctx, `INSERT INTO run_interchanges(run_id, isa13, file) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, r.id, i.ISA13, i.File); err != nil {
			return fmt.Errorf("store: record interchange %d: %w", i.ISA13, err)
		}
	}
	return nil
}

// RecordDecisions implements DecisionStore for a run of the PostgreSQL store.
func (p *Postgres) RecordDecisions(ctx context.Context, run Run, ds []LineDecision) error {
	r, ok := run.(*pgRun)
	if !ok {
		return fmt.Errorf("%w: not a PostgreSQL run", ErrNoRun)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return fmt.Errorf("%w: run %d is closed", ErrNoRun, r.id)
	}
	all := ds
	for len(ds) > 0 {
		n := min(len(ds), decisionChunk)
		args, err := decisionArgs(r.id, ds[:n])
		if err != nil {
			return fmt.Errorf("store: record decisions: %w", err)
		}
		if _, err := r.tx.Exec(ctx, rebind(insertDecisionsSQL(n)), args...); err != nil {
			return fmt.Errorf("store: record decisions of run %d: %w", r.id, err)
		}
		ds = ds[n:]
	}
	for rule, n := range rejectsByRule(all) {
		if _, err := r.tx.Exec(ctx, rebind(upsertRejectCount), today(), rule, n); err != nil {
			return fmt.Errorf("store: reject counts of run %d: %w", r.id, err)
		}
	}
	return nil
}

// RecordInterchanges implements DecisionStore for a run of the PostgreSQL store.
func (p *Postgres) RecordInterchanges(ctx context.Context, run Run, is []Interchange) error {
	r, ok := run.(*pgRun)
	if !ok {
		return fmt.Errorf("%w: not a PostgreSQL run", ErrNoRun)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return fmt.Errorf("%w: run %d is closed", ErrNoRun, r.id)
	}
	for _, i := range is {
		if _, err := r.tx.Exec(ctx, `INSERT INTO run_interchanges(run_id, isa13, file) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, r.id, i.ISA13, i.File); err != nil {
			return fmt.Errorf("store: record interchange %d: %w", i.ISA13, err)
		}
	}
	return nil
}

func scanDecision(r rowScanner) (*LineDecision, error) {
	var d LineDecision
	var facts string
	if err := r.Scan(&d.Run, &d.Seq, &d.File, &d.Row, &d.Invoice, &d.LineNo, &d.CIN, &d.NPI, &d.Code, &d.From, &d.To,
		&d.Outcome, &d.Rule, &d.Field, &d.Source, &d.Message, &facts, &d.PriorRun); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(facts), &d.Facts); err != nil {
		return nil, fmt.Errorf("line %d/%d facts: %w", d.Run, d.Seq, err)
	}
	return &d, nil
}

// decisionListCols are decisionCols without the evidence (Facts left
// empty): lists of lines do not show it, and skipping it spares reading
// and decoding it.
const decisionListCols = `run_id, seq, file, row_no, invoice, line_no, cin, npi, code, from_date, to_date, outcome, rule, field, source, message, 'null', prior_run`

func (c *Console) decisions(ctx context.Context, where string, args ...any) ([]LineDecision, error) {
	return c.decisionRows(ctx, decisionCols, where, args...)
}

func (c *Console) decisionList(ctx context.Context, where string, args ...any) ([]LineDecision, error) {
	return c.decisionRows(ctx, decisionListCols, where, args...)
}

func (c *Console) decisionRows(ctx context.Context, cols, where string, args ...any) ([]LineDecision, error) {
	rows, err := c.db.query(ctx, `SELECT `+cols+` FROM line_decisions WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: line decisions: %w", err)
	}
	defer rows.Close()
	var out []LineDecision
	for rows.Next() {
		d, err := scanDecision(rows)
		if err != nil {
			return nil, fmt.Errorf("store: line decisions: %w", err)
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// Decision returns the decision on line seq of a run (false when none).
func (c *Console) Decision(ctx context.Context, run int64, seq int) (*LineDecision, bool, error) {
	ds, err := c.decisions(ctx, `run_id = ? AND seq = ?`, run, seq)
	if err != nil || len(ds) == 0 {
		return nil, false, err
	}
	return &ds[0], true, nil
}

// RunDecisions lists a run's decisions in line order, at most limit from
// offset: every line, only the rejected ones, or (rule set) those a rule
// rejected; without their evidence (Decision has it).
func (c *Console) RunDecisions(ctx context.Context, run int64, onlyRejected bool, rule string, offset, limit int) ([]LineDecision, error) {
	where := `run_id = ?`
	args := []any{run}
	if onlyRejected {
		where += ` AND outcome = 'rejected'`
	}
	if rule != "" {
		where += ` AND rule = ?`
		args = append(args, rule)
	}
	return c.decisionList(ctx, where+` ORDER BY seq LIMIT ? OFFSET ?`, append(args, limit, offset)...)
}

// InvoiceDecisions lists the decisions on lines of an invoice number, the
// latest runs first, at most limit; run 0 means any run.
func (c *Console) InvoiceDecisions(ctx context.Context, invoice string, run int64, limit int) ([]LineDecision, error) {
	if run != 0 {
		return c.decisions(ctx, `invoice = ? AND run_id = ? ORDER BY seq LIMIT ?`, invoice, run, limit)
	}
	return c.decisions(ctx, `invoice = ? ORDER BY run_id DESC, seq LIMIT ?`, invoice, limit)
}

// InvoiceLines is InvoiceDecisions without the evidence.
func (c *Console) InvoiceLines(ctx context.Context, invoice string, run int64, limit int) ([]LineDecision, error) {
	if run != 0 {
		return c.decisionList(ctx, `invoice = ? AND run_id = ? ORDER BY seq LIMIT ?`, invoice, run, limit)
	}
	return c.decisionList(ctx, `invoice = ? ORDER BY run_id DESC, seq LIMIT ?`, invoice, limit)
}

// MemberDecisions lists the decisions on lines of a CIN, latest first,
// without their evidence (Decision has it).
func (c *Console) MemberDecisions(ctx context.Context, cin string, limit int) ([]LineDecision, error) {
	return c.decisionList(ctx, `cin = ? ORDER BY run_id DESC, seq LIMIT ?`, cin, limit)
}

// runBillingNPIsSQL lists the billing NPIs of the lines a run accepted.
const runBillingNPIsSQL = `SELECT DISTINCT npi FROM line_decisions WHERE run_id = ? AND outcome = 'accepted' ORDER BY npi`

// RunBillingNPIs lists the billing NPIs of the lines a run accepted, each
// once (none when the run recorded no decisions).
func (c *Console) RunBillingNPIs(ctx context.Context, run int64) ([]string, error) {
	rows, err := c.db.query(ctx, runBillingNPIsSQL, run)
	if err != nil {
		return nil, fmt.Errorf("store: billing NPIs of run %d: %w", run, err)
	}
	defer rows.Close()
	return scanBillingNPIs(run, rows)
}

// scanBillingNPIs reads the rows of runBillingNPIsSQL for run.
func scanBillingNPIs(run int64, rows resultRows) ([]string, error) {
	var out []string
	for rows.Next() {
		var npi string
		if err := rows.Scan(&npi); err != nil {
			return nil, fmt.Errorf("store: billing NPIs of run %d: %w", run, err)
		}
		out = append(out, npi)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: billing NPIs of run %d: %w", run, err)
	}
	return out, nil
}

// RunBillingNPIs implements PriorRunStore for a run of the SQLite store.
func (s *SQLite) RunBillingNPIs(ctx context.Context, run Run, of int64) ([]string, error) {
	r, ok := run.(*sqliteRun)
	if !ok || r.done {
		return nil, fmt.Errorf("%w: not an open SQLite run", ErrNoRun)
	}
	rows, err := r.conn.QueryContext(ctx, runBillingNPIsSQL, of)
	if err != nil {
		return nil, fmt.Errorf("store: billing NPIs of run %d: %w", of, err)
	}
	defer rows.Close()
	return scanBillingNPIs(of, rows)
}

// RunBillingNPIs implements PriorRunStore for a run of the PostgreSQL store.
func (p *Postgres) RunBillingNPIs(ctx context.Context, run Run, of int64) ([]string, error) {
	r, ok := run.(*pgRun)
	if !ok {
		return nil, fmt.Errorf("%w: not a PostgreSQL run", ErrNoRun)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return nil, fmt.Errorf("%w: run %d is closed", ErrNoRun, r.id)
	}
	rows, err := r.tx.Query(ctx, rebind(runBillingNPIsSQL), of)
	if err != nil {
		return nil, fmt.Errorf("store: billing NPIs of run %d: %w", of, err)
	}
	defer rows.Close()
	return scanBillingNPIs(of, rows)
}

// RuleCount is how many lines a rule rejected.
type RuleCount struct {
	Rule  string
	Count int
}

// RunRuleCounts counts a run's rejected lines by rule, most first.
func (c *Console) RunRuleCounts(ctx context.Context, run int64) ([]RuleCount, error) {
	rows, err := c.db.query(ctx, `SELECT rule, COUNT(*) FROM line_decisions WHERE run_id = ? AND outcome = 'rejected' GROUP BY rule ORDER BY COUNT(*) DESC, rule`, run)
	if err != nil {
		return nil, fmt.Errorf("store: rule counts: %w", err)
	}
	defer rows.Close()
	var out []RuleCount
	for rows.Next() {
		var rc RuleCount
		if err := rows.Scan(&rc.Rule, &rc.Count); err != nil {
			return nil, fmt.Errorf("store: rule counts: %w", err)
		}
		out = append(out, rc)
	}
	return out, rows.Err()
}

// RuleDay is how many lines a rule rejected in the runs of files noticed on
// one day (UTC).
type RuleDay struct {
	Day   string // YYYY-MM-DD
	Rule  string
	Count int
}

// RejectsByRule counts the lines rejected since since (by the day their
// run recorded them, UTC), by day and rule, latest day first.
func (c *Console) RejectsByRule(ctx context.Context, since time.Time) ([]RuleDay, error) {
	rows, err := c.db.query(ctx, `SELECT day, rule, lines FROM reject_counts WHERE day >= ? ORDER BY day DESC, lines DESC, rule`,
		since.UTC().Unix()/86400)
	if err != nil {
		return nil, fmt.Errorf("store: rejects by rule: %w", err)
	}
	defer rows.Close()
	var out []RuleDay
	for rows.Next() {
		var day int64
		var rd RuleDay
		if err := rows.Scan(&day, &rd.Rule, &rd.Count); err != nil {
			return nil, fmt.Errorf("store: rejects by rule: %w", err)
		}
		rd.Day = time.Unix(day*86400, 0).UTC().Format("2006-01-02")
		out = append(out, rd)
	}
	return out, rows.Err()
}

// ClaimByCLM01 returns the claim sent with that CLM01 (false when none).
func (c *Console) ClaimByCLM01(ctx context.Context, clm01 string) (SentClaim, bool, error) {
	var sc SentClaim
	err := c.db.queryRow(ctx, `SELECT clm01, run_id, invoice, hcp, encounter_id, status FROM sent_claims WHERE clm01 = ?`, clm01).Scan(
		&sc.CLM01, &sc.Run, &sc.Invoice, &sc.HCP, &sc.EncounterID, &sc.Status)
	if errors.Is(err, c.db.noRows()) {
		return sc, false, nil
	}
	if err != nil {
		return sc, false, fmt.Errorf("store: claim %s: %w", clm01, err)
	}
	return sc, true, nil
}

// RunInterchanges lists the interchanges of a run.
func (c *Console) RunInterchanges(ctx context.Context, run int64) ([]Interchange, error) {
	return c.interchanges(ctx, `run_id = ? ORDER BY isa13`, run)
}

// InterchangesByISA13 lists the interchanges with control number isa13.
func (c *Console) InterchangesByISA13(ctx context.Context, isa13 int64) ([]Interchange, error) {
	return c.interchanges(ctx, `isa13 = ? ORDER BY run_id DESC LIMIT 50`, isa13)
}

func (c *Console) interchanges(ctx context.Context, where string, args ...any) ([]Interchange, error) {
	rows, err := c.db.query(ctx, `SELECT run_id, isa13, file FROM run_interchanges WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: interchanges: %w", err)
	}
	defer rows.Close()
	var out []Interchange
	for rows.Next() {
		var i Interchange
		if err := rows.Scan(&i.Run, &i.ISA13, &i.File); err != nil {
			return nil, fmt.Errorf("store: interchanges: %w", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}
