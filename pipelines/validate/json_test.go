package validate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/schemas"
)

func validateJSONFile(t *testing.T, path, cfg string) (Report, string) {
	t.Helper()
	var lines []string
	reps := Files(context.Background(), []string{path}, Options{Config: cfg, Line: func(s string) { lines = append(lines, s) }})
	if len(reps) != 1 {
		t.Fatalf("%d reports", len(reps))
	}
	return reps[0], strings.Join(lines, "\n")
}

// writeEdited writes schemas/testdata/valid.json with edit applied.
func writeEdited(t *testing.T, edit func(doc map[string]any)) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "schemas", "testdata", "valid.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, _ := json.Marshal(doc)
	p := filepath.Join(t.TempDir(), "PLAN_ECMCS_20261031_00001.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidateMonitoringJSON(t *testing.T) {
	valid := writeEdited(t, func(map[string]any) {})
	rep, out := validateJSONFile(t, valid, "")
	if rep.Status != OK || !strings.Contains(out, "monthly monitoring submission (schema embedded), 12 record(s), 0 violation(s)") {
		t.Errorf("valid: %v\n%s", rep.Status, out)
	}
	bad := writeEdited(t, func(doc map[string]any) {
		r := doc["ecmEnrollment"].([]any)[0].(map[string]any)
		r["cin"] = "A1234567B"
		delete(r, "planCode")
		doc["header"].(map[string]any)["submissionType"] = "Replacement"
	})
	rep, out = validateJSONFile(t, bad, "")
	for _, want := range []string{
		"/ecmEnrollment/0/cin: pattern:",
		"/ecmEnrollment/0: required: missing property 'planCode'",
		"/header/submissionType: enum:",
		"3 violation(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if rep.Status != Invalid {
		t.Errorf("status %v", rep.Status)
	}
}

func TestValidateDHCSResponse(t *testing.T) {
	rep, out := validateJSONFile(t, filepath.Join("..", "..", "schemas", "testdata", "response.json"), "")
	if rep.Status != OK || !strings.Contains(out, "DHCS response (schema embedded), 0 violation(s)") {
		t.Errorf("%v\n%s", rep.Status, out)
	}
	p := filepath.Join(t.TempDir(), "r.json")
	os.WriteFile(p, []byte(`{"fileName":"x.json","validationStatus":"Maybe","responseHierarchy":[{"levelIdentifier":"File"}]}`), 0o644)
	rep, out = validateJSONFile(t, p, "")
	for _, want := range []string{"/validationStatus: enum:", "/responseHierarchy/0: required:"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if rep.Status != Invalid {
		t.Errorf("status %v", rep.Status)
	}
	other := filepath.Join(t.TempDir(), "o.json")
	os.WriteFile(other, []byte(`{"name":"x"}`), 0o644)
	if rep, _ := validateJSONFile(t, other, ""); rep.Status != Unusable || !strings.Contains(rep.Err.Error(), `first member "name"`) {
		t.Errorf("unknown JSON: %v %v", rep.Status, rep.Err)
	}
}

// With schemas_dir, the file is checked against the plan's files and the
// builder's differences with them are listed field by field.
func TestValidateWithSchemasDir(t *testing.T) {
	dir := t.TempDir()
	data, _ := os.ReadFile(filepath.Join("..", "..", "schemas", schemas.MonthlyFile))
	var doc map[string]any
	json.Unmarshal(data, &doc)
	doc["$defs"].(map[string]any)["cin"].(map[string]any)["pattern"] = "^9[0-9]{7}[A-Z]$"
	out, _ := json.Marshal(doc)
	os.WriteFile(filepath.Join(dir, schemas.MonthlyFile), out, 0o644)
	cfg := filepath.Join(dir, "calgw.yaml")
	os.WriteFile(cfg, []byte("schemas_dir: "+dir+"\n"), 0o644)
	p := writeEdited(t, func(doc map[string]any) {
		doc["ecmEnrollment"].([]any)[0].(map[string]any)["cin"] = "81234567A"
	})
	rep, text := validateJSONFile(t, p, cfg)
	for _, want := range []string{
		"/ecmEnrollment/0/cin: pattern:",
		"differ: ecmEnrollment.cin: pattern: ours \"^[0-9]{8}[A-Z]$\", theirs \"^9[0-9]{7}[A-Z]$\"",
		"(schema " + filepath.Join(dir, schemas.MonthlyFile) + ")",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	if rep.Status != Invalid {
		t.Errorf("status %v", rep.Status)
	}
}
