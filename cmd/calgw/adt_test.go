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
