package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/calaim-gateway/calaim-gateway/pipelines/gateway"
)

// demoReferences are the plan's reference files the demo loads before
// converting, in order: each is loaded with `calgw ingest --kind KIND` when
// the demo bundles the file and the kind is built in.
var demoReferences = []struct{ kind, file, what string }{
	{"roster", "roster.csv", "provider roster (contracts for PROVIDER-NOT-CONTRACTED, 274 files)"},
	{"834", "enrollment.834", "DHCS 834 enrollment (eligibility rules)"},
	{"auth", "authorizations.csv", "authorization feed (authorization rules)"},
}

// demoMonth is the service month of the bundled invoices.
const demoMonth = "2026-09"

// demoClock is the demo's "now": mid-October 2026, when September's
// invoices come in, so that what the demo shows (which lines pass, which
// are too late or in the future) is the same whatever day it runs.
var demoClock = time.Date(2026, time.October, 15, 9, 30, 0, 0, time.UTC)

func runDemo(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("demo", "[--out DIR]")
	out := fs.String("out", "demo-out", "directory for the demo's inputs, state and outputs (replaced on each run)")
	if _, code, ok := g.parse(fs, args); !ok {
		return code
	}
	if g.stateSet {
		fmt.Fprintf(g.stderr, "calgw demo: --state is not used: the demo keeps its own state in %s\n", filepath.Join(*out, "state"))
		return exitUnusable
	}
	if err := gateway.ResetDemo(*out); err != nil {
		fmt.Fprintf(g.stderr, "calgw demo: %v\n", err)
		return exitUnusable
	}
	inDir := filepath.Join(*out, "inputs")
	inputs, err := gateway.DemoInputs(inDir)
	if err != nil {
		fmt.Fprintf(g.stderr, "calgw demo: %v\n", err)
		return exitUnusable
	}
	// The demo keeps its own state so it never touches ./calgw-state.
	dg := *g
	dg.state = filepath.Join(*out, "state")
	dg.now = demoClock

	step := 0
	header := func(format string, a ...any) {
		step++
		fmt.Fprintf(g.stdout, "\n== %d. %s\n", step, fmt.Sprintf(format, a...))
	}
	for _, ref := range demoReferences {
		if !isIngestKind(ref.kind) {
			continue
		}
		path, err := gateway.DemoReference(inDir, ref.file)
		if err != nil {
			fmt.Fprintf(g.stderr, "calgw demo: %v\n", err)
			return exitUnusable
		}
		if path == "" {
			continue
		}
		header("Load the %s: calgw ingest --kind %s %s", ref.what, ref.kind, filepath.Base(path))
		if code := ingestFiles(ctx, &dg, ref.kind, []string{path}, filepath.Join(*out, "reports")); code != exitOK {
			fmt.Fprintf(g.stderr, "calgw demo: loading %s failed (exit %d)\n", ref.file, code)
			return code
		}
	}

	header("Convert %d provider invoice files to a DHCS 837P encounter file", len(inputs))
	res, code := convert(ctx, &dg, inputs, *out, false)
	if res == nil {
		return code
	}
	printConvertSummary(g, res)

	if res.Output != "" {
		header("Validate the 837P against 005010X222A1")
		if code := validateFiles(ctx, g, res.Outputs); code != exitOK {
			fmt.Fprintf(g.stderr, "calgw demo: the 837P the demo wrote is not valid\n")
			return code
		}
	}

	if isIngestKind("roster") {
		header("Write the %s DHCS 274 provider network files (one per county) and validate them", demoMonth)
		dir274 := filepath.Join(*out, "274")
		if code := runProviderFile(ctx, &dg, []string{"--month", demoMonth, "--out", dir274}); code != exitOK {
			return code
		}
		files, _ := filepath.Glob(filepath.Join(dir274, "*"))
		sort.Strings(files)
		if len(files) > 0 {
			if code := validateFiles(ctx, g, files); code != exitOK {
				fmt.Fprintf(g.stderr, "calgw demo: a 274 the demo wrote is not valid\n")
				return code
			}
		}
	}

	header("Write the %s monthly ECM/CS monitoring JSON for DHCS from the state, and validate it", demoMonth)
	if code := demoMonthly(ctx, &dg, filepath.Join(*out, "monthly")); code != exitOK {
		return code
	}

	header("Send the same invoices again: nothing is sent twice (the lines sent are DUPLICATE-LINE)")
	again, code := convert(ctx, &dg, inputs, filepath.Join(*out, "rerun"), false)
	if again == nil {
		return code
	}
	printConvertSummary(g, again)
	fmt.Fprintf(g.stdout, "\nOpen %s for the provider-readable report.\n", res.SummaryPath)
	return exitOK
}

// demoMonthly writes the demo month's monitoring JSON (calgw report
// monthly, with the demo's plan when the configuration names none) and
// validates it.
func demoMonthly(ctx context.Context, g *globals, dir string) int {
	m, err := gateway.ParseMonth(demoMonth)
	if err != nil {
		return g.fail(err)
	}
	gw, err := g.open(ctx)
	if err != nil {
		return g.fail(err)
	}
	res, err := gw.DemoMonthlyReport(ctx, m, dir)
	gw.Close()
	if err != nil {
		if res != nil {
			for _, v := range res.Violations {
				fmt.Fprintf(g.stdout, "%s\n", v)
			}
		}
		return g.fail(err)
	}
	total := 0
	for _, n := range res.Counts {
		total += n
	}
	fmt.Fprintf(g.stdout, "%s: %d record(s); what the state cannot fill is listed in %s\n", res.Path, total, filepath.Base(res.SideReport))
	return validateFiles(ctx, g, []string{res.Path})
}
