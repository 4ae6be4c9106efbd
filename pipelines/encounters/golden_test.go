package encounters

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/internal/demo"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenPath is the 837P of the demo invoices.
var goldenPath = filepath.Join("testdata", "demo-encounters.837")

func readGolden() ([]byte, error) { return os.ReadFile(goldenPath) }

// TestGoldenDemo837 pins the 837P written for the demo invoices. The output
// is checked, before it is compared or written by -update, against claims
// written by hand from the invoices (demoClaims), and the golden file
// against 005010X222A1 by the validator; an intended output change is made
// with -update and reviewed in the diff.
func TestGoldenDemo837(t *testing.T) {
	e := newEnv(t)
	e.cfg.Encounters.SegmentNewlines = true
	e.enrollDemo()
	inputs, err := demo.Inputs(filepath.Join(e.dir, "in"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.convert("out", inputs...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(res.Output)
	if err != nil {
		t.Fatal(err)
	}
	checkDemoClaims(t, got)
	golden := goldenPath
	if *update && !t.Failed() {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	validate837(t, golden)
	want, err := readGolden()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("837P differs from %s (run with -update and review the diff if the change is intended)", golden)
	}
}
