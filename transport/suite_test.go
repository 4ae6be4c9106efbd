package transport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// backend is one transport under the shared behaviour tests.
type backend struct {
	// open returns a fresh, empty transport, closed when the test ends.
	open func(t *testing.T) Transport
	// stored lists everything the backend holds, hidden temporary files and unfinished
	// uploads included, to check that failed writes leave nothing behind.
	stored func(t *testing.T, tr Transport) []string
	// keepsTempOnCancel: an interrupted Put may leave its hidden temporary file until
	// the next connection (SFTP).
	keepsTempOnCancel bool
	// hasDirs: directories exist (local, SFTP); on S3 a missing "dir" lists empty.
	hasDirs bool
}

// testBackend runs the behaviour every Transport must have.
func testBackend(t *testing.T, b backend) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, b) })
	t.Run("ListSortedFilesOnly", func(t *testing.T) { testList(t, b) })
	t.Run("MissingIsNotExist", func(t *testing.T) { testMissing(t, b) })
	t.Run("RenameRefusesToReplace", func(t *testing.T) { testRenameNoReplace(t, b) })
	t.Run("PutReplacesAtomically", func(t *testing.T) { testAtomicReplace(t, b) })
	t.Run("PutNewFileNeverSeenPartial", func(t *testing.T) { testAtomicNew(t, b) })
	t.Run("FailedPutLeavesNothing", func(t *testing.T) { testFailedPut(t, b) })
	t.Run("CancelledContext", func(t *testing.T) { testCancelled(t, b) })
	t.Run("CancelDuringPut", func(t *testing.T) { testCancelDuringPut(t, b) })
	t.Run("CancelDuringRead", func(t *testing.T) { testCancelDuringRead(t, b) })
	t.Run("InvalidPaths", func(t *testing.T) { testInvalidPaths(t, b) })
	t.Run("LargeStreamingPutFlatMemory", func(t *testing.T) { testLargePut(t, b) })
	t.Run("RemoveTempsRemovesOnlyPutsOwnTemporaryFiles", func(t *testing.T) { testRemoveTemps(t, b) })
	t.Run("ListOthersNamesWhatListLeavesOut", func(t *testing.T) { testListOthers(t, b) })
	t.Run("LinkIsNotAFile", func(t *testing.T) { testLinkIsNotAFile(t, b) })
}

// testLinkIsNotAFile: a symbolic link to a file (outside the root, as a
// sender could make one) is not a file to Stat, Open or Rename: its target
// is never read or moved.
func testLinkIsNotAFile(t *testing.T, b backend) {
	tr := b.open(t)
	var root string
	switch tr := tr.(type) {
	case *Local:
		root = tr.root
	case *SFTP:
		root = tr.base // the test server runs on this machine
	default:
		t.Skip("no links on this backend")
	}
	target := filepath.Join(t.TempDir(), "secret.csv")
	if err := os.WriteFile(target, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(root, "link.csv")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := tr.Stat(ctx, "link.csv"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Stat = %v, want fs.ErrInvalid", err)
	}
	if r, err := tr.Open(ctx, "link.csv"); !errors.Is(err, fs.ErrInvalid) {
		if err == nil {
			r.Close()
		}
		t.Errorf("Open = %v, want fs.ErrInvalid", err)
	}
	if err := tr.Rename(ctx, "link.csv", "moved.csv"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Rename = %v, want fs.ErrInvalid", err)
	}
	if fi, err := os.Lstat(filepath.Join(root, "link.csv")); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link did not stay: %v %v", fi, err)
	}
}

// testListOthers: a folder that List leaves out is named by ListOthers; files
// and Put's temporary files are not.
func testListOthers(t *testing.T, b backend) {
	tr := b.open(t)
	ol, ok := tr.(OtherLister)
	if !ok {
		t.Skip("no folders on this backend")
	}
	put(t, tr, "d/f.csv", "x")
	put(t, tr, "d/"+tempName("g.csv", "0123456789abcdef"), "x")
	if err := tr.MkdirAll(context.Background(), "d/sub.csv"); err != nil {
		t.Fatal(err)
	}
	others, err := ol.ListOthers(context.Background(), "d")
	if err != nil {
		t.Fatal(err)
	}
	if len(others) != 1 || others[0] != (Other{Path: "d/sub.csv", Kind: "folder"}) {
		t.Errorf("ListOthers = %+v, want the folder d/sub.csv only", others)
	}
}

// testRemoveTemps leaves files named like Put's temporary files (as a crash
// during a Put does) beside look-alikes, and checks that RemoveTemps removes
// exactly the former, in that folder only.
func testRemoveTemps(t *testing.T, b backend) {
	tr := b.open(t)
	tc, ok := tr.(TempCleaner)
	if !ok {
		t.Skip("no temporary files on this backend")
	}
	leftover := tempName("encounters-000000001.837", "0123456789abcdef")
	keep := []string{
		"out/encounters-000000001.837",
		"out/.encounters.837.calgw-tmp",                  // no random part
		"out/.encounters.837.0123456789ABCDEF.calgw-tmp", // not Put's hex
		"out/notes.0123456789abcdef.calgw-tmp",           // not hidden
		"other/" + leftover,                              // another folder
	}
	for _, p := range append([]string{"out/" + leftover}, keep...) {
		put(t, tr, p, "data")
	}
	removed, err := tc.RemoveTemps(context.Background(), "out")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, []string{"out/" + leftover}) {
		t.Errorf("removed %q, want only out/%s", removed, leftover)
	}
	if _, err := tr.Stat(context.Background(), "out/"+leftover); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("leftover still there: %v", err)
	}
	for _, p := range keep {
		if _, err := tr.Stat(context.Background(), p); err != nil {
			t.Errorf("%s: %v (must be kept)", p, err)
		}
	}
	if removed, err := tc.RemoveTemps(context.Background(), "missing"); err != nil || len(removed) != 0 {
		t.Errorf("missing folder: %q, %v", removed, err)
	}
}

func put(t *testing.T, tr Transport, p, content string) {
	t.Helper()
	if err := tr.Put(context.Background(), p, strings.NewReader(content)); err != nil {
		t.Fatalf("Put %s: %v", p, err)
	}
}

func read(t *testing.T, tr Transport, p string) string {
	t.Helper()
	r, err := tr.Open(context.Background(), p)
	if err != nil {
		t.Fatalf("Open %s: %v", p, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading %s: %v", p, err)
	}
	return string(b)
}

func paths(objs []Object) []string {
	var ps []string
	for _, o := range objs {
		ps = append(ps, o.Path)
	}
	return ps
}

func testRoundTrip(t *testing.T, b backend) {
	tr := b.open(t)
	ctx := context.Background()
	before := time.Now().Add(-2 * time.Minute)
	put(t, tr, "inbound/x.834", "ISA*00*~")
	if got := read(t, tr, "inbound/x.834"); got != "ISA*00*~" {
		t.Fatalf("read back %q", got)
	}
	obj, err := tr.Stat(ctx, "inbound/x.834")
	if err != nil {
		t.Fatal(err)
	}
	if obj.Path != "inbound/x.834" || obj.Size != 8 || obj.ModTime.Before(before) || obj.ModTime.After(time.Now().Add(2*time.Minute)) {
		t.Errorf("Stat = %+v", obj)
	}
	// Put replaces.
	put(t, tr, "inbound/x.834", "second")
	if got := read(t, tr, "inbound/x.834"); got != "second" {
		t.Fatalf("after second Put: %q", got)
	}
	// Claim, then archive into a folder that does not exist yet.
	if err := tr.Rename(ctx, "inbound/x.834", "inbound/x.834.work"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Rename(ctx, "inbound/x.834.work", "archive/2026/01/x.834"); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Stat(ctx, "inbound/x.834.work"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("source still there after Rename: %v", err)
	}
	if got := read(t, tr, "archive/2026/01/x.834"); got != "second" {
		t.Errorf("renamed file holds %q", got)
	}
	objs, err := tr.List(ctx, "archive/2026/01")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].Path != "archive/2026/01/x.834" || objs[0].Size != 6 || objs[0].Name() != "x.834" {
		t.Errorf("List archive = %+v", objs)
	}
	if err := tr.MkdirAll(ctx, "quarantine/a"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Remove(ctx, "archive/2026/01/x.834"); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Stat(ctx, "archive/2026/01/x.834"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat after Remove: %v", err)
	}
	// An empty file and a leading slash, which means the root too.
	put(t, tr, "/empty", "")
	if got := read(t, tr, "empty"); got != "" {
		t.Errorf("empty file read %q", got)
	}
}

func testList(t *testing.T, b backend) {
	tr := b.open(t)
	ctx := context.Background()
	for _, p := range []string{"in/b.csv", "in/a.csv", "in/c 1.csv", "in/sub/deep.csv", "other/z.csv", "in/A.csv"} {
		put(t, tr, p, p)
	}
	objs, err := tr.List(ctx, "in")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"in/A.csv", "in/a.csv", "in/b.csv", "in/c 1.csv"}
	if !slices.Equal(paths(objs), want) {
		t.Errorf("List(in) = %q, want %q (sorted, files directly in it only)", paths(objs), want)
	}
	for _, o := range objs {
		if o.Size != int64(len(o.Path)) {
			t.Errorf("%s: size %d, want %d", o.Path, o.Size, len(o.Path))
		}
	}
	root, err := tr.List(ctx, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(root) != 0 {
		t.Errorf("List(.) = %q, want no files (only folders)", paths(root))
	}
	sub, err := tr.List(ctx, "/in/sub/")
	if err != nil || !slices.Equal(paths(sub), []string{"in/sub/deep.csv"}) {
		t.Errorf("List(/in/sub/) = %q, %v", paths(sub), err)
	}
	empty, err := tr.List(ctx, "nothing-here")
	if b.hasDirs {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("List of a missing folder: %v, want fs.ErrNotExist", err)
		}
	} else if err != nil || len(empty) != 0 {
		t.Errorf("List of a missing prefix = %q, %v; want nothing", paths(empty), err)
	}
}

func testMissing(t *testing.T, b backend) {
	tr := b.open(t)
	ctx := context.Background()
	put(t, tr, "present", "x")
	checks := map[string]func() error{
		"Stat":   func() error { _, err := tr.Stat(ctx, "dir/missing"); return err },
		"Open":   func() error { _, err := tr.Open(ctx, "missing"); return err },
		"Remove": func() error { return tr.Remove(ctx, "missing") },
		"Rename": func() error { return tr.Rename(ctx, "missing", "elsewhere") },
	}
	for name, check := range checks {
		err := check()
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s of a missing file: %v, want fs.ErrNotExist", name, err)
			continue
		}
		if IsTransient(err) {
			t.Errorf("%s: a missing file is not transient", name)
		}
		var te *Error
		if !errors.As(err, &te) || te.Path == "" || !strings.Contains(err.Error(), "missing") {
			t.Errorf("%s: error %q does not name the path", name, err)
		}
	}
	if _, err := tr.Stat(ctx, "elsewhere"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed Rename created its destination: %v", err)
	}
}

func testRenameNoReplace(t *testing.T, b backend) {
	tr := b.open(t)
	ctx := context.Background()
	put(t, tr, "in/a", "from")
	put(t, tr, "work/a", "already claimed")
	err := tr.Rename(ctx, "in/a", "work/a")
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Rename onto an existing file: %v, want fs.ErrExist", err)
	}
	if IsTransient(err) {
		t.Error("an existing destination is not transient")
	}
	if got := read(t, tr, "work/a"); got != "already claimed" {
		t.Errorf("destination was replaced: %q", got)
	}
	if got := read(t, tr, "in/a"); got != "from" {
		t.Errorf("source changed: %q", got)
	}
}

// slowReader yields size bytes of fill in chunks, pausing between them so that a
// concurrent observer gets to look while a Put is under way.
type slowReader struct {
	left  int
	chunk int
	fill  byte
	pause time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.chunk, r.left)
	for i := range p[:n] {
		p[i] = r.fill
	}
	r.left -= n
	time.Sleep(r.pause)
	return n, nil
}

// watch calls look repeatedly until stop is closed and returns how many times it ran.
func watch(stop <-chan struct{}, look func()) int {
	for n := 0; ; n++ {
		select {
		case <-stop:
			return n
		default:
		}
		look()
	}
}

// homogeneous checks that content is size bytes of fill.
func homogeneous(content []byte, size int, fill byte) bool {
	return len(content) == size && bytes.Count(content, []byte{fill}) == size
}

func testAtomicReplace(t *testing.T, b backend) {
	tr := b.open(t)
	ctx := context.Background()
	const oldSize, newSize = 1 << 20, 6 << 20
	if err := tr.Put(ctx, "out/f.837", &slowReader{left: oldSize, chunk: 1 << 20, fill: 'a'}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var sawNew atomic.Bool
	var looks int
	var mu sync.Mutex
	var problems []string
	report := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		looks = watch(stop, func() {
			objs, err := tr.List(ctx, "out")
			if err != nil {
				report("List: %v", err)
				return
			}
			if len(objs) != 1 || objs[0].Path != "out/f.837" || (objs[0].Size != oldSize && objs[0].Size != newSize) {
				report("List saw %+v", objs)
			}
			r, err := tr.Open(ctx, "out/f.837")
			if err != nil {
				report("Open: %v", err)
				return
			}
			content, err := io.ReadAll(r)
			r.Close()
			switch {
			case err != nil:
				report("read: %v", err)
			case homogeneous(content, newSize, 'b'):
				sawNew.Store(true)
			case !homogeneous(content, oldSize, 'a'):
				report("read %d bytes, neither the old file nor the new one", len(content))
			}
		})
	}()
	err := tr.Put(ctx, "out/f.837", &slowReader{left: newSize, chunk: 128 << 10, fill: 'b', pause: 5 * time.Millisecond})
	// Let the watcher see the new file too, for a while.
	for deadline := time.Now().Add(10 * time.Second); !sawNew.Load() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	if looks < 3 {
		t.Fatalf("the watcher looked only %d times during the Put", looks)
	}
	if !sawNew.Load() {
		t.Error("the watcher never saw the new file")
	}
}

func testAtomicNew(t *testing.T, b backend) {
	tr := b.open(t)
	ctx := context.Background()
	const size = 6 << 20
	stop := make(chan struct{})
	var looks, partial, absent atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		looks.Store(int64(watch(stop, func() {
			objs, err := tr.List(ctx, "out")
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("List: %v", err)
				return
			}
			if len(objs) == 0 {
				absent.Add(1)
			}
			for _, o := range objs {
				if o.Path != "out/new.837" || o.Size != size {
					partial.Add(1)
				}
			}
			if o, err := tr.Stat(ctx, "out/new.837"); err == nil && o.Size != size {
				partial.Add(1)
			}
		})))
	}()
	err := tr.Put(ctx, "out/new.837", &slowReader{left: size, chunk: 128 << 10, fill: 'n', pause: 5 * time.Millisecond})
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if partial.Load() > 0 {
		t.Errorf("a partial or temporary file was visible %d times", partial.Load())
	}
	if absent.Load() < 3 {
		t.Fatalf("the watcher saw the folder without the file only %d times (of %d)", absent.Load(), looks.Load())
	}
	if got, _ := tr.Stat(ctx, "out/new.837"); got.Size != size {
		t.Errorf("final size %d", got.Size)
	}
}

var errReaderBroke = errors.New("reader broke")

// failingReader yields n bytes, then fails.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errReaderBroke
	}
	n := min(len(p), r.n)
	clear(p[:n])
	r.n -= n
	return n, nil
}

func testFailedPut(t *testing.T, b backend) {
	for _, n := range []int{0, 100, 7 << 20} { // nothing, less than a part, more than a part
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			tr := b.open(t)
			ctx := context.Background()
			put(t, tr, "out/keep", "kept")
			err := tr.Put(ctx, "out/f.837", &failingReader{n: n})
			if !errors.Is(err, errReaderBroke) {
				t.Fatalf("Put: %v, want the reader's error", err)
			}
			if _, err := tr.Stat(ctx, "out/f.837"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a failed Put left a file: Stat = %v", err)
			}
			if got := b.stored(t, tr); !slices.Equal(got, []string{"out/keep"}) {
				t.Errorf("stored after a failed Put: %q, want only out/keep", got)
			}
			// Replacing: the old file survives a failed Put.
			if err := tr.Put(ctx, "out/keep", &failingReader{n: n}); !errors.Is(err, errReaderBroke) {
				t.Fatalf("Put: %v", err)
			}
			if got := read(t, tr, "out/keep"); got != "kept" {
				t.Errorf("a failed Put changed the existing file to %d bytes", len(got))
			}
		})
	}
}

func testCancelled(t *testing.T, b backend) {
	tr := b.open(t)
	put(t, tr, "f", "content")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ops := map[string]func() error{
		"List":     func() error { _, err := tr.List(ctx, "."); return err },
		"Stat":     func() error { _, err := tr.Stat(ctx, "f"); return err },
		"Open":     func() error { _, err := tr.Open(ctx, "f"); return err },
		"Put":      func() error { return tr.Put(ctx, "g", strings.NewReader("x")) },
		"Rename":   func() error { return tr.Rename(ctx, "f", "h") },
		"Remove":   func() error { return tr.Remove(ctx, "f") },
		"MkdirAll": func() error { return tr.MkdirAll(ctx, "d") },
	}
	for name, op := range ops {
		if name == "MkdirAll" && !b.hasDirs {
			continue // a no-op without I/O on S3
		}
		err := op()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v", name, err)
		}
		if IsTransient(err) {
			t.Errorf("%s: cancellation is not transient", name)
		}
	}
	// Nothing happened, and the transport still works.
	if got := read(t, tr, "f"); got != "content" {
		t.Errorf("f = %q", got)
	}
	if _, err := tr.Stat(context.Background(), "g"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("cancelled Put wrote g: %v", err)
	}
}

// cancelAfter yields zeros and cancels its context once n bytes are read, then keeps
// yielding data, as a slow source would.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (r *cancelAfter) Read(p []byte) (int, error) {
	if r.n <= 0 {
		r.cancel()
		time.Sleep(time.Millisecond)
	}
	clear(p)
	r.n -= len(p)
	return len(p), nil
}

func testCancelDuringPut(t *testing.T, b backend) {
	tr := b.open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	err := tr.Put(ctx, "out/big", &cancelAfter{n: 12 << 20, cancel: cancel})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put: %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("cancelled Put took %v", d)
	}
	bg := context.Background()
	if _, err := tr.Stat(bg, "out/big"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a cancelled Put left a file: %v", err)
	}
	// The transport works again (SFTP reconnects) and, where the backend keeps the
	// temporary file, the next connection removes it.
	put(t, tr, "out/after", "ok")
	if got := b.stored(t, tr); !slices.Equal(got, []string{"out/after"}) {
		t.Errorf("stored after a cancelled Put and a new one: %q", got)
	}
}

func testCancelDuringRead(t *testing.T, b backend) {
	tr := b.open(t)
	put(t, tr, "big", strings.Repeat("x", 4<<20))
	ctx, cancel := context.WithCancel(context.Background())
	r, err := tr.Open(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = io.Copy(io.Discard, r)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("reading after cancel: %v, want context.Canceled", err)
	}
	if got := read(t, tr, "big"); len(got) != 4<<20 {
		t.Errorf("read %d bytes after the cancelled read", len(got))
	}
}

func testInvalidPaths(t *testing.T, b backend) {
	tr := b.open(t)
	ctx := context.Background()
	for _, p := range []string{"../escape", "a/../../escape", "..", "a/\x00b"} {
		err := tr.Put(ctx, p, strings.NewReader("x"))
		if !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Put %q: %v, want fs.ErrInvalid", p, err)
		}
		if _, err := tr.List(ctx, p); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("List %q: %v, want fs.ErrInvalid", p, err)
		}
	}
	if got := b.stored(t, tr); len(got) != 0 {
		t.Errorf("stored after refused paths: %q", got)
	}
}

// patternReader generates size bytes of a non-repeating pattern (xorshift, 8 bytes at
// a time) and hashes them.
type patternReader struct {
	left  int64
	state uint64
	buf   [8]byte
	h     hash.Hash
}

func newPatternReader(size int64) *patternReader {
	return &patternReader{left: size, state: 0x9E3779B97F4A7C15, h: sha256.New()}
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), r.left))
	for i := 0; i < n; i += 8 {
		r.state ^= r.state << 13
		r.state ^= r.state >> 7
		r.state ^= r.state << 17
		binary.LittleEndian.PutUint64(r.buf[:], r.state)
		copy(p[i:n], r.buf[:])
	}
	r.h.Write(p[:n])
	r.left -= int64(n)
	return n, nil
}

// heapPeak samples HeapInuse until stop is called and returns the peak.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

func testLargePut(t *testing.T, b backend) {
	if testing.Short() {
		t.Skip("64 MiB transfer; skipped with -short")
	}
	tr := b.open(t)
	ctx := context.Background()
	const size = 64 << 20
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	stop := heapPeak()
	src := newPatternReader(size)
	err := tr.Put(ctx, "big/64MiB.dat", src)
	peak := stop()
	if err != nil {
		t.Fatal(err)
	}
	growth := int64(peak) - int64(base.HeapInuse)
	t.Logf("heap in use grew by %.1f MiB while putting %d MiB", float64(growth)/(1<<20), size>>20)
	// Buffering the file would grow the heap by 64 MiB or more; one S3 part (16 MiB) plus
	// transfer buffers and garbage stays well under half of it.
	if growth > size/2 {
		t.Errorf("heap grew by %d MiB during a %d MiB Put: not streaming", growth>>20, size>>20)
	}
	obj, err := tr.Stat(ctx, "big/64MiB.dat")
	if err != nil || obj.Size != size {
		t.Fatalf("Stat = %+v, %v", obj, err)
	}
	r, err := tr.Open(ctx, "big/64MiB.dat")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := sha256.New()
	if n, err := io.Copy(h, r); err != nil || n != size {
		t.Fatalf("read back %d bytes, %v", n, err)
	}
	if !bytes.Equal(h.Sum(nil), src.h.Sum(nil)) {
		t.Fatal("content read back differs from what was put")
	}
}
