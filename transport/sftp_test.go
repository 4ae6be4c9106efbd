package transport

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
)

// sftpConfig returns a configuration for the test server: key file and known_hosts.
func sftpConfig(s *testsrv.SSHServer) SFTPConfig {
	return SFTPConfig{
		Host:           s.Host,
		Port:           s.Port,
		User:           s.User,
		PrivateKeyFile: s.PrivateKeyFile,
		KnownHostsFile: s.KnownHostsFile,
		BaseDir:        s.Dir,
		Timeout:        10 * time.Second,
	}
}

func newSFTP(t *testing.T, cfg SFTPConfig) *SFTP {
	t.Helper()
	tr, err := NewSFTP(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// TestSFTP runs the shared behaviour tests against OpenSSH's sshd.
func TestSFTP(t *testing.T) {
	testBackend(t, backend{
		open: func(t *testing.T) Transport { return newSFTP(t, sftpConfig(testsrv.SSHD(t))) },
		// The server runs on this machine: its base folder is a local folder.
		stored:            func(t *testing.T, tr Transport) []string { return walkFiles(t, tr.(*SFTP).base) },
		keepsTempOnCancel: true,
		hasDirs:           true,
	})
}

// Files delivered over SFTP are 0600 unless configured (they may hold PHI).
func TestSFTPFileMode(t *testing.T) {
	srv := testsrv.SSHD(t)
	for _, tt := range []struct{ mode, want string }{{"", "-rw-------"}, {"0640", "-rw-r-----"}} {
		cfg := sftpConfig(srv)
		cfg.FileMode = tt.mode
		tr := newSFTP(t, cfg)
		name := "mode-" + tt.want
		put(t, tr, name, "x")
		info, err := os.Stat(filepath.Join(tr.base, name))
		if err != nil || info.Mode().String() != tt.want {
			t.Errorf("file_mode %q: %v %v, want %s", tt.mode, info.Mode(), err, tt.want)
		}
	}
}

func TestSFTPPinnedFingerprintAndKeyFromEnv(t *testing.T) {
	s := testsrv.SSHD(t)
	t.Setenv("CALGW_TEST_SFTP_KEY", string(s.PrivateKey))
	cfg := sftpConfig(s)
	cfg.KnownHostsFile, cfg.HostKeyFingerprint = "", s.HostKeyFingerprint
	cfg.PrivateKeyFile, cfg.PrivateKeyEnv = "", "CALGW_TEST_SFTP_KEY"
	tr := newSFTP(t, cfg)
	put(t, tr, "in/a.txt", "hello")
	if b, err := os.ReadFile(filepath.Join(s.Dir, "in", "a.txt")); err != nil || string(b) != "hello" {
		t.Fatalf("file on the server: %q, %v", b, err)
	}
}

func TestSFTPEncryptedKeyNeedsPassphrase(t *testing.T) {
	s := testsrv.SSHD(t)
	// The server's authorized key, encrypted with a passphrase.
	raw, err := ssh.ParseRawPrivateKey(s.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(raw, "", []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "id_encrypted")
	os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)
	cfg := sftpConfig(s)
	cfg.PrivateKeyFile = keyFile

	_, err = NewSFTP(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "passphrase_env") {
		t.Errorf("without a passphrase: %v, want a message naming passphrase_env", err)
	}
	t.Setenv("CALGW_TEST_PASSPHRASE", "wrong")
	cfg.PassphraseEnv = "CALGW_TEST_PASSPHRASE"
	if _, err := NewSFTP(context.Background(), cfg); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Errorf("with a wrong passphrase: %v (and the passphrase must not show)", err)
	}
	t.Setenv("CALGW_TEST_PASSPHRASE", "correct horse")
	put(t, newSFTP(t, cfg), "f", "x")
}

func otherHostKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSFTPHostKeyMismatchRefused(t *testing.T) {
	s := testsrv.SSHD(t)
	other := otherHostKey(t)
	dir := t.TempDir()
	knownHosts := func(name, line string) string {
		f := filepath.Join(dir, name)
		os.WriteFile(f, []byte(line), 0o644)
		return f
	}
	hostPort := fmt.Sprintf("[%s]:%d", s.Host, s.Port)
	cases := []struct {
		name        string
		fingerprint string
		knownHosts  string
		message     string
	}{
		{name: "pinned fingerprint", fingerprint: ssh.FingerprintSHA256(other), message: "host_key_fingerprint is " + ssh.FingerprintSHA256(other)},
		{name: "known_hosts mismatch", knownHosts: knownHosts("mismatch", hostPort+" "+string(ssh.MarshalAuthorizedKey(other))), message: "HOST KEY MISMATCH"},
		{name: "known_hosts without the host", knownHosts: knownHosts("other", "[sftp.example]:22 "+string(ssh.MarshalAuthorizedKey(s.HostKey))), message: "is not in"},
		{name: "empty known_hosts", knownHosts: knownHosts("empty", ""), message: "is not in"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sftpConfig(s)
			cfg.HostKeyFingerprint, cfg.KnownHostsFile = tc.fingerprint, tc.knownHosts
			tr, err := NewSFTP(context.Background(), cfg)
			if err == nil {
				tr.Close()
				t.Fatal("connected to a server with the wrong host key")
			}
			if !errors.Is(err, ErrHostKey) || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q, want ErrHostKey saying %q", err, tc.message)
			}
			if !strings.Contains(err.Error(), s.HostKeyFingerprint) {
				t.Errorf("error %q does not show the key the server presented", err)
			}
			if IsTransient(err) {
				t.Error("a host key mismatch must not be retried")
			}
		})
	}
}

func TestSFTPWrongUserKeyRefused(t *testing.T) {
	s := testsrv.SSHD(t)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKey(priv, "")
	keyFile := filepath.Join(t.TempDir(), "id_other")
	os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)
	for name, cfg := range map[string]func(*SFTPConfig){
		"other key":  func(c *SFTPConfig) { c.PrivateKeyFile = keyFile },
		"other user": func(c *SFTPConfig) { c.User = "nobody" },
		"password":   func(c *SFTPConfig) { c.PrivateKeyFile, c.PasswordEnv = "", "CALGW_TEST_PASSWORD" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("CALGW_TEST_PASSWORD", "s3cret-pw")
			c := sftpConfig(s)
			cfg(&c)
			_, err := NewSFTP(context.Background(), c)
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("error %v, want ErrAuth", err)
			}
			if IsTransient(err) {
				t.Error("an authentication failure must not be retried")
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Error("the error shows the password")
			}
		})
	}
}

func TestSFTPReconnectsAfterDroppedConnection(t *testing.T) {
	s := testsrv.SSHD(t)
	tr := newSFTP(t, sftpConfig(s))
	ctx := context.Background()
	put(t, tr, "in/a", "a")
	first := tr.conn
	if n := s.DropConnections(t); n == 0 {
		t.Fatal("no connection to drop")
	}
	// List retries once on a new connection.
	objs, err := tr.List(ctx, "in")
	if err != nil {
		t.Fatalf("List after the connection dropped: %v", err)
	}
	if !slices.Equal(paths(objs), []string{"in/a"}) {
		t.Errorf("List = %q", paths(objs))
	}
	if tr.conn == first {
		t.Error("still on the dropped connection")
	}
	put(t, tr, "in/b", "b")

	// Once the client has noticed the drop, the next call, even one that is never
	// retried, reconnects first.
	s.DropConnections(t)
	select {
	case <-tr.conn.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the client did not notice the dropped connection")
	}
	put(t, tr, "in/c", "c")
	if got := read(t, tr, "in/c"); got != "c" {
		t.Errorf("in/c = %q", got)
	}
}

func TestSFTPServerDownIsTransient(t *testing.T) {
	s := testsrv.SSHD(t)
	tr := newSFTP(t, sftpConfig(s))
	// Nothing listens on a port that was just free.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := sftpConfig(s)
	cfg.Port = port
	_, err := NewSFTP(context.Background(), cfg)
	if err == nil || !IsTransient(err) {
		t.Errorf("connection refused: %v, want a transient error", err)
	}
	var te *Error
	if !errors.As(err, &te) || te.Transport != "sftp" || !strings.Contains(err.Error(), fmt.Sprint(port)) {
		t.Errorf("error %q does not name the server", err)
	}
	tr.Close()
	if _, err := tr.List(context.Background(), "."); err == nil {
		t.Error("List after Close succeeded")
	}
}

// A server that accepts TCP connections and says nothing must not hang the client.
func TestSFTPConnectTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	cfg := SFTPConfig{
		Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, User: "u",
		PasswordEnv: "CALGW_TEST_PASSWORD", HostKeyFingerprint: ssh.FingerprintSHA256(otherHostKey(t)),
		Timeout: 300 * time.Millisecond,
	}
	t.Setenv("CALGW_TEST_PASSWORD", "pw")
	start := time.Now()
	_, err = NewSFTP(context.Background(), cfg)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v with a 300ms timeout", d)
	}
	if err == nil || !IsTransient(err) {
		t.Errorf("silent server: %v, want a transient timeout", err)
	}

	// The caller's context ends the wait earlier still.
	cfg.Timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start = time.Now()
	_, err = NewSFTP(ctx, cfg)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 3*time.Second {
		t.Errorf("cancelled connect: %v after %v", err, time.Since(start))
	}
}

// inProcessSFTP serves handlers over an x/crypto/ssh server on 127.0.0.1, for what a
// real sshd cannot be made to do, such as hang on a request.
func inProcessSFTP(t *testing.T, handlers sftp.Handlers) SFTPConfig {
	t.Helper()
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, _ := ssh.NewSignerFromKey(hostPriv)
	_, userPriv, _ := ed25519.GenerateKey(rand.Reader)
	userSigner, _ := ssh.NewSignerFromKey(userPriv)
	block, _ := ssh.MarshalPrivateKey(userPriv, "")
	keyFile := filepath.Join(t.TempDir(), "id")
	os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)

	config := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if string(key.Marshal()) == string(userSigner.PublicKey().Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	config.AddHostKey(hostSigner)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go serveSFTP(nc, config, handlers)
		}
	}()
	return SFTPConfig{
		Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, User: "test",
		PrivateKeyFile: keyFile, HostKeyFingerprint: ssh.FingerprintSHA256(hostSigner.PublicKey()),
		BaseDir: "/", Timeout: 5 * time.Second,
	}
}

func serveSFTP(nc net.Conn, config *ssh.ServerConfig, handlers sftp.Handlers) {
	defer nc.Close()
	_, chans, reqs, err := ssh.NewServerConn(nc, config)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			return
		}
		go func() {
			for req := range chReqs {
				ok := req.Type == "subsystem" && len(req.Payload) > 4 && string(req.Payload[4:]) == "sftp"
				req.Reply(ok, nil)
				if ok {
					go func() {
						sftp.NewRequestServer(ch, handlers).Serve()
						ch.Close()
					}()
				}
			}
		}()
	}
}

// blockingLister holds every directory listing until release is closed.
type blockingLister struct {
	sftp.FileLister
	entered chan struct{}
	release chan struct{}
}

func (b blockingLister) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	if r.Method == "List" {
		select {
		case b.entered <- struct{}{}:
		default:
		}
		<-b.release
	}
	return b.FileLister.Filelist(r)
}

func TestSFTPCancelWhileServerHangs(t *testing.T) {
	handlers := sftp.InMemHandler()
	blocking := blockingLister{FileLister: handlers.FileList, entered: make(chan struct{}, 1), release: make(chan struct{})}
	handlers.FileList = blocking
	tr := newSFTP(t, inProcessSFTP(t, handlers))
	put(t, tr, "f", "x")

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := tr.List(ctx, ".")
		errc <- err
	}()
	<-blocking.entered
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("List: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("List did not return after its context was cancelled")
	}
	close(blocking.release)
	// The transport reconnects for the next call.
	objs, err := tr.List(context.Background(), ".")
	if err != nil || !slices.Equal(paths(objs), []string{"f"}) {
		t.Errorf("List after cancel = %q, %v", paths(objs), err)
	}
}

func TestSFTPConfigValidate(t *testing.T) {
	valid := SFTPConfig{Host: "h", User: "u", PrivateKeyFile: "k", KnownHostsFile: "kh"}
	fp := ssh.FingerprintSHA256(otherHostKey(t))
	cases := []struct {
		name string
		edit func(*SFTPConfig)
		want string // substring of the error; "" for valid
	}{
		{"valid", func(*SFTPConfig) {}, ""},
		{"fingerprint", func(c *SFTPConfig) { c.KnownHostsFile, c.HostKeyFingerprint = "", fp }, ""},
		{"password file", func(c *SFTPConfig) { c.PrivateKeyFile, c.PasswordFile = "", "pw" }, ""},
		{"no host", func(c *SFTPConfig) { c.Host = "" }, "host is required"},
		{"no user", func(c *SFTPConfig) { c.User = "" }, "user is required"},
		{"bad port", func(c *SFTPConfig) { c.Port = 70000 }, "port 70000"},
		{"no credentials", func(c *SFTPConfig) { c.PrivateKeyFile = "" }, "no credentials"},
		{"two keys", func(c *SFTPConfig) { c.PrivateKeyEnv = "K" }, "only one of private_key_file and private_key_env"},
		{"two passwords", func(c *SFTPConfig) { c.PasswordEnv, c.PasswordFile = "P", "p" }, "only one of password_env and password_file"},
		{"passphrase without key", func(c *SFTPConfig) { c.PrivateKeyFile, c.PasswordEnv, c.PassphraseEnv = "", "P", "X" }, "passphrase_env is set but there is no private key"},
		{"no host key check", func(c *SFTPConfig) { c.KnownHostsFile = "" }, "host key verification is required"},
		{"both host key checks", func(c *SFTPConfig) { c.HostKeyFingerprint = fp }, "only one of known_hosts_file and host_key_fingerprint"},
		{"md5 fingerprint", func(c *SFTPConfig) { c.KnownHostsFile, c.HostKeyFingerprint = "", "MD5:12:34" }, "must start with SHA256:"},
		{"short fingerprint", func(c *SFTPConfig) { c.KnownHostsFile, c.HostKeyFingerprint = "", "SHA256:abc" }, "not a SHA256 fingerprint"},
		{"negative timeout", func(c *SFTPConfig) { c.Timeout = -time.Second }, "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := valid
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	// Every problem is reported at once.
	err := (&SFTPConfig{}).Validate()
	for _, want := range []string{"host is required", "user is required", "no credentials", "host key verification"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("empty config: %v, want %q among the errors", err, want)
		}
	}
}

func TestSFTPMissingSecretsNamed(t *testing.T) {
	cfg := SFTPConfig{Host: "127.0.0.1", Port: 1, User: "u", PrivateKeyEnv: "CALGW_TEST_UNSET_KEY", KnownHostsFile: "/nonexistent/known_hosts"}
	os.Unsetenv("CALGW_TEST_UNSET_KEY")
	_, err := NewSFTP(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "CALGW_TEST_UNSET_KEY is not set") {
		t.Errorf("unset key variable: %v", err)
	}
	cfg.PrivateKeyEnv, cfg.PasswordFile = "", "/nonexistent/password"
	_, err = NewSFTP(context.Background(), cfg)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "password file") {
		t.Errorf("missing password file: %v", err)
	}
}

// Servers without the posix-rename and fsync extensions get the plain protocol: Put
// replaces by removing then renaming, and still never shows a partial file.
func TestSFTPPutWithoutOpenSSHExtensions(t *testing.T) {
	s := testsrv.SSHD(t)
	tr := newSFTP(t, sftpConfig(s))
	put(t, tr, "out/f", "old")
	c, err := tr.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !c.posixRename || !c.fsync {
		t.Fatalf("OpenSSH should offer posix-rename and fsync: %+v", c)
	}
	c.posixRename, c.fsync = false, false
	put(t, tr, "out/f", "new")
	if got := read(t, tr, "out/f"); got != "new" {
		t.Errorf("out/f = %q", got)
	}
	if got := walkFiles(t, s.Dir); !slices.Equal(got, []string{"out/f"}) {
		t.Errorf("files on the server: %q", got)
	}
}
