package ingest

import (
	"context"
	"fmt"
	"log/slog"
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
		cs, ok := job.Store.(store.ClaimStore)
		if !ok {
			out = append(out, Result{File: path, Kind: Kind277CA, Err: fmt.Errorf("the %T state store keeps no claims sent", job.Store)})
			continue
		}
		r := Load277CA(ctx, cs, path, job.log())
		r.Took = time.Since(start)
		out = append(out, r)
		if ctx.Err() != nil {
			break
		}
	}
	return out
}

// Load277CA loads one 277CA into a store that keeps the claims sent
// (SQLite or PostgreSQL); the daemon's 277ca processor calls it.
func Load277CA(ctx context.Context, cs store.ClaimStore, path string, log *slog.Logger) Result {
	res := Result{File: path, Kind: Kind277CA}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
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
	n, err := cs.SetEncounterIDs(ctx, rs)
	if err != nil {
		res.Err = err
		return res
	}
	res.Committed = true
	res.Read, res.Loaded, res.Warnings = len(claims), n, len(claims)-n
	log.Info("277CA loaded", "file", filepath.Base(path), "claims", len(claims), "matched", n, "denied", res.Rejected)
	return res
}
