package validate

import (
	"path/filepath"

	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/mappings/roster"
)

// validateRoster checks every row of a provider roster — NPI check digits,
// taxonomy shape, county, dates, populations of focus, Community Supports,
// provider types, duplicate sites — without loading it.
func validateRoster(v *validator, path string, r *tabular.Reader) Status {
	_, rs, err := v.load()
	if err != nil {
		return v.fail(err)
	}
	tables := roster.Tables{Rules: rs.Tables, Coding: rs.Coding}
	dec, err := roster.NewDecoder(r.Header, r.Format, filepath.Base(path), tables)
	if err != nil {
		return v.unusable(err)
	}
	// The problems past findings_per_file are counted by the decoder, not
	// kept; v.finding counts them again for the file's last line.
	dec.MaxProblems = v.limits().FindingsPerFile
	dec.MaxSites = v.limits().RosterSites
	res, err := dec.DecodeAll(r)
	if err != nil {
		return v.unusable(err)
	}
	for _, p := range res.Problems {
		v.finding("%s\n", p.String())
	}
	v.findings += res.More
	v.printf("%s: provider roster (%s), %d row(s), %d with problems, %d problem(s)\n",
		path, r.Format, res.Rows, res.BadRows, res.ProblemCount())
	if len(res.Problems) > 0 {
		return Invalid
	}
	return OK
}
