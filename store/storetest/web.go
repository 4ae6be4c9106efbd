package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
)

func console(t *testing.T, s store.LedgerStore) *store.Console {
	t.Helper()
	cs, ok := s.(store.ConsoleStore)
	if !ok {
		t.Fatalf("%T is not a store.ConsoleStore", s)
	}
	return cs.Console()
}

// webUsersAndSessions: users are unique by name with a valid role and keep
// their NPIs; a session is found until it expires; disabling a user ends
// its sessions; the audit log lists events newest first.
func webUsersAndSessions(t *testing.T, open func(string) store.LedgerStore) {
	c := console(t, open("a"))
	if _, err := c.AddUser(ctx, store.User{Name: "x", Role: "root", Hash: "h"}); err == nil {
		t.Fatal("role root accepted")
	}
	id := must(c.AddUser(ctx, store.User{Name: "prov", Role: store.RoleProvider, NPIs: []string{"1234567893", "1098765437"}, Hash: "$argon2id$h"}))(t)
	if _, err := c.AddUser(ctx, store.User{Name: "prov", Role: store.RoleOperator, Hash: "h"}); !errors.Is(err, store.ErrUserExists) {
		t.Fatalf("second prov: %v", err)
	}
	u := must(c.UserByName(ctx, "prov"))(t)
	if u.ID != id || u.Role != store.RoleProvider || len(u.NPIs) != 2 || u.NPIs[1] != "1098765437" || u.Hash != "$argon2id$h" || u.Disabled {
		t.Fatalf("user = %+v", u)
	}
	if _, err := c.UserByName(ctx, "nobody"); !errors.Is(err, store.ErrNoUser) {
		t.Fatalf("nobody: %v", err)
	}
	now := time.Now()
	if err := c.CreateSession(ctx, store.Session{Token: "t1", UserID: id, CSRF: "c1", Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateSession(ctx, store.Session{Token: "t2", UserID: id, CSRF: "c2", Created: now, Expires: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if s := must(c.Session(ctx, "t1", now))(t); s.UserID != id || s.CSRF != "c1" {
		t.Fatalf("session = %+v", s)
	}
	if s, u, err := c.SessionUser(ctx, "t1", now); err != nil || s.CSRF != "c1" || u.ID != id || u.Name != "prov" || len(u.NPIs) != 2 {
		t.Fatalf("session user = %+v %+v %v", s, u, err)
	}
	if _, _, err := c.SessionUser(ctx, "nope", now); !errors.Is(err, store.ErrNoSession) {
		t.Fatalf("session user nope: %v", err)
	}
	if _, err := c.Session(ctx, "t2", now.Add(time.Minute)); !errors.Is(err, store.ErrNoSession) {
		t.Fatalf("expired session: %v", err)
	}
	if err := c.SetUserDisabled(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Session(ctx, "t1", now); !errors.Is(err, store.ErrNoSession) {
		t.Fatalf("session of a disabled user: %v", err)
	}
	if u := must(c.User(ctx, id))(t); !u.Disabled {
		t.Fatal("not disabled")
	}
	for _, a := range []string{"login", "view"} {
		if err := c.Audit(ctx, store.AuditEvent{User: "prov", Action: a, Object: "file 1", Addr: "127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.AuditMany(ctx, []store.AuditEvent{{User: "prov", Action: "search", Detail: "sha256:1"}, {User: "prov", Action: "view", Object: "file 2"}}); err != nil {
		t.Fatal(err)
	}
	if ev := must(c.AuditEvents(ctx, 10))(t); len(ev) != 4 || ev[0].Object != "file 2" || ev[1].Detail != "sha256:1" {
		t.Fatalf("audit after AuditMany = %+v", ev)
	}
	ev := must(c.AuditEvents(ctx, 10))(t)[2:]
	if len(ev) != 2 || ev[0].Action != "view" || ev[1].Action != "login" || ev[0].User != "prov" || ev[0].At.IsZero() {
		t.Fatalf("audit = %+v", ev)
	}
}

// webAuditManyAnyBacklog: AuditMany writes a backlog of any size (past
// SQLite's 32766 and PostgreSQL's 65535 statement parameters at 6 per
// event) in the events' order, and one event as well.
func webAuditManyAnyBacklog(t *testing.T, open func(string) store.LedgerStore) {
	c := console(t, open("a"))
	at := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	for _, n := range []int{1, 499, 500, 501, 12_000} {
		es := make([]store.AuditEvent, n)
		for i := range es {
			es[i] = store.AuditEvent{At: at.Add(time.Duration(i) * time.Millisecond), User: "op", Action: "view",
				Object: fmt.Sprintf("file %d", i), Detail: strconv.Itoa(n), Addr: "127.0.0.1"}
		}
		if err := c.AuditMany(ctx, es); err != nil {
			t.Fatalf("AuditMany(%d events): %v", n, err)
		}
		got := must(c.AuditEvents(ctx, n+1))(t)
		if len(got) != n+1 && (n != 1 || len(got) != 1) {
			t.Fatalf("AuditMany(%d events): the log's latest %d hold %d", n, n+1, len(got))
		}
		// Newest first: the last event written comes first.
		for i := range n {
			e := got[n-1-i]
			if e.Object != es[i].Object || e.Detail != strconv.Itoa(n) || !e.At.Equal(es[i].At) || e.User != "op" || e.Addr != "127.0.0.1" {
				t.Fatalf("AuditMany(%d events): event %d read back as %+v, want %+v", n, i, e, es[i])
			}
			if i > 0 && e.ID <= got[n-i].ID {
				t.Fatalf("AuditMany(%d events): event %d has ID %d, not after %d", n, i, e.ID, got[n-i].ID)
			}
		}
		if len(got) == n+1 && got[n].Detail == strconv.Itoa(n) {
			t.Fatalf("AuditMany(%d events) wrote more than it was given", n)
		}
	}
}

// webDuplicatePriorRun: a DUPLICATE-LINE decision keeps the run of the
// line it repeats, in a line's page and in lists; RunBillingNPIs lists
// the billing NPIs of the lines a run accepted, each once, and none for a
// run without decisions.
func webDuplicatePriorRun(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	ds := s.(store.DecisionStore)
	c := console(t, s)
	run := begin(t, s)
	lines := []store.LineDecision{
		{Seq: 1, NPI: "1234567893", Outcome: store.OutcomeAccepted},
		{Seq: 2, NPI: "1098765437", Outcome: store.OutcomeAccepted},
		{Seq: 3, NPI: "1234567893", Outcome: store.OutcomeAccepted},
		{Seq: 4, NPI: "1456789019", Outcome: store.OutcomeRejected, Rule: "DUPLICATE-LINE", Message: "already sent", PriorRun: 1 << 40},
	}
	if err := ds.RecordDecisions(ctx, run, lines); err != nil {
		t.Fatal(err)
	}
	if err := run.Written(ctx, "t", "e.837"); err != nil {
		t.Fatal(err)
	}
	if d, found := must2(c.Decision(ctx, run.ID(), 4))(t); !found || d.PriorRun != 1<<40 || d.Rule != "DUPLICATE-LINE" {
		t.Fatalf("decision 4 = %+v %v", d, found)
	}
	if d, _ := must2(c.Decision(ctx, run.ID(), 1))(t); d.PriorRun != 0 {
		t.Fatalf("decision 1 = %+v", d)
	}
	if got := must(c.RunDecisions(ctx, run.ID(), true, "", 0, 10))(t); len(got) != 1 || got[0].PriorRun != 1<<40 {
		t.Fatalf("rejected lines = %+v", got)
	}
	if got := must(c.RunBillingNPIs(ctx, run.ID()))(t); !slices.Equal(got, []string{"1098765437", "1234567893"}) {
		t.Fatalf("billing NPIs of run %d = %v", run.ID(), got)
	}
	if got := must(c.RunBillingNPIs(ctx, run.ID()+1))(t); len(got) != 0 {
		t.Fatalf("billing NPIs of a run without decisions = %v", got)
	}
	// Inside a later open run, through that run's connection.
	later := begin(t, s)
	defer func() { _ = later.Abandon(ctx, "test") }()
	prs := s.(store.PriorRunStore)
	if got := must(prs.RunBillingNPIs(ctx, later, run.ID()))(t); !slices.Equal(got, []string{"1098765437", "1234567893"}) {
		t.Fatalf("billing NPIs of run %d inside run %d = %v", run.ID(), later.ID(), got)
	}
	if got := must(prs.RunBillingNPIs(ctx, later, later.ID()))(t); len(got) != 0 {
		t.Fatalf("billing NPIs of a run without decisions, inside it = %v", got)
	}
}

// webDecisionsWithTheRun: the decisions and interchanges a run records are
// kept when it is written, found by run, invoice, CIN and ISA13 with their
// facts, counted by rule; an abandoned run's are gone.
func webDecisionsWithTheRun(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	ds, ok := s.(store.DecisionStore)
	if !ok {
		t.Fatalf("%T is not a store.DecisionStore", s)
	}
	c := console(t, s)
	e := toProcessing(t, s, "a", "inv.csv", "h1")
	run := begin(t, s.BindRuns(e.ID, "a", "/work", nil))
	lines := make([]store.LineDecision, 0, 1203)
	for i := range 1203 { // more than one insert chunk
		d := store.LineDecision{Seq: i + 1, File: "inv.csv", Row: i + 2, Invoice: "INV-1", LineNo: "1", CIN: "91234567A", NPI: "1234567893",
			Code: "G9008", From: "2025-01-02", To: "2025-01-02", Outcome: store.OutcomeAccepted,
			Facts: []store.Fact{{Kind: "coding", Detail: "G9008 ECM 2022-01-01.."}}}
		if i%2 == 1 {
			d.Outcome, d.Rule, d.Source, d.Message = store.OutcomeRejected, "AUTH-MISSING", "S004:1681", "no authorization"
			d.Facts = append(d.Facts, store.Fact{Kind: "authorization", Detail: "A1 ECM 2025-02-01..2025-03-01"})
		}
		if i == 1202 {
			d.Invoice, d.CIN, d.Outcome, d.Rule = "INV-2", "98765432B", store.OutcomeRejected, "ELIG-NOT-ENROLLED"
		}
		lines = append(lines, d)
	}
	if err := ds.RecordDecisions(ctx, run, lines); err != nil {
		t.Fatal(err)
	}
	if err := s.(store.ClaimStore).RecordClaims(ctx, run, []store.SentClaim{{CLM01: "CLM-1", Invoice: "INV-1"}}); err != nil {
		t.Fatal(err)
	}
	if err := ds.RecordInterchanges(ctx, run, []store.Interchange{{ISA13: 42, File: "e.837"}}); err != nil {
		t.Fatal(err)
	}
	if err := run.Written(ctx, "t", "e.837"); err != nil {
		t.Fatal(err)
	}
	d, found := must2(c.Decision(ctx, run.ID(), 2))(t)
	if !found || d.Outcome != store.OutcomeRejected || d.Rule != "AUTH-MISSING" || d.Source != "S004:1681" || d.Row != 3 ||
		len(d.Facts) != 2 || d.Facts[1].Kind != "authorization" || d.Facts[1].Detail != "A1 ECM 2025-02-01..2025-03-01" {
		t.Fatalf("decision 2 = %+v %v", d, found)
	}
	if got := must(c.InvoiceDecisions(ctx, "INV-2", 0, 10))(t); len(got) != 1 || got[0].Seq != 1203 || len(got[0].Facts) != 1 {
		t.Fatalf("INV-2 = %+v", got)
	}
	// Lists of lines leave the evidence out.
	if got := must(c.InvoiceLines(ctx, "INV-2", 0, 10))(t); len(got) != 1 || got[0].Seq != 1203 || got[0].Rule != "ELIG-NOT-ENROLLED" || got[0].Facts != nil {
		t.Fatalf("INV-2 lines = %+v", got)
	}
	if got := must(c.InvoiceLines(ctx, "INV-2", run.ID(), 10))(t); len(got) != 1 || got[0].Seq != 1203 {
		t.Fatalf("INV-2 lines of run %d = %+v", run.ID(), got)
	}
	if got := must(c.MemberDecisions(ctx, "98765432B", 10))(t); len(got) != 1 || got[0].Rule != "ELIG-NOT-ENROLLED" {
		t.Fatalf("by CIN = %+v", got)
	}
	rc := must(c.RunRuleCounts(ctx, run.ID()))(t)
	if len(rc) != 2 || rc[0] != (store.RuleCount{Rule: "AUTH-MISSING", Count: 601}) || rc[1] != (store.RuleCount{Rule: "ELIG-NOT-ENROLLED", Count: 1}) {
		t.Fatalf("rule counts = %+v", rc)
	}
	if rej := must(c.RunDecisions(ctx, run.ID(), true, "", 0, 5))(t); len(rej) != 5 || rej[0].Seq != 2 || rej[4].Seq != 10 {
		t.Fatalf("rejected page = %+v", rej)
	}
	if got := must(c.RunDecisions(ctx, run.ID(), true, "ELIG-NOT-ENROLLED", 0, 5))(t); len(got) != 1 || got[0].Seq != 1203 {
		t.Fatalf("by rule = %+v", got)
	}
	if sc, found := must2(c.ClaimByCLM01(ctx, "INV-1"))(t); found {
		t.Fatalf("claim by invoice number = %+v", sc)
	}
	if sc, found := must2(c.ClaimByCLM01(ctx, "CLM-1"))(t); !found || sc.Invoice != "INV-1" || sc.Run != run.ID() {
		t.Fatalf("claim CLM-1 = %+v %v", sc, found)
	}
	if is := must(c.InterchangesByISA13(ctx, 42))(t); len(is) != 1 || is[0].Run != run.ID() || is[0].File != "e.837" {
		t.Fatalf("ISA13 42 = %+v", is)
	}
	if f := must(c.FileOfRun(ctx, run.ID()))(t); f == nil || f.ID != e.ID {
		t.Fatalf("file of run = %+v", f)
	}
	byDay := must(c.RejectsByRule(ctx, time.Now().Add(-24*time.Hour)))(t)
	if len(byDay) != 2 || byDay[0].Rule != "AUTH-MISSING" || byDay[0].Count != 601 || byDay[0].Day != time.Now().UTC().Format("2006-01-02") {
		t.Fatalf("rejects by rule = %+v", byDay)
	}

	abandoned := begin(t, s)
	if err := ds.RecordDecisions(ctx, abandoned, lines[:2]); err != nil {
		t.Fatal(err)
	}
	if err := abandoned.Abandon(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if _, found := must2(c.Decision(ctx, abandoned.ID(), 1))(t); found {
		t.Fatal("an abandoned run's decision was kept")
	}
	if again := must(c.RejectsByRule(ctx, time.Now().Add(-24*time.Hour)))(t); len(again) != 2 || again[0].Count != 601 {
		t.Fatalf("rejects by rule after an abandoned run = %+v", again)
	}
}

func must2[A, B any](a A, b B, err error) func(t *testing.T) (A, B) {
	return func(t *testing.T) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

// webFilesAndRequeue: the file list filters by kind, state, time and
// uploader, pages by ID (by time noticed, then ID, within a time filter); search finds a file by name, hash and hash prefix; a
// quarantined file is requeued from where it was quarantined, once.
func webFilesAndRequeue(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	c := console(t, s)
	good := toProcessing(t, s, "a", "good.csv", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	bad := toProcessing(t, s, "b", "bad.csv", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
	must(s.DecideFile(ctx, bad.ID, "b", store.FileQuarantine, "not an invoice"))(t)
	if err := s.FinishFile(ctx, bad.ID, "b", store.FileQuarantined, "quarantine/bad.csv"); err != nil {
		t.Fatal(err)
	}
	if err := c.RecordUpload(ctx, "inbox", "good.csv", 7); err != nil {
		t.Fatal(err)
	}
	if got := must(c.ListFiles(ctx, store.FileFilter{State: store.FileQuarantined}))(t); len(got) != 1 || got[0].ID != bad.ID {
		t.Fatalf("quarantined = %+v", got)
	}
	if got := must(c.ListFiles(ctx, store.FileFilter{Kind: "invoice"}))(t); len(got) != 2 || got[0].ID != bad.ID {
		t.Fatalf("invoices = %+v", got)
	}
	if got := must(c.ListFiles(ctx, store.FileFilter{BeforeID: bad.ID}))(t); len(got) != 1 || got[0].ID != good.ID {
		t.Fatalf("page = %+v", got)
	}
	// Bounded in time: the latest noticed first, paged after an entry.
	hour := store.FileFilter{Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Hour)}
	if got := must(c.ListFiles(ctx, hour))(t); len(got) != 2 || got[0].ID != bad.ID || got[1].ID != good.ID {
		t.Fatalf("this hour = %+v", got)
	}
	hour.BeforeID = bad.ID
	if got := must(c.ListFiles(ctx, hour))(t); len(got) != 1 || got[0].ID != good.ID {
		t.Fatalf("this hour after file %d = %+v", bad.ID, got)
	}
	hour.BeforeID = good.ID
	if got := must(c.ListFiles(ctx, hour))(t); len(got) != 0 {
		t.Fatalf("this hour after file %d = %+v", good.ID, got)
	}
	if got := must(c.ListFiles(ctx, store.FileFilter{Since: time.Now().Add(time.Hour)}))(t); len(got) != 0 {
		t.Fatalf("next hour = %+v", got)
	}
	if f := must(c.File(ctx, good.ID))(t); f.ID != good.ID || f.Name != "good.csv" {
		t.Fatalf("file %d = %+v", good.ID, f)
	}
	if _, err := c.File(ctx, bad.ID+1000); !errors.Is(err, store.ErrNoFile) {
		t.Fatalf("no such file: %v", err)
	}
	if got := must(c.ListFiles(ctx, store.FileFilter{UploadedBy: 7}))(t); len(got) != 1 || got[0].ID != good.ID {
		t.Fatalf("uploaded by 7 = %+v", got)
	}
	if got := must(c.ListFiles(ctx, store.FileFilter{UploadedBy: 8}))(t); len(got) != 0 {
		t.Fatalf("uploaded by 8 = %+v", got)
	}
	if f := must(c.FileByPath(ctx, "inbox", "good.csv"))(t); f == nil || f.ID != good.ID {
		t.Fatalf("by path = %+v", f)
	}
	if f := must(c.FileByPath(ctx, "inbox", "nope.csv"))(t); f != nil {
		t.Fatalf("by path nope = %+v", f)
	}
	if u := must(c.Uploader(ctx, good))(t); u != 7 {
		t.Fatalf("uploader = %d", u)
	}
	for _, term := range []string{"good.csv", good.Hash, "AAAAAAAAAAAA"} {
		if got := must(c.FilesByNameOrHash(ctx, term))(t); len(got) != 1 || got[0].ID != good.ID {
			t.Errorf("search %q = %+v", term, got)
		}
	}
	days := must(c.FilesByDay(ctx, time.Now().Add(-time.Hour)))(t)
	if len(days) != 2 || days[0].Kind != "invoice" || days[0].Count != 1 {
		t.Fatalf("by day = %+v", days)
	}
	if want := good.Noticed.UTC().Format("2006-01-02"); days[0].Day != want || days[1].Day != want {
		t.Fatalf("by day = %+v, want the day %s", days, want)
	}
	lag := must(c.PendingLag(ctx))(t)
	if lag.Pending != 1 || lag.OldestNotice.IsZero() {
		t.Fatalf("lag = %+v", lag)
	}
	if _, err := c.RequeueFile(ctx, good.ID); !errors.Is(err, store.ErrNotQuarantined) {
		t.Fatalf("requeue of a processing file: %v", err)
	}
	nid := must(c.RequeueFile(ctx, bad.ID))(t)
	n := must(s.File(ctx, nid))(t)
	if n.State != store.FileQueued || n.Path != "quarantine/bad.csv" || n.Name != "bad.csv" || n.Source != bad.Source || n.Kind != bad.Kind {
		t.Fatalf("requeued = %+v", n)
	}
	if _, err := c.RequeueFile(ctx, bad.ID); err == nil {
		t.Fatal("requeued twice while the first is pending")
	}
	if old := must(s.File(ctx, bad.ID))(t); store.QuarantinedAt(old) != "quarantine/bad.csv" {
		t.Fatalf("old note = %q", old.Note)
	}
}

// requeueFromQuarantinePath: the quarantine move's destination is kept in
// its own field (recorded in quarantine state only, by the holder), and a
// requeue registers that path; it refuses, naming the entry, when the
// ledger does not know where the file went; a scheduled job's entry is
// requeued as its own path, run again although it ran once.
func requeueFromQuarantinePath(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	c := console(t, s)
	// quarantined takes a fresh entry of path to quarantined with reason:
	// record, when not "", is recorded as its quarantine path, and where
	// is what the daemon's move added to the note.
	quarantined := func(n store.FileNotice, reason, record, where string) *store.FileEntry {
		t.Helper()
		id, added, err := s.RegisterFile(ctx, n)
		if err != nil || !added {
			t.Fatalf("register %s: added=%v err=%v", n.Path, added, err)
		}
		take(t, s, "a", id)
		if _, err := s.RecordQuarantinePath(ctx, id, "a", "quarantine/early"); !errors.Is(err, store.ErrNotHeld) {
			t.Fatalf("quarantine path recorded while queued: %v, want ErrNotHeld", err)
		}
		must(s.DecideFile(ctx, id, "a", store.FileQuarantine, reason))(t)
		if _, err := s.RecordQuarantinePath(ctx, id, "b", "quarantine/other"); !errors.Is(err, store.ErrNotHeld) {
			t.Fatalf("quarantine path recorded by another owner: %v, want ErrNotHeld", err)
		}
		if record != "" {
			if e := must(s.RecordQuarantinePath(ctx, id, "a", record))(t); e.QuarantinePath != record || e.State != store.FileQuarantine {
				t.Fatalf("recorded = %+v", e)
			}
		}
		if err := s.FinishFile(ctx, id, "a", store.FileQuarantined, where); err != nil {
			t.Fatal(err)
		}
		return must(s.File(ctx, id))(t)
	}
	job := store.FileNotice{Source: store.ScheduleSource, Path: "monthly-report/2026-11", Name: "monthly-report-2026-11", Kind: "monthly", ModTime: time.Unix(1700000000, 0), Once: true}
	tests := []struct {
		name          string
		notice        store.FileNotice
		reason        string
		record, where string
		at            string // QuarantinedAt
		requeue       string // the requeued entry's path; "" refused
	}{
		{"recorded before the move", notice("a.csv"), "not an invoice", "quarantine/a.csv", "quarantine/a.csv", "quarantine/a.csv", "quarantine/a.csv"},
		{"recorded, name taken: ID-prefixed", notice("b.csv"), "not an invoice; bad header", "quarantine/9-b.csv", "quarantine/9-b.csv", "quarantine/9-b.csv", "quarantine/9-b.csv"},
		{"left where it was claimed", notice("c.csv"), "bad", "processing/3-c.csv", "left at processing/3-c.csv: it cannot be moved (name too long)", "processing/3-c.csv", "processing/3-c.csv"},
		{"interrupted move, nothing recorded", notice("d.csv"), "not an invoice", "", "moved before an interruption", "", ""},
		{"from before the field: the note's path", notice("e.csv"), "not an invoice", "", "quarantine/e.csv", "quarantine/e.csv", "quarantine/e.csv"},
		{"scheduled job", job, "failed 3 times; last error: enrollment not loaded", "", "", "", job.Path},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := quarantined(tc.notice, tc.reason, tc.record, tc.where)
			if e.QuarantinePath != tc.record {
				t.Errorf("QuarantinePath = %q, want %q", e.QuarantinePath, tc.record)
			}
			if got := store.QuarantinedAt(e); got != tc.at {
				t.Errorf("QuarantinedAt = %q, want %q (note %q)", got, tc.at, e.Note)
			}
			before := len(must(s.Files(ctx, 0))(t))
			nid, err := c.RequeueFile(ctx, e.ID)
			if tc.requeue == "" {
				if !errors.Is(err, store.ErrCannotRequeue) || !strings.Contains(err.Error(), fmt.Sprintf("file %d (%s)", e.ID, e.Name)) {
					t.Fatalf("requeue = %d, %v; want ErrCannotRequeue naming file %d", nid, err, e.ID)
				}
				if after := len(must(s.Files(ctx, 0))(t)); after != before {
					t.Fatalf("a refused requeue registered an entry (%d entries, were %d)", after, before)
				}
				return
			}
			if err != nil {
				t.Fatalf("requeue: %v", err)
			}
			n := must(s.File(ctx, nid))(t)
			if n.State != store.FileQueued || n.Path != tc.requeue || n.Source != e.Source || n.Name != e.Name || n.Kind != e.Kind || n.QuarantinePath != "" {
				t.Fatalf("requeued = %+v", n)
			}
			if _, err := c.RequeueFile(ctx, e.ID); !errors.Is(err, store.ErrCannotRequeue) {
				t.Fatalf("second requeue while the first is queued: %v, want ErrCannotRequeue", err)
			}
			if old := must(s.File(ctx, e.ID))(t); !strings.HasPrefix(old.Note, fmt.Sprintf("requeued as file %d; ", nid)) || store.QuarantinedAt(old) != tc.at {
				t.Fatalf("old entry after the requeue: note %q, at %q", old.Note, store.QuarantinedAt(old))
			}
			// The requeued entry is taken like any other (a take finds it).
			take(t, s, "a", nid)
			if err := s.FinishFile(ctx, nid, "a", store.FileLost, "test"); err != nil {
				t.Fatal(err)
			}
		})
	}
	// A scheduled period requeued still runs once from the schedule's side.
	if _, added, err := s.RegisterFile(ctx, job); err != nil || added {
		t.Fatalf("Once register after the requeue: added=%v err=%v", added, err)
	}
}
