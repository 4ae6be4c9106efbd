package transport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
)

// LocalConfig configures a folder on this machine.
type LocalConfig struct {
	Dir string `yaml:"dir"` // root folder; created if missing
	// FileMode is the mode of the files Put writes, in octal; default
	// "0600": they may hold PHI, so only the gateway's user reads them
	// unless the receiving side needs a group ("0640").
	FileMode string `yaml:"file_mode"`
}

// Validate checks the configuration without touching the disk.
func (c *LocalConfig) Validate() error {
	if c.Dir == "" {
		return errors.New("local: dir is required")
	}
	if _, err := parseFileMode(c.FileMode); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	return nil
}

// DefaultFileMode is the mode of delivered files unless configured.
const DefaultFileMode fs.FileMode = 0o600

// parseFileMode reads a file_mode setting ("" = DefaultFileMode).
func parseFileMode(s string) (fs.FileMode, error) {
	if s == "" {
		return DefaultFileMode, nil
	}
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o777 || m&0o600 != 0o600 {
		return 0, fmt.Errorf("file_mode %q: want an octal mode the gateway can read and write, such as 0600 or 0640", s)
	}
	return fs.FileMode(m), nil
}

// Local is a Transport over a folder of the local file system.
type Local struct {
	root string // absolute
	mode fs.FileMode
}

// NewLocal returns a Transport rooted at cfg.Dir, creating the folder if needed.
func NewLocal(cfg LocalConfig) (*Local, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	root, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, &Error{"local", "connect", cfg.Dir, ".", err}
	}
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, &Error{"local", "connect", root, ".", unwrapPathError(err)}
	}
	mode, _ := parseFileMode(cfg.FileMode) // checked by Validate
	return &Local{root: root, mode: mode}, nil
}

// Root returns the absolute folder the transport serves.
func (l *Local) Root() string { return l.root }

func (l *Local) resolve(op, p string) (string, string, error) {
	c, err := cleanPath(p)
	if err != nil {
		return "", "", &Error{"local", op, l.root, p, err}
	}
	return c, filepath.Join(l.root, filepath.FromSlash(c)), nil
}

func (l *Local) fail(op, p, full string, err error) error {
	return &Error{"local", op, full, p, unwrapPathError(err)}
}

// unwrapPathError drops the os package's own path wrapper, since Error names the path.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// readDir resolves dir for op and reads its entries; a read error is
// reported as a failed list.
func (l *Local) readDir(ctx context.Context, op, dir string) (rel, full string, entries []os.DirEntry, err error) {
	if rel, full, err = l.resolve(op, dir); err != nil {
		return "", "", nil, err
	}
	if err := ctx.Err(); err != nil {
		return "", "", nil, l.fail(op, dir, full, err)
	}
	if entries, err = os.ReadDir(full); err != nil {
		return "", "", nil, l.fail("list", dir, full, err)
	}
	return rel, full, entries, nil
}

func (l *Local) List(ctx context.Context, dir string) ([]Object, error) {
	rel, full, entries, err := l.readDir(ctx, "list", dir)
	if err != nil {
		return nil, err
	}
	objs := make([]Object, 0, len(entries))
	for _, e := range entries {
		if !e.Type().IsRegular() || isTemp(e.Name()) {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // renamed or removed since ReadDir
		}
		if err != nil {
			return nil, l.fail("list", dir, full, err)
		}
		objs = append(objs, Object{Path: path.Join(rel, e.Name()), Size: info.Size(), ModTime: info.ModTime()})
	}
	sortObjects(objs)
	return objs, nil
}

func (l *Local) Stat(ctx context.Context, p string) (Object, error) {
	rel, full, err := l.resolve("stat", p)
	if err != nil {
		return Object{}, err
	}
	if err := ctx.Err(); err != nil {
		return Object{}, l.fail("stat", p, full, err)
	}
	info, err := os.Lstat(full) // a link is not a file here, wherever it points
	if err != nil {
		return Object{}, l.fail("stat", p, full, err)
	}
	if !info.Mode().IsRegular() {
		return Object{}, l.fail("stat", p, full, errNotFile)
	}
	return Object{Path: rel, Size: info.Size(), ModTime: info.ModTime()}, nil
}

// errNotFile is returned for a directory or other non-file where a file is expected.
var errNotFile = fmt.Errorf("not a regular file: %w", fs.ErrInvalid)

func (l *Local) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	_, full, err := l.resolve("open", p)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, l.fail("open", p, full, err)
	}
	f, err := os.OpenFile(full, os.O_RDONLY|syscall.O_NOFOLLOW, 0) // a link is not followed
	if errors.Is(err, syscall.ELOOP) {
		err = errNotFile
	}
	if err != nil {
		return nil, l.fail("open", p, full, err)
	}
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = errNotFile
		}
		return nil, l.fail("open", p, full, err)
	}
	return &localReader{ctx: ctx, f: f, l: l, p: p, full: full}, nil
}

type localReader struct {
	ctx     context.Context
	f       *os.File
	l       *Local
	p, full string
}

func (r *localReader) Read(b []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, r.l.fail("read", r.p, r.full, err)
	}
	n, err := r.f.Read(b)
	if err != nil && err != io.EOF {
		err = r.l.fail("read", r.p, r.full, err)
	}
	return n, err
}

func (r *localReader) Close() error { return r.f.Close() }

func (l *Local) Put(ctx context.Context, p string, r io.Reader) error {
	rel, full, err := l.resolve("put", p)
	if err != nil {
		return err
	}
	if rel == "." {
		return l.fail("put", p, full, errNotFile)
	}
	if err := l.put(ctx, full, r); err != nil {
		return l.fail("put", p, full, err)
	}
	return nil
}

func (l *Local) put(ctx context.Context, full string, r io.Reader) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Dir(full)
	if err := mkdirAll(dir); err != nil {
		return err
	}
	tmp := filepath.Join(dir, tempName(filepath.Base(full), randomHex()))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, l.mode)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(l.mode); err != nil { // the umask may have narrowed a configured mode
		return err
	}
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Rename(tmp, full); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. Best effort: not every system can sync a directory.
var syncDir = func(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// mkdirAll creates dir and its missing parents, and syncs the folder that
// received each new one: a file renamed into a new folder is durable only
// with the folder's own entry.
func mkdirAll(dir string) error { return atomicfile.MkdirAllSyncing(dir, 0o750, syncDir) }

// ListOthers returns the folders, links, pipes and the like directly in dir.
func (l *Local) ListOthers(ctx context.Context, dir string) ([]Other, error) {
	rel, _, entries, err := l.readDir(ctx, "list", dir)
	if err != nil {
		return nil, err
	}
	var out []Other
	for _, e := range entries {
		if e.Type().IsRegular() || isTemp(e.Name()) {
			continue
		}
		out = append(out, Other{Path: path.Join(rel, e.Name()), Kind: otherKind(e.Type())})
	}
	return out, nil
}

// RemoveTemps deletes Put's temporary files left directly in dir.
func (l *Local) RemoveTemps(ctx context.Context, dir string) ([]string, error) {
	rel, full, entries, err := l.readDir(ctx, "remove", dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !IsTempName(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(full, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, l.fail("remove", path.Join(rel, e.Name()), filepath.Join(full, e.Name()), err)
		}
		removed = append(removed, path.Join(rel, e.Name()))
	}
	return removed, nil
}

func randomHex() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (l *Local) Rename(ctx context.Context, from, to string) error {
	_, fullFrom, err := l.resolve("rename", from)
	if err != nil {
		return err
	}
	relTo, fullTo, err := l.resolve("rename", to)
	if err != nil {
		return err
	}
	loc := fullFrom + " -> " + fullTo
	if err := ctx.Err(); err != nil {
		return l.fail("rename", from, loc, err)
	}
	if relTo == "." {
		return l.fail("rename", from, loc, fs.ErrExist)
	}
	if info, err := os.Lstat(fullFrom); err != nil || !info.Mode().IsRegular() {
		if err == nil {
			err = errNotFile
		}
		return l.fail("rename", from, loc, err)
	}
	if err := mkdirAll(filepath.Dir(fullTo)); err != nil {
		return l.fail("rename", from, loc, err)
	}
	if err := renameNoReplace(fullFrom, fullTo); err != nil {
		return l.fail("rename", from, loc, err)
	}
	syncDir(filepath.Dir(fullTo))
	if filepath.Dir(fullTo) != filepath.Dir(fullFrom) {
		syncDir(filepath.Dir(fullFrom))
	}
	return nil
}

func (l *Local) Remove(ctx context.Context, p string) error {
	_, full, err := l.resolve("remove", p)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return l.fail("remove", p, full, err)
	}
	if info, err := os.Lstat(full); err != nil || info.IsDir() {
		if err == nil {
			err = errNotFile
		}
		return l.fail("remove", p, full, err)
	}
	if err := os.Remove(full); err != nil {
		return l.fail("remove", p, full, err)
	}
	return nil
}

func (l *Local) MkdirAll(ctx context.Context, dir string) error {
	_, full, err := l.resolve("mkdir", dir)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return l.fail("mkdir", dir, full, err)
	}
	if err := mkdirAll(full); err != nil {
		return l.fail("mkdir", dir, full, err)
	}
	return nil
}

func (l *Local) Close() error { return nil }
