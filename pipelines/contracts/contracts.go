// Package contracts holds the provider roster's two jobs: loading roster
// files into the state store (Ingest, behind `calgw ingest --kind roster`)
// and judging invoice lines against the contracts it holds (Judge, the
// PROVIDER-NOT-CONTRACTED rule in `calgw convert`).
package contracts

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/mappings/roster"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// ErrUnusable marks a file that is not a roster at all (unreadable, not
// CSV/XLSX, or without the template's columns).
var ErrUnusable = errors.New("unusable roster file")

// RosterStore is where rosters are loaded (store.SQLite, store.Postgres).
type RosterStore interface {
	LoadRoster(ctx context.Context, file string, sum [32]byte, sites []store.ProviderSite) (store.RosterLoad, error)
}

var (
	_ RosterStore = (*store.SQLite)(nil)
	_ RosterStore = (*store.Postgres)(nil)
)

// FileResult is what loading one roster file did.
type FileResult struct {
	Path     string
	Rows     int
	Problems []roster.Problem // when any, nothing of the file was loaded (the first limits.findings_per_file)
	More     int              // problems past limits.findings_per_file, counted only
	Load     store.RosterLoad // when no problems
}

// ProblemCount is the number of problems found, kept or not.
func (r *FileResult) ProblemCount() int { return len(r.Problems) + r.More }

// Loaded reports whether the file's sites are in the store (now or from
// an earlier load of the same content).
func (r *FileResult) Loaded() bool { return len(r.Problems) == 0 }

// Ingest loads roster files, each on its own: a file with any problem is
// not loaded at all (a half roster would reject the lines of every
// provider it missed), and the problems are returned, each naming file,
// row and column. A file loaded before (same content) is not loaded again.
// An unusable file stops the call with ErrUnusable.
func Ingest(ctx context.Context, st RosterStore, t roster.Tables, paths []string, log *slog.Logger) ([]FileResult, error) {
	return IngestWithin(ctx, st, t, paths, log, config.Limits{})
}

// IngestWithin is Ingest within limits (their defaults for zero values): a
// CSV record past csv_record_bytes or fields_per_row refuses the file
// (ErrUnusable, naming the limit and the line), and past findings_per_file
// problems the rest are only counted (FileResult.More).
func IngestWithin(ctx context.Context, st RosterStore, t roster.Tables, paths []string, log *slog.Logger, lim config.Limits) ([]FileResult, error) {
	lim = lim.WithDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var out []FileResult
	for _, p := range paths {
		res, err := ingestFile(ctx, st, t, p, lim)
		if err != nil {
			return out, err
		}
		name := filepath.Base(p)
		if len(res.Problems) > 0 {
			log.Warn("roster not loaded", "file", name, "rows", res.Rows, "problems", res.ProblemCount())
		} else if res.Load.AlreadyLoaded {
			log.Info("roster already loaded", "file", name, "as", res.Load.PriorName)
		} else {
			log.Info("roster loaded", "file", name, "sites", res.Load.Sites, "new", res.Load.Inserted, "updated", res.Load.Updated, "unchanged", res.Load.Unchanged)
		}
		out = append(out, *res)
	}
	return out, nil
}

func ingestFile(ctx context.Context, st RosterStore, t roster.Tables, path string, lim config.Limits) (*FileResult, error) {
	sum, err := hashFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnusable, path, err)
	}
	r, err := tabular.OpenWith(path, &tabular.Options{MaxRecordBytes: lim.CSVRecordBytes, MaxColumns: lim.FieldsPerRow})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnusable, path, err)
	}
	defer r.Close()
	name := filepath.Base(path)
	dec, err := roster.NewDecoder(r.Header, r.Format, name, t)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnusable, path, err)
	}
	dec.MaxProblems = lim.FindingsPerFile
	dec.MaxSites = lim.RosterSites
	dr, err := dec.DecodeAll(r)
	if errors.Is(err, tabular.ErrLimit) {
		return nil, fmt.Errorf("%w: %v", ErrUnusable, err)
	}
	if err != nil {
		return nil, err
	}
	res := &FileResult{Path: path, Rows: dr.Rows, Problems: dr.Problems, More: dr.More}
	if len(res.Problems) > 0 {
		return res, nil
	}
	sites, err := StoreSites(dr.Sites)
	if err != nil {
		return nil, err
	}
	if res.Load, err = st.LoadRoster(ctx, name, sum, sites); err != nil {
		return nil, err
	}
	return res, nil
}

// StoreSites turns decoded sites into store rows: the contract for the
// rules and the full record (without its file position) for the 274.
func StoreSites(sites []roster.Site) ([]store.ProviderSite, error) {
	out := make([]store.ProviderSite, len(sites))
	for i := range sites {
		s := sites[i]
		row := s.Source.Row
		s.Source = domain.Source{}
		rec, err := json.Marshal(&s)
		if err != nil {
			return nil, fmt.Errorf("roster %s row %d: %w", sites[i].Source.File, row, err)
		}
		out[i] = store.ProviderSite{Key: s.Key(), Contract: s.Contract(), Record: rec, SourceRow: row}
	}
	return out, nil
}

// DecodeSites reads store records back into sites.
func DecodeSites(recs [][]byte) ([]roster.Site, error) {
	out := make([]roster.Site, len(recs))
	for i, r := range recs {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, fmt.Errorf("stored provider site %d: %w", i+1, err)
		}
	}
	return out, nil
}

func hashFile(path string) ([32]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return [32]byte{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return [32]byte{}, err
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, nil
}
