package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12/x277ca"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Kind277CA names the DHCS 277CA response kind.
const Kind277CA = "277ca"

// Ingest277CA reads DHCS 277CA responses and stores, per claim sent, the
// DHCS Encounter ID (REF*1K) and status (STC) they report, matched by
// CLM01 (TRN02). A replacement or void of that claim then carries the ID
// in 2300 REF*F8 (docs/dhcs.md). Read counts the claims of the file,
// Loaded those matched to a claim sent, Rejected those DHCS denied (F2),
// Warnings those not matched. Loading a file again changes nothing.
func Ingest277CA(ctx context.Context, job Job) []Result {
	var out []Result
	for _, path := range job.Files {
		start := time.Now()
		r := job.ingest277CA(ctx, path)
		r.Took = time.Since(start)
		out = append(out, r)
		if ctx.Err() != nil {
			break
		}
	}
	return out
}

func (job *Job) ingest277CA(ctx context.Context, path string) Result {
	res := Result{File: path, Kind: Kind277CA}
	f, err := os.Open(path)
	if err != nil {
		res.Err = fmt.Errorf("%w: %s: %v", ErrUnusable, path, err)
		return res
	}
	defer f.Close()
	claims, err := x277ca.Read(f)
	if err != nil {
		res.Err = fmt.Errorf("%w: %s: %v", ErrUnusable, path, err)
		return res
	}
	rs := make([]store.EncounterResponse, 0, len(claims))
	for _, c := range claims {
		rs = append(rs, store.EncounterResponse{CLM01: c.CLM01, EncounterID: c.EncounterID, Status: c.Status})
		if !c.Accepted() {
			res.Rejected++
		}
	}
	n, err := job.Store.SetEncounterIDs(ctx, rs)
	if err != nil {
		res.Err = err
		return res
	}
	res.Committed = true
	res.Read, res.Loaded, res.Warnings = len(claims), n, len(claims)-n
	job.log().Info("277CA loaded", "file", filepath.Base(path), "claims", len(claims), "matched", n, "denied", res.Rejected)
	return res
}
