package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/calaim-gateway/calaim-gateway/pipelines/gateway"
)

func runRules(_ context.Context, g *globals, args []string) int {
	fs := g.newFlags("rules", "")
	if _, code, ok := g.parse(fs, args); !ok {
		return code
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tFROM\tTO\tDESCRIPTION\tSOURCE")
	for _, r := range gateway.Rules() {
		to := r.To.String()
		if to == "" {
			to = "open"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.From, to, r.Description, r.Source)
	}
	tw.Flush()
	return exitOK
}
