package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Without --state the CLI keeps one per-user state directory, says where
// the first time, and finds the lines it sent there on the next run,
// wherever it runs from.
func TestPerUserStateDirectory(t *testing.T) {
	dir := t.TempDir()
	xdg := filepath.Join(dir, "xdg")
	t.Setenv("XDG_STATE_HOME", xdg)
	good := writeInvoice(t, dir, "good.csv", goodRow)
	t.Chdir(dir)

	code, _, stderr := calgw(t, "convert", "--in", good, "--out", filepath.Join(dir, "out1"))
	state := filepath.Join(xdg, "calgw")
	if code != exitOK || !strings.Contains(stderr, state) {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(state, "calgw.db")); err != nil {
		t.Fatalf("no store in %s: %v", state, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "calgw-state")); err == nil {
		t.Fatal("a ./calgw-state was made in the working directory")
	}
	t.Chdir(t.TempDir())
	code, stdout, stderr := calgw(t, "convert", "--in", good, "--out", filepath.Join(dir, "out2"))
	if code != exitRejected || !strings.Contains(stdout, "DUPLICATE-LINE") {
		t.Fatalf("second run from elsewhere: exit %d, want every line a duplicate\n%s", code, stdout)
	}
	if strings.Contains(stderr, "keeping state") {
		t.Errorf("the second run announced the state directory again:\n%s", stderr)
	}

	// Without XDG_STATE_HOME (or with a relative one): ~/.local/state/calgw.
	home := filepath.Join(dir, "home")
	t.Setenv("HOME", home)
	t.Setenv("XDG_STATE_HOME", "relative/dir")
	if code, _, stderr := calgw(t, "convert", "--in", good, "--out", filepath.Join(dir, "out3")); code != exitOK ||
		!strings.Contains(stderr, filepath.Join(home, ".local", "state", "calgw")) {
		t.Fatalf("HOME fallback: exit %d\n%s", code, stderr)
	}
}

// help and --help print to stdout and exit 0; a missing required flag is
// named.
func TestHelpAndMissingFlags(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		code, stdout, stderr := calgw(t, args...)
		if code != exitOK || !strings.Contains(stdout, "commands:") || stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}} {
			code, stdout, stderr := calgw(t, args...)
			// A command's help carries its line of the command list,
			// except where it lists its own subcommands instead.
			summary := c.summary
			if c.name == "report" || c.name == "user" {
				summary = ""
			}
			if code != exitOK || !strings.Contains(stdout, "usage: calgw "+c.name) || !strings.Contains(stdout, summary) || stderr != "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
			}
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"convert", "--out", "x"}, "missing --in FILE"},
		{[]string{"convert", "--in", "a.csv"}, "missing --out DIR"},
		{[]string{"convert"}, "missing --in FILE, --out DIR"},
		{[]string{"validate"}, "missing FILE"},
		{[]string{"ingest", "a.834"}, "missing --kind KIND"},
		{[]string{"ingest", "--kind", "834"}, "missing FILE"},
		{[]string{"provider-file", "--out", "x"}, "missing --month YYYY-MM"},
		{[]string{"provider-file", "--month", "2026-13", "--out", "x"}, "calgw provider-file: "},
		{[]string{"report", "monthly", "--month", "2026-09"}, "calgw report monthly: missing --out DIR"},
		{[]string{"report", "monthly", "--month", "2026-09", "--out", "x", "extra"}, "calgw report monthly: unexpected arguments: extra"},
	} {
		code, _, stderr := calgw(t, tt.args...)
		if code != exitUnusable || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tt.args, code, stderr, tt.want)
		}
	}
}

// The demo keeps its own state: --state is refused rather than ignored.
func TestDemoRefusesState(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := calgw(t, "--state", filepath.Join(dir, "s"), "demo", "--out", filepath.Join(dir, "demo"))
	if code != exitUnusable || !strings.Contains(stderr, "--state is not used") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}

// A second conversion into the same folder would replace the first's
// reports: refused unless --force.
func TestConvertOutputFolderInUse(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	out := filepath.Join(dir, "out")
	a := writeInvoice(t, dir, "a.csv", goodRow)
	if code, _, stderr := calgw(t, "--state", state, "convert", "--in", a, "--out", out); code != exitOK {
		t.Fatalf("first: exit %d\n%s", code, stderr)
	}
	before, err := os.ReadFile(filepath.Join(out, "rejects.csv"))
	if err != nil {
		t.Fatal(err)
	}
	b := writeInvoice(t, dir, "b.csv", badRow)
	code, _, stderr := calgw(t, "--state", state, "convert", "--in", b, "--out", out)
	if code != exitUnusable || !strings.Contains(stderr, "rejects.csv and summary.html") || !strings.Contains(stderr, "--force") {
		t.Fatalf("second without --force: exit %d\n%s", code, stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(out, "rejects.csv")); string(after) != string(before) {
		t.Fatal("the refused run changed rejects.csv")
	}
	if code, _, stderr := calgw(t, "--state", state, "convert", "--in", b, "--out", out, "--force"); code != exitRejected {
		t.Fatalf("second with --force: exit %d\n%s", code, stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(out, "rejects.csv")); string(after) == string(before) {
		t.Fatal("--force did not replace rejects.csv")
	}
}

// calgw rules prints each rule wrapped (100 columns when not a terminal),
// and says where its sources are.
func TestRulesWrapped(t *testing.T) {
	code, stdout, _ := calgw(t, "rules")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for i, line := range strings.Split(stdout, "\n") {
		if len(line) > 100 && strings.Contains(strings.TrimSpace(line), " ") {
			t.Errorf("line %d has %d characters: %q", i+1, len(line), line)
		}
	}
	if !strings.Contains(stdout, "CS-LIMIT  (in force") || !strings.Contains(stdout, "docs/sources/S004.txt") {
		t.Errorf("rules output:\n%s", stdout)
	}
}
