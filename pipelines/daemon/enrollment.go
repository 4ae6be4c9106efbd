package daemon

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ack"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/pipelines/contracts"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Output roles of the reference-feed processors (834, auth, other_programs,
// roster).
const (
	RoleReport = "report" // <name>.<id>.report.csv: every problem by position, and what was loaded
	RoleAck    = "ack"    // <name>.<id>.999: the 834's 999 (with a TA1 for envelope errors), when the guide found errors
)

// The enrollment feeds: each file is one transaction of the state store's
// enrollment tables (SQLite or PostgreSQL) (pipelines/ingest, the same code as `calgw ingest`),
// loaded once by content hash. The report (and for an 834 with
// implementation-guide errors the 999) goes back to the sender: the
// "responses" destination unless the route says otherwise.
// Report columns of pipelines/ingest (its report834Header and
// reportFeedHeader), for the reports the daemon writes itself when a file
// is not loaded again. TestAlreadyLoadedReportKeepsTheIngestColumns keeps
// them in step.
var (
	report834Columns  = []string{"source_file", "member", "segment", "line", "byte", "loop", "element", "rule_id", "code", "severity", "message"}
	reportFeedColumns = []string{"source_file", "row", "field", "rule_id", "severity", "message"}
)

// enrollmentProcessor loads an 834, an authorization feed or an
// other_programs feed.
type enrollmentProcessor struct {
	kind   string // store.LoadKind834, LoadKindAuth, LoadKindOtherPrograms
	ingest func(context.Context, ingest.Job) []ingest.Result
	st     ingest.Store
	coding *rules.CodingTable
	tables *rules.Tables
	data   *rules.EligibilityTables
	only   *ig.Registry // the 834 table alone, as the ingest validates
}

func newEnrollmentProcessor(kind string, run func(context.Context, ingest.Job) []ingest.Result) func(Env) (Processor, error) {
	return func(env Env) (Processor, error) {
		st, err := storeFor[ingest.Store](env, kind)
		if err != nil {
			return nil, err
		}
		p := &enrollmentProcessor{kind: kind, ingest: run, st: st, coding: env.Rules.Coding, tables: env.Rules.Tables, data: env.Rules.Data}
		if kind == store.LoadKind834 {
			p.only = &ig.Registry{}
			if err := p.only.Register(ig.Spec834); err != nil {
				return nil, err
			}
		}
		return p, nil
	}
}

// Process loads the file in one store transaction of its own (not a store
// run: the load is idempotent by content hash instead).
//
// Once the content is in the store — loaded now, or found loaded before —
// an empty run of job.Store marks the ledger entry committed: from then on
// the file is never quarantined, and a crash is finished by Resume from the
// outputs already written. A crash between the load's commit and that mark
// leaves the entry processing: it is processed again, the ingest finds the
// content "already loaded", and the report says so (with a 999 written
// again when the 834 has implementation-guide errors), so nothing is loaded
// twice and the sender still gets an answer.
func (p *enrollmentProcessor) Process(ctx context.Context, job *Job) (*Result, error) {
	rs := p.ingest(ctx, ingest.Job{
		Files: []string{job.Input}, OutDir: job.OutDir, Store: p.st, Config: job.Config,
		Coding: p.coding, Tables: p.tables, Data: p.data, Log: job.Log,
	})
	if len(rs) != 1 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s ingest of %s returned %d results", p.kind, job.Name, len(rs))
	}
	r := rs[0]
	if r.Err != nil && !r.Committed {
		if errors.Is(r.Err, ingest.ErrUnusable) {
			return nil, unusable("%s", localNamed(r.Err, job))
		}
		return nil, r.Err // nothing was loaded: processed again
	}
	again := r.Already != nil
	if r.Err != nil {
		// Loaded, but the report or the 999 failed: drop what is there and
		// write the short report below, so that a committed entry's report
		// always comes with everything else.
		job.Log.Warn("loaded, but its report or 999 could not be written; writing a short report instead", "load", r.Load, "err", r.Err)
		for _, f := range []string{p.reportPath(job), p.ackPath(job)} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
		}
		again = true
	}
	if r.Committed || r.Already != nil {
		if err := markCommitted(ctx, job, p.kind); err != nil {
			return nil, err
		}
	}
	note := p.note(&r)
	if again {
		if err := p.writeAgain(ctx, job, &r); err != nil {
			return nil, err
		}
	}
	outs, ok := p.outputs(job)
	if !ok {
		return nil, fmt.Errorf("the %s ingest of %s wrote no report", p.kind, job.Name)
	}
	return &Result{Outputs: outs, Note: note}, nil
}

// Resume delivers what a load committed before a crash left in the work
// directory. The entry is marked committed once the ingest's outputs are
// complete, and a short report is written after its 999, so with the
// report there, everything is. Without it (a crash before the short report,
// or outputs lost) the file is processed again, which finds it already
// loaded and writes the short report.
func (p *enrollmentProcessor) Resume(ctx context.Context, job *Job) (*Result, error) {
	outs, ok := p.outputs(job)
	if !ok {
		return nil, fmt.Errorf("%w: the report of %s is not in the work directory", ErrRunUndone, job.Name)
	}
	return &Result{Outputs: outs, Note: "resumed after an interruption: the load had committed"}, nil
}

// reportPath and ackPath are where the ingest writes its outputs (it names
// them after the input, whose local copy has the file's own name).
func (p *enrollmentProcessor) reportPath(job *Job) string {
	return filepath.Join(job.OutDir, filepath.Base(job.Input)+ingest.ReportSuffix)
}

func (p *enrollmentProcessor) ackPath(job *Job) string {
	return filepath.Join(job.OutDir, filepath.Base(job.Input)+ingest.AckSuffix)
}

// outputs lists the report and, when there is one, the 999, named for the
// destination after the input and its ledger ID (as the invoice reports):
// "sunrise-2026-09.834" gives sunrise-2026-09.<id>.report.csv and
// sunrise-2026-09.<id>.999.
func (p *enrollmentProcessor) outputs(job *Job) ([]Output, bool) {
	report := p.reportPath(job)
	if _, err := os.Stat(report); err != nil {
		return nil, false
	}
	stem := outputStem(job)
	outs := []Output{{Role: RoleReport, Path: report, Name: stem + ".report.csv"}}
	if ack := p.ackPath(job); p.kind == store.LoadKind834 {
		if _, err := os.Stat(ack); err == nil {
			outs = append(outs, Output{Role: RoleAck, Path: ack, Name: stem + ".999"})
		}
	}
	return outs, true
}

// note is the ledger's summary of the load: counts only.
func (p *enrollmentProcessor) note(r *ingest.Result) string {
	switch {
	case r.Already != nil:
		return fmt.Sprintf("already loaded as load %d; not loaded again", r.Already.Load)
	case r.Committed && r.Superseded != nil:
		return fmt.Sprintf("%s NOT applied (load %d): superseded by full file load %d: %s", p.kind, r.Load, r.Superseded.Load, r.Summary())
	case r.Committed:
		return fmt.Sprintf("%s loaded (load %d): %s", p.kind, r.Load, r.Summary())
	default:
		return fmt.Sprintf("%s NOT loaded (nothing usable): %s", p.kind, r.Summary())
	}
}

// writeAgain writes the outputs of a file whose load is in the store but
// whose ingest outputs are not: the 999 first (an 834 with
// implementation-guide errors), then a report of one row saying what
// happened.
func (p *enrollmentProcessor) writeAgain(ctx context.Context, job *Job, r *ingest.Result) error {
	wrote999 := false
	if p.kind == store.LoadKind834 {
		var err error
		if wrote999, err = p.write999(ctx, job.Input, p.ackPath(job), r.Already != nil || r.Committed); err != nil {
			return fmt.Errorf("999 for %s: %w", job.Name, err)
		}
	}
	var msg string
	if r.Already != nil {
		msg = r.Already.Error() + "; not loaded again (its problems were reported when it was loaded)"
	} else {
		msg = fmt.Sprintf("loaded (load %d): %s; the detailed report could not be written (see the gateway's log)", r.Load, r.Summary())
	}
	if wrote999 {
		msg += "; the 999 lists the implementation-guide errors"
	}
	if p.kind == store.LoadKind834 {
		return writeCSV(p.reportPath(job), report834Columns, [][]string{{job.Name, "", "", "", "", "", "", "", "", "info", msg}})
	}
	return writeCSV(p.reportPath(job), reportFeedColumns, [][]string{{job.Name, "", "", "", "info", msg}})
}

// write999 writes the 999 of an 834 again, as the ingest does (one pass
// with the acknowledgment writer attached, control numbers from the same
// store sequences, no IK404 copies of values), when the 834 table finds an
// error in it. It reports whether it wrote one. Of a file that is loaded,
// a set rejected only for errors inside its segments was loaded with its
// bad members skipped, as the ingest decided: its IK501 is E.
func (p *enrollmentProcessor) write999(ctx context.Context, input, out string, loaded bool) (bool, error) {
	errs := 0
	if err := validateFile(ctx, input, ig.Options{Registry: p.only, OnFinding: func(f *ig.Finding) {
		if f.Severity == ig.Error {
			errs++
		}
	}}); err != nil {
		return false, err
	}
	if errs == 0 {
		return false, nil
	}
	f, err := atomicfile.Create(out, ".calgw-ack-")
	if err != nil {
		return false, err
	}
	a := ack.New999(x12.NewWriter(f, x12.DefaultDelimiters), ackNumbers{ctx, p.st}, ack.WithoutValues(), ack.WithTA1(), ack.WithSendersDelimiters(),
		ack.WithSetStatus(func(t *ig.TransactionResult) ig.Status {
			if !loaded || t.Status != ig.Rejected {
				return t.Status
			}
			for _, c := range t.Codes {
				if c != ig.SetSegmentErrors && c != ig.SetImplementationErrors {
					return ig.Rejected
				}
			}
			return ig.AcceptedWithErrors
		}))
	opts := ig.Options{}
	a.Attach(&opts)
	err = validateFile(ctx, input, opts)
	if err == nil {
		err = a.Err()
	}
	if err != nil {
		f.Abort()
		return false, err
	}
	return true, f.Commit()
}

func validateFile(ctx context.Context, path string, opts ig.Options) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = ig.NewValidator(opts).Validate(ctx, bufio.NewReaderSize(f, 256<<10))
	return err
}

// ackNumbers hands out 999 and TA1 control numbers from the sequences the
// ingest uses (pipelines/ingest storeNumbers), so that no number repeats.
type ackNumbers struct {
	ctx context.Context
	st  ingest.Store
}

func (n ackNumbers) NextInterchange() (int64, error) { return n.st.NextControlNumber(n.ctx, "ISA/999") }
func (n ackNumbers) NextGroup() (int64, error)       { return n.st.NextControlNumber(n.ctx, "GS/999") }
func (n ackNumbers) NextTransaction() (int64, error) { return n.st.NextControlNumber(n.ctx, "ST/999") }

// markCommitted records in the ledger, with an empty run of job.Store,
// that the file's content is in the store: the entry moves processing →
// committed (and the crash test point "committed" is passed).
func markCommitted(ctx context.Context, job *Job, kind string) error {
	inputs, _ := json.Marshal(map[string]string{"kind": kind, "file": job.Name})
	run, err := job.Store.BeginRun(ctx, kind, string(inputs))
	if err != nil {
		return err
	}
	if err := run.Written(ctx, "", ""); err != nil {
		run.Abandon(context.WithoutCancel(ctx), "marking the load committed failed: "+err.Error())
		return err
	}
	return nil
}

// outputStem is the input's name without its extension, and the ledger ID.
func outputStem(job *Job) string {
	return strings.TrimSuffix(job.Name, filepath.Ext(job.Name)) + "." + strconv.FormatInt(job.File.ID, 10)
}

// localNamed replaces the local copy's path in an error with the file's
// name, which is what the sender knows.
func localNamed(err error, job *Job) string {
	msg := strings.ReplaceAll(err.Error(), job.Input, job.Name)
	for _, prefix := range []string{ErrUnusable.Error() + ": ", ingest.ErrUnusable.Error() + ": ", contracts.ErrUnusable.Error() + ": "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	return msg
}

// writeCSV writes a small CSV file atomically.
func writeCSV(path string, header []string, rows [][]string) error {
	f, err := atomicfile.Create(path, ".calgw-report-")
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(header)
	w.WriteAll(rows) // flushes
	if err := w.Error(); err != nil {
		f.Abort()
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return f.Commit()
}
