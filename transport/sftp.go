package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// SFTPConfig configures an SFTP server. Secrets are never in the configuration itself:
// it names the environment variable or file that holds them.
type SFTPConfig struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"` // default 22
	User string `yaml:"user"`

	// Authentication: a private key, a password, or both (the server picks).
	PrivateKeyFile string `yaml:"private_key_file"` // PEM or OpenSSH private key file
	PrivateKeyEnv  string `yaml:"private_key_env"`  // or an environment variable holding the key
	PassphraseEnv  string `yaml:"passphrase_env"`   // environment variable with the key's passphrase
	PasswordEnv    string `yaml:"password_env"`     // environment variable holding the password
	PasswordFile   string `yaml:"password_file"`    // or a file holding it (trailing newline ignored)

	// Host key verification is required: a known_hosts file or the server key's
	// fingerprint as ssh-keygen -l prints it ("SHA256:...").
	KnownHostsFile     string `yaml:"known_hosts_file"`
	HostKeyFingerprint string `yaml:"host_key_fingerprint"`

	BaseDir string        `yaml:"base_dir"` // remote folder all paths are relative to; default the login folder
	Timeout time.Duration `yaml:"timeout"`  // connect and keepalive timeout; default 30s
	// FileMode is the mode Put sets on the files it writes, in octal;
	// default "0600" (they may hold PHI).
	FileMode string `yaml:"file_mode"`
}

const defaultSFTPTimeout = 30 * time.Second

// Validate checks the configuration, naming every problem.
func (c *SFTPConfig) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("sftp: "+format, args...)) }
	if c.Host == "" {
		add("host is required")
	}
	if _, err := parseFileMode(c.FileMode); err != nil {
		add("%v", err)
	}
	if c.Port < 0 || c.Port > 65535 {
		add("port %d is out of range 1-65535", c.Port)
	}
	if c.User == "" {
		add("user is required")
	}
	if c.PrivateKeyFile != "" && c.PrivateKeyEnv != "" {
		add("set only one of private_key_file and private_key_env")
	}
	if c.PasswordEnv != "" && c.PasswordFile != "" {
		add("set only one of password_env and password_file")
	}
	if c.PrivateKeyFile == "" && c.PrivateKeyEnv == "" && c.PasswordEnv == "" && c.PasswordFile == "" {
		add("no credentials: set private_key_file, private_key_env, password_env or password_file")
	}
	if c.PassphraseEnv != "" && c.PrivateKeyFile == "" && c.PrivateKeyEnv == "" {
		add("passphrase_env is set but there is no private key")
	}
	switch {
	case c.KnownHostsFile == "" && c.HostKeyFingerprint == "":
		add("host key verification is required: set known_hosts_file or host_key_fingerprint")
	case c.KnownHostsFile != "" && c.HostKeyFingerprint != "":
		add("set only one of known_hosts_file and host_key_fingerprint")
	case c.HostKeyFingerprint != "":
		if err := checkFingerprint(c.HostKeyFingerprint); err != nil {
			add("host_key_fingerprint: %v", err)
		}
	}
	if c.Timeout < 0 {
		add("timeout must not be negative")
	}
	return errors.Join(errs...)
}

// SFTP is a Transport over an SFTP server. It keeps one SSH connection, opened by
// NewSFTP, kept alive with keepalive requests and opened again on the next operation
// after it breaks; List, Stat and Open retry once on a fresh connection.
//
// pkg/sftp has no per-request cancellation, so a context cancelled while an operation
// waits on the server closes the connection: other operations in flight then fail with
// a transient error, and the next one reconnects. A Put interrupted that way leaves its
// hidden temporary file (".NAME.RANDOM.calgw-tmp", never listed) until the next
// connection removes it.
type SFTP struct {
	addr    string
	user    string
	base    string
	timeout time.Duration
	mode    fs.FileMode // of the files Put writes
	config  *ssh.ClientConfig

	mu      sync.Mutex
	conn    *sftpConn // nil when disconnected
	closed  bool
	orphans []string // temporary files of interrupted Puts, removed after reconnecting
}

type sftpConn struct {
	ssh         *ssh.Client
	sftp        *sftp.Client
	posixRename bool
	fsync       bool
	done        chan struct{} // closed when the connection is gone
}

func (c *sftpConn) close() { c.ssh.Close() }

func (c *sftpConn) dead() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// NewSFTP connects to the server, verifying its host key and authenticating, so that
// configuration mistakes show at startup.
func NewSFTP(ctx context.Context, cfg SFTPConfig) (*SFTP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Port == 0 {
		cfg.Port = 22
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultSFTPTimeout
	}
	s := &SFTP{
		addr:    net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		user:    cfg.User,
		base:    cfg.BaseDir,
		timeout: cfg.Timeout,
	}
	s.mode, _ = parseFileMode(cfg.FileMode) // checked by Validate
	config, err := sshClientConfig(cfg, s.addr)
	if err != nil {
		return nil, &Error{"sftp", "connect", s.location(""), ".", err}
	}
	s.config = config
	if _, err := s.get(ctx); err != nil {
		return nil, s.fail("connect", ".", "", err)
	}
	return s, nil
}

func (s *SFTP) location(full string) string {
	return s.user + "@" + s.addr + ":" + full
}

func (s *SFTP) fail(op, p, full string, err error) error {
	return &Error{"sftp", op, s.location(full), p, err}
}

// get returns the live connection, connecting if there is none.
func (s *SFTP) get(ctx context.Context) (*sftpConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, net.ErrClosed
	}
	if s.conn != nil && !s.conn.dead() {
		return s.conn, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	s.conn = c
	for _, tmp := range s.orphans {
		c.sftp.Remove(tmp) // best effort: the next reconnect does not try again
	}
	s.orphans = nil
	return c, nil
}

// drop forgets c if it is still the current connection and closes it.
func (s *SFTP) drop(c *sftpConn) {
	s.mu.Lock()
	if s.conn == c {
		s.conn = nil
	}
	s.mu.Unlock()
	c.close()
}

func (s *SFTP) dial(ctx context.Context) (*sftpConn, error) {
	d := net.Dialer{Timeout: s.timeout}
	nc, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, err
	}
	// The handshake and the SFTP session setup must finish within the timeout, or as
	// soon as ctx is done.
	nc.SetDeadline(time.Now().Add(s.timeout))
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Now()) })
	c, err := s.setup(nc)
	if !stop() {
		err = errors.Join(ctx.Err(), err)
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	go keepalive(c, s.timeout)
	return c, nil
}

func (s *SFTP) setup(nc net.Conn) (*sftpConn, error) {
	sc, chans, reqs, err := ssh.NewClientConn(nc, s.addr, s.config)
	if err != nil {
		if !errors.Is(err, ErrHostKey) && strings.Contains(err.Error(), "unable to authenticate") {
			err = fmt.Errorf("%w for user %q (key or password refused): %v", ErrAuth, s.user, err)
		}
		return nil, err
	}
	client := ssh.NewClient(sc, chans, reqs)
	fc, err := sftp.NewClient(client, sftp.UseConcurrentReads(true), sftp.UseConcurrentWrites(true))
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("starting the sftp subsystem: %w", err)
	}
	c := &sftpConn{ssh: client, sftp: fc, done: make(chan struct{})}
	_, c.posixRename = fc.HasExtension("posix-rename@openssh.com")
	v, ok := fc.HasExtension("fsync@openssh.com")
	c.fsync = ok && v == "1"
	go func() {
		client.Wait()
		fc.Close()
		close(c.done)
	}()
	return c, nil
}

// keepalive probes the server every interval and closes the connection when it does not
// answer within the interval, so a silently broken network is noticed.
func keepalive(c *sftpConn, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		replied := make(chan struct{})
		go func() {
			c.ssh.SendRequest("keepalive@openssh.com", true, nil)
			close(replied)
		}()
		select {
		case <-replied:
		case <-c.done:
			return
		case <-time.After(interval):
			c.close()
			return
		}
	}
}

// do runs fn on a live connection. Cancelling ctx closes the connection (pkg/sftp has no
// other way to abandon a request). A connection that broke is dropped; with retry, fn
// runs once more on a new connection.
func (s *SFTP) do(ctx context.Context, op, p, full string, retry bool, fn func(*sftpConn) error) error {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return s.fail(op, p, full, err)
		}
		c, err := s.get(ctx)
		if err != nil {
			return s.fail(op, p, full, err)
		}
		stop := context.AfterFunc(ctx, func() { s.drop(c) })
		err = fn(c)
		if !stop() && err != nil {
			return s.fail(op, p, full, errors.Join(ctx.Err(), err))
		}
		if err == nil {
			return nil
		}
		if !s.lost(c, err) {
			return s.fail(op, p, full, err)
		}
		s.drop(c)
		if !retry || attempt > 0 {
			return s.fail(op, p, full, &connLostError{err})
		}
	}
}

// lost reports whether err came from a broken connection.
func (s *SFTP) lost(c *sftpConn, err error) bool {
	if c.dead() || errors.Is(err, io.EOF) || errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, sftp.ErrSSHFxNoConnection) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

func (s *SFTP) resolve(op, p string) (rel, full string, err error) {
	rel, err = cleanPath(p)
	if err != nil {
		return "", "", s.fail(op, p, p, err)
	}
	return rel, path.Join(s.base, rel), nil
}

func (s *SFTP) List(ctx context.Context, dir string) ([]Object, error) {
	rel, full, err := s.resolve("list", dir)
	if err != nil {
		return nil, err
	}
	var objs []Object
	err = s.do(ctx, "list", dir, full, true, func(c *sftpConn) error {
		infos, err := c.sftp.ReadDirContext(ctx, full)
		if err != nil {
			return err
		}
		objs = make([]Object, 0, len(infos))
		for _, fi := range infos {
			if fi.Mode().IsRegular() && !isTemp(fi.Name()) {
				objs = append(objs, Object{Path: path.Join(rel, fi.Name()), Size: fi.Size(), ModTime: fi.ModTime()})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortObjects(objs)
	return objs, nil
}

func (s *SFTP) Stat(ctx context.Context, p string) (Object, error) {
	rel, full, err := s.resolve("stat", p)
	if err != nil {
		return Object{}, err
	}
	var obj Object
	err = s.do(ctx, "stat", p, full, true, func(c *sftpConn) error {
		fi, err := c.plainFile(full)
		if err != nil {
			return err
		}
		obj = Object{Path: rel, Size: fi.Size(), ModTime: fi.ModTime()}
		return nil
	})
	return obj, err
}

// plainFile returns the attributes of full, a regular file; a link (never
// followed: a link is not a file here, wherever it points), a folder or the
// like is errNotFile.
func (c *sftpConn) plainFile(full string) (os.FileInfo, error) {
	fi, err := c.sftp.Lstat(full)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotFile
	}
	return fi, nil
}

func (s *SFTP) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	_, full, err := s.resolve("open", p)
	if err != nil {
		return nil, err
	}
	var r *sftpReader
	err = s.do(ctx, "open", p, full, true, func(c *sftpConn) error {
		// SFTP cannot open without following a link: one is refused just
		// before the open.
		if _, err := c.plainFile(full); err != nil {
			return err
		}
		f, err := c.sftp.Open(full)
		if err != nil {
			return unwrapPathError(err)
		}
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			f.Close()
			if err == nil {
				err = errNotFile
			}
			return err
		}
		r = &sftpReader{ctx: ctx, s: s, c: c, f: f, p: p, full: full}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.stop = context.AfterFunc(ctx, func() { s.drop(r.c) })
	return r, nil
}

// sftpReader streams a remote file; cancelling its context closes the connection.
type sftpReader struct {
	ctx     context.Context
	s       *SFTP
	c       *sftpConn
	f       *sftp.File
	p, full string
	stop    func() bool
}

func (r *sftpReader) Read(b []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, r.s.fail("read", r.p, r.full, err)
	}
	n, err := r.f.Read(b)
	return n, r.readErr(err)
}

// WriteTo lets io.Copy use pkg/sftp's concurrent reads, much faster on slow links.
func (r *sftpReader) WriteTo(w io.Writer) (int64, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, r.s.fail("read", r.p, r.full, err)
	}
	n, err := r.f.WriteTo(w)
	return n, r.readErr(err)
}

func (r *sftpReader) readErr(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if ctxErr := r.ctx.Err(); ctxErr != nil {
		err = errors.Join(ctxErr, err)
	} else if r.s.lost(r.c, err) {
		r.s.drop(r.c)
		err = &connLostError{err}
	}
	return r.s.fail("read", r.p, r.full, err)
}

func (r *sftpReader) Close() error {
	r.stop()
	return r.f.Close()
}

func (s *SFTP) Put(ctx context.Context, p string, r io.Reader) error {
	rel, full, err := s.resolve("put", p)
	if err != nil {
		return err
	}
	if rel == "." {
		return s.fail("put", p, full, errNotFile)
	}
	dir := path.Dir(full)
	tmp := path.Join(dir, tempName(path.Base(full), randomHex()))
	return s.do(ctx, "put", p, full, false, func(c *sftpConn) (err error) {
		const flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
		f, err := c.sftp.OpenFile(tmp, flags)
		if errors.Is(err, fs.ErrNotExist) {
			if err := c.sftp.MkdirAll(dir); err != nil {
				return unwrapPathError(err)
			}
			f, err = c.sftp.OpenFile(tmp, flags)
		}
		if err != nil {
			return unwrapPathError(err)
		}
		defer func() {
			if err == nil {
				return
			}
			f.Close()
			if ctx.Err() != nil || s.lost(c, err) {
				// The connection is or will be closed: remove tmp after reconnecting.
				s.mu.Lock()
				s.orphans = append(s.orphans, tmp)
				s.mu.Unlock()
			} else {
				c.sftp.Remove(tmp)
			}
		}()
		if err := f.Chmod(s.mode); err != nil { // before any content arrives
			return err
		}
		if _, err := f.ReadFromWithConcurrency(ctxReader{ctx, r}, 0); err != nil {
			return err
		}
		if c.fsync {
			if err := f.Sync(); err != nil {
				return fmt.Errorf("fsync: %w", err)
			}
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if c.posixRename {
			return c.sftp.PosixRename(tmp, full)
		}
		// Plain SFTP rename refuses to replace: remove first. Readers may then find no
		// file for a moment, but never a partial one.
		if err := c.sftp.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return unwrapPathError(err)
		}
		return c.sftp.Rename(tmp, full)
	})
}

func (s *SFTP) Rename(ctx context.Context, from, to string) error {
	_, fullFrom, err := s.resolve("rename", from)
	if err != nil {
		return err
	}
	relTo, fullTo, err := s.resolve("rename", to)
	if err != nil {
		return err
	}
	if relTo == "." {
		return s.fail("rename", from, fullFrom+" -> "+fullTo, fs.ErrExist)
	}
	return s.do(ctx, "rename", from, fullFrom+" -> "+fullTo, false, func(c *sftpConn) error {
		if _, err := c.plainFile(fullFrom); err != nil {
			return err
		}
		// SSH_FXP_RENAME does not replace an existing file (OpenSSH links then unlinks).
		err := c.sftp.Rename(fullFrom, fullTo)
		if err == nil {
			return nil
		}
		if _, statErr := c.sftp.Stat(fullFrom); errors.Is(statErr, fs.ErrNotExist) {
			return fs.ErrNotExist
		}
		if _, statErr := c.sftp.Lstat(fullTo); statErr == nil {
			return fmt.Errorf("destination exists: %w", fs.ErrExist)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		// The source exists, so the destination folder is missing.
		if err := c.sftp.MkdirAll(path.Dir(fullTo)); err != nil {
			return unwrapPathError(err)
		}
		if err := c.sftp.Rename(fullFrom, fullTo); err != nil {
			if _, statErr := c.sftp.Lstat(fullTo); statErr == nil {
				return fmt.Errorf("destination exists: %w", fs.ErrExist)
			}
			return err
		}
		return nil
	})
}

func (s *SFTP) Remove(ctx context.Context, p string) error {
	_, full, err := s.resolve("remove", p)
	if err != nil {
		return err
	}
	return s.do(ctx, "remove", p, full, false, func(c *sftpConn) error {
		fi, err := c.sftp.Lstat(full)
		if err != nil {
			return unwrapPathError(err)
		}
		if fi.IsDir() {
			return errNotFile
		}
		return unwrapPathError(c.sftp.Remove(full))
	})
}

// ListOthers returns the folders, links, pipes and the like directly in dir.
func (s *SFTP) ListOthers(ctx context.Context, dir string) ([]Other, error) {
	rel, full, err := s.resolve("list", dir)
	if err != nil {
		return nil, err
	}
	var out []Other
	err = s.do(ctx, "list", dir, full, true, func(c *sftpConn) error {
		infos, err := c.sftp.ReadDirContext(ctx, full)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, fi := range infos {
			if fi.Mode().IsRegular() || isTemp(fi.Name()) {
				continue
			}
			out = append(out, Other{Path: path.Join(rel, fi.Name()), Kind: otherKind(fi.Mode())})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Other) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// RemoveTemps deletes Put's temporary files left directly in dir.
func (s *SFTP) RemoveTemps(ctx context.Context, dir string) ([]string, error) {
	rel, full, err := s.resolve("remove", dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	err = s.do(ctx, "remove", dir, full, false, func(c *sftpConn) error {
		removed = removed[:0]
		infos, err := c.sftp.ReadDirContext(ctx, full)
		if errors.Is(unwrapPathError(err), fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return unwrapPathError(err)
		}
		for _, fi := range infos {
			if !fi.Mode().IsRegular() || !IsTempName(fi.Name()) {
				continue
			}
			if err := c.sftp.Remove(path.Join(full, fi.Name())); err != nil && !errors.Is(unwrapPathError(err), fs.ErrNotExist) {
				return unwrapPathError(err)
			}
			removed = append(removed, path.Join(rel, fi.Name()))
		}
		return nil
	})
	return removed, err
}

func (s *SFTP) MkdirAll(ctx context.Context, dir string) error {
	_, full, err := s.resolve("mkdir", dir)
	if err != nil {
		return err
	}
	return s.do(ctx, "mkdir", dir, full, true, func(c *sftpConn) error {
		return unwrapPathError(c.sftp.MkdirAll(full))
	})
}

// Close closes the connection; later operations fail.
func (s *SFTP) Close() error {
	s.mu.Lock()
	c := s.conn
	s.conn, s.closed = nil, true
	s.mu.Unlock()
	if c != nil {
		c.close()
	}
	return nil
}
