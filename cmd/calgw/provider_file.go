package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/calaim-gateway/calaim-gateway/config"
	mp "github.com/calaim-gateway/calaim-gateway/mappings/providerfile"
	"github.com/calaim-gateway/calaim-gateway/pipelines/providerfile"
)

func init() {
	register(command{"provider-file", "write the month's DHCS 274 provider network files, one per county: --month YYYY-MM --out DIR", runProviderFile})
}

// runProviderFile writes one 274 per county served in the month. Exit 0:
// files written; 1: no roster site is in force that month (nothing
// written); 2: bad flags, configuration, mapping or store.
func runProviderFile(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("provider-file", "--month YYYY-MM --out DIR")
	month := fs.String("month", "", "reporting month, YYYY-MM")
	out := fs.String("out", "", "output directory for the 274 files")
	pos, err := parse(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUnusable
	}
	if *month == "" || *out == "" || len(pos) > 0 {
		fs.Usage()
		return exitUnusable
	}
	m, err := mp.ParseMonth(*month)
	if err != nil {
		fmt.Fprintf(g.stderr, "calgw provider-file: %v\n", err)
		return exitUnusable
	}
	cfg, err := config.Load(g.config)
	if err != nil {
		return g.fail(err)
	}
	tables, err := providerfile.Tables(cfg)
	if err != nil {
		return g.fail(err)
	}
	mapping, err := providerfile.LoadMapping(cfg, tables)
	if err != nil {
		return g.fail(err)
	}
	st, closeState, err := openState(ctx, g.state)
	if err != nil {
		return g.fail(err)
	}
	defer closeState()
	res, err := providerfile.Run(ctx, providerfile.Job{Month: m, OutDir: *out, Store: st, Config: cfg, Mapping: mapping, Log: g.log})
	if errors.Is(err, providerfile.ErrNoSites) {
		fmt.Fprintf(g.stdout, "provider-file %s: no roster site is in force in that month: nothing written (calgw ingest --kind roster FILE)\n", m)
		return exitRejected
	}
	if err != nil {
		return g.fail(err)
	}
	for _, f := range res.Files {
		fmt.Fprintf(g.stdout, "county %s: %s (interchange %09d, %d organization(s), %d site(s), %d provider(s))\n",
			f.County, f.Path, f.Interchange, f.Groups, f.Sites, f.Providers)
	}
	fmt.Fprintf(g.stdout, "provider-file %s: %d file(s) written\n", m, len(res.Files))
	return exitOK
}
