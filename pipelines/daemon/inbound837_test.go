package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

func provider837(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "inbound837", "testdata", "837p-two-claims.x12"))
	if err != nil {
		t.Fatal(err)
	}
	// ENC1001 line 2 bills G9012 without its modifier: the DHCS coding
	// table rejects that claim; ENC1002 is good.
	return b
}

// TestInbound837RouteForwardsToTheInvoiceRoute: an 837p route answers a
// provider's 837P (999, 277CA, report to the responses destination); the
// good claim's encounter lines go to the invoices destination, the inbox
// the invoice route reads, and leave in the next 837P to DHCS with the
// provider's CLM01 in REF*D9; the bad claim does not. The same sender and
// ISA13 again gets a TA1 rejecting it as a duplicate, and nothing else.
func TestInbound837RouteForwardsToTheInvoiceRoute(t *testing.T) {
	dir := t.TempDir()
	h := startDaemon(t, dir, localConfig(dir, `  invoices: {transport: {type: local, local: {dir: `+`"`+dir+`"`+`}}, folder: inbox}
routes:
  - {pattern: "*.x12", kind: 837p}
  - {pattern: "*.csv", kind: invoice}
inbound_837p:
  trading_partners:
    CALAIMGW: {ta1: on_error}
http: {listen: '127.0.0.1:0'}
`))
	h.write("harbor.x12", provider837(t))
	dhcs := filepath.Join(dir, "outbox", "dhcs")
	waitFor(t, 30*time.Second, "an 837 to DHCS", func() bool {
		es, _ := os.ReadDir(dhcs)
		return len(es) > 0
	})
	waitFor(t, 30*time.Second, "both files archived", settled(t, h.st, 2))
	files := byName(t, h.st)
	e := files["harbor.x12"]
	if e.State != store.FileArchived || !strings.Contains(e.Note, "2 claim(s), 1 rejected, 1 forwarded") {
		t.Fatalf("harbor.x12: %s %q", e.State, e.Note)
	}
	stem := filepath.Join(dir, "outbox", "responses", "harbor."+itoa(e.ID))
	for _, s := range []string{".999", ".277ca", ".report.csv", ".report.html"} {
		if _, err := os.Stat(stem + s); err != nil {
			t.Errorf("response %s: %v", s, err)
		}
	}
	if b, _ := os.ReadFile(stem + ".277ca"); !strings.Contains(string(b), "TRN*2*ENC1001~STC*A7:454") {
		t.Errorf("277CA:\n%s", b)
	}
	fwd := "harbor." + itoa(e.ID) + ".encounters.csv"
	if f, ok := files[fwd]; !ok || f.State != store.FileArchived {
		t.Fatalf("encounter lines %s not converted by the invoice route: %+v", fwd, files)
	}
	es, _ := os.ReadDir(dhcs)
	var out837 string
	for _, x := range es {
		b, _ := os.ReadFile(filepath.Join(dhcs, x.Name()))
		out837 += string(b)
	}
	if !strings.Contains(out837, "REF*D9*ENC1002~") || strings.Contains(out837, "ENC1001") {
		t.Errorf("837 to DHCS:\n%s", out837)
	}
	// calgw_lines_total counts invoice lines: the forwarded line once, as
	// the invoice route converted it, not the 837P's claims as well.
	waitFor(t, 20*time.Second, "both files counted", func() bool {
		m := scrape(t, h.d.HTTPAddr())
		return strings.Contains(m, `calgw_file_processing_seconds_count{kind="invoice"} 1`+"\n") &&
			strings.Contains(m, `calgw_file_processing_seconds_count{kind="837p"} 1`+"\n")
	})
	m := scrape(t, h.d.HTTPAddr())
	if got := sampleValue(t, m, `calgw_lines_total{outcome="accepted",rule=""}`); got != 1 || strings.Contains(m, `calgw_lines_total{outcome="rejected"`) {
		t.Errorf("calgw_lines_total: accepted %v, want 1, and no rejected line:\n%s", got, m)
	}

	h.write("harbor-again.x12", []byte(strings.Replace(string(provider837(t)), "REF*D9*CLMREF1001", "REF*D9*CLMREF1002", 1)))
	waitFor(t, 30*time.Second, "the repeat archived", settled(t, h.st, 3))
	again := byName(t, h.st)["harbor-again.x12"]
	if !strings.Contains(again.Note, "duplicate interchange") {
		t.Fatalf("repeat: %s %q", again.State, again.Note)
	}
	astem := filepath.Join(dir, "outbox", "responses", "harbor-again."+itoa(again.ID))
	if b, err := os.ReadFile(astem + ".ta1"); err != nil || !strings.Contains(string(b), "*R*025~") {
		t.Errorf("TA1 of the repeat: %q %v", b, err)
	}
	if _, err := os.Stat(astem + ".999"); err == nil {
		t.Error("the repeat was answered with a 999: it was processed again")
	}
}

// inbound837Env opens a SQLite store (closed when t ends) and loads the
// embedded rules and the default configuration.
func inbound837Env(t *testing.T) (*store.SQLite, *rules.Set, *config.Config) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rs, err := rules.Load(rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return st, rs, cfg
}

// TestInbound837ProcessedAgainIsNotADuplicate: the same ledger entry
// processed again (a retry after a crash before it was committed) is
// answered in full again; the same content in another entry is a
// duplicate interchange.
func TestInbound837ProcessedAgainIsNotADuplicate(t *testing.T) {
	ctx := context.Background()
	st, rs, cfg := inbound837Env(t)
	p, err := newInbound837Processor(Env{Store: st, Rules: rs, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "harbor.x12")
	if err := os.WriteFile(in, provider837(t), 0o600); err != nil {
		t.Fatal(err)
	}
	process := func(id int64) *Result {
		t.Helper()
		res, err := p.Process(ctx, &Job{Input: in, Name: "harbor.x12", OutDir: t.TempDir(), File: &store.FileEntry{ID: id}, Store: st, Config: cfg,
			Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	roles := func(res *Result) string {
		var rs []string
		for _, o := range res.Outputs {
			rs = append(rs, o.Role)
		}
		return strings.Join(rs, " ")
	}
	first := process(7)
	if got := roles(first); got != "ack 277ca report summary encounter_lines" {
		t.Fatalf("first: outputs %q, note %q", got, first.Note)
	}
	if again := process(7); roles(again) != roles(first) || strings.Contains(again.Note, "duplicate") {
		t.Fatalf("the same entry again: outputs %q, note %q", roles(again), again.Note)
	}
	if other := process(8); roles(other) != "ta1" || !strings.Contains(other.Note, "duplicate interchange") {
		t.Fatalf("another entry with the same content: outputs %q, note %q", roles(other), other.Note)
	}
}

// busyNumbers is the SQLite store with a database that cannot hand out
// control numbers for now (PostgreSQL starting up: 57P03).
type busyNumbers struct{ *store.SQLite }

func (busyNumbers) NextControlNumber(context.Context, string) (int64, error) {
	return 0, fmt.Errorf("store: next control number: %w", &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"})
}

// TestInbound837StoreErrorKeepsItsKind: an 837P whose processing meets a
// database that is restarting fails with an error the daemon still sees
// as transient (retried without counting against the file), not as the
// file's own failure, which would quarantine a good file after
// retry.max_attempts.
func TestInbound837StoreErrorKeepsItsKind(t *testing.T) {
	ctx := context.Background()
	st, rs, cfg := inbound837Env(t)
	p := &inbound837Processor{st: busyNumbers{st}, rules: rs}
	in := filepath.Join(t.TempDir(), "harbor.x12")
	if err := os.WriteFile(in, provider837(t), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := p.Process(ctx, &Job{Input: in, Name: "harbor.x12", OutDir: t.TempDir(), File: &store.FileEntry{ID: 7}, Store: st, Config: cfg,
		Log: slog.New(slog.DiscardHandler)})
	if err == nil {
		t.Fatal("processed without control numbers")
	}
	if !isTransient(err) || strings.Contains(err.Error(), in) {
		t.Errorf("error %q: transient %v, want transient and naming harbor.x12, not the local copy", err, isTransient(err))
	}
}
