package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCommitAndAbort(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "out.837")
	f, err := Create(final, ".x-")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("ISA")
	if _, err := os.Stat(final); !os.IsNotExist(err) {
		t.Fatal("final name visible before commit")
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(final); string(b) != "ISA" {
		t.Fatalf("content %q", b)
	}
	if _, err := os.Stat(f.TempName()); !os.IsNotExist(err) {
		t.Error("temp file left behind")
	}

	g, _ := Create(filepath.Join(dir, "other.837"), ".x-")
	g.WriteString("partial")
	g.Abort()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("after abort the directory holds %d entries", len(entries))
	}
}
