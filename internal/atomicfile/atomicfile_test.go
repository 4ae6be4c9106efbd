package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
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

// TestDirectorySyncedBeforeTheFileCounts checks the order of a power-safe
// write: the temporary file's directory is synced when Sync returns (a
// caller records the temporary file as complete right after, as convert
// records its 837 before the rename), and again after the rename.
func TestDirectorySyncedBeforeTheFileCounts(t *testing.T) {
	dir := t.TempDir()
	var synced []string
	prev := syncDir
	syncDir = func(d string) { synced = append(synced, d); prev(d) }
	t.Cleanup(func() { syncDir = prev })

	f, err := Create(filepath.Join(dir, "out.837"), ".x-")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("ISA")
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if len(synced) != 1 || synced[0] != dir {
		t.Fatalf("after Sync the directories synced are %q, want [%s]", synced, dir)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if len(synced) != 2 || synced[1] != dir {
		t.Errorf("after Commit the directories synced are %q, want %s twice", synced, dir)
	}
}

// MkdirAll syncs the parent of every directory it creates, and only those.
func TestMkdirAllSyncsTheParentsOfNewDirectories(t *testing.T) {
	root := t.TempDir()
	var synced []string
	prev := syncDir
	syncDir = func(d string) { synced = append(synced, d); prev(d) }
	t.Cleanup(func() { syncDir = prev })

	target := filepath.Join(root, "work", "7", "out")
	if err := MkdirAll(target, 0o750); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(target); err != nil || !fi.IsDir() {
		t.Fatalf("%s not made: %v", target, err)
	}
	want := []string{filepath.Join(root, "work", "7"), filepath.Join(root, "work"), root}
	if !slices.Equal(synced, want) {
		t.Errorf("synced %q, want %q", synced, want)
	}
	synced = nil
	if err := MkdirAll(target, 0o750); err != nil || len(synced) != 0 {
		t.Errorf("an existing directory: err %v, synced %q", err, synced)
	}
	if err := MkdirAll(filepath.Join(root, "work", "7", "in"), 0o750); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(synced, []string{filepath.Join(root, "work", "7")}) {
		t.Errorf("one new directory: synced %q", synced)
	}
}

// CommitNew never replaces a file: over a taken name it fails with
// fs.ErrExist, leaving both files as they were, and the temporary file can
// then be committed under another name.
func TestCommitNewNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	taken := filepath.Join(dir, "a.csv")
	if err := os.WriteFile(taken, []byte("first"), 0o640); err != nil {
		t.Fatal(err)
	}
	f, err := Create(taken, ".x-")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("second")
	if err := f.CommitNew(); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("commit over a taken name: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(taken); string(b) != "first" {
		t.Fatalf("the taken file now holds %q", b)
	}
	other := filepath.Join(dir, "b.csv")
	if err := f.CommitNewAs(other); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(other); string(b) != "second" || f.FinalName() != other {
		t.Fatalf("b.csv holds %q, final name %s", b, f.FinalName())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the directory holds %d entries, want a.csv and b.csv", len(entries))
	}
}
