package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// SQLite is the embedded Store: one database file, WAL journal.
type SQLite struct {
	db   *sql.DB
	path string
	fileLedger

	// console is the web console's view (web.go): its reads go to a pool of
	// read-only connections of their own (WAL readers), opened on first use.
	consoleOnce sync.Once
	console     *Console
	readers     *sql.DB
	writer      *sql.DB

	// turn is the single writer's turn, taken in the order asked (a
	// channel's senders queue): by a run and an enrollment load for their
	// whole transaction, and by each of the console's writes and of
	// CompleteRun, AbortRun, InboxAdd and RecordADT. SQLite's own
	// busy wait polls, so a writer that comes back at once (the daemon's
	// runs, one after another) can keep another from ever getting the lock.
	turn chan struct{}

	// adtMembers are the members RecordADT found before.
	adtMembers knownMembers
}

// takeTurn waits for the single writer's turn (see SQLite.turn).
func (s *SQLite) takeTurn(ctx context.Context) error {
	select {
	case s.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// endTurn gives the turn to the next writer waiting.
func (s *SQLite) endTurn() { <-s.turn }

// FileName is the database file inside a state directory.
const FileName = "calgw.db"

// Schema for the encounter core, as a migration component (see migrate.go).

// sqliteCoreMigrations are the SQLite migrations of the core
// component, in order (see sqliteComponents in migrate.go).
var sqliteCoreMigrations = []string{
	`CREATE TABLE control_numbers (
		scope TEXT PRIMARY KEY,
		last  INTEGER NOT NULL
	)`,
	`CREATE TABLE runs (
		id      INTEGER PRIMARY KEY AUTOINCREMENT,
		kind    TEXT NOT NULL,
		inputs  TEXT NOT NULL,
		status  TEXT NOT NULL,
		started TEXT NOT NULL,
		ended   TEXT,
		temp    TEXT,
		output  TEXT,
		summary TEXT
	)`,
	// Sent encounter lines. The 128-bit line key is split: the high 64 bits
	// are the rowid (a B-tree on integers is several times faster than on
	// blobs), the low 64 bits tell a real duplicate from a rowid collision,
	// which goes to sent_line_collisions.
	`CREATE TABLE sent_lines (
		key_hi  INTEGER PRIMARY KEY,
		key_lo  INTEGER NOT NULL,
		run_id  INTEGER NOT NULL,
		control TEXT NOT NULL,
		invoice TEXT NOT NULL,
		line_no TEXT NOT NULL
	)`,
	`CREATE TABLE sent_line_collisions (
		key_hi  INTEGER NOT NULL,
		key_lo  INTEGER NOT NULL,
		run_id  INTEGER NOT NULL,
		control TEXT NOT NULL,
		invoice TEXT NOT NULL,
		line_no TEXT NOT NULL,
		PRIMARY KEY (key_hi, key_lo)
	) WITHOUT ROWID`,
	// Pending lines: service lines of claims accepted from providers'
	// 837Ps, waiting to be converted and sent (InboundClaim.Lines). The
	// duplicate check sees them as it sees sent lines. Keyed like
	// sent_lines; a rowid collision keeps the first line only. The file
	// and time are those of the claim (inbound_claims, by invoice).
	`CREATE TABLE pending_lines (
		key_hi  INTEGER PRIMARY KEY,
		key_lo  INTEGER NOT NULL,
		invoice TEXT NOT NULL,
		line_no TEXT NOT NULL
	)`,
	// The usage counters a pending line moves once sent (Line.Uses): a
	// run's usage counters add them up while the line is pending, and they
	// go with it when it stops being pending.
	`CREATE TABLE pending_usage (
		key_hi  INTEGER NOT NULL,
		key_lo  INTEGER NOT NULL,
		counter TEXT NOT NULL,
		amount  INTEGER NOT NULL,
		first   INTEGER NOT NULL
	)`,
	`CREATE INDEX pending_usage_counter ON pending_usage(counter)`,
	`CREATE INDEX pending_usage_line ON pending_usage(key_hi)`,
	`CREATE TRIGGER pending_lines_usage AFTER DELETE ON pending_lines BEGIN
		DELETE FROM pending_usage WHERE key_hi = old.key_hi AND key_lo = old.key_lo;
	END`,
}

// pageCacheKiB is each connection's SQLite page cache.
const pageCacheKiB = 32000

// OpenSQLite opens (creating if needed) the store in dir.
func OpenSQLite(ctx context.Context, dir string) (*SQLite, error) {
	registerSQLiteFunctions()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	path := filepath.Join(dir, FileName)
	// A 32 MB page cache keeps the sent-lines index hot; WAL lets readers
	// run beside the writer; busy_timeout waits for another process's write.
	// synchronous FULL syncs the WAL at every commit: a commit that returned
	// survives a power loss, so an 837 that went out after its run's commit
	// is never forgotten and sent again (NORMAL may lose the last commits).
	db, err := sql.Open("sqlite", sqliteDSN(path, pageCacheKiB))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Two connections: an open run holds one for its transaction; the other
	// serves reads (WAL readers do not wait for the writer).
	db.SetMaxOpenConns(2)
	s := &SQLite{db: db, path: path, fileLedger: fileLedger{newSQLDB(db), sqliteLedger}, turn: make(chan struct{}, 1)}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Ping checks that the store answers.
func (s *SQLite) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// sqliteDSN is the store's connection string for its writing connections,
// with a page cache of cacheKiB.
func sqliteDSN(path string, cacheKiB int) string {
	return SQLiteURI(path) + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=cache_size(" + strconv.Itoa(-cacheKiB) + ")&_pragma=foreign_keys(ON)&_txlock=immediate"
}

// SQLiteURI is the SQLite URI of the database file at path (for a tool
// that opens a store's file itself): "file:" and
// the path with '%', '?' and '#' percent-encoded, so that a directory
// named with them opens the file it names with the query that follows
// (SQLite and the driver end the path at the first '?' or '#').
func SQLiteURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// Close closes the database.
func (s *SQLite) Close() error {
	if s.readers != nil {
		s.readers.Close()
	}
	if s.writer != nil {
		s.writer.Close()
	}
	return s.db.Close()
}

// driverPrepare prepares query on a driver connection (inside sql.Conn.Raw).
func driverPrepare(ctx context.Context, dc any, query string) (driver.Stmt, error) {
	p, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("driver %T cannot prepare statements", dc)
	}
	return p.PrepareContext(ctx, query)
}

// prepareExec prepares a statement on conn to be executed with the driver
// directly (inside conn.Raw): a hot insert then skips database/sql's work
// per call. The statement must be closed inside conn.Raw too.
func prepareExec(ctx context.Context, conn *sql.Conn, query string) (driver.Stmt, driver.StmtExecContext, error) {
	var st driver.Stmt
	var ex driver.StmtExecContext
	err := conn.Raw(func(dc any) error {
		s, err := driverPrepare(ctx, dc, query)
		if err != nil {
			return err
		}
		e, ok := s.(driver.StmtExecContext)
		if !ok {
			s.Close()
			return fmt.Errorf("driver statement %T cannot execute with a context", s)
		}
		st, ex = s, e
		return nil
	})
	return st, ex, err
}

// MaxControlNumber is the largest X12 control number (ISA13 is 9 digits).
const MaxControlNumber = 999999999

func (s *SQLite) NextControlNumber(ctx context.Context, scope string) (int64, error) {
	return nextControl(ctx, s.db, scope)
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

const insertSentLine = `INSERT INTO sent_lines(key_hi, key_lo, run_id, control, invoice, line_no)
	VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`

func (s *SQLite) BeginRun(ctx context.Context, kind, inputs string) (Run, error) {
	// The turn is taken before any write: a run waiting for another's lock
	// holds no connection meanwhile.
	if err := s.takeTurn(ctx); err != nil {
		return nil, fmt.Errorf("store: begin run: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO runs(kind, inputs, status, started) VALUES (?, ?, ?, ?)`,
		kind, inputs, RunOpen, now())
	if err != nil {
		s.endTurn()
		return nil, fmt.Errorf("store: begin run: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		s.endTurn()
		return nil, fmt.Errorf("store: begin run: %w", err)
	}
	r := &sqliteRun{s: s, id: id}
	if err := s.openRun(ctx, r); err != nil {
		return nil, fmt.Errorf("store: begin run %d: %w", id, err)
	}
	return r, nil
}

// BeginCheck implements Store: the run's row is inserted inside its
// transaction, which only ever rolls back.
func (s *SQLite) BeginCheck(ctx context.Context, kind, inputs string) (Run, error) {
	// A check takes the single writer's turn as a run does (its transaction
	// writes, though it never commits); rollback gives it back.
	if err := s.takeTurn(ctx); err != nil {
		return nil, fmt.Errorf("store: begin check: %w", err)
	}
	r := &sqliteRun{s: s, check: true}
	if err := s.openRun(ctx, r); err != nil {
		return nil, fmt.Errorf("store: begin check: %w", err)
	}
	started := now()
	r.started, _ = time.Parse(time.RFC3339Nano, started)
	res, err := r.conn.ExecContext(ctx, `INSERT INTO runs(kind, inputs, status, started) VALUES (?, ?, ?, ?)`, kind, inputs, RunOpen, started)
	if err == nil {
		r.id, err = res.LastInsertId()
	}
	if err != nil {
		r.rollback()
		return nil, fmt.Errorf("store: begin check: %w", err)
	}
	return r, nil
}

// openRun gives r a connection of its own for its whole write
// transaction, with the hot insert prepared on it as a driver statement
// (see RecordLines); everything else goes through the same connection
// with database/sql. The caller holds the writer's turn; on an error
// openRun gives it back.
func (s *SQLite) openRun(ctx context.Context, r *sqliteRun) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		s.endTurn()
		return err
	}
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		conn.Close()
		s.endTurn()
		return err
	}
	r.conn = conn
	if r.ins, r.insExec, err = prepareExec(ctx, conn, insertSentLine); err != nil {
		r.rollback()
		return err
	}
	return nil
}

// sqliteRun is a run's write transaction on a connection of its own.
type sqliteRun struct {
	s       *SQLite
	id      int64
	conn    *sql.Conn
	ins     driver.Stmt // insertSentLine, prepared on conn; used only inside conn.Raw
	insExec driver.StmtExecContext
	args    [6]driver.NamedValue
	done    bool
	// askedPending: whether any line is pending was asked; noPending: none was.
	askedPending, noPending bool
	check                   bool // BeginCheck's: never written, its row rolled back
	// A check run's lines by key (checkLines) and its start (their At).
	seen    map[[16]byte]seenLine
	started time.Time
	// pre is what PrefetchLines found, by high half of the key.
	pre map[int64]prefetched

	// beforeCommit, if set, runs inside the transaction just before it
	// commits (the daemon's ledger records the file as committed with the
	// run); afterCommit, if set, runs after the commit.
	beforeCommit func(ctx context.Context, q queryer, temp, output string) error
	afterCommit  func()
}

func (r *sqliteRun) ID() int64 { return r.id }

func (r *sqliteRun) NextControlNumber(ctx context.Context, scope string) (int64, error) {
	return nextControl(ctx, r.conn, scope)
}

// RecordLines inserts each line with the driver statement directly: at a
// few microseconds per line, database/sql's per-call argument conversion
// and locking are a fifth of the cost. Conflicts (duplicates or rowid
// collisions) are resolved afterwards through database/sql.
func (r *sqliteRun) RecordLines(ctx context.Context, lines []Line) ([]*PriorLine, error) {
	prior := make([]*PriorLine, len(lines))
	if err := r.pendingPrior(ctx, lines, prior); err != nil {
		return nil, err
	}
	if r.check {
		return prior, r.checkLines(ctx, lines, prior)
	}
	var conflicts []int
	// Each insert takes microseconds: they run without the context's
	// cancellation, which costs modernc a watching goroutine a statement;
	// the context is checked between them instead.
	exec := context.WithoutCancel(ctx)
	err := r.conn.Raw(func(any) error {
		a := &r.args
		for i := range a {
			a[i].Ordinal = i + 1
		}
		for i := range lines {
			if prior[i] != nil {
				continue
			}
			l := &lines[i]
			a[0].Value, a[1].Value = l.halves()
			a[2].Value, a[3].Value, a[4].Value, a[5].Value = r.id, l.Control, l.Invoice, l.LineNo
			if err := ctx.Err(); err != nil {
				return err
			}
			res, err := r.insExec.ExecContext(exec, a[:])
			if err != nil {
				return fmt.Errorf("store: record line %s: %w", l.Control, err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				conflicts = append(conflicts, i)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, i := range conflicts {
		l := &lines[i]
		hi, lo := l.halves()
		p, err := resolveConflict(ctx, r.conn, hi, lo, r.id, l)
		if err != nil {
			return nil, err
		}
		prior[i] = p
	}
	return prior, nil
}

// checkLines is RecordLines of a check run, which is rolled back: instead
// of inserting each line (a random B-tree insert), it looks the lines up
// in sent_lines (and sent_line_collisions for a key sharing only the high
// half), pendingBatch keys per query, and remembers them in memory, so
// that a line repeated later in the run is its duplicate as it would be
// once inserted. The outcome is that of the inserts.
func (r *sqliteRun) checkLines(ctx context.Context, lines []Line, prior []*PriorLine) error {
	if r.seen == nil {
		r.seen = map[[16]byte]seenLine{}
	}
	var (
		ask   []int64 // the high halves to look up
		keys  []byte  // ask as a JSON array (one parameter, one statement however many)
		found = map[int64]sentRow{}
	)
	for start := 0; start < len(lines); start += pendingBatch {
		part := lines[start:min(start+pendingBatch, len(lines))]
		ask = ask[:0]
		clear(found)
		for i := range part {
			if prior[start+i] == nil {
				hi, _ := part[i].halves()
				if k, ok := r.pre[hi]; ok { // looked up by PrefetchLines
					if k.sent != nil {
						found[hi] = *k.sent
					}
					continue
				}
				ask = append(ask, hi)
			}
		}
		if len(ask) > 0 {
			keys = jsonKeys(keys, ask)
			if err := lookUpSent(ctx, r.conn, string(keys), found); err != nil {
				return err
			}
		}
		for i := range part {
			if prior[start+i] != nil {
				continue
			}
			l := &part[i]
			if s, ok := r.seen[l.Key]; ok {
				prior[start+i] = &PriorLine{Run: r.id, Control: s.control, Invoice: s.invoice, LineNo: s.lineNo, At: r.started}
				continue
			}
			hi, lo := l.halves()
			if f, ok := found[hi]; ok {
				if f.lo == lo {
					p := f.p
					prior[start+i] = &p
					continue
				}
				p, err := collision(ctx, r.conn, hi, lo)
				if err != nil {
					return fmt.Errorf("store: look up duplicate of %s: %w", l.Control, err)
				}
				if p != nil {
					prior[start+i] = p
					continue
				}
			}
			r.seen[l.Key] = seenLine{control: l.Control, invoice: l.Invoice, lineNo: l.LineNo}
		}
	}
	return nil
}

// collision returns the line of sent_line_collisions under the key (nil
// when none).
func collision(ctx context.Context, q queryer, hi, lo int64) (*PriorLine, error) {
	var p PriorLine
	var started string
	err := q.QueryRowContext(ctx, `SELECT l.run_id, l.control, l.invoice, l.line_no, COALESCE(r.output, ''), r.started
		FROM sent_line_collisions l JOIN runs r ON r.id = l.run_id WHERE l.key_hi = ? AND l.key_lo = ?`, hi, lo).
		Scan(&p.Run, &p.Control, &p.Invoice, &p.LineNo, &p.Output, &started)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.At, _ = time.Parse(time.RFC3339Nano, started)
	return &p, nil
}

// seenLine is a line a check run looked up (sqliteRun.seen).
type seenLine struct{ control, invoice, lineNo string }

// anyPending tells whether any line is pending, asking once per run: the
// run's transaction holds the write lock, so no other writer adds one.
func (r *sqliteRun) anyPending(ctx context.Context) (bool, error) {
	if !r.askedPending {
		var some bool
		if err := r.conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pending_lines)`).Scan(&some); err != nil {
			return false, fmt.Errorf("store: pending lines: %w", err)
		}
		r.askedPending, r.noPending = true, !some
	}
	return !r.noPending, nil
}

func (r *sqliteRun) ReleaseLines(ctx context.Context, lines []Line) error {
	if len(lines) == 0 {
		return nil
	}
	if some, err := r.anyPending(ctx); err != nil || !some {
		return err
	}
	for i := range lines {
		l := &lines[i]
		hi, lo := l.halves()
		if _, err := r.conn.ExecContext(ctx, `DELETE FROM pending_lines WHERE key_hi = ? AND key_lo = ? AND invoice = ? AND line_no = ?`,
			hi, lo, l.Invoice, l.LineNo); err != nil {
			return fmt.Errorf("store: release pending line: %w", err)
		}
	}
	return nil
}

// pendingBatch is how many keys one look-up of pending lines carries.
const pendingBatch = 500

// pendingRow is a row of pending_lines found by its high half.
type pendingRow struct {
	lo              int64
	invoice, lineNo string
}

// lookUpPending adds to found the pending lines of the high halves his.
func lookUpPending(ctx context.Context, q rowQueryer, his []any, found map[int64]pendingRow) error {
	rows, err := q.QueryContext(ctx, `SELECT key_hi, key_lo, invoice, line_no FROM pending_lines
		WHERE key_hi IN (?`+strings.Repeat(", ?", len(his)-1)+`)`, his...)
	if err != nil {
		return fmt.Errorf("store: pending lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var hi int64
		var f pendingRow
		if err := rows.Scan(&hi, &f.lo, &f.invoice, &f.lineNo); err != nil {
			return fmt.Errorf("store: pending lines: %w", err)
		}
		found[hi] = f
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: pending lines: %w", err)
	}
	return nil
}

// sentRow is a row of sent_lines found by its high half: its low half
// and the line it is.
type sentRow struct {
	lo int64
	p  PriorLine
}

// lookUpSent adds to found the sent lines of the high halves in keys (a
// JSON array: one parameter, one statement however many).
func lookUpSent(ctx context.Context, q rowQueryer, keys string, found map[int64]sentRow) error {
	rows, err := q.QueryContext(ctx, `SELECT l.key_hi, l.key_lo, l.run_id, l.control, l.invoice, l.line_no, COALESCE(r.output, ''), r.started
		FROM sent_lines l JOIN runs r ON r.id = l.run_id WHERE l.key_hi IN (SELECT value FROM json_each(?))`, keys)
	if err != nil {
		return fmt.Errorf("store: look up lines: %w", err)
	}
	defer rows.Close()
	var started string
	for rows.Next() {
		var hi int64
		var f sentRow
		if err := rows.Scan(&hi, &f.lo, &f.p.Run, &f.p.Control, &f.p.Invoice, &f.p.LineNo, &f.p.Output, &started); err != nil {
			return fmt.Errorf("store: look up lines: %w", err)
		}
		f.p.At, _ = time.Parse(time.RFC3339Nano, started)
		found[hi] = f
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: look up lines: %w", err)
	}
	return nil
}

// prefetched is what PrefetchLines found under a high half: its pending
// line and, for a check run, its sent line (nil when none).
type prefetched struct {
	pending *pendingRow
	sent    *sentRow
}

// PrefetchLines implements LinePrefetcher: it looks the lines' keys up in
// pending_lines, and for a check run in sent_lines, pendingBatch keys a
// query, so that RecordLines of one line at a time (the judges decide a
// line after the lines before it are recorded) queries nothing more for
// them. It replaces what an earlier call fetched. A line that is its own
// pending line (same key, invoice and line number: the conversion of an
// inbound claim's encounter lines) stops being pending now, before the
// judges read the usage counters, which would otherwise count its usage
// as pending beside its own.
func (r *sqliteRun) PrefetchLines(ctx context.Context, lines []Line) error {
	if r.pre == nil {
		r.pre = map[int64]prefetched{}
	}
	clear(r.pre)
	if len(lines) == 0 {
		return nil
	}
	some, err := r.anyPending(ctx)
	if err != nil || !some && !r.check {
		return err // nothing to look up: an ordinary run's RecordLines asks no more without pending lines
	}
	pending, sent := map[int64]pendingRow{}, map[int64]sentRow{}
	var keys []byte
	for start := 0; start < len(lines); start += pendingBatch {
		part := lines[start:min(start+pendingBatch, len(lines))]
		his, hs := make([]any, len(part)), make([]int64, len(part))
		for i := range part {
			hs[i], _ = part[i].halves()
			his[i] = hs[i]
		}
		keys = jsonKeys(keys, hs)
		clear(pending)
		if some {
			if err := lookUpPending(ctx, r.conn, his, pending); err != nil {
				return err
			}
		}
		clear(sent)
		if r.check {
			if err := lookUpSent(ctx, r.conn, string(keys), sent); err != nil {
				return err
			}
		}
		for i, hi := range hs {
			var k prefetched
			if f, ok := sent[hi]; ok {
				k.sent = &f
			}
			if f, ok := pending[hi]; ok {
				l := &part[i]
				if _, lo := l.halves(); f.lo == lo && f.invoice == l.Invoice && f.lineNo == l.LineNo {
					if _, err := r.conn.ExecContext(ctx, `DELETE FROM pending_lines WHERE key_hi = ?`, hi); err != nil {
						return fmt.Errorf("store: pending line %s: %w", l.Control, err)
					}
				} else {
					k.pending = &f
				}
			}
			r.pre[hi] = k
		}
	}
	return nil
}

// pendingPrior sets prior[i] for each line that repeats a pending line of
// another invoice or line number, and deletes the pending lines the lines
// are.
func (r *sqliteRun) pendingPrior(ctx context.Context, lines []Line, prior []*PriorLine) error {
	if some, err := r.anyPending(ctx); err != nil || !some {
		return err
	}
	for start := 0; start < len(lines); start += pendingBatch {
		part := lines[start:min(start+pendingBatch, len(lines))]
		his := make([]int64, len(part))
		los := make([]int64, len(part))
		var args []any // the keys PrefetchLines did not look up
		pending := map[int64]pendingRow{}
		for i := range part {
			his[i], los[i] = part[i].halves()
			if k, ok := r.pre[his[i]]; ok {
				if k.pending != nil {
					pending[his[i]] = *k.pending
				}
				continue
			}
			args = append(args, his[i])
		}
		if len(args) > 0 {
			if err := lookUpPending(ctx, r.conn, args, pending); err != nil {
				return err
			}
		}
		for i := range part {
			l := &part[i]
			hi, lo := his[i], los[i]
			f, ok := pending[hi]
			if !ok || f.lo != lo {
				continue
			}
			if f.invoice == l.Invoice && f.lineNo == l.LineNo {
				if _, err := r.conn.ExecContext(ctx, `DELETE FROM pending_lines WHERE key_hi = ?`, hi); err != nil {
					return fmt.Errorf("store: pending line %s: %w", l.Control, err)
				}
				delete(pending, hi)
				if k, ok := r.pre[hi]; ok {
					k.pending = nil
					r.pre[hi] = k
				}
				continue
			}
			p := &PriorLine{Invoice: f.invoice, LineNo: f.lineNo, Pending: true}
			var at sql.NullString
			err := r.conn.QueryRowContext(ctx, fmt.Sprintf(selectPendingClaim, "?1"), f.invoice).Scan(&p.Output, &at)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("store: pending line %s: %w", l.Control, err)
			}
			p.At, _ = time.Parse(time.RFC3339Nano, at.String)
			prior[start+i] = p
		}
	}
	return nil
}

// selectPendingClaim finds the file and time a pending line's claim was
// received, by the plan's claim number.
const selectPendingClaim = `SELECT file, received_at FROM (
	SELECT 0 AS o, b.id AS cid, i.id AS iid, b.file, i.received_at FROM inbound_claim_blocks b
		LEFT JOIN inbound_interchanges i ON i.sender = b.sender AND i.isa13 = b.isa13
		WHERE b.batch = substr(CAST(%[1]s AS TEXT), 1, 9) AND b.first_claim <= %[1]s AND b.last_claim >= %[1]s
	UNION ALL
	SELECT 1, c.id, i.id, c.file, i.received_at FROM inbound_claims c
		LEFT JOIN inbound_interchanges i ON i.sender = c.sender AND i.isa13 = c.isa13
		WHERE c.plan_claim = %[1]s
) AS f ORDER BY o, cid DESC, iid DESC LIMIT 1`

// rollback ends the transaction without keeping anything and frees the connection.
func (r *sqliteRun) rollback() {
	if r.done {
		return
	}
	r.done = true
	if r.ins != nil {
		r.conn.Raw(func(any) error { return r.ins.Close() })
	}
	r.conn.ExecContext(context.Background(), `ROLLBACK`)
	r.conn.Close()
	r.s.endTurn()
}

func (r *sqliteRun) Written(ctx context.Context, temp, output string) error {
	if r.done {
		return fmt.Errorf("%w: run %d is closed", ErrNoRun, r.id)
	}
	if r.check {
		r.rollback()
		return fmt.Errorf("%w: run %d is a check", ErrNoRun, r.id)
	}
	status := RunWritten
	if output == "" {
		status = RunCompleted // nothing to rename
	}
	res, err := r.conn.ExecContext(ctx, `UPDATE runs SET status = ?, temp = ?, output = ? WHERE id = ? AND status = ?`,
		status, temp, output, r.id, RunOpen)
	if err != nil {
		r.rollback()
		return fmt.Errorf("store: run %d written: %w", r.id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		r.rollback()
		return fmt.Errorf("%w: run %d", ErrNoRun, r.id)
	}
	if r.beforeCommit != nil {
		if err := r.beforeCommit(ctx, r.conn, temp, output); err != nil {
			r.rollback()
			return fmt.Errorf("store: run %d written: %w", r.id, err)
		}
	}
	r.conn.Raw(func(any) error { return r.ins.Close() })
	if _, err := r.conn.ExecContext(ctx, `COMMIT`); err != nil {
		r.ins = nil
		r.rollback()
		return fmt.Errorf("store: run %d written: %w", r.id, err)
	}
	r.done = true
	r.conn.Close()
	r.s.endTurn()
	if r.afterCommit != nil {
		r.afterCommit()
	}
	return nil
}

func (r *sqliteRun) Abandon(ctx context.Context, reason string) error {
	if r.check {
		r.rollback() // the run's row goes with the rest
		return nil
	}
	if r.done {
		return r.s.AbortRun(ctx, r.id, reason)
	}
	// Nothing of the run was committed: only its row is left to mark.
	r.rollback()
	if err := r.s.takeTurn(ctx); err != nil {
		return fmt.Errorf("store: abort run %d: %w", r.id, err)
	}
	defer r.s.endTurn()
	res, err := r.s.db.ExecContext(ctx, `UPDATE runs SET status = ?, ended = ?, summary = ? WHERE id = ? AND status = ?`,
		RunAborted, now(), reason, r.id, RunOpen)
	if err != nil {
		return fmt.Errorf("store: abort run %d: %w", r.id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: run %d", ErrNoRun, r.id)
	}
	return nil
}

type queryer interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}

func nextControl(ctx context.Context, q queryer, scope string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `INSERT INTO control_numbers(scope, last) VALUES (?, 1)
		ON CONFLICT(scope) DO UPDATE SET last = CASE WHEN last >= ? THEN 1 ELSE last + 1 END
		RETURNING last`, scope, MaxControlNumber).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: control number %s: %w", scope, err)
	}
	return n, nil
}

// resolveConflict handles an insert that hit an existing key_hi: either the
// same line (a duplicate) or a different line sharing the high 64 bits.
func resolveConflict(ctx context.Context, tx queryer, hi, lo, run int64, l *Line) (*PriorLine, error) {
	const q = `SELECT l.run_id, l.control, l.invoice, l.line_no, COALESCE(r.output, ''), r.started
		FROM %s l JOIN runs r ON r.id = l.run_id WHERE l.key_hi = ? AND l.key_lo = ?`
	var p PriorLine
	var started string
	err := tx.QueryRowContext(ctx, fmt.Sprintf(q, "sent_lines"), hi, lo).Scan(&p.Run, &p.Control, &p.Invoice, &p.LineNo, &p.Output, &started)
	if errors.Is(err, sql.ErrNoRows) {
		// A rowid collision with another line: keep this one beside it.
		res, insErr := tx.ExecContext(ctx, `INSERT INTO sent_line_collisions(key_hi, key_lo, run_id, control, invoice, line_no)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, hi, lo, run, l.Control, l.Invoice, l.LineNo)
		if insErr != nil {
			return nil, fmt.Errorf("store: record line %s: %w", l.Control, insErr)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil, nil
		}
		err = tx.QueryRowContext(ctx, fmt.Sprintf(q, "sent_line_collisions"), hi, lo).Scan(&p.Run, &p.Control, &p.Invoice, &p.LineNo, &p.Output, &started)
	}
	if err != nil {
		return nil, fmt.Errorf("store: look up duplicate of %s: %w", l.Control, err)
	}
	p.At, _ = time.Parse(time.RFC3339Nano, started)
	return &p, nil
}

// CompleteRun implements Store. It writes in the single writer's turn, as
// AbortRun does: a run holding the write lock may need the pool's other
// connection for a read, which a write waiting for the lock would hold
// until SQLite's busy timeout failed it.
func (s *SQLite) CompleteRun(ctx context.Context, run int64, summary string) error {
	if err := s.takeTurn(ctx); err != nil {
		return fmt.Errorf("store: complete run %d: %w", run, err)
	}
	defer s.endTurn()
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET status = ?, ended = ?, summary = ? WHERE id = ? AND status IN (?, ?)`,
		RunCompleted, now(), summary, run, RunWritten, RunCompleted)
	if err != nil {
		return fmt.Errorf("store: complete run %d: %w", run, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: run %d", ErrNoRun, run)
	}
	return nil
}

// AbortRun implements Store, in the single writer's turn (see CompleteRun).
func (s *SQLite) AbortRun(ctx context.Context, run int64, reason string) error {
	if err := s.takeTurn(ctx); err != nil {
		return fmt.Errorf("store: abort run %d: %w", run, err)
	}
	defer s.endTurn()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: abort run %d: %w", run, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, ended = ?, summary = ? WHERE id = ? AND status IN (?, ?)`,
		RunAborted, now(), reason, run, RunOpen, RunWritten)
	if err != nil {
		return fmt.Errorf("store: abort run %d: %w", run, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: run %d", ErrNoRun, run)
	}
	for _, t := range []string{"sent_lines", "sent_line_collisions", "sent_claims", "encounter_submissions"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE run_id = ?`, run); err != nil {
			return fmt.Errorf("store: abort run %d: %w", run, err)
		}
	}
	return tx.Commit()
}

func (s *SQLite) PendingRuns(ctx context.Context) ([]RunInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, status, started, inputs, COALESCE(temp, ''), COALESCE(output, '')
		FROM runs WHERE status IN (?, ?) ORDER BY id`, RunOpen, RunWritten)
	if err != nil {
		return nil, fmt.Errorf("store: pending runs: %w", err)
	}
	defer rows.Close()
	var out []RunInfo
	for rows.Next() {
		var r RunInfo
		var started string
		if err := rows.Scan(&r.ID, &r.Kind, &r.Status, &started, &r.Inputs, &r.Temp, &r.Output); err != nil {
			return nil, fmt.Errorf("store: pending runs: %w", err)
		}
		r.Started, _ = time.Parse(time.RFC3339Nano, started)
		out = append(out, r)
	}
	return out, rows.Err()
}
