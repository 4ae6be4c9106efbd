package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/calaim-gateway/calaim-gateway/internal/demo"
)

func runDemo(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("demo", "[--out DIR]")
	out := fs.String("out", "demo-out", "directory for the demo's inputs, state and outputs (replaced on each run)")
	if _, err := parse(fs, args); err != nil {
		return exitUnusable
	}
	if err := demo.Reset(*out); err != nil {
		fmt.Fprintf(g.stderr, "calgw demo: %v\n", err)
		return exitUnusable
	}
	inputs, err := demo.Inputs(filepath.Join(*out, "inputs"))
	if err != nil {
		fmt.Fprintf(g.stderr, "calgw demo: %v\n", err)
		return exitUnusable
	}
	// The demo keeps its own state so it never touches ./calgw-state.
	dg := *g
	dg.state = filepath.Join(*out, "state")

	fmt.Fprintf(g.stdout, "== 1. Convert %d provider invoice files to a DHCS 837P encounter file\n", len(inputs))
	res, code := convert(ctx, &dg, inputs, *out)
	if res == nil {
		return code
	}
	printConvertSummary(g, res)

	if res.Output != "" {
		fmt.Fprintf(g.stdout, "\n== 2. Validate the 837P against 005010X222A1\n")
		if code := validateFiles(ctx, g, []string{res.Output}); code != exitOK {
			fmt.Fprintf(g.stderr, "calgw demo: the 837P the demo wrote is not valid\n")
			return code
		}
	}

	fmt.Fprintf(g.stdout, "\n== 3. Send the same invoices again: every line is a duplicate, nothing new is sent\n")
	again, code := convert(ctx, &dg, inputs, filepath.Join(*out, "rerun"))
	if again == nil {
		return code
	}
	printConvertSummary(g, again)
	fmt.Fprintf(g.stdout, "\nOpen %s for the provider-readable report.\n", res.SummaryPath)
	return exitOK
}
