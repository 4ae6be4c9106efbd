// Package store keeps the gateway's state: persistent X12 control numbers,
// conversion runs, every encounter line sent (for duplicate detection), the
// daemon's file ledger, and the enrollment data of the plan's feeds (834
// members, authorizations, other programs, usage counters). SQLite is the
// embedded default; PostgreSQL serves several gateway instances sharing
// their state, with the same behaviour (store/storetest runs one suite
// against both).
//
// Usage counters (authorization units, Community Supports limits) move
// inside a conversion run's transaction, so an abandoned run leaves them
// as they were. On PostgreSQL, where several instances convert at once, a
// run's EnrollmentView takes a transaction-scoped advisory lock on a
// counter's key before it first reads or moves it and holds it until the
// run ends; a second run touching that counter waits, then reads what the
// first committed. No counter is double-counted or granted twice
// (postgres_enrollment.go has the details). SQLite has one writer at a time.
package store

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// Store is the gateway's state.
type Store interface {
	// NextControlNumber reserves and commits the next number of a persistent
	// sequence (1..999999999, wrapping to 1). A reserved number is never
	// handed out again, even when the run that reserved it fails.
	NextControlNumber(ctx context.Context, scope string) (int64, error)

	// BeginRun records a new run and opens its transaction. Until the run
	// is Written, nothing it records is visible to other runs or survives a
	// crash. While a run is open, use its methods, not the Store's.
	BeginRun(ctx context.Context, kind, inputs string) (Run, error)
	// BeginCheck opens a run that is never kept, for a check that judges
	// lines as a run does and throws the result away: its row and all it
	// records exist only inside its transaction, Abandon is its only end
	// and rolls them back without a durable write, and Written fails.
	BeginCheck(ctx context.Context, kind, inputs string) (Run, error)
	// CompleteRun marks a written run done (its output is in place).
	CompleteRun(ctx context.Context, run int64, summary string) error
	// AbortRun marks a run that was written but whose output was lost as
	// aborted and forgets its lines; it also closes out runs a crash left open.
	AbortRun(ctx context.Context, run int64, reason string) error
	// PendingRuns lists runs that neither completed nor aborted (a crash),
	// for the caller to finish (output renamed) or abort.
	PendingRuns(ctx context.Context) ([]RunInfo, error)

	Close() error
}

// Run is an open run: one transaction.
type Run interface {
	ID() int64
	// RecordLines records lines as sent by the run and reports, per line,
	// the earlier line it duplicates (nil when it is new). A line earlier
	// in the same run counts as earlier, and so does a pending line (see
	// InboundClaim.Lines) of another invoice number or line number; a
	// pending line of the same invoice and line number is the line itself,
	// which stops being pending as the run records it.
	RecordLines(ctx context.Context, lines []Line) ([]*PriorLine, error)
	// ReleaseLines ends the pending state of lines the run rejected for a
	// rule: a pending line of the same key, invoice and line number is
	// forgotten when the run commits.
	ReleaseLines(ctx context.Context, lines []Line) error
	// NextControlNumber reserves a number inside the run: if the run is
	// abandoned the number was never used outside it and may be handed out again.
	NextControlNumber(ctx context.Context, scope string) (int64, error)
	// Written commits the run: its output is complete under temp and about
	// to be renamed to output ("" when the run wrote no output file). After
	// Written the caller renames and calls Store.CompleteRun.
	Written(ctx context.Context, temp, output string) error
	// Abandon rolls the run back and marks it aborted.
	Abandon(ctx context.Context, reason string) error
}

// LinePrefetcher is a Run that can look up, in one pass, what its
// RecordLines will need to know of lines it will be given one at a time
// (the judges decide each line after the lines before it are recorded),
// so that those calls query the store no more for them. RecordLines
// decides the same with or without it (the runs of both stores).
type LinePrefetcher interface {
	PrefetchLines(ctx context.Context, lines []Line) error
}

var (
	_ LinePrefetcher = (*sqliteRun)(nil)
	_ LinePrefetcher = (*pgRun)(nil)
)

// Line is an encounter line about to be sent.
type Line struct {
	Key     [16]byte // duplicate-detection identity (rules.KeyOf)
	Control string   // line item control number (837P REF*6R)
	Invoice string   // invoice number, for messages
	LineNo  string   // provider's line number, for messages
	// Uses are the usage counters the line moves once sent (an inbound
	// claim's line: RecordInbound keeps them with its pending line, and
	// they count in every run's usage counters while it is pending).
	Uses []LineUse
}

// LineUse is what a line moves a usage counter by (rules.Use).
type LineUse struct {
	Counter string
	Amount  int64
	Date    civil.Date
}

// halves are the line key's high and low 64 bits as SQLite's signed
// integers (the high half is sent_lines' and pending_lines' rowid).
func (l *Line) halves() (hi, lo int64) {
	return int64(binary.BigEndian.Uint64(l.Key[:8])), int64(binary.BigEndian.Uint64(l.Key[8:]))
}

// PriorLine is the earlier line a new one duplicates.
type PriorLine struct {
	Run     int64
	Control string
	Invoice string
	LineNo  string
	Output  string    // the 837 file it went out in ("" while its run is open)
	At      time.Time // when its run started
	// Pending: the line is not sent yet but waits to be, as a service line
	// of a claim accepted from a provider's 837P (a pending line): Run
	// and Control are zero, Output is the inbound file, At when it was
	// received.
	Pending bool
}

// RunStatus values.
const (
	RunOpen      = "open"
	RunWritten   = "written"
	RunCompleted = "completed"
	RunAborted   = "aborted"
)

// RunInfo describes a run.
type RunInfo struct {
	ID      int64
	Kind    string
	Status  string
	Started time.Time
	Inputs  string // what BeginRun recorded
	Temp    string
	Output  string
}

// ErrNoRun means the run ID is unknown or not in the state the call needs
// (or the run is a check, which is never written).
var ErrNoRun = errors.New("store: no such run in that state")
