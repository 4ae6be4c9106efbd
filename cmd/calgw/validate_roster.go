package main

import (
	"fmt"
	"path/filepath"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/mappings/roster"
	"github.com/calaim-gateway/calaim-gateway/pipelines/providerfile"
)

func init() {
	registerTabular(tabularKind{name: "roster", detect: roster.LooksLikeRoster, validate: validateRoster})
}

// validateRoster checks every row of a provider roster — NPI check digits,
// taxonomy shape, county, dates, populations of focus, Community Supports,
// provider types, duplicate sites — without loading it.
func validateRoster(g *globals, path string, r *tabular.Reader) int {
	cfg, err := config.Load(g.config)
	if err != nil {
		return g.fail(err)
	}
	tables, err := providerfile.Tables(cfg)
	if err != nil {
		return g.fail(err)
	}
	dec, err := roster.NewDecoder(r.Header, r.Format, filepath.Base(path), tables)
	if err != nil {
		fmt.Fprintf(g.stdout, "%s: unusable: %v\n", path, err)
		return exitUnusable
	}
	res, err := dec.DecodeAll(r)
	if err != nil {
		fmt.Fprintf(g.stdout, "%s: unusable: %v\n", path, err)
		return exitUnusable
	}
	for _, p := range res.Problems {
		fmt.Fprintln(g.stdout, p.String())
	}
	fmt.Fprintf(g.stdout, "%s: provider roster (%s), %d row(s), %d with problems, %d problem(s)\n",
		path, r.Format, res.Rows, res.Rows-len(res.Sites), len(res.Problems))
	if len(res.Problems) > 0 {
		return exitRejected
	}
	return exitOK
}
