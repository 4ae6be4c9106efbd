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
//	quarantine  outcome decided (unusable): move the source, with the reason;
//	            where it goes is recorded (QuarantinePath) before the move
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

// ScheduleSource is the ledger source of scheduled jobs' entries: their
// path is the job and its period, and they have no source file.
const ScheduleSource = "schedule"

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
	// QuarantinePath is where the quarantine move puts (or put) the source
	// file, recorded before the move ("" until then, and for entries
	// without a source file).
	QuarantinePath string
	Attempts       int // failed attempts so far (any kind)
	Failures       int // failed attempts that count toward quarantine
	LastError      string
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
	// RecordQuarantinePath records where the quarantine move puts the
	// source file (quarantine), before it moves it: an interruption after
	// the move leaves the ledger knowing where the file went.
	RecordQuarantinePath(ctx context.Context, id int64, owner, path string) (*FileEntry, error)
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
	// source file changed while it was read; the daemon records this before
	// it moves the file back to where it was noticed): claimed or
	// processing → queued, without claim path,
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

// DuplicateNote is the note of an entry whose content repeats entry of,
// named name and noticed then.
func DuplicateNote(of int64, name string, noticed time.Time) string {
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

// ---- one implementation on both engines ----

// preCommitStates are the states in which nothing of an entry counts as
// sent yet; a take in one of them starts an attempt (FileEntry.Starts).
const preCommitStates = `('queued', 'claimed', 'processing')`

var pendingStates = []FileState{FileQueued, FileClaimed, FileProcessing, FileCommitted, FileProcessed, FileArchive, FileQuarantine}

const fileColumns = `id, source, path, name, kind, size, mod_time, etag, state, claim_path, work_dir, hash,
	COALESCE(duplicate_of, 0), COALESCE(run_id, 0), run_output, outputs, note, attempts, failures, last_error,
	owner, node, lease_until, noticed, updated, starts, quarantine_path`

// onNode is the condition that an entry's work directory, if it has
// outputs there (committed, processed), is readable by owner $1 on node $2.
const onNode = `(state NOT IN ('committed', 'processed') OR owner IN ('', $1) OR node = $2)`

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

// ledgerConn runs the ledger's statements, written with $1, $2, ...
// placeholders on both engines (the SQLite driver binds $NNN to the NNNth
// argument), on a store's pool, a transaction or an open run of either
// engine. A row that is not there is sql.ErrNoRows on both (pgx's
// ErrNoRows is one).
type ledgerConn interface {
	exec(ctx context.Context, q string, args ...any) error
	queryRow(ctx context.Context, q string, args ...any) rowScanner
}

// ledgerDB is a store's pool, which also lists and begins transactions.
type ledgerDB interface {
	ledgerConn
	query(ctx context.Context, q string, args ...any) (dbRows, error)
	begin(ctx context.Context) (ledgerTx, error)
}

type ledgerTx interface {
	ledgerConn
	commit(ctx context.Context) error
	rollback(ctx context.Context)
}

// ledgerDialect is everything in which the ledger differs between the
// engines (sqliteLedger, pgLedger).
type ledgerDialect struct {
	// at is the SQL of the time at placeholder p, whose argument is
	// fromNow(d): the time d from now (0: now). SQLite: unix milliseconds
	// of the Go clock. PostgreSQL: a TIMESTAMPTZ from the database's clock,
	// so that instances on machines whose clocks differ agree on when a
	// lease expires.
	at      func(p string) string
	fromNow func(d time.Duration) any
	zero    string                // SQL of no time (no lease, no wait)
	seconds func(d string) string // SQL of the difference of two times d, in seconds
	// modTime is a file's modification time as an argument; timeDest and
	// modTimeDest are where a time column and mod_time scan into *t.
	modTime     func(t time.Time) any
	timeDest    func(t *time.Time) any
	modTimeDest func(t *time.Time) any
	greatest    string // the scalar function of the larger of two values
	// shared: several instances use the database at once (PostgreSQL).
	// Their transactions lock the rows they read (FOR UPDATE), and a take
	// skips the rows another one holds; runs have owners and leases as
	// entries do; two instances may race for one content, and the
	// database refuses the second's update as a unique violation
	// (uniqueViolation), after which SetFileContent looks again. SQLite
	// has one instance (the state directory's lock), whose write
	// transactions exclude each other.
	shared          bool
	uniqueViolation func(err error) bool
}

// lock is clause (FOR UPDATE ...) where transactions lock rows they read.
func (d *ledgerDialect) lock(clause string) string {
	if d.shared {
		return " " + clause
	}
	return ""
}

// endStart is the SQL of starts after a take's start ended (FileEntry.Starts).
func (d *ledgerDialect) endStart() string {
	return `CASE WHEN state IN ` + preCommitStates + ` THEN ` + d.greatest + `(starts - 1, 0) ELSE starts END`
}

// scanFile reads a row of fileColumns.
func (d *ledgerDialect) scanFile(r rowScanner) (*FileEntry, error) {
	var e FileEntry
	var state, outputs string
	if err := r.Scan(&e.ID, &e.Source, &e.Path, &e.Name, &e.Kind, &e.Size, d.modTimeDest(&e.ModTime), &e.ETag, &state, &e.ClaimPath,
		&e.WorkDir, &e.Hash, &e.DuplicateOf, &e.RunID, &e.RunOutput, &outputs, &e.Note, &e.Attempts, &e.Failures,
		&e.LastError, &e.Owner, &e.Node, d.timeDest(&e.LeaseUntil), d.timeDest(&e.Noticed), d.timeDest(&e.Updated), &e.Starts,
		&e.QuarantinePath); err != nil {
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

// fileLedger is the Ledger of both stores (embedded in SQLite and
// Postgres): one set of statements on a store's pool, in its dialect.
type fileLedger struct {
	conn ledgerDB
	*ledgerDialect
}

func (l *fileLedger) RegisterFile(ctx context.Context, n FileNotice) (int64, bool, error) {
	q := `INSERT INTO ledger_files(source, path, name, kind, size, mod_time, etag, state, noticed, updated)
		SELECT $1, $2, $3, $4, $5, $6, $7, 'queued', ` + l.at("$8") + `, ` + l.at("$8")
	// The existence check spares the insert (and, on PostgreSQL, a value of
	// the ID sequence) when a poller registers a path again while an
	// earlier entry of it is unfinished; the unique index decides races.
	if n.Once {
		q += ` WHERE NOT EXISTS (SELECT 1 FROM ledger_files WHERE source = $1 AND path = $2)`
	} else {
		q += ` WHERE NOT EXISTS (SELECT 1 FROM ledger_files WHERE source = $1 AND path = $2 AND state NOT IN ` + finalStates + `)`
	}
	q += ` ON CONFLICT DO NOTHING RETURNING id`
	var id int64
	err := l.conn.queryRow(ctx, q, n.Source, n.Path, n.Name, n.Kind, n.Size, l.modTime(n.ModTime), n.ETag, l.fromNow(0)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: register %s:%s: %w", n.Source, n.Path, err)
	}
	return id, true, nil
}

func (l *fileLedger) TakeFile(ctx context.Context, owner, node string, lease time.Duration) (*FileEntry, error) {
	tx, err := l.conn.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: take file: %w", err)
	}
	defer tx.rollback(ctx)
	// SKIP LOCKED: instances taking at once get different entries instead
	// of queueing behind each other's row locks.
	e, err := l.scanFile(tx.queryRow(ctx, `UPDATE ledger_files SET owner = $1, node = $2, lease_until = `+l.at("$4")+`,
		updated = `+l.at("$3")+`, starts = starts + CASE WHEN state IN `+preCommitStates+` THEN 1 ELSE 0 END
		WHERE id = (SELECT id FROM ledger_files WHERE state NOT IN `+finalStates+`
			AND (owner = '' OR owner = $1 OR lease_until < `+l.at("$3")+`) AND `+onNode+`
			AND next_attempt <= `+l.at("$3")+` ORDER BY id LIMIT 1`+l.lock("FOR UPDATE SKIP LOCKED")+`)
		RETURNING `+fileColumns, owner, node, l.fromNow(0), l.fromNow(lease)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: take file: %w", err)
	}
	if l.shared && e.RunID != 0 && (e.State == FileCommitted || e.State == FileProcessed) {
		// Taking over an entry whose run was committed adopts the run, so
		// that the new owner's recovery finishes it.
		if err := tx.exec(ctx, `UPDATE runs SET owner = $1, lease_until = `+l.at("$2")+`
			WHERE id = $3 AND status IN ('open', 'written')`, owner, l.fromNow(lease), e.RunID); err != nil {
			return nil, fmt.Errorf("store: take file %d: adopt run %d: %w", e.ID, e.RunID, err)
		}
	}
	if err := tx.commit(ctx); err != nil {
		return nil, fmt.Errorf("store: take file: %w", err)
	}
	return e, nil
}

func (l *fileLedger) NextFileDue(ctx context.Context, owner, node string) (time.Duration, bool, error) {
	var secs *float64
	err := l.conn.queryRow(ctx, `SELECT `+l.seconds(`MIN(`+l.greatest+`(next_attempt,
			CASE WHEN owner IN ('', $1) THEN `+l.zero+` ELSE lease_until END)) - `+l.at("$3"))+`
		FROM ledger_files WHERE state NOT IN `+finalStates+` AND `+onNode, owner, node, l.fromNow(0)).Scan(&secs)
	if err != nil {
		return 0, false, fmt.Errorf("store: next file due: %w", err)
	}
	if secs == nil {
		return 0, false, nil
	}
	return time.Duration(*secs * float64(time.Second)), true, nil
}

// RenewLeases extends the owner's leases, on a shared database with two
// statements, each its own transaction. They must not share one: a run's
// commit locks its runs row and then its ledger_files row, so a
// transaction locking ledger_files and then runs deadlocks with it.
func (l *fileLedger) RenewLeases(ctx context.Context, owner string, lease time.Duration) error {
	if err := l.conn.exec(ctx, `UPDATE ledger_files SET lease_until = `+l.at("$2")+`
		WHERE owner = $1 AND state NOT IN `+finalStates, owner, l.fromNow(lease)); err != nil {
		return fmt.Errorf("store: renew leases: %w", err)
	}
	if l.shared {
		if err := l.conn.exec(ctx, `UPDATE runs SET lease_until = `+l.at("$2")+`
			WHERE owner = $1 AND status IN ('open', 'written')`, owner, l.fromNow(lease)); err != nil {
			return fmt.Errorf("store: renew leases: %w", err)
		}
	}
	return nil
}

func (l *fileLedger) ReleaseFiles(ctx context.Context, owner string) error {
	err := l.conn.exec(ctx, `UPDATE ledger_files SET owner = '', lease_until = `+l.zero+`, updated = `+l.at("$2")+`,
		starts = `+l.endStart()+`
		WHERE owner = $1 AND state NOT IN `+finalStates+` AND state NOT IN ('committed', 'processed')`, owner, l.fromNow(0))
	if err != nil {
		return fmt.Errorf("store: release files: %w", err)
	}
	return nil
}

// update changes entry id held by owner in one of states on c and returns
// the entry after it; set is the SET clause's assignments, with
// placeholders numbered from $4 ($1 id, $2 owner, $3 now).
func (l *fileLedger) update(ctx context.Context, c ledgerConn, id int64, owner string, states []FileState, set string, args ...any) (*FileEntry, error) {
	names := make([]string, len(states))
	in := make([]string, len(states))
	for i, st := range states {
		names[i], in[i] = string(st), "'"+string(st)+"'"
	}
	e, err := l.scanFile(c.queryRow(ctx, `UPDATE ledger_files SET `+set+`, updated = `+l.at("$3")+`
		WHERE id = $1 AND owner = $2 AND state IN (`+strings.Join(in, ", ")+`) RETURNING `+fileColumns,
		append([]any{id, owner, l.fromNow(0)}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notHeld(id, "want "+strings.Join(names, " or "))
	}
	if err != nil {
		return nil, fmt.Errorf("store: file %d: %w", id, err)
	}
	return e, nil
}

func (l *fileLedger) ClaimFile(ctx context.Context, id int64, owner, claimPath, workDir string) (*FileEntry, error) {
	return l.update(ctx, l.conn, id, owner, []FileState{FileQueued}, `state = 'claimed', claim_path = $4, work_dir = $5`, claimPath, workDir)
}

func (l *fileLedger) SetFileContent(ctx context.Context, id int64, owner, hash, workDir string) (*FileEntry, error) {
	for attempt := 0; ; attempt++ {
		e, err := l.setFileContent(ctx, id, owner, hash, workDir)
		if l.uniqueViolation != nil && l.uniqueViolation(err) && attempt < 3 {
			continue // another instance took the content meanwhile: this one is its duplicate
		}
		return e, err
	}
}

func (l *fileLedger) setFileContent(ctx context.Context, id int64, owner, hash, workDir string) (*FileEntry, error) {
	tx, err := l.conn.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: file %d content: %w", id, err)
	}
	defer tx.rollback(ctx)
	var dup int64
	var dupName string
	var dupNoticed time.Time
	err = tx.queryRow(ctx, `SELECT id, name, noticed FROM ledger_files
		WHERE hash = $1 AND duplicate_of IS NULL AND state IN `+contentStates+` AND id <> $2 ORDER BY id LIMIT 1`,
		hash, id).Scan(&dup, &dupName, l.timeDest(&dupNoticed))
	var e *FileEntry
	switch {
	case errors.Is(err, sql.ErrNoRows):
		e, err = l.update(ctx, tx, id, owner, []FileState{FileClaimed}, `state = 'processing', hash = $4, work_dir = $5`, hash, workDir)
	case err != nil:
		return nil, fmt.Errorf("store: file %d content: %w", id, err)
	default:
		e, err = l.update(ctx, tx, id, owner, []FileState{FileClaimed}, `state = 'archive', hash = $4, work_dir = $5, duplicate_of = $6, note = $7`,
			hash, workDir, dup, DuplicateNote(dup, dupName, dupNoticed))
	}
	if err != nil {
		return nil, err
	}
	if err := tx.commit(ctx); err != nil {
		return nil, fmt.Errorf("store: file %d content: %w", id, err)
	}
	return e, nil
}

// commitRun moves entry id held by owner from processing to committed in
// the transaction of its bound run (BindRuns), on c.
func (l *fileLedger) commitRun(ctx context.Context, c ledgerConn, id int64, owner, workDir string, run int64, output string) error {
	_, err := l.update(ctx, c, id, owner, []FileState{FileProcessing},
		`state = 'committed', run_id = $4, run_output = $5, work_dir = $6`, run, output, workDir)
	return err
}

func (l *fileLedger) FileProcessed(ctx context.Context, id int64, owner string, outputs []FileOutput, note string) (*FileEntry, error) {
	enc, err := encodeOutputs(outputs)
	if err != nil {
		return nil, err
	}
	return l.update(ctx, l.conn, id, owner, []FileState{FileProcessing, FileCommitted},
		`state = 'processed', outputs = $4, note = $5`, enc, note)
}

func (l *fileLedger) FileOutputDelivery(ctx context.Context, id int64, owner string, index int, attempted, delivered bool) error {
	tx, err := l.conn.begin(ctx)
	if err != nil {
		return fmt.Errorf("store: file %d delivery: %w", id, err)
	}
	defer tx.rollback(ctx)
	var outputs string
	err = tx.queryRow(ctx, `SELECT outputs FROM ledger_files WHERE id = $1 AND owner = $2 AND state = 'processed'`+l.lock("FOR UPDATE"),
		id, owner).Scan(&outputs)
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
	if err := tx.exec(ctx, `UPDATE ledger_files SET outputs = $2, updated = `+l.at("$3")+` WHERE id = $1`, id, enc, l.fromNow(0)); err != nil {
		return fmt.Errorf("store: file %d delivery: %w", id, err)
	}
	if err := tx.commit(ctx); err != nil {
		return fmt.Errorf("store: file %d delivery: %w", id, err)
	}
	return nil
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

func (l *fileLedger) DecideFile(ctx context.Context, id int64, owner string, state FileState, note string) (*FileEntry, error) {
	cur, err := l.File(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkDecision(id, cur.State, state); err != nil {
		return nil, err
	}
	return l.update(ctx, l.conn, id, owner, []FileState{cur.State}, `state = $4, note = $5`, string(state), appendNote(cur.Note, note))
}

func (l *fileLedger) RedoFile(ctx context.Context, id int64, owner, reason string) (*FileEntry, error) {
	return l.update(ctx, l.conn, id, owner, []FileState{FileCommitted},
		`state = 'processing', run_id = NULL, run_output = '', note = $4`, "redone: "+reason)
}

func (l *fileLedger) RecordQuarantinePath(ctx context.Context, id int64, owner, path string) (*FileEntry, error) {
	return l.update(ctx, l.conn, id, owner, []FileState{FileQuarantine}, `quarantine_path = $4`, path)
}

func (l *fileLedger) FinishFile(ctx context.Context, id int64, owner string, state FileState, where string) error {
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
	cur, err := l.File(ctx, id)
	if err != nil {
		return err
	}
	_, err = l.update(ctx, l.conn, id, owner, from, `state = $4, note = $5, owner = '', lease_until = `+l.zero,
		string(state), appendNote(cur.Note, where))
	return err
}

func (l *fileLedger) RetryFile(ctx context.Context, id int64, owner, errMsg string, failure bool, delay time.Duration, release bool) (*FileEntry, error) {
	f := 0
	if failure {
		f = 1
	}
	return l.update(ctx, l.conn, id, owner, pendingStates,
		`attempts = attempts + 1, failures = failures + $4, last_error = $5, next_attempt = `+l.at("$6")+`,
		starts = `+l.endStart()+`,
		owner = CASE WHEN $7 AND state NOT IN ('committed', 'processed') THEN '' ELSE owner END`,
		f, errMsg, l.fromNow(delay), release)
}

func (l *fileLedger) ReleaseClaim(ctx context.Context, id int64, owner, note string, delay time.Duration) (*FileEntry, error) {
	cur, err := l.File(ctx, id)
	if err != nil {
		return nil, err
	}
	return l.update(ctx, l.conn, id, owner, []FileState{FileClaimed, FileProcessing},
		`state = 'queued', claim_path = '', work_dir = '', hash = '', note = $4, next_attempt = `+l.at("$5")+`,
		owner = '', lease_until = `+l.zero+`, starts = `+l.greatest+`(starts - 1, 0)`, appendNote(cur.Note, note), l.fromNow(delay))
}

func (l *fileLedger) File(ctx context.Context, id int64) (*FileEntry, error) {
	e, err := l.scanFile(l.conn.queryRow(ctx, `SELECT `+fileColumns+` FROM ledger_files WHERE id = $1`, id))
	return fileFound(e, err, id, sql.ErrNoRows)
}

func (l *fileLedger) Files(ctx context.Context, limit int) ([]FileEntry, error) {
	rows, err := l.conn.query(ctx, filesQuery(fileColumns, limit))
	if err != nil {
		return nil, fmt.Errorf("store: files: %w", err)
	}
	defer rows.Close()
	return readFiles(rows, l.scanFile)
}

func (l *fileLedger) CountFiles(ctx context.Context) (map[FileState]int, error) {
	rows, err := l.conn.query(ctx, countStatesQuery)
	if err != nil {
		return nil, fmt.Errorf("store: count files: %w", err)
	}
	defer rows.Close()
	return readCounts(rows)
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
	// Where a quarantined entry's source file went (FileEntry.QuarantinePath).
	`ALTER TABLE ledger_files ADD COLUMN quarantine_path TEXT NOT NULL DEFAULT ''`,
}

// sqliteLedger is the ledger's SQLite dialect: times are unix milliseconds
// of the Go clock (mod_time: nanoseconds), 0 for none.
var sqliteLedger = &ledgerDialect{
	at:          func(p string) string { return p },
	fromNow:     func(d time.Duration) any { return ms(time.Now().Add(d)) },
	zero:        `0`,
	seconds:     func(d string) string { return `(` + d + `) / 1000.0` },
	modTime:     func(t time.Time) any { return t.UnixNano() },
	timeDest:    func(t *time.Time) any { return unixMS{t} },
	modTimeDest: func(t *time.Time) any { return unixNS{t} },
	greatest:    `MAX`,
}

// unixMS scans a time in unix milliseconds (0: none); unixNS one in unix
// nanoseconds.
type unixMS struct{ t *time.Time }

type unixNS struct{ t *time.Time }

func (u unixMS) Scan(v any) error {
	n, ok := v.(int64)
	if !ok {
		return fmt.Errorf("store: time in milliseconds is %T", v)
	}
	*u.t = fromMS(n)
	return nil
}

func (u unixNS) Scan(v any) error {
	n, ok := v.(int64)
	if !ok {
		return fmt.Errorf("store: time in nanoseconds is %T", v)
	}
	*u.t = time.Unix(0, n).UTC()
	return nil
}

// sqlConn is a ledgerConn on a *sql.DB, a *sql.Tx or an open run's *sql.Conn.
type sqlConn struct{ q queryer }

func (c sqlConn) exec(ctx context.Context, q string, args ...any) error {
	_, err := c.q.ExecContext(ctx, q, args...)
	return err
}

func (c sqlConn) queryRow(ctx context.Context, q string, args ...any) rowScanner {
	return c.q.QueryRowContext(ctx, q, args...)
}

type sqlDB struct {
	sqlConn
	db *sql.DB
}

func newSQLDB(db *sql.DB) sqlDB { return sqlDB{sqlConn{db}, db} }

func (d sqlDB) query(ctx context.Context, q string, args ...any) (dbRows, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (d sqlDB) begin(ctx context.Context) (ledgerTx, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return sqlTx{sqlConn{tx}, tx}, nil
}

type sqlTx struct {
	sqlConn
	tx *sql.Tx
}

func (t sqlTx) commit(context.Context) error { return t.tx.Commit() }

func (t sqlTx) rollback(context.Context) { t.tx.Rollback() }

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
	sr.beforeCommit = func(ctx context.Context, q queryer, temp, output string) error {
		return b.commitRun(ctx, sqlConn{q}, b.file, b.owner, b.workDir, sr.id, output)
	}
	sr.afterCommit = b.afterCommit
	return sr, nil
}
