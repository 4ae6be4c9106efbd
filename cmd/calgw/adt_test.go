package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const adtA01 = "MSH|^~\\&|EPIC|STMARYS|GW|PLAN|20260301083000||ADT^A01|M1|P|2.5.1\rEVN|A01|20260301082500\rPID|1||91234567A^^^CAMEDI^MA\rPV1|1|I\r"

func TestValidateHL7ExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.hl7")
	bad := filepath.Join(dir, "bad.hl7")
	os.WriteFile(good, []byte(adtA01), 0o644)
	os.WriteFile(bad, []byte(strings.Replace(adtA01, "|2.5.1", "|2.1", 1)), 0o644)
	if code, stdout, stderr := calgw(t, "validate", good); code != exitOK || !strings.Contains(stdout, "HL7 v2, 1 message(s)") {
		t.Errorf("good: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ := calgw(t, "validate", bad)
	if code != 1 || !strings.Contains(stdout, `message 1 (MSH-10 "M1"), segment MSH #1, field MSH-12: version "2.1"`) {
		t.Errorf("bad: exit %d\n%s", code, stdout)
	}
}

func TestIngestADT(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	f := filepath.Join(dir, "adt.hl7")
	os.WriteFile(f, []byte(adtA01), 0o644)
	// No member loaded: the message is kept as an exception, nothing stored.
	code, stdout, stderr := calgw(t, "--state", state, "ingest", "--kind", "adt", "--out", filepath.Join(dir, "out"), f)
	if code != exitRejected || !strings.Contains(stdout, "adt.hl7: ADT file NOT loaded: 1 message(s) read, 0 loaded, 1 rejected") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
	report, _ := os.ReadFile(filepath.Join(dir, "out", "adt.hl7.adt-report.csv"))
	if !strings.Contains(string(report), "adt.hl7,1,1,M1,unknown member") {
		t.Errorf("report %s", report)
	}
	code, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "adt", "--out", filepath.Join(dir, "out"), f)
	if code != exitOK || !strings.Contains(stdout, "already loaded") {
		t.Errorf("again: exit %d\n%s", code, stdout)
	}
}

func TestNoticesCommand(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := calgw(t, "--state", filepath.Join(dir, "state"), "notices", "--out", filepath.Join(dir, "out"))
	if code != exitOK || !strings.Contains(stdout, "ADT notices: 0 event(s) handled, 0 notice(s) written to 0 provider(s), 0 late") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, _ := calgw(t, "--state", filepath.Join(dir, "state"), "notices"); code != exitUnusable {
		t.Errorf("without --out: exit %d", code)
	}
}
