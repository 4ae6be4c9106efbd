package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedUpToDate regenerates the tables from the committed pyx12 maps
// (maps/ beside this file) and compares them with the committed files. Missing
// maps fail the test: they are part of the repository.
func TestGeneratedUpToDate(t *testing.T) {
	root, err := filepath.Abs("../../../../..")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root) // the header names paths relative to the repository root
	for _, name := range append(mapFiles(), "LICENSE.txt", "README.md") {
		if _, err := os.Stat(filepath.Join(defaultMaps, name)); err != nil {
			t.Fatalf("generator input missing (see %s/README.md): %v", defaultMaps, err)
		}
	}
	g, err := newGenerator(defaultMaps, "edi/x12/ig")
	if err != nil {
		t.Fatal(err)
	}
	files, err := g.generate()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("the generator made no files")
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

// mapFiles lists the XML maps the generator reads.
func mapFiles() []string {
	names := []string{"dataele.xml", "codes.xml", controlMap}
	for _, t := range targets {
		names = append(names, t.File)
	}
	return names
}
