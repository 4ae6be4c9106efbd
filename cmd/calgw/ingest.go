package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/pipelines/contracts"
	"github.com/calaim-gateway/calaim-gateway/pipelines/gateway"
	"github.com/calaim-gateway/calaim-gateway/pipelines/inbound837"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
)

func ingestKindNames() string {
	var names []string
	for _, k := range gateway.IngestKinds() {
		names = append(names, k.Name)
	}
	return strings.Join(names, ", ")
}

func isIngestKind(kind string) bool {
	for _, k := range gateway.IngestKinds() {
		if k.Name == kind {
			return true
		}
	}
	return false
}

// runIngest loads reference files of one kind into the state store.
func runIngest(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("ingest", "--kind KIND [--out DIR] FILE...")
	kind := fs.String("kind", "", "what the files are: "+ingestKindNames())
	out := fs.String("out", "", "directory for reports and acknowledgments (default: beside each input)")
	files, code, ok := g.parse(fs, args)
	if !ok {
		return code
	}
	if *kind != "" && !isIngestKind(*kind) {
		fmt.Fprintf(g.stderr, "calgw ingest: unknown kind %q (known: %s)\n", *kind, ingestKindNames())
		fs.Usage()
		return exitUnusable
	}
	var need []string
	if *kind == "" {
		need = append(need, "--kind KIND")
	}
	if len(files) == 0 {
		need = append(need, "FILE")
	}
	if len(need) > 0 {
		return missing(g, fs, need...)
	}
	return ingestFiles(ctx, g, *kind, files, *out)
}

// ingestFiles loads files of one kind and prints one line per file.
//
// 834, auth, other_programs: exit 0 when every file loaded (members or
// rows with bad data are skipped and reported) or was loaded before; 1
// when a file loaded nothing (every member rejected, its envelope is
// broken, or an 834 change file is superseded by a full file); 2 when a
// file is not of the kind, or the configuration, rule data or store is
// unusable.
//
// roster: a file with any problem is not loaded (its problems are
// printed, each with file, row and column); a file loaded before is
// skipped. Exit 0: every file loaded (or already loaded); 1: a file had
// problems; 2: a file is not a roster, or the configuration or store is
// unusable.
func ingestFiles(ctx context.Context, g *globals, kind string, files []string, out string) int {
	gw, err := g.open(ctx)
	if err != nil {
		return g.fail(err)
	}
	defer gw.Close()
	if kind == gateway.KindRoster {
		return ingestRosters(ctx, g, gw, files)
	}
	stop := g.progress(ctx, "ingest", files)
	results, err := gw.Ingest(ctx, kind, files, out)
	stop()
	if err != nil {
		return g.fail(err)
	}
	code := exitOK
	for _, r := range results {
		code = max(code, printIngest(g, &r))
	}
	if len(results) < len(files) {
		code = max(code, exitUnusable) // interrupted
	}
	return code
}

func ingestRosters(ctx context.Context, g *globals, gw *gateway.Gateway, files []string) int {
	results, err := gw.IngestRoster(ctx, files)
	code := exitOK
	for _, r := range results {
		name := filepath.Base(r.Path)
		switch {
		case !r.Loaded():
			for _, p := range r.Problems {
				fmt.Fprintln(g.stdout, p.String())
			}
			if r.More > 0 {
				fmt.Fprintf(g.stdout, "%s: %d more problem(s) not shown (limits.findings_per_file is %d)\n", name, r.More, len(r.Problems))
			}
			fmt.Fprintf(g.stdout, "%s: roster NOT loaded: %d row(s), %d problem(s); fix them and load the file again\n", name, r.Rows, r.ProblemCount())
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
	case r.Kind == inbound837.Kind:
		return printInbound837(g, r, name)
	}
	switch r.Kind {
	case ingest.Kind999, ingest.Kind277CA, ingest.KindEVR:
		return printResponse(g, r, name)
	}
	unit := "row(s)"
	what := r.Kind + " feed"
	if r.Kind == gateway.KindADT {
		unit, what = "message(s)", "ADT file"
	}
	if r.Kind == gateway.Kind834 {
		unit = "member(s)"
		what = "834 change file"
		if r.Full {
			what = "834 full file"
		}
	}
	if r.Superseded != nil {
		// Recorded as loaded, so that the same content is not loaded
		// again, with nothing of it applied.
		by := r.Superseded
		fmt.Fprintf(g.stdout, "%s: 834 change file NOT applied (load %d): %d member(s) read; it is older than full file %s (load %d, period from %s) loaded before for its health-plan codes, which supersedes it\n",
			name, r.Load, r.Read, by.File, by.Load, by.Date)
		fmt.Fprintf(g.stdout, "  report: %s\n", r.Report)
		if r.Ack != "" {
			fmt.Fprintf(g.stdout, "  999:    %s\n", r.Ack)
		}
		return exitRejected
	}
	verb := "loaded"
	// Nothing loaded from a file that had something to load, or from an 834
	// whose sets were rejected or that holds none (an unreadable interchange).
	if r.Loaded == 0 && r.Read > 0 || r.Kind == gateway.Kind834 && r.Loaded == 0 && (r.SetsRejected > 0 || r.Sets == 0) {
		verb = "NOT loaded"
	}
	load := ""
	if verb == "loaded" && r.Load > 0 {
		load = fmt.Sprintf(" (load %d)", r.Load)
	}
	fmt.Fprintf(g.stdout, "%s: %s %s%s: %d %s read, %d loaded, %d rejected, %d warning(s)", name, what, verb, load, r.Read, unit, r.Loaded, r.Rejected, r.Warnings)
	if r.Kind == gateway.Kind834 {
		fmt.Fprintf(g.stdout, "; %d transaction set(s), %d rejected", r.Sets, r.SetsRejected)
		if r.Full && r.CutSkipped == "" && verb == "loaded" {
			fmt.Fprintf(g.stdout, "; %d member(s) not listed lost coverage from the file's period", r.Cut)
		}
	}
	fmt.Fprintln(g.stdout)
	if r.CutSkipped != "" {
		fmt.Fprintf(g.stdout, "%s: %s\n", name, r.CutSkipped)
	}
	if n := r.Newer; n != nil {
		fmt.Fprintf(g.stdout, "%s: out of order: change file %s (load %d, dated %s) was loaded before it; what this file changes of members that file also changed may be stale\n",
			name, n.File, n.Load, n.Date)
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

// printResponse prints a DHCS answer's load: every answer matched or
// reported; exit 0 (answers that matched nothing are in the report, as
// warnings).
func printResponse(g *globals, r *ingest.Result, name string) int {
	unit := map[string]string{ingest.Kind999: "transaction set(s)", ingest.Kind277CA: "claim(s)", ingest.KindEVR: "encounter(s)"}[r.Kind]
	fmt.Fprintf(g.stdout, "%s: %s loaded: %d %s answered, %d matched to encounters sent, %d rejected, %d warning(s)\n",
		name, strings.ToUpper(r.Kind), r.Read, unit, r.Loaded, r.Rejected, r.Warnings)
	if r.Warnings > 0 {
		fmt.Fprintf(g.stdout, "  answers that match nothing sent and other warnings are in the report\n")
	}
	fmt.Fprintf(g.stdout, "  report: %s\n", r.Report)
	return exitOK
}

// printInbound837 prints a provider's 837P answered: exit 0 when a claim
// was accepted or the file repeats one received before (answered with a
// TA1 only), 1 when every claim was rejected.
func printInbound837(g *globals, r *ingest.Result, name string) int {
	dir, base := filepath.Dir(r.Ack), strings.TrimSuffix(filepath.Base(r.Ack), filepath.Ext(r.Ack))
	if r.Duplicate != "" {
		fmt.Fprintf(g.stdout, "%s: duplicate interchange, not processed again: %s\n", name, r.Duplicate)
		if r.Ack != "" {
			fmt.Fprintf(g.stdout, "  TA1:    %s\n", r.Ack)
		}
		return exitOK
	}
	fmt.Fprintf(g.stdout, "%s: 837P answered: %d claim(s) read, %d accepted, %d rejected; %d transaction set(s), %d rejected\n",
		name, r.Read, r.Loaded, r.Rejected, r.Sets, r.SetsRejected)
	for _, o := range []struct{ label, suffix string }{
		{"999", inbound837.Suffix999}, {"277CA", inbound837.Suffix277CA}, {"TA1", inbound837.SuffixTA1},
		{"report", inbound837.SuffixReportCSV}, {"report", inbound837.SuffixReportHTML},
	} {
		if p := filepath.Join(dir, base+o.suffix); isFile(p) {
			fmt.Fprintf(g.stdout, "  %-7s %s\n", o.label+":", p)
		}
	}
	if r.Forward != "" {
		fmt.Fprintf(g.stdout, "  encounter lines: %s (send them to DHCS: calgw convert %s)\n", r.Forward, r.Forward)
	}
	if r.Loaded == 0 {
		return exitRejected
	}
	return exitOK
}

func isFile(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
