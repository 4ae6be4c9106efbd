package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// FileFilter selects ledger entries for the console's file list.
type FileFilter struct {
	Kind   string
	Source string
	State  FileState
	Since  time.Time // noticed at or after (zero: any)
	Until  time.Time // noticed before (zero: any)
	// UploadedBy keeps the files a console user uploaded (0: anyone's).
	UploadedBy int64
	// BeforeID pages: the entries listed after that one (0: from the
	// newest).
	BeforeID int64
	Limit    int // at most (0: 50)
}

// ListFiles lists the entries a filter selects, newest first: by ID, or,
// when the filter bounds the time noticed, by the time noticed and then by
// ID (so that the index on the time noticed gives the order: a day's files
// are not all read and sorted to list the latest).
func (c *Console) ListFiles(ctx context.Context, f FileFilter) ([]FileEntry, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.Kind != "" {
		add(`kind = ?`, f.Kind)
	}
	if f.Source != "" {
		add(`source = ?`, f.Source)
	}
	if f.State != "" {
		add(`state = ?`, string(f.State))
	}
	if !f.Since.IsZero() {
		add(`noticed >= ?`, c.db.timeArg(f.Since))
	}
	if !f.Until.IsZero() {
		add(`noticed < ?`, c.db.timeArg(f.Until))
	}
	byTime := !f.Since.IsZero() || !f.Until.IsZero()
	if f.BeforeID > 0 && byTime {
		where = append(where, `(noticed < (SELECT noticed FROM ledger_files WHERE id = ?)
			OR noticed = (SELECT noticed FROM ledger_files WHERE id = ?) AND id < ?)`)
		args = append(args, f.BeforeID, f.BeforeID, f.BeforeID)
	} else if f.BeforeID > 0 {
		add(`id < ?`, f.BeforeID)
	}
	if f.UploadedBy != 0 {
		add(`EXISTS (SELECT 1 FROM web_uploads u WHERE u.source = ledger_files.source AND u.path = ledger_files.path AND u.user_id = ?)`, f.UploadedBy)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	order := ` ORDER BY id DESC`
	if byTime {
		order = ` ORDER BY noticed DESC, id DESC`
	}
	// The IDs are chosen first (from an index alone when one covers the
	// filter), then only those entries are read.
	ids := `SELECT id FROM ledger_files`
	if len(where) > 0 {
		ids += ` WHERE ` + strings.Join(where, ` AND `)
	}
	ids += order + ` LIMIT ?`
	args = append(args, limit)
	return c.files(ctx, `SELECT `+fileColumns+` FROM ledger_files WHERE id IN (`+ids+`)`+order, args...)
}

func (c *Console) files(ctx context.Context, q string, args ...any) ([]FileEntry, error) {
	rows, err := c.db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: files: %w", err)
	}
	defer rows.Close()
	return readFiles(rows, c.db.scanFile)
}

// File returns a ledger entry by ID (ErrNoFile when none), read like the
// console's other queries (on SQLite, through its read-only connections).
func (c *Console) File(ctx context.Context, id int64) (*FileEntry, error) {
	e, err := c.db.scanFile(c.db.queryRow(ctx, `SELECT `+fileColumns+` FROM ledger_files WHERE id = ?`, id))
	return fileFound(e, err, id, c.db.noRows())
}

// FileOfRun returns the ledger entry whose processor's run is run (nil when none).
func (c *Console) FileOfRun(ctx context.Context, run int64) (*FileEntry, error) {
	fs, err := c.files(ctx, `SELECT `+fileColumns+` FROM ledger_files WHERE run_id = ? ORDER BY id DESC LIMIT 1`, run)
	if err != nil || len(fs) == 0 {
		return nil, err
	}
	return &fs[0], nil
}

// FileByPath returns the latest entry of a source's path (nil when none).
func (c *Console) FileByPath(ctx context.Context, source, path string) (*FileEntry, error) {
	fs, err := c.files(ctx, `SELECT `+fileColumns+` FROM ledger_files WHERE source = ? AND path = ? ORDER BY id DESC LIMIT 1`, source, path)
	if err != nil || len(fs) == 0 {
		return nil, err
	}
	return &fs[0], nil
}

// FilesByNameOrHash lists the entries with that file name, or whose
// content hash is (or, from 12 hex digits, starts with) term.
func (c *Console) FilesByNameOrHash(ctx context.Context, term string) ([]FileEntry, error) {
	q := `SELECT ` + fileColumns + ` FROM ledger_files WHERE name = ? OR hash = ?`
	args := []any{term, strings.ToLower(term)}
	if len(term) >= 12 && len(term) < 64 && isHex(term) {
		lo := strings.ToLower(term)
		q += ` OR (hash >= ? AND hash < ?)`
		args = append(args, lo, lo+"g")
	}
	return c.files(ctx, q+` ORDER BY id DESC LIMIT 50`, args...)
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// KindDay counts the entries of one kind in one state noticed on one day (UTC).
type KindDay struct {
	Day   string
	Kind  string
	State FileState
	Count int
}

// FilesByDay counts the entries noticed since since by day, kind and state.
func (c *Console) FilesByDay(ctx context.Context, since time.Time) ([]KindDay, error) {
	// Grouped by the engine's cheapest day value first; the day number is
	// computed for each group only.
	rows, err := c.db.query(ctx, `SELECT `+c.db.dayNumber("d")+`, kind, state, n FROM (
		SELECT `+c.db.utcDay("noticed")+` AS d, kind, state, COUNT(*) AS n FROM ledger_files WHERE noticed >= ?
		GROUP BY 1, 2, 3) g ORDER BY 1 DESC, 2, 3`, c.db.timeArg(since))
	if err != nil {
		return nil, fmt.Errorf("store: files by day: %w", err)
	}
	defer rows.Close()
	var out []KindDay
	for rows.Next() {
		var d int64
		var kd KindDay
		var st string
		if err := rows.Scan(&d, &kd.Kind, &st, &kd.Count); err != nil {
			return nil, fmt.Errorf("store: files by day: %w", err)
		}
		kd.Day = time.Unix(d*86400, 0).UTC().Format("2006-01-02")
		kd.State = FileState(st)
		out = append(out, kd)
	}
	return out, rows.Err()
}

// Lag is how far behind the daemon is: the entries not final yet and the
// oldest of them.
type Lag struct {
	Pending      int
	OldestNotice time.Time // zero when none is pending
}

// PendingLag measures the lag.
func (c *Console) PendingLag(ctx context.Context) (Lag, error) {
	var l Lag
	var oldest *int64
	err := c.db.queryRow(ctx, `SELECT COUNT(*), MIN(`+c.db.epochMS("noticed")+`) FROM ledger_files WHERE state NOT IN `+finalStates).Scan(&l.Pending, &oldest)
	if err != nil {
		return l, fmt.Errorf("store: lag: %w", err)
	}
	if oldest != nil {
		l.OldestNotice = fromMS(*oldest)
	}
	return l, nil
}

// RecordUpload records that a console user dropped the file at path of source.
func (c *Console) RecordUpload(ctx context.Context, source, path string, user int64) error {
	if _, err := c.db.exec(ctx, `INSERT INTO web_uploads(source, path, user_id, at) VALUES (?, ?, ?, ?)`,
		source, path, user, ms(time.Now())); err != nil {
		return fmt.Errorf("store: record upload %s: %w", path, err)
	}
	return nil
}

// Uploader returns the console user who uploaded the entry (0 when it was
// not uploaded through the console).
func (c *Console) Uploader(ctx context.Context, e *FileEntry) (int64, error) {
	var u int64
	err := c.db.queryRow(ctx, `SELECT user_id FROM web_uploads WHERE source = ? AND path = ?`, e.Source, e.Path).Scan(&u)
	if errors.Is(err, c.db.noRows()) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: uploader of file %d: %w", e.ID, err)
	}
	return u, nil
}

// ErrNotQuarantined means a requeue was asked of an entry that is not quarantined.
var ErrNotQuarantined = errors.New("store: file is not quarantined")

// ErrCannotRequeue means a quarantined entry cannot be queued again: the
// ledger does not know where its source file is, or that path is queued
// already. The error says which entry and why.
var ErrCannotRequeue = errors.New("store: file cannot be requeued")

// interruptedMove is what the daemon's quarantine move notes when it finds
// the source file gone and does not know where it went.
const interruptedMove = "moved before an interruption"

// QuarantinedAt returns where a quarantined entry's source file is: the
// path the quarantine move recorded (QuarantinePath). For an entry
// quarantined before that was recorded it is the path the note ends with
// (FinishFile appended it), unless the note says the move was interrupted.
// "" when the ledger does not know, and for scheduled jobs' entries,
// which have no source file.
func QuarantinedAt(e *FileEntry) string {
	if e.QuarantinePath != "" || e.Source == ScheduleSource {
		return e.QuarantinePath
	}
	where := e.Note
	if i := strings.LastIndex(where, "; "); i >= 0 {
		where = where[i+2:]
	}
	if p, ok := strings.CutPrefix(where, "left at "); ok {
		where, _, _ = strings.Cut(p, ":")
	}
	if strings.HasPrefix(where, interruptedMove) {
		return ""
	}
	return where
}

// RequeuePath returns the path a requeue of quarantined entry e registers:
// where its source file is (QuarantinedAt), or, for a scheduled job's
// entry, its own path (the job and period, run again). It fails with
// ErrCannotRequeue, naming the entry, when the ledger does not know where
// the file is.
func RequeuePath(e *FileEntry) (string, error) {
	if e.Source == ScheduleSource {
		return e.Path, nil
	}
	if at := QuarantinedAt(e); at != "" {
		return at, nil
	}
	return "", fmt.Errorf("%w: file %d (%s): the ledger does not know where its source file went; find it in source %s's quarantine folder and drop it into the watched folder again",
		ErrCannotRequeue, e.ID, e.Name, e.Source)
}

// RequeueFile queues a quarantined entry again: a new entry of the same
// source, name and kind, for the path RequeuePath gives (for a file, where
// it was quarantined; for a scheduled job, its period again), which the
// daemon takes like any other (its content is not a duplicate:
// quarantined content does not count). The old entry's note names the new
// one.
func (c *Console) RequeueFile(ctx context.Context, id int64) (int64, error) {
	e, err := c.ledger.File(ctx, id)
	if err != nil {
		return 0, err
	}
	if e.State != FileQuarantined {
		return 0, fmt.Errorf("%w: file %d is %s", ErrNotQuarantined, id, e.State)
	}
	at, err := RequeuePath(e)
	if err != nil {
		return 0, err
	}
	// Without Once: a scheduled job's period was registered before, and is
	// registered again on purpose.
	nid, added, err := c.ledger.RegisterFile(ctx, FileNotice{Source: e.Source, Path: at, Name: e.Name, Kind: e.Kind, Size: e.Size, ModTime: e.ModTime})
	if err != nil {
		return 0, err
	}
	if !added {
		return 0, fmt.Errorf("%w: file %d (%s): %s is already queued", ErrCannotRequeue, id, e.Name, at)
	}
	if _, err := c.db.exec(ctx, `UPDATE ledger_files SET note = ? || note WHERE id = ?`, fmt.Sprintf("requeued as file %d; ", nid), id); err != nil {
		return 0, fmt.Errorf("store: file %d: %w", id, err)
	}
	return nid, nil
}
