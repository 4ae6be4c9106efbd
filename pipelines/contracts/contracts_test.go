package contracts

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/demo"
	"github.com/calaim-gateway/calaim-gateway/mappings/roster"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

var tables = roster.Tables{Rules: rules.DefaultTables(), Coding: rules.DefaultCodingTable()}

func rosterPath(name string) string { return filepath.Join("..", "..", "testdata", "roster", name) }

func openStore(t *testing.T) *store.SQLite {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestIngest(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	// A roster with problems is not loaded at all.
	res, err := Ingest(ctx, st, tables, []string{rosterPath("bad-roster.csv")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Loaded() || len(res[0].Problems) < 8 || res[0].Rows != 8 {
		t.Fatalf("bad roster: %+v", res[0])
	}
	if ok, _ := st.RosterLoaded(ctx); ok {
		t.Fatal("a roster with problems was loaded")
	}
	if cs, _ := st.Contracts(ctx, "1582345678"); len(cs) != 0 {
		t.Fatalf("a good row of a bad roster was loaded: %v", cs)
	}
	// A good roster loads; the same file again is a no-op; the XLSX form of
	// the same sites changes nothing.
	res, err = Ingest(ctx, st, tables, []string{rosterPath("sample-roster.csv"), rosterPath("sample-roster.csv"), rosterPath("sample-roster.xlsx")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l := res[0].Load; !res[0].Loaded() || l.Inserted != 7 || l.AlreadyLoaded {
		t.Errorf("first: %+v", res[0])
	}
	if l := res[1].Load; !l.AlreadyLoaded || l.PriorName != "sample-roster.csv" {
		t.Errorf("second: %+v", res[1])
	}
	if l := res[2].Load; l.AlreadyLoaded || l.Unchanged != 7 || l.Inserted+l.Updated != 0 {
		t.Errorf("XLSX: %+v", res[2])
	}
	cs, err := st.Contracts(ctx, "1881234565")
	if err != nil || len(cs) != 2 {
		t.Fatalf("East Bay: %v %v", cs, err)
	}
	// Stored records come back as the decoder made them.
	recs, err := st.ProviderSiteRecords(ctx, 20260901, 20260930)
	if err != nil {
		t.Fatal(err)
	}
	sites, err := DecodeSites(recs)
	if err != nil || len(sites) != 5 {
		t.Fatalf("September sites: %d %v", len(sites), err)
	}
	for _, s := range sites {
		if s.Key() == "" || s.Source.Row != 0 || s.Organization == "" || len(s.Types) == 0 {
			t.Errorf("site %+v", s)
		}
	}
	// Not a roster at all.
	inv := filepath.Join("..", "..", "testdata", "invoices", "invoice-template.csv")
	if _, err := Ingest(ctx, st, tables, []string{inv}, nil); !errors.Is(err, ErrUnusable) || !strings.Contains(err.Error(), "missing column") {
		t.Errorf("invoice as roster: %v", err)
	}
}

func TestJudgeModes(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	line := &domain.InvoiceLine{From: 20260903, To: 20260903}
	line.Billing.NPI = "1582345678"
	leg, _ := tables.Coding.Lookup("G9008", []string{"U1"}, 20260903)

	j, err := New(ctx, ModeAuto, st, nil)
	if err != nil || j.Active() {
		t.Fatalf("auto without a roster: active=%v %v", j.Active(), err)
	}
	if ds, _ := j.Judge(ctx, nil, line, leg); len(ds) != 0 {
		t.Errorf("inactive judge rejected: %v", ds)
	}
	j, _ = New(ctx, ModeOn, st, nil)
	if ds, _ := j.Judge(ctx, nil, line, leg); len(ds) != 1 || ds[0].Rule != rules.ProviderNotContracted {
		t.Errorf("on, no roster: %v", ds)
	}
	if _, err := Ingest(ctx, st, tables, []string{rosterPath("demo-roster.csv")}, nil); err != nil {
		t.Fatal(err)
	}
	j, _ = New(ctx, ModeAuto, st, nil)
	if !j.Active() {
		t.Fatal("auto with a roster is inactive")
	}
	if ds, _ := j.Judge(ctx, nil, line, leg); len(ds) != 0 {
		t.Errorf("contracted ECM line rejected: %v", ds)
	}
	// The POF hook narrows ECM to the population of focus of the line.
	j.POF = func(context.Context, *domain.InvoiceLine) (string, error) { return "POF9", nil }
	if ds, _ := j.Judge(ctx, nil, line, leg); len(ds) != 1 || !strings.Contains(ds[0].Message, "POF9") {
		t.Errorf("wrong POF: %v", ds)
	}
	j, _ = New(ctx, ModeOff, st, nil)
	line.Billing.NPI = "1234567893"
	if ds, _ := j.Judge(ctx, nil, line, leg); len(ds) != 0 {
		t.Errorf("off: %v", ds)
	}
	if _, err := New(ctx, "sometimes", st, nil); err == nil {
		t.Error("bad mode accepted")
	}
}

// countingDir counts directory look-ups.
type countingDir struct {
	Directory
	calls int
}

func (c *countingDir) Contracts(ctx context.Context, npi string) ([]domain.ProviderContract, error) {
	c.calls++
	return c.Directory.Contracts(ctx, npi)
}

func TestJudgeCachesPerNPI(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	if _, err := Ingest(ctx, st, tables, []string{rosterPath("demo-roster.csv")}, nil); err != nil {
		t.Fatal(err)
	}
	dir := &countingDir{Directory: st}
	j, _ := New(ctx, ModeOn, dir, nil)
	leg, _ := tables.Coding.Lookup("S5170", []string{"U6"}, 20260920)
	for _, npi := range []string{"1673456780", "1673456780", "1456789019", "1673456780"} {
		l := &domain.InvoiceLine{From: 20260920}
		l.Billing.NPI = npi
		if _, err := j.Judge(ctx, nil, l, leg); err != nil {
			t.Fatal(err)
		}
	}
	if dir.calls != 2 {
		t.Errorf("%d look-ups for 2 NPIs", dir.calls)
	}
}

// TestConvertWithRoster runs the demo invoices through convert with the
// demo roster and 834 loaded: Valley Meals' contract starts on 2026-09-15,
// so its lines for 1–14 September (rows 2 and 4; row 4's 5-digit billing
// ZIP is completed by the roster's site) are PROVIDER-NOT-CONTRACTED and
// the line of the 15th (row 3) goes out; every other line that passes the
// stateless rules is contracted.
func TestConvertWithRoster(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := Ingest(ctx, st, tables, []string{rosterPath("demo-roster.csv")}, nil); err != nil {
		t.Fatal(err)
	}
	enrollment, err := demo.Reference(dir, "enrollment.834") // the members' addresses
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Load(rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := ingest.Ingest834(ctx, ingest.Job{Files: []string{enrollment}, OutDir: dir, Store: st, Config: config.Default(),
		Coding: rs.Coding, Tables: rs.Tables, Data: rs.Data}); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	inputs, err := demo.Inputs(filepath.Join(dir, "in"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := New(ctx, ModeAuto, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := encounters.Convert(ctx, encounters.Job{Inputs: inputs, OutDir: filepath.Join(dir, "out"), Store: st, Config: config.Default(),
		Coding: tables.Coding, Judges: []encounters.Judge{j}, Today: 20261123})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Summary.ByRule[rules.ProviderNotContracted]; got != 2 {
		t.Errorf("PROVIDER-NOT-CONTRACTED %d, want 2 (by rule %v)", got, res.Summary.ByRule)
	}
	f, err := os.Open(res.RejectsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, r := range recs[1:] {
		if r[4] == rules.ProviderNotContracted {
			rows = append(rows, r[0]+":"+r[1]+":"+r[5])
			if !strings.Contains(r[6], "1673456780") || !strings.Contains(r[6], "CS12") || !strings.Contains(r[6], "2026-09-15") {
				t.Errorf("message %q", r[6])
			}
		}
	}
	if got := strings.Join(rows, " "); got != "valley-meals-2026-09.xlsx:2:billing_npi valley-meals-2026-09.xlsx:4:billing_npi" {
		t.Errorf("rejected rows %q", got)
	}
	var valley, bay, golden int
	for _, fs := range res.Summary.Files {
		switch {
		case strings.HasPrefix(fs.Name, "valley"):
			valley = fs.Accepted
		case strings.HasPrefix(fs.Name, "bay"):
			bay = fs.Accepted
		case strings.HasPrefix(fs.Name, "golden"):
			golden = fs.Accepted
		}
	}
	if valley != 1 || bay != 5 || golden != 2 {
		t.Errorf("accepted: valley %d bay %d golden %d", valley, bay, golden)
	}
}

// TestRosterLimits reads rosters within limits set low: a record longer
// than csv_record_bytes or wider than fields_per_row refuses the file
// (ErrUnusable naming the file, the line and the limit), nothing loaded;
// a roster of many bad rows keeps findings_per_file problems and counts
// the rest, so its memory does not grow with the rows.
func TestRosterLimits(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	good, err := os.ReadFile(rosterPath("sample-roster.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(good), "\n", 3)
	header, firstRow := lines[0]+"\n", lines[1]
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	long := write("long.csv", string(header)+firstRow+"\n"+strings.Repeat("y", 3000)+"\n")
	wide := write("wide.csv", string(header)+firstRow+"\n"+strings.Repeat(",", 200)+"\n")
	var bad strings.Builder
	bad.WriteString(string(header))
	for range 500 {
		bad.WriteString(strings.Repeat("x,", 22) + "x\n")
	}
	many := write("many.csv", bad.String())

	lim := config.Limits{CSVRecordBytes: 2048, FieldsPerRow: 100, FindingsPerFile: 5}
	for _, c := range []struct{ file, want string }{
		{long, "long.csv: csv line 3: a record longer than 2048 bytes (MaxRecordBytes, limits.csv_record_bytes)"},
		{wide, "wide.csv: csv line 3: more than 100 fields in one record (MaxColumns, limits.fields_per_row)"},
	} {
		_, err := IngestWithin(ctx, st, tables, []string{c.file}, nil, lim)
		if !errors.Is(err, ErrUnusable) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrUnusable with %q", filepath.Base(c.file), err, c.want)
		}
	}
	if ok, _ := st.RosterLoaded(ctx); ok {
		t.Fatal("a refused roster was loaded")
	}
	res, err := IngestWithin(ctx, st, tables, []string{many}, nil, lim)
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if r.Loaded() || r.Rows != 500 || len(r.Problems) != 5 || r.More < 500 || r.ProblemCount() != len(r.Problems)+r.More {
		t.Errorf("many bad rows: %d rows, %d problems kept, %d more", r.Rows, len(r.Problems), r.More)
	}
	for i, p := range r.Problems {
		if p.File != "many.csv" || p.Row < 2 || p.Column == "" {
			t.Errorf("problem %d names no file, row and column: %+v", i, p)
		}
	}
	// The same limits at their defaults read the same rows whole.
	res, err = IngestWithin(ctx, st, tables, []string{many}, nil, config.Limits{})
	if err != nil || len(res[0].Problems) != res[0].ProblemCount() || res[0].More != 0 {
		t.Errorf("default limits: %v %d kept, %d more", err, len(res[0].Problems), res[0].More)
	}
	// A roster of more sites than roster_sites is refused and nothing loaded.
	two := write("two.csv", header+firstRow+"\n"+firstRow+"\n")
	_, err = IngestWithin(ctx, st, tables, []string{two}, nil, config.Limits{RosterSites: 1})
	if want := "two.csv: row 3: more than 1 sites in one roster (limits.roster_sites)"; !errors.Is(err, ErrUnusable) || !strings.Contains(err.Error(), want) {
		t.Errorf("roster_sites: %v, want ErrUnusable with %q", err, want)
	}
	if ok, _ := st.RosterLoaded(ctx); ok {
		t.Fatal("a roster past roster_sites was loaded")
	}
}
