package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/pipelines/providerfile"
)

// runProviderFile writes one 274 per county served in the month. Exit 0:
// files written; 1: no roster site is in force that month (nothing
// written); 2: bad flags, configuration, mapping or store.
func runProviderFile(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("provider-file", "--month YYYY-MM --out DIR")
	month := fs.String("month", "", "reporting month, YYYY-MM")
	out := fs.String("out", "", "output directory for the 274 files")
	m, code, ok := g.parseMonthOut(fs, args, month, out)
	if !ok {
		return code
	}
	gw, err := g.open(ctx)
	if err != nil {
		return g.fail(err)
	}
	defer gw.Close()
	res, err := gw.ProviderFile(ctx, m, *out)
	if errors.Is(err, providerfile.ErrNoSites) {
		fmt.Fprintf(g.stdout, "provider-file %s: no roster site is in force in that month: nothing written (calgw ingest --kind roster FILE)\n", m)
		return exitRejected
	}
	if err != nil {
		return g.fail(err)
	}
	for _, f := range res.Files {
		what := "county " + f.County
		if f.HCP != "" {
			what = "HCP " + f.HCP + " (counties " + strings.Join(f.Counties, " ") + ")"
		}
		fmt.Fprintf(g.stdout, "%s: %s (interchange %09d, %d organization(s), %d site(s), %d provider(s))\n",
			what, f.Path, f.Interchange, f.Groups, f.Sites, f.Providers)
	}
	fmt.Fprintf(g.stdout, "provider-file %s: %d file(s) written\n", m, len(res.Files))
	return exitOK
}
