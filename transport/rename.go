package transport

import (
	"errors"
	"io/fs"
	"os"
)

// renameCheckFirst renames from to to unless to exists. Not atomic: a file created at
// to between the check and the rename is replaced.
func renameCheckFirst(from, to string) error {
	if _, err := os.Lstat(to); err == nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: fs.ErrExist}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Rename(from, to)
}
