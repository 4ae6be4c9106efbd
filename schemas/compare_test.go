package schemas_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/schemas"
)

// official writes a stand-in for DHCS's files into a folder: our monthly
// schema changed by edit (the response schema is left out, so ours stays).
func official(t *testing.T, edit func(doc map[string]any)) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(".", schemas.MonthlyFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, _ := json.Marshal(doc)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, schemas.MonthlyFile), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCompareWithOurselvesFindsNothing(t *testing.T) {
	s := embeddedSet(t)
	if m := schemas.Compare(s, s); len(m) != 0 {
		t.Errorf("%v", m)
	}
}

// A schemas_dir file replaces ours, the other stays embedded, and every
// difference is named by data set and field.
func TestOfficialSchemaSwap(t *testing.T) {
	dir := official(t, func(doc map[string]any) {
		defs := doc["$defs"].(map[string]any)
		enr := defs["ecmEnrollmentRecord"].(map[string]any)
		props := enr["properties"].(map[string]any)
		props["memberCin"] = props["cin"]
		delete(props, "cin")
		enr["required"] = append(enr["required"].([]any), "memberCin", "ecmTier")
		props["ecmTier"] = map[string]any{"type": "string"}
		defs["planCode"].(map[string]any)["pattern"] = "^[0-9]{3}$"
		defs["authorizationStatus"].(map[string]any)["enum"] = []any{"Approved", "Denied"}
		delete(doc["properties"].(map[string]any), "transitionalRent")
		doc["required"] = slices.DeleteFunc(doc["required"].([]any), func(v any) bool { return v == "transitionalRent" })
	})
	theirs, err := schemas.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if theirs.Origin[schemas.MonthlyFile] != filepath.Join(dir, schemas.MonthlyFile) || theirs.Origin[schemas.ResponseFile] != "embedded" {
		t.Errorf("origins %v", theirs.Origin)
	}
	got := map[string]bool{}
	for _, m := range schemas.Compare(embeddedSet(t), theirs) {
		got[m.Where+"."+m.Field] = true
	}
	for _, want := range []string{
		"ecmEnrollment.cin",       // ours writes it, theirs does not know it
		"ecmEnrollment.memberCin", // theirs requires it
		"ecmEnrollment.ecmTier",
		"ecmEnrollment.planCode", // pattern differs (every data set)
		"ecmAuthorizations.authorizationStatus",
		"transitionalRent.*",
	} {
		if !got[want] {
			t.Errorf("no mismatch for %s; got %v", want, got)
		}
	}
	if got["ecmEnrollment.enrollmentStatus"] {
		t.Error("an unchanged field is reported")
	}
	// Their schema is the one validation applies.
	doc := load(t, "testdata/valid.json")
	vs := theirs.ValidateMonthly(doc)
	if !slices.ContainsFunc(vs, func(v schemas.Violation) bool { return v.Pointer == "" && v.Keyword == "additionalProperties" }) {
		t.Errorf("their schema refuses transitionalRent: got %v", vs)
	}
}
