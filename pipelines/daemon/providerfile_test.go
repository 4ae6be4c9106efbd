package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/x274"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// jobConfig adds the monthly 274 job to the feeds' configuration.
func jobConfig(dir string) string { return withMonthlyJob(localConfig(dir, feedRoutes)) }

// withMonthlyJob adds the monthly 274 job to a localConfig, due from the
// 1st at midnight (so it is due whenever the test runs).
func withMonthlyJob(yaml string) string {
	return strings.Replace(yaml, "schedules: {poll_interval: 50ms}\n", `schedules:
  poll_interval: 50ms
  jobs:
    - {name: provider-network, kind: "274", day_of_month: 1, at: "00:00"}
`, 1)
}

// restart stops the harness's daemon and runs a new one on the same state
// with the configuration yaml.
func (h *harness) restart(yaml string) {
	h.t.Helper()
	if h.stop != nil {
		if err := h.stop(); err != nil {
			h.t.Fatal(err)
		}
	}
	h.cfg = loadConfig(h.t, yaml)
	d, err := New(context.Background(), Options{Config: h.cfg, Store: h.st, StateDir: h.state,
		Log: slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		h.t.Fatal(err)
	}
	h.d = d
	h.run()
}

// openRoster is the demo roster with every contract in force from 2020 on,
// so that any month the test runs in has the three sites: San Francisco
// (38), Los Angeles (19, with a practitioner) and Fresno (10).
func openRoster(t *testing.T) []byte {
	b := string(readTestdata(t, rosterData+"demo-roster.csv"))
	for _, dates := range []string{"2024-07-01,", "2023-01-01,2027-12-31", "2026-09-15,"} {
		if !strings.Contains(b, ","+dates+",") {
			t.Fatalf("demo-roster.csv changed: no %q", dates)
		}
		b = strings.Replace(b, ","+dates+",", ",2020-01-01,,", 1)
	}
	return []byte(b)
}

// The scheduled 274 job writes the month's files from the roster the
// roster processor loaded — one IG-valid 274 per county, each with its
// county's sites — delivers them to DHCS, and runs once per month, across
// restarts.
func TestScheduled274FromTheLoadedRoster(t *testing.T) {
	dir := t.TempDir()
	h := startDaemon(t, dir, localConfig(dir, feedRoutes))
	h.write("roster-network.csv", openRoster(t))
	waitFor(t, 20*time.Second, "the roster loaded", settled(t, h.st, 1))
	if e := byName(t, h.st)["roster-network.csv"]; !strings.Contains(e.Note, "roster loaded: 3 site(s)") {
		t.Fatalf("roster: %s %s", e.State, e.Note)
	}

	h.restart(jobConfig(dir))
	period := time.Now().In(h.cfg.Location()).Format("2006-01")
	compact := strings.ReplaceAll(period, "-", "")
	waitFor(t, 20*time.Second, "the month's 274 job done", settled(t, h.st, 2))
	h.restart(jobConfig(dir)) // restarted: the month is not run again
	time.Sleep(400 * time.Millisecond)
	h.stop()

	var job store.FileEntry
	files, _ := h.st.Files(context.Background(), 0)
	for _, f := range files {
		if f.Source == scheduleSource {
			if job.ID != 0 {
				t.Errorf("the job ran twice this month: entries %d and %d", job.ID, f.ID)
			}
			job = f
		}
	}
	if job.State != store.FileArchived || job.Path != "provider-network/"+period || !strings.Contains(job.Note, "3 county file(s)") {
		t.Fatalf("job entry: %+v", job)
	}
	dhcs := filepath.Join(dir, "outbox", "dhcs")
	names := listDir(t, dhcs)
	if len(names) != 3 {
		t.Fatalf("DHCS received %v, want one 274 per county (10, 19, 38)", names)
	}
	// 274-CCYYMM-<county>-<ISA13>.x12 (docs/providers.md), in county order.
	sitesOf := map[string][]string{"10": {"1673456780"}, "19": {"1582345678", "1765432103"}, "38": {"1456789019"}}
	allNPIs := []string{"1673456780", "1582345678", "1765432103", "1456789019"}
	name := regexp.MustCompile(`^274-` + compact + `-(\d\d)-(\d{9})\.x12$`)
	for _, n := range names {
		m := name.FindStringSubmatch(n)
		if m == nil {
			t.Errorf("file name %s", n)
			continue
		}
		county, isa13 := m[1], m[2]
		b, err := os.ReadFile(filepath.Join(dhcs, n))
		if err != nil {
			t.Fatal(err)
		}
		reg := &ig.Registry{}
		if err := x274.Register(reg); err != nil {
			t.Fatal(err)
		}
		sum, err := ig.NewValidator(ig.Options{Registry: reg, OnFinding: func(f *ig.Finding) { t.Errorf("%s: %s", n, f.String()) }}).
			Validate(context.Background(), bytes.NewReader(b))
		if err != nil || !sum.OK() || sum.Transactions != 1 || !bytes.Contains(b, []byte("ST*274*")) {
			t.Errorf("%s: not one valid 274: %v %+v", n, err, sum)
		}
		isa := strings.Split(string(b[:106]), "*")
		if isa[1] != "03" || strings.TrimSpace(isa[2]) != compact[2:] || isa[13] != isa13 {
			t.Errorf("%s: ISA01/02 %q %q (want the reporting period YYMM of %s), ISA13 %s", n, isa[1], isa[2], compact, isa[13])
		}
		if !bytes.Contains(b, []byte("N2*;17;;"+county+";")) {
			t.Errorf("%s: no site N2 with county %s in N201 sub-field 4", n, county)
		}
		for _, npi := range allNPIs {
			want := slices.Contains(sitesOf[county], npi)
			if got := bytes.Contains(b, []byte("*XX*"+npi+"~")); got != want {
				t.Errorf("%s: NPI %s present %v, want %v", n, npi, got, want)
			}
		}
	}
}

// Without any roster site in force there is nothing to send: the month's
// job is quarantined with the reason, and nothing goes to DHCS.
func TestScheduled274WithoutARosterIsQuarantined(t *testing.T) {
	dir := t.TempDir()
	h := startDaemon(t, dir, jobConfig(dir))
	waitFor(t, 20*time.Second, "the job done", settled(t, h.st, 1))
	files, _ := h.st.Files(context.Background(), 0)
	if len(files) != 1 || files[0].State != store.FileQuarantined || !strings.Contains(files[0].Note, "no provider site of the roster is in force during") {
		t.Fatalf("job: %+v", files)
	}
	if got := listDir(t, filepath.Join(dir, "outbox", "dhcs")); len(got) != 0 {
		t.Errorf("delivered %v", got)
	}
}
