package daemon

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	pipeadt "github.com/calaim-gateway/calaim-gateway/pipelines/adt"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Members and ECM providers of the notice tests: A and B are authorized
// to provider 1 (its own destination), C to provider 2 (no destination of
// its own: the job's notices destination), D to nobody.
const (
	noticeCINA, noticeCINB, noticeCINC, noticeCIND = "91234567A", "92345678B", "93456789C", "94567890D"
	noticeNPI1, noticeNPI2                         = "1234567893", "1679576722"
)

// noticeConfig is localConfig with the adt-notices job every minute (its
// day summary due at once) and provider 1's own destination.
func noticeConfig(dir string) string {
	cfg := localConfig(dir, fmt.Sprintf(`
adt:
  notice_destinations: {%q: provider1}
`, noticeNPI1))
	cfg = strings.Replace(cfg, "schedules: {poll_interval: 50ms}", `schedules:
  poll_interval: 50ms
  jobs:
    - {name: adt-notices, kind: adt-notices, every: 1m, at: "00:00"}`, 1)
	return strings.Replace(cfg, "destinations:\n", fmt.Sprintf("destinations:\n  provider1: {transport: {type: local, local: {dir: %q}}, folder: outbox/provider1}\n", dir), 1)
}

// noticeSeedStore is what seedNotices writes to (SQLite or PostgreSQL).
type noticeSeedStore interface {
	BeginEnrollmentLoad(ctx context.Context, kind, file string, sum [32]byte) (store.EnrollmentLoad, error)
	RecordADT(ctx context.Context, items []store.ADTItem) ([]store.ADTOutcome, error)
}

// seedNotices loads the members, their authorizations (initial, without
// an end date: in force for 12 months from 60 days before now) and four events
// into st: A's admit received 30 hours ago (late), A's discharge and B's,
// C's and D's admits received an hour ago.
func seedNotices(t *testing.T, st noticeSeedStore, now time.Time) {
	t.Helper()
	ctx := context.Background()
	l, err := st.BeginEnrollmentLoad(ctx, store.LoadKind834, "m.834", [32]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	for _, cin := range []string{noticeCINA, noticeCINB, noticeCINC, noticeCIND} {
		l.PutMember(ctx, &domain.EnrollmentChange{Enrollee: domain.Enrollee{Member: domain.Member{CIN: cin}, County: "34"},
			Ops: []domain.SpanOp{{Kind: domain.SpanUpsert, Span: domain.EligibilitySpan{From: civil.Date(20250101), PlanCode: "306", County: "34"}}}})
	}
	if err := l.Commit(ctx, "1", ""); err != nil {
		t.Fatal(err)
	}
	a, err := st.BeginEnrollmentLoad(ctx, store.LoadKindAuth, "auth.csv", [32]byte{2})
	if err != nil {
		t.Fatal(err)
	}
	for i, au := range []struct{ cin, npi string }{{noticeCINA, noticeNPI1}, {noticeCINB, noticeNPI1}, {noticeCINC, noticeNPI2}} {
		if err := a.PutAuthorization(ctx, &domain.Authorization{Number: fmt.Sprintf("AU%d", i), CIN: au.cin, Service: "ECM", ProviderNPI: au.npi,
			Status: domain.AuthApproved, Type: domain.AuthInitial, From: civil.FromTime(now).AddDays(-60)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	item := func(id string, kind domain.ADTKind, cin string, received time.Time) store.ADTItem {
		ev := received.Add(-10 * time.Minute)
		return store.ADTItem{Sender: "stmarys", ControlID: id, Source: "inbox", Position: 1, Line: 1, ReceivedAt: received,
			Event: domain.ADTEvent{Sender: "stmarys", ControlID: id, Trigger: "A01", Kind: kind, CIN: cin, EventTime: ev, MessageTime: ev, Facility: "STMARYS", PatientClass: "I"}}
	}
	out, err := st.RecordADT(ctx, []store.ADTItem{
		item("M1", domain.ADTAdmit, noticeCINA, now.Add(-30*time.Hour)),
		item("M2", domain.ADTDischarge, noticeCINA, now.Add(-time.Hour)),
		item("M3", domain.ADTAdmit, noticeCINB, now.Add(-time.Hour)),
		item("M4", domain.ADTAdmit, noticeCINC, now.Add(-time.Hour)),
		item("M5", domain.ADTAdmit, noticeCIND, now.Add(-time.Hour)),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if o.Status != store.ADTStored {
			t.Fatalf("event %d: %+v", i, o)
		}
	}
}

// readNoticeFiles returns the rows (without header) of every notice file
// in dir, by file name.
func readNoticeFiles(t *testing.T, dir string) map[string][][]string {
	t.Helper()
	out := map[string][][]string{}
	for _, name := range listDir(t, dir) {
		if !strings.HasPrefix(name, "adt-notices-") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(rows) == 0 {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = rows[1:]
	}
	return out
}

// checkNoticesDelivered checks what the providers got: one file each, at
// its own destination, with its own members' events only, A's admit late.
func checkNoticesDelivered(t *testing.T, dir string) {
	t.Helper()
	p1 := readNoticeFiles(t, filepath.Join(dir, "outbox", "provider1"))
	resp := readNoticeFiles(t, filepath.Join(dir, "outbox", "responses"))
	var p2 map[string][][]string = map[string][][]string{}
	var summaries []string
	for name, rows := range resp {
		if strings.HasPrefix(name, "adt-notices-late-") {
			summaries = append(summaries, name)
			continue
		}
		p2[name] = rows
	}
	if len(p1) != 1 || len(p2) != 1 {
		t.Fatalf("provider 1 got %d file(s), provider 2 %d; want one each", len(p1), len(p2))
	}
	for name, rows := range p1 {
		if !strings.HasPrefix(name, "adt-notices-"+noticeNPI1+"-") || len(rows) != 3 {
			t.Fatalf("provider 1: %s with %d rows, want 3", name, len(rows))
		}
		got := map[string]string{}
		for _, r := range rows {
			if r[0] != noticeCINA && r[0] != noticeCINB {
				t.Errorf("provider 1 got member %s's event", r[0])
			}
			got[r[12]] = r[0] + " " + r[1] + " late=" + r[15]
		}
		want := map[string]string{"M1": noticeCINA + " admit late=Y", "M2": noticeCINA + " discharge late=N", "M3": noticeCINB + " admit late=N"}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("provider 1, %s: %q, want %q", id, got[id], w)
			}
		}
	}
	for name, rows := range p2 {
		if !strings.HasPrefix(name, "adt-notices-"+noticeNPI2+"-") || len(rows) != 1 || rows[0][0] != noticeCINC || rows[0][12] != "M4" {
			t.Errorf("provider 2: %s %v, want C's admit alone", name, rows)
		}
	}
	if len(summaries) != 1 {
		t.Errorf("day summaries %v, want one", summaries)
	}
	for _, name := range slices.Concat(listDir(t, filepath.Join(dir, "outbox", "provider1")), listDir(t, filepath.Join(dir, "outbox", "responses"))) {
		if strings.Contains(name, noticeCIND) {
			t.Errorf("a file names member D: %s", name)
		}
	}
}

// The adt-notices job writes each ECM provider's notices into that
// provider's own destination (adt.notice_destinations) or the job's notices
// destination, once: a second daemon on the same state sends nothing
// again. Delivery records each notice's delivery time, and the notice 30
// hours after its event counts in calgw_adt_notices_late_total. The day's
// summary lists late notices without member data.
func TestADTNoticeJobDeliversOncePerProvider(t *testing.T) {
	dir := t.TempDir()
	h, err := newHarness(t, dir, noticeConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	seedNotices(t, h.st.(*store.SQLite), time.Now())
	h.run()
	waitFor(t, 20*time.Second, "the notice job archived", func() bool {
		files, _ := h.st.Files(context.Background(), 0)
		done := 0
		for _, f := range files {
			if f.Kind == adtNoticesKind && f.State == store.FileArchived && strings.Contains(f.Note, "handled") {
				done++
			}
		}
		return done == 1
	})
	waitFor(t, 20*time.Second, "every entry final", settled(t, h.st, 2))
	checkNoticesDelivered(t, dir)
	notices, err := h.st.(*store.SQLite).ADTNotices(context.Background(), time.Time{})
	if err != nil || len(notices) != 4 {
		t.Fatalf("notices %+v %v", notices, err)
	}
	for _, n := range notices {
		if n.DeliveredAt.IsZero() {
			t.Errorf("notice of event %d to %s has no delivery time", n.EventID, n.ProviderNPI)
		}
	}
	mf, err := h.d.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range mf {
		if strings.HasPrefix(f.GetName(), "calgw_adt_notices") {
			got[f.GetName()] = f.GetMetric()[0].GetCounter().GetValue()
		}
		if f.GetName() == "calgw_adt_notice_age_seconds" {
			h := f.GetMetric()[0].GetHistogram()
			within := uint64(0)
			for _, b := range h.GetBucket() {
				if b.GetUpperBound() == 86400 {
					within = b.GetCumulativeCount()
				}
			}
			if h.GetSampleCount() != 4 || within != 3 {
				t.Errorf("notice ages: %d observed, %d within 24 h; want 4 and 3", h.GetSampleCount(), within)
			}
			got[f.GetName()] = float64(h.GetSampleCount())
		}
	}
	if got["calgw_adt_notices_late_total"] != 1 || got["calgw_adt_notices_total"] != 4 || got["calgw_adt_notice_age_seconds"] != 4 {
		t.Errorf("metrics %v, want 1 late of 4, 4 ages", got)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h.log.String(), noticeCINA) {
		t.Error("the log names a member")
	}

	// A second daemon on the same state and destinations: nothing again.
	h2, err := newHarnessState(t, dir, noticeConfig(dir), h.state)
	if err != nil {
		t.Fatal(err)
	}
	h2.run()
	time.Sleep(500 * time.Millisecond)
	h2.stop()
	checkNoticesDelivered(t, dir)
}

// The day's summary lists the notices late that day, by event and
// provider, without member data.
func TestADTNoticeDaySummary(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	loc, _ := time.LoadLocation("America/Los_Angeles")
	day := time.Date(2026, 12, 4, 0, 0, 0, 0, loc)
	seedNotices(t, st, day.Add(12*time.Hour))
	pending, _ := st.PendingADTNotices(ctx, 10)
	b, err := pipeadt.BuildNotices(ctx, st, rules.DefaultEligibilityTables(), pending, loc, day.Add(12*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.WriteFiles(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordADTNotices(ctx, b.Handled, b.Notices); err != nil {
		t.Fatal(err)
	}
	p := &adtNoticeJob{st: st, loc: loc}
	for _, tc := range []struct {
		period string
		rows   int
	}{{"2026-12-04", 1}, {"2026-12-03", 0}, {"2026-12-05", 0}} {
		out := t.TempDir()
		res, err := p.Process(ctx, &Job{Period: tc.period, OutDir: out})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Outputs) != 1 || res.Outputs[0].Role != RoleSummary {
			t.Fatalf("%s: outputs %+v", tc.period, res.Outputs)
		}
		data, _ := os.ReadFile(res.Outputs[0].Path)
		rows, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
		if err != nil || len(rows) != tc.rows+1 || strings.Join(rows[0], ",") != strings.Join(DaySummaryHeader, ",") {
			t.Fatalf("%s: %q %v", tc.period, data, err)
		}
		if tc.rows == 1 && (rows[1][1] != noticeNPI1 || rows[1][5] != "30.0") {
			t.Errorf("%s: row %v, want provider 1, 30.0 hours", tc.period, rows[1])
		}
		if strings.Contains(string(data), noticeCINA) {
			t.Errorf("%s: the summary names a member", tc.period)
		}
	}
}

// newHarnessState is newHarness on an existing state folder.
func newHarnessState(t *testing.T, dir, yaml, state string) (*harness, error) {
	t.Helper()
	h := &harness{t: t, dir: dir, state: state, cfg: loadConfig(t, yaml), log: &logBuffer{}}
	h.cfg.HTTP.Listen = "off"
	st, err := store.OpenSQLite(context.Background(), h.state)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h.st = st
	h.d, err = New(context.Background(), Options{Config: h.cfg, Store: st, StateDir: h.state,
		Log: slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daemon log:\n%s", h.log.String())
		}
	})
	return h, err
}

// TestCrashRestartADTNotices kills `calgw run` (SIGKILL, from the test
// hook) at each step of the notice job's way through, restarts it, and
// checks that each provider got its notices in exactly one file at its own
// destination, every event was handled once, and every notice has its
// delivery time. At "committed" the notices are recorded and the files are
// in the work directory, but the ledger does not know them yet: the restart
// resumes from them instead of writing again.
func TestCrashRestartADTNotices(t *testing.T) {
	for _, spec := range []string{"committed", "processed:1", "recorded:1", "delivered:1", "delivered:2"} {
		point, _, _ := strings.Cut(spec, ":")
		t.Run(strings.ReplaceAll(spec, ":", "-"), func(t *testing.T) {
			dir := t.TempDir()
			state := filepath.Join(dir, "state")
			cfg := writeConfig(t, noticeConfig(dir))
			func() {
				st := openState(t, state)
				seedNotices(t, st, time.Now())
				st.Close()
			}()
			p := startCalgw(t, "crashing", dir, cfg, state, envCrashAt+"="+spec)
			p.crashed(30 * time.Second)
			r := startCalgw(t, "restarted", dir, cfg, state)
			waitFor(t, 30*time.Second, "both providers' files and the day's summary", func() bool {
				return len(listDir(t, filepath.Join(dir, "outbox", "provider1"))) >= 1 && len(listDir(t, filepath.Join(dir, "outbox", "responses"))) >= 2
			})
			time.Sleep(300 * time.Millisecond) // delivery times are recorded after the last output
			r.term()
			if point == "committed" && !strings.Contains(r.output(), "resuming a file whose run committed") {
				t.Error("the restart did not resume the committed run from its outputs")
			}
			checkNoticesDelivered(t, dir)
			st := openState(t, state)
			if pending, _ := st.PendingADTNotices(context.Background(), 10); len(pending) != 0 {
				t.Errorf("%d events still waiting", len(pending))
			}
			notices, _ := st.ADTNotices(context.Background(), time.Time{})
			if len(notices) != 4 {
				t.Errorf("%d notices recorded, want 4", len(notices))
			}
			for _, n := range notices {
				if n.DeliveredAt.IsZero() {
					t.Errorf("notice of event %d to %s has no delivery time", n.EventID, n.ProviderNPI)
				}
			}
			for _, log := range []string{p.output(), r.output()} {
				if strings.Contains(log, noticeCINA) {
					t.Error("the log names a member")
				}
			}
		})
	}
}

// Two `calgw run` instances sharing a PostgreSQL store: the interval's
// notice job runs on one of them, once, and each provider gets its notices
// once, at its own destination.
func TestADTNoticesTwoInstancesPostgres(t *testing.T) {
	srv := testsrv.Postgres(t)
	var dbs atomic.Int64
	dsn := pgDatabase(t, srv, &dbs)
	dir := t.TempDir()
	pg, err := store.OpenPostgres(context.Background(), dsn, store.PostgresOptions{Owner: "seed"})
	if err != nil {
		t.Fatal(err)
	}
	seedNotices(t, pg, time.Now())
	pg.Close()
	cfg := writeConfig(t, noticeConfig(dir)+"state: {store: postgres, postgres: {dsn_env: CALGW_TEST_PG_DSN}, lease: 2s}\n")
	env := "CALGW_TEST_PG_DSN=" + dsn
	a := startCalgw(t, "instance-a", dir, cfg, filepath.Join(dir, "state-a"), env)
	b := startCalgw(t, "instance-b", dir, cfg, filepath.Join(dir, "state-b"), env)
	waitFor(t, 60*time.Second, "both providers' files and the day's summary", func() bool {
		return len(listDir(t, filepath.Join(dir, "outbox", "provider1"))) >= 1 && len(listDir(t, filepath.Join(dir, "outbox", "responses"))) >= 2
	})
	waitFor(t, 30*time.Second, "every notice delivered", func() bool {
		return pgCount(t, dsn, `SELECT COUNT(*) FROM adt_notices WHERE delivered_at > 0`) == 4
	})
	a.term()
	b.term()
	checkNoticesDelivered(t, dir)
	if n := pgCount(t, dsn, `SELECT COUNT(*) FROM adt_events WHERE noticed = 0`); n != 0 {
		t.Errorf("%d events still waiting", n)
	}
	if n := pgCount(t, dsn, `SELECT COUNT(*) FROM adt_notices WHERE late = 1`); n != 1 {
		t.Errorf("%d late notices, want 1", n)
	}
}

// racingStore handles the first pending event itself (as another
// instance's notice run would) right after the job first reads them.
type racingStore struct {
	*store.SQLite
	raced bool
}

func (r *racingStore) PendingADTNotices(ctx context.Context, limit int) ([]store.ADTEventRecord, error) {
	p, err := r.SQLite.PendingADTNotices(ctx, limit)
	if err == nil && !r.raced && len(p) > 0 {
		r.raced = true
		err = r.SQLite.RecordADTNotices(ctx, []int64{p[0].ID}, nil)
	}
	return p, err
}

// A run that another run beat to some events records nothing and leaves
// no file; the job tries again with the events still waiting.
func TestADTNoticeJobRetriesAfterAnotherRun(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seedNotices(t, st, time.Now())
	p := &adtNoticeJob{st: &racingStore{SQLite: st}, loc: time.UTC}
	out := t.TempDir()
	res, err := p.Process(ctx, &Job{Period: "20261205T0700", OutDir: out, Store: st, File: &store.FileEntry{ID: 42}})
	if err != nil {
		t.Fatal(err)
	}
	// M1 (A's admit) went to the other run: provider 1 gets M2 and M3.
	if !strings.Contains(res.Note, "4 event(s) handled, 3 notice(s) to 2 provider(s)") {
		t.Errorf("note %q", res.Note)
	}
	files := readNoticeFiles(t, out)
	if len(files) != 2 || len(res.Outputs) != 2 {
		t.Fatalf("files %v, outputs %+v; want the second attempt's two", files, res.Outputs)
	}
	for name, rows := range files {
		if !strings.HasSuffix(name, "-42.csv") {
			t.Errorf("%s: not named after the ledger entry", name)
		}
		for _, r := range rows {
			if r[12] == "M1" {
				t.Errorf("%s carries M1, handled by the other run", name)
			}
		}
	}
	if pending, _ := st.PendingADTNotices(ctx, 10); len(pending) != 0 {
		t.Errorf("%d events still waiting", len(pending))
	}
}

// lostNoticeFiles is the adt-notices job whose first interval run commits
// and then fails with its files gone, as when the instance that wrote
// them died and another takes the entry over without its work directory.
type lostNoticeFiles struct {
	*adtNoticeJob
	lost bool
}

func (p *lostNoticeFiles) Process(ctx context.Context, job *Job) (*Result, error) {
	res, err := p.adtNoticeJob.Process(ctx, job)
	if err != nil || p.lost || !strings.Contains(res.Note, "handled") {
		return res, err
	}
	p.lost = true
	if err := os.RemoveAll(job.OutDir); err != nil {
		return nil, err
	}
	return nil, errors.New("simulated failure after the notice run committed; its work directory lost")
}

// A committed notice run whose files are gone is undone and run again:
// its notices are never left recorded in files no provider gets, and each
// provider gets each notice once, in a file delivered.
func TestADTNoticeRunWithoutItsFilesIsRedone(t *testing.T) {
	reg := processors[adtNoticesKind]
	registerForTest(t, Registration{Kind: adtNoticesKind, Roles: reg.Roles, Scheduled: true, New: func(env Env) (Processor, error) {
		real, err := reg.New(env)
		if err != nil {
			return nil, err
		}
		return &lostNoticeFiles{adtNoticeJob: real.(*adtNoticeJob)}, nil
	}})
	dir := t.TempDir()
	h, err := newHarness(t, dir, noticeConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	st := h.st.(*store.SQLite)
	seedNotices(t, st, time.Now())
	h.run()
	waitFor(t, 20*time.Second, "the interval's entry and the day's final", settled(t, h.st, 2))
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	delivered := map[string]bool{}
	for _, sub := range []string{"provider1", "responses"} {
		for _, name := range listDir(t, filepath.Join(dir, "outbox", sub)) {
			delivered[name] = true
		}
	}
	notices, err := st.ADTNotices(context.Background(), time.Time{})
	if err != nil || len(notices) != 4 {
		t.Fatalf("notices %+v %v, want 4", notices, err)
	}
	for _, n := range notices {
		if !delivered[n.File] || n.DeliveredAt.IsZero() {
			t.Errorf("notice of event %d to %s is recorded in %s, delivered %v (at %v)", n.EventID, n.ProviderNPI, n.File, delivered[n.File], n.DeliveredAt)
		}
	}
	if pending, _ := st.PendingADTNotices(context.Background(), 10); len(pending) != 0 {
		t.Errorf("%d events still waiting", len(pending))
	}
	checkNoticesDelivered(t, dir)
	if !strings.Contains(h.log.String(), "lost its output and was rolled back: processing it again") {
		t.Error("the log does not say the committed run without its files was undone")
	}
}

// readDaySummary runs the day's summary of period and returns its rows
// (without header) by event ID: provider and age in hours.
func readDaySummary(t *testing.T, p *adtNoticeJob, period string) map[string]string {
	t.Helper()
	res, err := p.Process(context.Background(), &Job{Period: period, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(res.Outputs[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("%s: %q %v", period, data, err)
	}
	out := map[string]string{}
	for _, r := range rows[1:] {
		out[r[0]] = r[1] + " " + r[5]
	}
	return out
}

// A notice the daemon wrote on time but has not delivered 24 hours after
// its event was received is late: counted in calgw_adt_notices_late_total
// (CountADTNotices) from that moment and listed in the summary of each
// day it stays undelivered so. A notice of `calgw notices`, never
// delivered by the gateway, is late only as written.
func TestADTNoticeUndeliveredIsLate(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	loc, _ := time.LoadLocation("America/Los_Angeles")
	day := time.Date(2026, 12, 4, 0, 0, 0, 0, loc)
	written := day.Add(12 * time.Hour)
	// M1 received 30 hours before written (late when written); M2, M3 and
	// M4 an hour before (due by 11:00 the next day).
	seedNotices(t, st, written)
	pending, _ := st.PendingADTNotices(ctx, 10)
	b, err := pipeadt.BuildNotices(ctx, st, rules.DefaultEligibilityTables(), pending, loc, written)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.WriteFiles(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	// Provider 1's notices (M1, M2, M3) by a daemon run; provider 2's (M4)
	// by calgw notices.
	var daemonN, cliN []store.ADTNotice
	var daemonFile string
	for _, n := range b.Notices {
		if n.ProviderNPI == noticeNPI1 {
			daemonN, daemonFile = append(daemonN, n), n.File
		} else {
			cliN = append(cliN, n)
		}
	}
	var cliEvents []int64
	for _, n := range cliN {
		cliEvents = append(cliEvents, n.EventID)
	}
	var daemonEvents []int64
	for _, id := range b.Handled {
		if !slices.Contains(cliEvents, id) {
			daemonEvents = append(daemonEvents, id)
		}
	}
	if len(daemonN) != 3 || len(cliN) != 1 {
		t.Fatalf("notices: %d to provider 1, %d to provider 2", len(daemonN), len(cliN))
	}
	run, err := st.BeginRun(ctx, adtNoticesKind, "t")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RecordADTNoticesRun(ctx, run, daemonEvents, daemonN); err != nil {
		t.Fatal(err)
	}
	if err := run.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordADTNotices(ctx, cliEvents, cliN); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{} // MSH-10 → event ID
	for _, e := range pending {
		ids[e.ControlID] = strconv.FormatInt(e.ID, 10)
	}

	due := written.Add(23 * time.Hour) // M2's, M3's and M4's 24 hours
	for _, tc := range []struct {
		at   time.Time
		late int64
	}{{due.Add(-time.Millisecond), 1}, {due, 3}, {due.Add(72 * time.Hour), 3}} {
		total, late, err := st.CountADTNotices(ctx, time.Time{}, tc.at, rules.ADTNoticeWithin)
		if err != nil || total != 4 || late != tc.late {
			t.Errorf("at %v: %d late of %d (%v), want %d of 4", tc.at, late, total, err, tc.late)
		}
	}
	p := &adtNoticeJob{st: st, loc: loc}
	// 12-04: M1, written late and not delivered, 42 hours old at the
	// day's end.
	if got, want := readDaySummary(t, p, "2026-12-04"), map[string]string{ids["M1"]: noticeNPI1 + " 42.0"}; !maps.Equal(got, want) {
		t.Errorf("2026-12-04: %v, want %v", got, want)
	}
	// Not delivered by the end of 12-05: M1 (66 hours old then), M2 and
	// M3 (37 hours); M4, calgw notices', is not the daemon's to deliver.
	want5 := map[string]string{ids["M1"]: noticeNPI1 + " 66.0", ids["M2"]: noticeNPI1 + " 37.0", ids["M3"]: noticeNPI1 + " 37.0"}
	if got := readDaySummary(t, p, "2026-12-05"); !maps.Equal(got, want5) {
		t.Errorf("2026-12-05: %v, want %v", got, want5)
	}

	// Delivered on 12-06 at 06:00: late as delivered, listed that day, and
	// the count stays.
	at := day.AddDate(0, 0, 2).Add(6 * time.Hour)
	if _, err := st.ADTNoticesDelivered(ctx, []string{daemonFile}, at, rules.ADTNoticeWithin); err != nil {
		t.Fatal(err)
	}
	if _, late, _ := st.CountADTNotices(ctx, time.Time{}, at.Add(time.Hour), rules.ADTNoticeWithin); late != 3 {
		t.Errorf("after the delivery: %d late, want 3", late)
	}
	if got := readDaySummary(t, p, "2026-12-05"); !maps.Equal(got, want5) {
		t.Errorf("2026-12-05 after the delivery the next day: %v, want %v", got, want5)
	}
	want6 := map[string]string{ids["M1"]: noticeNPI1 + " 72.0", ids["M2"]: noticeNPI1 + " 43.0", ids["M3"]: noticeNPI1 + " 43.0"}
	if got := readDaySummary(t, p, "2026-12-06"); !maps.Equal(got, want6) {
		t.Errorf("2026-12-06: %v, want %v", got, want6)
	}
	if got := readDaySummary(t, p, "2026-12-07"); len(got) != 0 {
		t.Errorf("2026-12-07: %v, want none", got)
	}
}

// The adt-notices job decides with the plan's rule data (rules_data): with
// an ECM initial authorization of one month, the seeded authorizations
// (no end date, from 60 days ago) are no longer in force, and no provider
// gets a notice.
func TestADTNoticeJobUsesThePlansRuleData(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "rules-data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	periods := "service,type,period,period_unit,effective_from,effective_to,source\n" +
		"ECM,initial,1,month,2023-07-01,,test: one month\n"
	if err := os.WriteFile(filepath.Join(data, "auth_periods.csv"), []byte(periods), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := newHarness(t, dir, "rules_data: "+strconv.Quote(data)+"\n"+noticeConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	seedNotices(t, h.st.(*store.SQLite), time.Now())
	h.run()
	waitFor(t, 20*time.Second, "the notice job archived", func() bool {
		files, _ := h.st.Files(context.Background(), 0)
		for _, f := range files {
			if f.Kind == adtNoticesKind && f.State == store.FileArchived && strings.Contains(f.Note, "handled") {
				return true
			}
		}
		return false
	})
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if notices, err := h.st.(*store.SQLite).ADTNotices(context.Background(), time.Time{}); err != nil || len(notices) != 0 {
		t.Errorf("notices %+v %v, want none: every authorization ended a month after its start", notices, err)
	}
	if files := listDir(t, filepath.Join(dir, "outbox", "provider1")); len(files) != 0 {
		t.Errorf("provider 1 got %v", files)
	}
}

// summaryNotices is an adtNoticeStore whose notices are given.
type summaryNotices struct {
	adtNoticeStore
	notices []store.ADTNotice
}

func (s summaryNotices) ADTNotices(context.Context, time.Time) ([]store.ADTNotice, error) {
	return s.notices, nil
}

// A notice the daemon has not delivered by the day's end is in that day's
// summary when it is 24 hours old or older then, as
// calgw_adt_notices_late_total counts it at that instant; one younger is
// not (it is listed the next day, when still undelivered).
func TestADTNoticeDaySummaryOverdueBoundary(t *testing.T) {
	loc, _ := time.LoadLocation("America/Los_Angeles")
	day := time.Date(2026, 12, 4, 0, 0, 0, 0, loc)
	end := day.AddDate(0, 0, 1)
	tests := []struct {
		name     string
		received time.Time
		listed   bool
	}{
		{"received a millisecond before the day began", day.Add(-time.Millisecond), true},
		{"received as the day began: 24 hours old at its end", day, true},
		{"received a millisecond after the day began", day.Add(time.Millisecond), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := store.ADTNotice{EventID: 7, ProviderNPI: noticeNPI1, ReceivedAt: tt.received, WrittenAt: tt.received.Add(time.Hour),
				File: "adt-notices-" + noticeNPI1 + "-x-1.csv", RunID: 3}
			p := &adtNoticeJob{st: summaryNotices{notices: []store.ADTNotice{n}}, loc: loc}
			got := readDaySummary(t, p, day.Format(dayPeriod))
			if _, listed := got["7"]; listed != tt.listed {
				t.Errorf("listed %v (%v), want %v", listed, got, tt.listed)
			}
			if want := noticeNPI1 + " " + strconv.FormatFloat(end.Sub(tt.received).Hours(), 'f', 1, 64); tt.listed && got["7"] != want {
				t.Errorf("row %q, want %q (provider and age at the day's end)", got["7"], want)
			}
		})
	}
}
