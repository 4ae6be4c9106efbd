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

// TestGoldenDemo837 pins the 837P written for the demo invoices. The golden
// file is itself checked against 005010X222A1 by the validator, and its
// content was reviewed against the guide's loop structure (1000A/B, 2000A
// per billing provider, 2000B/2010BA/2010BB per claim, 2300, 2310B, 2400
// with DTP*472 and REF*6R); an intended output change is made with -update
// and reviewed in the diff.
func TestGoldenDemo837(t *testing.T) {
	e := newEnv(t)
	e.cfg.Encounters.SegmentNewlines = true
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
	golden := filepath.Join("testdata", "demo-encounters.837")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	validate837(t, golden)
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("837P differs from %s (run with -update and review the diff if the change is intended)", golden)
	}
}
