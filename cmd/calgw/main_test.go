package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func calgw(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

const invoiceHeader = "invoice_number,invoice_date,billing_npi,billing_tin,billing_name,billing_address,billing_city,billing_state,billing_zip,member_cin,member_last_name,member_first_name,member_dob,service_from,service_to,hcpcs,modifiers,units,charge_amount,member_address,member_city,member_state,member_zip"

func writeInvoice(t *testing.T, dir, name string, rows ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(invoiceHeader+"\n"+strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodRow = "INV-1,2026-10-01,1456789019,941234567,Bay Street,1200 Mission St,San Francisco,CA,941031520,91234567A,Rivera,Ana,1978-04-12,2026-09-01,2026-09-01,H0043,U6,1,85.00,1 Elm St,Fresno,CA,93721"
const badRow = "INV-2,2026-10-01,1456789019,941234567,Bay Street,1200 Mission St,San Francisco,CA,941031520,91234567A,Rivera,Ana,1978-04-12,2026-09-01,2026-09-01,99213,,1,85.00,1 Elm St,Fresno,CA,93721"

func TestConvertExitCodesAndOutputs(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	good := writeInvoice(t, dir, "good.csv", goodRow, badRow)
	out := filepath.Join(dir, "out")

	// Global flag before the command, repeatable --in.
	code, stdout, stderr := calgw(t, "--state", state, "convert", "--in", good, "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, f := range []string{"rejects.csv", "summary.html", "encounters-000000001.837"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	if !strings.Contains(stdout, "1 accepted") || !strings.Contains(stdout, "CODE-NOT-ALLOWED") {
		t.Errorf("stdout: %s", stdout)
	}
	// Same file again, --state after the command: every line rejected → exit 1.
	code, stdout, _ = calgw(t, "convert", "--state", state, "--in", good, "--out", filepath.Join(dir, "out2"))
	if code != exitRejected || !strings.Contains(stdout, "DUPLICATE-LINE") {
		t.Errorf("rerun exit %d, stdout %s", code, stdout)
	}
	// An input that is not an invoice → exit 2, nothing written.
	roster := filepath.Join(dir, "roster.csv")
	os.WriteFile(roster, []byte("npi,name\n1456789019,Bay\n"), 0o644)
	code, _, stderr = calgw(t, "--state", state, "convert", "--in", good, "--in", roster, "--out", filepath.Join(dir, "out3"))
	if code != exitUnusable || !strings.Contains(stderr, "roster.csv") || !strings.Contains(stderr, "missing column") {
		t.Errorf("unusable exit %d, stderr %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out3", "rejects.csv")); err == nil {
		t.Error("wrote outputs for an unusable input")
	}
	// Missing flags → exit 2.
	if code, _, _ := calgw(t, "convert", "--in", good); code != exitUnusable {
		t.Errorf("no --out: exit %d", code)
	}
}

func TestValidateInvoiceExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := writeInvoice(t, dir, "good.csv", goodRow)
	bad := writeInvoice(t, dir, "bad.csv", goodRow, badRow)
	if code, out, _ := calgw(t, "validate", good); code != exitOK || !strings.Contains(out, "0 with problems") {
		t.Errorf("good: exit %d %s", code, out)
	}
	code, out, _ := calgw(t, "validate", bad)
	if code != exitRejected || !strings.Contains(out, "bad.csv row 3 (invoice INV-2 line ): CODE-NOT-ALLOWED hcpcs") {
		t.Errorf("bad: exit %d %s", code, out)
	}
	if code, _, _ := calgw(t, "validate", filepath.Join(dir, "missing.csv")); code != exitUnusable {
		t.Errorf("missing file: exit %d", code)
	}
	// The worst result decides the exit code.
	if code, _, _ := calgw(t, "validate", good, bad); code != exitRejected {
		t.Errorf("good+bad: exit %d", code)
	}
}

func TestUnknownCommandAndVersion(t *testing.T) {
	if code, _, stderr := calgw(t, "frobnicate"); code != exitUnusable || !strings.Contains(stderr, "unknown command") {
		t.Errorf("unknown: %d %s", code, stderr)
	}
	if code, out, _ := calgw(t, "version"); code != exitOK || !strings.HasPrefix(out, "calgw ") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, out, _ := calgw(t, "rules"); code != exitOK || !strings.Contains(out, "DUPLICATE-LINE") || !strings.Contains(out, "CODE-NOT-ALLOWED") {
		t.Errorf("rules: %d %s", code, out)
	}
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "demo-out")
	code, stdout, stderr := calgw(t, "demo", "--out", out)
	if code != exitOK {
		t.Fatalf("demo exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"calgw ingest --kind roster", "calgw ingest --kind 834", "calgw ingest --kind auth",
		"PROVIDER-NOT-CONTRACTED", "ELIG-NOT-ENROLLED", "AUTH-MISSING", "DUPLICATE-LINE", "837P:",
		"X12 837 005010X222A1", "0 rejected; 0 finding(s)", "X12 274 004050X109", "nothing is sent twice",
		// The demo's clock is pinned: the same counts whatever day it runs
		// (README). The re-send: the 8 lines sent (or repeating one sent)
		// are duplicates, nothing is accepted.
		"18 read      7 accepted     11 rejected", "18 read      0 accepted     18 rejected", "DUPLICATE-LINE                8",
		// The month's monitoring JSON, valid against the schema.
		"DEMOPLAN_ECMCS_20260930_00001.json: monthly monitoring submission (schema embedded), 18 record(s), 0 violation(s)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	// Running it again replaces its own directory...
	if code, _, _ := calgw(t, "demo", "--out", out); code != exitOK {
		t.Errorf("second demo exit %d", code)
	}
	// ...but never a directory it did not make.
	foreign := filepath.Join(dir, "mine")
	os.MkdirAll(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "keep.txt"), []byte("x"), 0o644)
	if code, _, _ := calgw(t, "demo", "--out", foreign); code != exitUnusable {
		t.Errorf("demo over a foreign directory: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(foreign, "keep.txt")); err != nil {
		t.Error("demo deleted a file it did not make")
	}
}

// X12 of a guide calgw has no tables for is unusable (exit 2) and named,
// not invalid with an empty kind.
func TestValidateUnsupportedX12(t *testing.T) {
	code, stdout, _ := calgw(t, "validate", filepath.Join("..", "..", "testdata", "x12", "835.x12"))
	if code != exitUnusable || !strings.Contains(stdout, "unusable: unsupported transaction set 835 (005010X221A1)") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
}
