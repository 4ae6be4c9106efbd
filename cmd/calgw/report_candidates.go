package main

import (
	"context"
	"fmt"
	"strings"

	pipeadt "github.com/calaim-gateway/calaim-gateway/pipelines/adt"
)

// reportCandidates lists the members who meet a population of focus's
// numeric thresholds from their ADT events and hold no ECM authorization,
// as CSV on stdout or in --out (written atomically); the counts go to
// stderr. Exit 0 (the list may be empty); 2 for a bad flag, configuration
// or store.
func reportCandidates(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("report candidates", "--pof "+pipeadt.POFAvoidableUtilization+" [--as-of YYYY-MM-DD] [--out FILE]")
	pof := fs.String("pof", "", "population of focus: "+pipeadt.POFAvoidableUtilization)
	asOfFlag := fs.String("as-of", "", "the day the rolling windows end (default today, in the configured time zone)")
	out := fs.String("out", "", "write the CSV into FILE instead of stdout")
	rest, code, ok := g.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(g.stderr, "calgw report candidates: unexpected arguments: %s\n", strings.Join(rest, " "))
		fs.Usage()
		return exitUnusable
	}
	if *pof == "" {
		return missing(g, fs, "--pof "+pipeadt.POFAvoidableUtilization)
	}
	gw, err := g.open(ctx)
	if err != nil {
		return g.fail(err)
	}
	defer gw.Close()
	res, asOf, err := gw.CandidatesReport(ctx, *pof, *asOfFlag, *out, g.stdout)
	if err != nil {
		return g.fail(err)
	}
	fmt.Fprintf(g.stderr, "candidates for %s as of %s: %d member(s); %d with an ED visit or inpatient stay in the windows, %d meeting a threshold but holding an ECM authorization, %d without a date of birth\n",
		*pof, asOf, len(res.Candidates), res.Members, res.Authorized, res.NoDOB)
	fmt.Fprintf(g.stderr, "counted: every ED visit and the unplanned inpatient stays (%s, by PV1-4 admission type); %d planned stay(s) not counted; whether a visit was avoidable is for the reviewer\n",
		pipeadt.UnplannedStayRule, res.Planned)
	return exitOK
}
