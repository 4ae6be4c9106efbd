package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/schemas"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// The scheduled monthly-report job writes the previous month's monitoring
// JSON from the state, delivers it to DHCS and its side report to the
// responses destination, and the file is valid against the schema.
func TestScheduledMonthlyReportIsDelivered(t *testing.T) {
	dir := t.TempDir()
	yaml := strings.Replace(localConfig(dir, ""), "schedules: {poll_interval: 50ms}\n", `schedules:
  poll_interval: 50ms
  jobs:
    - {name: monitoring, kind: monthly-report, day_of_month: 1, at: "00:00"}
`, 1)
	h := &harness{t: t, dir: dir, state: filepath.Join(t.TempDir(), "state"), cfg: loadConfig(t, yaml), log: &logBuffer{}}
	tp := h.cfg.Partners[config.DefaultPartner]
	tp.Plan = config.Plan{Name: "TESTPLAN", HCPCodes: map[string]string{"33": "305"}}
	h.cfg.Partners[config.DefaultPartner] = tp
	st, err := store.OpenSQLite(context.Background(), h.state)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h.st = st
	h.d, err = New(context.Background(), Options{Config: h.cfg, Store: st, StateDir: h.state,
		Log: slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	h.run()
	waitFor(t, 20*time.Second, "the job done", settled(t, h.st, 1))
	h.stop()
	now := time.Now().In(h.cfg.Location())
	prev := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	last := prev.AddDate(0, 1, -1).Format("20060102")
	name := "TESTPLAN_ECMCS_" + last + "_00001"
	files, _ := h.st.Files(context.Background(), 0)
	if len(files) != 1 || files[0].State != store.FileArchived || !strings.Contains(files[0].Note, name+".json") {
		t.Fatalf("ledger: %+v", files)
	}
	b, err := os.ReadFile(filepath.Join(dir, "outbox", "dhcs", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	set, _ := schemas.Embedded()
	doc, err := schemas.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if vs := set.ValidateMonthly(doc); len(vs) != 0 {
		t.Errorf("delivered file invalid: %v", vs)
	}
	if !strings.Contains(string(b), `"reportingPeriod":"`+last+`"`) {
		t.Errorf("reporting period is not the previous month's last day %s", last)
	}
	if _, err := os.Stat(filepath.Join(dir, "outbox", "responses", name+".report.txt")); err != nil {
		t.Errorf("side report: %v", err)
	}
}

// A plan without a name or plan codes cannot name the file: the daemon
// refuses to start with the job.
func TestMonthlyReportJobNeedsThePlan(t *testing.T) {
	dir := t.TempDir()
	yaml := strings.Replace(localConfig(dir, ""), "schedules: {poll_interval: 50ms}\n", `schedules:
  poll_interval: 50ms
  jobs:
    - {name: monitoring, kind: monthly-report, day_of_month: 1, at: "00:00"}
`, 1)
	if _, err := newHarness(t, dir, yaml); err == nil || !strings.Contains(err.Error(), "plan.name") {
		t.Errorf("start without a plan: %v", err)
	}
}
