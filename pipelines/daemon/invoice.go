package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// Output roles of the invoice processor.
const (
	RoleEncounters = "encounters" // the 837P, to DHCS
	RoleRejects    = "rejects"    // rejects.csv, back to the sender
	RoleSummary    = "summary"    // summary.html, back to the sender
)

// invoiceProcessor converts a provider invoice file to an 837P with the
// same Convert that `calgw convert` runs.
type invoiceProcessor struct {
	env    Env
	coding *rules.CodingTable
}

func newInvoiceProcessor(env Env) (Processor, error) {
	return &invoiceProcessor{env: env, coding: env.Rules.Coding}, nil
}

func (p *invoiceProcessor) Process(ctx context.Context, job *Job) (*Result, error) {
	var judges []encounters.Judge
	if p.env.Judges != nil {
		var err error
		if judges, err = p.env.Judges(ctx); err != nil {
			return nil, err
		}
	}
	res, err := encounters.Convert(ctx, encounters.Job{
		Inputs: []string{job.Input}, OutDir: job.OutDir, Store: job.Store,
		Config: job.Config, Coding: p.coding, Judges: judges, Log: job.Log,
		// rejects.csv and summary.html go back to the file's sender.
		SenderReports: true,
	})
	if errors.Is(err, encounters.ErrUnusable) {
		// Convert names the local copy; the sender knows the file by its name.
		msg := strings.ReplaceAll(err.Error(), job.Input, job.Name)
		return nil, unusable("%s", strings.TrimPrefix(msg, encounters.ErrUnusable.Error()+": "))
	}
	if err != nil {
		return nil, err
	}
	out := &Result{
		Accepted: res.Accepted(), Rejected: res.Rejected(), ByRule: res.Summary.ByRule,
		Note: fmt.Sprintf("%d lines accepted, %d rejected, %d claims", res.Accepted(), res.Rejected(), res.Summary.Claims),
	}
	out.Outputs = invoiceOutputs(job, strings.Join(res.Outputs, "\n"), res.RejectsPath, res.SummaryPath)
	return out, nil
}

// invoiceOutputs names the outputs: each 837 (encounters lists them one
// per line) keeps its name (encounters-<ISA13>.837 or the profile's DHCS
// file name, unique); the reports are named after the input
// and its ledger ID, so a provider dropping "sept.csv" twice gets two.
func invoiceOutputs(job *Job, encounters, rejects, summary string) []Output {
	stem := strings.TrimSuffix(job.Name, filepath.Ext(job.Name))
	id := strconv.FormatInt(job.File.ID, 10)
	var outs []Output
	if encounters != "" {
		for _, p := range strings.Split(encounters, "\n") {
			outs = append(outs, Output{Role: RoleEncounters, Path: p, Name: filepath.Base(p)})
		}
	}
	if rejects != "" {
		outs = append(outs, Output{Role: RoleRejects, Path: rejects, Name: stem + "." + id + ".rejects.csv"})
	}
	if summary != "" {
		outs = append(outs, Output{Role: RoleSummary, Path: summary, Name: stem + "." + id + ".summary.html"})
	}
	return outs
}

// Resume finishes a conversion whose run committed before the daemon
// recorded its outputs: Recover renames the complete 837 into place (or
// rolls the run back if it is gone), and the reports, written completely
// before the commit, are renamed from their temporary names if needed.
func (p *invoiceProcessor) Resume(ctx context.Context, job *Job) (*Result, error) {
	if err := encounters.Recover(ctx, job.Store, job.Log); err != nil {
		return nil, err
	}
	f := job.File
	if f.RunOutput != "" {
		for _, p := range strings.Split(f.RunOutput, "\n") {
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("%w: %s", ErrRunUndone, filepath.Base(p))
			}
		}
	}
	rejects, err := finishReport(job.OutDir, encounters.RejectsFile)
	if err != nil {
		return nil, err
	}
	summary, err := finishReport(job.OutDir, encounters.SummaryFile)
	if err != nil {
		return nil, err
	}
	if rejects == "" || summary == "" {
		job.Log.Warn("resumed conversion: a report was lost in the crash; delivering what is left", "rejects", rejects != "", "summary", summary != "")
	}
	return &Result{
		Outputs: invoiceOutputs(job, f.RunOutput, rejects, summary),
		Note:    fmt.Sprintf("resumed after a crash: run %d", f.RunID),
	}, nil
}

// finishReport returns the report name in dir, renaming the complete
// temporary file Convert left (".calgw-run<N>-<name>.tmp") if the crash came
// before its rename. The folder holds one job's files only.
func finishReport(dir, name string) (string, error) {
	final := filepath.Join(dir, name)
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	temps, _ := filepath.Glob(filepath.Join(dir, ".calgw-run*-"+name+".tmp"))
	if len(temps) == 0 {
		return "", nil
	}
	if err := atomicfile.Rename(temps[len(temps)-1], final); err != nil {
		return "", err
	}
	return final, nil
}
