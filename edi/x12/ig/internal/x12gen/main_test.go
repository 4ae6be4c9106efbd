package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedUpToDate regenerates the tables from the pyx12 maps and
// compares them with the committed files. The maps live outside the
// repository (../shared/x12maps); without them the test is skipped.
func TestGeneratedUpToDate(t *testing.T) {
	root, err := filepath.Abs("../../../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "../shared/x12maps/maps.xml")); err != nil {
		t.Skip("pyx12 maps not available:", err)
	}
	t.Chdir(root) // the header names paths relative to the repository root
	g, err := newGenerator("../shared/x12maps", "edi/x12/ig")
	if err != nil {
		t.Fatal(err)
	}
	files, err := g.generate()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("edi/x12/ig", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what the generator makes: run go generate ./edi/x12/ig", name)
		}
	}
}
