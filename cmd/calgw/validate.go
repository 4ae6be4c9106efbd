package main

import (
	"context"
	"fmt"
	"os"

	"github.com/calaim-gateway/calaim-gateway/internal/term"
	"github.com/calaim-gateway/calaim-gateway/pipelines/validate"
)

func runValidate(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("validate", "FILE...")
	files, code, ok := g.parse(fs, args)
	if !ok {
		return code
	}
	if len(files) == 0 {
		return missing(g, fs, "FILE")
	}
	return validateFiles(ctx, g, files)
}

// validateFiles prints each file's report as it is found and returns the
// worst exit code: 0 valid, 1 invalid, 2 unusable.
func validateFiles(ctx context.Context, g *globals, files []string) int {
	// Progress only when the report goes elsewhere: its lines would break
	// into the progress line on a shared terminal.
	stop := func() {}
	if f, ok := g.stdout.(*os.File); !ok || !term.IsTerminal(f) {
		stop = g.progress(ctx, "validate", files)
	}
	defer stop()
	opts := validate.Options{
		Config: g.config,
		Line:   func(s string) { fmt.Fprintln(g.stdout, s) },
	}
	if gw := g.openExisting(ctx, "validate"); gw != nil {
		defer gw.Close()
		opts.Providers = gw.Providers()
	}
	reports := validate.Files(ctx, files, opts)
	worst := exitOK
	for _, r := range reports {
		switch {
		case r.Config:
			return g.fail(r.Err)
		case r.Err != nil:
			fmt.Fprintf(g.stdout, "%s: unusable: %v\n", r.Path, r.Err)
		}
		worst = max(worst, int(r.Status))
	}
	return worst
}
