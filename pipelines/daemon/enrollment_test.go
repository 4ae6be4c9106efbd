package daemon

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

const (
	enrollmentData = "../../testdata/enrollment/"
	rosterData     = "../../testdata/roster/"
)

// feedRoutes routes the reference feeds by name, then invoices.
const feedRoutes = `
routes:
  - {pattern: "*.834", kind: "834"}
  - {pattern: "auth-*.csv", kind: auth}
  - {pattern: "programs-*.csv", kind: other_programs}
  - {pattern: "roster-*", kind: roster}
  - {pattern: "*.csv", kind: invoice}
  - {pattern: "*.xlsx", kind: invoice}
`

func readTestdata(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// responses lists what reached the senders' destination.
func (h *harness) responses() []string {
	return listDir(h.t, filepath.Join(h.dir, "outbox", "responses"))
}

func (h *harness) response(name string) []byte {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.dir, "outbox", "responses", name))
	if err != nil {
		h.t.Fatalf("response %s: %v (have %v)", name, err, h.responses())
	}
	return b
}

// check999 validates a 999 against 005010X231A1 (no finding wanted) and
// returns its ISA13.
func check999(t *testing.T, name string, b []byte) string {
	t.Helper()
	sum, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { t.Errorf("%s: %s", name, f.String()) }}).
		Validate(context.Background(), bytes.NewReader(b))
	if err != nil || !sum.OK() || sum.Transactions == 0 || !bytes.Contains(b, []byte("ST*999*")) {
		t.Errorf("%s is not a valid 999: %v %+v", name, err, sum)
	}
	isa := strings.Split(string(b[:min(len(b), 106)]), "*")
	if len(isa) < 14 {
		t.Fatalf("%s: no ISA", name)
	}
	return isa[13]
}

// A drop of each reference feed, good and bad, into a local source: each is
// loaded into the state (or not, as the feature says), its report (and an
// 834's 999) goes back to the sender, and the source is archived; files
// that are not what their route says are quarantined with a reason.
func TestFeedsLoadedAndReportedBack(t *testing.T) {
	dir := t.TempDir()
	h := startDaemon(t, dir, localConfig(dir, feedRoutes))
	ctx := context.Background()
	st := h.st.(*store.SQLite)
	member := func(cin string) bool {
		_, ok, err := st.Member(ctx, cin)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	cases := []struct {
		name, from string
		data       []byte
		quarantine string // the reason, when it is quarantined
		note       string // in the ledger's note
		reportRows int    // rows under the header (-1: do not count)
		reportHas  []string
		ack        []string // what the 999 holds; nil: no 999
		stored     func() bool
	}{
		{name: "sunrise-2026-09.834", from: enrollmentData + "demo-sunrise-2026-09.834",
			note: "834 loaded", reportRows: 0, stored: func() bool { return member("91234567A") && member("94567890D") }},
		// Five of seven members have bad data (testdata/enrollment: an
		// invalid DMG02, a dependent without its own ID, county 99, a
		// termination without a date, gender X): two are loaded. It is
		// dated after the period start of sunrise-2026-09.834, a full file
		// of its plan code, so that it is applied whichever loads first.
		{name: "bad-members.834", data: bytes.Replace(readTestdata(t, enrollmentData+"bad-members.834"), []byte("*20260301*0500****2~"), []byte("*20260915*0500****2~"), 1),
			note: "members read=7 loaded=2 rejected=5", reportRows: 6, reportHas: []string{"ENR-MEMBER-INVALID", "IK403 8"},
			ack:    []string{"IK5*E*5", "IK4*2*1251*8~"},
			stored: func() bool { return member("92000007G") && !member("92000002B") && !member("92000006F") }},
		// SE01 counts wrong: the transaction set is rejected, nothing loads.
		{name: "broken-envelope.834", from: enrollmentData + "broken-envelope.834",
			note: "834 NOT loaded", reportRows: 2, reportHas: []string{"ENR-SET-REJECTED", "IK502 4"}, ack: []string{"IK5*R*4"}},
		// Row 6 is an ECM initial authorization longer than 12 months.
		{name: "auth-2026-09.csv", from: enrollmentData + "demo-auth-2026-09.csv",
			note: "rows read=7 loaded=6 rejected=1", reportRows: 1, reportHas: []string{"AUTH-PERIOD-POLICY"},
			stored: func() bool {
				a, err := st.Authorizations(ctx, "94567890D")
				return err == nil && len(a) == 1 && a[0].Number == "AUTH-ECM-2001"
			}},
		// The last row ends before it starts.
		{name: "programs-2026-09.csv", from: enrollmentData + "other-programs.csv",
			note: "rows read=4 loaded=3 rejected=1", reportRows: -1, reportHas: []string{"PROGRAM-FEED-INVALID"},
			stored: func() bool {
				p, err := st.Programs(ctx, "91000007G")
				return err == nil && len(p) == 1 && p[0].Program == "hospice"
			}},
		{name: "roster-demo.csv", from: rosterData + "demo-roster.csv",
			note: "roster loaded: 3 site(s): 3 new", reportRows: 1, reportHas: []string{",info,\"roster loaded: 3 site(s): 3 new, 0 updated, 0 unchanged\""},
			stored: func() bool {
				c, err := st.Contracts(ctx, "1673456780")
				return err == nil && len(c) == 1
			}},
		// One problem per row (docs/providers.md): processed with a report,
		// not quarantined, and nothing of it loaded.
		{name: "roster-bad.csv", from: rosterData + "bad-roster.csv",
			note: "roster NOT loaded: 8 row(s), 9 problem(s)", reportRows: 10,
			reportHas: []string{"roster-bad.csv,2,npi,error,NPI 1456789010 fails the check digit", "roster-bad.csv,9,contract_end,error,", "roster NOT loaded"},
			stored: func() bool {
				c, err := st.Contracts(ctx, "1524680133")
				return err == nil && len(c) == 0
			}},
		{name: "roster-invoice.csv", data: invoice("NR-1", 1, 1), quarantine: "missing column"},
		{name: "not-x12.834", data: invoice("NX-1", 1, 1), quarantine: "not-x12.834"},
		{name: "programs-auth.csv", from: enrollmentData + "auth-feed.csv", quarantine: "not a other_programs feed: the header lacks program"},
	}
	for _, c := range cases {
		if c.data == nil {
			c.data = readTestdata(t, c.from)
		}
		h.write(c.name, c.data)
	}
	waitFor(t, 30*time.Second, "every feed done", settled(t, h.st, len(cases)))
	files := byName(t, h.st)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := files[c.name]
			if c.quarantine != "" {
				if e.State != store.FileQuarantined || !strings.Contains(e.Note, c.quarantine) {
					t.Fatalf("%s (%s), want quarantined for %q", e.State, e.Note, c.quarantine)
				}
				if _, err := os.Stat(filepath.Join(dir, "quarantine", c.name+".error.txt")); err != nil {
					t.Error(err)
				}
				return
			}
			if e.State != store.FileArchived || e.DuplicateOf != 0 || !strings.Contains(e.Note, c.note) {
				t.Fatalf("%s (%s), want archived with %q", e.State, e.Note, c.note)
			}
			if _, err := os.Stat(filepath.Join(dir, "archive", c.name)); err != nil {
				t.Errorf("not archived: %v", err)
			}
			stem := strings.TrimSuffix(c.name, filepath.Ext(c.name)) + "." + itoa(e.ID)
			report := string(h.response(stem + ".report.csv"))
			rows := strings.Split(strings.TrimSpace(report), "\n")
			if c.reportRows >= 0 && len(rows)-1 != c.reportRows {
				t.Errorf("report has %d rows, want %d:\n%s", len(rows)-1, c.reportRows, report)
			}
			for _, want := range c.reportHas {
				if !strings.Contains(report, want) {
					t.Errorf("report lacks %q:\n%s", want, report)
				}
			}
			ackName := stem + ".999"
			if c.ack == nil {
				if slices.Contains(h.responses(), ackName) {
					t.Errorf("a 999 for a file without implementation-guide errors")
				}
			} else {
				b := h.response(ackName)
				check999(t, ackName, b)
				for _, want := range c.ack {
					if !bytes.Contains(b, []byte(want)) {
						t.Errorf("999 lacks %s:\n%s", want, b)
					}
				}
			}
			if c.stored != nil && !c.stored() {
				t.Error("the store does not hold what the file loads")
			}
		})
	}
	// Nothing for DHCS; no member data in the log.
	if got := listDir(t, filepath.Join(dir, "outbox", "dhcs")); len(got) != 0 {
		t.Errorf("feeds delivered to DHCS: %v", got)
	}
	h.stop()
	for _, phi := range []string{"91234567A", "92000002B", "RIVERA", "19780412", "20260231"} {
		if strings.Contains(h.log.String(), phi) {
			t.Errorf("the log holds member data %q", phi)
		}
	}
}

// The same content twice is loaded once: the ledger archives the second
// copy as a duplicate, and content loaded before outside the daemon (`calgw
// ingest`) is reported "already loaded" with its 999 written again.
func TestFeedSameContentTwiceIsLoadedOnce(t *testing.T) {
	dir := t.TempDir()
	h, err := newHarness(t, dir, localConfig(dir, feedRoutes))
	if err != nil {
		t.Fatal(err)
	}
	st := h.st.(*store.SQLite)
	// Loaded by `calgw ingest` before the daemon started.
	pre := ingest.Ingest834(context.Background(), ingestJob(t, h, enrollmentData+"bad-members.834"))[0]
	if pre.Err != nil || !pre.Committed || pre.Ack == "" {
		t.Fatalf("ingest: %+v", pre)
	}
	h.run()
	h.write("bad-members.834", readTestdata(t, enrollmentData+"bad-members.834"))
	h.write("auth-a.csv", readTestdata(t, enrollmentData+"demo-auth-2026-09.csv"))
	waitFor(t, 20*time.Second, "first files done", settled(t, h.st, 2))
	h.write("auth-b.csv", readTestdata(t, enrollmentData+"demo-auth-2026-09.csv"))
	waitFor(t, 20*time.Second, "the copy done", settled(t, h.st, 3))

	files := byName(t, h.st)
	a, b := files["auth-a.csv"], files["auth-b.csv"]
	if a.State != store.FileArchived || b.State != store.FileArchived || b.DuplicateOf != a.ID {
		t.Errorf("auth-b: %s duplicate of %d, want a duplicate of %d", b.State, b.DuplicateOf, a.ID)
	}
	if note, err := os.ReadFile(filepath.Join(dir, "archive", "auth-b.csv.duplicate.txt")); err != nil || !strings.Contains(string(note), "auth-a.csv") {
		t.Errorf("duplicate note: %s %v", note, err)
	}
	status, err := st.EnrollmentStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if status.Loads834 != 1 || status.AuthLoads != 1 {
		t.Errorf("loads: %+v, want one 834 and one authorization feed", status)
	}
	bm := files["bad-members.834"]
	stem := "bad-members." + itoa(bm.ID)
	report := string(h.response(stem + ".report.csv"))
	if !strings.Contains(report, "already loaded as bad-members.834 (load "+itoa(pre.Load)) || !strings.Contains(bm.Note, "already loaded") {
		t.Errorf("report of content loaded before:\n%s\nnote: %s", report, bm.Note)
	}
	// The 999 says again what the guide found, under a new interchange
	// number from the ingest's own sequence.
	first := check999(t, "ingest 999", readTestdata(t, pre.Ack))
	again := h.response(stem + ".999")
	if isa := check999(t, "daemon 999", again); isa == first {
		t.Errorf("the 999 written again reuses ISA13 %s", isa)
	}
	if !bytes.Contains(again, []byte("IK5*E*5~AK9*E*1*1*1~")) { // loaded with its bad members skipped
		t.Errorf("999:\n%s", again)
	}
	// 834 report and 999, auth-a's report, and a note to auth-b's sender.
	want := []string{stem + ".999", stem + ".report.csv", "auth-a." + itoa(a.ID) + ".report.csv", "auth-b." + itoa(b.ID) + ".duplicate.txt"}
	slices.Sort(want)
	if resp := h.responses(); !slices.Equal(resp, want) {
		t.Errorf("responses: %v, want %v", resp, want)
	}
}

// A change file older than a full file of its plan code loaded before is
// well-formed: archived with its report saying it was not applied, never
// quarantined; the same content dropped again is a duplicate.
func TestFeedSupersededChangeFileArchived(t *testing.T) {
	dir := t.TempDir()
	h, err := newHarness(t, dir, localConfig(dir, feedRoutes))
	if err != nil {
		t.Fatal(err)
	}
	st := h.st.(*store.SQLite)
	full := ingest.Ingest834(context.Background(), ingestJob(t, h, enrollmentData+"full-audit.834"))[0]
	if full.Err != nil || !full.Committed {
		t.Fatalf("full file: %+v", full)
	}
	h.run()
	h.write("family-change.834", readTestdata(t, enrollmentData+"family-change.834"))
	waitFor(t, 20*time.Second, "the change file done", settled(t, h.st, 1))
	h.write("family-change-again.834", readTestdata(t, enrollmentData+"family-change.834"))
	waitFor(t, 20*time.Second, "the copy done", settled(t, h.st, 2))
	files := byName(t, h.st)
	e, again := files["family-change.834"], files["family-change-again.834"]
	if e.State != store.FileArchived || !strings.Contains(e.Note, "834 NOT applied") || !strings.Contains(e.Note, "superseded by full file load "+itoa(full.Load)) {
		t.Fatalf("%s (%s), want archived, not applied", e.State, e.Note)
	}
	if again.State != store.FileArchived || again.DuplicateOf != e.ID {
		t.Errorf("the same content again: %s, duplicate of %d", again.State, again.DuplicateOf)
	}
	report := string(h.response("family-change." + itoa(e.ID) + ".report.csv"))
	if !strings.Contains(report, "ENR-FILE-SUPERSEDED") || !strings.Contains(report, "full-audit.834 (load "+itoa(full.Load)+", from 2026-04-01)") {
		t.Errorf("report:\n%s", report)
	}
	if _, ok, err := st.Member(context.Background(), "91000002B"); err != nil || ok {
		t.Errorf("the superseded change file added a member (%v)", err)
	}
}

// ingestJob is what `calgw ingest` runs, on the harness's store.
func ingestJob(t *testing.T, h *harness, files ...string) ingest.Job {
	t.Helper()
	p, err := newEnrollmentProcessor(store.LoadKind834, ingest.Ingest834)(Env{Config: h.cfg, Store: h.st, Rules: mustRules(t, h.cfg)})
	if err != nil {
		t.Fatal(err)
	}
	ep := p.(*enrollmentProcessor)
	return ingest.Job{Files: files, OutDir: t.TempDir(), Store: ep.st, Config: h.cfg, Coding: ep.coding, Tables: ep.tables, Data: ep.data}
}

// crashAfterLoad is the 834 processor whose first attempt stops right
// after the load committed, before the ledger heard of it (as a SIGKILL
// there would): its outputs are discarded with the work directory.
type crashAfterLoad struct {
	real    Processor
	crashed bool
}

var errCrash = errors.New("simulated crash after the load committed")

func (p *crashAfterLoad) Process(ctx context.Context, job *Job) (*Result, error) {
	if p.crashed {
		return p.real.Process(ctx, job)
	}
	p.crashed = true
	ep := p.real.(*enrollmentProcessor)
	r := ingest.Ingest834(ctx, ingest.Job{Files: []string{job.Input}, OutDir: job.OutDir, Store: ep.st, Config: job.Config,
		Coding: ep.coding, Tables: ep.tables, Data: ep.data})[0]
	if !r.Committed {
		return nil, r.Err
	}
	return nil, errCrash
}

// A processor interrupted after its load committed is processed again: the
// load is not repeated, the report says "already loaded", the 999 is
// written again, and the file is archived.
func TestFeedRedoneAfterTheLoadCommitted(t *testing.T) {
	reg := processors["834"]
	var proc *crashAfterLoad
	registerForTest(t, Registration{Kind: "834", Roles: reg.Roles, New: func(env Env) (Processor, error) {
		real, err := reg.New(env)
		proc = &crashAfterLoad{real: real}
		return proc, err
	}})
	dir := t.TempDir()
	h := startDaemon(t, dir, localConfig(dir, feedRoutes))
	h.write("bad-members.834", readTestdata(t, enrollmentData+"bad-members.834"))
	waitFor(t, 20*time.Second, "the 834 done", settled(t, h.st, 1))
	e := byName(t, h.st)["bad-members.834"]
	if e.State != store.FileArchived || e.Attempts != 1 || !strings.Contains(e.LastError, errCrash.Error()) {
		t.Fatalf("%s after %d failed attempt(s) (%s), want archived after the one crash", e.State, e.Attempts, e.LastError)
	}
	checkLoadedOnce(t, h, e)
}

// The report the daemon writes for content loaded before has the columns of
// the ingest's own reports.
func TestAlreadyLoadedReportKeepsTheIngestColumns(t *testing.T) {
	dir := t.TempDir()
	h, err := newHarness(t, dir, localConfig(dir, ""))
	if err != nil {
		t.Fatal(err)
	}
	j := ingestJob(t, h, enrollmentData+"family-change.834")
	r834 := ingest.Ingest834(context.Background(), j)[0]
	rAuth := ingest.IngestAuth(context.Background(), ingest.Job{Files: []string{enrollmentData + "demo-auth-2026-09.csv"}, OutDir: j.OutDir,
		Store: j.Store, Config: j.Config, Coding: j.Coding, Tables: j.Tables, Data: j.Data})[0]
	for _, c := range []struct {
		report string
		want   []string
	}{{r834.Report, report834Columns}, {rAuth.Report, reportFeedColumns}} {
		if got := readCSV(t, c.report)[0]; !slices.Equal(got, c.want) {
			t.Errorf("%s header %v, the daemon writes %v", filepath.Base(c.report), got, c.want)
		}
	}
}

// Every file kind and the 274 job run on PostgreSQL (a real server): the
// enrollment, authorization and provider data all live there too.
func TestEveryKindRunsOnPostgres(t *testing.T) {
	srv := testsrv.Postgres(t)
	var dbs atomic.Int64
	dsn := pgDatabase(t, srv, &dbs)
	ctx := context.Background()
	pg, err := store.OpenPostgres(ctx, dsn, store.PostgresOptions{Owner: "feeds-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	dir := t.TempDir()
	yaml := strings.Replace(localConfig(dir, feedRoutes), "schedules: {poll_interval: 50ms}",
		"schedules:\n  poll_interval: 50ms\n  jobs: [{name: network, kind: \"274\", day_of_month: 5}]", 1)
	d, err := New(ctx, Options{Config: loadConfig(t, yaml), Store: pg, StateDir: t.TempDir(), Instance: "feeds-test", Shared: true})
	if err != nil {
		t.Fatalf("New refused a kind on PostgreSQL: %v", err)
	}
	for _, kind := range []string{"invoice", "834", "auth", "other_programs", "roster", "274"} {
		if d.procs[kind] == nil {
			t.Errorf("no %s processor", kind)
		}
	}
}

// loseOutputs is a feed processor whose first run fails after its load
// committed and its outputs were lost (a work directory cleared by hand).
type loseOutputs struct {
	real Processor
	lost bool
}

func (p *loseOutputs) Process(ctx context.Context, job *Job) (*Result, error) {
	res, err := p.real.Process(ctx, job)
	if err != nil || p.lost {
		return res, err
	}
	p.lost = true
	for _, o := range res.Outputs {
		os.Remove(o.Path)
	}
	return nil, errors.New("simulated failure after the load committed; outputs lost")
}

func (p *loseOutputs) Resume(ctx context.Context, job *Job) (*Result, error) {
	return p.real.(Resumer).Resume(ctx, job)
}

// A committed load whose outputs are gone is processed again rather than
// delivered without them: it is found loaded, and the short report and a
// new 999 go back. The failure after the commit does not count toward
// quarantine.
func TestFeedCommittedWithoutItsOutputsIsRedone(t *testing.T) {
	reg := processors["834"]
	registerForTest(t, Registration{Kind: "834", Roles: reg.Roles, New: func(env Env) (Processor, error) {
		real, err := reg.New(env)
		return &loseOutputs{real: real}, err
	}})
	dir := t.TempDir()
	h := startDaemon(t, dir, localConfig(dir, feedRoutes))
	h.write("bad-members.834", readTestdata(t, enrollmentData+"bad-members.834"))
	waitFor(t, 20*time.Second, "the 834 done", settled(t, h.st, 1))
	e := byName(t, h.st)["bad-members.834"]
	if e.State != store.FileArchived || e.Failures != 0 || !strings.Contains(h.log.String(), "lost its output and was rolled back: processing it again") {
		t.Fatalf("%s, %d failure(s) (%s)", e.State, e.Failures, e.Note)
	}
	checkLoadedOnce(t, h, e)
}

// checkLoadedOnce checks that bad-members.834 (entry e), processed again
// after its load committed, was loaded once, and that its report says so
// and a 999 went back again.
func checkLoadedOnce(t *testing.T, h *harness, e store.FileEntry) {
	t.Helper()
	if status, _ := h.st.(*store.SQLite).EnrollmentStatus(context.Background()); status.Loads834 != 1 {
		t.Errorf("%d 834 loads, want 1", status.Loads834)
	}
	stem := "bad-members." + itoa(e.ID)
	if report := string(h.response(stem + ".report.csv")); !strings.Contains(report, "already loaded as bad-members.834") {
		t.Errorf("report:\n%s", report)
	}
	check999(t, "999", h.response(stem+".999"))
}

// The feeds example of docs/daemon.md loads, and this build has a
// processor, the output roles and the destinations for each of its routes
// and jobs (what New checks before it connects anywhere).
func TestDocumentedFeedsExampleIsAccepted(t *testing.T) {
	doc := readTestdata(t, "../../docs/daemon.md")
	var example string
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		if strings.Contains(m[1], `kind: "834"`) {
			example = m[1]
		}
	}
	if example == "" {
		t.Fatal("docs/daemon.md has no example with an 834 route")
	}
	cfg := loadConfig(t, example)
	st, err := store.OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d := &Daemon{cfg: cfg, st: st, log: slog.New(slog.DiscardHandler), procs: map[string]*processorEntry{}}
	if err := d.buildProcessors(Options{}); err != nil {
		t.Fatalf("the documented feeds example is refused: %v", err)
	}
	for _, kind := range []string{"834", "auth", "other_programs", "roster", "invoice", "274"} {
		if d.procs[kind] == nil {
			t.Errorf("the example has no %s", kind)
		}
	}
}

// mustRules loads the rule set of cfg.
func mustRules(t *testing.T, cfg *config.Config) *rules.Set {
	t.Helper()
	rs, err := cfg.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	return rs
}
