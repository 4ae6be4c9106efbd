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
	b, err := os.ReadFile(filepath.Join("..", "..", "pipelines", "inbound837", "testdata", "837p-two-claims.x12"))
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "harbor.x12")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
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
