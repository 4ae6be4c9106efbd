package ingest

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

const dhcsData = "../../testdata/dhcs/"

// ourFile is the 837P the files of testdata/dhcs answer.
const ourFile = "PLAN_305_837P_MCE_20261123_00001.dat"

// sentStore is a store that sent 3057C1 and 3057C2 in set 0001 and
// 3057C3 in set 0002 of group 7 of ourFile.
func sentStore(t testing.TB, send bool) *store.SQLite {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if !send {
		return st
	}
	run, err := st.BeginRun(ctx, "convert", "{}")
	if err != nil {
		t.Fatal(err)
	}
	var cs []store.SentClaim
	for i, st02 := range []int64{1, 1, 2} {
		n := string(rune('1' + i))
		cs = append(cs, store.SentClaim{CLM01: "3057C" + n, Invoice: "INV-" + n, HCP: "305", File: ourFile, Sender: "951234567305", GroupSender: "951234567",
			ISA13: 7, GS06: 7, ST02: st02, Sent: "2026-11-23"})
	}
	if err := st.RecordClaims(ctx, run, cs); err != nil {
		t.Fatal(err)
	}
	if err := run.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	return st
}

func loadOne(t *testing.T, st *store.SQLite, kind, path string) (Result, [][]string) {
	t.Helper()
	job := Job{Files: []string{path}, OutDir: t.TempDir(), Store: st}
	var res []Result
	switch kind {
	case Kind999:
		res = Ingest999(context.Background(), job)
	case Kind277CA:
		res = Ingest277CA(context.Background(), job)
	case KindEVR:
		res = IngestEVR(context.Background(), job)
	}
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	if res[0].Err != nil {
		return res[0], nil
	}
	f, err := os.Open(res[0].Report)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(responseHeader, ",") {
		t.Errorf("report header %v", rows[0])
	}
	return res[0], rows[1:]
}

func statusByCLM(t *testing.T, st *store.SQLite) map[string]store.Submission {
	subs, err := st.Encounters(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]store.Submission{}
	for _, s := range subs {
		m[s.CLM01] = s
	}
	return m
}

// The rule statuses are the store's.
func TestStatusesAgree(t *testing.T) {
	if rules.StatusSent != store.EncounterSent || rules.StatusAccepted != store.EncounterAccepted || rules.StatusRejected != store.EncounterRejected {
		t.Error("rules and store spell the encounter statuses differently")
	}
}

// The 999 of testdata/dhcs rejects set 0002 (3057C3) and accepts set 0001.
func TestLoad999(t *testing.T) {
	st := sentStore(t, true)
	r, rows := loadOne(t, st, Kind999, dhcsData+"PLAN_305_837P_MCE_20261123_00001.999")
	if r.Err != nil || r.Read != 2 || r.Loaded != 2 || r.Rejected != 1 || r.Warnings != 0 || !r.Committed {
		t.Fatalf("result %+v", r)
	}
	if len(rows) != 2 || rows[0][3] != "0001" || rows[0][9+1] != "" || rows[1][6] != store.EncounterRejected || rows[1][11] != "1 claim(s)" {
		t.Errorf("report rows %q", rows)
	}
	m := statusByCLM(t, st)
	c3 := m["3057C3"]
	if c3.Status != store.EncounterRejected || c3.Ack != "R" || !strings.Contains(c3.Reason, "IK3 HI at segment 17 (loop 2300): 3 (required segment missing)") ||
		!strings.Contains(c3.Reason, "IK5 5 (one or more segments in error)") {
		t.Errorf("3057C3 %+v", c3)
	}
	if c1 := m["3057C1"]; c1.Status != store.EncounterSent || c1.Ack != "A" {
		t.Errorf("3057C1 %+v", c1)
	}
}

// A group the 999 rejects as a whole (AK901 R, here for an error in the
// group's own counts) rejects the claims of each of its sets, even those
// whose IK501 is A; a partly accepted group (P) leaves each set to its own.
func TestLoad999GroupRejected(t *testing.T) {
	for _, tc := range []struct {
		ak9      string
		wantC1   string // the status of 3057C1, in set 0001 (IK5*A)
		wantAck  string
		rejected int
	}{
		{"AK9*R*2*2*0*5", store.EncounterRejected, "R", 2},
		{"AK9*P*2*2*1", store.EncounterSent, "A", 1},
	} {
		t.Run(tc.ak9, func(t *testing.T) {
			b, err := os.ReadFile(dhcsData + "PLAN_305_837P_MCE_20261123_00001.999")
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "group.999")
			if err := os.WriteFile(p, []byte(strings.Replace(string(b), "AK9*P*2*2*1", tc.ak9, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			st := sentStore(t, true)
			r, _ := loadOne(t, st, Kind999, p)
			if r.Err != nil || r.Read != 2 || r.Loaded != 2 || r.Rejected != tc.rejected {
				t.Fatalf("result %+v", r)
			}
			m := statusByCLM(t, st)
			for _, clm := range []string{"3057C1", "3057C2"} {
				if c := m[clm]; c.Status != tc.wantC1 || c.Ack != tc.wantAck {
					t.Errorf("%s %+v, want status %s, ack %s", clm, c, tc.wantC1, tc.wantAck)
				}
			}
			if c := m["3057C1"]; tc.wantC1 == store.EncounterRejected && !strings.Contains(c.Reason, "999 AK9 R 5") {
				t.Errorf("3057C1 reason %q, want the group's AK9", c.Reason)
			}
			if c := m["3057C3"]; c.Status != store.EncounterRejected || c.Ack != "R" {
				t.Errorf("3057C3 %+v", c)
			}
		})
	}
}

// The 277CA of testdata/dhcs, named after our file: one accepted, a
// duplicate and an eligibility denial, each with its Encounter ID.
func TestLoad277CA(t *testing.T) {
	st := sentStore(t, true)
	r, rows := loadOne(t, st, Kind277CA, dhcsData+"PLAN_305_837P_MCE_20261123_00001_RESP_277.dat")
	if r.Err != nil || r.Read != 3 || r.Loaded != 3 || r.Rejected != 2 || r.Warnings != 0 {
		t.Fatalf("result %+v", r)
	}
	m := statusByCLM(t, st)
	for clm, want := range map[string][3]string{
		"3057C1": {store.EncounterAccepted, "F1:20", ""},
		"3057C2": {store.EncounterRejected, "F2:54", "F2:54 duplicate of a previously processed claim/line"},
		"3057C3": {store.EncounterRejected, "F2:97:QC", "F2:97:QC patient eligibility not found with entity (patient)"},
	} {
		s := m[clm]
		if s.Status != want[0] || s.Code != want[1] || s.Reason != want[2] || len(s.EncounterID) != 15 || s.AnsweredBy != "PLAN_305_837P_MCE_20261123_00001_RESP_277.dat" {
			t.Errorf("%s %+v, want %v", clm, s, want)
		}
	}
	for _, row := range rows {
		if row[1] != ourFile || row[2] != "7" || row[10] != "" {
			t.Errorf("row %q", row)
		}
	}
	if c, _, _ := st.SentClaim(context.Background(), "3057C2", ""); c.EncounterID != "202611240000002" {
		t.Errorf("the CLM01's Encounter ID for REF*F8: %+v", c)
	}
}

// The EVR of testdata/dhcs: statuses, encounter- and line-level errors as
// the reason, and an EncounterId that is not 15 digits is a warning.
func TestLoadEVR(t *testing.T) {
	st := sentStore(t, true)
	r, rows := loadOne(t, st, KindEVR, dhcsData+"PLAN_305_837P_MCE_20261123_00001_EVR.xml")
	if r.Err != nil || r.Read != 3 || r.Loaded != 3 || r.Rejected != 2 || r.Warnings != 0 {
		t.Fatalf("result %+v", r)
	}
	m := statusByCLM(t, st)
	if c := m["3057C1"]; c.Status != store.EncounterAccepted || c.Reason != "" || c.EncounterID != "202611240000001" {
		t.Errorf("3057C1 %+v", c)
	}
	if c := m["3057C2"]; c.Status != store.EncounterRejected || c.Reason != "0x39395df (SNIP): Duplicate encounter; line 1: 0x001C3: Procedure code modifier invalid for date of service" {
		t.Errorf("3057C2 %+v", c)
	}
	if !strings.Contains(rows[2][11], "not a 15-digit DHCS Encounter ID") || rows[2][3] != "2" {
		t.Errorf("row of 3057C3 %q", rows[2])
	}
}

// Answers that match nothing sent are in the report (RESPONSE-UNMATCHED),
// counted as warnings, not dropped; batch counts that disagree with the
// claims are a warning.
func TestUnmatchedAnswersAreReported(t *testing.T) {
	st := sentStore(t, false)
	for _, tc := range []struct {
		kind, file string
		n          int
	}{
		{Kind999, "PLAN_305_837P_MCE_20261123_00001.999", 2},
		{Kind277CA, "PLAN_305_837P_MCE_20261123_00001_RESP_277.dat", 3},
		{KindEVR, "PLAN_305_837P_MCE_20261123_00001_EVR.xml", 3},
	} {
		r, rows := loadOne(t, st, tc.kind, dhcsData+tc.file)
		if r.Err != nil || r.Read != tc.n || r.Loaded != 0 || r.Warnings != tc.n || len(rows) != tc.n {
			t.Errorf("%s: %+v, %d row(s)", tc.kind, r, len(rows))
			continue
		}
		for _, row := range rows {
			if row[10] != rules.ResponseUnmatched || row[11] == "" {
				t.Errorf("%s row %q", tc.kind, row)
			}
		}
	}
	b, err := os.ReadFile(dhcsData + "PLAN_305_837P_MCE_20261123_00001_RESP_277.dat")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "X_RESP_277.dat")
	os.WriteFile(p, []byte(strings.Replace(string(b), "QTY*90*1~", "QTY*90*5~", 1)), 0o644)
	st = sentStore(t, true)
	r, rows := loadOne(t, st, Kind277CA, p)
	if r.Warnings != 1 || !strings.Contains(rows[len(rows)-1][11], "QTY*90 5 accepted") {
		t.Errorf("batch count mismatch: %+v %q", r, rows)
	}
	// The file name names no file of ours: the answers still find the claims by CLM01.
	if r.Loaded != 3 {
		t.Errorf("by CLM01: %+v", r)
	}
}

// A file that is not of its kind is unusable and changes nothing.
func TestResponseOfAnotherKind(t *testing.T) {
	st := sentStore(t, true)
	for kind, file := range map[string]string{Kind999: "PLAN_305_837P_MCE_20261123_00001_RESP_277.dat", Kind277CA: "PLAN_305_837P_MCE_20261123_00001.999", KindEVR: "PLAN_305_837P_MCE_20261123_00001.999"} {
		r, _ := loadOne(t, st, kind, dhcsData+file)
		if !errors.Is(r.Err, ErrUnusable) || r.Committed {
			t.Errorf("%s given %s: %+v", kind, file, r)
		}
	}
	for clm, s := range statusByCLM(t, st) {
		if s.Status != store.EncounterSent || s.AnsweredBy != "" {
			t.Errorf("%s changed: %+v", clm, s)
		}
	}
}

func TestAnsweredFile(t *testing.T) {
	for name, want := range map[string]string{
		"IEHP_306_837P_MCE_20210517_00043_RESP_277.dat": "IEHP_306_837P_MCE_20210517_00043",
		"iehp_306_837p_mce_20210517_00043_resp_277.DAT": "iehp_306_837p_mce_20210517_00043",
		"resp_277.dat":  "",
		"_RESP_277.dat": "",
		"somefile.277":  "",
	} {
		if got := answeredFile(name); got != want {
			t.Errorf("answeredFile(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestAnswersGoToTheFileTheyName: DHCS's 277CA (by its name) and EVR (by
// EncounterFileName) name our file without its extension; their answers
// go to the submissions of that file, not to a replacement of the same
// CLM01 sent since in another file and still waiting for its own answer.
func TestAnswersGoToTheFileTheyName(t *testing.T) {
	for _, tc := range []struct{ kind, file string }{
		{Kind277CA, "PLAN_305_837P_MCE_20261123_00001_RESP_277.dat"},
		{KindEVR, "PLAN_305_837P_MCE_20261123_00001_EVR.xml"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			st := sentStore(t, true)
			ctx := context.Background()
			run, err := st.BeginRun(ctx, "convert", "{}")
			if err != nil {
				t.Fatal(err)
			}
			const later = "PLAN_305_837P_MCE_20261124_00002.dat"
			if err := st.RecordClaims(ctx, run, []store.SentClaim{{CLM01: "3057C1", Frequency: "7", Invoice: "INV-1", HCP: "305",
				File: later, Sender: "951234567305", GroupSender: "951234567", ISA13: 8, GS06: 8, ST02: 1, Sent: "2026-11-24"}}); err != nil {
				t.Fatal(err)
			}
			if err := run.Written(ctx, "", ""); err != nil {
				t.Fatal(err)
			}
			_, rows := loadOne(t, st, tc.kind, dhcsData+tc.file)
			for _, row := range rows {
				if row[0] == "3057C1" && row[1] != ourFile {
					t.Errorf("3057C1's answer went to %s, want %s: %q", row[1], ourFile, row)
				}
			}
			waiting, err := st.Encounters(ctx, store.EncounterSent, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(waiting) != 1 || waiting[0].File != later || waiting[0].Frequency != "7" {
				t.Errorf("waiting for an answer: %+v, want the replacement in %s", waiting, later)
			}
		})
	}
}

// TestLoad999OfA274: a 999 answering a 274 group (AK101 PW), numbered
// like the 837P's group from the same sender IDs, rejects no encounter:
// its group is reported as matched to nothing.
func TestLoad999OfA274(t *testing.T) {
	st := sentStore(t, true)
	b, err := os.ReadFile(dhcsData + "PLAN_305_837P_MCE_20261123_00001.999")
	if err != nil {
		t.Fatal(err)
	}
	pw := strings.Replace(string(b), "AK1*HC*7*005010X222A1~", "AK1*PW*7*004050X109~", 1)
	pw = strings.ReplaceAll(pw, "AK2*837*", "AK2*274*")
	pw = strings.ReplaceAll(pw, "*005010X222A1~", "*004050X109~")
	if pw == string(b) {
		t.Fatal("fixture not changed")
	}
	path := filepath.Join(t.TempDir(), "PROVIDERS_274.999")
	if err := os.WriteFile(path, []byte(pw), 0o600); err != nil {
		t.Fatal(err)
	}
	r, rows := loadOne(t, st, Kind999, path)
	if r.Err != nil || r.Loaded != 0 || r.Rejected != 0 || r.Warnings != 1 {
		t.Fatalf("result %+v", r)
	}
	if len(rows) != 1 || !strings.Contains(rows[0][11], "not an 837P") {
		t.Errorf("report rows %q", rows)
	}
	for clm, s := range statusByCLM(t, st) {
		if s.Status != store.EncounterSent || s.Ack != "" {
			t.Errorf("%s after a 274's 999: %+v", clm, s)
		}
	}
}

// A 277CA of several batches (one 277 per transaction set of ours): each
// batch's QTY*90/QTY*AA count the claims under it, not the whole file's.
func TestLoad277CABatchCounts(t *testing.T) {
	batch := func(st, clm, stc, accepted, rejected string) []string {
		return []string{"ST*277*" + st + "*005010X214", "BHT*0085*08*" + st + "*20261124*0830*TH",
			"HL*1**20*1", "NM1*PR*2*CALIFORNIA-DHCS*****46*610442",
			"HL*2*1*21*1", "NM1*41*2*PLAN*****46*951234567", "TRN*2*BATCH-" + st, "STC*F1:20*20261124*WQ", "QTY*90*" + accepted, "QTY*AA*" + rejected,
			"HL*3*2*19*1", "NM1*85*2*BAY STREET HOUSING*****XX*1456789019",
			"HL*4*3*PT", "TRN*2*" + clm, "STC*" + stc + "*20261124*WQ", "REF*1K*20261124000000" + st[3:], "SE*14*" + st}
	}
	for _, tc := range []struct {
		name         string
		second       []string // the counts of the second batch (one F2 claim)
		wantWarnings int
	}{
		{"each batch counts its own claims", []string{"0", "1"}, 0},
		{"a batch counts another's", []string{"1", "1"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			segs := []string{"ISA*00*          *00*          *30*CALIFORNIA-DHCS*ZZ*951234567305   *261124*0830*^*00501*000004711*0*P*:",
				"GS*HN*CALIFORNIA-DHCS*951234567305*20261124*0830*4711*X*005010X214"}
			segs = append(segs, batch("0001", "3057C1", "F1:20", "1", "0")...)
			segs = append(segs, batch("0002", "3057C2", "F2:54", tc.second[0], tc.second[1])...)
			segs = append(segs, "GE*2*4711", "IEA*1*000004711")
			p := filepath.Join(t.TempDir(), strings.TrimSuffix(ourFile, ".dat")+"_RESP_277.dat")
			if err := os.WriteFile(p, []byte(strings.Join(segs, "~\n")+"~\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r, rows := loadOne(t, sentStore(t, true), Kind277CA, p)
			if r.Err != nil || r.Loaded != 2 || r.Rejected != 1 || r.Warnings != tc.wantWarnings {
				t.Fatalf("result %+v, want %d warning(s); report %q", r, tc.wantWarnings, rows)
			}
			if tc.wantWarnings > 0 && !strings.Contains(rows[len(rows)-1][11], "batch BATCH-0002") {
				t.Errorf("warning %q, want the second batch's", rows[len(rows)-1])
			}
		})
	}
}

// An EVR that rejects a transaction or the whole file without listing its
// encounters is not dropped: the claims of that set, or of the file it
// names, are rejected with its status and findings, as a 999 rejecting a
// set does; one that names no set or file of ours, or matches no claim,
// is a warning row. Either way the report names it.
func TestLoadEVRRejectionWithoutEncounters(t *testing.T) {
	b, err := os.ReadFile(dhcsData + "PLAN_305_837P_MCE_20261123_00001_EVR.xml")
	if err != nil {
		t.Fatal(err)
	}
	sample := string(b)
	// Transaction 2 (set 0002: 3057C3) without its encounter.
	i, j := strings.Index(sample, `<Transaction Status="Rejected">`), strings.Index(sample, "</Transactions>")
	tx2 := sample[i:j]
	k, m := strings.Index(tx2, "<Encounters>"), strings.Index(tx2, "</Encounters>")+len("</Encounters>")
	noEnc := sample[:i] + tx2[:k] + `<TransactionResponses><Response Severity="Error"><Id>0x00A1</Id><Description>Invalid envelope</Description></Response></TransactionResponses>` + tx2[m:] + sample[j:]
	// The whole file rejected, no transactions.
	h := strings.Index(sample, "<Transactions>")
	wholeFile := strings.Replace(sample[:h], "<ValidationStatus>Accepted</ValidationStatus>", "<ValidationStatus>Rejected</ValidationStatus>", 1) + "</EncounterValidationResponse>"
	all := []string{"3057C1", "3057C2", "3057C3"}
	for _, tc := range []struct {
		name, doc    string
		send         bool
		rejected     []string // the claims rejected
		read, loaded int
		warnings     int
		row          []string // the last report row's status, code, reason, rule
	}{
		{"transaction rejected", noEnc, true, []string{"3057C2", "3057C3"}, 3, 3, 0,
			[]string{store.EncounterRejected, "EVR Transaction Rejected", "0x00A1: Invalid envelope", ""}},
		{"file rejected", wholeFile, true, all, 1, 1, 0,
			[]string{store.EncounterRejected, "EVR ValidationStatus Rejected", "EVR file " + ourFile + " Rejected", ""}},
		{"transaction of no set", strings.Replace(noEnc, `IdentifierValue="0002"`, `IdentifierValue="X2"`, 1), true, []string{"3057C2"}, 3, 2, 1,
			[]string{"", "EVR Transaction Rejected", "0x00A1: Invalid envelope", rules.ResponseUnmatched}},
		{"file named nowhere", strings.Replace(wholeFile, "<EncounterFileName>"+ourFile+"</EncounterFileName>", "", 1), true, nil, 1, 0, 1,
			[]string{"", "EVR ValidationStatus Rejected", "EVR file  Rejected", rules.ResponseUnmatched}},
		{"nothing sent", wholeFile, false, nil, 1, 0, 1,
			[]string{store.EncounterRejected, "EVR ValidationStatus Rejected", "EVR file " + ourFile + " Rejected", rules.ResponseUnmatched}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "PLAN_EVR.xml")
			if err := os.WriteFile(p, []byte(tc.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			st := sentStore(t, tc.send)
			r, rows := loadOne(t, st, KindEVR, p)
			if r.Err != nil || r.Read != tc.read || r.Loaded != tc.loaded || r.Warnings != tc.warnings || len(rows) != tc.read {
				t.Fatalf("result %+v, %d row(s)", r, len(rows))
			}
			last := rows[len(rows)-1]
			if got := []string{last[6], last[7], last[8], last[10]}; strings.Join(got, "|") != strings.Join(tc.row, "|") || last[11] == "" {
				t.Errorf("report row %q, want status, code, reason, rule %q and a note", last, tc.row)
			}
			if !tc.send {
				return
			}
			m := statusByCLM(t, st)
			for _, clm := range all {
				rejected := slices.Contains(tc.rejected, clm)
				if s := m[clm]; (s.Status == store.EncounterRejected) != rejected || clm != "3057C2" && rejected && (s.Code != tc.row[1] || s.Reason != tc.row[2]) {
					t.Errorf("%s %+v, rejected %v", clm, s, rejected)
				}
			}
		})
	}
}
