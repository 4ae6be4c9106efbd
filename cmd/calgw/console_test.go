package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// calgw user add takes the password from stdin, a file or the
// environment, never a flag; calgw explain prints a line's recorded
// decision with its rule, source and facts.
func TestUserAddAndExplain(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")

	stdin = strings.NewReader("a long passphrase\n")
	t.Cleanup(func() { stdin = os.Stdin })
	code, out, errOut := calgw(t, "--state", state, "user", "add", "--role", "admin", "alice")
	if code != exitOK || !strings.Contains(out, "user alice added (admin)") {
		t.Fatalf("user add: %d\n%s\n%s", code, out, errOut)
	}
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("another passphrase\n"), 0o600)
	code, out, _ = calgw(t, "--state", state, "user", "add", "--role", "provider", "--npi", "1456789019", "--password-file", pw, "bay")
	if code != exitOK || !strings.Contains(out, "NPIs 1456789019") {
		t.Fatalf("provider: %d %s", code, out)
	}
	t.Setenv("CALGW_TEST_PW", "short")
	if code, _, errOut := calgw(t, "--state", state, "user", "add", "--role", "operator", "--password-env", "CALGW_TEST_PW", "bob"); code != exitUnusable || !strings.Contains(errOut, "shorter than 12") {
		t.Fatalf("short password: %d %s", code, errOut)
	}
	if code, _, errOut := calgw(t, "--state", state, "user", "add", "--role", "admin", "--password", "x", "eve"); code != exitUnusable || !strings.Contains(errOut, "password") {
		t.Fatalf("--password flag: %d %s", code, errOut)
	}
	stdin = strings.NewReader("a long passphrase\n")
	if code, _, errOut := calgw(t, "--state", state, "user", "add", "--role", "admin", "alice"); code != exitUnusable || !strings.Contains(errOut, "taken") {
		t.Fatalf("second alice: %d %s", code, errOut)
	}

	in := writeInvoice(t, dir, "inv.csv", goodRow, badRow)
	if code, out, errOut := calgw(t, "--state", state, "convert", "--in", in, "--out", filepath.Join(dir, "out")); code != exitOK {
		t.Fatalf("convert: %d %s %s", code, out, errOut)
	}
	code, out, _ = calgw(t, "--state", state, "explain", "--invoice", "INV-2")
	if code != exitOK || !strings.Contains(out, "rejected") || !strings.Contains(out, "rule:   CODE-NOT-ALLOWED (column hcpcs)") || !strings.Contains(out, "source: S000:435") {
		t.Fatalf("explain INV-2: %d\n%s", code, out)
	}
	code, out, _ = calgw(t, "--state", state, "explain", "--invoice", "INV-1")
	if code != exitOK || !strings.Contains(out, "accepted") || !strings.Contains(out, "coding:") || !strings.Contains(out, "H0043 U6") {
		t.Fatalf("explain INV-1: %d\n%s", code, out)
	}
	if code, _, _ := calgw(t, "--state", state, "explain", "--invoice", "INV-1", "--line", "9"); code != exitRejected {
		t.Fatalf("unknown line: %d", code)
	}
}
