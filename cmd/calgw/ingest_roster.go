package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/pipelines/contracts"
	"github.com/calaim-gateway/calaim-gateway/pipelines/providerfile"
)

func init() {
	registerIngest(ingestKind{name: "roster", summary: "provider roster (CSV/XLSX, one row per provider site)", run: runIngestRoster})
}

// runIngestRoster loads roster files into the state store. A file with any
// problem is not loaded (its problems are printed, each with file, row and
// column); a file loaded before is skipped. Exit 0: every file loaded (or
// already loaded); 1: a file had problems; 2: a file is not a roster, or
// the configuration or store is unusable.
func runIngestRoster(ctx context.Context, g *globals, files []string, _ string) int {
	cfg, err := config.Load(g.config)
	if err != nil {
		return g.fail(err)
	}
	tables, err := providerfile.Tables(cfg)
	if err != nil {
		return g.fail(err)
	}
	st, closeState, err := openState(ctx, g.state)
	if err != nil {
		return g.fail(err)
	}
	defer closeState()
	results, err := contracts.Ingest(ctx, st, tables, files, g.log)
	code := exitOK
	for _, r := range results {
		name := filepath.Base(r.Path)
		switch {
		case !r.Loaded():
			for _, p := range r.Problems {
				fmt.Fprintln(g.stdout, p.String())
			}
			fmt.Fprintf(g.stdout, "%s: roster NOT loaded: %d row(s), %d problem(s); fix them and load the file again\n", name, r.Rows, len(r.Problems))
			code = exitRejected
		case r.Load.AlreadyLoaded:
			fmt.Fprintf(g.stdout, "%s: already loaded (as %s on %s); nothing changed\n", name, r.Load.PriorName, r.Load.PriorAt.Format("2006-01-02"))
		default:
			l := r.Load
			fmt.Fprintf(g.stdout, "%s: roster loaded: %d site(s): %d new, %d updated, %d unchanged\n", name, l.Sites, l.Inserted, l.Updated, l.Unchanged)
		}
	}
	if err != nil {
		// The files before it were loaded; this one and those after were not.
		if errors.Is(err, contracts.ErrUnusable) {
			fmt.Fprintf(g.stdout, "%v\n", err)
		} else {
			fmt.Fprintf(g.stderr, "calgw: %v\n", err)
		}
		return exitUnusable
	}
	return code
}
