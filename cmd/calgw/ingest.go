package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"
)

// ingestKind loads one kind of reference file (834 enrollment, authorization
// feed, provider roster, ...) into the state store. Each kind registers
// itself from its own file with registerIngest.
type ingestKind struct {
	name    string
	summary string
	run     func(ctx context.Context, g *globals, files []string, out string) int
}

var ingestKinds = map[string]ingestKind{}

func registerIngest(k ingestKind) {
	if _, dup := ingestKinds[k.name]; dup {
		panic("calgw: ingest kind registered twice: " + k.name)
	}
	ingestKinds[k.name] = k
}

func init() {
	register(command{"ingest", "load reference files into the state store: calgw ingest --kind KIND FILE...", runIngest})
}

func ingestKindNames() string {
	names := make([]string, 0, len(ingestKinds))
	for n := range ingestKinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func runIngest(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("ingest", "--kind KIND [--out DIR] FILE...")
	kind := fs.String("kind", "", "what the files are: "+ingestKindNames())
	out := fs.String("out", "", "directory for reports and acknowledgments (default: beside each input)")
	files, err := parse(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUnusable
	}
	k, ok := ingestKinds[*kind]
	if !ok || len(files) == 0 {
		if *kind != "" && !ok {
			fmt.Fprintf(g.stderr, "calgw ingest: unknown kind %q (known: %s)\n", *kind, ingestKindNames())
		}
		fs.Usage()
		return exitUnusable
	}
	return k.run(ctx, g, files, *out)
}
