package testsrv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestSSHDServesSFTPWithPinnedHostKey(t *testing.T) {
	s := SSHD(t)
	check, err := knownhosts.New(s.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
		User:            s.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(s.Signer)},
		HostKeyCallback: check,
		Timeout:         5 * time.Second,
	})
	if err != nil {
		t.Fatalf("ssh login with the generated key: %v", err)
	}
	defer client.Close()
	fc, err := sftp.NewClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	f, err := fc.Create(s.Dir + "/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("hello"))
	f.Close()
	// The server is this machine: the file is in Dir, owned by the test user.
	got, err := os.ReadFile(filepath.Join(s.Dir, "hello.txt"))
	if err != nil || string(got) != "hello" {
		t.Fatalf("file written over SFTP: %q, %v", got, err)
	}
	if _, ok := fc.HasExtension("posix-rename@openssh.com"); !ok {
		t.Error("OpenSSH's sftp server should offer posix-rename@openssh.com")
	}
}

func TestSSHDRefusesOtherKeysAndUsers(t *testing.T) {
	s := SSHD(t)
	other := writeKey(t, filepath.Join(t.TempDir(), "other"))
	for name, cfg := range map[string]*ssh.ClientConfig{
		"other key":  {User: s.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(other)}},
		"other user": {User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(s.Signer)}},
	} {
		cfg.HostKeyCallback = ssh.FixedHostKey(s.HostKey)
		cfg.Timeout = 5 * time.Second
		if c, err := ssh.Dial("tcp", s.Addr(), cfg); err == nil {
			c.Close()
			t.Errorf("%s: login accepted", name)
		} else if !strings.Contains(err.Error(), "unable to authenticate") {
			t.Errorf("%s: %v, want an authentication failure", name, err)
		}
	}
}

func TestSSHDDropConnections(t *testing.T) {
	s := SSHD(t)
	client, err := ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
		User: s.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(s.Signer)},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if n := s.DropConnections(t); n == 0 {
		t.Fatal("no connection process killed")
	}
	done := make(chan error)
	go func() { done <- client.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("connection still open after DropConnections")
	}
	// The server still accepts new connections.
	if err := sshReady(s.Addr())(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestSSHDStopsAtCleanup(t *testing.T) {
	var addr string
	t.Run("server", func(t *testing.T) { addr = SSHD(t).Addr() })
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("sshd still listening on %s after its test ended", addr)
	}
}

func TestS3ServesABucket(t *testing.T) {
	s := S3(t)
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoint %s is not on loopback", s.Endpoint)
	}
	ctx := context.Background()
	c := s.Client()
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.Bucket, Key: strPtr("a/b.txt"), Body: strings.NewReader("hi")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.Bucket, Key: strPtr("a/b.txt")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(b) != "hi" {
		t.Fatalf("got %q", b)
	}
	// versitygw's posix backend stores the object as a file.
	if b, err := os.ReadFile(filepath.Join(s.Dir, s.Bucket, "a", "b.txt")); err != nil || string(b) != "hi" {
		t.Fatalf("backing file: %q, %v", b, err)
	}
}

func strPtr(s string) *string { return &s }

func TestPostgresAcceptsQueries(t *testing.T) {
	s := Postgres(t)
	psql := filepath.Join(pgBinDir(), "psql")
	out, err := exec.Command(psql, "-X", "-A", "-t", "-d", s.DSN, "-c", "select 6*7").CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v: %s", err, out)
	}
	if got := string(bytes.TrimSpace(out)); got != strconv.Itoa(42) {
		t.Fatalf("select 6*7 = %q", got)
	}
}

func TestMissingBinaryFailsOrSkips(t *testing.T) {
	// Run requireBinary in a subprocess-free way: a fake TB records what it did.
	for _, skipEnv := range []string{"", "1"} {
		t.Run("CALGW_SKIP_REAL_SERVERS="+skipEnv, func(t *testing.T) {
			t.Setenv(EnvSkip, skipEnv)
			tb := &recordingTB{TB: t}
			done := make(chan struct{})
			go func() { // Fatalf and Skipf end the goroutine, as in a real test
				defer close(done)
				requireBinary(tb, "some server", "/nonexistent/server")
			}()
			<-done
			if skipEnv == "1" && (!tb.skipped || tb.failed) {
				t.Errorf("want a skip, got skipped=%v failed=%v", tb.skipped, tb.failed)
			}
			if skipEnv == "" && (!tb.failed || tb.skipped) {
				t.Errorf("want a failure, got skipped=%v failed=%v", tb.skipped, tb.failed)
			}
			if !strings.Contains(tb.msg, "scripts/install-test-deps.sh") {
				t.Errorf("message %q does not name the install script", tb.msg)
			}
		})
	}
}

type recordingTB struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
