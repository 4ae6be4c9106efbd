// Package ingest loads the plan's reference feeds into the state store: 834
// enrollment files (streamed: memory stays flat for multi-GB files), the
// authorization feed and the other-programs feed. `calgw ingest` and the
// daemon call it. Each file is one store transaction, loaded once (by
// content), with a report of every problem beside it (or in the output
// directory) and, for an 834 with implementation-guide errors, a 999
// acknowledgment next to the report. Nothing is silently dropped: every
// member or row read is counted as loaded or rejected.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Store is what an ingest needs of the state store (store.SQLite and
// store.Postgres): a load per file, and the control numbers of the 999s.
type Store interface {
	// BeginEnrollmentLoad starts the one transaction of a file's load; a
	// content loaded before is a *store.AlreadyLoadedError.
	BeginEnrollmentLoad(ctx context.Context, kind, file string, sum [32]byte) (store.EnrollmentLoad, error)
	NextControlNumber(ctx context.Context, scope string) (int64, error)
}

// Job is an ingest of one or more files of one kind.
type Job struct {
	Files  []string
	OutDir string // reports and acknowledgments; "" = beside each input
	Store  Store
	Config *config.Config
	Coding *rules.CodingTable
	Tables *rules.Tables
	Data   *rules.EligibilityTables
	Now    func() time.Time // clock of the 999 envelopes; nil = time.Now
	Log    *slog.Logger
	// Rules is the rule set the stateful invoice rules (pipelines/judges)
	// are built from, for the inbound 837P's levels 6 and 7; nil = none.
	Rules *rules.Set
	// Source names the delivery of the files (the daemon's ledger entry);
	// "" for the CLI. An inbound 837P that repeats only interchanges
	// recorded under the same source is processed again: a retry.
	Source string
}

// ErrUnusable marks a file that cannot be loaded at all (unreadable, not
// the kind asked for, without the template's columns).
var ErrUnusable = errors.New("unusable input")

// Result reports what one file's ingest did.
type Result struct {
	File string
	Kind string
	Err  error // the file is unusable or the load failed (nothing was loaded unless Committed)
	// Committed says the file's load was committed: an Err after it concerns
	// the report or the 999 only.
	Committed bool
	Already   *store.AlreadyLoadedError // the same content was loaded before: nothing to do
	Load      int64                     // the store's load number

	Read     int // members (834) or rows (feeds) read
	Loaded   int
	Rejected int
	Warnings int // problems that did not stop a member or row

	// 834 only.
	Sets, SetsRejected int
	Full               bool
	Cut                int64 // full file: members not listed whose coverage ended
	CutSkipped         string
	Findings           int // implementation-guide findings (errors and warnings)
	Bytes              int64
	// Superseded names the full file loaded before whose period starts
	// after this change file's date: nothing of the file was applied
	// (Loaded is 0), though its load is committed.
	Superseded *store.LoadRef
	// Newer names a change file applied before this older one.
	Newer *store.LoadRef

	Report string // the report's path
	Ack    string // the 999's path, "" when none was written
	Took   time.Duration

	// Inbound 837P only.
	Duplicate string // why the file repeats an interchange received before ("" when it does not): nothing of it was processed
	Forward   string // the accepted claims' encounter lines, "" when none
}

// Summary is a one-line account of the file, counts only (no member data).
func (r *Result) Summary() string {
	var b strings.Builder
	unit := "rows"
	if r.Kind == store.LoadKind834 {
		unit = "members"
	}
	fmt.Fprintf(&b, "%s read=%d loaded=%d rejected=%d warnings=%d", unit, r.Read, r.Loaded, r.Rejected, r.Warnings)
	if r.Kind == store.LoadKind834 {
		fmt.Fprintf(&b, " sets=%d sets_rejected=%d full=%v cut=%d ig_findings=%d", r.Sets, r.SetsRejected, r.Full, r.Cut, r.Findings)
		if r.Superseded != nil {
			fmt.Fprintf(&b, " superseded_by=%d", r.Superseded.Load)
		}
	}
	return b.String()
}

func (j *Job) log() *slog.Logger {
	if j.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return j.Log
}

func (j *Job) memberID() *regexp.Regexp {
	if j.Config != nil {
		if re, err := regexp.Compile(j.Config.Encounters.MemberIDPattern); err == nil {
			return re
		}
	}
	return regexp.MustCompile(rules.DefaultMemberIDPattern)
}

// outPath is where a report or acknowledgment of input goes.
func (j *Job) outPath(input, suffix string) string {
	dir := j.OutDir
	if dir == "" {
		dir = filepath.Dir(input)
	}
	return filepath.Join(dir, filepath.Base(input)+suffix)
}

// tempPrefix names the temporary files of an ingest.
const tempPrefix = ".calgw-ingest-"

// hashFile returns the SHA-256 of a file's content.
func hashFile(path string) ([32]byte, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return [32]byte{}, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return [32]byte{}, 0, err
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, n, nil
}

// report is a CSV report written atomically.
type report struct {
	f    *atomicfile.File
	w    *csv.Writer
	err  error
	cols int // the header's columns
	max  int // problem rows written at most (limits.findings_per_file)
	rows int // problem rows given to row
}

// limits returns the job's configured limits, with their defaults.
func (job *Job) limits() config.Limits {
	if job.Config == nil {
		return config.Limits{}.WithDefaults()
	}
	return job.Config.Limits.WithDefaults()
}

// newReport creates a report of problem rows under header; past max rows
// the rest are counted in one last row.
func newReport(path string, header []string, max int) (*report, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("report directory: %w", err)
	}
	f, err := atomicfile.Create(path, tempPrefix)
	if err != nil {
		return nil, err
	}
	r := &report{f: f, w: csv.NewWriter(f), cols: len(header), max: max}
	if r.err = r.w.Write(header); r.err != nil {
		f.Abort()
		return nil, r.err
	}
	return r, nil
}

func (r *report) row(cells ...string) {
	if r.rows++; r.err == nil && r.rows <= r.max {
		r.err = r.w.Write(cells)
	}
}

func (r *report) commit() error {
	if more := r.rows - r.max; more > 0 && r.err == nil {
		last := make([]string, r.cols)
		last[r.cols-1] = fmt.Sprintf("%d more problem(s) not written (limits.findings_per_file is %d)", more, r.max)
		r.err = r.w.Write(last)
	}
	r.w.Flush()
	if r.err == nil {
		r.err = r.w.Error()
	}
	if r.err != nil {
		r.f.Abort()
		return fmt.Errorf("report %s: %w", r.f.FinalName(), r.err)
	}
	return r.f.Commit()
}

func (r *report) abort() { r.f.Abort() }

func severity(warning bool) string {
	if warning {
		return "warning"
	}
	return "error"
}
