// Package providerfile turns roster sites into the records of the monthly
// DHCS 274 provider network files: one file per county served (or per HCP
// code), holding every site whose contract is in force on at least one day
// of the month, grouped by contracted organization, in a fixed order.
// Where the public sources do not say how a fact is written (the site's N2
// sub-fields, CRC, TPB, the REF*N5 parts, ECM and Community Supports
// indicators, service codes), the mapping file decides (see
// rules.ParseProviderFileMapping and rules/data/provider_file_274.csv). It
// is a pure transform: no I/O.
package providerfile

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/calaim-gateway/calaim-gateway/edi/x12/x274"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/mappings/roster"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// Month is a reporting month.
type Month struct{ Year, Month int }

// ParseMonth reads YYYY-MM.
func ParseMonth(s string) (Month, error) {
	y, m, ok := strings.Cut(s, "-")
	yy, err1 := strconv.Atoi(y)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(y) != 4 || len(m) != 2 || err1 != nil || err2 != nil || mm < 1 || mm > 12 || yy < 2000 {
		return Month{}, fmt.Errorf("month %q: want YYYY-MM, e.g. 2026-09", s)
	}
	return Month{yy, mm}, nil
}

// First and Last are the month's first and last days.
func (m Month) First() civil.Date { return civil.Date(m.Year*10000 + m.Month*100 + 1) }
func (m Month) Last() civil.Date  { return m.First().AddMonths(1).AddDays(-1) }

// String formats the month as YYYY-MM; Compact as CCYYMM (ISA02).
func (m Month) String() string  { return fmt.Sprintf("%04d-%02d", m.Year, m.Month) }
func (m Month) Compact() string { return fmt.Sprintf("%04d%02d", m.Year, m.Month) }

// CountyFile is the content of one 274: one county's, or with an HCP code
// table one HCP code's (every county of that code).
type CountyFile struct {
	County    string // two-digit DHCS county code (the first county of an HCP code's file)
	HCP       string // the HCP code ("" without an HCP code table)
	Counties  []string
	Groups    []x274.Group
	Sites     int
	Providers int
}

// Build selects the sites in force during the month and lays them out per
// county: counties by code; groups by TIN, then organization name; sites by
// NPI, then site key; practitioners by NPI; specializations in mapping-file
// order. The same roster and month always give the same files.
func Build(sites []roster.Site, month Month, m *rules.ProviderFileMapping) ([]CountyFile, error) {
	return BuildByHCP(sites, month, m, nil)
}

// BuildByHCP is Build with one file per HCP code: hcpOf gives a county's
// HCP code (nil = one file per county). A site whose county has no HCP code
// is an error naming it.
func BuildByHCP(sites []roster.Site, month Month, m *rules.ProviderFileMapping, hcpOf func(county string) (string, bool)) ([]CountyFile, error) {
	fileOf := func(s *roster.Site) string { return s.County }
	if hcpOf != nil {
		fileOf = func(s *roster.Site) string { h, _ := hcpOf(s.County); return h }
	}
	first, last := month.First(), month.Last()
	var rows []rules.ProviderFileRow
	mapped := map[string]bool{}
	for _, r := range m.Rows {
		if r.From <= first && (r.To == 0 || r.To >= first) {
			rows = append(rows, r)
			mapped[r.Fact] = true
		}
	}
	var in []*roster.Site
	for i := range sites {
		if sites[i].InForceDuring(first, last) {
			s := &sites[i]
			if hcpOf != nil {
				if _, ok := hcpOf(s.County); !ok {
					return nil, fmt.Errorf("site %s (NPI %s, %s row %d): county %s has no HCP code in the profile's plan.hcp_codes and there is no default_hcp",
						s.Name, s.NPI, s.Source.File, s.Source.Row, s.County)
				}
			}
			in = append(in, s)
		}
	}
	slices.SortStableFunc(in, func(a, b *roster.Site) int {
		return cmp.Or(cmp.Compare(fileOf(a), fileOf(b)), cmp.Compare(a.TIN, b.TIN), cmp.Compare(a.Organization, b.Organization),
			cmp.Compare(a.GroupNPI, b.GroupNPI), cmp.Compare(a.NPI, b.NPI), cmp.Compare(a.Key(), b.Key()))
	})
	var files []CountyFile
	cur := ""
	for _, s := range in {
		if len(files) == 0 || cur != fileOf(s) {
			cur = fileOf(s)
			cf := CountyFile{County: s.County}
			if hcpOf != nil {
				cf.HCP = cur
			}
			files = append(files, cf)
		}
		f := &files[len(files)-1]
		if !slices.Contains(f.Counties, s.County) {
			f.Counties = append(f.Counties, s.County)
		}
		if g := groupOf(s); len(f.Groups) == 0 || !sameGroup(&f.Groups[len(f.Groups)-1], &g) {
			f.Groups = append(f.Groups, g)
		}
		site, err := buildSite(s, rows, mapped, m.Path, first)
		if err != nil {
			return nil, err
		}
		g := &f.Groups[len(f.Groups)-1]
		g.Sites = append(g.Sites, site)
		f.Sites++
		f.Providers += len(site.Providers)
	}
	for i := range files {
		slices.Sort(files[i].Counties)
	}
	return files, nil
}

// groupOf is the 274 group of a site's organization: identified by its
// NPI (XX) with the TIN in N201 when the roster gives a group NPI, as in
// the production file (dhcs-observed-formats.md B7.7 [P]); else by the TIN
// (FI), the gateway's assumption.
func groupOf(s *roster.Site) x274.Group {
	if s.GroupNPI != "" {
		return x274.Group{Name: s.Organization, IDQualifier: x274.QualNPI, ID: s.GroupNPI, Names: []string{s.TIN}}
	}
	return x274.Group{Name: s.Organization, IDQualifier: x274.QualTIN, ID: s.TIN}
}

func sameGroup(a, b *x274.Group) bool {
	return a.Name == b.Name && a.IDQualifier == b.IDQualifier && a.ID == b.ID && slices.Equal(a.Names, b.Names)
}

// refParts counts the parts of each composite REF02 the rows in force
// write (REF01 → the highest part).
func refParts(rows []rules.ProviderFileRow) map[string]int {
	n := map[string]int{}
	for _, r := range rows {
		if r.Segment == "REF" && r.Part > n[r.Qualifier] {
			n[r.Qualifier] = r.Part
		}
	}
	return n
}

func buildSite(s *roster.Site, rows []rules.ProviderFileRow, mapped map[string]bool, path string, first civil.Date) (x274.Site, error) {
	out := x274.Site{Name: s.Name, NPI: s.NPI, Languages: s.Languages, From: s.From, To: s.To, Address: s.Address}
	if s.Phone != "" {
		out.Contact = &x274.Contact{Phone: s.Phone}
	}
	where := fmt.Sprintf("site %s (NPI %s, %s row %d)", s.Name, s.NPI, s.Source.File, s.Source.Row)
	n2 := [3][]string{nil, make([]string, rules.N201SubFields), make([]string, rules.N202SubFields)}
	n2Set := [3]bool{}
	parts := refParts(rows)
	refs := map[string][]string{}
	var refOrder []string
	// set fills one sub-field or part; two rows may not give it different values.
	set := func(r *rules.ProviderFileRow, dst []string, code string) error {
		if strings.Contains(code, x274.SubFieldSeparator) {
			return fmt.Errorf("%s line %d writes %q for %s into one sub-field of a %s composite, whose parts the separator %s divides: the value may not hold it",
				path, r.Line, code, where, r.Segment, x274.SubFieldSeparator)
		}
		if prev := dst[r.Part-1]; prev != "" && prev != code {
			return fmt.Errorf("%s line %d writes %q where another row wrote %q for %s: one value per sub-field", path, r.Line, code, prev, where)
		}
		dst[r.Part-1] = code
		return nil
	}
	for _, fact := range rules.MappingFacts {
		if !mapped[fact] {
			continue
		}
		for _, v := range siteValues(s, fact) {
			matched := false
			lqFrom := len(out.Specialties)
			var titles []string
			var tpbRow *rules.ProviderFileRow
			for i := range rows {
				r := &rows[i]
				if r.Fact != fact || (r.Value != "*" && !strings.EqualFold(r.Value, v)) {
					continue
				}
				matched = true
				code := strings.ReplaceAll(r.Code, "{value}", v)
				if (r.Segment == "LQ" || (r.Segment == "REF" && r.Part == 0)) && utf8.RuneCountInString(code) > 30 {
					return out, fmt.Errorf("%s line %d writes %q for %s: longer than the 30 characters %s02 allows", path, r.Line, code, where, r.Segment)
				}
				switch r.Segment {
				case "LQ":
					out.Specialties = append(out.Specialties, x274.Specialty{Qualifier: r.Qualifier, Code: code})
				case "TPB":
					titles, tpbRow = append(titles, code), r
				case "REF":
					if r.Part == 0 {
						out.References = append(out.References, x274.Reference{Qualifier: r.Qualifier, Value: code})
						continue
					}
					if refs[r.Qualifier] == nil {
						refs[r.Qualifier] = make([]string, parts[r.Qualifier])
						refOrder = append(refOrder, r.Qualifier)
					}
					if err := set(r, refs[r.Qualifier], code); err != nil {
						return out, err
					}
				case "N2":
					n2Set[r.Element] = true
					if err := set(r, n2[r.Element], code); err != nil {
						return out, err
					}
				case "CRC":
					f := strings.Fields(code)
					out.Conditions = append(out.Conditions, x274.Condition{Category: r.Qualifier, Response: f[0], Indicators: f[1:]})
				case "N4":
					out.County = code
				case "QTY":
					n, _ := strconv.ParseInt(code, 10, 64)
					out.Quantities = append(out.Quantities, x274.Quantity{Qualifier: r.Qualifier, Value: n})
				}
			}
			if !matched {
				return out, fmt.Errorf("%s has no row for %s %s in force on %s, which %s needs: add one, or remove every %s row to leave the fact out",
					path, fact, v, first, where, fact)
			}
			if len(titles) > 0 {
				if len(out.Specialties) == lqFrom {
					return out, fmt.Errorf("%s line %d: TPB for %s %s follows an LQ, and no LQ row of %s %s is in force on %s", path, tpbRow.Line, fact, v, fact, v, first)
				}
				for i := lqFrom; i < len(out.Specialties); i++ {
					out.Specialties[i].Titles = slices.Clone(titles)
				}
			}
		}
	}
	if n2Set[1] || n2Set[2] {
		out.Names = []string{x274.Composite(n2[1])}
		if n2Set[2] {
			out.Names = append(out.Names, x274.Composite(n2[2]))
		}
		for i, v := range out.Names {
			if len(v) > 60 {
				return out, fmt.Errorf("%s: N20%d %q for %s is longer than the 60 characters N2 allows", path, i+1, v, where)
			}
		}
	}
	for _, q := range refOrder {
		v := x274.Composite(refs[q])
		if len(v) > 30 {
			return out, fmt.Errorf("%s: REF*%s %q for %s is longer than the 30 characters REF02 allows", path, q, v, where)
		}
		out.References = append(out.References, x274.Reference{Qualifier: q, Value: v})
	}
	prs := slices.Clone(s.Practitioners)
	slices.SortStableFunc(prs, func(a, b roster.Practitioner) int { return cmp.Compare(a.NPI, b.NPI) })
	for _, p := range prs {
		out.Providers = append(out.Providers, x274.Provider{Last: p.Last, First: p.First, NPI: p.NPI})
	}
	return out, nil
}

// siteValues returns the site's values of a fact, as the mapping names them.
func siteValues(s *roster.Site, fact string) []string {
	switch fact {
	case rules.FactTaxonomy:
		return []string{s.Taxonomy}
	case rules.FactProgram:
		var out []string
		if len(s.POFs) > 0 {
			out = append(out, string(rules.ProgramECM))
		}
		if len(s.CommunitySupports) > 0 {
			out = append(out, string(rules.ProgramCS))
		}
		return out
	case rules.FactPOF:
		return s.POFs
	case rules.FactCommunitySupport:
		return s.CommunitySupports
	case rules.FactProviderType:
		return s.Types
	case rules.FactMediCalEnrolled:
		if s.MediCalEnrolled {
			return []string{"Y"}
		}
		return []string{"N"}
	case rules.FactAccessibility:
		if s.Accessibility != "" {
			return []string{s.Accessibility}
		}
	case rules.FactCapacityCurrent:
		if s.CapacityCurrent >= 0 {
			return []string{strconv.Itoa(s.CapacityCurrent)}
		}
	case rules.FactCapacityMax:
		if s.CapacityMax >= 0 {
			return []string{strconv.Itoa(s.CapacityMax)}
		}
	case rules.FactSite:
		return []string{"*"}
	case rules.FactCounty:
		return []string{s.County}
	case rules.FactTIN:
		return []string{s.TIN}
	case rules.FactFacilityID:
		return nonEmpty(s.FacilityID)
	case rules.FactFacilityLocationID:
		return nonEmpty(s.FacilityLocationID)
	case rules.FactProviderLocationID:
		return nonEmpty(s.ProviderLocationID)
	}
	return nil
}

func nonEmpty(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}
