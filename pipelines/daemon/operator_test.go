package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/transport"
)

// An error of the setup (credentials, host key, permission, the gateway's
// own disk) does not count against the file; the file's own errors do.
func TestNeedsOperator(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("write work/3/in/a.csv: %w", syscall.ENOSPC), true},
		{&fs.PathError{Op: "write", Path: "work/3/out/x.837", Err: syscall.EDQUOT}, true},
		{&fs.PathError{Op: "open", Path: "work/3/in/a.csv", Err: syscall.EROFS}, true},
		{&fs.PathError{Op: "read", Path: "work/3/in/a.csv", Err: syscall.EIO}, true},
		{fmt.Errorf("sftp: %w", transport.ErrAuth), true},
		{fmt.Errorf("sftp: %w", transport.ErrHostKey), true},
		{&fs.PathError{Op: "open", Path: "inbox/a.csv", Err: fs.ErrPermission}, true},
		{errors.New("row 7: not an invoice"), false},
		{&fs.PathError{Op: "open", Path: "inbox/a.csv", Err: fs.ErrNotExist}, false},
		{fmt.Errorf("rename: %w", syscall.ENAMETOOLONG), false},
	} {
		if got := needsOperator(tt.err); got != tt.want {
			t.Errorf("needsOperator(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
