package monthly_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/pipelines/monthly"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// writeResponse writes a DHCS response to file rejecting the records
// named (one Error each, on itemReference field).
func writeResponse(t *testing.T, dir, file string, status string, reject map[string]string) string {
	t.Helper()
	var recs []any
	for id, field := range reject {
		recs = append(recs, map[string]any{"levelIdentifier": "Record", "sectionIdentifier": id,
			"responses": []any{map[string]any{"itemReference": field, "id": "0x00A1", "description": "value not accepted", "severity": "Error"}}})
	}
	recs = append(recs, map[string]any{"levelIdentifier": "Record", "sectionIdentifier": "NOT-SENT-1", "responses": []any{}})
	doc := map[string]any{"fileName": file, "fileType": "ECMCS", "submitterName": "TESTPLAN", "submissionDate": "20261105",
		"validationStatus": status, "schemaVersion": "gateway-1.0", "levels": []any{"File", "Data set", "Record"},
		"responseHierarchy": []any{map[string]any{"levelIdentifier": "File", "sectionIdentifier": file,
			"responses": []any{map[string]any{"id": "0x0001", "description": "file processed", "severity": "Information"}},
			"children":  []any{map[string]any{"levelIdentifier": "Data set", "sectionIdentifier": "mixed", "responses": []any{}, "children": recs}}}}}
	b, _ := json.Marshal(doc)
	p := filepath.Join(dir, strings.TrimSuffix(file, ".json")+"_RESP.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func recordIDs(t *testing.T, path, ds string) []string {
	doc := readFile(t, path)
	var out []string
	for _, r := range records(doc, ds) {
		out = append(out, r["recordId"].(string))
	}
	return out
}

// A response round trip: the rejected records' statuses are kept, the fix
// report names them per data set and member, and the month's next build
// is a Resubmission: rejected records again as Originals, unchanged
// accepted ones left out, a changed accepted one as a Resubmission of it.
func TestResponseRoundTrip(t *testing.T) {
	cfg, rs := testConfig(t)
	st := state(t)
	out := t.TempDir()
	first, err := build(t, st, cfg, rs, "2026-10", out)
	if err != nil {
		t.Fatal(err)
	}
	auths := recordIDs(t, first.Path, "ecmAuthorizations") // B1, C2
	enr := recordIDs(t, first.Path, "ecmEnrollment")       // A, B
	resp := writeResponse(t, t.TempDir(), filepath.Base(first.Path), "Rejected", map[string]string{auths[0]: "decisionDate"})
	results := monthly.IngestResponse(ctx, ingest.Job{Files: []string{resp}, Store: st, Config: cfg})
	r := results[0]
	if r.Err != nil || r.Read != 17 || r.Loaded != 17 || r.Rejected != 1 || r.Warnings != 1 {
		t.Fatalf("ingest: %+v", r)
	}
	recs, _ := st.SubmittedRecords(ctx, "2026-10")
	statuses := map[string]string{}
	for _, rec := range recs {
		statuses[rec.RecordID] = rec.Status
	}
	if statuses[auths[0]] != store.RecordRejected || statuses[auths[1]] != store.RecordAccepted || statuses[enr[0]] != store.RecordAccepted {
		t.Errorf("statuses %v", statuses)
	}
	fix, err := os.ReadFile(r.Report)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 rejected", "ecmAuthorizations: what to fix", "member 91000002B, record " + auths[0],
		"decisionDate: 0x00A1 Error: value not accepted", "1 record(s) named by the response were not in the file", "version 00002"} {
		if !strings.Contains(string(fix), want) {
			t.Errorf("fix report lacks %q:\n%s", want, fix)
		}
	}

	// The state changes for A: a second ECM authorization's POF (a new
	// record) and a later end date (A's enrollment record changes).
	al, _ := st.BeginEnrollmentLoad(ctx, store.LoadKindAuth, "a2.csv", [32]byte{2})
	a := domain.Authorization{Number: "A1", CIN: "91000001A", Service: "ECM", POF: "POF1A", ProviderNPI: "1234567893", Status: domain.AuthApproved,
		Type: domain.AuthInitial, From: day("2026-09-15"), To: day("2027-03-31"), Decided: day("2026-09-10")}
	if err := al.PutAuthorization(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if err := al.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	second, err := build(t, st, cfg, rs, "2026-10", out)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(second.Path) != "TESTPLAN_ECMCS_20261031_00002.json" || second.Type != "Resubmission" {
		t.Fatalf("second build %s %s", second.Path, second.Type)
	}
	doc := readFile(t, second.Path)
	h := doc["header"].(map[string]any)
	if h["submissionType"] != "Resubmission" || h["submissionVersion"] != "002" {
		t.Errorf("header %v", h)
	}
	ea := records(doc, "ecmAuthorizations")
	if len(ea) != 1 || ea[0]["authorizationId"] != "B1" || ea[0]["recordType"] != "Original" || ea[0]["recordId"] == auths[0] {
		t.Errorf("the rejected authorization again as a new Original: %v", ea)
	}
	e := records(doc, "ecmEnrollment")
	if len(e) != 1 || e[0]["cin"] != "91000001A" || e[0]["recordType"] != "Resubmission" || e[0]["parentRecordId"] != enr[0] || e[0]["ecmEndDate"] != "20270331" {
		t.Errorf("A's changed enrollment as a Resubmission of the accepted record: %v", e)
	}
	if n := len(records(doc, "csServicesReceived")); n != 0 {
		t.Errorf("accepted unchanged services sent again: %d", n)
	}
	// Built again without a response: the same version, the same bytes.
	again, err := build(t, st, cfg, rs, "2026-10", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(second.Path)
	b2, _ := os.ReadFile(again.Path)
	if filepath.Base(again.Path) != filepath.Base(second.Path) || string(b1) != string(b2) {
		t.Error("rebuilding the unanswered version changed it")
	}
}

// A response naming a file the gateway did not build is refused.
func TestResponseToAnUnknownFile(t *testing.T) {
	cfg, _ := testConfig(t)
	st := state(t)
	resp := writeResponse(t, t.TempDir(), "TESTPLAN_ECMCS_20261031_00001.json", "Accepted", nil)
	r := monthly.IngestResponse(ctx, ingest.Job{Files: []string{resp}, Store: st, Config: cfg})[0]
	if r.Err == nil || !strings.Contains(r.Err.Error(), "no file TESTPLAN_ECMCS_20261031_00001.json was built") {
		t.Errorf("%v", r.Err)
	}
}
