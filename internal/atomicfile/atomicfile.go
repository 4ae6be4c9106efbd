// Package atomicfile writes a file so that readers see either nothing or the
// whole file: data goes to a temporary name in the same directory, is synced,
// and is renamed into place.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// File is a file being written under a temporary name.
type File struct {
	*os.File
	final string
	done  bool
}

// Create starts writing final. The temporary file is tempPrefix+base(final)+".tmp"
// in final's directory; the prefix lets a caller find its leftovers after a crash.
func Create(final, tempPrefix string) (*File, error) {
	dir, base := filepath.Split(final)
	if dir == "" {
		dir = "."
	}
	tmp := filepath.Join(dir, tempPrefix+base+".tmp")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", tmp, err)
	}
	return &File{File: f, final: final}, nil
}

// TempName is the temporary path being written.
func (f *File) TempName() string { return f.File.Name() }

// FinalName is the path the file will have after Commit.
func (f *File) FinalName() string { return f.final }

// Sync flushes the data to disk and closes the temporary file, without
// renaming it, and syncs its directory, so that the temporary file's name
// survives a power loss too. Commit calls it; a caller that must record
// the temporary file as complete before the rename calls it first.
func (f *File) Sync() error {
	if f.done {
		return nil
	}
	f.done = true
	if err := f.File.Sync(); err != nil {
		f.File.Close()
		return fmt.Errorf("sync %s: %w", f.TempName(), err)
	}
	if err := f.File.Close(); err != nil {
		return fmt.Errorf("close %s: %w", f.TempName(), err)
	}
	syncDir(filepath.Dir(f.TempName()))
	return nil
}

// syncDir syncs a directory, making the names created or renamed in it
// durable. Best effort: not every system can sync a directory. Tests
// replace it to see the calls.
var syncDir = func(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Commit syncs the file and renames it into place.
func (f *File) Commit() error {
	if err := f.Sync(); err != nil {
		return err
	}
	return Rename(f.TempName(), f.final)
}

// CommitNew syncs the file and gives it its final name only when no file
// has that name: it never replaces one (a hard link, which the system
// refuses over an existing name, then the temporary name removed). When
// the name is taken it returns an error wrapping fs.ErrExist and keeps the
// temporary file, for CommitNewAs under another name or Abort.
func (f *File) CommitNew() error { return f.CommitNewAs(f.final) }

// CommitNewAs does what CommitNew does under the name final, which becomes
// the file's final name.
func (f *File) CommitNewAs(final string) error {
	if err := f.Sync(); err != nil {
		return err
	}
	if err := os.Link(f.TempName(), final); err != nil {
		return fmt.Errorf("commit %s: %w", final, err)
	}
	f.final = final
	if err := os.Remove(f.TempName()); err != nil {
		return fmt.Errorf("commit %s: %w", final, err)
	}
	syncDir(filepath.Dir(final))
	return nil
}

// Abort closes and removes the temporary file.
func (f *File) Abort() {
	if !f.done {
		f.File.Close()
		f.done = true
	}
	os.Remove(f.TempName())
}

// Rename renames from to to and syncs the directory, so the rename
// survives a power loss.
func Rename(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("rename %s: %w", from, err)
	}
	syncDir(filepath.Dir(to))
	return nil
}

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte) error {
	f, err := Create(path, ".")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return fmt.Errorf("write %s: %w", f.TempName(), err)
	}
	if err := f.Commit(); err != nil {
		f.Abort()
		return err
	}
	return nil
}

// MkdirAll creates dir and any missing parents, as os.MkdirAll does, and
// syncs the parent of each directory it created, so that the new names
// survive a power loss too.
func MkdirAll(dir string, perm os.FileMode) error {
	dir = filepath.Clean(dir)
	if err := MkdirAllSyncing(dir, perm, syncDir); err != nil {
		return fmt.Errorf("mkdir %s: %w", dir, err)
	}
	return nil
}

// MkdirAllSyncing is MkdirAll with the directory sync given (sync(d)
// makes the names created in d durable), and os.MkdirAll's error as it
// is.
func MkdirAllSyncing(dir string, perm os.FileMode, sync func(dir string)) error {
	var created []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		}
		created = append(created, d)
		if p := filepath.Dir(d); p == d {
			break
		}
	}
	if err := os.MkdirAll(dir, perm); err != nil {
		return err
	}
	for _, d := range created {
		sync(filepath.Dir(d))
	}
	return nil
}
