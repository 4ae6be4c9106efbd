package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

func init() {
	registerIngest(ingestKind{name: "834", summary: "X12 834 enrollment (005010X220A1, DHCS layout): members and eligibility spans", run: runIngest834})
}

// runIngest834 loads 834 files. Exit 0: every file loaded (members with bad
// data are skipped and reported) or was loaded before; 1: a file loaded
// nothing (every member rejected, or its envelope is broken); 2: a file is
// not X12, or the configuration, rule data or store is unusable.
func runIngest834(ctx context.Context, g *globals, files []string, out string) int {
	return withIngestJob(ctx, g, files, out, func(job ingest.Job) []ingest.Result { return ingest.Ingest834(ctx, job) })
}

// withIngestJob loads what an ingest needs, locks and opens the store, runs
// the ingest and prints one line per file.
func withIngestJob(ctx context.Context, g *globals, files []string, out string, run func(ingest.Job) []ingest.Result) int {
	rd, err := loadRuleData(g)
	if err != nil {
		return g.fail(err)
	}
	st, closeState, err := openState(ctx, g.state)
	if err != nil {
		return g.fail(err)
	}
	defer closeState()
	results := run(ingest.Job{Files: files, OutDir: out, Store: st, Config: rd.cfg, Coding: rd.coding, Tables: rd.tables, Data: rd.data, Log: g.log})
	code := exitOK
	for _, r := range results {
		code = max(code, printIngest(g, &r))
	}
	if len(results) < len(files) {
		code = max(code, exitUnusable) // interrupted
	}
	return code
}

// ruleData is the configuration and the rule tables a feed is read with.
type ruleData struct {
	cfg    *config.Config
	coding *rules.CodingTable
	tables *rules.Tables
	data   *rules.EligibilityTables
}

// loadRuleData loads the configuration, then the coding, reference and
// eligibility tables it names.
func loadRuleData(g *globals) (*ruleData, error) {
	cfg, err := config.Load(g.config)
	if err != nil {
		return nil, err
	}
	coding, err := rules.LoadCodingTable(cfg.CodingTable, cfg.RulesData)
	if err != nil {
		return nil, err
	}
	tables, err := rules.LoadTables(rules.DataFS(cfg.RulesData))
	if err != nil {
		return nil, err
	}
	data, err := rules.LoadEligibilityTables(rules.DataFS(cfg.RulesData))
	if err != nil {
		return nil, err
	}
	return &ruleData{cfg: cfg, coding: coding, tables: tables, data: data}, nil
}

func printIngest(g *globals, r *ingest.Result) int {
	name := filepath.Base(r.File)
	switch {
	case r.Err != nil && r.Committed:
		fmt.Fprintf(g.stdout, "%s: loaded (load %d), but its outputs failed: %v\n", name, r.Load, r.Err)
		return exitUnusable
	case r.Err != nil:
		// Unusable input, or a store failure: nothing of the file was loaded.
		fmt.Fprintf(g.stdout, "%s: NOT loaded: %v\n", name, r.Err)
		return exitUnusable
	case r.Already != nil:
		fmt.Fprintf(g.stdout, "%s: %v; nothing to do\n", name, r.Already)
		return exitOK
	}
	unit := "row(s)"
	what := r.Kind + " feed"
	if r.Kind == store.LoadKind834 {
		unit = "member(s)"
		what = "834 change file"
		if r.Full {
			what = "834 full file"
		}
	}
	verb := "loaded"
	if r.Loaded == 0 && r.Read > 0 || r.Kind == store.LoadKind834 && r.Loaded == 0 && r.SetsRejected > 0 {
		verb = "NOT loaded"
	}
	load := ""
	if verb == "loaded" {
		load = fmt.Sprintf(" (load %d)", r.Load)
	}
	fmt.Fprintf(g.stdout, "%s: %s %s%s: %d %s read, %d loaded, %d rejected, %d warning(s)", name, what, verb, load, r.Read, unit, r.Loaded, r.Rejected, r.Warnings)
	if r.Kind == store.LoadKind834 {
		fmt.Fprintf(g.stdout, "; %d transaction set(s), %d rejected", r.Sets, r.SetsRejected)
		if r.Full && r.CutSkipped == "" && verb == "loaded" {
			fmt.Fprintf(g.stdout, "; %d member(s) not listed lost coverage from the file's period", r.Cut)
		}
	}
	fmt.Fprintln(g.stdout)
	if r.CutSkipped != "" {
		fmt.Fprintf(g.stdout, "%s: %s\n", name, r.CutSkipped)
	}
	fmt.Fprintf(g.stdout, "  report: %s\n", r.Report)
	if r.Ack != "" {
		fmt.Fprintf(g.stdout, "  999:    %s\n", r.Ack)
	}
	if verb != "loaded" {
		return exitRejected
	}
	return exitOK
}
