package transport

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"slices"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/pkg/sftp"
)

// IsTransient reports whether err is worth retrying later, with backoff: the network
// failed, a connection was lost, an operation timed out, or an S3 server said it is busy
// or failing. Configuration and data problems are permanent: authentication failure,
// host key mismatch, a missing or existing file, a permission denied, an invalid path,
// and cancellation by the caller.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	for _, permanent := range []error{
		ErrAuth, ErrHostKey, fs.ErrNotExist, fs.ErrExist, fs.ErrPermission, fs.ErrInvalid,
		context.Canceled,
	} {
		if errors.Is(err, permanent) {
			return false
		}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTimeout || dnsErr.IsTemporary
	}
	// syscall.Errno satisfies net.Error, so every file system's answer would count as the
	// network's: outside a network operation, an errno is transient only when it is one
	// of the network's or says so itself (EINTR, EAGAIN, ...), not ENAMETOOLONG, EROFS.
	var op *net.OpError
	var errno syscall.Errno
	if !errors.As(err, &op) && errors.As(err, &errno) {
		return errno.Temporary() || slices.Contains(transientErrnos, errno)
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, sftp.ErrSSHFxConnectionLost),
		errors.Is(err, sftp.ErrSSHFxNoConnection),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ETIMEDOUT),
		errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, net.ErrClosed),
		errors.As(err, &netErr):
		return true
	}
	var lost *connLostError
	if errors.As(err, &lost) {
		return true
	}
	// S3 (and any AWS SDK) errors: throttling, 5xx, broken responses. The SDK has already
	// retried these a few times before giving up.
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// transientErrnos are the errnos of a network that may come back.
var transientErrnos = []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
	syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH}

// connLostError marks an error after which a connection is gone, such as io.EOF while
// reading an SSH stream; it is transient.
type connLostError struct{ err error }

func (e *connLostError) Error() string { return "connection lost: " + e.err.Error() }
func (e *connLostError) Unwrap() error { return e.err }
