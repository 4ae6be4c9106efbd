package daemon

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// testProcessors are the processors the test harness adds to the built-in
// ones (Options.Processors).
var testProcessors = map[string]Registration{}

// registerForTest adds a processor to the daemons the test starts, for the
// test's duration.
func registerForTest(t *testing.T, r Registration) {
	t.Helper()
	prev, had := testProcessors[r.Kind]
	testProcessors[r.Kind] = r
	t.Cleanup(func() {
		if had {
			testProcessors[r.Kind] = prev
		} else {
			delete(testProcessors, r.Kind)
		}
	})
}

type reportJob struct{ runs *atomic.Int32 }

func (p reportJob) Process(ctx context.Context, job *Job) (*Result, error) {
	p.runs.Add(1)
	out := filepath.Join(job.OutDir, "report.json")
	if err := os.WriteFile(out, []byte(fmt.Sprintf(`{"period":%q}`, job.Period)), 0o640); err != nil {
		return nil, err
	}
	return &Result{Outputs: []Output{{Role: "report", Path: out, Name: "monthly-" + job.Period + ".json"}}}, nil
}

func TestScheduledJobRunsOncePerMonth(t *testing.T) {
	var runs atomic.Int32
	registerForTest(t, Registration{Kind: "monthly-report", Scheduled: true, Roles: []Role{{"report", "dhcs"}},
		New: func(Env) (Processor, error) { return reportJob{&runs}, nil }})
	dir := t.TempDir()
	yaml := localConfig(dir, `
schedules:
  poll_interval: 50ms
  jobs:
    - {name: monitoring, kind: monthly-report, day_of_month: 1, at: "00:00", deliver: {report: responses}}
`)
	yaml = strings.Replace(yaml, "schedules: {poll_interval: 50ms}\n", "", 1)
	h := startDaemon(t, dir, yaml)
	period := time.Now().In(h.cfg.Location()).Format("2006-01")
	waitFor(t, 20*time.Second, "the job done", settled(t, h.st, 1))
	time.Sleep(300 * time.Millisecond) // more loops: still once
	h.stop()
	// Restarted, it does not run the month again.
	h2, err := New(context.Background(), Options{Config: h.cfg, Store: h.st, StateDir: h.state, Processors: maps.Clone(testProcessors)})
	if err != nil {
		t.Fatal(err)
	}
	h.d = h2
	h.run()
	time.Sleep(300 * time.Millisecond)
	h.stop()
	if n := runs.Load(); n != 1 {
		t.Errorf("the job ran %d times this month, want 1", n)
	}
	b, err := os.ReadFile(filepath.Join(dir, "outbox", "responses", "monthly-"+period+".json"))
	if err != nil || !strings.Contains(string(b), period) {
		t.Errorf("report: %s %v", b, err)
	}
	files, _ := h.st.Files(context.Background(), 0)
	if len(files) != 1 || files[0].State != store.FileArchived || files[0].Path != "monitoring/"+period {
		t.Errorf("ledger: %+v", files)
	}
}

func TestScheduledKindInARouteIsRefused(t *testing.T) {
	var runs atomic.Int32
	registerForTest(t, Registration{Kind: "monthly-report", Scheduled: true, Roles: []Role{{"report", "dhcs"}},
		New: func(Env) (Processor, error) { return reportJob{&runs}, nil }})
	// A route may only name a file kind; the configuration check already
	// refuses job kinds in routes, and New refuses file kinds in jobs.
	dir := t.TempDir()
	yaml := localConfig(dir, "")
	yaml = strings.Replace(yaml, "schedules: {poll_interval: 50ms}", `schedules:
  poll_interval: 50ms
  jobs: [{name: x, kind: monthly-report, day_of_month: 1}]`, 1)
	registerForTest(t, Registration{Kind: "monthly-report", Roles: []Role{{"report", "dhcs"}},
		New: func(Env) (Processor, error) { return reportJob{&runs}, nil }})
	if _, err := newHarness(t, dir, yaml); err == nil || !strings.Contains(err.Error(), "is a file kind") {
		t.Errorf("a file processor as a scheduled job: %v", err)
	}
}
