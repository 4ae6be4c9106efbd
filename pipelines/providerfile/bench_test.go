package providerfile

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	mp "github.com/calaim-gateway/calaim-gateway/mappings/providerfile"
	"github.com/calaim-gateway/calaim-gateway/pipelines/contracts"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

const benchSites = 50_000

// npi returns the i-th NPI with a valid check digit.
func npi(i int) string {
	base := fmt.Sprintf("1%08d", 10_000_000+i)
	for d := '0'; d <= '9'; d++ {
		if s := base + string(d); rules.ValidNPI(s) {
			return s
		}
	}
	panic("no check digit")
}

// writeRoster writes a roster of n sites: organizations of five sites
// spread over the 58 counties, each with ECM populations of focus or
// Community Supports or both.
func writeRoster(tb testing.TB, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "npi,tin,organization_name,site_name,site_address,site_city,site_state,site_zip,county,phone,taxonomy,provider_types,ecm_pofs,community_supports,contract_start,contract_end,medi_cal_enrolled,capacity_current,capacity_max,languages,accessibility,practitioner_npi,practitioner_name")
	pofs := []string{"POF1A;POF3A", "", "POF1B;POF4A;POF8"}
	cs := []string{"", "CS12", "CS01;CS02"} // with pofs: ECM only, CS only, both
	for i := range n {
		org := i / 5
		fmt.Fprintf(w, "%s,94-%07d,Org %d,Org %d - Site %d,%d Main St,Town %d,CA,9%04d,%02d,415-555-%04d,251S00000X,community_based_org,%s,%s,2025-01-01,,Y,10,20,en;es,,,\n",
			npi(org), org, org, org, i, 100+i, i%500, i%10000, 1+i%58, i%10000, pofs[i%3], cs[i%3])
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
}

// BenchmarkRoster50kTo274 ingests a roster of 50,000 sites into the store
// and writes (and validates) the month's 274 files, one per county; the
// baseline is an encoding/csv read of the same roster. Reports sites/s of
// each step and the ratio to the baseline.
func BenchmarkRoster50kTo274(b *testing.B) {
	dir := b.TempDir()
	roster := filepath.Join(dir, "roster.csv")
	writeRoster(b, roster, benchSites)
	cfg := config.Default()
	rs, err := cfg.LoadRules()
	if err != nil {
		b.Fatal(err)
	}
	m := rs.ProviderFile
	month, _ := mp.ParseMonth("2026-09")
	var read, ingest, write time.Duration
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		readCSV(b, roster)
		t1 := time.Now()
		st, err := store.OpenSQLite(context.Background(), filepath.Join(dir, fmt.Sprintf("state-%d", i)))
		if err != nil {
			b.Fatal(err)
		}
		res, err := contracts.Ingest(context.Background(), st, TablesOf(rs), []string{roster}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if r := res[0]; !r.Loaded() || r.Rows != benchSites {
			b.Fatalf("ingest: %d rows, %d problems, first: %v", r.Rows, len(r.Problems), r.Problems[:min(len(r.Problems), 3)])
		}
		t2 := time.Now()
		out, err := Run(context.Background(), Job{Month: month, OutDir: filepath.Join(dir, fmt.Sprintf("out-%d", i)), Store: st, Config: cfg, Mapping: m, Now: time.Date(2026, 10, 2, 7, 0, 0, 0, time.UTC)})
		if err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		if len(out.Files) != 58 {
			b.Fatalf("%d files, want one per county (58)", len(out.Files))
		}
		st.Close()
		read, ingest, write = read+t1.Sub(t0), ingest+t2.Sub(t1), write+t3.Sub(t2)
	}
	n := float64(b.N) * benchSites
	b.ReportMetric(n/read.Seconds(), "csv-read-sites/s")
	b.ReportMetric(n/ingest.Seconds(), "ingest-sites/s")
	b.ReportMetric(n/write.Seconds(), "274-sites/s")
	b.ReportMetric(float64(ingest+write)/float64(read), "x-csv-read")
}

func readCSV(tb testing.TB, path string) {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.ReuseRecord = true
	for {
		if _, err := r.Read(); err == io.EOF {
			return
		} else if err != nil {
			tb.Fatal(err)
		}
	}
}
