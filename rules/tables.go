package rules

import (
	"embed"
	"errors"
	"fmt"
	"github.com/calaim-gateway/calaim-gateway/internal/csvtable"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

//go:embed data/*.csv
var embedded embed.FS

// DataFS returns the rule data files: the embedded defaults, with any file
// of the same name in overrideDir taking its place ("" = defaults only).
// This is how a plan replaces a table without a rebuild.
func DataFS(overrideDir string) fs.FS {
	sub, _ := fs.Sub(embedded, "data")
	if overrideDir == "" {
		return sub
	}
	return overlay{dir: overrideDir, base: sub}
}

type overlay struct {
	dir  string
	base fs.FS
}

func (o overlay) Open(name string) (fs.File, error) {
	if f, err := os.Open(filepath.Join(o.dir, filepath.FromSlash(name))); err == nil {
		return f, nil
	}
	return o.base.Open(name)
}

// table is a small CSV rule table: # comments, a header, named columns.
type table struct {
	rows []csvtable.Row
}

// readTable reads a rule table and checks that it has the columns.
func readTable(fsys fs.FS, name string, columns ...string) (*table, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("rule table %s: %w", name, err)
	}
	defer f.Close()
	tr, err := csvtable.NewReader(f, "rule table "+name, columns...)
	if err != nil {
		return nil, err
	}
	t := &table{}
	for {
		err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		t.rows = append(t.rows, tr.Row().Keep())
	}
	return t, nil
}

// dateRange reads effective_from/effective_to style columns.
func (t *table) dateRange(r csvtable.Row, fromCol, toCol string) (from, to civil.Date, err error) {
	if from, err = civil.Parse(r.Get(fromCol)); err != nil {
		return 0, 0, r.Errorf("%s: %v", fromCol, err)
	}
	if s := r.Get(toCol); s != "" {
		if to, err = civil.Parse(s); err != nil {
			return 0, 0, r.Errorf("%s: %v", toCol, err)
		}
		if to < from {
			return 0, 0, r.Errorf("%s %s is before %s %s", toCol, to, fromCol, from)
		}
	}
	return from, to, nil
}

// POF is an ECM population of focus.
type POF struct {
	ID, Name, Ages, Source string
}

// GoLive is the date a POF went live, statewide (County "*") or in a county.
type GoLive struct {
	POF, County string
	From        civil.Date
	Source      string
}

// Figure5Pair is one streamlined-authorization pairing: a provider of this
// type, or offering this Community Support, contracted for the POF.
type Figure5Pair struct {
	POF      string
	Kind     string // "provider_type" or "community_support"
	Value    string // a provider type id, or a coding-table service id
	From, To civil.Date
	Source   string
}

// Tables holds the rule data shared by the enrollment, authorization and
// provider rules.
type Tables struct {
	Counties      map[string]string // code → name
	countyByName  map[string]string // folded name → code
	POFs          map[string]POF
	GoLive        []GoLive
	ProviderTypes map[string]string // id → name
	Figure5       []Figure5Pair
	// Utilization are the numeric thresholds of the avoidable-utilization
	// populations of focus (pof_utilization.csv).
	Utilization []UtilizationThreshold
	// AdmissionTypes say which PV1-4 admission types make an inpatient
	// stay unplanned (adt_admission_types.csv).
	AdmissionTypes AdmissionTypes
}

// LoadTables reads the shared tables from fsys (see DataFS) and checks that
// they agree with each other.
func LoadTables(fsys fs.FS) (*Tables, error) {
	t := &Tables{Counties: map[string]string{}, countyByName: map[string]string{}, POFs: map[string]POF{}, ProviderTypes: map[string]string{}}
	var errs []error
	if tab, err := readTable(fsys, "ca_counties.csv", "code", "name"); err != nil {
		errs = append(errs, err)
	} else {
		for _, r := range tab.rows {
			code, name := r.Get("code"), r.Get("name")
			if len(code) != 2 || !allDigits(code) || name == "" {
				errs = append(errs, r.Errorf("want a two-digit code and a name"))
				continue
			}
			t.Counties[code] = name
			t.countyByName[normName(name)] = code
		}
	}
	if tab, err := readTable(fsys, "pofs.csv", "id", "name", "ages", "source"); err != nil {
		errs = append(errs, err)
	} else {
		for _, r := range tab.rows {
			p := POF{ID: strings.ToUpper(r.Get("id")), Name: r.Get("name"), Ages: r.Get("ages"), Source: r.Get("source")}
			if p.ID == "" || p.Name == "" {
				errs = append(errs, r.Errorf("id and name are required"))
				continue
			}
			t.POFs[p.ID] = p
		}
	}
	if tab, err := readTable(fsys, "provider_types.csv", "id", "name", "source"); err != nil {
		errs = append(errs, err)
	} else {
		for _, r := range tab.rows {
			t.ProviderTypes[strings.ToLower(r.Get("id"))] = r.Get("name")
		}
	}
	if tab, err := readTable(fsys, "pof_golive.csv", "pof", "county", "live_from", "source"); err != nil {
		errs = append(errs, err)
	} else {
		for _, r := range tab.rows {
			g := GoLive{POF: strings.ToUpper(r.Get("pof")), County: r.Get("county"), Source: r.Get("source")}
			var err error
			if g.From, err = civil.Parse(r.Get("live_from")); err != nil {
				errs = append(errs, r.Errorf("live_from: %v", err))
				continue
			}
			if _, ok := t.POFs[g.POF]; !ok {
				errs = append(errs, r.Errorf("unknown POF %q", g.POF))
			}
			if _, ok := t.Counties[g.County]; !ok && g.County != "*" {
				errs = append(errs, r.Errorf("unknown county code %q", g.County))
			}
			t.GoLive = append(t.GoLive, g)
		}
	}
	if tab, err := readTable(fsys, "figure5_pairs.csv", "pof", "kind", "value", "effective_from", "effective_to", "source"); err != nil {
		errs = append(errs, err)
	} else {
		for _, r := range tab.rows {
			p := Figure5Pair{POF: strings.ToUpper(r.Get("pof")), Kind: r.Get("kind"), Value: r.Get("value"), Source: r.Get("source")}
			var err error
			if p.From, p.To, err = tab.dateRange(r, "effective_from", "effective_to"); err != nil {
				errs = append(errs, err)
				continue
			}
			if _, ok := t.POFs[p.POF]; !ok {
				errs = append(errs, r.Errorf("unknown POF %q", p.POF))
			}
			switch p.Kind {
			case "provider_type":
				p.Value = strings.ToLower(p.Value)
				if _, ok := t.ProviderTypes[p.Value]; !ok {
					errs = append(errs, r.Errorf("unknown provider type %q", p.Value))
				}
			case "community_support":
				p.Value = strings.ToUpper(p.Value)
			default:
				errs = append(errs, r.Errorf("kind %q is not provider_type or community_support", p.Kind))
			}
			t.Figure5 = append(t.Figure5, p)
		}
	}
	if th, err := LoadUtilizationThresholds(fsys, t.POFs); err != nil {
		errs = append(errs, err)
	} else {
		t.Utilization = th
	}
	if at, err := LoadAdmissionTypes(fsys); err != nil {
		errs = append(errs, err)
	} else {
		t.AdmissionTypes = at
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// DefaultTables returns the embedded tables.
func DefaultTables() *Tables {
	t, err := LoadTables(DataFS(""))
	if err != nil {
		panic("rules: embedded tables: " + err.Error())
	}
	return t
}

// CountyCode accepts a two-digit county code ("19", or "9" for "09") or a
// county name ("Los Angeles", any case) and returns the code.
func (t *Tables) CountyCode(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 1 && allDigits(s) {
		s = "0" + s
	}
	if _, ok := t.Counties[s]; ok {
		return s, true
	}
	code, ok := t.countyByName[normName(s)]
	return code, ok
}

// POFLiveFrom returns the date pof went live in county (a code), and false
// when the tables give none. A county row wins over the statewide row.
func (t *Tables) POFLiveFrom(pof, county string) (civil.Date, bool) {
	var statewide civil.Date
	found := false
	for _, g := range t.GoLive {
		if g.POF != pof {
			continue
		}
		if g.County == county {
			return g.From, true
		}
		if g.County == "*" {
			statewide, found = g.From, true
		}
	}
	return statewide, found
}

// StreamlinedPair reports whether a provider with these types, offering
// these Community Supports (coding-table service ids), is a Figure 5 pair
// for pof on dos.
func (t *Tables) StreamlinedPair(pof string, providerTypes, communitySupports []string, dos civil.Date) bool {
	for _, p := range t.Figure5 {
		if p.POF != pof || dos < p.From || (p.To != 0 && dos > p.To) {
			continue
		}
		switch p.Kind {
		case "provider_type":
			if slices.Contains(providerTypes, p.Value) {
				return true
			}
		case "community_support":
			if slices.Contains(communitySupports, p.Value) {
				return true
			}
		}
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// openEnd is a table row's last day in force: its effective_to, or the
// last civil date when the row is open-ended (0).
func openEnd(d civil.Date) civil.Date {
	if d == 0 {
		return 99991231
	}
	return d
}
