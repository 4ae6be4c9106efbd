package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// DHCS's answers to the plan's 837P files (kinds "999", "277ca", "evr"):
// each answer goes to the encounter it matches (pipelines/ingest.Load999,
// Load277CA, LoadEVR, as `calgw ingest --kind ...`), and the file's
// reconciliation report (every answer, what it matched, what matched
// nothing) goes out as the report role. Loading the same file again
// changes nothing, so no run is needed.
type responseProcessor struct {
	st   store.EncounterStore
	kind string
	load ingest.ResponseLoader
}

func newResponseProcessor(kind string, load ingest.ResponseLoader) func(Env) (Processor, error) {
	return func(env Env) (Processor, error) {
		st, err := storeFor[store.EncounterStore](env, kind)
		if err != nil {
			return nil, err
		}
		return &responseProcessor{st: st, kind: kind, load: load}, nil
	}
}

// Process loads the response; a file that is not of its kind is quarantined.
func (p *responseProcessor) Process(ctx context.Context, job *Job) (*Result, error) {
	r := p.load(ctx, p.st, job.Input, job.OutDir, job.Log)
	if errors.Is(r.Err, ingest.ErrUnusable) {
		return nil, unusable("%s", localNamed(r.Err, job))
	}
	if r.Err != nil {
		return nil, r.Err
	}
	// Rejected counts every rejecting answer, matched or not, so Accepted
	// counts the others the same way (never below zero).
	res := &Result{
		Note:     fmt.Sprintf("%s: %d answer(s), %d matched to encounters sent, %d rejected, %d warning(s)", p.kind, r.Read, r.Loaded, r.Rejected, r.Warnings),
		Accepted: r.Read - r.Rejected, Rejected: r.Rejected,
	}
	if _, err := os.Stat(r.Report); err == nil {
		res.Outputs = []Output{{Role: RoleReport, Path: r.Report, Name: outputStem(job) + ".report.csv"}}
	} else if r.Report != "" {
		return nil, fmt.Errorf("%s report %s: %w", p.kind, filepath.Base(r.Report), err)
	}
	return res, nil
}
