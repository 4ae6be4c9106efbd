package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/calaim-gateway/calaim-gateway/pipelines/monthly"
)

// runMonthlyReport writes the month's monitoring JSON and its side report.
// Exit 0: written; 1: the document breaks its schema (each violation is
// printed; nothing written); 2: bad flags, configuration or store.
func runMonthlyReport(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("report monthly", "--month YYYY-MM --out DIR")
	month := fs.String("month", "", "reporting month, YYYY-MM")
	out := fs.String("out", "", "output directory for the JSON file and its side report")
	m, code, ok := g.parseMonthOut(fs, args, month, out)
	if !ok {
		return code
	}
	gw, err := g.open(ctx)
	if err != nil {
		return g.fail(err)
	}
	defer gw.Close()
	res, err := gw.MonthlyReport(ctx, m, *out)
	if errors.Is(err, monthly.ErrInvalid) {
		for _, v := range res.Violations {
			fmt.Fprintf(g.stdout, "%s\n", v)
		}
		if res.Invalid > len(res.Violations) {
			fmt.Fprintf(g.stdout, "... and %d more\n", res.Invalid-len(res.Violations))
		}
		fmt.Fprintf(g.stdout, "report monthly %s: %d violation(s): %v\n", m, res.Invalid, err)
		return exitRejected
	}
	if err != nil {
		return g.fail(err)
	}
	total := 0
	for _, n := range res.Counts {
		total += n
	}
	fmt.Fprintf(g.stdout, "report monthly %s: %s (%s, version %03d, %d record(s)); side report %s\n", m, res.Path, res.Type, res.Version, total, res.SideReport)
	for _, x := range res.Mismatches {
		fmt.Fprintf(g.stdout, "schemas_dir: builder and official schema differ: %s\n", x)
	}
	return exitOK
}
