package ingest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/xuri/excelize/v2"
)

const testdata = "../../testdata/enrollment/"

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

type env struct {
	t   *testing.T
	st  *store.SQLite
	out string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{t: t, st: st, out: t.TempDir()}
}

func (e *env) job(files ...string) Job {
	cfg, err := config.Load("")
	if err != nil {
		e.t.Fatal(err)
	}
	return Job{Files: files, OutDir: e.out, Store: e.st, Config: cfg, Coding: rules.DefaultCodingTable(),
		Tables: rules.DefaultTables(), Data: rules.DefaultEligibilityTables()}
}

func (e *env) ingest834(file string) Result {
	e.t.Helper()
	rs := Ingest834(context.Background(), e.job(file))
	if len(rs) != 1 {
		e.t.Fatalf("%d results", len(rs))
	}
	return rs[0]
}

func (e *env) spans(cin string) [][2]string {
	e.t.Helper()
	m, ok, err := e.st.Member(context.Background(), cin)
	if err != nil {
		e.t.Fatal(err)
	}
	if !ok {
		return nil
	}
	out := [][2]string{}
	for _, s := range m.Spans {
		out = append(out, [2]string{s.From.String(), s.To.String()})
	}
	return out
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestChangeThenFullFile(t *testing.T) {
	e := newEnv(t)
	r := e.ingest834(testdata + "family-change.834")
	if r.Err != nil || r.Read != 7 || r.Loaded != 7 || r.Rejected != 0 || r.Ack != "" || r.Full || r.Sets != 1 {
		t.Fatalf("%+v", r)
	}
	if recs := readCSV(t, r.Report); len(recs) != 1 || !reflect.DeepEqual(recs[0], report834Header) {
		t.Errorf("clean report: %v", recs)
	}
	m, ok, _ := e.st.Member(context.Background(), "91000002B")
	if !ok || m.SubscriberID != "91000001A" || m.DOB != day("2015-06-20") || m.County != "19" {
		t.Errorf("dependent: %+v", m)
	}
	if got := e.spans("91000004D"); got != nil {
		// A termination of a member the plan never had is stored as a
		// member without coverage.
		if len(got) != 0 {
			t.Errorf("terminated unknown member: %v", got)
		}
	}

	// Idempotent: the same content again is not loaded twice.
	again := e.ingest834(testdata + "family-change.834")
	if again.Already == nil || again.Err != nil || again.Load != 0 {
		t.Errorf("second ingest: %+v", again)
	}

	// A full file from 2026-04-01 of plan code 010 lists 91000001A and
	// 91000006F: every member it does not list loses its 010 coverage from
	// that date. 91000007G's span of plan code 999 stays: DHCS sends one
	// full file per plan code, and this one says nothing of code 999.
	r = e.ingest834(testdata + "full-audit.834")
	if r.Err != nil || !r.Full || r.Loaded != 2 || r.Cut != 3 {
		t.Fatalf("full file: %+v", r)
	}
	for cin, want := range map[string][][2]string{
		"91000001A": {{"2026-01-01", ""}},
		"91000006F": {{"2025-06-01", "2026-06-30"}},
		"91000002B": {{"2026-01-01", "2026-03-31"}},
		"91000003C": {{"2026-01-01", "2026-03-31"}},
		"91000007G": {{"2026-02-01", "2026-03-31"}, {"2026-02-01", "2026-04-30"}},
	} {
		if got := e.spans(cin); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", cin, got, want)
		}
	}
}

// A change file whose REF*DX names no contract (a member with a Part D
// plan only) ends the member's stored D-SNP the day before the file's
// date, so that it no longer excludes ECM after that.
func TestChangeFileEndsDSNP(t *testing.T) {
	e := newEnv(t)
	if r := e.ingest834(testdata + "family-change.834"); r.Err != nil || r.Loaded != 7 {
		t.Fatalf("%+v", r)
	}
	dsnp := func() domain.DSNP {
		t.Helper()
		m, ok, err := e.st.Member(context.Background(), "91000006F")
		if err != nil || !ok {
			t.Fatalf("member: %v %v", ok, err)
		}
		return m.DSNP
	}
	if got, want := dsnp(), (domain.DSNP{Contract: "H5678", PBP: "002", From: day("2025-01-01")}); got != want {
		t.Fatalf("D-SNP %+v, want %+v", got, want)
	}
	b, err := os.ReadFile(testdata + "family-change.834")
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Replace(string(b), "REF*DX*H5678;002;20250101~", "REF*DX*;;;S5617;D635;20240901~", 1)
	in = strings.Replace(in, "-001*20260301*", "-001*20260401*", 1)
	path := filepath.Join(t.TempDir(), "april-change.834")
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := e.ingest834(path); r.Err != nil || r.Loaded != 7 || r.Full {
		t.Fatalf("%+v", r)
	}
	if got, want := dsnp(), (domain.DSNP{Contract: "H5678", PBP: "002", From: day("2025-01-01"), To: day("2026-03-31")}); got != want {
		t.Errorf("D-SNP after a change file without its contract: %+v, want %+v", got, want)
	}
}

func TestBadMembersAreSkipped(t *testing.T) {
	e := newEnv(t)
	r := e.ingest834(testdata + "bad-members.834")
	if r.Err != nil || r.Read != 7 || r.Loaded != 2 || r.Rejected != 5 || r.SetsRejected != 0 {
		t.Fatalf("%+v", r)
	}
	for cin, want := range map[string]bool{"92000001A": true, "92000007G": true, "92000002B": false, "92000004D": false, "92000006F": false} {
		if _, ok, _ := e.st.Member(context.Background(), cin); ok != want {
			t.Errorf("%s stored: %v, want %v", cin, ok, want)
		}
	}
	recs := readCSV(t, r.Report)
	byMember := map[string][]string{}
	for _, rec := range recs[1:] {
		byMember[rec[1]] = append(byMember[rec[1]], rec[6]+" "+rec[8])
		if strings.Contains(rec[10], "20260231") || strings.Contains(rec[10], "92000002B") {
			t.Errorf("report repeats member data: %v", rec)
		}
	}
	want := map[string][]string{
		"2": {"DMG02 ", "DMG02 IK403 8"}, // the mapper's invalid date, and the guide's
		"3": {"REF*1L "},                 // a dependent without its own ID
		"4": {"N406 "},                   // county 99
		"5": {"INS03 "},                  // a termination without a date
		"6": {"DMG03 IK403 7"},           // gender X: an implementation-guide code error in the loop
	}
	if !reflect.DeepEqual(byMember, want) {
		t.Errorf("report rows by member:\n got %v\nwant %v", byMember, want)
	}
	// The 999 says what the guide found and what the plan did: the set is
	// loaded, its bad members skipped (accepted with errors), and is itself valid.
	if r.Ack == "" {
		t.Fatal("no 999")
	}
	ackBytes, _ := os.ReadFile(r.Ack)
	if !bytes.Contains(ackBytes, []byte("IK5*E*5~AK9*E*1*1*1~")) || !bytes.Contains(ackBytes, []byte("IK4*2*1251*8~")) || bytes.Contains(ackBytes, []byte("20260231")) {
		t.Errorf("999:\n%s", ackBytes)
	}
	validate999(t, ackBytes)
}

func validate999(t *testing.T, b []byte) {
	t.Helper()
	var problems []string
	sum, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { problems = append(problems, f.String()) }}).Validate(context.Background(), bytes.NewReader(b))
	if err != nil || !sum.OK() || sum.Transactions == 0 {
		t.Errorf("the 999 is not valid 005010X231A1: %v %+v %v", err, sum, problems)
	}
}

func TestBrokenTransactionSetIsNotLoaded(t *testing.T) {
	e := newEnv(t)
	r := e.ingest834(testdata + "broken-envelope.834")
	if r.Err != nil || r.Read != 1 || r.Loaded != 0 || r.Rejected != 1 || r.SetsRejected != 1 || r.Ack == "" {
		t.Fatalf("%+v", r)
	}
	if _, ok, _ := e.st.Member(context.Background(), "92000001A"); ok {
		t.Error("a member of a broken transaction set was loaded")
	}
	recs := readCSV(t, r.Report)
	if len(recs) != 3 || recs[1][7] != rules.EnrollmentSetRejected || recs[1][8] != "IK502 4" || recs[2][8] != "IK501 R" {
		t.Errorf("report: %v", recs)
	}
	ackBytes, _ := os.ReadFile(r.Ack)
	if !bytes.Contains(ackBytes, []byte("IK5*R*4")) {
		t.Errorf("999:\n%s", ackBytes)
	}
	validate999(t, ackBytes)
	// Nothing was loaded, so the same file is not recorded as loaded.
	if again := e.ingest834(testdata + "broken-envelope.834"); again.Already != nil {
		t.Error("a file that loaded nothing counts as loaded")
	}
}

// An envelope error (here IEA01 counting two groups) stops the whole file.
func TestBrokenInterchangeLoadsNothing(t *testing.T) {
	e := newEnv(t)
	b, err := os.ReadFile(testdata + "family-change.834")
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("IEA*1*"), []byte("IEA*2*"), 1)
	path := filepath.Join(t.TempDir(), "bad-iea.834")
	os.WriteFile(path, b, 0o644)
	r := e.ingest834(path)
	if r.Err != nil || r.Loaded != 0 || r.Rejected != 7 || r.Ack == "" {
		t.Fatalf("%+v", r)
	}
	if _, ok, _ := e.st.Member(context.Background(), "91000001A"); ok {
		t.Error("member loaded from a broken interchange")
	}
	ackBytes, _ := os.ReadFile(r.Ack)
	if !bytes.Contains(ackBytes, []byte("TA1*")) || !bytes.Contains(ackBytes, []byte("IK5*R~AK9*R*1*1*0~")) {
		t.Errorf("no TA1 for the envelope error, or the 999 does not reject the set that was not loaded:\n%s", ackBytes)
	}
}

func TestDelimitersAndNotX12(t *testing.T) {
	e := newEnv(t)
	if r := e.ingest834(testdata + "other-delimiters.834"); r.Err != nil || r.Loaded != 2 {
		t.Errorf("%+v", r)
	}
	if got := e.spans("91000002B"); !reflect.DeepEqual(got, [][2]string{{"2026-01-01", ""}}) {
		t.Errorf("spans %v", got)
	}
	r := e.ingest834(testdata + "auth-feed.csv")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "unusable") {
		t.Errorf("CSV as 834: %+v", r)
	}
}

// A generated file with several transaction sets, families and
// terminations loads every member, and what is stored matches the file.
func TestGeneratedFile(t *testing.T) {
	e := newEnv(t)
	o := gen834.Options{Members: 2000, MembersPerSet: 700, Seed: 3}
	path := filepath.Join(t.TempDir(), "gen.834")
	f, _ := os.Create(path)
	o.WriteTo(f)
	f.Close()
	r := e.ingest834(path)
	if r.Err != nil || r.Read != 2000 || r.Loaded != 2000 || r.Sets != 3 || r.Findings != 0 {
		t.Fatalf("%+v", r)
	}
	for _, i := range []int{0, 699, 700, 1999} {
		m, ok, err := e.st.Member(context.Background(), o.CIN(i))
		if err != nil || !ok || m.LastName == "" || m.DOB == 0 || m.County == "" {
			t.Errorf("member %d: %+v %v %v", i, m, ok, err)
		}
	}
}

func TestAuthAndProgramFeeds(t *testing.T) {
	e := newEnv(t)
	rs := IngestAuth(context.Background(), e.job(testdata+"auth-feed.csv", testdata+"auth-feed.jsonl"))
	if len(rs) != 2 {
		t.Fatal(len(rs))
	}
	csvRes, jsonRes := rs[0], rs[1]
	if csvRes.Err != nil || csvRes.Read != 14 || csvRes.Loaded != 9 || csvRes.Rejected != 5 || csvRes.Warnings != 3 {
		t.Errorf("csv: %+v", csvRes)
	}
	// JSON lines: three rows, one damaged line; ECM-1001 again and
	// CS-4001 again (a row replaces the authorization of its number).
	if jsonRes.Err != nil || jsonRes.Read != 4 || jsonRes.Loaded != 2 || jsonRes.Rejected != 2 {
		t.Errorf("jsonl: %+v", jsonRes)
	}
	auths, err := e.st.Authorizations(context.Background(), "91000001A")
	if err != nil || len(auths) != 3 {
		t.Fatalf("%v %v", auths, err)
	}
	recs := readCSV(t, csvRes.Report)
	var rules_ []string
	for _, rec := range recs[1:] {
		rules_ = append(rules_, rec[1]+":"+rec[3]+":"+rec[4])
	}
	for _, want := range []string{"4:AUTH-PERIOD-POLICY:error", "6:AUTH-PERIOD-POLICY:error", "3:AUTH-FEED-INVALID:warning", "14:AUTH-FEED-INVALID:error"} {
		found := false
		for _, r := range rules_ {
			found = found || r == want
		}
		if !found {
			t.Errorf("report lacks %s: %v", want, rules_)
		}
	}
	if again := IngestAuth(context.Background(), e.job(testdata+"auth-feed.csv")); again[0].Already == nil {
		t.Error("feed loaded twice")
	}
	pr := IngestPrograms(context.Background(), e.job(testdata+"other-programs.csv"))[0]
	if pr.Err != nil || pr.Read != 4 || pr.Loaded != 3 || pr.Rejected != 1 || pr.Warnings != 1 {
		t.Errorf("programs: %+v", pr)
	}
	ps, _ := e.st.Programs(context.Background(), "91000007G")
	if len(ps) != 1 || ps[0].Program != "hospice" || ps[0].From != day("2026-03-15") || ps[0].To != 0 {
		t.Errorf("programs: %+v", ps)
	}
	// A file that is not a feed of the kind is unusable.
	if r := IngestPrograms(context.Background(), e.job(testdata+"auth-feed.csv"))[0]; r.Err == nil {
		t.Error("auth feed accepted as other_programs")
	}
	_ = domain.AuthApproved
}

// A full file with fewer member loops than its QTY*TO (say, cut short by a
// transfer) may be incomplete: its listed members load, the absent ones
// keep their coverage, and the report says why.
func TestIncompleteFullFileCutsNothing(t *testing.T) {
	e := newEnv(t)
	if r := e.ingest834(testdata + "family-change.834"); r.Err != nil {
		t.Fatal(r.Err)
	}
	b, _ := os.ReadFile(testdata + "full-audit.834")
	b = bytes.Replace(b, []byte("DTP*007*D8*20260401~"), []byte("DTP*007*D8*20260401~QTY*TO*3~"), 1)
	b = bytes.Replace(b, []byte("SE*29*"), []byte("SE*30*"), 1)
	path := filepath.Join(t.TempDir(), "short.834")
	os.WriteFile(path, b, 0o644)
	r := e.ingest834(path)
	if r.Err != nil || r.Loaded != 2 || r.Cut != 0 || r.CutSkipped == "" || r.Warnings != 2 {
		t.Fatalf("%+v", r)
	}
	if got := e.spans("91000002B"); !reflect.DeepEqual(got, [][2]string{{"2026-01-01", ""}}) {
		t.Errorf("absent member cut: %v", got)
	}
}

// An XLSX feed whose date columns are real date cells (the sheet stores
// their serial numbers) loads with those dates, authorization and
// other_programs alike.
func TestFeedsFromSpreadsheetDateCells(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	sheetFile := func(name string, header []any, row []any, dateCols ...string) string {
		t.Helper()
		f := excelize.NewFile()
		sheet := f.GetSheetName(0)
		if err := f.SetSheetRow(sheet, "A1", &header); err != nil {
			t.Fatal(err)
		}
		if err := f.SetSheetRow(sheet, "A2", &row); err != nil {
			t.Fatal(err)
		}
		style, err := f.NewStyle(&excelize.Style{NumFmt: 14}) // m/d/yyyy
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range dateCols {
			if err := f.SetCellStyle(sheet, c, c, style); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join(dir, name)
		if err := f.SaveAs(path); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// 46023 is 2026-01-01 and 46387 is 2026-12-31 in the 1900 date system.
	auth := sheetFile("auth.xlsx",
		[]any{"authorization_number", "member_cin", "service", "provider_npi", "pof", "status", "type", "start_date", "end_date", "decision_date", "decision_communicated_date"},
		[]any{"ECM-9001", "91000001A", "ECM", "1234567893", "POF1A", "approved", "initial", 46023, 46387, "2025-12-29", "2025-12-30"},
		"H2", "I2")
	r := IngestAuth(context.Background(), e.job(auth))[0]
	if r.Err != nil || r.Read != 1 || r.Loaded != 1 {
		t.Fatalf("auth feed: %+v", r)
	}
	auths, err := e.st.Authorizations(context.Background(), "91000001A")
	if err != nil || len(auths) != 1 || auths[0].From != day("2026-01-01") || auths[0].To != day("2026-12-31") {
		t.Errorf("authorizations %+v %v, want ECM-9001 from 2026-01-01 to 2026-12-31", auths, err)
	}
	programs := sheetFile("programs.xlsx", []any{"member_cin", "program", "start_date", "end_date"},
		[]any{"91000007G", "hospice", 46023, ""}, "C2")
	pr := IngestPrograms(context.Background(), e.job(programs))[0]
	if pr.Err != nil || pr.Loaded != 1 {
		t.Fatalf("programs feed: %+v", pr)
	}
	ps, _ := e.st.Programs(context.Background(), "91000007G")
	if len(ps) != 1 || ps[0].From != day("2026-01-01") {
		t.Errorf("programs %+v, want hospice from 2026-01-01", ps)
	}
}

// A feed without its header row has a data row there: the error names the
// missing columns and never echoes the row (CIN, dates).
func TestFeedWithoutHeaderEchoesNoRow(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	for _, tt := range []struct {
		kind   string
		row    string
		ingest func(context.Context, Job) []Result
	}{
		{"auth", "A-1,91234567A,ECM,1234567893,POF1A,approved,initial,2026-01-01,2026-06-30\n", IngestAuth},
		{"other_programs", "91234567A,hospice,2026-01-01,2026-06-30\n", IngestPrograms},
	} {
		p := filepath.Join(dir, tt.kind+".csv")
		if err := os.WriteFile(p, []byte(tt.row), 0o644); err != nil {
			t.Fatal(err)
		}
		rs := tt.ingest(context.Background(), e.job(p))
		if len(rs) != 1 || !errors.Is(rs[0].Err, ErrUnusable) {
			t.Fatalf("%s: %+v", tt.kind, rs)
		}
		msg := rs[0].Err.Error()
		if !strings.Contains(msg, "header row missing") {
			t.Errorf("%s: %s", tt.kind, msg)
		}
		for _, phi := range []string{"91234567A", "2026-01-01", "2026-06-30"} {
			if strings.Contains(msg, phi) {
				t.Errorf("%s: the message echoes %s: %s", tt.kind, phi, msg)
			}
		}
	}
}

// An interchange whose ISA cannot be read loads nothing and leaves no
// empty 999 (there is no sender to answer); the report says why.
func TestUnreadableInterchangeLeavesNoEmptyAck(t *testing.T) {
	e := newEnv(t)
	p := filepath.Join(t.TempDir(), "garbled.834")
	if err := os.WriteFile(p, []byte("ISA*00*garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	rs := Ingest834(context.Background(), e.job(p))
	if len(rs) != 1 || rs[0].Err != nil || rs[0].Committed || rs[0].Loaded != 0 || rs[0].Sets != 0 {
		t.Fatalf("%+v", rs)
	}
	if rs[0].Ack != "" {
		t.Errorf("a 999 was written: %s", rs[0].Ack)
	}
	if _, err := os.Stat(p + AckSuffix); err == nil {
		t.Error("an empty .999 was left beside the file")
	}
	rep, err := os.ReadFile(rs[0].Report)
	if err != nil || !strings.Contains(string(rep), "TA105 022") {
		t.Errorf("report: %v\n%s", err, rep)
	}
}

// limits.findings_per_file bounds an ingest report's problem rows (the rest
// are counted in a last row); limits.loop_segments refuses an 834 with a
// longer loop, and nothing of it is loaded.
func TestIngestLimits(t *testing.T) {
	e := newEnv(t)
	job := e.job(testdata + "bad-members.834")
	job.Config.Limits = config.Limits{FindingsPerFile: 2}
	r := Ingest834(context.Background(), job)[0]
	recs := readCSV(t, r.Report)
	if r.Err != nil || len(recs) != 4 || !strings.HasPrefix(recs[3][10], "4 more problem(s) not written") {
		t.Errorf("%v: %q", r.Err, recs)
	}
	job = e.job(testdata + "family-change.834") // its member loops hold more than 3 segments
	job.Config.Limits = config.Limits{LoopSegments: 3}
	r = Ingest834(context.Background(), job)[0]
	if !errors.Is(r.Err, ErrUnusable) || !strings.Contains(r.Err.Error(), "loop_segments") || r.Committed {
		t.Errorf("%+v", r)
	}
	if _, ok, _ := e.st.Member(context.Background(), "91000001A"); ok {
		t.Error("a member of a refused file was loaded")
	}
}

// TestFeedLimits loads authorization and other_programs feeds within
// limits set low: a record past limits.csv_record_bytes (CSV or JSON
// lines) or limits.fields_per_row refuses the file whole (ErrUnusable
// naming the file, the line and the limit) and loads none of its rows,
// not even those before it; past limits.findings_per_file problem rows the
// report counts the rest in one last row.
func TestFeedLimits(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	auth, err := os.ReadFile(testdata + "auth-feed.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(auth), "\n", 3)
	head, first := lines[0]+"\n", lines[1]+"\n"
	jsonl := `{"authorization_number": "ECM-1001", "member_cin": "91000001A", "service": "ECM", "provider_npi": "1234567893", "pof": "POF1A", "status": "approved", "type": "initial", "start_date": "2026-01-01", "end_date": "2026-12-31"}` + "\n"
	for _, c := range []struct {
		file, want string
		ingest     func(context.Context, Job) []Result
	}{
		{write("auth-long.csv", head+first+"ECM-9,"+strings.Repeat("z", 600)+"\n"), "auth-long.csv: csv line 3: a record longer than 512 bytes (MaxRecordBytes, limits.csv_record_bytes)", IngestAuth},
		{write("auth-wide.csv", head+first+strings.Repeat(",", 40)+"\n"), "auth-wide.csv: csv line 3: more than 30 fields in one record (MaxColumns, limits.fields_per_row)", IngestAuth},
		{write("auth-long.jsonl", jsonl+`{"note": "`+strings.Repeat("z", 600)+`"}`+"\n"), "auth-long.jsonl: jsonl line 2: a record longer than 512 bytes (MaxRecordBytes, limits.csv_record_bytes)", IngestAuth},
		{write("programs-wide.csv", "member_cin,program,start_date\n91000001A,CCS,2026-01-01\n"+strings.Repeat(",", 40)+"\n"), "programs-wide.csv: csv line 3: more than 30 fields", IngestPrograms},
	} {
		job := e.job(c.file)
		job.Config.Limits = config.Limits{CSVRecordBytes: 512, FieldsPerRow: 30}
		r := c.ingest(context.Background(), job)[0]
		if !errors.Is(r.Err, ErrUnusable) || !strings.Contains(r.Err.Error(), c.want) || r.Committed {
			t.Errorf("%s: %+v, want ErrUnusable with %q and nothing loaded", filepath.Base(c.file), r, c.want)
		}
		for _, w := range []string{"91000001A", "ECM-1001", "zzzz"} {
			if r.Err != nil && strings.Contains(r.Err.Error(), w) {
				t.Errorf("%s: the error echoes row content %q: %v", filepath.Base(c.file), w, r.Err)
			}
		}
	}
	if as, _ := e.st.Authorizations(context.Background(), "91000001A"); len(as) != 0 {
		t.Errorf("a row of a refused feed was loaded: %v", as)
	}
	// Many bad rows: the first findings_per_file are reported, the rest
	// counted.
	var bad strings.Builder
	bad.WriteString(head)
	for i := range 50 {
		fmt.Fprintf(&bad, "BAD-%d,not-a-cin,ECM,1234567893,POF1A,approved,initial,2026-01-01,2026-12-31,,,\n", i)
	}
	job := e.job(write("auth-bad.csv", bad.String()))
	job.Config.Limits = config.Limits{FindingsPerFile: 3}
	r := IngestAuth(context.Background(), job)[0]
	recs := readCSV(t, r.Report)
	if r.Err != nil || r.Rejected != 50 || len(recs) != 5 || !strings.Contains(recs[4][len(recs[4])-1], "more problem") {
		t.Errorf("%v, %d rejected: %q", r.Err, r.Rejected, recs)
	}
}

// full834 writes a DHCS full file (BGN08 RX) from from on, of the member
// loops given as CIN and plan code;start pairs, and returns its path.
func full834(t *testing.T, name, from string, members ...[]string) string {
	t.Helper()
	return write834(t, name, from, "RX", "030", members)
}

// change834 writes a DHCS change file (BGN08 2) dated date, whose member
// loops add the coverage given as plan code;start pairs, and returns its
// path.
func change834(t *testing.T, name, date string, members ...[]string) string {
	t.Helper()
	return write834(t, name, date, "2", "021", members)
}

func write834(t *testing.T, name, from, action, hd01 string, members [][]string) string {
	t.Helper()
	d := strings.ReplaceAll(from, "-", "")
	segs := []string{"ST*834*0001*005010X220A1", "BGN*00*" + name + "*" + d + "*0500****" + action, "DTP*007*D8*" + d,
		"N1*P5*CALIFORNIA DEPARTMENT OF HEALTH CARE SERVICES*FI*946000001", "N1*IN*SUNRISE HEALTH PLAN*FI*941234567"}
	for _, m := range members {
		cin := m[0]
		segs = append(segs, "INS*Y*18*030*XN*A", "REF*0F*"+cin, "REF*1L*"+cin, "REF*3H*19;1H;7001001",
			"NM1*IL*1*GARCIA*ELENA*M***ZZ*"+cin, "N3*450 SPRING ST", "N4*LOS ANGELES*CA*90012**CY*19", "DMG*D8*19850312*F")
		for _, cov := range m[1:] {
			code, start, _ := strings.Cut(cov, ";")
			segs = append(segs, "HD*"+hd01+"**LTC*"+code+";01*IND", "DTP*348*D8*"+strings.ReplaceAll(start, "-", ""))
		}
	}
	segs = append(segs, fmt.Sprintf("SE*%d*0001", len(segs)+1))
	isa := "ISA*00*          *00*          *ZZ*CADHCS_5010_834*30*941234567      *260401*0500*^*00501*000000302*0*T*:"
	body := isa + "~GS*BE*CADHCS_5010_834*941234567*20260401*0500*302*X*005010X220A1~" + strings.Join(segs, "~") + "~GE*1*302~IEA*1*000000302~"
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFullFilesPerPlanCode: DHCS sends one full file per plan code. The
// full file of code 506 leaves the members of code 405 as they were, and
// a later full file of 405 that does not list a 405 member cuts that
// member's 405 coverage from its period, not the 506 coverage of 506's
// members or of a member it lists.
func TestFullFilesPerPlanCode(t *testing.T) {
	e := newEnv(t)
	planSpans := func(cin string) []string {
		t.Helper()
		m, ok, err := e.st.Member(context.Background(), cin)
		if err != nil || !ok {
			t.Fatal(cin, ok, err)
		}
		var out []string
		for _, s := range m.Spans {
			out = append(out, s.PlanCode+" "+s.From.String()+".."+s.To.String())
		}
		return out
	}
	for _, f := range []struct {
		path string
		cut  int64
	}{
		{full834(t, "DHCS834-DA-20260101-HN-405-001", "2026-01-01",
			[]string{"91000011A", "405;2026-01-01"}, []string{"91000012B", "405;2026-01-01"}, []string{"91000014D", "405;2026-01-01"}), 0},
		{full834(t, "DHCS834-DA-20260101-CO-506-001", "2026-01-01",
			[]string{"91000013C", "506;2026-01-01"}, []string{"91000014D", "506;2026-01-01"}), 0},
		{full834(t, "DHCS834-DA-20260401-HN-405-001", "2026-04-01",
			[]string{"91000011A", "405;2026-04-01"}, []string{"91000014D", "405;2026-04-01"}), 1},
	} {
		if r := e.ingest834(f.path); r.Err != nil || !r.Full || r.Rejected != 0 || r.Cut != f.cut {
			t.Fatalf("%s: %+v, want %d member(s) cut", filepath.Base(f.path), r, f.cut)
		}
	}
	for cin, want := range map[string][]string{
		"91000011A": {"405 2026-01-01..2026-03-31", "405 2026-04-01.."},
		"91000012B": {"405 2026-01-01..2026-03-31"},
		"91000013C": {"506 2026-01-01.."},
		"91000014D": {"405 2026-01-01..2026-03-31", "506 2026-01-01..", "405 2026-04-01.."},
	} {
		if got := planSpans(cin); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", cin, got, want)
		}
	}
}

// planSpans lists a member's spans as "code from..to".
func (e *env) planSpans(cin string) []string {
	e.t.Helper()
	m, ok, err := e.st.Member(context.Background(), cin)
	if err != nil {
		e.t.Fatal(err)
	}
	if !ok {
		return nil
	}
	var out []string
	for _, s := range m.Spans {
		out = append(out, s.PlanCode+" "+s.From.String()+".."+s.To.String())
	}
	return out
}

// reportRows returns the rows of a report with the rule ID.
func reportRows(t *testing.T, path, rule string) [][]string {
	t.Helper()
	var out [][]string
	for _, rec := range readCSV(t, path)[1:] {
		if rec[7] == rule {
			out = append(out, rec)
		}
	}
	return out
}

// TestChangeFileOlderThanAFullFile: a change file dated before the period
// of a full file loaded before for its plan code is not applied (its load
// is recorded, so the same content is not loaded again); one dated on the
// period's first day is, and so is one of another plan code.
func TestChangeFileOlderThanAFullFile(t *testing.T) {
	e := newEnv(t)
	full := e.ingest834(full834(t, "DHCS834-DA-20260401-HN-405-001", "2026-04-01",
		[]string{"91000021A", "405;2026-04-01"}))
	if full.Err != nil || !full.Committed || full.Loaded != 1 || full.Superseded != nil {
		t.Fatalf("full file: %+v", full)
	}

	stale := e.ingest834(change834(t, "DHCS834-DA-20260331-HN-405-001", "2026-03-31",
		[]string{"91000021A", "405;2026-01-01"}, []string{"91000023C", "405;2026-03-01"}))
	if stale.Err != nil || !stale.Committed || stale.Loaded != 0 || stale.Read != 2 || stale.Superseded == nil ||
		stale.Superseded.Load != full.Load || stale.Superseded.File != "DHCS834-DA-20260401-HN-405-001" || stale.Superseded.Date != day("2026-04-01") {
		t.Fatalf("stale change file: %+v (superseded by %+v)", stale, stale.Superseded)
	}
	if got := e.planSpans("91000021A"); !reflect.DeepEqual(got, []string{"405 2026-04-01.."}) {
		t.Errorf("91000021A after the superseded change file: %v", got)
	}
	if _, ok, _ := e.st.Member(context.Background(), "91000023C"); ok {
		t.Error("the superseded change file added a member")
	}
	rows := reportRows(t, stale.Report, rules.EnrollmentFileSuperseded)
	if len(rows) != 1 || rows[0][9] != "error" {
		t.Fatalf("report rows %v", rows)
	}
	for _, want := range []string{"2026-03-31", "DHCS834-DA-20260401-HN-405-001", fmt.Sprintf("load %d", full.Load), "2026-04-01"} {
		if !strings.Contains(rows[0][10], want) {
			t.Errorf("report row %q does not name %s", rows[0][10], want)
		}
	}
	if !strings.Contains(stale.Summary(), fmt.Sprintf("superseded_by=%d", full.Load)) {
		t.Errorf("summary %q", stale.Summary())
	}
	// The same content again is already loaded: not looked at again.
	again := e.ingest834(change834(t, "DHCS834-DA-20260331-HN-405-001", "2026-03-31",
		[]string{"91000021A", "405;2026-01-01"}, []string{"91000023C", "405;2026-03-01"}))
	if again.Already == nil || again.Already.Load != stale.Load {
		t.Errorf("the superseded file again: %+v", again)
	}

	// Dated on the full file's first day: applied.
	onTime := e.ingest834(change834(t, "DHCS834-DA-20260401-HN-405-002", "2026-04-01",
		[]string{"91000023C", "405;2026-03-01"}))
	if onTime.Err != nil || onTime.Loaded != 1 || onTime.Superseded != nil || onTime.Newer != nil {
		t.Fatalf("change file of the full file's first day: %+v", onTime)
	}
	if got := e.planSpans("91000023C"); !reflect.DeepEqual(got, []string{"405 2026-03-01.."}) {
		t.Errorf("91000023C: %v", got)
	}

	// Another plan code: the full file of 405 says nothing of 506.
	other := e.ingest834(change834(t, "DHCS834-DA-20260315-CO-506-001", "2026-03-15",
		[]string{"91000022B", "506;2026-03-01"}))
	if other.Err != nil || other.Loaded != 1 || other.Superseded != nil {
		t.Fatalf("change file of plan code 506: %+v", other)
	}
	if got := e.planSpans("91000022B"); !reflect.DeepEqual(got, []string{"506 2026-03-01.."}) {
		t.Errorf("91000022B: %v", got)
	}
	if rows := reportRows(t, other.Report, rules.EnrollmentFileSuperseded); len(rows) != 0 {
		t.Errorf("report of the 506 file: %v", rows)
	}
}

// TestChangeFilesOutOfOrder: a change file older than a change file of
// its plan code loaded before is applied, with a warning naming the newer
// file; one of another plan code gets none.
func TestChangeFilesOutOfOrder(t *testing.T) {
	e := newEnv(t)
	newer := e.ingest834(change834(t, "DHCS834-DA-20260410-HN-405-001", "2026-04-10", []string{"91000031A", "405;2026-04-01"}))
	if newer.Err != nil || newer.Loaded != 1 || newer.Newer != nil {
		t.Fatalf("newer change file: %+v", newer)
	}
	older := e.ingest834(change834(t, "DHCS834-DA-20260405-HN-405-001", "2026-04-05", []string{"91000032B", "405;2026-04-01"}))
	if older.Err != nil || older.Loaded != 1 || older.Superseded != nil || older.Newer == nil || older.Newer.Load != newer.Load || older.Warnings != 1 {
		t.Fatalf("older change file: %+v (newer %+v)", older, older.Newer)
	}
	if got := e.planSpans("91000032B"); !reflect.DeepEqual(got, []string{"405 2026-04-01.."}) {
		t.Errorf("the out-of-order file was not applied: %v", got)
	}
	rows := reportRows(t, older.Report, rules.EnrollmentFileOutOfOrder)
	if len(rows) != 1 || rows[0][9] != "warning" || !strings.Contains(rows[0][10], "DHCS834-DA-20260410-HN-405-001") ||
		!strings.Contains(rows[0][10], fmt.Sprintf("load %d", newer.Load)) || !strings.Contains(rows[0][10], "2026-04-10") {
		t.Errorf("report rows %v", rows)
	}
	// The same day is not out of order, nor another plan code's file.
	for _, path := range []string{
		change834(t, "DHCS834-DA-20260410-HN-405-002", "2026-04-10", []string{"91000033C", "405;2026-04-01"}),
		change834(t, "DHCS834-DA-20260402-CO-506-001", "2026-04-02", []string{"91000034D", "506;2026-04-01"}),
	} {
		r := e.ingest834(path)
		if r.Err != nil || r.Loaded != 1 || r.Newer != nil || len(reportRows(t, r.Report, rules.EnrollmentFileOutOfOrder)) != 0 {
			t.Errorf("%s: %+v", filepath.Base(path), r)
		}
	}
}

// A full file made (BGN03) before its period begins supersedes only the
// change files made before it: one made after it, though dated before the
// period, is newer than the full file and applies.
func TestChangeFileAfterAFullFileMadeEarly(t *testing.T) {
	e := newEnv(t)
	path := full834(t, "DHCS834-DA-20260601-HN-607-001", "2026-06-01", []string{"91000031A", "607;2026-06-01"})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	made := strings.Replace(string(b), "*20260601*0500****RX", "*20260525*0500****RX", 1)
	if made == string(b) {
		t.Fatal("BGN03 not found")
	}
	if err := os.WriteFile(path, []byte(made), 0o600); err != nil {
		t.Fatal(err)
	}
	if full := e.ingest834(path); full.Err != nil || full.Loaded != 1 {
		t.Fatalf("full file: %+v", full)
	}
	after := e.ingest834(change834(t, "DHCS834-DA-20260528-HN-607-001", "2026-05-28", []string{"91000032B", "607;2026-06-01"}))
	if after.Err != nil || after.Loaded != 1 || after.Superseded != nil {
		t.Fatalf("change file made after the full file: %+v (superseded by %+v)", after, after.Superseded)
	}
	before := e.ingest834(change834(t, "DHCS834-DA-20260520-HN-607-001", "2026-05-20", []string{"91000033C", "607;2026-06-01"}))
	if before.Err != nil || before.Loaded != 0 || before.Superseded == nil || before.Superseded.Date != day("2026-05-25") {
		t.Fatalf("change file made before the full file: %+v (superseded by %+v)", before, before.Superseded)
	}
}
