package providerfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/x274"
	mp "github.com/calaim-gateway/calaim-gateway/mappings/providerfile"
	"github.com/calaim-gateway/calaim-gateway/mappings/roster"
	"github.com/calaim-gateway/calaim-gateway/pipelines/contracts"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// FuzzRosterTo274 loads any bytes as a provider roster (`calgw ingest
// --kind roster`) into a new store, then writes September 2026's 274s
// (`calgw provider-file`), and checks that nothing is lost or invented:
//   - a roster that cannot be read is an ErrUnusable naming the file, and
//     nothing of it is stored;
//   - a roster with problems is not loaded at all, and each problem names
//     the file and a row read;
//   - a roster without problems stores one site per row read, and the
//     month's 274s hold exactly the sites of the rows in force during the
//     month (by NPI and ZIP code), each file passing our 004050X109
//     table; none in force: ErrNoSites and no file.
func FuzzRosterTo274(f *testing.F) {
	for _, p := range []string{"demo-roster.csv", "sample-roster.csv", "bad-roster.csv", "roster-template.csv"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "roster", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "roster", "demo-roster.csv"))
	if err != nil {
		f.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	f.Add(bytes.Join([][]byte{lines[0], lines[1], lines[1]}, nil)) // a site twice
	f.Add(bytes.Join([][]byte{lines[0], []byte("a,b\n")}, nil))

	cfg := config.Default()
	rs, err := cfg.LoadRules()
	if err != nil {
		f.Fatal(err)
	}
	tables := TablesOf(rs)
	month := mp.Month{Year: 2026, Month: 9}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		st, err := store.OpenSQLite(ctx, filepath.Join(dir, "state"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		path := filepath.Join(dir, "in.csv")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rows, sites, readable := readRoster(path, tables, cfg.Limits)
		res, err := contracts.IngestWithin(ctx, st, tables, []string{path}, nil, cfg.Limits)
		stored, serr := st.ProviderSiteRecords(ctx, 1, 99991231)
		if serr != nil {
			t.Fatal(serr)
		}
		if err != nil {
			if !errors.Is(err, contracts.ErrUnusable) || !strings.Contains(err.Error(), "in.csv") {
				t.Fatalf("an error that is not ErrUnusable naming the file: %v", err)
			}
			if readable {
				t.Fatalf("a roster the reader reads within the limits is unusable: %v", err)
			}
			if len(stored) > 0 {
				t.Fatalf("unusable (%v), and %d site(s) stored", err, len(stored))
			}
			return
		}
		if !readable || len(res) != 1 {
			t.Fatalf("a roster the reader refuses was read: %+v", res)
		}
		r := res[0]
		if r.Rows != len(rows) {
			t.Fatalf("%d rows read, the reader gives %d", r.Rows, len(rows))
		}
		if !r.Loaded() {
			for _, p := range r.Problems {
				if p.File != "in.csv" || !slices.Contains(rows, p.Row) {
					t.Fatalf("a problem of no row read: %+v", p)
				}
			}
			if len(stored) > 0 {
				t.Fatalf("a roster with problems, and %d site(s) stored", len(stored))
			}
			return
		}
		if len(stored) != len(rows) || len(sites) != len(rows) {
			t.Fatalf("%d rows, %d sites decoded, %d stored", len(rows), len(sites), len(stored))
		}
		var want []string
		for i := range sites {
			if sites[i].InForceDuring(month.First(), month.Last()) {
				want = append(want, siteID(sites[i].NPI, sites[i].Address.Zip))
			}
		}
		out := filepath.Join(dir, "out")
		pf, err := Run(ctx, Job{Month: month, OutDir: out, Store: st, Config: cfg, Mapping: rs.ProviderFile})
		entries, _ := os.ReadDir(out)
		if err != nil {
			if len(entries) > 0 {
				t.Fatalf("failed (%v), and left %d file(s)", err, len(entries))
			}
			if !errors.Is(err, ErrNoSites) || len(want) > 0 {
				t.Fatalf("%d site(s) in force: %v", len(want), err)
			}
			return
		}
		if len(entries) != len(pf.Files) {
			t.Fatalf("%d file(s) written, the result names %d", len(entries), len(pf.Files))
		}
		var got []string
		for _, o := range pf.Files {
			data, err := os.ReadFile(o.Path)
			if err != nil {
				t.Fatal(err)
			}
			reg := &ig.Registry{}
			if err := x274.Register(reg); err != nil {
				t.Fatal(err)
			}
			var findings []string
			sum, err := ig.NewValidator(ig.Options{Registry: reg, OnFinding: func(f *ig.Finding) { findings = append(findings, f.String()) }}).Validate(ctx, bytes.NewReader(data))
			if err != nil || !sum.OK() || sum.Transactions != 1 || len(findings) > 0 {
				t.Fatalf("%s fails the 274 table: %v %+v %q", filepath.Base(o.Path), err, sum, findings)
			}
			file, err := x274.Read(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range file.Sites() {
				got = append(got, siteID(s.NPI, s.Address.Zip))
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("sites in the 274s %q, in force in the roster %q", got, want)
		}
	})
}

func siteID(npi, zip string) string {
	if len(zip) > 5 {
		zip = zip[:5]
	}
	return npi + " " + zip
}

// readRoster reads the roster as the ingest does (the reader within the
// limits, the roster decoder): the numbers of its data rows, its sites
// when no row has a problem, and whether the whole file can be read.
func readRoster(path string, t roster.Tables, lim config.Limits) ([]int, []roster.Site, bool) {
	lim = lim.WithDefaults()
	r, err := tabular.OpenWith(path, &tabular.Options{MaxRecordBytes: lim.CSVRecordBytes, MaxColumns: lim.FieldsPerRow})
	if err != nil {
		return nil, nil, false
	}
	defer r.Close()
	dec, err := roster.NewDecoder(r.Header, r.Format, filepath.Base(path), t)
	if err != nil {
		return nil, nil, false
	}
	var rows []int
	var sites []roster.Site
	bad := false
	for {
		row, err := r.Next()
		if err == io.EOF {
			if bad {
				sites = nil
			}
			return rows, sites, len(rows) <= lim.RosterSites
		}
		var re *tabular.RowError
		if errors.As(err, &re) {
			rows, bad = append(rows, re.Row), true
			continue
		}
		if err != nil {
			return nil, nil, false
		}
		rows = append(rows, row.Number)
		var s roster.Site
		if len(dec.Decode(row, &s)) > 0 {
			bad = true
			continue
		}
		sites = append(sites, s)
	}
}
