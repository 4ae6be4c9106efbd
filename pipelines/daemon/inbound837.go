package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/pipelines/inbound837"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// Output roles of the inbound 837P processor (besides RoleAck, the 999,
// RoleReport and RoleSummary, the provider's report in CSV and HTML).
const (
	Role277CA          = "277ca"           // <name>.<id>.277ca: claim-level acceptance and rejection, back to the provider
	RoleTA1            = "ta1"             // <name>.<id>.ta1: as the sender's profile says, and for a duplicate interchange
	RoleEncounterLines = "encounter_lines" // <name>.<id>.encounters.csv: the accepted claims' lines, for the invoice route
)

// inbound837Processor edits a provider's 837P (pipelines/inbound837, the
// same code as `calgw ingest --kind 837p`) and answers it; the accepted
// claims' encounter lines go, in the invoice template, to the
// "encounter_lines" destination (by default the inbox the invoice route
// reads), so they leave in the next 837P to DHCS.
type inbound837Processor struct {
	st    ingest.Store
	rules *rules.Set
}

func newInbound837Processor(env Env) (Processor, error) {
	st, err := storeFor[ingest.Store](env, inbound837.Kind)
	if err != nil {
		return nil, err
	}
	return &inbound837Processor{st: st, rules: env.Rules}, nil
}

// inbound837Outputs are the ingest's outputs by role, with the suffix of
// the file and of its name at the destination.
var inbound837Outputs = []struct{ role, suffix, name string }{
	{RoleAck, inbound837.Suffix999, ".999"},
	{Role277CA, inbound837.Suffix277CA, ".277ca"},
	{RoleTA1, inbound837.SuffixTA1, ".ta1"},
	{RoleReport, inbound837.SuffixReportCSV, ".report.csv"},
	{RoleSummary, inbound837.SuffixReportHTML, ".report.html"},
	{RoleEncounterLines, inbound837.SuffixEncounters, ".encounters.csv"},
}

// Process edits and answers the file. The ingest records its interchanges
// under the ledger entry, so that processing the entry again (a retry
// after a failure or a crash before the entry is committed) is not taken
// for a duplicate. Then an empty run marks the entry committed: a crash
// after that is finished by Resume from the outputs in the work directory.
func (p *inbound837Processor) Process(ctx context.Context, job *Job) (*Result, error) {
	var source string
	if job.File != nil {
		source = "ledger:" + strconv.FormatInt(job.File.ID, 10)
	}
	rs := inbound837.Ingest(ctx, ingest.Job{Files: []string{job.Input}, OutDir: job.OutDir, Store: p.st, Config: job.Config,
		Coding: p.rules.Coding, Rules: p.rules, Log: job.Log, Source: source})
	if len(rs) != 1 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("837p ingest of %s returned %d results", job.Name, len(rs))
	}
	r := rs[0]
	if r.Err != nil {
		if errors.Is(r.Err, ingest.ErrUnusable) {
			return nil, unusable("%s", localNamed(r.Err, job))
		}
		return nil, &namedError{msg: localNamed(r.Err, job), err: r.Err}
	}
	if err := markCommitted(ctx, job, inbound837.Kind); err != nil {
		return nil, err
	}
	res := p.result(job)
	switch {
	case r.Duplicate != "":
		res.Note = "duplicate interchange, not processed again: " + r.Duplicate
	default:
		res.Note = fmt.Sprintf("837P: %d set(s), %d rejected; %d claim(s), %d rejected, %d forwarded as encounter lines",
			r.Sets, r.SetsRejected, r.Read, r.Rejected, r.Loaded)
		res.Accepted, res.Rejected = r.Loaded, r.Rejected
	}
	return res, nil
}

// namedError is err with the local copy's path replaced by the file's
// name in its message. It unwraps to err, so that the daemon still tells
// a transient error (a database restarting) or one for the operator (disk
// full) from the file's own failure.
type namedError struct {
	msg string
	err error
}

func (e *namedError) Error() string { return e.msg }
func (e *namedError) Unwrap() error { return e.err }

// Resume delivers the outputs a committed ingest left in the work
// directory.
func (p *inbound837Processor) Resume(ctx context.Context, job *Job) (*Result, error) {
	res := p.result(job)
	if len(res.Outputs) == 0 {
		return nil, fmt.Errorf("%w: the acknowledgments of %s are not in the work directory", ErrRunUndone, job.Name)
	}
	res.Note = "resumed after an interruption: the 837P had been answered"
	return res, nil
}

// result lists the outputs in the work directory, named after the input
// and its ledger ID.
func (p *inbound837Processor) result(job *Job) *Result {
	base := strings.TrimSuffix(filepath.Base(job.Input), filepath.Ext(job.Input))
	stem := outputStem(job)
	res := &Result{}
	for _, o := range inbound837Outputs {
		path := filepath.Join(job.OutDir, base+o.suffix)
		if _, err := os.Stat(path); err == nil {
			res.Outputs = append(res.Outputs, Output{Role: o.role, Path: path, Name: stem + o.name})
		}
	}
	return res
}

// inbound837Registration is the 837p kind's processor.
var inbound837Registration = Registration{
	Kind: inbound837.Kind,
	Roles: []Role{
		{RoleAck, config.DefaultResponses},
		{Role277CA, config.DefaultResponses},
		{RoleTA1, config.DefaultResponses},
		{RoleReport, config.DefaultResponses},
		{RoleSummary, config.DefaultResponses},
		{RoleEncounterLines, config.DefaultInvoices},
	},
	New: newInbound837Processor,
}
