package main

import (
	"context"
	"fmt"
	"io"
)

// reportCommand is one `calgw report KIND` subcommand.
type reportCommand struct {
	name    string
	summary string
	run     func(ctx context.Context, g *globals, args []string) int
}

// reports lists every report, in the order the usage prints them.
var reports = []reportCommand{
	{"encounters", "encounters sent to DHCS by status, with what to fix: --status rejected [--month YYYY-MM]", reportEncounters},
	{"monthly", "the monthly ECM/CS monitoring JSON for DHCS, built from the state (--month YYYY-MM --out DIR)", runMonthlyReport},
	{"pending", "lines accepted from providers' 837Ps not yet sent to DHCS, by batch ([--older-than DAYS] [--release BATCH])", reportPending},
	{"candidates", "members meeting a population of focus's thresholds from ADT events, without ECM (--pof avoidable-utilization [--as-of DATE])", reportCandidates},
}

// runReport dispatches `calgw report KIND [flags]` to its report.
func runReport(ctx context.Context, g *globals, args []string) int {
	if len(args) == 0 {
		reportUsage(g.stderr)
		return exitUnusable
	}
	switch args[0] {
	case "-h", "--h", "-help", "--help", "help":
		reportUsage(g.stdout)
		return exitOK
	}
	for _, r := range reports {
		if r.name == args[0] {
			return r.run(ctx, g, args[1:])
		}
	}
	fmt.Fprintf(g.stderr, "calgw report: unknown report %q\n\n", args[0])
	reportUsage(g.stderr)
	return exitUnusable
}

func reportUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: calgw report KIND [flags]\n\nreports:\n")
	for _, r := range reports {
		fmt.Fprintf(w, "  %-12s %s\n", r.name, r.summary)
	}
}
