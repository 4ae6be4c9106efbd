package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIngest837PThenConvert: `calgw ingest --kind 837p` answers a
// provider's file (one claim rejected by the DHCS coding table), prints
// where the answers and the accepted claims' encounter lines are, and
// `calgw convert` sends those lines to DHCS with the provider's CLM01 in
// REF*D9. The same file again is a duplicate interchange: a TA1 only.
func TestIngest837PThenConvert(t *testing.T) {
	dir := t.TempDir()
	state, out := filepath.Join(dir, "state"), filepath.Join(dir, "answers")
	_, in := twoClaimsFile(t, dir, "harbor.x12")
	code, stdout, stderr := calgw(t, "--state", state, "ingest", "--kind", "837p", "--out", out, in)
	fwd := filepath.Join(out, "harbor.encounters.csv")
	if code != exitOK || !strings.Contains(stdout, "harbor.x12: 837P answered: 2 claim(s) read, 1 accepted, 1 rejected; 1 transaction set(s), 0 rejected") ||
		!strings.Contains(stdout, "277CA:  "+filepath.Join(out, "harbor.277ca")) || !strings.Contains(stdout, "encounter lines: "+fwd) {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, leak := range []string{"NGUYEN", "98765432B", "19671130"} {
		if strings.Contains(stdout+stderr, leak) {
			t.Errorf("output repeats member data %q", leak)
		}
	}
	conv := filepath.Join(dir, "to-dhcs")
	if code, stdout, stderr = calgw(t, "--state", state, "convert", "--out", conv, fwd); code != exitOK {
		t.Fatalf("convert: exit %d\n%s\n%s", code, stdout, stderr)
	}
	es, _ := os.ReadDir(conv)
	var sent string
	for _, e := range es {
		if strings.HasSuffix(e.Name(), ".837") {
			b, _ := os.ReadFile(filepath.Join(conv, e.Name()))
			sent += string(b)
		}
	}
	if !strings.Contains(sent, "REF*D9*ENC1002~") || strings.Contains(sent, "ENC1001") {
		t.Errorf("837 to DHCS:\n%s", sent)
	}
	code, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "837p", "--out", filepath.Join(dir, "again"), in)
	if code != exitOK || !strings.Contains(stdout, "duplicate interchange, not processed again") || !strings.Contains(stdout, "TA1:") {
		t.Errorf("again: exit %d\n%s", code, stdout)
	}
}

// TestReportPendingAndRelease: the accepted claims' lines are listed as a
// batch waiting to be sent (its file, sender, ISA13, counts and where its
// encounter lines are); --older-than leaves out a batch received since;
// once its encounter lines file is lost, --release ends their pending
// state, so the provider's same claims sent again are accepted instead of
// being duplicates; a second release finds nothing (exit 1).
func TestReportPendingAndRelease(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	b, in := twoClaimsFile(t, dir, "harbor.x12")
	if code, stdout, stderr := calgw(t, "--state", state, "ingest", "--kind", "837p", "--out", filepath.Join(dir, "a1"), in); code != exitOK {
		t.Fatalf("ingest: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr := calgw(t, "--state", state, "report", "pending")
	if code != exitOK || !strings.Contains(stdout, "1 batch(es)") {
		t.Fatalf("report: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var row []string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "000000001 ") {
			row = strings.Fields(l)
		}
	}
	// BATCH RECEIVED(date time) AGE FILE SENDER ISA13 CLAIMS LINES ENCOUNTER-LINES
	if len(row) != 10 || row[4] != "harbor.x12" || row[5] != "ZZ:CALAIMGW" || row[6] != "000000101" || row[7] != "1" || row[8] != "1" || row[9] != "harbor.encounters.csv" {
		t.Fatalf("batch row %q in\n%s", row, stdout)
	}
	if _, stdout, _ := calgw(t, "--state", state, "report", "pending", "--older-than", "1"); !strings.Contains(stdout, "0 batch(es)") {
		t.Errorf("--older-than 1 lists today's batch:\n%s", stdout)
	}
	// The same claims from another interchange (another ISA13) repeat the pending lines.
	again := strings.ReplaceAll(string(b), "000000101", "000000102")
	in2 := filepath.Join(dir, "resent.x12")
	if err := os.WriteFile(in2, []byte(again), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "837p", "--out", filepath.Join(dir, "a2"), in2)
	if !strings.Contains(stdout, "0 accepted, 2 rejected") {
		t.Fatalf("the same claims again before the release:\n%s", stdout)
	}
	if code, stdout, _ := calgw(t, "--state", state, "report", "pending", "--release", "000000001"); code != exitOK || !strings.Contains(stdout, "released 1 line(s) of batch 000000001") {
		t.Fatalf("release: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ := calgw(t, "--state", state, "report", "pending", "--release", "000000001"); code != exitRejected || !strings.Contains(stdout, "no line waiting") {
		t.Errorf("second release: exit %d\n%s", code, stdout)
	}
	again = strings.ReplaceAll(string(b), "000000101", "000000103")
	in3 := filepath.Join(dir, "resent2.x12")
	if err := os.WriteFile(in3, []byte(again), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stdout, _ := calgw(t, "--state", state, "ingest", "--kind", "837p", "--out", filepath.Join(dir, "a3"), in3); !strings.Contains(stdout, "1 accepted, 1 rejected") {
		t.Errorf("the same claims after the release:\n%s", stdout)
	}
}

// twoClaimsFile writes inbound837's two-claim 837P fixture into dir as
// name and returns its content and path.
func twoClaimsFile(t *testing.T, dir, name string) ([]byte, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "pipelines", "inbound837", "testdata", "837p-two-claims.x12"))
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, name)
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return b, in
}
