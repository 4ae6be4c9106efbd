package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/internal/demo"
	"github.com/xuri/excelize/v2"
)

func enrollmentFile(name string) string {
	return filepath.Join("..", "..", "testdata", "enrollment", name)
}

func TestIngestEnrollmentAndFeeds(t *testing.T) {
	dir := t.TempDir()
	state, out := filepath.Join(dir, "state"), filepath.Join(dir, "reports")
	code, stdout, stderr := calgw(t, "--state", state, "ingest", "--kind", "834", "--out", out, enrollmentFile("family-change.834"), enrollmentFile("bad-members.834"))
	if code != exitOK || !strings.Contains(stdout, "family-change.834: 834 change file loaded (load 1): 7 member(s) read, 7 loaded, 0 rejected") ||
		!strings.Contains(stdout, "bad-members.834: 834 change file loaded (load 2): 7 member(s) read, 2 loaded, 5 rejected") ||
		!strings.Contains(stdout, "999:    "+filepath.Join(out, "bad-members.834.999")) {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Logs carry file names and counts, never member data.
	for _, leak := range []string{"91000001A", "GARCIA", "1985"} {
		if strings.Contains(stderr, leak) || strings.Contains(stdout, leak) {
			t.Errorf("output repeats member data %q", leak)
		}
	}
	// Again: nothing to do.
	code, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "834", "--out", out, enrollmentFile("family-change.834"))
	if code != exitOK || !strings.Contains(stdout, "already loaded") {
		t.Errorf("again: exit %d %s", code, stdout)
	}
	// A broken transaction set loads nothing: exit 1. Not X12: exit 2.
	code, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "834", "--out", out, enrollmentFile("broken-envelope.834"))
	if code != exitRejected || !strings.Contains(stdout, "NOT loaded") {
		t.Errorf("broken: exit %d %s", code, stdout)
	}
	code, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "834", "--out", out, enrollmentFile("auth-feed.csv"))
	if code != exitUnusable || !strings.Contains(stdout, "unusable") {
		t.Errorf("not X12: exit %d %s", code, stdout)
	}
	// An interchange that cannot be read holds no transaction set: nothing
	// was loaded, whatever else the report says.
	garbled := filepath.Join(dir, "garbled.834")
	if err := os.WriteFile(garbled, []byte("ISA*00*garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "834", "--out", out, garbled)
	if code != exitRejected || !strings.Contains(stdout, "garbled.834: 834 change file NOT loaded") {
		t.Errorf("unreadable interchange: exit %d %s", code, stdout)
	}
	code, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "auth", "--out", out, enrollmentFile("auth-feed.csv"))
	if code != exitOK || !strings.Contains(stdout, "14 row(s) read, 9 loaded, 5 rejected") {
		t.Errorf("auth: exit %d %s", code, stdout)
	}
	code, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "other_programs", "--out", out, enrollmentFile("other-programs.csv"))
	if code != exitOK || !strings.Contains(stdout, "4 row(s) read, 3 loaded, 1 rejected") {
		t.Errorf("programs: exit %d %s", code, stdout)
	}
	code, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "other_programs", "--out", out, enrollmentFile("auth-feed.csv"))
	if code != exitUnusable {
		t.Errorf("auth feed as programs: exit %d %s", code, stdout)
	}
}

// A change file dated before the period of a full file loaded before for
// its plan code is superseded: nothing of it applies, the command says why
// and exits 1, and the same file again is already loaded.
func TestIngestSupersededChangeFile(t *testing.T) {
	dir := t.TempDir()
	state, out := filepath.Join(dir, "state"), filepath.Join(dir, "reports")
	code, stdout, stderr := calgw(t, "--state", state, "ingest", "--kind", "834", "--out", out, enrollmentFile("full-audit.834"))
	if code != exitOK || !strings.Contains(stdout, "834 full file loaded (load 1)") {
		t.Fatalf("full file: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = calgw(t, "--state", state, "ingest", "--kind", "834", "--out", out, enrollmentFile("family-change.834"))
	if code != exitRejected || !strings.Contains(stdout, "family-change.834: 834 change file NOT applied (load 2): 7 member(s) read; "+
		"it is older than full file full-audit.834 (load 1, period from 2026-04-01)") ||
		!strings.Contains(stdout, "report: "+filepath.Join(out, "family-change.834.report.csv")) {
		t.Fatalf("superseded change file: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "834", "--out", out, enrollmentFile("family-change.834"))
	if code != exitOK || !strings.Contains(stdout, "already loaded as family-change.834 (load 2") {
		t.Errorf("again: exit %d %s", code, stdout)
	}
}

func TestValidateEnrollmentFiles(t *testing.T) {
	code, stdout, _ := calgw(t, "validate", enrollmentFile("family-change.834"))
	if code != exitOK || !strings.Contains(stdout, "834 change file, 7 member loop(s), 0 with data problems") {
		t.Errorf("clean 834: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = calgw(t, "validate", enrollmentFile("bad-members.834"))
	if code != exitRejected || !strings.Contains(stdout, "segment 46 (line 46, byte 1210) INS03: ENR-MEMBER-INVALID: member loop 5") ||
		!strings.Contains(stdout, "[IK403 8]") {
		t.Errorf("bad 834: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = calgw(t, "validate", enrollmentFile("auth-feed.csv"), enrollmentFile("other-programs.csv"))
	if code != exitRejected || !strings.Contains(stdout, "row 4 end_date: AUTH-PERIOD-POLICY") || !strings.Contains(stdout, "authorization feed (csv), 14 row(s), 5 not loadable") ||
		!strings.Contains(stdout, "other_programs feed (csv), 4 row(s), 1 not loadable") {
		t.Errorf("feeds: exit %d\n%s", code, stdout)
	}
}

// The data checks of an 834 run inside the guide's pass, in parts when the
// file opens with an 834 and in one pass otherwise; either way every
// problem is reported once, after the guide's summary line, in file order.
func TestValidate834DataChecksWhereverTheSetIs(t *testing.T) {
	bad, err := os.ReadFile(enrollmentFile("bad-members.834"))
	if err != nil {
		t.Fatal(err)
	}
	clean837, err := os.ReadFile(filepath.Join("..", "..", "testdata", "x12", "837p-clean.x12"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"834 first", bad},
		{"834 after an 837P interchange", append(append([]byte{}, clean837...), bad...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".x12")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, _ := calgw(t, "validate", path)
			if code != exitRejected {
				t.Fatalf("exit %d\n%s", code, stdout)
			}
			summary := strings.Index(stdout, ": X12 ")
			var loops []string
			for _, l := range strings.Split(stdout, "\n") {
				if i := strings.Index(l, "ENR-MEMBER-INVALID: member loop "); i >= 0 {
					loops = append(loops, l[i+len("ENR-MEMBER-INVALID: member loop "):][:1])
				}
			}
			first := strings.Index(stdout, "ENR-MEMBER-INVALID")
			if summary < 0 || first < summary || strings.Join(loops, ",") != "2,3,4,5" ||
				!strings.Contains(stdout, "834 change file, 7 member loop(s), 4 with data problems (4 problem(s))") {
				t.Errorf("member problems %v, summary at %d, first problem at %d\n%s", loops, summary, first, stdout)
			}
		})
	}
}

// The demo's sample 834 and authorization feed, loaded before its
// invoices, give eligibility and authorization rejections beside accepted
// lines; the rules are listed.
func TestDemoEnrollment(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	code, stdout, stderr := calgw(t, "--state", state, "ingest", "--kind", "834", "--out", dir, enrollmentFile("demo-sunrise-2026-09.834"))
	if code != exitOK {
		t.Fatalf("834: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = calgw(t, "--state", state, "ingest", "--kind", "auth", "--out", dir, enrollmentFile("demo-auth-2026-09.csv"))
	if code != exitOK || !strings.Contains(stdout, "7 row(s) read, 6 loaded, 1 rejected") {
		t.Fatalf("auth: exit %d\n%s", code, stdout)
	}
	inputs, err := demo.Inputs(filepath.Join(dir, "inputs"))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--state", state, "convert", "--out", filepath.Join(dir, "out")}
	for _, in := range inputs {
		args = append(args, "--in", in)
	}
	code, stdout, _ = calgw(t, args...)
	if code != exitOK {
		t.Fatalf("convert: exit %d\n%s", code, stdout)
	}
	for _, want := range []string{"7 accepted", "ELIG-NOT-ENROLLED", "AUTH-MISSING", "AUTH-UNITS-EXCEEDED"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("convert output lacks %s:\n%s", want, stdout)
		}
	}
	rejects, _ := os.ReadFile(filepath.Join(dir, "out", "rejects.csv"))
	if !strings.Contains(string(rejects), "INV-2026-0102,2,ELIG-NOT-ENROLLED") || !strings.Contains(string(rejects), "INV-VM-77,2,AUTH-UNITS-EXCEEDED") {
		t.Errorf("rejects:\n%s", rejects)
	}
	code, stdout, _ = calgw(t, "rules")
	for _, id := range []string{"ELIG-NOT-ENROLLED", "ELIG-SHARE-OF-COST", "ELIG-MEMBER-MISMATCH", "POF-NOT-LIVE", "AUTH-MISSING", "AUTH-OTHER-PROVIDER",
		"AUTH-UNITS-EXCEEDED", "CS-LIMIT", "TR-NEEDS-ECM", "ECM-EXCLUDED", "AUTH-STREAMLINED-WINDOW", "AUTH-OUTREACH-EXEMPT", "AUTH-JI-PRERELEASE"} {
		if code != exitOK || !strings.Contains(stdout, id) {
			t.Errorf("calgw rules lacks %s", id)
		}
	}
}

// calgw validate reads the date cells of an XLSX authorization feed (their
// serial numbers) as dates, as ingest does.
func TestValidateAuthFeedXLSXDateCells(t *testing.T) {
	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	header := []any{"authorization_number", "member_cin", "service", "provider_npi", "pof", "status", "type", "start_date", "end_date"}
	row := []any{"ECM-9001", "91000001A", "ECM", "1234567893", "POF1A", "approved", "initial", 46023, 46387} // 2026-01-01, 2026-12-31
	if err := f.SetSheetRow(sheet, "A1", &header); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetRow(sheet, "A2", &row); err != nil {
		t.Fatal(err)
	}
	style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellStyle(sheet, "H2", "I2", style); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "auth.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := calgw(t, "validate", path)
	if code != exitOK || !strings.Contains(stdout, "authorization feed (xlsx), 1 row(s), 0 not loadable") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
}

// A file without an 834 gets no 834 report (the check is made when the
// pass meets an 834 set).
func TestValidateNo834NoEnrollmentReport(t *testing.T) {
	p := dhcs837(t)
	code, stdout, _ := calgw(t, "validate", p)
	if code != exitOK || strings.Contains(strings.ReplaceAll(stdout, p, ""), "834") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("exit %d\n%s", code, stdout)
	}
}

// dhcs837 is testdata/x12/837p-clean.x12 addressed to DHCS as the default
// profile addresses it (CALIFORNIA-DHCS, 1000B 610442), so that validate's
// DHCS checks pass.
func dhcs837(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "x12", "837p-clean.x12"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("*DHCSENC        *", "*CALIFORNIA-DHCS*", "*CALAIMGW*DHCSENC*", "*CALAIMGW*CALIFORNIA-DHCS*", "*46*DHCSENC~", "*46*610442~").Replace(string(b))
	p := filepath.Join(t.TempDir(), "837p-clean.x12")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
