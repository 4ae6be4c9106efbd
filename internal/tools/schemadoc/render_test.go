package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/schemas"
)

// The committed data dictionary is what the schemas give: a schema change
// without `make schemas-doc` fails here (and so in CI).
func TestDictionaryIsCurrent(t *testing.T) {
	want, err := Render()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../../docs/monitoring-json.md")
	if err != nil {
		t.Fatalf("%v (make schemas-doc writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/monitoring-json.md is stale: run make schemas-doc")
	}
}

// Every data set and every record field of the schema appears in the
// dictionary, with the CIN pattern DHCS uses.
func TestDictionaryCoversEveryField(t *testing.T) {
	doc, err := Render()
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	set, _ := schemas.Embedded()
	defs := set.Doc(schemas.MonthlyFile).(map[string]any)["$defs"].(map[string]any)
	for _, ds := range schemas.DataSets {
		if !strings.Contains(s, "### `"+ds+"`") {
			t.Errorf("no section for %s", ds)
		}
		for f := range defs[ds+"Record"].(map[string]any)["properties"].(map[string]any) {
			if !strings.Contains(s, "| `"+f+"` |") {
				t.Errorf("%s.%s missing", ds, f)
			}
		}
	}
	if !strings.Contains(s, "`^[0-9]{8}[A-Z]$`") {
		t.Error("the CIN pattern is not shown")
	}
}
