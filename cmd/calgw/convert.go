package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
)

func runConvert(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("convert", "--in FILE [--in FILE ...] --out DIR [--force] [--config FILE]")
	var ins stringList
	fs.Var(&ins, "in", "invoice file, CSV or XLSX (repeatable)")
	out := fs.String("out", "", "output directory for the 837, rejects.csv and summary.html")
	force := fs.Bool("force", false, "replace the rejects.csv and summary.html of an earlier run in --out")
	pos, code, ok := g.parse(fs, args)
	if !ok {
		return code
	}
	ins = append(ins, pos...)
	var need []string
	if len(ins) == 0 {
		need = append(need, "--in FILE")
	}
	if *out == "" {
		need = append(need, "--out DIR")
	}
	if len(need) > 0 {
		return missing(g, fs, need...)
	}
	res, code := convert(ctx, g, ins, *out, *force)
	if res != nil {
		printConvertSummary(g, res)
	}
	return code
}

// convert opens the gateway (configuration, rule set, store) and runs one
// conversion.
func convert(ctx context.Context, g *globals, ins []string, out string, force bool) (*encounters.Result, int) {
	gw, err := g.open(ctx)
	if err != nil {
		return nil, g.fail(err)
	}
	defer gw.Close()
	stop := g.progress(ctx, "convert", ins)
	res, err := gw.Convert(ctx, ins, out, force)
	stop()
	if err != nil {
		fmt.Fprintf(g.stderr, "calgw: %v\n", err)
		return nil, exitUnusable
	}
	if res.Accepted() == 0 {
		return res, exitRejected
	}
	return res, exitOK
}

func printConvertSummary(g *globals, res *encounters.Result) {
	s := &res.Summary
	for _, f := range s.Files {
		fmt.Fprintf(g.stdout, "%-40s %-4s %6d read %6d accepted %6d rejected\n", f.Name, f.Format, f.Rows, f.Accepted, f.Rejected)
	}
	t := s.Totals()
	fmt.Fprintf(g.stdout, "%-40s      %6d read %6d accepted %6d rejected\n", "total", t.Rows, t.Accepted, t.Rejected)
	for _, rc := range s.RuleCounts() {
		fmt.Fprintf(g.stdout, "  %-24s %6d\n", rc.Rule, rc.Count)
	}
	if len(res.Outputs) == 1 {
		fmt.Fprintf(g.stdout, "837P:    %s (interchange %09d, %d transaction set(s), %d claim(s), %d line(s))\n",
			res.Output, s.Interchange, s.TransactionSets, s.Claims, s.Lines)
	} else if len(res.Outputs) > 1 {
		fmt.Fprintf(g.stdout, "837P:    %d files, one per HCP code (%d transaction set(s), %d claim(s), %d line(s))\n",
			len(res.Outputs), s.TransactionSets, s.Claims, s.Lines)
		for _, o := range res.Outputs {
			fmt.Fprintf(g.stdout, "  %s\n", o)
		}
	} else {
		fmt.Fprintf(g.stdout, "837P:    none written (no line accepted)\n")
	}
	fmt.Fprintf(g.stdout, "rejects: %s\nsummary: %s\n", res.RejectsPath, filepath.Clean(res.SummaryPath))
	for _, p := range res.Providers {
		fmt.Fprintf(g.stdout, "  provider %-16s %4d accepted %4d rejected: %s, %s\n", p.Provider, p.Accepted, p.Rejected,
			filepath.Base(p.RejectsPath), filepath.Base(p.SummaryPath))
	}
}
