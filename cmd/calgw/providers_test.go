package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func rosterFile(name string) string { return filepath.Join("..", "..", "testdata", "roster", name) }

func TestValidateRoster(t *testing.T) {
	for _, name := range []string{"roster-template.csv", "roster-template.xlsx", "demo-roster.csv", "sample-roster.xlsx"} {
		code, stdout, _ := calgw(t, "validate", rosterFile(name))
		if code != exitOK || !strings.Contains(stdout, "provider roster") || !strings.Contains(stdout, "0 problem(s)") {
			t.Errorf("%s: exit %d\n%s", name, code, stdout)
		}
	}
	code, stdout, _ := calgw(t, "validate", rosterFile("bad-roster.csv"))
	if code != exitRejected {
		t.Errorf("bad roster: exit %d", code)
	}
	for _, want := range []string{
		"bad-roster.csv row 2 column npi: NPI 1456789010 fails the check digit",
		"bad-roster.csv row 3 column taxonomy:",
		"bad-roster.csv row 4 column county:",
		"bad-roster.csv row 5 column contract_start:",
		"bad-roster.csv row 6 column ecm_pofs:",
		"bad-roster.csv row 7 column community_supports:",
		"bad-roster.csv row 8 column site_address: duplicates the site in row 5",
		"bad-roster.csv row 9 column contract_end:",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("validate output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestIngestRosterProviderFileAndValidate274(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	out := filepath.Join(dir, "out")

	// Nothing loaded yet: no file to write.
	code, stdout, _ := calgw(t, "--state", state, "provider-file", "--month", "2026-09", "--out", out)
	if code != exitRejected || !strings.Contains(stdout, "nothing written") {
		t.Fatalf("empty store: exit %d %s", code, stdout)
	}
	// A roster with problems is refused, whole.
	code, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "roster", rosterFile("bad-roster.csv"))
	if code != exitRejected || !strings.Contains(stdout, "roster NOT loaded") || !strings.Contains(stdout, "row 2 column npi") {
		t.Fatalf("bad roster: exit %d %s", code, stdout)
	}
	code, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "roster", rosterFile("demo-roster.csv"))
	if code != exitOK || !strings.Contains(stdout, "3 site(s): 3 new") {
		t.Fatalf("demo roster: exit %d %s", code, stdout)
	}
	code, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "roster", rosterFile("demo-roster.csv"))
	if code != exitOK || !strings.Contains(stdout, "already loaded") {
		t.Fatalf("demo roster again: exit %d %s", code, stdout)
	}
	// Not a roster: unusable.
	code, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "roster", filepath.Join("..", "..", "testdata", "invoices", "invoice-template.csv"))
	if code != exitUnusable || !strings.Contains(stdout, "not a provider roster") {
		t.Errorf("invoice as roster: exit %d %s", code, stdout)
	}

	code, stdout, stderr := calgw(t, "--state", state, "provider-file", "--month", "2026-09", "--out", out)
	if code != exitOK || !strings.Contains(stdout, "3 file(s) written") {
		t.Fatalf("provider-file: exit %d\n%s\n%s", code, stdout, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(out, "274-202609-*.x12"))
	if len(files) != 3 {
		t.Fatalf("files %v", files)
	}
	for _, f := range files {
		code, stdout, _ := calgw(t, "validate", f)
		if code != exitOK || !strings.Contains(stdout, "274 004050X109") || !strings.Contains(stdout, "1 accepted") {
			t.Errorf("validate %s: exit %d\n%s", f, code, stdout)
		}
	}

	// A broken 274: an NPI with a wrong check digit, and a contract that
	// expires before it starts. The positions come from the validator and
	// the 274 checks.
	data, _ := os.ReadFile(files[0])
	broken := strings.Replace(string(data), "*XX*1673456780~", "*XX*1673456781~", 1)
	broken = regexp.MustCompile(`(DTP\*092\*D8\*\d{8}~)`).ReplaceAllString(broken, "${1}DTP*093*D8*20200101~")
	// The county is N201 sub-field 4 of the site's composite N2 (the
	// production file's place): emptied, the site has no county.
	broken = regexp.MustCompile(`(N2\*;17;;)\d\d;`).ReplaceAllString(broken, "${1};")
	if broken == string(data) || !strings.Contains(string(data), "N2*;17;;") {
		t.Fatal("no change")
	}
	bad := filepath.Join(dir, "broken.x12")
	os.WriteFile(bad, []byte(broken), 0o644)
	code, stdout, _ = calgw(t, "validate", bad)
	if code != exitRejected {
		t.Errorf("broken 274: exit %d\n%s", code, stdout)
	}
	for _, want := range []string{"loop 2100DA NM109: NM109 (Identification Code) is not a valid NPI", "[IK403 I12]",
		"loop 2000D site NPI 1673456781: contract expiration", "site NPI 1673456781: no county (N2 N201 sub-field 4, or N4 N405 CY, N406)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("validate output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestConvertAppliesTheRoster(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	// Before any roster: the rule is not applied.
	in := writeInvoice(t, dir, "a.csv", goodRow)
	code, stdout, _ := calgw(t, "--state", state, "convert", "--in", in, "--out", filepath.Join(dir, "out1"))
	if code != exitOK || strings.Contains(stdout, "PROVIDER-NOT-CONTRACTED") {
		t.Fatalf("no roster: exit %d\n%s", code, stdout)
	}
	if code, _, _ := calgw(t, "--state", state, "ingest", "--kind", "roster", rosterFile("sample-roster.csv")); code != exitOK {
		t.Fatal("ingest")
	}
	// Bay Street (1456789019) is not in the sample roster: rejected now.
	in2 := writeInvoice(t, dir, "b.csv", strings.Replace(goodRow, "INV-1,", "INV-9,", 1))
	code, stdout, _ = calgw(t, "--state", state, "convert", "--in", in2, "--out", filepath.Join(dir, "out2"))
	if code != exitRejected || !strings.Contains(stdout, "PROVIDER-NOT-CONTRACTED") {
		t.Errorf("with a roster: exit %d\n%s", code, stdout)
	}
	rejects, _ := os.ReadFile(filepath.Join(dir, "out2", "rejects.csv"))
	if !strings.Contains(string(rejects), "PROVIDER-NOT-CONTRACTED,billing_npi,billing NPI 1456789019 is not in the provider roster") {
		t.Errorf("rejects.csv:\n%s", rejects)
	}
	// The rule is in the catalogue.
	if _, stdout, _ := calgw(t, "rules"); !strings.Contains(stdout, "PROVIDER-NOT-CONTRACTED") {
		t.Error("calgw rules does not list PROVIDER-NOT-CONTRACTED")
	}
}
