package transport

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// walkFiles lists every file under root, hidden ones included, as sorted slash paths.
func walkFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

func newLocal(t *testing.T) *Local {
	t.Helper()
	l, err := NewLocal(LocalConfig{Dir: filepath.Join(t.TempDir(), "root")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestLocal(t *testing.T) {
	testBackend(t, backend{
		open:    func(t *testing.T) Transport { return newLocal(t) },
		stored:  func(t *testing.T, tr Transport) []string { return walkFiles(t, tr.(*Local).Root()) },
		hasDirs: true,
	})
}

func TestLocalPutFileModeAndNoTempLeft(t *testing.T) {
	l := newLocal(t)
	put(t, l, "out/f", "x")
	info, err := os.Stat(filepath.Join(l.Root(), "out", "f"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 (files may hold PHI)", info.Mode().Perm())
	}
	if got := walkFiles(t, l.Root()); !slices.Equal(got, []string{"out/f"}) {
		t.Errorf("files on disk: %q", got)
	}
}

// A configured file_mode is what delivered files get, whatever the umask;
// a mode the gateway could not read and write back is refused.
func TestLocalConfiguredFileMode(t *testing.T) {
	l, err := NewLocal(LocalConfig{Dir: t.TempDir(), FileMode: "0640"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	put(t, l, "f", "x")
	if info, err := os.Stat(filepath.Join(l.Root(), "f")); err != nil || info.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v %v, want 0640", info.Mode().Perm(), err)
	}
	for _, bad := range []string{"0400", "644x", "01777", "rw"} {
		if _, err := NewLocal(LocalConfig{Dir: t.TempDir(), FileMode: bad}); err == nil || !strings.Contains(err.Error(), "file_mode") {
			t.Errorf("file_mode %q: %v", bad, err)
		}
	}
}

func TestLocalListHidesPutTempFiles(t *testing.T) {
	l := newLocal(t)
	os.WriteFile(filepath.Join(l.Root(), tempName("f.834", "0123456789abcdef")), []byte("partial"), 0o600)
	put(t, l, "f.834", "whole")
	objs, err := l.List(context.Background(), ".")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(paths(objs), []string{"f.834"}) {
		t.Errorf("List = %q, want only f.834", paths(objs))
	}
}

// Several claimers race to rename the same file to their own names: exactly one wins,
// as with two gateway instances claiming one inbound file.
func TestLocalRenameClaimRace(t *testing.T) {
	l := newLocal(t)
	for round := range 20 {
		put(t, l, "in/f", "x")
		var wg sync.WaitGroup
		wins := make(chan string, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				to := filepath.Join("work", "f."+string(rune('a'+i)))
				if err := l.Rename(context.Background(), "in/f", to); err == nil {
					wins <- to
				} else if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("round %d: losing claim failed with %v, want fs.ErrNotExist", round, err)
				}
			}()
		}
		wg.Wait()
		close(wins)
		var won []string
		for w := range wins {
			won = append(won, w)
		}
		if len(won) != 1 {
			t.Fatalf("round %d: %d claims won: %q", round, len(won), won)
		}
		if err := l.Remove(context.Background(), won[0]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLocalRefusesDirectoriesAsFiles(t *testing.T) {
	l := newLocal(t)
	ctx := context.Background()
	if err := l.MkdirAll(ctx, "d/e"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Stat(ctx, "d"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Stat of a folder: %v", err)
	}
	if _, err := l.Open(ctx, "d"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Open of a folder: %v", err)
	}
	if err := l.Remove(ctx, "d"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Remove of a folder: %v", err)
	}
	if err := l.Put(ctx, ".", nil); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Put of the root: %v", err)
	}
}

func TestLocalErrorNamesLocation(t *testing.T) {
	l := newLocal(t)
	_, err := l.Open(context.Background(), "in/missing.834")
	want := "local open " + filepath.Join(l.Root(), "in", "missing.834") + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// TestLocalNewFoldersAreSynced: a Put or Rename into folders it creates
// syncs the folder that received each new one, as well as the file's own
// folder, so that after a power loss the file is not lost with a folder
// entry that never reached the disk.
func TestLocalNewFoldersAreSynced(t *testing.T) {
	l := newLocal(t)
	var synced []string
	prev := syncDir
	syncDir = func(d string) { synced = append(synced, d); prev(d) }
	t.Cleanup(func() { syncDir = prev })
	root := l.Root()
	has := func(what string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !slices.Contains(synced, w) {
				t.Errorf("%s: %s not synced (synced %v)", what, w, synced)
			}
		}
	}
	put(t, l, "out/dhcs/f.837", "x")
	has("put", root, filepath.Join(root, "out"), filepath.Join(root, "out", "dhcs"))
	synced = nil
	if err := l.Rename(context.Background(), "out/dhcs/f.837", "archive/2026/f.837"); err != nil {
		t.Fatal(err)
	}
	has("rename", root, filepath.Join(root, "archive"), filepath.Join(root, "archive", "2026"), filepath.Join(root, "out", "dhcs"))
}
