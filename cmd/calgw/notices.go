package main

import (
	"context"
	"fmt"
	"strings"
)

// runNotices writes the pending ADT notices, one CSV per ECM provider, into
// --out. Exit 0: done (a late notice is still written and counted); 2: bad
// flags, configuration or store.
func runNotices(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("notices", "--out DIR")
	out := fs.String("out", "", "output directory for the providers' notice files")
	pos, code, ok := g.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(g.stderr, "calgw notices: unexpected arguments: %s\n", strings.Join(pos, " "))
		fs.Usage()
		return exitUnusable
	}
	if *out == "" {
		return missing(g, fs, "--out DIR")
	}
	gw, err := g.open(ctx)
	if err != nil {
		return g.fail(err)
	}
	defer gw.Close()
	res, err := gw.Notices(ctx, *out)
	if err != nil {
		return g.fail(err)
	}
	for _, f := range res.Files {
		fmt.Fprintf(g.stdout, "%s: %d notice(s), %d late\n", f.Path, f.Notices, f.Late)
	}
	fmt.Fprintf(g.stdout, "ADT notices: %d event(s) handled, %d notice(s) written to %d provider(s), %d late (24 hours or more after the event was received)\n",
		res.Events, res.Notices, len(res.Files), res.Late)
	return exitOK
}
