package providerfile

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/x274"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	mp "github.com/calaim-gateway/calaim-gateway/mappings/providerfile"
	"github.com/calaim-gateway/calaim-gateway/pipelines/contracts"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

type env struct {
	dir string
	st  *store.SQLite
	cfg *config.Config
	m   *rules.ProviderFileMapping
}

func newEnv(t *testing.T, rosters ...string) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := config.Default()
	rs, err := cfg.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	m := rs.ProviderFile
	var paths []string
	for _, r := range rosters {
		if !filepath.IsAbs(r) {
			r = filepath.Join("..", "..", "testdata", "roster", r)
		}
		paths = append(paths, r)
	}
	res, err := contracts.Ingest(context.Background(), st, TablesOf(rs), paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.Loaded() {
			t.Fatalf("%s: %v", r.Path, r.Problems)
		}
	}
	return &env{dir: dir, st: st, cfg: cfg, m: m}
}

var when = time.Date(2026, 10, 2, 7, 15, 0, 0, time.UTC)

func (e *env) run(t *testing.T, month, out string) *Result {
	t.Helper()
	mo, err := mp.ParseMonth(month)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Job{Month: mo, OutDir: filepath.Join(e.dir, out), Store: e.st, Config: e.cfg, Mapping: e.m, Now: when})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestOneValidFilePerCountyServed(t *testing.T) {
	e := newEnv(t, "demo-roster.csv", "sample-roster.csv")
	res := e.run(t, "2026-09", "out")
	// Sites in force in September 2026: demo 38, 19, 10 (Valley Meals from
	// the 15th); sample 01 (both East Bay sites? the Fruitvale one ended
	// 2026-06-30: one), 19 (Harbor), 37, 20 (Madera), 38 (Mission Street
	// Medicine, to 2026-09-30); not 34 (Capitol MTM starts in October).
	var counties []string
	for _, f := range res.Files {
		counties = append(counties, f.County)
	}
	if got, want := strings.Join(counties, " "), "01 10 19 20 37 38"; got != want {
		t.Fatalf("counties %q, want %q", got, want)
	}
	isa := map[int64]bool{}
	for _, o := range res.Files {
		if filepath.Base(o.Path) != FileName(mp.Month{Year: 2026, Month: 9}, o.County, o.Interchange) {
			t.Errorf("file name %s", o.Path)
		}
		isa[o.Interchange] = true
		data, err := os.ReadFile(o.Path)
		if err != nil {
			t.Fatal(err)
		}
		reg := &ig.Registry{}
		if err := x274.Register(reg); err != nil {
			t.Fatal(err)
		}
		sum, err := ig.NewValidator(ig.Options{Registry: reg, OnFinding: func(f *ig.Finding) { t.Errorf("%s: %s", filepath.Base(o.Path), f.String()) }}).Validate(context.Background(), bytes.NewReader(data))
		if err != nil || !sum.OK() || sum.Transactions != 1 {
			t.Errorf("%s: %+v %v", o.Path, sum, err)
		}
		f, err := x274.Read(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if f.ReceiverID != "DHCS-PROV-NETWK" || f.AuthQualifier != "03" || f.AuthInfo != "2609" || f.Interchange != o.Interchange {
			t.Errorf("%s envelope: %+v", o.Path, f)
		}
		for _, s := range f.Sites() {
			if s.CountyCode() != o.County {
				t.Errorf("%s holds a site of county %q", o.Path, s.CountyCode())
			}
		}
		if len(f.Sites()) != o.Sites {
			t.Errorf("%s: %d sites, result says %d", o.Path, len(f.Sites()), o.Sites)
		}
	}
	if len(isa) != len(res.Files) {
		t.Errorf("interchange control numbers repeat: %v", isa)
	}
	la := res.Files[2]
	if la.County != "19" || la.Groups != 2 || la.Sites != 2 || la.Providers != 2 {
		t.Errorf("Los Angeles: %+v", la)
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(filepath.Join(e.dir, "out"))
	if len(entries) != len(res.Files) {
		t.Errorf("%d entries in the output directory for %d files", len(entries), len(res.Files))
	}
}

var controlNumbers = regexp.MustCompile(`(?m)(ISA\*(?:[^*]*\*){12})\d{9}|(GS\*(?:[^*]*\*){5})\d+|(ST\*274\*)\d+|(BHT\*0028\*27\*\d{6}-\d\d-)\d{9}|(SE\*\d+\*)\d+|(GE\*1\*)\d+|(IEA\*1\*)\d{9}`)

func mask(b []byte) string {
	return controlNumbers.ReplaceAllString(string(b), "$1$2$3$4$5$6$7#")
}

func TestRerunNeverReusesControlNumbers(t *testing.T) {
	e := newEnv(t, "demo-roster.csv")
	first := e.run(t, "2026-09", "out")
	second := e.run(t, "2026-09", "out")
	if len(first.Files) != 3 || len(second.Files) != 3 {
		t.Fatalf("files: %d and %d", len(first.Files), len(second.Files))
	}
	seen := map[int64]string{}
	for _, o := range append(first.Files, second.Files...) {
		if prev, dup := seen[o.Interchange]; dup {
			t.Errorf("ISA13 %d used by %s and %s", o.Interchange, prev, o.Path)
		}
		seen[o.Interchange] = o.Path
	}
	for i := range first.Files {
		a, _ := os.ReadFile(first.Files[i].Path)
		b, _ := os.ReadFile(second.Files[i].Path)
		if bytes.Equal(a, b) {
			t.Errorf("county %s: the re-run wrote the same bytes (same control numbers)", first.Files[i].County)
		}
		if mask(a) != mask(b) {
			t.Errorf("county %s: the re-run differs beyond control numbers:\n%s\n%s", first.Files[i].County, mask(a), mask(b))
		}
		if !strings.Contains(mask(a), "IEA*1*#") {
			t.Errorf("mask did not apply: %s", mask(a))
		}
	}
	// A new store handle (a new calgw process) continues the sequence.
	dir := filepath.Join(e.dir, "state")
	e.st.Close()
	st2, err := store.OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	e.st = st2
	third := e.run(t, "2026-09", "out")
	for _, o := range third.Files {
		if _, dup := seen[o.Interchange]; dup {
			t.Errorf("after reopening, ISA13 %d is reused", o.Interchange)
		}
	}
}

func TestNoSites(t *testing.T) {
	e := newEnv(t, "demo-roster.csv")
	mo, _ := mp.ParseMonth("2020-01")
	_, err := Run(context.Background(), Job{Month: mo, OutDir: filepath.Join(e.dir, "out"), Store: e.st, Config: e.cfg, Mapping: e.m, Now: when})
	if !errors.Is(err, ErrNoSites) {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "out")); err == nil {
		entries, _ := os.ReadDir(filepath.Join(e.dir, "out"))
		if len(entries) > 0 {
			t.Errorf("files written: %v", entries)
		}
	}
}

// failingStore fails the n-th control number reservation.
type failingStore struct {
	*store.SQLite
	calls, failAt int
}

func (f *failingStore) NextControlNumber(ctx context.Context, scope string) (int64, error) {
	f.calls++
	if f.calls == f.failAt {
		return 0, errors.New("disk full")
	}
	return f.SQLite.NextControlNumber(ctx, scope)
}

func (f *failingStore) ProviderSiteRecords(ctx context.Context, from, to civil.Date) ([][]byte, error) {
	return f.SQLite.ProviderSiteRecords(ctx, from, to)
}

func TestAFailureLeavesNoFile(t *testing.T) {
	e := newEnv(t, "demo-roster.csv")
	mo, _ := mp.ParseMonth("2026-09")
	out := filepath.Join(e.dir, "out")
	fs := &failingStore{SQLite: e.st, failAt: 7} // the third county's ISA13: two files are complete by then
	if _, err := Run(context.Background(), Job{Month: mo, OutDir: out, Store: fs, Config: e.cfg, Mapping: e.m, Now: when}); err == nil {
		t.Fatal("no error")
	}
	entries, _ := os.ReadDir(out)
	for _, en := range entries {
		t.Errorf("left behind: %s", en.Name())
	}
	// The numbers reserved before the failure are not handed out again.
	res := e.run(t, "2026-09", "out")
	if res.Files[0].Interchange != 3 {
		t.Errorf("first ISA13 after the failed run = %d, want 3 (1 and 2 went to the failed run's files)", res.Files[0].Interchange)
	}
}
