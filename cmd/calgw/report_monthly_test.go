package main

import (
	"strings"
	"testing"
)

func TestReportMonthlyFlagsAndPlan(t *testing.T) {
	if code, _, stderr := calgw(t, "report", "monthly", "--month", "2026-10"); code != exitUnusable || !strings.Contains(stderr, "--out DIR") {
		t.Errorf("without --out: %d %s", code, stderr)
	}
	if code, _, stderr := calgw(t, "report", "monthly", "--month", "2026-13", "--out", t.TempDir()); code != exitUnusable || stderr == "" {
		t.Errorf("bad month: %d %s", code, stderr)
	}
	// The built-in defaults name no plan: the file cannot be named.
	code, _, stderr := calgw(t, "--state", t.TempDir(), "report", "monthly", "--month", "2026-10", "--out", t.TempDir())
	if code != exitUnusable || !strings.Contains(stderr, "plan.name") {
		t.Errorf("no plan: %d %s", code, stderr)
	}
	if code, stdout, _ := calgw(t, "report", "--help"); code != exitOK || !strings.Contains(stdout, "monthly") {
		t.Errorf("report usage: %d %s", code, stdout)
	}
}
