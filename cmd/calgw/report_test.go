package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// calgw report encounters lists the encounters sent by the status DHCS
// last gave them, with what to fix; calgw ingest --kind 277ca reads DHCS's
// answer named after our file.
func TestReportEncounters(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	out := filepath.Join(dir, "out")
	if code, stdout, stderr := calgw(t, "--state", state, "convert", "--in", writeInvoice(t, dir, "inv.csv", goodRow), "--out", out); code != exitOK {
		t.Fatalf("convert: %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ := calgw(t, "--state", state, "report", "encounters", "--status", "sent", "--month", "2000-01")
	if code != exitOK || !strings.HasPrefix(stdout, "0 encounter(s) with status sent, sent in 2000-01") {
		t.Errorf("another month: %d %s", code, stdout)
	}
	code, stdout, _ = calgw(t, "--state", state, "report", "encounters", "--status", "sent")
	if code != exitOK || !strings.Contains(stdout, "1 encounter(s) with status sent") || !strings.Contains(stdout, "INV-1") || !strings.Contains(stdout, "encounters-000000001.837") {
		t.Errorf("sent: %d %s", code, stdout)
	}
	resp := filepath.Join(dir, "encounters-000000001_RESP_277.dat")
	os.WriteFile(resp, []byte(strings.Join([]string{
		"ISA*00*          *00*          *30*CALIFORNIA-DHCS*ZZ*951234567305   *261124*0830*^*00501*000000901*0*P*:",
		"GS*HN*CALIFORNIA-DHCS*951234567305*20261124*0830*901*X*005010X214", "ST*277*0001*005010X214",
		"HL*1**20*1", "HL*2*1*21*1", "TRN*2*B", "QTY*90*0", "QTY*AA*2", "HL*3*2*19*1",
		"HL*4*3*PT", "TRN*2*INV-1", "STC*F2:54*20261124*U*0", "REF*1K*202611240000001",
		"HL*5*3*PT", "TRN*2*NEVER-SENT", "STC*F2:54*20261124*U*0", "REF*1K*202611240000002",
		"SE*17*0001", "GE*1*901", "IEA*1*000000901"}, "~")+"~"), 0o644)
	code, stdout, stderr := calgw(t, "--state", state, "ingest", "--kind", "277ca", "--out", filepath.Join(dir, "reports"), resp)
	if code != exitOK || !strings.Contains(stdout, "277CA loaded: 2 claim(s) answered, 1 matched to encounters sent, 2 rejected, 1 warning(s)") {
		t.Fatalf("ingest: %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "reports", "encounters-000000001_RESP_277.dat.report.csv")); err != nil {
		t.Errorf("report: %v", err)
	}
	code, stdout, _ = calgw(t, "--state", state, "report", "encounters", "--status", "rejected")
	if code != exitOK || !strings.Contains(stdout, "1 encounter(s) with status rejected") || !strings.Contains(stdout, "F2:54 duplicate of a previously processed claim/line") ||
		!strings.Contains(stdout, "INV-1: correct the line and send it with frequency 7 (replacement) and original_claim INV-1") {
		t.Errorf("rejected: %d %s", code, stdout)
	}
	for _, args := range [][]string{{"--status", "lost"}, {"--month", "2026-13"}, {"extra"}} {
		if code, _, _ := calgw(t, append([]string{"--state", state, "report", "encounters"}, args...)...); code != exitUnusable {
			t.Errorf("%v: exit %d, want %d", args, code, exitUnusable)
		}
	}
	if code, stdout, _ := calgw(t, "report", "--help"); code != exitOK || !strings.Contains(stdout, "encounters") {
		t.Errorf("report usage: %d %s", code, stdout)
	}
}
