package encounters

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/demo"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

const header = "invoice_number,line_number,invoice_date,billing_npi,billing_tin,billing_name,billing_address,billing_city,billing_state,billing_zip,member_cin,member_last_name,member_first_name,member_dob,service_from,service_to,hcpcs,modifiers,units,charge_amount,diagnosis,member_address,member_city,member_state,member_zip"

// memberAddress is the member address of every row (the last four columns).
const memberAddress = ",1 Elm St,Fresno,CA,93721"

// row returns an invoice line for member m on day d of September 2026.
func row(inv string, line, m, d int, code, mods string) string {
	return fmt.Sprintf("%s,%d,2026-10-01,1456789019,941234567,Bay Street Housing,1200 Mission St,San Francisco,CA,941031520,9%07dA,Member%d,Test,1980-01-01,2026-09-%02d,2026-09-%02d,%s,%s,1,100.00,",
		inv, line, m, m, d, d, code, mods) + memberAddress
}

type env struct {
	t     *testing.T
	dir   string
	state store.Store
	cfg   *config.Config
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, dir: dir, state: st, cfg: cfg}
}

func (e *env) file(name string, lines ...string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) convert(out string, inputs ...string) (*Result, error) {
	return Convert(context.Background(), Job{Inputs: inputs, OutDir: filepath.Join(e.dir, out), Store: e.state,
		Config: e.cfg, Coding: rules.DefaultCodingTable(), Today: 20261123, Now: time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)})
}

// segments splits an 837 written with the default delimiters.
func segments(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, s := range strings.Split(strings.TrimSpace(string(b)), "~") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, strings.Split(s, "*"))
		}
	}
	return out
}

// validate837 checks an output file with the 005010X222A1 validator.
func validate837(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := ig.NewValidator(ig.Options{OnFinding: func(fd *ig.Finding) { t.Errorf("%s: %s", filepath.Base(path), fd.String()) }})
	sum, err := v.Validate(context.Background(), f)
	if err != nil || sum.Transactions == 0 || sum.Rejected != 0 {
		t.Fatalf("validate %s: %v %+v", path, err, sum)
	}
}

func count(segs [][]string, id string) int {
	n := 0
	for _, s := range segs {
		if s[0] == id {
			n++
		}
	}
	return n
}

func readRejects(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "source_file,row,invoice_number,line_number,rule_id,field,message" {
		t.Fatalf("rejects header %v", recs[0])
	}
	return recs[1:]
}

func TestConvertDemoInvoices(t *testing.T) {
	e := newEnv(t)
	e.enrollDemo()
	inputs, err := demo.Inputs(filepath.Join(e.dir, "in"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.convert("out", inputs...)
	if err != nil {
		t.Fatal(err)
	}
	// Each bad line in the demo files was written to fail one rule; see
	// internal/demo/data/invoices.
	want := map[string]int{rules.CodeNotAllowed: 3, rules.FieldInvalid: 3, rules.DuplicateLine: 1,
		rules.FieldMissing: 1, rules.NPIInvalid: 1, rules.TINInvalid: 1}
	for r, n := range want {
		if res.Summary.ByRule[r] != n {
			t.Errorf("%s = %d, want %d (all: %v)", r, res.Summary.ByRule[r], n, res.Summary.ByRule)
		}
	}
	if res.Accepted() != 9 || res.Rejected() != 9 {
		t.Errorf("accepted %d rejected %d, want 9/9", res.Accepted(), res.Rejected())
	}
	validate837(t, res.Output)
	segs := segments(t, res.Output)
	if count(segs, "CLM") != 4 || count(segs, "LX") != 9 || count(segs, "ST") != 1 {
		t.Errorf("CLM %d LX %d ST %d", count(segs, "CLM"), count(segs, "LX"), count(segs, "ST"))
	}
	rej := readRejects(t, res.RejectsPath)
	if len(rej) != 10 {
		t.Errorf("rejects.csv has %d rows, want 10", len(rej))
	}
	for _, r := range rej {
		if r[4] == rules.DuplicateLine && (r[2] != "INV-2026-0104" || !strings.Contains(r[6], "INV-2026-0101 line 1")) {
			t.Errorf("duplicate reject %v", r)
		}
	}
	html, _ := os.ReadFile(res.SummaryPath)
	for _, want := range []string{"9 accepted", "9 rejected", "DUPLICATE-LINE", "valley-meals-2026-09.xlsx"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("summary.html lacks %q", want)
		}
	}
	for _, phi := range []string{"Rivera", "91234567A", "1978"} {
		if strings.Contains(string(html), phi) {
			t.Errorf("summary.html carries member data %q", phi)
		}
	}
}

func TestRerunSendsNothingTwice(t *testing.T) {
	e := newEnv(t)
	in := e.file("a.csv", header, row("INV-1", 1, 1, 1, "H0043", "U6"), row("INV-1", 2, 1, 2, "H0043", "U6"))
	first, err := e.convert("out1", in)
	if err != nil || first.Accepted() != 2 {
		t.Fatalf("first run: %v %+v", err, first)
	}
	second, err := e.convert("out2", in)
	if err != nil {
		t.Fatal(err)
	}
	if second.Accepted() != 0 || second.Summary.ByRule[rules.DuplicateLine] != 2 || second.Output != "" {
		t.Fatalf("second run accepted %d, duplicates %d, output %q", second.Accepted(), second.Summary.ByRule[rules.DuplicateLine], second.Output)
	}
	rej := readRejects(t, second.RejectsPath)
	if !strings.Contains(rej[0][6], filepath.Base(first.Output)) {
		t.Errorf("duplicate message does not name the earlier file: %q", rej[0][6])
	}
	// A new line in a third file goes through; the old ones stay duplicates.
	in3 := e.file("b.csv", header, row("INV-1", 1, 1, 1, "H0043", "U6"), row("INV-2", 1, 1, 3, "H0043", "U6"))
	third, err := e.convert("out3", in3)
	if err != nil || third.Accepted() != 1 || third.Rejected() != 1 {
		t.Fatalf("third run %v accepted %d rejected %d", err, third.Accepted(), third.Rejected())
	}
	if first.Summary.Interchange == third.Summary.Interchange {
		t.Error("ISA13 reused")
	}
}

func TestUnusableInputWritesNothing(t *testing.T) {
	e := newEnv(t)
	good := e.file("good.csv", header, row("INV-1", 1, 1, 1, "H0043", "U6"))
	for name, path := range map[string]string{
		"missing file":     filepath.Join(e.dir, "nope.csv"),
		"not an invoice":   e.file("roster.csv", "npi,name", "1456789019,Bay"),
		"binary":           e.file("blob.bin", "\x00\x01\x02"),
		"duplicate column": e.file("dup.csv", header+",units", row("INV-1", 1, 1, 1, "H0043", "U6")+",1"),
	} {
		_, err := e.convert("out-"+strings.ReplaceAll(name, " ", ""), good, path)
		if !errors.Is(err, ErrUnusable) {
			t.Errorf("%s: err = %v, want ErrUnusable", name, err)
		}
		if entries, _ := os.ReadDir(filepath.Join(e.dir, "out-"+strings.ReplaceAll(name, " ", ""))); len(entries) != 0 {
			t.Errorf("%s: wrote %d files", name, len(entries))
		}
	}
	// Nothing counted as sent: the good file still converts.
	res, err := e.convert("out", good)
	if err != nil || res.Accepted() != 1 {
		t.Fatalf("after unusable runs: %v %+v", err, res)
	}
}

func TestEveryLineRejectedWritesNo837(t *testing.T) {
	e := newEnv(t)
	in := e.file("a.csv", header, row("INV-1", 1, 1, 1, "99213", ""))
	res, err := e.convert("out", in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted() != 0 || res.Output != "" {
		t.Fatalf("accepted %d output %q", res.Accepted(), res.Output)
	}
	matches, _ := filepath.Glob(filepath.Join(e.dir, "out", "*.837"))
	if len(matches) != 0 {
		t.Errorf("837 files written: %v", matches)
	}
	if _, err := os.Stat(res.SummaryPath); err != nil {
		t.Error("no summary.html")
	}
}

func TestTransactionSetsSplitAtMaxClaims(t *testing.T) {
	e := newEnv(t)
	e.cfg.Encounters.MaxClaimsPerST = 2
	lines := []string{header}
	for m := 1; m <= 5; m++ { // five members → five claims
		lines = append(lines, row("INV-1", m, m, 1, "H0043", "U6"))
	}
	res, err := e.convert("out", e.file("a.csv", lines...))
	if err != nil {
		t.Fatal(err)
	}
	validate837(t, res.Output)
	segs := segments(t, res.Output)
	if count(segs, "ST") != 3 || count(segs, "CLM") != 5 || res.Summary.TransactionSets != 3 {
		t.Fatalf("ST %d CLM %d", count(segs, "ST"), count(segs, "CLM"))
	}
	// Every ST restarts its HL numbering and has its own billing provider level.
	hlAfterST := []string{}
	for i, s := range segs {
		if s[0] == "ST" {
			for _, t := range segs[i:] {
				if t[0] == "HL" {
					hlAfterST = append(hlAfterST, t[1]+"/"+t[3])
					break
				}
			}
		}
	}
	if strings.Join(hlAfterST, " ") != "1/20 1/20 1/20" {
		t.Errorf("first HL of each ST: %v", hlAfterST)
	}
	// ST02 control numbers are distinct.
	seen := map[string]bool{}
	for _, s := range segs {
		if s[0] == "ST" {
			if seen[s[2]] {
				t.Errorf("ST02 %s repeated", s[2])
			}
			seen[s[2]] = true
		}
	}
}

func TestClaimSplitsAfterFiftyLines(t *testing.T) {
	e := newEnv(t)
	lines := []string{header}
	for d := 1; d <= 30; d++ { // 60 distinct lines for one member on one invoice
		lines = append(lines, row("INV-BIG", 2*d-1, 7, d, "H0043", "U6"), row("INV-BIG", 2*d, 7, d, "T2033", "U6"))
	}
	res, err := e.convert("out", e.file("a.csv", lines...))
	if err != nil {
		t.Fatal(err)
	}
	validate837(t, res.Output)
	segs := segments(t, res.Output)
	var perClaim []int
	for _, s := range segs {
		switch s[0] {
		case "CLM":
			perClaim = append(perClaim, 0)
			if s[1] != "INV-BIG" || s[2] != map[int]string{0: "5000", 1: "1000"}[len(perClaim)-1] {
				t.Errorf("CLM %v", s)
			}
		case "LX":
			perClaim[len(perClaim)-1]++
		}
	}
	if len(perClaim) != 2 || perClaim[0] != 50 || perClaim[1] != 10 {
		t.Errorf("lines per claim = %v, want [50 10]", perClaim)
	}
}

func TestRecoverCompletesWrittenRunAndAbandonsOpenOne(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out := filepath.Join(e.dir, "out")
	os.MkdirAll(out, 0o755)
	// A run that crashed after committing (its 837 complete under the
	// temporary name) but before the rename.
	written, _ := e.state.BeginRun(ctx, "convert", `{"out":"`+out+`"}`)
	if prior, _ := written.RecordLines(ctx, []store.Line{{Key: [16]byte{1}, Control: "w-1", Invoice: "INV-W"}}); prior[0] != nil {
		t.Fatal("fresh line reported as duplicate")
	}
	temp := filepath.Join(out, tempPrefix(written.ID())+"encounters-000000007.837.tmp")
	final := filepath.Join(out, "encounters-000000007.837")
	os.WriteFile(temp, []byte("ISA"), 0o644)
	if err := written.Written(ctx, temp, final); err != nil {
		t.Fatal(err)
	}
	// A run that crashed mid-file: its transaction never committed.
	open, _ := e.state.BeginRun(ctx, "convert", `{"out":"`+out+`"}`)
	open.RecordLines(ctx, []store.Line{{Key: [16]byte{2}, Control: "o-1", Invoice: "INV-O"}})
	openTemp := filepath.Join(out, tempPrefix(open.ID())+"encounters-000000008.837.tmp")
	os.WriteFile(openTemp, []byte("ISA partial"), 0o644)
	open.Abandon(ctx, "simulated crash") // what SQLite does with an uncommitted transaction
	// Make the open run look crashed again: Abandon marked it aborted, a
	// crash leaves it open.
	reopenRun(t, e, open.ID())

	if err := Recover(ctx, e.state, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(final); err != nil || string(b) != "ISA" {
		t.Errorf("written run's 837 not in place: %v", err)
	}
	if _, err := os.Stat(openTemp); !os.IsNotExist(err) {
		t.Error("open run's temporary file left behind")
	}
	if p, _ := e.state.PendingRuns(ctx); len(p) != 0 {
		t.Errorf("pending after recovery: %+v", p)
	}
	run, _ := e.state.BeginRun(ctx, "convert", "{}")
	defer run.Abandon(ctx, "test")
	prior, _ := run.RecordLines(ctx, []store.Line{{Key: [16]byte{1}}, {Key: [16]byte{2}}})
	if prior[0] == nil {
		t.Error("line of the completed run not counted as sent")
	}
	if prior[1] != nil {
		t.Error("line of the abandoned run counted as sent")
	}
}

// reopenRun sets a run back to "open", as a crash leaves it.
func reopenRun(t *testing.T, e *env, id int64) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, "state", store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE runs SET status = 'open' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
}

func TestUnsafeInvoiceNumbersNeverReachCLM01(t *testing.T) {
	e := newEnv(t)
	in := e.file("a.csv", header, row("=1+1", 1, 1, 1, "H0043", "U6"), row("A:B", 1, 2, 1, "H0043", "U6"), row("INV-1", 1, 3, 1, "H0043", "U6"))
	res, err := e.convert("out", in)
	if err != nil || res.Accepted() != 1 || res.Summary.ByRule[rules.InvoiceNumberUnsafe] != 2 {
		t.Fatalf("%v: accepted %d, by rule %v", err, res.Accepted(), res.Summary.ByRule)
	}
	for _, s := range segments(t, res.Output) {
		if s[0] == "CLM" && !strings.Contains(s[1], "INV-1") {
			t.Errorf("CLM01 %q", s[1])
		}
	}
}

// An invoice without the member's address takes it from the member's 834
// record; with no address at all the line is rejected.
func TestMemberAddressFromThe834(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l, err := e.state.(*store.SQLite).BeginEnrollmentLoad(ctx, store.LoadKind834, "a.834", [32]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	addr := domain.Address{Street: "9 Oak Rd", City: "Modesto", State: "CA", Zip: "95354"}
	for m, a := range map[int]domain.Address{1: addr, 2: {}} {
		if err := l.PutMember(ctx, &domain.EnrollmentChange{Enrollee: domain.Enrollee{Member: domain.Member{CIN: cinOf(m), Address: a}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx, "1", "test"); err != nil {
		t.Fatal(err)
	}
	noAddress := func(m int) string {
		return strings.TrimSuffix(row("INV-1", m, m, 1, "H0043", "U6"), memberAddress) + ",,,,"
	}
	res, err := e.convert("out", e.file("a.csv", header, noAddress(1), noAddress(2), noAddress(3), row("INV-1", 4, 4, 1, "H0043", "U6")))
	if err != nil || res.Accepted() != 2 {
		t.Fatalf("%v: accepted %d, by rule %v", err, res.Accepted(), res.Summary.ByRule)
	}
	for _, r := range readRejects(t, res.RejectsPath) {
		if r[4] != rules.FieldMissing || r[5] != "member_address" || !strings.Contains(r[6], "834") || (r[3] != "2" && r[3] != "3") {
			t.Errorf("reject %v", r)
		}
	}
	validate837(t, res.Output)
	var n4 []string
	for _, s := range segments(t, res.Output) {
		if s[0] == "N4" {
			n4 = append(n4, strings.Join(s[1:], " "))
		}
	}
	if want := []string{"San Francisco CA 941031520", "Modesto CA 95354", "Fresno CA 93721"}; !slices.Equal(n4, want) {
		t.Errorf("N4 %q, want %q", n4, want)
	}
}

// The billing provider's address comes from the roster's site when the
// roster knows the billing NPI: a 5-digit invoice ZIP still gives a 9-digit
// N403, and the invoice's billing address columns may be left out.
func TestBillingAddressFromTheRoster(t *testing.T) {
	e := newEnv(t)
	site := func(npi, zip string) store.ProviderSite {
		return store.ProviderSite{Key: npi, Record: []byte("{}"), Contract: domain.ProviderContract{NPI: npi, Site: "Site " + npi, From: 20220101,
			Address: domain.Address{Street: "77 Roster Way", City: "Oakland", State: "CA", Zip: zip}}}
	}
	if _, err := e.state.(*store.SQLite).LoadRoster(context.Background(), "roster.csv", [32]byte{1},
		[]store.ProviderSite{site("1456789019", "946121234"), site("1234567893", "94612")}); err != nil {
		t.Fatal(err)
	}
	five := strings.Replace(row("INV-1", 1, 1, 1, "H0043", "U6"), "941031520", "94103", 1)
	otherNPI := strings.Replace(five, "1456789019", "1234567893", 1)
	res, err := e.convert("out", e.file("a.csv", header, five, otherNPI))
	if err != nil || res.Accepted() != 1 {
		t.Fatalf("%v: accepted %d, by rule %v", err, res.Accepted(), res.Summary.ByRule)
	}
	rej := readRejects(t, res.RejectsPath)
	if len(rej) != 1 || rej[0][5] != "billing_zip" || !strings.Contains(rej[0][6], "roster's site") || !strings.Contains(rej[0][6], "billing_zip 94103") {
		t.Errorf("rejects %v", rej)
	}
	n4 := func(path string) (got []string) {
		for _, s := range segments(t, path) {
			if s[0] == "N4" {
				got = append(got, strings.Join(s[1:], " "))
			}
		}
		return got
	}
	validate837(t, res.Output)
	if got := n4(res.Output); len(got) == 0 || got[0] != "Oakland CA 946121234" {
		t.Errorf("2010AA N4 %q", got)
	}
	// Without the billing address columns at all.
	cols := strings.Split(header, ",")
	drop := func(r string) string {
		var keep []string
		for i, v := range strings.Split(r, ",") {
			if !strings.HasPrefix(cols[i], "billing_") || cols[i] == "billing_npi" || cols[i] == "billing_tin" || cols[i] == "billing_name" {
				keep = append(keep, v)
			}
		}
		return strings.Join(keep, ",")
	}
	res, err = e.convert("out2", e.file("b.csv", drop(header), drop(row("INV-2", 1, 2, 2, "H0043", "U6"))))
	if err != nil || res.Accepted() != 1 {
		t.Fatalf("%v: accepted %d, by rule %v", err, res.Accepted(), res.Summary.ByRule)
	}
	if got := n4(res.Output); got[0] != "Oakland CA 946121234" {
		t.Errorf("2010AA N4 %q", got)
	}
}

// Past a limit of configuration limits the file is refused whole, with an
// error naming the limit and the position, and nothing is written.
func TestLimitsRefuseTheFile(t *testing.T) {
	good, bad := row("INV-1", 1, 1, 1, "H0043", "U6"), row("INV-2", 1, 2, 1, "99213", "")
	for _, tt := range []struct {
		name   string
		limits config.Limits
		rows   []string
		want   string
	}{
		{"record length", config.Limits{CSVRecordBytes: len(header) + 1}, []string{good, good + strings.Repeat(" ", 400)}, "csv line 3"},
		{"fields per row", config.Limits{FieldsPerRow: strings.Count(header, ",") + 1}, []string{good + ",extra"}, "csv line 2: more than"},
		{"rejects per file", config.Limits{RejectsPerFile: 1}, []string{bad, good, bad}, "more than 1 rejected lines (limits.rejects_per_file)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.cfg.Limits = tt.limits
			_, err := e.convert("out", e.file("a.csv", append([]string{header}, tt.rows...)...))
			if !errors.Is(err, ErrUnusable) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "a.csv") {
				t.Fatalf("err = %v, want ErrUnusable with %q", err, tt.want)
			}
			if entries, _ := os.ReadDir(filepath.Join(e.dir, "out")); len(entries) != 0 {
				t.Errorf("wrote %d files", len(entries))
			}
		})
	}
	// At the limit the file converts.
	e := newEnv(t)
	e.cfg.Limits = config.Limits{RejectsPerFile: 2}
	if res, err := e.convert("out", e.file("a.csv", header, bad, good, bad)); err != nil || res.Rejected() != 2 {
		t.Fatalf("%v %+v", err, res)
	}
}

// The claims of a run are recorded with it a chunk at a time
// (sentClaimsChunk): every claim of a run of more than one chunk is found
// as sent, the first and the last alike.
func TestClaimsOfALargeRunAllRecorded(t *testing.T) {
	e := newEnv(t)
	n := sentClaimsChunk + 7
	lines := []string{header}
	for k := 1; k <= n; k++ {
		lines = append(lines, row(fmt.Sprintf("INV-%d", k), 1, k, 1+k%28, "G9008", "U1"))
	}
	res, err := e.convert("out", e.file("large.csv", lines...))
	if err != nil || res.Accepted() != n {
		t.Fatalf("convert: %v, %d accepted of %d", err, res.Accepted(), n)
	}
	cs := e.state.(store.ClaimStore)
	for _, inv := range []string{"INV-1", fmt.Sprintf("INV-%d", sentClaimsChunk), fmt.Sprintf("INV-%d", n)} {
		if c, found, err := cs.SentClaim(context.Background(), inv, ""); err != nil || found != 1 || c.Invoice != inv {
			t.Errorf("sent claim %s: %+v, %d found, %v", inv, c, found, err)
		}
	}
}
