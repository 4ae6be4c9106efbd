package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	"modernc.org/sqlite"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// The enrollment component keeps what the plan's feeds say about members:
// 834 enrollment (one row per member, its spans encoded in one column, see
// enrollment_codec.go), the authorization feed, the other-programs feed,
// the usage counters of the authorization and Community Supports limits,
// and a record of every file loaded (a file is loaded once).

// sqliteEnrollmentMigrations are the SQLite migrations of the enrollment
// component, in order (see sqliteComponents in migrate.go).
var sqliteEnrollmentMigrations = []string{
	`CREATE TABLE enrollment_loads (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		kind        TEXT NOT NULL,  -- 834, auth, other_programs
		file        TEXT NOT NULL,  -- base name
		sha256      TEXT NOT NULL,
		interchange TEXT NOT NULL,  -- 834: ISA06/ISA13 of the first interchange
		started     TEXT NOT NULL,
		finished    TEXT NOT NULL,
		summary     TEXT NOT NULL
	)`,
	`CREATE UNIQUE INDEX enrollment_loads_content ON enrollment_loads(kind, sha256)`,
	// Members are appended in file order (rowid) with a unique index on
	// the CIN key: a new member costs an append and a small index
	// insert, whatever order the file lists members in.
	`CREATE TABLE enrollment_members (
		id      INTEGER PRIMARY KEY,
		cin_key INTEGER NOT NULL UNIQUE,
		load_id INTEGER NOT NULL,
		data    BLOB NOT NULL
	)`,
	`CREATE TABLE enrollment_auths (
		number       TEXT PRIMARY KEY,
		cin_key      INTEGER NOT NULL,
		cin          TEXT NOT NULL,
		service      TEXT NOT NULL,
		provider_npi TEXT NOT NULL,
		pof          TEXT NOT NULL,
		status       TEXT NOT NULL,
		type         TEXT NOT NULL,
		start        INTEGER NOT NULL,
		end          INTEGER NOT NULL,
		units        INTEGER,          -- thousandths; NULL = no limit
		decided      INTEGER NOT NULL,
		communicated INTEGER NOT NULL,
		load_id      INTEGER NOT NULL,
		source       TEXT NOT NULL     -- file and row
	)`,
	`CREATE INDEX enrollment_auths_member ON enrollment_auths(cin_key)`,
	`CREATE TABLE enrollment_programs (
		cin_key INTEGER NOT NULL,
		cin     TEXT NOT NULL,
		program TEXT NOT NULL,
		start   INTEGER NOT NULL,
		end     INTEGER NOT NULL,
		source  TEXT NOT NULL,
		load_id INTEGER NOT NULL,
		PRIMARY KEY (cin_key, program, start)
	) WITHOUT ROWID`,
	// Usage counters move inside a conversion run's transaction: an
	// abandoned run leaves them as they were.
	`CREATE TABLE enrollment_usage (
		key      TEXT PRIMARY KEY,
		amount   INTEGER NOT NULL,
		first    INTEGER NOT NULL,
		last_run INTEGER NOT NULL
	) WITHOUT ROWID`,
	// An 834's kind, date and plan codes (EnrollmentFile), and the full
	// file that superseded a change file (0: none): see Place.
	`ALTER TABLE enrollment_loads ADD COLUMN file_kind TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE enrollment_loads ADD COLUMN file_date INTEGER NOT NULL DEFAULT 0`,
	`ALTER TABLE enrollment_loads ADD COLUMN plan_codes TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE enrollment_loads ADD COLUMN superseded_by INTEGER NOT NULL DEFAULT 0`,
}

// registerSQLiteFunctions registers the SQL functions of the enrollment
// component with the SQLite driver, once, before the first store opens.
var registerSQLiteFunctions = sync.OnceFunc(func() {
	// calgw_enroll_apply(stored, change, listed) merges a member change into
	// the stored member (NULL for a new one; listed: the change's load has
	// listed the member before, applyScratch.apply); calgw_enroll_cut(stored,
	// from, to, codes) removes [from, to] from the member's spans of the
	// plan codes (encodeCodes); calgw_enroll_overlaps tells whether it has
	// such a span there. They run inside SQLite so that an upsert is one
	// statement.
	sqlite.MustRegisterFunction("calgw_enroll_apply", &sqlite.FunctionImpl{NArgs: 3, Deterministic: true, VolatileArgs: true, Scalar: enrollApply})
	sqlite.MustRegisterFunction("calgw_enroll_cut", &sqlite.FunctionImpl{NArgs: 4, Deterministic: true, VolatileArgs: true, Scalar: enrollCut})
	sqlite.MustRegisterFunction("calgw_enroll_overlaps", &sqlite.FunctionImpl{NArgs: 4, Deterministic: true, VolatileArgs: true, Scalar: enrollOverlaps})
})

// Scratch space for the SQL functions (they may run on both connections).
// Decoded strings are views of the arguments (VolatileArgs): nothing
// decoded outlives the call, the result is encoded before it returns.
type applyScratch struct {
	old, chg domain.EnrollmentChange
	dOld     decoder
	dChg     decoder
	member   domain.Enrollee
	ops      []domain.SpanOp
	codes    []string
	out      []byte
}

var scratchPool = sync.Pool{New: func() any { return &applyScratch{} }}

// reset points d at b, decoding strings as views of it.
func (d *decoder) reset(b []byte) {
	*d = decoder{b: b, alias: true, arena: d.arena[:0]}
}

func blobArg(v driver.Value) ([]byte, bool) {
	switch b := v.(type) {
	case []byte:
		return b, true
	case nil:
		return nil, true
	}
	return nil, false
}

func enrollApply(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	old, ok1 := blobArg(args[0])
	chg, ok2 := blobArg(args[1])
	listed, ok3 := args[2].(int64)
	if !ok1 || !ok2 || !ok3 || chg == nil {
		return nil, errors.New("calgw_enroll_apply: want (blob, blob, integer)")
	}
	s := scratchPool.Get().(*applyScratch)
	defer scratchPool.Put(s)
	out, err := s.apply(old, chg, listed != 0)
	if err != nil {
		return nil, fmt.Errorf("calgw_enroll_apply: %w", err)
	}
	return append([]byte(nil), out...), nil
}

// apply merges the encoded change chg into the encoded member old (nil for
// a new member) and returns the member's new encoding, valid until s is
// used again. listed tells that the load of chg already changed or listed
// the member (a full file with two loops of one member): a full file's cut
// of its period (EnrollmentChange.Replace) then does not take back what the
// earlier loop added.
func (s *applyScratch) apply(old, chg []byte, listed bool) ([]byte, error) {
	s.member = domain.Enrollee{Spans: s.member.Spans[:0]}
	if old != nil {
		s.dOld.reset(old)
		if err := s.dOld.change(&s.old); err != nil {
			return nil, err
		}
		s.member.Apply(&s.old)
	}
	s.dChg.reset(chg)
	if err := s.dChg.change(&s.chg); err != nil {
		return nil, err
	}
	if old != nil && s.member.CIN != s.chg.Enrollee.CIN {
		return nil, errors.New("two CINs share a member key; refusing to merge them")
	}
	if listed {
		s.chg.Replace = false
	}
	s.member.Apply(&s.chg)
	s.out, s.ops = encodeState(s.out[:0], &s.member, s.ops)
	return s.out, nil
}

func dateArgs(args []driver.Value) (from, to civil.Date, err error) {
	f, ok1 := args[0].(int64)
	t, ok2 := args[1].(int64)
	if !ok1 || !ok2 {
		return 0, 0, errors.New("want integer dates")
	}
	return civil.Date(f), civil.Date(t), nil
}

// encodeCodes encodes plan codes for calgw_enroll_cut and
// calgw_enroll_overlaps: each a uvarint length and its bytes.
func encodeCodes(codes []string) []byte {
	b := []byte{}
	for _, c := range codes {
		b = appendStr(b, c)
	}
	return b
}

// decodeCodes decodes encodeCodes's bytes into s.codes, as views of b.
func (s *applyScratch) decodeCodes(b []byte) error {
	s.codes = s.codes[:0]
	d := decoder{b: b, alias: true}
	for len(d.b) > 0 && !d.err {
		s.codes = append(s.codes, d.str())
	}
	if d.err {
		return errBadEnrollment
	}
	return nil
}

// cutArgs reads the (blob, from, to, codes) arguments of calgw_enroll_cut
// and calgw_enroll_overlaps, the codes into s.codes.
func (s *applyScratch) cutArgs(args []driver.Value) (old []byte, from, to civil.Date, err error) {
	old, ok1 := blobArg(args[0])
	codes, ok2 := blobArg(args[3])
	from, to, err = dateArgs(args[1:3])
	if !ok1 || !ok2 || old == nil || err != nil {
		return nil, 0, 0, errors.New("want (blob, from, to, codes)")
	}
	return old, from, to, s.decodeCodes(codes)
}

func enrollCut(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	s := scratchPool.Get().(*applyScratch)
	defer scratchPool.Put(s)
	old, from, to, err := s.cutArgs(args)
	if err != nil {
		return nil, fmt.Errorf("calgw_enroll_cut: %w", err)
	}
	out, err := s.cut(old, from, to, s.codes)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), out...), nil
}

// cut removes [from, to] from the spans of the encoded member old whose
// plan code is in codes and returns the member's new encoding, valid until
// s is used again.
func (s *applyScratch) cut(old []byte, from, to civil.Date, codes []string) ([]byte, error) {
	s.dOld.reset(old)
	if err := s.dOld.change(&s.old); err != nil {
		return nil, err
	}
	s.member = domain.Enrollee{Spans: s.member.Spans[:0]}
	s.member.Apply(&s.old)
	s.member.Spans = domain.CutSpans(s.member.Spans, from, to, codes)
	s.out, s.ops = encodeState(s.out[:0], &s.member, s.ops)
	return s.out, nil
}

func enrollOverlaps(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	s := scratchPool.Get().(*applyScratch)
	defer scratchPool.Put(s)
	old, from, to, err := s.cutArgs(args)
	if err != nil {
		return nil, fmt.Errorf("calgw_enroll_overlaps: %w", err)
	}
	yes, err := s.overlaps(old, from, to, s.codes)
	if err != nil {
		return nil, err
	}
	if yes {
		return int64(1), nil
	}
	return int64(0), nil
}

// overlaps tells whether the encoded member old has a span of one of the
// plan codes in [from, to].
func (s *applyScratch) overlaps(old []byte, from, to civil.Date, codes []string) (bool, error) {
	s.dOld.reset(old)
	if err := s.dOld.change(&s.old); err != nil {
		return false, err
	}
	for i := range s.old.Ops {
		op := &s.old.Ops[i]
		if k := op.Kind; (k == domain.SpanUpsert || k == domain.SpanAdd) && op.Span.Overlaps(from, to) && slices.Contains(codes, op.Span.PlanCode) {
			return true, nil
		}
	}
	return false, nil
}

// Enrollment load kinds.
const (
	LoadKind834           = "834"
	LoadKindAuth          = "auth"
	LoadKindOtherPrograms = "other_programs"
)

// AlreadyLoadedError says a file with the same content was loaded before.
type AlreadyLoadedError struct {
	Load int64
	File string // the name it was loaded under
	At   time.Time
}

func (e *AlreadyLoadedError) Error() string {
	return fmt.Sprintf("the same content was already loaded as %s (load %d, %s)", e.File, e.Load, e.At.Format(time.DateTime))
}

// EnrollmentLoad is one feed file being loaded: one transaction, committed
// or rolled back as a whole. Nothing it writes is visible until Commit.
// SQLite and PostgreSQL loads behave alike (store/storetest checks it);
// a load is used by one goroutine at a time.
type EnrollmentLoad interface {
	// ID is the load's number.
	ID() int64
	// PutMember merges one member's change from an 834 into the stored member.
	PutMember(ctx context.Context, c *domain.EnrollmentChange) error
	// TouchMember marks a member as listed by this load without changing
	// it: a full file that lists a member whose loop was rejected must not
	// cut the member's coverage as if it were absent.
	TouchMember(ctx context.Context, cin string) error
	// Savepoint, Release and RollbackTo bracket one transaction set of an
	// 834, so that a set found broken at its end is undone.
	Savepoint(ctx context.Context) error
	Release(ctx context.Context) error
	RollbackTo(ctx context.Context) error
	// CutAbsent applies a full file's period to the members it did not
	// list: [from, to] (to zero = open) is cut out of their spans of the
	// plan codes in codes (the file's; "" for spans without a code), and
	// the spans of other codes stay. No code cuts nothing. It returns how
	// many members lost coverage.
	CutAbsent(ctx context.Context, from, to civil.Date, codes []string) (int64, error)
	// PutAuthorization adds or replaces an authorization (by number): the
	// latest feed row of a number is its current state. A number on file
	// for another member is ErrAuthOtherMember.
	PutAuthorization(ctx context.Context, a *domain.Authorization) error
	// PutProgram adds or replaces a program span (by member, program and start).
	PutProgram(ctx context.Context, p *domain.ProgramSpan) error
	// Place records what an 834 is (its kind, date and plan codes) on the
	// load and says where a change file stands among the 834 loads
	// committed before it (FileOrder). A change file superseded by a full
	// file has what it wrote to the members undone: committed, the load
	// records the file, so that the same content is not loaded again, with
	// nothing of it applied. It is called once, after the last member and
	// before a full file's CutAbsent and Commit.
	Place(ctx context.Context, f EnrollmentFile) (FileOrder, error)
	// Commit records the load as done with its summary (counts only: no
	// member data) and the interchange it carried, and makes it visible.
	Commit(ctx context.Context, interchange, summary string) error
	// Rollback abandons the load: nothing it wrote stays.
	Rollback()
}

// EnrollmentView reads the enrollment tables and moves usage counters
// inside a conversion run's transaction, so that the counters of an
// abandoned run roll back with it. It is used by one goroutine at a time.
type EnrollmentView interface {
	// Run is the ID of the run the view belongs to.
	Run() int64
	// Member returns the member with this CIN (false when none).
	Member(ctx context.Context, cin string) (*domain.Enrollee, bool, error)
	// Authorizations returns the member's authorizations, reusing out.
	Authorizations(ctx context.Context, cin string, out []domain.Authorization) ([]domain.Authorization, error)
	// Programs returns the member's program spans, reusing out.
	Programs(ctx context.Context, cin string, out []domain.ProgramSpan) ([]domain.ProgramSpan, error)
	// Usage returns a usage counter as the run sees it. On PostgreSQL the
	// run holds the counter from then on (see Postgres): another run
	// reading or moving it waits for this run to end.
	Usage(ctx context.Context, key string) (int64, civil.Date, error)
	// AddUsage moves a usage counter by amount; first keeps the earliest date.
	AddUsage(ctx context.Context, key string, amount int64, date civil.Date) error
	// WasSent reports whether a line with this duplicate-detection key was
	// sent (in an earlier run, or earlier in this one).
	WasSent(ctx context.Context, key [16]byte) (bool, error)
}

// sqliteLoad is one feed file being loaded into SQLite: a transaction on
// a connection of its own. Nothing it writes is visible until Commit.
type sqliteLoad struct {
	s       *SQLite
	conn    *sql.Conn
	id      int64
	kind    string
	done    bool
	upsert  driver.Stmt
	upExec  driver.StmtExecContext
	args    [3]driver.NamedValue
	buf     []byte
	members int64
}

// loadPageCacheKiB is the page cache of a connection while it loads a feed:
// enough for the members table's interior pages at millions of members
// (leaf pages come from the OS's cache), small enough that a load of
// 10,000 members and one of 1,000,000 peak at about the same memory.
const loadPageCacheKiB = 4096

const upsertMember = `INSERT INTO enrollment_members(cin_key, load_id, data) VALUES (?1, ?2, ?3)
	ON CONFLICT(cin_key) DO UPDATE SET data = calgw_enroll_apply(data, excluded.data, load_id = excluded.load_id), load_id = excluded.load_id`

// BeginEnrollmentLoad starts loading a feed file of kind (LoadKind834,
// LoadKindAuth, LoadKindOtherPrograms) whose content has the SHA-256 sum.
// A file whose content was loaded before gets an *AlreadyLoadedError.
func (s *SQLite) BeginEnrollmentLoad(ctx context.Context, kind, file string, sum [32]byte) (EnrollmentLoad, error) {
	if err := s.takeTurn(ctx); err != nil {
		return nil, fmt.Errorf("store: begin %s load: %w", kind, err)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		s.endTurn()
		return nil, fmt.Errorf("store: begin %s load: %w", kind, err)
	}
	l := &sqliteLoad{s: s, conn: conn, kind: kind}
	// A load is one transaction of any size: its dirty pages spill to the
	// WAL once the cache is full, so a small cache bounds its memory
	// whatever the file's size (see loadPageCacheKiB).
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = %d`, -loadPageCacheKiB)); err != nil {
		conn.Close()
		s.endTurn()
		return nil, fmt.Errorf("store: begin %s load: %w", kind, err)
	}
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		l.release()
		return nil, fmt.Errorf("store: begin %s load: %w", kind, err)
	}
	hexSum := fmt.Sprintf("%x", sum)
	var prior AlreadyLoadedError
	var at string
	err = conn.QueryRowContext(ctx, `SELECT id, file, finished FROM enrollment_loads WHERE kind = ? AND sha256 = ?`, kind, hexSum).Scan(&prior.Load, &prior.File, &at)
	if err == nil {
		l.Rollback()
		prior.At, _ = time.Parse(time.RFC3339Nano, at)
		return nil, &prior
	}
	if !errors.Is(err, sql.ErrNoRows) {
		l.Rollback()
		return nil, fmt.Errorf("store: begin %s load: %w", kind, err)
	}
	res, err := conn.ExecContext(ctx, `INSERT INTO enrollment_loads(kind, file, sha256, interchange, started, finished, summary) VALUES (?, ?, ?, '', ?, '', '')`,
		kind, file, hexSum, now())
	if err == nil {
		l.id, err = res.LastInsertId()
	}
	if err == nil && kind == LoadKind834 {
		// What the members get from here on is undone when the file is
		// superseded (Place); the load itself stays.
		_, err = conn.ExecContext(ctx, `SAVEPOINT enrollment_file`)
	}
	if err != nil {
		l.Rollback()
		return nil, fmt.Errorf("store: begin %s load: %w", kind, err)
	}
	return l, nil
}

// ID is the load's number.
func (l *sqliteLoad) ID() int64 { return l.id }

// PutMember applies one member's change from an 834: one statement.
func (l *sqliteLoad) PutMember(ctx context.Context, c *domain.EnrollmentChange) error {
	if l.upsert == nil {
		var err error
		if l.upsert, l.upExec, err = prepareExec(ctx, l.conn, upsertMember); err != nil {
			return fmt.Errorf("store: prepare member upsert: %w", err)
		}
	}
	l.buf = encodeChange(l.buf[:0], c)
	return l.conn.Raw(func(any) error {
		a := &l.args
		a[0] = driver.NamedValue{Ordinal: 1, Value: CINKey(c.Enrollee.CIN)}
		a[1] = driver.NamedValue{Ordinal: 2, Value: l.id}
		a[2] = driver.NamedValue{Ordinal: 3, Value: l.buf}
		if _, err := l.upExec.ExecContext(ctx, a[:]); err != nil {
			return fmt.Errorf("store: member at load %d: %w", l.id, err)
		}
		l.members++
		return nil
	})
}

// TouchMember marks a member as listed by this load without changing it: a
// full file that lists a member whose loop was rejected must not cut the
// member's coverage as if it were absent.
func (l *sqliteLoad) TouchMember(ctx context.Context, cin string) error {
	_, err := l.conn.ExecContext(ctx, `UPDATE enrollment_members SET load_id = ? WHERE cin_key = ?`, l.id, CINKey(cin))
	return err
}

// Savepoint, Release and RollbackTo bracket one transaction set of an 834,
// so that a set found broken at its end is undone.
func (l *sqliteLoad) Savepoint(ctx context.Context) error {
	_, err := l.conn.ExecContext(ctx, `SAVEPOINT enrollment_set`)
	return err
}

// Release keeps what the set loaded.
func (l *sqliteLoad) Release(ctx context.Context) error {
	_, err := l.conn.ExecContext(ctx, `RELEASE enrollment_set`)
	return err
}

// RollbackTo undoes what the set loaded.
func (l *sqliteLoad) RollbackTo(ctx context.Context) error {
	if _, err := l.conn.ExecContext(ctx, `ROLLBACK TO enrollment_set`); err != nil {
		return err
	}
	_, err := l.conn.ExecContext(ctx, `RELEASE enrollment_set`)
	return err
}

// CutAbsent applies a full file's period to the members it did not list:
// [from, to] (to zero = open) is cut out of their spans of the plan codes
// in codes. It returns how many members lost coverage.
func (l *sqliteLoad) CutAbsent(ctx context.Context, from, to civil.Date, codes []string) (int64, error) {
	if len(codes) == 0 {
		return 0, nil
	}
	res, err := l.conn.ExecContext(ctx, `UPDATE enrollment_members SET data = calgw_enroll_cut(data, ?1, ?2, ?4)
		WHERE load_id != ?3 AND calgw_enroll_overlaps(data, ?1, ?2, ?4)`, int64(from), int64(to), l.id, encodeCodes(codes))
	if err != nil {
		return 0, fmt.Errorf("store: full-file cut: %w", err)
	}
	return res.RowsAffected()
}

// ErrAuthOtherMember means an authorization number is on file for another
// member: the feed row is not loaded.
var ErrAuthOtherMember = errors.New("the authorization number is on file for another member")

// PutAuthorization adds or replaces an authorization (by number): the
// latest feed row of a number is its current state.
func (l *sqliteLoad) PutAuthorization(ctx context.Context, a *domain.Authorization) error {
	var units any
	if a.HasUnits {
		units = int64(a.Units)
	}
	res, err := l.conn.ExecContext(ctx, `INSERT INTO enrollment_auths(number, cin_key, cin, service, provider_npi, pof, status, type,
			start, end, units, decided, communicated, load_id, source)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(number) DO UPDATE SET service = excluded.service, provider_npi = excluded.provider_npi, pof = excluded.pof,
			status = excluded.status, type = excluded.type, start = excluded.start, end = excluded.end, units = excluded.units,
			decided = excluded.decided, communicated = excluded.communicated, load_id = excluded.load_id, source = excluded.source
		WHERE cin = excluded.cin`,
		a.Number, CINKey(a.CIN), a.CIN, a.Service, a.ProviderNPI, a.POF, string(a.Status), string(a.Type),
		int64(a.From), int64(a.To), units, int64(a.Decided), int64(a.Communicated), l.id,
		fmt.Sprintf("%s row %d", a.Source.File, a.Source.Row))
	if err != nil {
		return fmt.Errorf("store: authorization %s: %w", a.Number, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrAuthOtherMember
	}
	return nil
}

// PutProgram adds or replaces a program span (by member, program and start).
func (l *sqliteLoad) PutProgram(ctx context.Context, p *domain.ProgramSpan) error {
	_, err := l.conn.ExecContext(ctx, `INSERT INTO enrollment_programs(cin_key, cin, program, start, end, source, load_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(cin_key, program, start) DO UPDATE SET end = excluded.end, source = excluded.source, load_id = excluded.load_id`,
		CINKey(p.CIN), p.CIN, p.Program, int64(p.From), int64(p.To), p.Source, l.id)
	if err != nil {
		return fmt.Errorf("store: program span: %w", err)
	}
	return nil
}

// Place records what an 834 is and says where a change file stands
// among the 834 loads committed before it; a superseded one's member
// changes are undone.
func (l *sqliteLoad) Place(ctx context.Context, f EnrollmentFile) (FileOrder, error) {
	order, err := placeFile(f, func(fileKind string, each func(r LoadRef, codes string) (bool, error)) error {
		rows, err := l.conn.QueryContext(ctx, `SELECT id, file, file_date, plan_codes FROM enrollment_loads
			WHERE kind = ? AND file_kind = ? AND superseded_by = 0 AND id <> ? ORDER BY file_date DESC, id DESC`,
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
		if _, err := l.conn.ExecContext(ctx, `ROLLBACK TO enrollment_file`); err != nil {
			return FileOrder{}, fmt.Errorf("store: undo superseded load %d: %w", l.id, err)
		}
	}
	// What follows (a full file's cut) is not undone: no savepoint to keep.
	if _, err := l.conn.ExecContext(ctx, `RELEASE enrollment_file`); err != nil {
		return FileOrder{}, fmt.Errorf("store: place load %d: %w", l.id, err)
	}
	if _, err := l.conn.ExecContext(ctx, `UPDATE enrollment_loads SET file_kind = ?, file_date = ?, plan_codes = ?, superseded_by = ? WHERE id = ?`,
		f.kind(), int64(f.Date), encodePlanCodes(f.PlanCodes), by, l.id); err != nil {
		return FileOrder{}, fmt.Errorf("store: place load %d: %w", l.id, err)
	}
	return order, nil
}

// Commit records the load as done with its summary (counts only: no
// member data) and the interchange it carried, and makes it visible.
func (l *sqliteLoad) Commit(ctx context.Context, interchange, summary string) error {
	if l.done {
		return errors.New("store: load already finished")
	}
	l.closeStmt()
	if _, err := l.conn.ExecContext(ctx, `UPDATE enrollment_loads SET finished = ?, summary = ?, interchange = ? WHERE id = ?`,
		now(), summary, interchange, l.id); err != nil {
		l.Rollback()
		return fmt.Errorf("store: finish load %d: %w", l.id, err)
	}
	if _, err := l.conn.ExecContext(ctx, `COMMIT`); err != nil {
		l.Rollback()
		return fmt.Errorf("store: commit load %d: %w", l.id, err)
	}
	l.done = true
	return l.release()
}

// release gives the connection back to the pool with the pool's cache size.
func (l *sqliteLoad) release() error {
	l.conn.ExecContext(context.Background(), fmt.Sprintf(`PRAGMA cache_size = %d`, -pageCacheKiB))
	err := l.conn.Close()
	l.s.endTurn()
	return err
}

// Rollback abandons the load: nothing it wrote stays.
func (l *sqliteLoad) Rollback() {
	if l.done {
		return
	}
	l.done = true
	l.closeStmt()
	l.conn.ExecContext(context.Background(), `ROLLBACK`)
	l.release()
}

func (l *sqliteLoad) closeStmt() {
	if l.upsert != nil {
		l.conn.Raw(func(any) error { return l.upsert.Close() })
		l.upsert = nil
	}
}

// EnrollmentStatus says what the feeds have loaded.
type EnrollmentStatus struct {
	Loads834, AuthLoads, ProgramLoads int
	Members                           int64
}

// EnrollmentStatus counts the loads of each kind and the members.
func (s *SQLite) EnrollmentStatus(ctx context.Context) (EnrollmentStatus, error) {
	var st EnrollmentStatus
	rows, err := s.db.QueryContext(ctx, `SELECT kind, count(*) FROM enrollment_loads GROUP BY kind`)
	if err != nil {
		return st, fmt.Errorf("store: enrollment status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var n int
		if err := rows.Scan(&kind, &n); err != nil {
			return st, fmt.Errorf("store: enrollment status: %w", err)
		}
		switch kind {
		case LoadKind834:
			st.Loads834 = n
		case LoadKindAuth:
			st.AuthLoads = n
		case LoadKindOtherPrograms:
			st.ProgramLoads = n
		}
	}
	if err := rows.Err(); err != nil {
		return st, err
	}
	// Members are never deleted, so the largest rowid counts them without a scan.
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(max(id), 0) FROM enrollment_members`).Scan(&st.Members)
	if err != nil {
		return st, fmt.Errorf("store: enrollment status: %w", err)
	}
	return st, nil
}

// Member returns the stored member with this CIN (false when none).
func (s *SQLite) Member(ctx context.Context, cin string) (*domain.Enrollee, bool, error) {
	return readMember(ctx, s.db, cin, nil)
}

type rowQueryer interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

func readMember(ctx context.Context, q rowQueryer, cin string, strs map[string]string) (*domain.Enrollee, bool, error) {
	var data []byte
	err := q.QueryRowContext(ctx, `SELECT data FROM enrollment_members WHERE cin_key = ?`, CINKey(cin)).Scan(&data)
	return memberFound(data, err, sql.ErrNoRows, cin, strs)
}

// memberFound decodes the member row a look-up of cin read (either
// engine's; noRows is its "no row" error): none when there is no row, or
// when the row is another CIN's that shares the hashed key.
func memberFound(data []byte, err, noRows error, cin string, strs map[string]string) (*domain.Enrollee, bool, error) {
	if errors.Is(err, noRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: member: %w", err)
	}
	m, err := decodeMember(data, strs)
	if err != nil {
		return nil, false, err
	}
	if m.CIN != cin { // a hashed key shared by two CINs
		return nil, false, nil
	}
	return m, true, nil
}

// Authorizations returns the stored authorizations of a member.
func (s *SQLite) Authorizations(ctx context.Context, cin string) ([]domain.Authorization, error) {
	return readAuths(ctx, s.db, cin, nil)
}

func readAuths(ctx context.Context, q rowQueryer, cin string, out []domain.Authorization) ([]domain.Authorization, error) {
	rows, err := q.QueryContext(ctx, `SELECT number, cin, service, provider_npi, pof, status, type, start, end, units, decided, communicated, source
		FROM enrollment_auths WHERE cin_key = ? ORDER BY start, number`, CINKey(cin))
	if err != nil {
		return nil, fmt.Errorf("store: authorizations: %w", err)
	}
	defer rows.Close()
	return scanAuths(rows, cin, out)
}

// scanAuths reads the rows of an authorizations query (either engine's:
// number, cin, service, provider_npi, pof, status, type, start, end,
// units, decided, communicated, source), keeping cin's only (the key is a
// hash).
func scanAuths(rows resultRows, cin string, out []domain.Authorization) ([]domain.Authorization, error) {
	out = out[:0]
	for rows.Next() {
		a, err := scanAuth(rows)
		if err != nil {
			return nil, err
		}
		if a.CIN == cin {
			out = append(out, a)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: authorizations: %w", err)
	}
	return out, nil
}

// scanAuth reads the row of an authorizations query rows is on.
func scanAuth(rows resultRows) (domain.Authorization, error) {
	var a domain.Authorization
	var status, typ, source string
	var from, to, decided, comm int64
	var units sql.NullInt64
	if err := rows.Scan(&a.Number, &a.CIN, &a.Service, &a.ProviderNPI, &a.POF, &status, &typ, &from, &to, &units, &decided, &comm, &source); err != nil {
		return a, fmt.Errorf("store: authorizations: %w", err)
	}
	a.Status, a.Type = domain.AuthStatus(status), domain.AuthType(typ)
	a.From, a.To, a.Decided, a.Communicated = civil.Date(from), civil.Date(to), civil.Date(decided), civil.Date(comm)
	a.Units, a.HasUnits = domain.Quantity(units.Int64), units.Valid
	a.Source.File = source
	return a, nil
}

// Programs returns the stored program spans of a member.
func (s *SQLite) Programs(ctx context.Context, cin string) ([]domain.ProgramSpan, error) {
	return readPrograms(ctx, s.db, cin, nil)
}

func readPrograms(ctx context.Context, q rowQueryer, cin string, out []domain.ProgramSpan) ([]domain.ProgramSpan, error) {
	rows, err := q.QueryContext(ctx, `SELECT cin, program, start, end, source FROM enrollment_programs WHERE cin_key = ?`, CINKey(cin))
	if err != nil {
		return nil, fmt.Errorf("store: programs: %w", err)
	}
	defer rows.Close()
	return scanPrograms(rows, cin, out)
}

// scanPrograms reads the rows of a programs query (either engine's: cin,
// program, start, end, source), keeping cin's only.
func scanPrograms(rows resultRows, cin string, out []domain.ProgramSpan) ([]domain.ProgramSpan, error) {
	out = out[:0]
	for rows.Next() {
		p, err := scanProgram(rows)
		if err != nil {
			return nil, err
		}
		if p.CIN == cin {
			out = append(out, p)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: programs: %w", err)
	}
	return out, nil
}

// scanProgram reads the row of a programs query rows is on.
func scanProgram(rows resultRows) (domain.ProgramSpan, error) {
	var p domain.ProgramSpan
	var from, to int64
	if err := rows.Scan(&p.CIN, &p.Program, &from, &to, &p.Source); err != nil {
		return p, fmt.Errorf("store: programs: %w", err)
	}
	p.From, p.To = civil.Date(from), civil.Date(to)
	return p, nil
}

// Usage returns a usage counter as committed (for tests and reports).
func (s *SQLite) Usage(ctx context.Context, key string) (int64, civil.Date, error) {
	return readUsage(ctx, s.db, key)
}

func readUsage(ctx context.Context, q rowQueryer, key string) (int64, civil.Date, error) {
	var amount, first int64
	err := q.QueryRowContext(ctx, `SELECT amount, first FROM enrollment_usage WHERE key = ?`, key).Scan(&amount, &first)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("store: usage: %w", err)
	}
	return amount, civil.Date(first), nil
}

// sqliteView is the EnrollmentView of a SQLite run.
//
// Its queries run as driver statements prepared once per database
// connection (a conversion judges every line: parsing the SQL each time
// would cost more than the lookup).
type sqliteView struct {
	run  int64
	own  *sqliteRun // the run, whose lines WasSent counts too when it is a check
	conn *sql.Conn
	strs map[string]string
	args [4]driver.NamedValue
	dest [13]driver.Value
	memberPrefetch
}

// MemberPrefetcher is an EnrollmentView that can read many members in one
// pass: Member then answers for those CINs without reading the store
// again, the same as it would have (the views of both stores).
type MemberPrefetcher interface {
	// PrefetchMembers reads the members of cins and, as parts asks, their
	// authorizations and program spans, replacing what an earlier call
	// read.
	PrefetchMembers(ctx context.Context, cins []string, parts MemberParts) error
}

// UsagePrefetcher is an EnrollmentView that can read many usage counters
// in one round trip: the PostgreSQL view, where Usage of one counter is a
// round trip of its own. A counter it returns is held by the run from then
// on, as after Usage, and reads the same as Usage would have.
type UsagePrefetcher interface {
	// PrefetchUsage returns the counters of keys as the run sees them (a
	// counter never moved is zero), by key.
	PrefetchUsage(ctx context.Context, keys []string) (map[string]UsageCount, error)
}

// UsageCount is a usage counter's value: the amount and the first date
// of service counted.
type UsageCount struct {
	Amount int64
	First  civil.Date
}

// MemberParts names what PrefetchMembers reads beside the members.
type MemberParts struct {
	Authorizations, Programs bool
}

// memberPrefetch is what a view's PrefetchMembers read: the members
// found, by CIN, among those it was asked (asked), and the parts it was
// asked for.
type memberPrefetch struct {
	pre      map[string]*domain.Enrollee
	asked    map[string]bool
	parts    MemberParts
	auths    map[string][]domain.Authorization
	programs map[string][]domain.ProgramSpan
}

// reset forgets what an earlier call read and returns the keys of cins,
// each CIN once.
func (p *memberPrefetch) reset(cins []string, parts MemberParts) []int64 {
	if p.asked == nil {
		p.pre, p.asked = map[string]*domain.Enrollee{}, map[string]bool{}
		p.auths, p.programs = map[string][]domain.Authorization{}, map[string][]domain.ProgramSpan{}
	}
	clear(p.pre)
	clear(p.asked)
	clear(p.auths)
	clear(p.programs)
	p.parts = parts
	keys := make([]int64, 0, len(cins))
	for _, cin := range cins {
		if !p.asked[cin] {
			p.asked[cin] = true
			keys = append(keys, CINKey(cin))
		}
	}
	return keys
}

// scanMembers keeps the members of rows (data) that were asked.
func (p *memberPrefetch) scanMembers(rows resultRows, strs map[string]string) error {
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return fmt.Errorf("store: members: %w", err)
		}
		m, err := decodeMember(data, strs)
		if err != nil {
			return err
		}
		if p.asked[m.CIN] { // not another CIN sharing the hashed key
			p.pre[m.CIN] = m
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: members: %w", err)
	}
	return nil
}

// scanAuths keeps the authorizations of rows of the CINs asked, in the
// rows' order.
func (p *memberPrefetch) scanAuths(rows resultRows) error {
	for rows.Next() {
		a, err := scanAuth(rows)
		if err != nil {
			return err
		}
		if p.asked[a.CIN] {
			p.auths[a.CIN] = append(p.auths[a.CIN], a)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: authorizations: %w", err)
	}
	return nil
}

// scanPrograms keeps the program spans of rows of the CINs asked, in the
// rows' order.
func (p *memberPrefetch) scanPrograms(rows resultRows) error {
	for rows.Next() {
		s, err := scanProgram(rows)
		if err != nil {
			return err
		}
		if p.asked[s.CIN] {
			p.programs[s.CIN] = append(p.programs[s.CIN], s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: programs: %w", err)
	}
	return nil
}

// member answers for a prefetched CIN (hit false: not prefetched).
func (p *memberPrefetch) member(cin string) (m *domain.Enrollee, hit bool) {
	if !p.asked[cin] {
		return nil, false
	}
	return p.pre[cin], true
}

// authorizations answers for a CIN prefetched with its authorizations.
func (p *memberPrefetch) authorizations(cin string, out []domain.Authorization) ([]domain.Authorization, bool) {
	if !p.parts.Authorizations || !p.asked[cin] {
		return out, false
	}
	return append(out[:0], p.auths[cin]...), true
}

// programsOf answers for a CIN prefetched with its program spans.
func (p *memberPrefetch) programsOf(cin string, out []domain.ProgramSpan) ([]domain.ProgramSpan, bool) {
	if !p.parts.Programs || !p.asked[cin] {
		return out, false
	}
	return append(out[:0], p.programs[cin]...), true
}

var _ MemberPrefetcher = (*sqliteView)(nil)

// ErrNoEnrollmentView means the run is not a run of this package's stores:
// the eligibility rules have no view of it.
var ErrNoEnrollmentView = errors.New("store: the eligibility rules need a run of the SQLite or PostgreSQL store")

// EnrollmentViewOf returns the view of an open run of the SQLite or the
// PostgreSQL store.
func EnrollmentViewOf(run Run) (EnrollmentView, error) {
	switch r := run.(type) {
	case *sqliteRun:
		return &sqliteView{run: r.id, own: r, conn: r.conn, strs: map[string]string{}}, nil
	case *pgRun:
		return newPGView(r), nil
	}
	return nil, fmt.Errorf("%w (got %T)", ErrNoEnrollmentView, run)
}

// Run is the ID of the run the view belongs to.
func (v *sqliteView) Run() int64 { return v.run }

// The view's statements, prepared per driver connection (at most the
// pool's two connections per store) and kept for the connection's life.
const (
	qMember = iota
	qAuths
	qPrograms
	qUsage
	qAddUsage
	nViewQueries
)

var viewSQL = [nViewQueries]string{
	qMember: `SELECT data FROM enrollment_members WHERE cin_key = ?`,
	qAuths: `SELECT number, cin, service, provider_npi, pof, status, type, start, end, units, decided, communicated, source
		FROM enrollment_auths WHERE cin_key = ? ORDER BY start, number`,
	qPrograms: `SELECT cin, program, start, end, source FROM enrollment_programs WHERE cin_key = ?`,
	qUsage: `SELECT COALESCE(sum(amount), 0), COALESCE(min(first), 0) FROM (
		SELECT amount, first FROM enrollment_usage WHERE key = ?1
		UNION ALL SELECT amount, first FROM pending_usage WHERE counter = ?1)`,
	qAddUsage: `INSERT INTO enrollment_usage(key, amount, first, last_run) VALUES (?, ?, ?, ?)
		ON CONFLICT(key) DO UPDATE SET amount = amount + excluded.amount, first = min(first, excluded.first), last_run = excluded.last_run`,
}

var viewStmts sync.Map // driver connection → *[nViewQueries]driver.Stmt

func prepared(ctx context.Context, dc any, q int) (driver.Stmt, error) {
	v, _ := viewStmts.LoadOrStore(dc, new([nViewQueries]driver.Stmt))
	stmts := v.(*[nViewQueries]driver.Stmt)
	if stmts[q] == nil {
		st, err := driverPrepare(ctx, dc, viewSQL[q])
		if err != nil {
			return nil, err
		}
		stmts[q] = st
	}
	return stmts[q], nil
}

// query runs a prepared query and calls row for each row (v.dest holds it).
// The query is a point look-up of microseconds: it runs without the
// context's cancellation, which costs modernc a watching goroutine a query,
// and the context is checked before it instead.
func (v *sqliteView) query(ctx context.Context, q int, row func() error, args ...any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	return v.conn.Raw(func(dc any) error {
		st, err := prepared(ctx, dc, q)
		if err != nil {
			return err
		}
		qc, ok := st.(driver.StmtQueryContext)
		if !ok {
			return fmt.Errorf("driver statement %T cannot query with a context", st)
		}
		for i, a := range args {
			v.args[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
		rows, err := qc.QueryContext(ctx, v.args[:len(args)])
		if err != nil {
			return err
		}
		defer rows.Close()
		dest := v.dest[:len(rows.Columns())]
		for {
			err := rows.Next(dest)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := row(); err != nil {
				return err
			}
		}
	})
}

func asInt(v driver.Value) int64 {
	n, _ := v.(int64)
	return n
}

func asString(v driver.Value) string {
	switch s := v.(type) {
	case string:
		return s
	case []byte:
		return string(s)
	}
	return ""
}

// sqliteAuthsIn reads the authorizations of the CIN keys of a JSON array,
// in the order readAuths reads one member's.
const sqliteAuthsIn = `SELECT number, cin, service, provider_npi, pof, status, type, start, end, units, decided, communicated, source
	FROM enrollment_auths WHERE cin_key IN (SELECT value FROM json_each(?)) ORDER BY start, number`

// jsonKeys writes keys as a JSON array.
func jsonKeys(buf []byte, keys []int64) []byte {
	buf = append(buf[:0], '[')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendInt(buf, k, 10)
	}
	return append(buf, ']')
}

// AuthorizationsOf returns the stored authorizations of those of cins
// that have any, by CIN, each member's as Authorizations returns them:
// 500 CINs a query.
func (s *SQLite) AuthorizationsOf(ctx context.Context, cins []string) (map[string][]domain.Authorization, error) {
	var p memberPrefetch
	all := p.reset(cins, MemberParts{Authorizations: true})
	var keys []byte
	for start := 0; start < len(all); start += pendingBatch {
		keys = jsonKeys(keys, all[start:min(start+pendingBatch, len(all))])
		rows, err := s.db.QueryContext(ctx, sqliteAuthsIn, string(keys))
		if err != nil {
			return nil, fmt.Errorf("store: authorizations: %w", err)
		}
		err = p.scanAuths(rows)
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return p.auths, nil
}

// PrefetchMembers implements MemberPrefetcher: 500 CINs a query.
func (v *sqliteView) PrefetchMembers(ctx context.Context, cins []string, parts MemberParts) error {
	if len(v.strs) > 4096 {
		clear(v.strs)
	}
	all := v.reset(cins, parts)
	var keys []byte
	for start := 0; start < len(all); start += pendingBatch {
		keys = jsonKeys(keys, all[start:min(start+pendingBatch, len(all))])
		err := v.each(sqlitePrefetchSQL, v.strs, func(q string, scan func(resultRows) error) error {
			rows, err := v.conn.QueryContext(ctx, q, string(keys))
			if err != nil {
				return fmt.Errorf("store: members: %w", err)
			}
			defer rows.Close()
			return scan(rows)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// sqlitePrefetchSQL are the queries of PrefetchMembers on SQLite: members,
// authorizations and program spans of a JSON array of CIN keys.
var sqlitePrefetchSQL = [3]string{
	`SELECT data FROM enrollment_members WHERE cin_key IN (SELECT value FROM json_each(?))`,
	sqliteAuthsIn,
	`SELECT cin, program, start, end, source FROM enrollment_programs WHERE cin_key IN (SELECT value FROM json_each(?)) ORDER BY program, start`,
}

// each runs, through query, the queries of sqls (members, authorizations,
// program spans) that the parts asked call for, each with the scan that
// keeps its rows.
func (p *memberPrefetch) each(sqls [3]string, strs map[string]string, query func(q string, scan func(resultRows) error) error) error {
	if err := query(sqls[0], func(r resultRows) error { return p.scanMembers(r, strs) }); err != nil {
		return err
	}
	if p.parts.Authorizations {
		if err := query(sqls[1], p.scanAuths); err != nil {
			return err
		}
	}
	if p.parts.Programs {
		return query(sqls[2], p.scanPrograms)
	}
	return nil
}

// Member returns the member with this CIN (false when none).
func (v *sqliteView) Member(ctx context.Context, cin string) (*domain.Enrollee, bool, error) {
	if m, hit := v.member(cin); hit {
		return m, m != nil, nil
	}
	if len(v.strs) > 4096 {
		clear(v.strs)
	}
	var m *domain.Enrollee
	err := v.query(ctx, qMember, func() error {
		b, _ := v.dest[0].([]byte)
		var err error
		m, err = decodeMember(b, v.strs)
		return err
	}, CINKey(cin))
	if err != nil {
		return nil, false, fmt.Errorf("store: member: %w", err)
	}
	if m == nil || m.CIN != cin { // none, or a hashed key shared by two CINs
		return nil, false, nil
	}
	return m, true, nil
}

// Authorizations returns the member's authorizations, reusing out.
func (v *sqliteView) Authorizations(ctx context.Context, cin string, out []domain.Authorization) ([]domain.Authorization, error) {
	if as, hit := v.authorizations(cin, out); hit {
		return as, nil
	}
	out = out[:0]
	d := &v.dest
	err := v.query(ctx, qAuths, func() error {
		if asString(d[1]) != cin {
			return nil
		}
		a := domain.Authorization{Number: asString(d[0]), CIN: cin, Service: asString(d[2]), ProviderNPI: asString(d[3]), POF: asString(d[4]),
			Status: domain.AuthStatus(asString(d[5])), Type: domain.AuthType(asString(d[6])),
			From: civil.Date(asInt(d[7])), To: civil.Date(asInt(d[8])), Decided: civil.Date(asInt(d[10])), Communicated: civil.Date(asInt(d[11]))}
		if u, ok := d[9].(int64); ok {
			a.Units, a.HasUnits = domain.Quantity(u), true
		}
		a.Source.File = asString(d[12])
		out = append(out, a)
		return nil
	}, CINKey(cin))
	if err != nil {
		return nil, fmt.Errorf("store: authorizations: %w", err)
	}
	return out, nil
}

// Programs returns the member's program spans, reusing out.
func (v *sqliteView) Programs(ctx context.Context, cin string, out []domain.ProgramSpan) ([]domain.ProgramSpan, error) {
	if ps, hit := v.programsOf(cin, out); hit {
		return ps, nil
	}
	out = out[:0]
	d := &v.dest
	err := v.query(ctx, qPrograms, func() error {
		if asString(d[0]) != cin {
			return nil
		}
		out = append(out, domain.ProgramSpan{CIN: cin, Program: asString(d[1]), From: civil.Date(asInt(d[2])), To: civil.Date(asInt(d[3])), Source: asString(d[4])})
		return nil
	}, CINKey(cin))
	if err != nil {
		return nil, fmt.Errorf("store: programs: %w", err)
	}
	return out, nil
}

// Usage returns a usage counter as the run sees it.
func (v *sqliteView) Usage(ctx context.Context, key string) (int64, civil.Date, error) {
	var amount, first int64
	err := v.query(ctx, qUsage, func() error {
		amount, first = asInt(v.dest[0]), asInt(v.dest[1])
		return nil
	}, key)
	if err != nil {
		return 0, 0, fmt.Errorf("store: usage: %w", err)
	}
	return amount, civil.Date(first), nil
}

// AddUsage moves a usage counter by amount; first keeps the earliest date.
func (v *sqliteView) AddUsage(ctx context.Context, key string, amount int64, date civil.Date) error {
	err := v.conn.Raw(func(dc any) error {
		st, err := prepared(ctx, dc, qAddUsage)
		if err != nil {
			return err
		}
		ec, ok := st.(driver.StmtExecContext)
		if !ok {
			return fmt.Errorf("driver statement %T cannot execute with a context", st)
		}
		a := v.args[:4]
		a[0], a[1], a[2], a[3] = driver.NamedValue{Ordinal: 1, Value: key}, driver.NamedValue{Ordinal: 2, Value: amount},
			driver.NamedValue{Ordinal: 3, Value: int64(date)}, driver.NamedValue{Ordinal: 4, Value: v.run}
		_, err = ec.ExecContext(ctx, a)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: usage %s: %w", key, err)
	}
	return nil
}

// WasSent reports whether a line with this duplicate-detection key was
// sent (in an earlier run, or earlier in this one): the limit rules leave
// such a line to DUPLICATE-LINE instead of counting it twice.
func (v *sqliteView) WasSent(ctx context.Context, key [16]byte) (bool, error) {
	if v.own != nil {
		if _, ok := v.own.seen[key]; ok {
			return true, nil
		}
	}
	hi, lo := int64(binary.BigEndian.Uint64(key[:8])), int64(binary.BigEndian.Uint64(key[8:]))
	var n int
	err := v.conn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM sent_lines WHERE key_hi = ?1 AND key_lo = ?2)
		+ (SELECT count(*) FROM sent_line_collisions WHERE key_hi = ?1 AND key_lo = ?2)`, hi, lo).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: sent line: %w", err)
	}
	return n > 0, nil
}
