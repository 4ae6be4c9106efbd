package inbound837

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen837p"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// TestSameAnswersOnPostgres: with the eligibility rules on, the same 834
// loaded and the same two 837P files ingested (the second repeats the
// first's claims from another submitter), the PostgreSQL store gives the
// same 999s, 277CAs, reports and encounter lines as SQLite, byte for byte.
// Both stores' runs and views read a batch's lines and members in one pass
// before the judges decide the lines one at a time; this pins that
// PostgreSQL's decide as SQLite's do. The files are a mix: claims accepted,
// claims rejected for eligibility (members the 834 does not list), and in
// the second file claims rejected as repeats of the first's lines waiting
// to be sent. The first file's encounter lines, sent on to DHCS twice, give
// the same 837P, then the same rejections as repeats.
func TestSameAnswersOnPostgres(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, w io.WriterTo) string {
		t.Helper()
		var b bytes.Buffer
		if _, err := w.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	members := write("members.834", gen834.Options{Members: 600, Full: true, BirthDate: gen837p.BirthDate, Seed: 5})
	first := write("first.x12", gen837p.Options{Claims: 2000, PerSet: 300, Members: 997})
	second := write("second.x12", gen837p.Options{Claims: 2000, PerSet: 700, Members: 997, Submitter: "OTHERSYS"})

	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Eligibility.Rules = config.RulesAll
	rs, err := rules.Load(rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 16, 9, 30, 0, 0, time.UTC)
	run := func(st interface {
		ingest.Store
		store.Store
	}) (map[string]string, []ingest.Result) {
		t.Helper()
		ctx := context.Background()
		out := t.TempDir()
		if r := ingest.Ingest834(ctx, ingest.Job{Files: []string{members}, OutDir: out, Store: st, Config: cfg, Coding: rs.Coding,
			Tables: rules.DefaultTables(), Data: rules.DefaultEligibilityTables()}); len(r) != 1 || r[0].Err != nil || r[0].Loaded != 600 {
			t.Fatalf("834: %+v", r)
		}
		var results []ingest.Result
		for _, f := range []string{first, second} {
			r := Ingest(ctx, ingest.Job{Files: []string{f}, OutDir: out, Store: st, Config: cfg, Coding: rs.Coding, Rules: rs, Now: func() time.Time { return now }})
			if len(r) != 1 || r[0].Err != nil {
				t.Fatalf("ingest %s: %+v", f, r)
			}
			results = append(results, r[0])
		}
		files := map[string]string{}
		// The first file's encounter lines sent on twice: the second
		// conversion finds every line sent.
		for i := range 2 {
			res, err := encounters.Convert(ctx, encounters.Job{Inputs: []string{results[0].Forward}, OutDir: t.TempDir(), Store: st,
				Config: cfg, Coding: rs.Coding, Today: 20261201, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("convert %d", i+1)
			if res.Output != "" {
				files[name+" 837"] = withoutRunIDs(readOut(t, filepath.Dir(res.Output), filepath.Base(res.Output)))
			}
			files[name+" rejects"] = withoutRunIDs(readOut(t, filepath.Dir(res.RejectsPath), filepath.Base(res.RejectsPath)))
			files[name+" counts"] = fmt.Sprint(res.Accepted(), res.Rejected())
		}
		for _, base := range []string{"first", "second"} {
			for _, suffix := range []string{Suffix999, Suffix277CA, SuffixReportCSV, SuffixEncounters} {
				b, err := os.ReadFile(filepath.Join(out, base+suffix))
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				files[base+suffix] = string(b) // "" when not written
			}
		}
		return files, results
	}

	lite, err := store.OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	want, wantResults := run(lite)

	srv := testsrv.Postgres(t)
	pg, err := store.OpenPostgres(context.Background(), srv.DSN, store.PostgresOptions{Owner: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	got, gotResults := run(pg)

	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s differs on PostgreSQL", name)
		}
	}
	for i := range wantResults {
		if g, w := gotResults[i], wantResults[i]; g.Read != w.Read || g.Rejected != w.Rejected || g.Sets != w.Sets {
			t.Errorf("file %d: PostgreSQL %+v, SQLite %+v", i+1, g, w)
		}
	}
	// The files are a mix, so the comparison means something.
	r1, r2 := wantResults[0], wantResults[1]
	if r1.Rejected == 0 || r1.Rejected == r1.Read {
		t.Errorf("first file: %d of %d claims rejected, want some but not all", r1.Rejected, r1.Read)
	}
	if !strings.Contains(want["first"+Suffix277CA], "STC*A7:97:QC*") {
		t.Error("first file: no claim rejected for eligibility")
	}
	if r2.Rejected != r2.Read {
		t.Errorf("second file: %d of %d claims rejected, want all (eligibility or repeats of the first's pending lines)", r2.Rejected, r2.Read)
	}
	if !strings.Contains(want["second"+SuffixReportCSV], "DUPLICATE-LINE") {
		t.Error("second file: no claim rejected as a repeat")
	}
	if want["convert 1 counts"] != fmt.Sprint(r1.Read-r1.Rejected, 0) || want["convert 2 counts"] != fmt.Sprint(0, r1.Read-r1.Rejected) {
		t.Errorf("conversions accepted and rejected %s then %s, want every line sent by the first", want["convert 1 counts"], want["convert 2 counts"])
	}
}

// lineControl is a line control (run ID, line number) in an 837P's
// REF*6R and in a duplicate's message.
var lineControl = regexp.MustCompile(`(REF\*6R\*|line control )[0-9]+-`)

// withoutRunIDs replaces the run IDs of the line controls in s: a
// PostgreSQL sequence moves on for the check runs rolled back, SQLite's
// row IDs do not, so the two stores number the same run differently.
func withoutRunIDs(s string) string { return lineControl.ReplaceAllString(s, "${1}RUN-") }
