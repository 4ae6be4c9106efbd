package gateway

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/mappings/invoice"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// demoClock is the demo's pinned clock: its invoices bill September 2026.
var demoClock = time.Date(2026, 10, 15, 9, 30, 0, 0, time.UTC)

// FuzzConvert runs `calgw convert` (Gateway.Convert, with its judges) on
// any CSV bytes, against a copy of a state store holding the demo's roster,
// 834 and authorizations, and checks that nothing is lost or invented:
//   - a run that fails names the file and leaves nothing in the output
//     folder, and fails only when the file cannot be read within the limits
//     or lacks the invoice template's columns;
//   - otherwise every data row the CSV reader yields is accounted for
//     exactly once: rejected (rejects.csv rows naming it, each with a rule
//     of the catalogue) or accepted (one 837P service line, found by its
//     REF*6R line control; controls are given in row order), never both;
//     a row the invoice decoder finds problems in is rejected;
//   - an accepted line carries its row's invoice number (CLM01), code
//     (SV101-2), charge (SV102) and units (SV104);
//   - every CLM02 is the sum of its SV102s, and the 837P passes our
//     005010X222A1 validator; no line accepted, no 837P;
//   - the summary's counts are those of the files.
func FuzzConvert(f *testing.F) {
	for _, p := range []string{"../../internal/demo/data/invoices/bay-street-housing-2026-09.csv", "../../internal/demo/data/invoices/golden-state-ecm-2026-09.csv",
		"../../testdata/invoices/invoice-template.csv", "../../testdata/invoices/valley-meals-2026-09.csv", "../../testdata/daemon/invoice-small.csv"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	bay, err := os.ReadFile("../../internal/demo/data/invoices/bay-street-housing-2026-09.csv")
	if err != nil {
		f.Fatal(err)
	}
	lines := bytes.SplitAfter(bay, []byte("\n"))
	f.Add(bytes.Join([][]byte{lines[0], lines[1], lines[1], lines[2]}, nil))                                        // a line repeated
	f.Add(bytes.Join([][]byte{lines[0], bytes.Replace(lines[1], []byte("INV-2026-0101"), []byte("=1+1"), 1)}, nil)) // unsafe CLM01
	f.Add(bytes.Join([][]byte{lines[0], bytes.Replace(lines[1], []byte(",1,85.00,"), []byte(",2.5,\"$1,085.5\","), 1)}, nil))
	f.Add(bytes.Join([][]byte{lines[0], []byte("a,b\n"), lines[3]}, nil)) // a short record
	f.Add(append([]byte("\xef\xbb\xbf"), bytes.ReplaceAll(bay, []byte("\n"), []byte("\r\n"))...))
	f.Add(lines[0])

	ctx := context.Background()
	tmpl := filepath.Join(f.TempDir(), "state")
	demoState(f, tmpl)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		state := filepath.Join(dir, "state")
		copyDir(t, tmpl, state)
		in := filepath.Join(dir, "in.csv")
		if err := os.WriteFile(in, data, 0o600); err != nil {
			t.Fatal(err)
		}
		g, err := Open(ctx, Options{State: state, Now: demoClock, Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		want, readable := readInvoice(t, in, g.Config)
		out := filepath.Join(dir, "out")
		res, err := g.Convert(ctx, []string{in}, out, false)
		if err != nil {
			if !strings.Contains(err.Error(), "in.csv") {
				t.Fatalf("the error names no file: %v", err)
			}
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				t.Fatalf("failed (%v), and left %d file(s) in the output folder", err, len(entries))
			}
			if readable {
				t.Fatalf("a file the reader reads within the limits failed: %v", err)
			}
			return
		}
		if !readable {
			t.Fatal("a file the reader refuses was converted")
		}
		checkConversion(t, res, want)
	})
}

// demoState loads the demo's roster, 834 and authorizations into a new
// state directory.
func demoState(tb testing.TB, dir string) {
	tb.Helper()
	ctx := context.Background()
	in := filepath.Join(filepath.Dir(dir), "ref")
	g, err := Open(ctx, Options{State: dir, Now: demoClock, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	defer g.Close()
	ref := func(name string) string {
		p, err := DemoReference(in, name)
		if err != nil || p == "" {
			tb.Fatalf("demo %s: %q %v", name, p, err)
		}
		return p
	}
	if _, err := g.IngestRoster(ctx, []string{ref("roster.csv")}); err != nil {
		tb.Fatal(err)
	}
	for _, k := range []struct{ kind, file string }{{"834", "enrollment.834"}, {"auth", "authorizations.csv"}} {
		rs, err := g.Ingest(ctx, k.kind, []string{ref(k.file)}, filepath.Join(in, "reports"))
		if err != nil || len(rs) != 1 || rs[0].Err != nil || !rs[0].Committed {
			tb.Fatalf("demo %s: %v %+v", k.kind, err, rs)
		}
	}
}

// copyDir copies the regular files of a closed state directory.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o750); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// wantRow is a data row as the CSV reader and the invoice decoder see it.
type wantRow struct {
	row     int
	bad     bool // the reader or the decoder found a problem: it must be rejected
	line    domain.InvoiceLine
	decoded bool
}

// readInvoice reads the file as Convert does (the reader within the
// configured limits, the invoice decoder): its data rows, and whether the
// whole file can be read.
func readInvoice(t *testing.T, path string, cfg *config.Config) ([]wantRow, bool) {
	t.Helper()
	lim := cfg.Limits.WithDefaults()
	r, err := tabular.OpenWith(path, &tabular.Options{MaxRecordBytes: lim.CSVRecordBytes, MaxColumns: lim.FieldsPerRow})
	if err != nil {
		return nil, false
	}
	defer r.Close()
	dec, err := invoice.NewDecoder(r.Header, r.Format, filepath.Base(path))
	if err != nil {
		return nil, false
	}
	var rows []wantRow
	for {
		row, err := r.Next()
		if err == io.EOF {
			return rows, true
		}
		var re *tabular.RowError
		if errors.As(err, &re) {
			rows = append(rows, wantRow{row: re.Row, bad: true})
			continue
		}
		if err != nil {
			return nil, false
		}
		w := wantRow{row: row.Number, decoded: true}
		w.bad = len(dec.Decode(row, &w.line)) > 0
		w.line.Modifiers = slices.Clone(w.line.Modifiers)
		w.line.Diagnoses = slices.Clone(w.line.Diagnoses)
		rows = append(rows, w)
	}
}

// line837 is one service line of an 837P.
type line837 struct {
	clm01, code, charge, units, control string
	seq                                 int
}

// checkConversion checks a conversion's outputs against the rows read.
func checkConversion(t *testing.T, res *encounters.Result, want []wantRow) {
	t.Helper()
	known := map[string]bool{}
	for _, r := range rules.Catalog() {
		known[r.ID] = true
	}
	rows := map[int]bool{}
	for _, w := range want {
		if rows[w.row] {
			t.Fatalf("the reader gave row %d twice", w.row)
		}
		rows[w.row] = true
	}
	rejected := map[int]bool{}
	b, err := os.ReadFile(res.RejectsPath)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("rejects.csv: %v", err)
	}
	for _, rec := range recs[1:] {
		n, err := strconv.Atoi(rec[1])
		if err != nil || !rows[n] || rec[0] != "in.csv" {
			t.Fatalf("a reject of no row read: %q", rec)
		}
		if !known[rec[4]] {
			t.Fatalf("row %d rejected for rule %q, not in the catalogue", n, rec[4])
		}
		rejected[n] = true
	}
	var lines []line837
	for _, out := range res.Outputs {
		lines = append(lines, read837(t, out)...)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(res.RejectsPath), "*.837")); len(matches) != len(res.Outputs) {
		t.Fatalf("837 files %v, the result names %v", matches, res.Outputs)
	}
	slices.SortFunc(lines, func(a, b line837) int { return a.seq - b.seq })
	for i := 1; i < len(lines); i++ {
		if lines[i].seq == lines[i-1].seq {
			t.Fatalf("line control %s written twice", lines[i].control)
		}
	}
	k := 0
	for _, w := range want {
		if rejected[w.row] {
			continue
		}
		if w.bad {
			t.Fatalf("row %d has problems, and is not rejected", w.row)
		}
		if k == len(lines) {
			t.Fatalf("row %d is neither rejected nor in the 837P", w.row)
		}
		l, got := &w.line, lines[k]
		k++
		if l.Frequency == "" || l.Frequency == "1" {
			if got.clm01 != l.InvoiceNumber {
				t.Fatalf("row %d: CLM01 %q, invoice %q", w.row, got.clm01, l.InvoiceNumber)
			}
		}
		if l.HCPCS != "" && got.code != l.HCPCS || got.charge != l.Charge.String() || got.units != l.Units.String() {
			t.Fatalf("row %d: code %s charge %s units %s in the 837P, the row says %s %s %s", w.row, got.code, got.charge, got.units, l.HCPCS, l.Charge, l.Units)
		}
	}
	if k != len(lines) {
		t.Fatalf("%d lines in the 837P, %d rows accepted", len(lines), k)
	}
	if len(lines) == 0 && len(res.Outputs) > 0 {
		t.Fatalf("an 837P without lines: %v", res.Outputs)
	}
	fs := res.Summary.Files
	if len(fs) != 1 || fs[0].Rows != len(want) || fs[0].Accepted != len(lines) || fs[0].Rejected != len(rejected) {
		t.Fatalf("summary %+v; %d rows read, %d lines written, %d rows rejected", fs, len(want), len(lines), len(rejected))
	}
}

// read837 reads the service lines of an 837P, checking that it passes our
// validator and that each CLM02 is the sum of its SV102s.
func read837(t *testing.T, path string) []line837 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var findings []string
	sum, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { findings = append(findings, f.String()) }}).Validate(context.Background(), bytes.NewReader(b))
	if err != nil || len(findings) > 0 || sum.Transactions == 0 || sum.Rejected != 0 {
		t.Fatalf("%s fails our validator: %v %+v %q\n%s", filepath.Base(path), err, sum, findings, b)
	}
	var out []line837
	var clm01 string
	var total, lines int64
	inLine := false
	end := func() {
		if clm01 != "" && total != lines {
			t.Fatalf("claim %s: CLM02 %s, its lines add up to %s", clm01, domain.Money(total), domain.Money(lines))
		}
	}
	rd := x12.NewReader(bytes.NewReader(b))
	for {
		s, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case s.Is("CLM"):
			end()
			clm01, total, lines, inLine = s.ElementString(1), cents(t, s.ElementString(2)), 0, false
		case s.Is("LX"):
			inLine = true
		case s.Is("SE"):
			end()
			clm01, inLine = "", false
		case s.Is("SV1") && inLine:
			code := strings.Split(s.ElementString(1), ":")
			if len(code) < 2 {
				t.Fatalf("SV101 %q", s.ElementString(1))
			}
			lines += cents(t, s.ElementString(2))
			out = append(out, line837{clm01: clm01, code: code[1], charge: s.ElementString(2), units: s.ElementString(4)})
		case s.Is("REF") && inLine && s.ElementString(1) == "6R":
			l := &out[len(out)-1]
			l.control = s.ElementString(2)
			_, seq, ok := strings.Cut(l.control, "-")
			n, err := strconv.Atoi(seq)
			if !ok || err != nil {
				t.Fatalf("line control %q", l.control)
			}
			l.seq = n
		}
	}
	for _, l := range out {
		if l.control == "" {
			t.Fatalf("a line of claim %s without REF*6R", l.clm01)
		}
	}
	return out
}

// cents reads an X12 amount.
func cents(t *testing.T, v string) int64 {
	t.Helper()
	whole, frac, _ := strings.Cut(v, ".")
	if len(frac) > 2 {
		t.Fatalf("amount %q has more than 2 decimals", v)
	}
	n, err := strconv.ParseInt(whole+(frac + "00")[:2], 10, 64)
	if err != nil {
		t.Fatalf("amount %q: %v", v, err)
	}
	return n
}
