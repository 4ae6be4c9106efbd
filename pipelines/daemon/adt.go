package daemon

import (
	"context"
	"os"
	"path/filepath"
	"time"

	pipeadt "github.com/calaim-gateway/calaim-gateway/pipelines/adt"
)

// HL7 v2 ADT files (kind "adt"): every message is mapped and recorded in the
// state store (pipelines/adt, as `calgw ingest --kind adt`), once per sender
// and MSH-10, so processing the file again changes nothing and no run is
// needed. The report lists the file's exceptions (unknown members, broken
// messages) and its own problems by message and line; it holds no member
// data.
type adtProcessor struct{ st pipeadt.Store }

func newADTProcessor(env Env) (Processor, error) {
	st, err := storeFor[pipeadt.Store](env, pipeadt.Kind)
	if err != nil {
		return nil, err
	}
	return &adtProcessor{st: st}, nil
}

// Process records the file's messages and writes its report.
func (p *adtProcessor) Process(ctx context.Context, job *Job) (*Result, error) {
	f, err := os.Open(job.Input)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	proc := &pipeadt.Processor{Store: p.st, Profiles: pipeadt.Profiles(job.Config)}
	res, err := proc.Process(ctx, pipeadt.FileSource(job.Name, f, time.Now()))
	if err != nil {
		return nil, err
	}
	if res.Messages == 0 {
		return nil, unusable("%s holds no HL7 message (%d problem(s))", job.Name, len(res.Problems))
	}
	report := filepath.Join(job.OutDir, "adt-report.csv")
	if err := pipeadt.WriteReport(report, res.Problems); err != nil {
		return nil, err
	}
	return &Result{
		Outputs:  []Output{{Role: RoleReport, Path: report, Name: outputStem(job) + ".adt-report.csv"}},
		Note:     "ADT: " + res.Summary(),
		Accepted: res.Stored + res.Duplicates,
		Rejected: res.Exceptions,
	}, nil
}
