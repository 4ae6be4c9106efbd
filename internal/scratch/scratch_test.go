package scratch

import (
	"io"
	"os"
	"testing"
)

// TestFileIsUnnamed: the file reads back what was written, and its
// directory never shows it.
func TestFileIsUnnamed(t *testing.T) {
	dir := t.TempDir()
	f, err := File(dir, "spool-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("the directory shows %v", left)
	}
	if _, err := f.WriteString("claims"); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF || string(b) != "claims" {
		t.Errorf("read back %q, %v", b, err)
	}
	if _, err := File(dir+"/missing", "x"); err == nil {
		t.Error("a file in a missing directory")
	}
}
