package daemon

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// invoiceHeader is the invoice template's header (README, "Invoice template").
const invoiceHeader = "invoice_number,line_number,invoice_date,billing_npi,billing_tin,billing_name,billing_address,billing_city,billing_state,billing_zip,member_cin,member_last_name,member_first_name,member_dob,service_from,service_to,hcpcs,modifiers,units,charge_amount,member_address,member_city,member_state,member_zip"

// invoiceRow is a valid ECM/CS line for member m (CIN 8nnnnnnnA, last name
// Zmember<m>, born 1961-02-03) on a day of September 2026.
func invoiceRow(inv string, line, m int) string {
	day := 1 + m%28
	return fmt.Sprintf("%s,%d,2026-10-01,1456789019,941234567,Bay Street Housing,1200 Mission St,San Francisco,CA,941031520,8%07dA,Zmember%d,Test,1961-02-03,2026-09-%02d,2026-09-%02d,H0043,U6,1,85.00,1 Elm St,Fresno,CA,93721",
		inv, line, m, m, day, day)
}

// badRow is a line with a code outside the DHCS ECM/CS table (CODE-NOT-ALLOWED).
func badRow(inv string, line, m int) string {
	return strings.Replace(invoiceRow(inv, line, m), ",H0043,U6,", ",99213,,", 1)
}

// invoice returns an invoice file with n valid lines for members
// first..first+n-1, then the extra rows.
func invoice(inv string, first, n int, extra ...string) []byte {
	var b strings.Builder
	b.WriteString(invoiceHeader + "\n")
	for i := range n {
		b.WriteString(invoiceRow(inv, i+1, first+i) + "\n")
	}
	for _, r := range extra {
		b.WriteString(r + "\n")
	}
	return []byte(b.String())
}

// logBuffer collects the daemon's log for assertions and failure output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// localConfig is a configuration with local sources and destinations under
// dir, fast polls and short retries; extra YAML is appended.
func localConfig(dir string, extra string) string {
	return fmt.Sprintf(`
schedules: {poll_interval: 50ms}
retry: {initial: 50ms, max: 400ms, max_attempts: 2}
shutdown_grace: 5s
sources:
  inbox:
    transport: {type: local, local: {dir: %[1]q}}
    folder: inbox
    processing: processing
    archive: archive
    quarantine: quarantine
destinations:
  dhcs: {transport: {type: local, local: {dir: %[1]q}}, folder: outbox/dhcs}
  responses: {transport: {type: local, local: {dir: %[1]q}}, folder: outbox/responses}
`, dir) + extra
}

func loadConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "calgw.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// harness runs a Daemon in the test process.
type harness struct {
	t     *testing.T
	dir   string
	state string
	cfg   *config.Config
	st    store.LedgerStore
	d     *Daemon
	log   *logBuffer
	stop  func() error
}

// newHarness opens a SQLite store in its own state folder and makes the
// daemon (New's error is the test's to check).
func newHarness(t *testing.T, dir, yaml string) (*harness, error) {
	t.Helper()
	h := &harness{t: t, dir: dir, state: filepath.Join(t.TempDir(), "state"), cfg: loadConfig(t, yaml), log: &logBuffer{}}
	if !strings.Contains(yaml, "listen:") {
		h.cfg.HTTP.Listen = "off" // tests on one machine do not share the default port
	}
	st, err := store.OpenSQLite(context.Background(), h.state)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h.st = st
	h.d, err = New(context.Background(), Options{Config: h.cfg, Store: st, StateDir: h.state, Processors: maps.Clone(testProcessors),
		Log: slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daemon log:\n%s", h.log.String())
		}
	})
	return h, err
}

// startDaemon makes a daemon and runs it until the test ends (or h.stop).
func startDaemon(t *testing.T, dir, yaml string) *harness {
	t.Helper()
	h, err := newHarness(t, dir, yaml)
	if err != nil {
		t.Fatal(err)
	}
	h.run()
	return h
}

func (h *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.d.Run(ctx) }()
	var once sync.Once
	var err error
	h.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				err = fmt.Errorf("Run did not return within 20s of the shutdown")
			}
		})
		return err
	}
	h.t.Cleanup(func() {
		if err := h.stop(); err != nil {
			h.t.Errorf("Run: %v", err)
		}
	})
}

// write drops a file into the harness's local inbox, atomically (as an
// upload that renames into place would).
func (h *harness) write(name string, data []byte) {
	h.t.Helper()
	dropFile(h.t, filepath.Join(h.dir, "inbox"), name, data)
}

func dropFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".upload-"+name)
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settled reports whether the ledger holds at least n entries, all final.
func settled(t *testing.T, st store.Ledger, n int) func() bool {
	return func() bool {
		files, err := st.Files(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) < n {
			return false
		}
		for _, f := range files {
			if !f.State.Final() {
				return false
			}
		}
		return true
	}
}

// byName returns the ledger entries by file name (the latest for a name).
func byName(t *testing.T, st store.Ledger) map[string]store.FileEntry {
	t.Helper()
	files, err := st.Files(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.FileEntry{}
	for i := len(files) - 1; i >= 0; i-- {
		out[files[i].Name] = files[i]
	}
	return out
}

// listDir returns the names of the files in dir (not folders), sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// x837 is what check837 found in an 837P file.
type x837 struct {
	claims, lines int
	ids           []string // one per service line: CLM01|member ID|DTP*472|SV101
}

// check837 validates an 837P against 005010X222A1 (zero findings wanted)
// and returns its claims and the identity of each service line.
func check837(t *testing.T, name string, data []byte) x837 {
	t.Helper()
	v := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { t.Errorf("%s: %s", name, f.String()) }})
	sum, err := v.Validate(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if sum.Transactions == 0 || !sum.OK() {
		t.Errorf("%s: %d transaction sets, %d errors", name, sum.Transactions, sum.Errors)
	}
	var out x837
	var clm, member, svc string
	for _, seg := range strings.Split(string(data), "~") {
		el := strings.Split(strings.TrimSpace(seg), "*")
		switch {
		case el[0] == "CLM":
			out.claims++
			clm = el[1]
		case el[0] == "NM1" && len(el) > 9 && el[1] == "IL":
			member = el[9]
		case el[0] == "LX":
			out.lines++
		case el[0] == "SV1":
			svc = el[1]
		case el[0] == "DTP" && len(el) > 3 && el[1] == "472":
			out.ids = append(out.ids, clm+"|"+member+"|"+el[3]+"|"+svc)
		}
	}
	if len(out.ids) != out.lines {
		t.Errorf("%s: %d LX but %d service dates", name, out.lines, len(out.ids))
	}
	return out
}

// delivered837s validates every 837 in dir and returns them together.
func delivered837s(t *testing.T, dir string) (files int, all x837) {
	t.Helper()
	for _, n := range listDir(t, dir) {
		if !strings.HasSuffix(n, ".837") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		x := check837(t, n, data)
		files++
		all.claims += x.claims
		all.lines += x.lines
		all.ids = append(all.ids, x.ids...)
	}
	return files, all
}

// once checks that every wanted line identity occurs exactly once.
func exactlyOnce(t *testing.T, ids []string, want int) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("line %s sent %d times", id, n)
		}
	}
	if len(seen) != want {
		t.Errorf("%d distinct lines delivered, want %d", len(seen), want)
	}
}
