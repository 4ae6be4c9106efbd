package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/store"
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

func TestReportCandidates(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	st, err := store.OpenSQLite(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l, _ := st.BeginEnrollmentLoad(ctx, store.LoadKind834, "m.834", [32]byte{1})
	for _, cin := range []string{"91234567A", "92345678B", "93456789C"} {
		l.PutMember(ctx, &domain.EnrollmentChange{Enrollee: domain.Enrollee{Member: domain.Member{CIN: cin, DOB: civil.New(1980, 1, 1)}, County: "34"},
			Ops: []domain.SpanOp{{Kind: domain.SpanUpsert, Span: domain.EligibilitySpan{From: civil.Date(20200101), PlanCode: "306", County: "34"}}}})
	}
	if err := l.Commit(ctx, "1", ""); err != nil {
		t.Fatal(err)
	}
	var items []store.ADTItem
	for i, day := range []int{1, 5, 9} {
		at := time.Date(2026, 3, day, 18, 0, 0, 0, time.UTC)
		id := "C" + strconv.Itoa(i)
		items = append(items, store.ADTItem{Sender: "stm", ControlID: id, Source: "f", ReceivedAt: at,
			Event: domain.ADTEvent{Sender: "stm", ControlID: id, Kind: domain.ADTAdmit, CIN: "91234567A", PatientClass: "I", VisitNumber: id, EventTime: at, MessageTime: at}})
	}
	if _, err := st.RecordADT(ctx, items); err != nil {
		t.Fatal(err)
	}
	st.Close()
	// Through the HL7 intake: 92345678B's three stays are elective (PV1-4
	// C), 93456789C's emergencies (PV1-4 E); 91234567A's above carry no
	// PV1-4 and count.
	var hl7 strings.Builder
	for i, day := range []int{2, 6, 10} {
		for _, m := range []struct{ cin, atype string }{{"92345678B", "c"}, {"93456789C", "E"}} {
			id := m.cin[:2] + strconv.Itoa(i)
			hl7.WriteString("MSH|^~\\&|EPIC|STMARYS|GW|PLAN|202603" + strconv.Itoa(10+day) + "083000||ADT^A01|" + id + "|P|2.5.1\r" +
				"EVN|A01|202603" + strconv.Itoa(10+day) + "082500\rPID|1||" + m.cin + "^^^CAMEDI^MA\rPV1|1|I||" + m.atype + strings.Repeat("|", 15) + "V" + id + "\r")
		}
	}
	f := filepath.Join(dir, "stays.hl7")
	os.WriteFile(f, []byte(hl7.String()), 0o644)
	if code, stdout, stderr := calgw(t, "--state", state, "ingest", "--kind", "adt", "--out", filepath.Join(dir, "in"), f); code != exitOK {
		t.Fatalf("ingest: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr := calgw(t, "--state", state, "report", "candidates", "--pof", "avoidable-utilization", "--as-of", "2026-06-30")
	want := "member_cin,age,pof,ed_visits,inpatient_stays,window_from,as_of,threshold_source\n" +
		"91234567A,46,POF2A,0,3,2025-12-31,2026-06-30,S004 L276-277\n93456789C,46,POF2A,0,3,2025-12-31,2026-06-30,S004 L276-277\n"
	if code != exitOK || stdout != want || !strings.Contains(stderr, "2 member(s); 3 with an ED visit or inpatient stay") ||
		!strings.Contains(stderr, "counted: every ED visit and the unplanned inpatient stays (POF-UNPLANNED-STAY, by PV1-4 admission type); 3 planned stay(s) not counted") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
	out := filepath.Join(dir, "c.csv")
	if code, _, _ := calgw(t, "--state", state, "report", "candidates", "--pof", "avoidable-utilization", "--as-of", "2026-10-01", "--out", out); code != exitOK {
		t.Errorf("--out: exit %d", code)
	}
	if b, _ := os.ReadFile(out); string(b) != "member_cin,age,pof,ed_visits,inpatient_stays,window_from,as_of,threshold_source\n" {
		t.Errorf("as of October, the March stays are out of the 6-month window: %q", b)
	}
	if code, rulesOut, _ := calgw(t, "rules"); code != exitOK || !strings.Contains(rulesOut, "\nPOF-UNPLANNED-STAY ") ||
		strings.Index(rulesOut, "\nPOF-UTILIZATION-THRESHOLD ") > strings.Index(rulesOut, "\nPOF-UNPLANNED-STAY ") {
		t.Errorf("calgw rules: exit %d; want POF-UNPLANNED-STAY listed after POF-UTILIZATION-THRESHOLD", code)
	}
	for _, args := range [][]string{{"--pof", "homeless"}, {}, {"--pof", "avoidable-utilization", "--as-of", "2026-13-01"}} {
		if code, _, _ := calgw(t, append([]string{"--state", state, "report", "candidates"}, args...)...); code != exitUnusable {
			t.Errorf("%v: exit %d, want %d", args, code, exitUnusable)
		}
	}
}

// TestFacilitiesShareProfile: two hospitals in one sender profile (adt.senders
// lists both facilities) number their messages alike. Through `calgw ingest
// --kind adt`, both hospitals' M1 are stored, each file again is already
// loaded, and MERCY's cancel (A11) cancels MERCY's admit, not St Mary's
// later one of the same member and visit number.
func TestFacilitiesShareProfile(t *testing.T) {
	dir := t.TempDir()
	state, out := filepath.Join(dir, "state"), filepath.Join(dir, "out")
	cfg := filepath.Join(dir, "calgw.yaml")
	os.WriteFile(cfg, []byte("adt:\n  senders:\n    - {name: county, facilities: [STMARYS, MERCY]}\n"), 0o644)
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, state)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := st.BeginEnrollmentLoad(ctx, store.LoadKind834, "m.834", [32]byte{1})
	l.PutMember(ctx, &domain.EnrollmentChange{Enrollee: domain.Enrollee{Member: domain.Member{CIN: "91234567A"}, County: "34"},
		Ops: []domain.SpanOp{{Kind: domain.SpanUpsert, Span: domain.EligibilitySpan{From: civil.Date(20200101), PlanCode: "306", County: "34"}}}})
	if err := l.Commit(ctx, "1", ""); err != nil {
		t.Fatal(err)
	}
	st.Close()
	msg := func(fac, trigger, id, at string) string {
		return "MSH|^~\\&|EPIC|" + fac + "^2.16.840.1.113883.3.1^ISO|GW|PLAN|" + at + "||ADT^" + trigger + "|" + id + "|P|2.5.1\r" +
			"EVN|" + trigger + "|" + at + "\rPID|1||91234567A^^^CAMEDI^MA\rPV1|1|I|4W^^^" + fac + strings.Repeat("|", 16) + "V1\r"
	}
	ingest := func(name, content string) (int, string) {
		f := filepath.Join(dir, name)
		os.WriteFile(f, []byte(content), 0o644)
		code, stdout, stderr := calgw(t, "--config", cfg, "--state", state, "ingest", "--kind", "adt", "--out", out, f)
		return code, stdout + stderr
	}
	if code, text := ingest("stmarys.hl7", msg("STMARYS", "A01", "M1", "20260301090000")); code != exitOK || !strings.Contains(text, "1 message(s) read, 1 loaded") {
		t.Fatalf("St Mary's: exit %d\n%s", code, text)
	}
	if code, text := ingest("mercy.hl7", msg("MERCY", "A01", "M1", "20260301080000")+msg("MERCY", "A11", "M2", "20260301100000")); code != exitOK ||
		!strings.Contains(text, "2 message(s) read, 2 loaded") {
		t.Fatalf("Mercy (St Mary's M1 is another sending system's): exit %d\n%s", code, text)
	}
	for _, f := range []string{"stmarys.hl7", "mercy.hl7"} {
		if code, stdout, _ := calgw(t, "--config", cfg, "--state", state, "ingest", "--kind", "adt", "--out", out, filepath.Join(dir, f)); code != exitOK ||
			!strings.Contains(stdout, "already loaded") {
			t.Errorf("%s again: exit %d\n%s", f, code, stdout)
		}
	}
	st, err = store.OpenSQLite(ctx, state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.ADTEvents(ctx, "91234567A")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		s := ev.Sender + "/" + ev.SendingApplication + "/" + ev.SendingFacility + " " + ev.ControlID + " " + string(ev.Kind)
		if ev.Cancelled {
			s += " cancelled by " + ev.CancelledBy
		}
		got = append(got, s)
	}
	want := []string{"county/EPIC/MERCY M1 admit cancelled by M2", "county/EPIC/STMARYS M1 admit", "county/EPIC/MERCY M2 cancel-admit"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
