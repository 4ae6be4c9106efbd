package daemon

import (
	"context"
	"errors"
	"fmt"

	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// The DHCS 277CA response (kind "277ca"): each claim's DHCS Encounter ID
// and status go to the claims sent (pipelines/ingest.Load277CA, as `calgw
// ingest --kind 277ca`), for replacements and voids. Loading the same file
// again changes nothing, so no run is needed; it writes no output.
type responseProcessor struct{ st store.ClaimStore }

func newResponseProcessor(env Env) (Processor, error) {
	st, err := storeFor[store.ClaimStore](env, "277ca")
	if err != nil {
		return nil, err
	}
	return &responseProcessor{st: st}, nil
}

// Process loads the 277CA; a file that is not one is quarantined.
func (p *responseProcessor) Process(ctx context.Context, job *Job) (*Result, error) {
	r := ingest.Load277CA(ctx, p.st, job.Input, job.Log)
	if errors.Is(r.Err, ingest.ErrUnusable) {
		return nil, unusable("%s", localNamed(r.Err, job))
	}
	if r.Err != nil {
		return nil, r.Err
	}
	return &Result{Note: fmt.Sprintf("277CA: %d claim(s), %d matched to claims sent, %d denied", r.Read, r.Loaded, r.Rejected)}, nil
}
