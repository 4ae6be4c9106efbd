package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"gopkg.in/yaml.v3"
)

func TestCleanPath(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "."},
		{".", "."},
		{"/", "."},
		{"a", "a"},
		{"/in/x.834", "in/x.834"},
		{"in//x.834", "in/x.834"},
		{"in/./x.834", "in/x.834"},
		{"in/", "in"},
		{"with space/ä.csv", "with space/ä.csv"},
		{"..", ""},
		{"../x", ""},
		{"in/../../x", ""},
		{"in/../x", ""}, // refused, not resolved
		{"a\x00b", ""},
	}
	for _, tc := range cases {
		got, err := cleanPath(tc.in)
		if tc.want == "" {
			if !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("cleanPath(%q) = %q, %v; want fs.ErrInvalid", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("cleanPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestTempNameIsHiddenAndRecognised(t *testing.T) {
	name := tempName("claims.837", "00ff")
	if !strings.HasPrefix(name, ".") || !isTemp(name) || isTemp("claims.837") {
		t.Errorf("tempName = %q", name)
	}
	long := tempName(strings.Repeat("x", 300), "0123456789abcdef")
	if len(long) > 255 {
		t.Errorf("temporary name of %d bytes is too long for most file systems", len(long))
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// realRenameError is what the local transport returns when it renames a file
// to name.
func realRenameError(t *testing.T, name string) error {
	l := newLocal(t)
	put(t, l, "a", "x")
	err := l.Rename(context.Background(), "a", name)
	if err == nil {
		t.Fatalf("renaming to a %d-byte name worked", len(name))
	}
	return err
}

func TestIsTransient(t *testing.T) {
	wrap := func(err error) error { return &Error{"sftp", "list", "u@h:22:/in", "in", err} }
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("something odd"), false},
		{wrap(fs.ErrNotExist), false},
		{wrap(fs.ErrExist), false},
		{wrap(fs.ErrPermission), false},
		{wrap(fs.ErrInvalid), false},
		{wrap(fmt.Errorf("%w: user %q", ErrAuth, "u")), false},
		{wrap(fmt.Errorf("ssh: handshake failed: %w", fmt.Errorf("%w: mismatch", ErrHostKey))), false},
		{wrap(context.Canceled), false},
		{wrap(context.DeadlineExceeded), true},
		{wrap(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), true},
		{wrap(syscall.ECONNRESET), true},
		{wrap(timeoutErr{}), true},
		{wrap(io.ErrUnexpectedEOF), true},
		{wrap(sftp.ErrSSHFxConnectionLost), true},
		{wrap(&connLostError{io.EOF}), true},
		{wrap(&net.DNSError{Err: "no such host", Name: "sftp.example", IsNotFound: true}), false},
		{wrap(&net.DNSError{Err: "server misbehaving", Name: "sftp.example", IsTemporary: true}), true},
		// A cancellation that broke the connection is still the caller's cancellation.
		{wrap(errors.Join(context.Canceled, sftp.ErrSSHFxConnectionLost)), false},
		// File system answers are permanent: syscall.Errno is a net.Error, not a network's.
		{wrap(&fs.PathError{Op: "rename", Path: "in/x", Err: syscall.ENAMETOOLONG}), false},
		{wrap(&os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.EROFS}), false},
		{wrap(&fs.PathError{Op: "open", Path: "in/x", Err: syscall.EINTR}), true},
		{wrap(&fs.PathError{Op: "write", Path: "in/x", Err: syscall.EPIPE}), true},
		{realRenameError(t, strings.Repeat("n", 256)), false},
	}
	for _, tc := range cases {
		if got := IsTransient(tc.err); got != tc.want {
			t.Errorf("IsTransient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestConfigFromYAML(t *testing.T) {
	doc := `
inbound:
  type: sftp
  sftp:
    host: sftp.plan.example
    port: 2222
    user: calgw
    private_key_file: /etc/calgw/id_ed25519
    passphrase_env: CALGW_KEY_PASSPHRASE
    host_key_fingerprint: SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU
    base_dir: /outbound
    timeout: 45s
outbound:
  type: s3
  s3:
    bucket: plan-a-calgw
    prefix: outbound/
    region: us-west-2
    endpoint: http://127.0.0.1:7070
    use_path_style: true
    part_size: 33554432
archive:
  type: local
  local:
    dir: /var/lib/calgw/archive
`
	var cfg struct{ Inbound, Outbound, Archive Config }
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	want := SFTPConfig{
		Host: "sftp.plan.example", Port: 2222, User: "calgw", PrivateKeyFile: "/etc/calgw/id_ed25519",
		PassphraseEnv: "CALGW_KEY_PASSPHRASE", HostKeyFingerprint: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
		BaseDir: "/outbound", Timeout: 45 * time.Second,
	}
	if cfg.Inbound.SFTP == nil || *cfg.Inbound.SFTP != want {
		t.Errorf("sftp = %+v", cfg.Inbound.SFTP)
	}
	wantS3 := S3Config{Bucket: "plan-a-calgw", Prefix: "outbound/", Region: "us-west-2",
		Endpoint: "http://127.0.0.1:7070", UsePathStyle: true, PartSize: 32 << 20}
	if cfg.Outbound.S3 == nil || *cfg.Outbound.S3 != wantS3 {
		t.Errorf("s3 = %+v", cfg.Outbound.S3)
	}
	if cfg.Archive.Local == nil || cfg.Archive.Local.Dir != "/var/lib/calgw/archive" {
		t.Errorf("local = %+v", cfg.Archive.Local)
	}
	for _, c := range []Config{cfg.Inbound, cfg.Outbound, cfg.Archive} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", c.Type, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	local := &LocalConfig{Dir: "/data"}
	cases := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"no type", Config{}, []string{"type is required"}},
		{"unknown type", Config{Type: "ftp"}, []string{`unknown type "ftp"`}},
		{"missing section", Config{Type: "sftp"}, []string{`the "sftp" section is missing`}},
		{"other section", Config{Type: "local", Local: local, S3: &S3Config{Bucket: "abc"}}, []string{`section "s3" is set but type is "local"`}},
		{"section invalid", Config{Type: "sftp", SFTP: &SFTPConfig{}}, []string{"sftp: host is required", "sftp: user is required"}},
		{"local without dir", Config{Type: "local", Local: &LocalConfig{}}, []string{"local: dir is required"}},
		{"valid local", Config{Type: "local", Local: local}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v, want %q", err, w)
				}
			}
			if _, err := New(context.Background(), tc.cfg); err == nil {
				t.Error("New accepted an invalid configuration")
			}
		})
	}
}

func TestNewLocalFromConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "created", "on", "demand")
	tr, err := New(context.Background(), Config{Type: "local", Local: &LocalConfig{Dir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	put(t, tr, "x", "y")
	if b, err := os.ReadFile(filepath.Join(dir, "x")); err != nil || string(b) != "y" {
		t.Errorf("file: %q, %v", b, err)
	}
}

func TestErrorMessage(t *testing.T) {
	err := &Error{Transport: "s3", Op: "put", Location: "s3://bucket/gw/out/f.837", Path: "out/f.837", Err: fs.ErrPermission}
	if got, want := err.Error(), "s3 put s3://bucket/gw/out/f.837: permission denied"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Error("Error does not unwrap")
	}
}
