// Package transport moves files between the gateway and the places they are dropped:
// a local folder (the default), SFTP servers and S3 buckets.
//
// Every backend serves the same small interface, Transport. Paths are slash-separated
// and relative to the backend's root (the local folder, the SFTP base directory or the
// S3 bucket and prefix); "." is the root itself and ".." may not leave it.
//
// Guarantees the daemon relies on:
//   - Put is atomic: a reader sees the old file, no file, or the whole new file, never a
//     part of it. Local and SFTP write a hidden temporary file in the same directory and
//     rename it; S3 makes the object visible only when PutObject or
//     CompleteMultipartUpload succeeds. A Put that fails leaves no file under the final
//     name. Put streams: memory stays flat whatever the size.
//   - Rename does not replace an existing file: it fails with an error wrapping
//     fs.ErrExist (local: renameat2 RENAME_NOREPLACE; SFTP: the protocol's rename, which
//     OpenSSH implements with link+unlink; S3: a check before the copy, see NewS3).
//   - A missing file gives an error wrapping fs.ErrNotExist on every backend.
//   - A symbolic link is not a file: Stat, Open and Rename refuse one with an error
//     wrapping fs.ErrInvalid and never reach its target (SFTP, which cannot open
//     without following, looks just before the open).
//   - Errors are *Error values naming the backend, the operation and the location;
//     IsTransient tells the ones worth retrying.
package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// Object describes a file.
type Object struct {
	Path    string    // slash-separated, relative to the transport's root
	Size    int64     // bytes
	ModTime time.Time // last modification, as the backend reports it
	ETag    string    // S3 entity tag without quotes; empty on other backends
}

// Name returns the last element of the object's path.
func (o Object) Name() string { return path.Base(o.Path) }

// Transport is a place files are listed, read, written and moved.
// Implementations are safe for concurrent use.
type Transport interface {
	// List returns the files directly in dir (not in its subdirectories), sorted by
	// name. Directories and Put's own temporary files are left out. On local and SFTP a
	// missing dir is an error wrapping fs.ErrNotExist; S3 has no directories and lists
	// nothing.
	List(ctx context.Context, dir string) ([]Object, error)
	// Stat describes one file.
	Stat(ctx context.Context, path string) (Object, error)
	// Open streams a file's content. ctx governs the reads as well: cancel it and
	// Read fails.
	Open(ctx context.Context, path string) (io.ReadCloser, error)
	// Put writes r to path atomically, creating missing parent directories and
	// replacing an existing file. It streams r; if r fails, so does Put, and no file
	// appears under path.
	Put(ctx context.Context, path string, r io.Reader) error
	// Rename moves a file, creating missing parent directories of to. It fails with an
	// error wrapping fs.ErrExist when to exists.
	Rename(ctx context.Context, from, to string) error
	// Remove deletes a file.
	Remove(ctx context.Context, path string) error
	// MkdirAll creates dir and its missing parents. A no-op on S3.
	MkdirAll(ctx context.Context, dir string) error
	// Close releases the connection, if any.
	Close() error
}

// Error records a failed operation with where it happened. Its message never holds
// secrets.
type Error struct {
	Transport string // "local", "sftp" or "s3"
	Op        string // "list", "stat", "open", "read", "put", "rename", "remove", "mkdir", "connect"
	Location  string // where: a folder, user@host:port/dir or s3://bucket/prefix, with the path
	Path      string // the path as given to the operation, relative to the root
	Err       error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s %s: %v", e.Transport, e.Op, e.Location, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Errors that are never transient. Test with errors.Is.
var (
	ErrAuth    = errors.New("authentication failed")
	ErrHostKey = errors.New("host key verification failed")
)

// tempSuffix ends the names of the temporary files Put writes on local and SFTP
// backends; List leaves such files out.
const tempSuffix = ".calgw-tmp"

// isTemp reports whether name is one of Put's temporary files.
func isTemp(name string) bool { return strings.HasSuffix(name, tempSuffix) }

// IsTempName reports whether name is exactly of the pattern of Put's temporary
// files on local and SFTP backends: ".NAME.<16 lowercase hex digits>.calgw-tmp",
// NAME being the first 100 bytes of the file's name. Receivers of delivered files
// should ignore such names; TempCleaner removes only them.
func IsTempName(name string) bool {
	rest, ok := strings.CutSuffix(name, tempSuffix)
	if !ok || !strings.HasPrefix(rest, ".") || len(rest) < 1+1+1+16 {
		return false
	}
	random := rest[len(rest)-16:]
	if rest[len(rest)-17] != '.' {
		return false
	}
	for _, c := range random {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// TempCleaner is implemented by the backends whose Put writes a temporary file
// first (local and SFTP): a crash during a Put leaves it behind.
type TempCleaner interface {
	// RemoveTemps deletes the temporary files (IsTempName) directly in dir and
	// returns their paths. Other files are never touched; a missing dir is no error.
	RemoveTemps(ctx context.Context, dir string) ([]string, error)
}

// Other is an entry of a folder that List leaves out and that is not one of Put's
// temporary files: a folder, a symbolic link, a named pipe, a socket or a device.
type Other struct {
	Path string
	Kind string // "folder", "symlink", "fifo", "socket", "device", "other"
}

// OtherLister is implemented by the backends with folders of their own (local and
// SFTP), so that the daemon can tell an operator about what it will not take.
type OtherLister interface {
	// ListOthers returns the entries directly in dir that List leaves out, other than
	// Put's temporary files, sorted by path.
	ListOthers(ctx context.Context, dir string) ([]Other, error)
}

// otherKind names a non-regular file mode for Other.
func otherKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "folder"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "other"
}

// tempName returns a hidden temporary name for a Put of name, in the same directory.
func tempName(name, random string) string {
	if len(name) > 100 {
		name = name[:100]
	}
	return "." + name + "." + random + tempSuffix
}

// cleanPath turns a caller's path into a clean slash-separated path relative to the
// root: "." for the root itself. A leading slash is ignored; ".." is refused rather than
// resolved, so no path leaves the root.
func cleanPath(p string) (string, error) {
	if slices.Contains(strings.Split(p, "/"), "..") || strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("invalid path %q: %w", p, fs.ErrInvalid)
	}
	c := path.Clean("/" + p)[1:]
	if c == "" {
		c = "."
	}
	return c, nil
}

// ctxReader fails reads once its context is done, so a long copy stops promptly.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// sortObjects sorts by path; backends list in name order already but not all promise it.
func sortObjects(objs []Object) {
	slices.SortFunc(objs, func(a, b Object) int { return strings.Compare(a.Path, b.Path) })
}
