package main

import (
	"encoding/json"
	"os"
	"path/filepath"
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

// monthlyTestConfig names a plan whose members without a county take plan
// code 305.
const monthlyTestConfig = `trading_partners:
  dhcs-encounters:
    interchange: {sender_qualifier: ZZ, sender_id: "123456789305", receiver_qualifier: ZZ, receiver_id: CALIFORNIA-DHCS, usage: T}
    group: {sender_code: "123456789", receiver_code: CALIFORNIA-DHCS}
    submitter: {name: TEST PLAN, id: "123456789", contact_phone: "9165550100"}
    receiver: {name: CALIFORNIA-DHCS, id: "610442"}
    payer: {name: CALIFORNIA-DHCS, id: "610442"}
    plan: {name: TESTPLAN, tin: "123456789", default_hcp: "305"}
`

const authFeedHeader = "authorization_number,member_cin,service,provider_npi,pof,status,type,start_date,end_date,units_authorized,decision_date,decision_communicated_date\n"

// calgw report monthly, DHCS's response, and the month's next file: the
// authorization DHCS accepted that is no longer the month's goes as a Void
// naming it; a document that breaks the schema exits 1 with each
// violation's pointer and keyword, and nothing is written.
func TestReportMonthlyVoidAfterResponse(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "calgw.yaml")
	os.WriteFile(cfg, []byte(monthlyTestConfig), 0o644)
	state, out, reports := filepath.Join(dir, "state"), filepath.Join(dir, "out"), filepath.Join(dir, "reports")
	feed := func(name, rows string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(authFeedHeader+rows), 0o644)
		code, stdout, stderr := calgw(t, "--config", cfg, "--state", state, "ingest", "--kind", "auth", "--out", reports, p)
		if code != exitOK {
			t.Fatalf("ingest %s: %d\n%s\n%s", name, code, stdout, stderr)
		}
		return p
	}
	feed("a1.csv", "CS-1,91000001A,CS01,1234567893,,approved,initial,2026-10-10,2026-12-31,,2026-10-10,2026-10-10\n")
	code, stdout, stderr := calgw(t, "--config", cfg, "--state", state, "report", "monthly", "--month", "2026-10", "--out", out)
	first := filepath.Join(out, "TESTPLAN_ECMCS_20261031_00001.json")
	if code != exitOK || !strings.Contains(stdout, first+" (Original, version 001, 1 record(s))") {
		t.Fatalf("first file: %d\n%s\n%s", code, stdout, stderr)
	}
	var doc struct {
		CSAuthorizations []map[string]any `json:"csAuthorizations"`
	}
	read := func(path string) {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		doc.CSAuthorizations = nil
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
	}
	read(first)
	if len(doc.CSAuthorizations) != 1 {
		t.Fatalf("first file's csAuthorizations: %v", doc.CSAuthorizations)
	}
	held := doc.CSAuthorizations[0]
	resp := filepath.Join(dir, "TESTPLAN_ECMCS_20261031_00001_RESP.json")
	os.WriteFile(resp, []byte(`{"fileName": "TESTPLAN_ECMCS_20261031_00001.json", "validationStatus": "Accepted", "responseHierarchy": [
		{"levelIdentifier": "File", "sectionIdentifier": "TESTPLAN_ECMCS_20261031_00001.json", "responses": [{"id": "0", "description": "accepted", "severity": "Information"}]}]}`), 0o644)
	fixes := filepath.Join(dir, "fixes") // not there yet: made
	if code, stdout, stderr := calgw(t, "--config", cfg, "--state", state, "ingest", "--kind", "dhcs-response", "--out", fixes, resp); code != exitOK {
		t.Fatalf("response: %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(fixes, "TESTPLAN_ECMCS_20261031_00001_RESP.fix.txt")); err != nil {
		t.Errorf("fix report: %v", err)
	}
	// The decision moves to November.
	feed("a2.csv", "CS-1,91000001A,CS01,1234567893,,approved,initial,2026-10-10,2026-12-31,,2026-11-02,2026-11-02\n")
	code, stdout, stderr = calgw(t, "--config", cfg, "--state", state, "report", "monthly", "--month", "2026-10", "--out", out)
	second := filepath.Join(out, "TESTPLAN_ECMCS_20261031_00002.json")
	if code != exitOK || !strings.Contains(stdout, second+" (Resubmission, version 002, 1 record(s))") {
		t.Fatalf("second file: %d\n%s\n%s", code, stdout, stderr)
	}
	read(second)
	if len(doc.CSAuthorizations) != 1 {
		t.Fatalf("second file's csAuthorizations: %v", doc.CSAuthorizations)
	}
	void := doc.CSAuthorizations[0]
	if void["recordType"] != "Void" || void["parentRecordId"] != held["recordId"] || void["decisionDate"] != "20261010" || void["authorizationId"] != "CS-1" {
		t.Errorf("Void %v, want one naming %v with the accepted decision date", void, held["recordId"])
	}

	// A plan's official schema (schemas_dir) that takes authorization IDs
	// of 3 characters at most: exit 1, each violation listed with its
	// pointer and keyword, nothing written.
	official := filepath.Join(dir, "official")
	os.MkdirAll(official, 0o755)
	data, err := os.ReadFile(filepath.Join("..", "..", "schemas", "monthly.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sch map[string]any
	if err := json.Unmarshal(data, &sch); err != nil {
		t.Fatal(err)
	}
	sch["$defs"].(map[string]any)["csAuthorizationsRecord"].(map[string]any)["properties"].(map[string]any)["authorizationId"].(map[string]any)["maxLength"] = 3
	data, _ = json.Marshal(sch)
	os.WriteFile(filepath.Join(official, "monthly.schema.json"), data, 0o644)
	strict := filepath.Join(dir, "strict.yaml")
	os.WriteFile(strict, []byte(monthlyTestConfig+"schemas_dir: "+official+"\n"), 0o644)
	bad := filepath.Join(dir, "bad-out")
	code, stdout, _ = calgw(t, "--config", strict, "--state", state, "report", "monthly", "--month", "2026-10", "--out", bad)
	if code != exitRejected || !strings.Contains(stdout, "/csAuthorizations/0/authorizationId") || !strings.Contains(stdout, "maxLength") || !strings.Contains(stdout, "1 violation(s)") {
		t.Errorf("invalid document: %d\n%s", code, stdout)
	}
	if left, _ := os.ReadDir(bad); len(left) != 0 {
		t.Errorf("files written for an invalid document: %v", left)
	}
}
