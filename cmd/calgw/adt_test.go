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
