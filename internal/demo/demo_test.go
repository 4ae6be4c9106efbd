package demo

import (
	"bytes"
	"os"
	"testing"
)

// The demo's reference files are copies of testdata files that the feature
// tests use; they must not drift apart.
func TestReferenceCopiesMatchTestdata(t *testing.T) {
	for embedded, source := range map[string]string{
		"data/roster.csv":         "../../testdata/roster/demo-roster.csv",
		"data/enrollment.834":     "../../testdata/enrollment/demo-sunrise-2026-09.834",
		"data/authorizations.csv": "../../testdata/enrollment/demo-auth-2026-09.csv",
	} {
		a, err := data.ReadFile(embedded)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(source)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s: copy it again", embedded, source)
		}
	}
}
