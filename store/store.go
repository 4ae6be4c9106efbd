// Package store keeps the gateway's state: persistent X12 control numbers,
// conversion runs, and every encounter line sent (for duplicate detection).
// SQLite is the embedded default; the Store interface is what a PostgreSQL
// implementation satisfies for several gateway instances.
package store

import (
	"context"
	"errors"
	"time"
)

// Store is the gateway's state.
type Store interface {
	// NextControlNumber reserves the next number of a persistent sequence
	// (1..999999999, wrapping to 1). A reserved number is never handed out
	// again, even when the run that reserved it fails.
	NextControlNumber(ctx context.Context, scope string) (int64, error)

	// BeginRun records a new run and returns its ID.
	BeginRun(ctx context.Context, kind, inputs string) (int64, error)
	// RecordLines records lines as sent by run and reports, per line, the
	// earlier line it duplicates (nil when it is new). A line earlier in the
	// same batch or run counts as earlier.
	RecordLines(ctx context.Context, run int64, lines []Line) ([]*PriorLine, error)
	// MarkRunWritten records that run's output is complete under a temporary
	// name and about to be renamed to output.
	MarkRunWritten(ctx context.Context, run int64, temp, output string) error
	// CompleteRun marks run done; its lines count as sent from now on.
	CompleteRun(ctx context.Context, run int64, summary string) error
	// AbortRun forgets run's lines: they were never sent.
	AbortRun(ctx context.Context, run int64, reason string) error
	// PendingRuns lists runs that neither completed nor aborted (a crash),
	// for the caller to finish (output renamed) or abort.
	PendingRuns(ctx context.Context) ([]Run, error)

	Close() error
}

// Line is an encounter line about to be sent.
type Line struct {
	Key     [16]byte // duplicate-detection identity (rules.KeyOf)
	Control string   // line item control number (837P REF*6R)
	Invoice string   // invoice number, for messages
	LineNo  string   // provider's line number, for messages
}

// PriorLine is the earlier line a new one duplicates.
type PriorLine struct {
	Run     int64
	Control string
	Invoice string
	LineNo  string
	Output  string    // the 837 file it went out in ("" while its run is open)
	At      time.Time // when its run started
}

// RunStatus values.
const (
	RunOpen      = "open"
	RunWritten   = "written"
	RunCompleted = "completed"
	RunAborted   = "aborted"
)

// Run is a conversion run.
type Run struct {
	ID      int64
	Kind    string
	Status  string
	Started time.Time
	Inputs  string // what BeginRun recorded
	Temp    string
	Output  string
}

// ErrNoRun means the run ID is unknown or not in the state the call needs.
var ErrNoRun = errors.New("store: no such run in that state")
