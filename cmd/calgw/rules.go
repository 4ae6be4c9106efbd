package main

import (
	"context"
	"fmt"
	"os"

	"github.com/calaim-gateway/calaim-gateway/internal/term"
	"github.com/calaim-gateway/calaim-gateway/pipelines/gateway"
)

// runRules prints every rule, in evaluation order, wrapped to the
// terminal's width (100 columns when the output is not a terminal).
func runRules(_ context.Context, g *globals, args []string) int {
	fs := g.newFlags("rules", "")
	if _, code, ok := g.parse(fs, args); !ok {
		return code
	}
	width := 100
	if f, ok := g.stdout.(*os.File); ok {
		width = max(term.Width(f, width), 40)
	}
	const indent = "    "
	for _, r := range gateway.Rules() {
		to := r.To.String()
		if to == "" {
			to = "open"
		}
		fmt.Fprintf(g.stdout, "%s  (in force %s to %s)\n", r.ID, r.From, to)
		fmt.Fprintf(g.stdout, "%s\n", term.Wrap(r.Description, width, indent))
		fmt.Fprintf(g.stdout, "%s\n\n", term.Wrap("Source: "+r.Source, width, indent))
	}
	fmt.Fprintf(g.stdout, "%s\n", term.Wrap("Sources: S000-S004 are DHCS documents, cited by line (S004:1681 is line 1681 of docs/sources/S004.txt); "+
		"the .md notes are in docs/sources. [gateway] marks a choice of this gateway, [inferred] a default to verify.", width, ""))
	return exitOK
}
