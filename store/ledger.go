package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The file ledger records every file the daemon takes in, from the moment a
// poller notices it until its source is archived or quarantined. An entry
// moves through these states; each step is one ledger update, so a crash at
// any point leaves an entry that says what is left to do:
//
//	queued      noticed and ready in its source; nobody holds it yet
//	claimed     held by an instance; the source file is at ClaimPath
//	processing  content fetched into the work directory and hashed; unique
//	committed   the processor's run committed (its lines count as sent); its
//	            outputs are in the work directory but not recorded yet
//	processed   outputs recorded; being delivered
//	archive     outcome decided (delivered, or a duplicate): move the source
//	quarantine  outcome decided (unusable): move the source, with the reason
//	archived, quarantined, lost   final
//
// Content is keyed by its SHA-256: an entry whose content matches one that
// was processed (or is being processed) goes straight to archive as a
// duplicate. Quarantined content does not count, so an operator may drop a
// fixed copy again.
//
// Several instances share a ledger through leases: TakeFile hands out one
// entry at a time to an owner, for a lease the owner renews; when it stops
// renewing (a crash), another instance takes the entry over. Entries whose
// outputs sit in an instance's work directory (committed, processed) are only
// taken over by an instance on the same node, which can read them.

// FileState is where a file is in the daemon's processing.
type FileState string

// File states, in order.
const (
	FileQueued      FileState = "queued"
	FileClaimed     FileState = "claimed"
	FileProcessing  FileState = "processing"
	FileCommitted   FileState = "committed"
	FileProcessed   FileState = "processed"
	FileArchive     FileState = "archive"
	FileQuarantine  FileState = "quarantine"
	FileArchived    FileState = "archived"
	FileQuarantined FileState = "quarantined"
	FileLost        FileState = "lost"
)

// Final reports whether nothing is left to do for an entry in state s.
func (s FileState) Final() bool {
	return s == FileArchived || s == FileQuarantined || s == FileLost
}

// finalStates is the SQL list of final states.
const finalStates = `('archived', 'quarantined', 'lost')`

// contentStates are the states in which an entry owns its content hash:
// another entry with the same content is a duplicate of it.
const contentStates = `('processing', 'committed', 'processed', 'archive', 'archived')`

// FileNotice describes a file a poller found ready in a source.
type FileNotice struct {
	Source  string // source name from the configuration
	Path    string // path in the source, relative to its transport root
	Name    string // file name as dropped
	Kind    string // what the route says it is: invoice, 834, ...
	Size    int64
	ModTime time.Time
	ETag    string // S3 only
	// Once registers the path only if it was never registered before, in any
	// state: scheduled jobs use it so that a period runs once.
	Once bool
}

// FileOutput is one output of a processed file and where it goes.
type FileOutput struct {
	Role        string `json:"role"`        // what it is: "encounters", "rejects", "summary", ...
	Destination string `json:"destination"` // destination name from the configuration
	Name        string `json:"name"`        // file name at the destination
	Local       string `json:"local"`       // path in the work directory
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Attempted   bool   `json:"attempted"` // a delivery was started: the destination may hold it
	Delivered   bool   `json:"delivered"`
}

// FileEntry is one file in the ledger.
type FileEntry struct {
	ID      int64
	Source  string
	Path    string // where it was noticed
	Name    string
	Kind    string
	Size    int64
	ModTime time.Time
	ETag    string

	State       FileState
	ClaimPath   string // where the source file is while held ("" before the claim)
	WorkDir     string // the holder's local work directory for the entry
	Hash        string // hex SHA-256 of the content ("" before the fetch)
	DuplicateOf int64  // the entry whose content this one repeats, or 0
	RunID       int64  // the processor's store run, once committed
	RunOutput   string // the run's main output file, as the run recorded it
	Outputs     []FileOutput
	Note        string // why it was quarantined, what it duplicates, where it was archived
	Attempts    int    // failed attempts so far (any kind)
	Failures    int    // failed attempts that count toward quarantine
	LastError   string
	// Starts counts the takes of the entry in a pre-commit state (queued,
	// claimed, processing) that have not ended: TakeFile adds one, a
	// recorded retry (RetryFile) or a clean shutdown's release
	// (ReleaseFiles) takes it back. Right after a take, Starts-1 earlier
	// starts ended in a crash of their holder.
	Starts int

	Owner      string // instance holding it ("" when queued or released)
	Node       string // the holder's node (host): who can read its work directory
	LeaseUntil time.Time
	Noticed    time.Time
	Updated    time.Time
}

// HashPrefix is the first 12 hex digits of the content hash, for logs.
func (e *FileEntry) HashPrefix() string {
	if len(e.Hash) > 12 {
		return e.Hash[:12]
	}
	return e.Hash
}

// ErrNotHeld means the caller no longer holds the entry (its lease expired
// and another instance took it over) or the entry is not in the state the
// call expects. The caller must stop working on it.
var ErrNotHeld = errors.New("store: file entry not held by this instance in that state")

// ErrNoFile means the ledger has no entry with that ID.
var ErrNoFile = errors.New("store: no such file in the ledger")

// Ledger is the daemon's file ledger. Every call that changes an entry names
// the owner, and fails with ErrNotHeld unless the owner holds the entry in
// the expected state.
type Ledger interface {
	// RegisterFile queues a file a poller found ready. added is false when
	// the same path of the same source is already in the ledger and not
	// final (or, with Once, was ever registered).
	RegisterFile(ctx context.Context, n FileNotice) (id int64, added bool, err error)
	// TakeFile hands the next entry that is due to owner, for lease: a
	// queued or released entry, one of owner's own whose retry is due, or
	// one whose holder's lease expired (committed and processed entries only
	// to the same node). nil when none is due.
	TakeFile(ctx context.Context, owner, node string, lease time.Duration) (*FileEntry, error)
	// NextFileDue is how long until TakeFile could return an entry for owner
	// (0 or less: now); ok is false when no entry is pending at all.
	NextFileDue(ctx context.Context, owner, node string) (wait time.Duration, ok bool, err error)
	// RenewLeases extends the leases of every pending entry and open run
	// owner holds.
	RenewLeases(ctx context.Context, owner string, lease time.Duration) error
	// ReleaseFiles gives up owner's entries that any instance can continue
	// (those without outputs in owner's work directory), for a clean shutdown.
	ReleaseFiles(ctx context.Context, owner string) error

	// ClaimFile records that the source file was moved to claimPath (for
	// S3, where it stays: its path) and the work directory: queued → claimed.
	ClaimFile(ctx context.Context, id int64, owner, claimPath, workDir string) (*FileEntry, error)
	// SetFileContent records the content hash: claimed → processing, or
	// claimed → archive as a duplicate (DuplicateOf set, Note says of what).
	SetFileContent(ctx context.Context, id int64, owner, hash, workDir string) (*FileEntry, error)
	// BindRuns returns a Store whose runs belong to entry id: a run's commit
	// (Run.Written) also moves the entry processing → committed and records
	// workDir (where the run's outputs are), in the same transaction, and
	// fails with ErrNotHeld when owner no longer holds it. afterCommit, if
	// not nil, is called after that transaction committed.
	BindRuns(id int64, owner, workDir string, afterCommit func()) Store
	// FileProcessed records the outputs: processing or committed → processed.
	FileProcessed(ctx context.Context, id int64, owner string, outputs []FileOutput, note string) (*FileEntry, error)
	// FileOutputDelivery records a delivery step of output index (processed).
	FileOutputDelivery(ctx context.Context, id int64, owner string, index int, attempted, delivered bool) error
	// DecideFile records the outcome, with a note (the reason for
	// quarantine): processed → archive once its outputs are delivered;
	// queued, claimed or processing → quarantine. A committed or processed
	// entry is never quarantined: its lines were sent.
	DecideFile(ctx context.Context, id int64, owner string, state FileState, note string) (*FileEntry, error)
	// RedoFile sends a committed entry whose run was undone back to
	// processing: committed → processing.
	RedoFile(ctx context.Context, id int64, owner, reason string) (*FileEntry, error)
	// FinishFile records the final state: archive → archived, quarantine →
	// quarantined, queued or claimed → lost (the source file vanished).
	// where (the archived or quarantined path, or why it was lost) is added
	// to the note.
	FinishFile(ctx context.Context, id int64, owner string, state FileState, where string) error
	// RetryFile records a failed attempt and when to try again (after
	// delay). failure counts it toward quarantine. release lets any
	// instance take the entry (not for committed or processed entries,
	// whose outputs are in owner's work directory).
	RetryFile(ctx context.Context, id int64, owner, errMsg string, failure bool, delay time.Duration, release bool) (*FileEntry, error)

	// ReleaseClaim gives a claimed or fetched entry back to the queue (its
	// source file changed while it was read, and was moved back to where it
	// was noticed): claimed or processing → queued, without claim path,
	// work directory or hash, for anyone to take after delay. Its start
	// ends (Starts), the note says why. Not for committed entries.
	ReleaseClaim(ctx context.Context, id int64, owner, note string, delay time.Duration) (*FileEntry, error)

	// File returns one entry.
	File(ctx context.Context, id int64) (*FileEntry, error)
	// Files lists entries, newest first, at most limit (0: all).
	Files(ctx context.Context, limit int) ([]FileEntry, error)
	// CountFiles counts entries by state.
	CountFiles(ctx context.Context) (map[FileState]int, error)
}

// LedgerStore is a Store with a file ledger: what the daemon runs on.
type LedgerStore interface {
	Store
	Ledger
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
}

// HexHash formats a SHA-256 sum for the ledger.
func HexHash(sum []byte) string { return hex.EncodeToString(sum) }

func encodeOutputs(outs []FileOutput) (string, error) {
	if outs == nil {
		outs = []FileOutput{}
	}
	b, err := json.Marshal(outs)
	return string(b), err
}

func decodeOutputs(s string) ([]FileOutput, error) {
	var outs []FileOutput
	if s == "" {
		return nil, nil
	}
	if err := json.Unmarshal([]byte(s), &outs); err != nil {
		return nil, fmt.Errorf("store: ledger outputs: %w", err)
	}
	return outs, nil
}

func notHeld(id int64, want string) error {
	return fmt.Errorf("%w: file %d (%s)", ErrNotHeld, id, want)
}

func duplicateNote(of int64, name string, noticed time.Time) string {
	return fmt.Sprintf("duplicate: same content as file %d (%s, noticed %s); not processed again",
		of, name, noticed.UTC().Format(time.RFC3339))
}

func appendNote(note, more string) string {
	switch {
	case more == "":
		return note
	case note == "":
		return more
	}
	return note + "; " + more
}

// checkDecision validates DecideFile's arguments against the current state.
func checkDecision(id int64, cur, next FileState) error {
	switch next {
	case FileArchive:
		// Outputs delivered (duplicates go to archive from SetFileContent).
		if cur == FileProcessed || cur == FileArchive {
			return nil
		}
	case FileQuarantine:
		if cur == FileQueued || cur == FileClaimed || cur == FileProcessing || cur == FileQuarantine {
			return nil
		}
	default:
		return fmt.Errorf("store: file %d: cannot decide %q (want archive or quarantine)", id, next)
	}
	return notHeld(id, fmt.Sprintf("%s cannot go to %s", cur, next))
}

// ---- SQLite ----

// sqliteLedgerMigrations are the SQLite migrations of the ledger
// component, in order (see sqliteComponents in migrate.go).
var sqliteLedgerMigrations = []string{
	`CREATE TABLE ledger_files (
		id           INTEGER PRIMARY KEY AUTOINCREMENT,
		source       TEXT NOT NULL,
		path         TEXT NOT NULL,
		name         TEXT NOT NULL,
		kind         TEXT NOT NULL,
		size         INTEGER NOT NULL,
		mod_time     INTEGER NOT NULL,     -- unix nanoseconds
		etag         TEXT NOT NULL DEFAULT '',
		state        TEXT NOT NULL,
		claim_path   TEXT NOT NULL DEFAULT '',
		work_dir     TEXT NOT NULL DEFAULT '',
		hash         TEXT NOT NULL DEFAULT '',
		duplicate_of INTEGER,
		run_id       INTEGER,
		run_output   TEXT NOT NULL DEFAULT '',
		outputs      TEXT NOT NULL DEFAULT '[]',
		note         TEXT NOT NULL DEFAULT '',
		attempts     INTEGER NOT NULL DEFAULT 0,
		failures     INTEGER NOT NULL DEFAULT 0,
		last_error   TEXT NOT NULL DEFAULT '',
		next_attempt INTEGER NOT NULL DEFAULT 0, -- unix milliseconds
		owner        TEXT NOT NULL DEFAULT '',
		node         TEXT NOT NULL DEFAULT '',
		lease_until  INTEGER NOT NULL DEFAULT 0, -- unix milliseconds
		noticed      INTEGER NOT NULL,           -- unix milliseconds
		updated      INTEGER NOT NULL
	)`,
	// One pending entry per source path: two pollers (or instances)
	// noticing the same file register it once.
	`CREATE UNIQUE INDEX ledger_files_pending_path ON ledger_files(source, path)
		WHERE state NOT IN ` + finalStates,
	// One entry owns each content: the database refuses a second, so a
	// race between instances ends in a duplicate, not two runs.
	`CREATE UNIQUE INDEX ledger_files_content ON ledger_files(hash)
		WHERE hash <> '' AND duplicate_of IS NULL AND state IN ` + contentStates,
	`CREATE INDEX ledger_files_due ON ledger_files(next_attempt) WHERE state NOT IN ` + finalStates,
	`CREATE INDEX ledger_files_path ON ledger_files(source, path)`,
	// Pre-commit starts that have not ended (FileEntry.Starts).
	`ALTER TABLE ledger_files ADD COLUMN starts INTEGER NOT NULL DEFAULT 0`,
}

// preCommitStates are the states in which nothing of an entry counts as
// sent yet; a take in one of them starts an attempt (FileEntry.Starts).
const preCommitStates = `('queued', 'claimed', 'processing')`

const fileColumns = `id, source, path, name, kind, size, mod_time, etag, state, claim_path, work_dir, hash,
	COALESCE(duplicate_of, 0), COALESCE(run_id, 0), run_output, outputs, note, attempts, failures, last_error,
	owner, node, lease_until, noticed, updated, starts`

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

type rowScanner interface{ Scan(dest ...any) error }

// resultRows is what database/sql's and pgx's query results have in
// common, for the ledger listings both stores share.
type resultRows interface {
	rowScanner
	Next() bool
	Err() error
}

// filesQuery lists the ledger's entries, newest first, at most limit (0:
// all), selecting cols.
func filesQuery(cols string, limit int) string {
	q := `SELECT ` + cols + ` FROM ledger_files ORDER BY id DESC`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	return q
}

// readFiles reads the entries of a filesQuery with the store's scan.
func readFiles(rows resultRows, scan func(rowScanner) (*FileEntry, error)) ([]FileEntry, error) {
	var out []FileEntry
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: files: %w", err)
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

// countStatesQuery counts the ledger's entries by state; readCounts reads
// its rows.
const countStatesQuery = `SELECT state, COUNT(*) FROM ledger_files GROUP BY state`

func readCounts(rows resultRows) (map[FileState]int, error) {
	out := map[FileState]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("store: count files: %w", err)
		}
		out[FileState(st)] = n
	}
	return out, rows.Err()
}

// fileFound returns the entry a look-up of file id found, ErrNoFile when
// it found none (err is noRows).
func fileFound(e *FileEntry, err error, id int64, noRows error) (*FileEntry, error) {
	if errors.Is(err, noRows) {
		return nil, fmt.Errorf("%w: %d", ErrNoFile, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: file %d: %w", id, err)
	}
	return e, nil
}

func scanSQLiteFile(r rowScanner) (*FileEntry, error) {
	var e FileEntry
	var mod, lease, noticed, updated int64
	var state, outputs string
	if err := r.Scan(&e.ID, &e.Source, &e.Path, &e.Name, &e.Kind, &e.Size, &mod, &e.ETag, &state, &e.ClaimPath,
		&e.WorkDir, &e.Hash, &e.DuplicateOf, &e.RunID, &e.RunOutput, &outputs, &e.Note, &e.Attempts, &e.Failures,
		&e.LastError, &e.Owner, &e.Node, &lease, &noticed, &updated, &e.Starts); err != nil {
		return nil, err
	}
	e.State = FileState(state)
	e.ModTime = time.Unix(0, mod).UTC()
	e.LeaseUntil, e.Noticed, e.Updated = fromMS(lease), fromMS(noticed), fromMS(updated)
	var err error
	if e.Outputs, err = decodeOutputs(outputs); err != nil {
		return nil, err
	}
	return &e, nil
}

func (s *SQLite) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func (s *SQLite) RegisterFile(ctx context.Context, n FileNotice) (int64, bool, error) {
	t := ms(time.Now())
	q := `INSERT INTO ledger_files(source, path, name, kind, size, mod_time, etag, state, noticed, updated)
		SELECT ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?`
	if n.Once {
		q += ` WHERE NOT EXISTS (SELECT 1 FROM ledger_files WHERE source = ? AND path = ?)`
	}
	q += ` ON CONFLICT DO NOTHING`
	args := []any{n.Source, n.Path, n.Name, n.Kind, n.Size, n.ModTime.UnixNano(), n.ETag, t, t}
	if n.Once {
		args = append(args, n.Source, n.Path)
	}
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, false, fmt.Errorf("store: register %s:%s: %w", n.Source, n.Path, err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return 0, false, nil
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, false, fmt.Errorf("store: register %s:%s: %w", n.Source, n.Path, err)
	}
	return id, true, nil
}

// takeable is the condition TakeFile and NextFileDue share; ?1 owner, ?2 node, ?3 now.
const sqliteTakeable = `state NOT IN ` + finalStates + `
	AND (owner = '' OR owner = ?1 OR lease_until < ?3)
	AND (state NOT IN ('committed', 'processed') OR owner IN ('', ?1) OR node = ?2)`

func (s *SQLite) TakeFile(ctx context.Context, owner, node string, lease time.Duration) (*FileEntry, error) {
	now := time.Now()
	row := s.db.QueryRowContext(ctx, `UPDATE ledger_files SET owner = ?1, node = ?2, lease_until = ?4, updated = ?3,
		starts = starts + CASE WHEN state IN `+preCommitStates+` THEN 1 ELSE 0 END
		WHERE id = (SELECT id FROM ledger_files WHERE `+sqliteTakeable+` AND next_attempt <= ?3 ORDER BY id LIMIT 1)
		RETURNING `+fileColumns, owner, node, ms(now), ms(now.Add(lease)))
	e, err := scanSQLiteFile(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: take file: %w", err)
	}
	return e, nil
}

func (s *SQLite) NextFileDue(ctx context.Context, owner, node string) (time.Duration, bool, error) {
	now := time.Now()
	var next sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MIN(MAX(next_attempt, CASE WHEN owner IN ('', ?1) THEN 0 ELSE lease_until END))
		FROM ledger_files WHERE state NOT IN `+finalStates+`
		AND (state NOT IN ('committed', 'processed') OR owner IN ('', ?1) OR node = ?2)`, owner, node, ms(now)).Scan(&next)
	if err != nil {
		return 0, false, fmt.Errorf("store: next file due: %w", err)
	}
	if !next.Valid {
		return 0, false, nil
	}
	return fromMS(next.Int64).Sub(now), true, nil
}

func (s *SQLite) RenewLeases(ctx context.Context, owner string, lease time.Duration) error {
	_, err := s.db.ExecContext(ctx, `UPDATE ledger_files SET lease_until = ? WHERE owner = ? AND state NOT IN `+finalStates,
		ms(time.Now().Add(lease)), owner)
	if err != nil {
		return fmt.Errorf("store: renew leases: %w", err)
	}
	return nil
}

func (s *SQLite) ReleaseFiles(ctx context.Context, owner string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE ledger_files SET owner = '', lease_until = 0, updated = ?,
		starts = CASE WHEN state IN `+preCommitStates+` THEN MAX(starts - 1, 0) ELSE starts END
		WHERE owner = ? AND state NOT IN `+finalStates+` AND state NOT IN ('committed', 'processed')`, ms(time.Now()), owner)
	if err != nil {
		return fmt.Errorf("store: release files: %w", err)
	}
	return nil
}

// update runs an UPDATE of entry id held by owner in one of states and
// returns the entry after it; set is the SET clause's assignments.
func (s *SQLite) update(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id int64, owner string, states []FileState, set string, args ...any) (*FileEntry, error) {
	in := make([]string, len(states))
	for i, st := range states {
		in[i] = "'" + string(st) + "'"
	}
	args = append(args, ms(time.Now()), id, owner)
	row := q.QueryRowContext(ctx, `UPDATE ledger_files SET `+set+`, updated = ?
		WHERE id = ? AND owner = ? AND state IN (`+strings.Join(in, ", ")+`) RETURNING `+fileColumns, args...)
	e, err := scanSQLiteFile(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notHeld(id, "want "+strings.Join(in, " or "))
	}
	if err != nil {
		return nil, fmt.Errorf("store: file %d: %w", id, err)
	}
	return e, nil
}

func (s *SQLite) ClaimFile(ctx context.Context, id int64, owner, claimPath, workDir string) (*FileEntry, error) {
	return s.update(ctx, s.db, id, owner, []FileState{FileQueued}, `state = 'claimed', claim_path = ?, work_dir = ?`, claimPath, workDir)
}

func (s *SQLite) SetFileContent(ctx context.Context, id int64, owner, hash, workDir string) (*FileEntry, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: file %d content: %w", id, err)
	}
	defer tx.Rollback()
	var dup int64
	var dupName string
	var dupNoticed int64
	err = tx.QueryRowContext(ctx, `SELECT id, name, noticed FROM ledger_files
		WHERE hash = ? AND duplicate_of IS NULL AND state IN `+contentStates+` AND id <> ? ORDER BY id LIMIT 1`,
		hash, id).Scan(&dup, &dupName, &dupNoticed)
	var e *FileEntry
	switch {
	case errors.Is(err, sql.ErrNoRows):
		e, err = s.update(ctx, tx, id, owner, []FileState{FileClaimed}, `state = 'processing', hash = ?, work_dir = ?`, hash, workDir)
	case err != nil:
		return nil, fmt.Errorf("store: file %d content: %w", id, err)
	default:
		e, err = s.update(ctx, tx, id, owner, []FileState{FileClaimed}, `state = 'archive', hash = ?, work_dir = ?, duplicate_of = ?, note = ?`,
			hash, workDir, dup, duplicateNote(dup, dupName, fromMS(dupNoticed)))
	}
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: file %d content: %w", id, err)
	}
	return e, nil
}

// BindRuns returns a Store whose runs commit entry id as well.
func (s *SQLite) BindRuns(id int64, owner, workDir string, afterCommit func()) Store {
	return &sqliteBound{SQLite: s, file: id, owner: owner, workDir: workDir, afterCommit: afterCommit}
}

// sqliteBound is the Store BindRuns returns. Its runs are the SQLite
// store's own (*sqliteRun), so code that knows them keeps working.
type sqliteBound struct {
	*SQLite
	file        int64
	owner       string
	workDir     string
	afterCommit func()
}

func (b *sqliteBound) BeginRun(ctx context.Context, kind, inputs string) (Run, error) {
	r, err := b.SQLite.BeginRun(ctx, kind, inputs)
	if err != nil {
		return nil, err
	}
	sr := r.(*sqliteRun)
	sr.beforeCommit = func(ctx context.Context, tx queryer, temp, output string) error {
		_, err := b.update(ctx, tx, b.file, b.owner, []FileState{FileProcessing},
			`state = 'committed', run_id = ?, run_output = ?, work_dir = ?`, sr.id, output, b.workDir)
		return err
	}
	sr.afterCommit = b.afterCommit
	return sr, nil
}

func (s *SQLite) FileProcessed(ctx context.Context, id int64, owner string, outputs []FileOutput, note string) (*FileEntry, error) {
	enc, err := encodeOutputs(outputs)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, s.db, id, owner, []FileState{FileProcessing, FileCommitted},
		`state = 'processed', outputs = ?, note = ?`, enc, note)
}

func (s *SQLite) FileOutputDelivery(ctx context.Context, id int64, owner string, index int, attempted, delivered bool) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: file %d delivery: %w", id, err)
	}
	defer tx.Rollback()
	var outputs string
	err = tx.QueryRowContext(ctx, `SELECT outputs FROM ledger_files WHERE id = ? AND owner = ? AND state = 'processed'`, id, owner).Scan(&outputs)
	if errors.Is(err, sql.ErrNoRows) {
		return notHeld(id, "want processed")
	}
	if err != nil {
		return fmt.Errorf("store: file %d delivery: %w", id, err)
	}
	enc, err := markOutput(id, outputs, index, attempted, delivered)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE ledger_files SET outputs = ?, updated = ? WHERE id = ?`, enc, ms(time.Now()), id); err != nil {
		return fmt.Errorf("store: file %d delivery: %w", id, err)
	}
	return tx.Commit()
}

func markOutput(id int64, outputs string, index int, attempted, delivered bool) (string, error) {
	outs, err := decodeOutputs(outputs)
	if err != nil {
		return "", err
	}
	if index < 0 || index >= len(outs) {
		return "", fmt.Errorf("store: file %d has no output %d", id, index)
	}
	outs[index].Attempted = outs[index].Attempted || attempted || delivered
	outs[index].Delivered = outs[index].Delivered || delivered
	return encodeOutputs(outs)
}

func (s *SQLite) DecideFile(ctx context.Context, id int64, owner string, state FileState, note string) (*FileEntry, error) {
	cur, err := s.File(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkDecision(id, cur.State, state); err != nil {
		return nil, err
	}
	return s.update(ctx, s.db, id, owner, []FileState{cur.State}, `state = ?, note = ?`, string(state), appendNote(cur.Note, note))
}

func (s *SQLite) RedoFile(ctx context.Context, id int64, owner, reason string) (*FileEntry, error) {
	return s.update(ctx, s.db, id, owner, []FileState{FileCommitted},
		`state = 'processing', run_id = NULL, run_output = '', note = ?`, "redone: "+reason)
}

func (s *SQLite) FinishFile(ctx context.Context, id int64, owner string, state FileState, where string) error {
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
	cur, err := s.File(ctx, id)
	if err != nil {
		return err
	}
	_, err = s.update(ctx, s.db, id, owner, from, `state = ?, note = ?, owner = '', lease_until = 0`,
		string(state), appendNote(cur.Note, where))
	return err
}

func (s *SQLite) RetryFile(ctx context.Context, id int64, owner, errMsg string, failure bool, delay time.Duration, release bool) (*FileEntry, error) {
	f := 0
	if failure {
		f = 1
	}
	rel := 0
	if release {
		rel = 1
	}
	return s.update(ctx, s.db, id, owner, pendingStates,
		`attempts = attempts + 1, failures = failures + ?, last_error = ?, next_attempt = ?,
		starts = CASE WHEN state IN `+preCommitStates+` THEN MAX(starts - 1, 0) ELSE starts END,
		owner = CASE WHEN ? = 1 AND state NOT IN ('committed', 'processed') THEN '' ELSE owner END`,
		f, errMsg, ms(time.Now().Add(delay)), rel)
}

func (s *SQLite) ReleaseClaim(ctx context.Context, id int64, owner, note string, delay time.Duration) (*FileEntry, error) {
	cur, err := s.File(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, s.db, id, owner, []FileState{FileClaimed, FileProcessing},
		`state = 'queued', claim_path = '', work_dir = '', hash = '', note = ?, next_attempt = ?,
		owner = '', lease_until = 0, starts = MAX(starts - 1, 0)`, appendNote(cur.Note, note), ms(time.Now().Add(delay)))
}

var pendingStates = []FileState{FileQueued, FileClaimed, FileProcessing, FileCommitted, FileProcessed, FileArchive, FileQuarantine}

func (s *SQLite) File(ctx context.Context, id int64) (*FileEntry, error) {
	e, err := scanSQLiteFile(s.db.QueryRowContext(ctx, `SELECT `+fileColumns+` FROM ledger_files WHERE id = ?`, id))
	return fileFound(e, err, id, sql.ErrNoRows)
}

func (s *SQLite) Files(ctx context.Context, limit int) ([]FileEntry, error) {
	rows, err := s.db.QueryContext(ctx, filesQuery(fileColumns, limit))
	if err != nil {
		return nil, fmt.Errorf("store: files: %w", err)
	}
	defer rows.Close()
	return readFiles(rows, scanSQLiteFile)
}

func (s *SQLite) CountFiles(ctx context.Context) (map[FileState]int, error) {
	rows, err := s.db.QueryContext(ctx, countStatesQuery)
	if err != nil {
		return nil, fmt.Errorf("store: count files: %w", err)
	}
	defer rows.Close()
	return readCounts(rows)
}
