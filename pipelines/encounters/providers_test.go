package encounters

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/rules"
)

// Each billing provider gets its own rejects and summary with its lines
// only; a line without a usable billing NPI goes to unknown-provider, and
// no file name is made from anything but a 10-digit NPI.
func TestProviderReports(t *testing.T) {
	e := newEnv(t)
	other := func(s string) string { return strings.Replace(s, "1456789019", "1234567893", 1) }
	in := e.file("mixed.csv", header,
		row("A-1", 1, 1, 1, "H0043", "U6"),                                              // provider 1456789019, accepted
		row("A-1", 2, 1, 2, "99213", ""),                                                // provider 1456789019, CODE-NOT-ALLOWED
		other(row("B-1", 1, 2, 3, "H0043", "U6")),                                       // provider 1234567893, accepted
		other(row("B-1", 2, 2, 4, "H0043", "U9")),                                       // provider 1234567893, rejected
		strings.Replace(row("C-1", 1, 3, 5, "H0043", "U6"), "1456789019", "../../x", 1), // no usable NPI
	)
	out := filepath.Join(e.dir, "out")
	res, err := Convert(context.Background(), Job{Inputs: []string{in}, OutDir: out, Store: e.state, Config: e.cfg,
		Coding: rules.DefaultCodingTable(), Today: 20261123, Now: time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC), ProviderReports: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{"1234567893": {1, 1}, "1456789019": {1, 1}, UnknownProvider: {0, 1}}
	if len(res.Providers) != len(want) {
		t.Fatalf("providers %+v", res.Providers)
	}
	for _, p := range res.Providers {
		w, ok := want[p.Provider]
		if !ok || p.Accepted != w[0] || p.Rejected != w[1] {
			t.Errorf("%+v, want %v", p, w)
		}
		if filepath.Dir(p.RejectsPath) != out || filepath.Base(p.RejectsPath) != "rejects-"+p.Provider+".csv" ||
			filepath.Base(p.SummaryPath) != "summary-"+p.Provider+".html" {
			t.Errorf("paths %s %s", p.RejectsPath, p.SummaryPath)
		}
		f, err := os.Open(p.RejectsPath)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		invoice := map[string]string{"1456789019": "A-1", "1234567893": "B-1", UnknownProvider: "C-1"}[p.Provider]
		if len(recs) < 2 {
			t.Fatalf("%s: no rejects", p.Provider)
		}
		for _, r := range recs[1:] {
			if r[2] != invoice {
				t.Errorf("%s's rejects hold invoice %s's line", p.Provider, r[2])
			}
		}
		page, err := os.ReadFile(p.SummaryPath)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(page), "Billing provider NPI <b>"+p.Provider+"</b>") {
			t.Errorf("%s: the page does not name its provider", p.Provider)
		}
	}
	// The run's own reports still hold every line.
	all, err := os.ReadFile(res.RejectsPath)
	if err != nil || strings.Count(string(all), "\n") < 4 {
		t.Fatalf("rejects.csv: %v\n%s", err, all)
	}
	names, _ := filepath.Glob(filepath.Join(e.dir, "x*"))
	if len(names) > 0 {
		t.Errorf("a file was made from a billing NPI value: %v", names)
	}

	// Without the option, no provider reports.
	res, err = e.convert("plain", e.file("b.csv", header, row("D-1", 1, 4, 6, "H0043", "U6")))
	if err != nil || len(res.Providers) != 0 {
		t.Fatalf("%v %+v", err, res.Providers)
	}
	if m, _ := filepath.Glob(filepath.Join(e.dir, "plain", "rejects-*")); len(m) > 0 {
		t.Errorf("provider reports written without the option: %v", m)
	}
}
