package encounters

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Two billing providers whose lines share a rendering provider: a line of
// one repeats a line of the other (DUPLICATE-LINE keys on the rendering
// NPI).
const (
	providerA = "1456789019"
	providerB = "1234567893"
	rendering = "1982345674"
)

// renderedRow is row(...) billed by npi, rendered by the shared rendering
// provider (senderHeader's last two columns).
func renderedRow(npi, inv string, line, m, d int) string {
	return strings.Replace(row(inv, line, m, d, "H0043", "U6"), "1456789019", npi, 1) + "," + rendering + ",Shared Clinician"
}

const senderHeader = header + ",rendering_npi,rendering_name"

// convertAs converts files as the daemon does for a sender (sender), or as
// `calgw convert` does for the plan (with providers' reports).
func (e *env) convertAs(out string, sender bool, inputs ...string) *Result {
	e.t.Helper()
	res, err := Convert(context.Background(), Job{Inputs: inputs, OutDir: filepath.Join(e.dir, out), Store: e.state,
		Config: e.cfg, Coding: rules.DefaultCodingTable(), Today: 20261123, Now: time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC),
		SenderReports: sender, ProviderReports: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rejectMessage is the message of the rejects row of invoice inv, line.
func rejectMessage(t *testing.T, path, inv, line string) string {
	t.Helper()
	for _, r := range readRejects(t, path) {
		if r[2] == inv && r[3] == line {
			if r[4] != rules.DuplicateLine {
				t.Fatalf("%s: %s line %s rejected for %s, not %s", filepath.Base(path), inv, line, r[4], rules.DuplicateLine)
			}
			return r[6]
		}
	}
	t.Fatalf("%s: no reject of %s line %s", filepath.Base(path), inv, line)
	return ""
}

// recorded is the recorded decision (what plan staff read in the
// console) on invoice inv, line of a run.
func (e *env) recorded(run int64, inv, line string) store.LineDecision {
	e.t.Helper()
	ds, err := e.state.(store.ConsoleStore).Console().RunDecisions(context.Background(), run, true, "", 0, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, d := range ds {
		if d.Invoice == inv && d.LineNo == line {
			return d
		}
	}
	e.t.Fatalf("run %d: no rejected decision on %s line %s", run, inv, line)
	return store.LineDecision{}
}

var lineControl = regexp.MustCompile(`line control (\S+)\)`)

// A sender's reports name the line a DUPLICATE-LINE repeats only when it
// is the sender's own: provider B's repeat of provider A's line reads the
// console's short message in B's rejects.csv, summary.html and
// rejects-<B>.csv, with no A invoice number, file name or line control;
// B's repeat of its own earlier line and a repeat within B's file name
// it. The plan's outputs (the recorded decisions; rejects.csv and
// summary.html of a conversion not for a sender) keep every message whole.
func TestSenderReportsNameOnlyTheSendersOwnLines(t *testing.T) {
	e := newEnv(t)
	a := e.convertAs("a", true, e.file("a.csv", senderHeader, renderedRow(providerA, "AINV77", 1, 1, 1)))
	if a.Accepted() != 1 || a.Output == "" {
		t.Fatalf("A: accepted %d, output %q, rejects %+v", a.Accepted(), a.Output, a.Summary.Rejects)
	}
	aFile := filepath.Base(a.Output)

	b := e.convertAs("b", true, e.file("b.csv", senderHeader,
		renderedRow(providerB, "BINV88", 1, 1, 1), // repeats A's line
		renderedRow(providerB, "BINV88", 2, 2, 2), // B's own, accepted
		renderedRow(providerB, "BINV88", 3, 2, 2), // repeats line 2 of this file
	))
	if b.Accepted() != 1 || b.Summary.ByRule[rules.DuplicateLine] != 2 {
		t.Fatalf("B: accepted %d, duplicates %d", b.Accepted(), b.Summary.ByRule[rules.DuplicateLine])
	}
	full := b.recordedFull(e, "BINV88", "1")
	if !strings.Contains(full, "AINV77") || !strings.Contains(full, aFile) || !lineControl.MatchString(full) {
		t.Fatalf("recorded decision is not the full message: %q", full)
	}
	control := lineControl.FindStringSubmatch(full)[1]
	if got := rejectMessage(t, b.RejectsPath, "BINV88", "1"); got != DuplicateForOthers {
		t.Errorf("B's rejects.csv, repeat of A's line: %q, want %q", got, DuplicateForOthers)
	}
	if got := rejectMessage(t, b.RejectsPath, "BINV88", "3"); !strings.Contains(got, "BINV88 line 2 earlier in this file") {
		t.Errorf("B's rejects.csv, repeat within the file: %q", got)
	}
	for _, p := range []string{b.RejectsPath, b.SummaryPath, b.Providers[0].RejectsPath, b.Providers[0].SummaryPath} {
		text := readText(t, p)
		for _, leak := range []string{"AINV77", aFile, control} {
			if strings.Contains(text, leak) {
				t.Errorf("%s names A's line (%s):\n%s", filepath.Base(p), leak, text)
			}
		}
	}
	if got := rejectMessage(t, b.Providers[0].RejectsPath, "BINV88", "3"); !strings.Contains(got, "BINV88 line 2 earlier in this file") {
		t.Errorf("rejects-%s.csv, repeat within the file: %q", providerB, got)
	}

	// B again: its own line sent by run b is named, with b's 837.
	b2 := e.convertAs("b2", true, e.file("b2.csv", senderHeader, renderedRow(providerB, "BINV99", 1, 2, 2)))
	own := rejectMessage(t, b2.RejectsPath, "BINV99", "1")
	if !strings.Contains(own, "BINV88 line 2") || !strings.Contains(own, filepath.Base(b.Output)) || !lineControl.MatchString(own) {
		t.Errorf("B's repeat of its own line: %q", own)
	}
	if got := rejectMessage(t, b2.Providers[0].RejectsPath, "BINV99", "1"); got != own {
		t.Errorf("rejects-%s.csv, repeat of its own line: %q, want %q", providerB, got, own)
	}

	// The plan's conversion of A's and B's files together: its rejects.csv
	// and summary.html name every earlier line; each provider's own report
	// names only that provider's lines, though the line is earlier in the
	// same run.
	// B's accepted line comes first, so the run's lines up to B's repeat
	// are not all A's.
	p := e.convertAs("plan", false,
		e.file("b4.csv", senderHeader, renderedRow(providerB, "BINV44", 1, 4, 4)),
		e.file("a3.csv", senderHeader, renderedRow(providerA, "AINV55", 1, 3, 3)),
		e.file("b3.csv", senderHeader, renderedRow(providerB, "BINV66", 1, 3, 3), renderedRow(providerB, "BINV66", 2, 1, 1)))
	if p.Accepted() != 2 || len(p.Providers) != 2 || p.Providers[0].Provider != providerB {
		t.Fatalf("plan: accepted %d, providers %+v", p.Accepted(), p.Providers)
	}
	if got := rejectMessage(t, p.RejectsPath, "BINV66", "1"); !strings.Contains(got, "AINV55 line 1 earlier in this file or run") {
		t.Errorf("plan's rejects.csv, repeat of A's line in the run: %q", got)
	}
	if got := rejectMessage(t, p.RejectsPath, "BINV66", "2"); !strings.Contains(got, "AINV77") || !strings.Contains(got, aFile) {
		t.Errorf("plan's rejects.csv, repeat of A's earlier line: %q", got)
	}
	if sum := readText(t, p.SummaryPath); !strings.Contains(sum, "AINV55") || !strings.Contains(sum, "AINV77") {
		t.Errorf("plan's summary.html does not name the earlier lines:\n%s", sum)
	}
	for _, line := range []string{"1", "2"} {
		if got := rejectMessage(t, p.Providers[0].RejectsPath, "BINV66", line); got != DuplicateForOthers {
			t.Errorf("rejects-%s.csv, line %s repeating A's line: %q", providerB, line, got)
		}
	}
	if text := readText(t, p.Providers[0].SummaryPath); strings.Contains(text, "AINV") {
		t.Errorf("summary-%s.html names A's lines:\n%s", providerB, text)
	}
}

// recordedFull is the recorded message of the decision on inv, line.
func (r *Result) recordedFull(e *env, inv, line string) string {
	return e.recorded(r.Summary.RunID, inv, line).Message
}
