package daemon

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/demo"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// dropFeeds drops an 834 with bad members, the demo authorization feed and
// the demo roster into dir's inbox.
func dropFeeds(t *testing.T, dir string) {
	t.Helper()
	inbox := filepath.Join(dir, "inbox")
	dropFile(t, inbox, "bad-members.834", readTestdata(t, enrollmentData+"bad-members.834"))
	dropFile(t, inbox, "auth-2026-09.csv", readTestdata(t, enrollmentData+"demo-auth-2026-09.csv"))
	dropFile(t, inbox, "roster-demo.csv", readTestdata(t, rosterData+"demo-roster.csv"))
}

// openState opens the SQLite state of a stopped `calgw run`.
func openState(t *testing.T, state string) *store.SQLite {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestCrashRestartFeeds kills `calgw run` (SIGKILL, from the test hook) at
// each step of a feed's way through, restarts it, and checks that every
// feed was loaded once and its full report (and the 834's 999) reached the
// sender once. At "committed" the load is in the store and the report in
// the work directory, but the ledger does not know the outputs yet: the
// restart resumes from them instead of loading again. The three feeds are
// of three kinds, so "committed:1" to ":3" stop each processor there.
func TestCrashRestartFeeds(t *testing.T) {
	for _, spec := range []string{"fetched", "committed:1", "committed:2", "committed:3", "processed:2", "recorded", "delivered:2", "moved:2"} {
		point, _, _ := strings.Cut(spec, ":")
		t.Run(strings.ReplaceAll(spec, ":", "-"), func(t *testing.T) {
			dir := t.TempDir()
			state := filepath.Join(dir, "state")
			cfg := writeConfig(t, localConfig(dir, feedRoutes))
			dropFeeds(t, dir)
			p := startCalgw(t, "crashing", dir, cfg, state, envCrashAt+"="+spec)
			p.crashed(30 * time.Second)
			r := startCalgw(t, "restarted", dir, cfg, state)
			waitFor(t, 30*time.Second, "every feed archived", drained(t, dir, 3))
			r.term()
			if (point == "committed" || point == "processed") && !strings.Contains(r.output(), "resuming a file whose run committed") {
				t.Error("the restart did not resume the committed load from its outputs")
			}

			st := openState(t, state)
			files := byName(t, st)
			for name, e := range files {
				if e.State != store.FileArchived || e.DuplicateOf != 0 {
					t.Errorf("%s: %s (%s)", name, e.State, e.Note)
				}
			}
			status, err := st.EnrollmentStatus(context.Background())
			if err != nil || status.Loads834 != 1 || status.AuthLoads != 1 {
				t.Errorf("loads %+v %v, want one 834 and one authorization feed", status, err)
			}
			if ok, _ := st.RosterLoaded(context.Background()); !ok {
				t.Error("the roster was not loaded")
			}
			resp := listDir(t, filepath.Join(dir, "outbox", "responses"))
			want := []string{}
			for _, n := range []string{"auth-2026-09.csv", "bad-members.834", "roster-demo.csv"} {
				want = append(want, strings.TrimSuffix(n, filepath.Ext(n))+"."+itoa(files[n].ID)+".report.csv")
			}
			ack := "bad-members." + itoa(files["bad-members.834"].ID) + ".999"
			want = append(want, ack)
			for _, w := range want {
				if !containsString(resp, w) {
					t.Errorf("%s not delivered (have %v)", w, resp)
				}
			}
			if len(resp) != len(want) {
				t.Errorf("responses %v, want %v", resp, want)
			}
			check999(t, ack, readTestdata(t, filepath.Join(dir, "outbox", "responses", ack)))
			// The full report, not "already loaded": the load was resumed, not redone.
			report := string(readTestdata(t, filepath.Join(dir, "outbox", "responses", want[1])))
			if strings.Count(report, "ENR-MEMBER-INVALID") != 6 || strings.Contains(report, "already loaded") {
				t.Errorf("834 report:\n%s", report)
			}
		})
	}
}

// The reference feeds dropped first are what the invoice processor judges
// by afterwards, in the same running `calgw run` (the real binary, whose
// invoice rules are built per file from the store): the demo invoices get
// the eligibility, authorization and contract rejections the feeds imply.
func TestFeedsThenInvoiceSeeTheLoadedData(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	cfg := writeConfig(t, localConfig(dir, feedRoutes))
	inbox := filepath.Join(dir, "inbox")
	dropFile(t, inbox, "roster-demo.csv", readTestdata(t, rosterData+"demo-roster.csv"))
	dropFile(t, inbox, "sunrise-2026-09.834", readTestdata(t, enrollmentData+"demo-sunrise-2026-09.834"))
	dropFile(t, inbox, "auth-2026-09.csv", readTestdata(t, enrollmentData+"demo-auth-2026-09.csv"))
	p := startCalgw(t, "gateway", dir, cfg, state)
	waitFor(t, 30*time.Second, "the feeds archived", drained(t, dir, 3))
	invoices, err := demo.Inputs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range invoices {
		dropFile(t, inbox, filepath.Base(in), readTestdata(t, in))
	}
	waitFor(t, 30*time.Second, "the invoices archived", drained(t, dir, 3+len(invoices)))
	p.term()

	files := byName(t, openState(t, state))
	rejects := func(name string) string {
		e := files[name]
		if e.State != store.FileArchived {
			t.Fatalf("%s: %s (%s)", name, e.State, e.Note)
		}
		return string(readTestdata(t, filepath.Join(dir, "outbox", "responses",
			strings.TrimSuffix(name, filepath.Ext(name))+"."+itoa(e.ID)+".rejects.csv")))
	}
	// The 834 ends member 92345678B's span on 2026-09-07; authorization
	// AUTH-CS-1002 is for post-hospitalization housing, not the recuperative
	// care billed; the roster contracts Valley Meals for CS12 from
	// 2026-09-15 only, and INV-VM-77 line 1 is 1–14 September.
	bay := rejects("bay-street-housing-2026-09.csv")
	for _, want := range []string{"INV-2026-0102,2,ELIG-NOT-ENROLLED,service_from,the member is not enrolled with the plan on 2026-09-08",
		"INV-2026-0102,2,AUTH-MISSING,"} {
		if !strings.Contains(bay, want) {
			t.Errorf("bay street rejects lack %q:\n%s", want, bay)
		}
	}
	if valley := rejects("valley-meals-2026-09.xlsx"); !strings.Contains(valley, `INV-VM-77,1,PROVIDER-NOT-CONTRACTED,billing_npi,"billing NPI 1673456780 is contracted for Community Support CS12`) {
		t.Errorf("valley rejects lack PROVIDER-NOT-CONTRACTED:\n%s", valley)
	}
	// The accepted lines went out in valid 837Ps; the rejected one did not.
	n, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs"))
	if n == 0 || all.lines == 0 {
		t.Fatalf("%d 837s with %d lines", n, all.lines)
	}
	exactlyOnce(t, all.ids, all.lines)
	for _, id := range all.ids {
		if strings.Contains(id, "|92345678B|20260908") {
			t.Errorf("the line of a member not enrolled went out: %s", id)
		}
	}
	if log := p.output(); !strings.Contains(log, "eligibility rules") || strings.Contains(log, "92345678B") {
		t.Error("the log does not show the eligibility rules on, or holds a CIN")
	}
}
