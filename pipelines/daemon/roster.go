package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/calaim-gateway/calaim-gateway/mappings/roster"
	"github.com/calaim-gateway/calaim-gateway/pipelines/contracts"
	"github.com/calaim-gateway/calaim-gateway/pipelines/providerfile"
)

// The provider roster: the whole file is loaded into the state store's
// provider tables (SQLite or PostgreSQL) or nothing of it (pipelines/contracts, as `calgw ingest --kind
// roster`), upserting by site, once per content hash.
//
// A roster with problems is not loaded, but it is not quarantined either:
// it was read and checked, so it is processed like an 834 whose members
// were rejected — archived, with a report back to the sender listing every
// problem (row, column, message) and a last row saying it was NOT loaded.
// The sender fixes the rows and sends the whole file again. Quarantine is
// kept for files that are not a roster at all (unreadable, not CSV/XLSX,
// without the template's columns), with the reason beside them.
// rosterColumns are the roster report's columns.
var rosterColumns = []string{"source_file", "row", "column", "severity", "message"}

type rosterProcessor struct {
	st     contracts.RosterStore
	tables roster.Tables
}

func newRosterProcessor(env Env) (Processor, error) {
	st, err := storeFor[contracts.RosterStore](env, "roster")
	if err != nil {
		return nil, err
	}
	return &rosterProcessor{st: st, tables: providerfile.TablesOf(env.Rules)}, nil
}

// Process loads the roster and writes its report. As for the enrollment
// feeds, a loaded roster (now or before) marks the ledger entry committed
// after its report is written; a crash before that mark is processed
// again and reported "already loaded".
func (p *rosterProcessor) Process(ctx context.Context, job *Job) (*Result, error) {
	rs, err := contracts.IngestWithin(ctx, p.st, p.tables, []string{job.Input}, job.Log, job.Config.Limits)
	if errors.Is(err, contracts.ErrUnusable) {
		return nil, unusable("%s", localNamed(err, job))
	}
	if err != nil {
		return nil, err
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("roster ingest of %s returned %d results", job.Name, len(rs))
	}
	r := rs[0]
	var rows [][]string
	var note string
	for _, pr := range r.Problems {
		rows = append(rows, []string{job.Name, strconv.Itoa(pr.Row), pr.Column, "error", pr.Message})
	}
	if r.More > 0 {
		rows = append(rows, []string{job.Name, "", "", "error", fmt.Sprintf("%d more problem(s) not shown (limits.findings_per_file is %d)", r.More, len(r.Problems))})
	}
	switch l := r.Load; {
	case !r.Loaded():
		note = fmt.Sprintf("roster NOT loaded: %d row(s), %d problem(s)", r.Rows, r.ProblemCount())
		rows = append(rows, []string{job.Name, "", "", "error", note + "; nothing of the file was loaded: fix the rows and send the whole file again"})
	case l.AlreadyLoaded:
		note = fmt.Sprintf("roster already loaded as %s on %s; nothing changed", l.PriorName, l.PriorAt.Format("2006-01-02"))
		rows = append(rows, []string{job.Name, "", "", "info", note})
	default:
		note = fmt.Sprintf("roster loaded: %d site(s): %d new, %d updated, %d unchanged", l.Sites, l.Inserted, l.Updated, l.Unchanged)
		rows = append(rows, []string{job.Name, "", "", "info", note})
	}
	report := p.reportPath(job)
	if err := writeCSV(report, rosterColumns, rows); err != nil {
		return nil, err
	}
	if r.Loaded() {
		if err := markCommitted(ctx, job, "roster"); err != nil {
			return nil, err
		}
	}
	return &Result{Outputs: p.outputs(job), Note: note}, nil
}

// Resume delivers the report of a roster loaded before a crash, or, when
// it is gone, has the file processed again ("already loaded").
func (p *rosterProcessor) Resume(ctx context.Context, job *Job) (*Result, error) {
	if _, err := os.Stat(p.reportPath(job)); err != nil {
		return nil, fmt.Errorf("%w: the report of %s is not in the work directory", ErrRunUndone, job.Name)
	}
	return &Result{Outputs: p.outputs(job), Note: "resumed after an interruption: the roster load had committed"}, nil
}

func (p *rosterProcessor) reportPath(job *Job) string {
	return filepath.Join(job.OutDir, filepath.Base(job.Input)+".report.csv")
}

func (p *rosterProcessor) outputs(job *Job) []Output {
	return []Output{{Role: RoleReport, Path: p.reportPath(job), Name: outputStem(job) + ".report.csv"}}
}
