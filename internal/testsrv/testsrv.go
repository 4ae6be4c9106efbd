// Package testsrv starts real servers for tests, on 127.0.0.1 only, each private to the
// test that asks for it and stopped when that test ends:
//
//	SSHD(t)     OpenSSH's sshd serving SFTP (Debian package openssh-server)
//	S3(t)       versitygw over a temporary folder, with one bucket
//	Postgres(t) a private PostgreSQL cluster (Debian package postgresql)
//
// scripts/install-test-deps.sh installs all three. When a server's binary is missing the
// helper fails the test naming that script, unless CALGW_SKIP_REAL_SERVERS=1, in which
// case it skips the test, loudly.
package testsrv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// TB is what the helpers need of a test (testing.TB has it): a tool that
// is not a test, such as a load test, passes its own.
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
}

// EnvSkip is the environment variable that, set to 1, turns a missing server binary
// into a skipped test instead of a failure.
const EnvSkip = "CALGW_SKIP_REAL_SERVERS"

const installHint = "run scripts/install-test-deps.sh (as root) to install the test servers"

// requireBinary fails (or, with CALGW_SKIP_REAL_SERVERS=1, skips) the test when the
// server binary at path is missing.
func requireBinary(t TB, what, path string) {
	t.Helper()
	if info, err := os.Stat(path); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
		return
	}
	msg := fmt.Sprintf("%s not found at %s: %s", what, path, installHint)
	if os.Getenv(EnvSkip) == "1" {
		t.Skipf("SKIPPING REAL-SERVER TEST because %s=1: %s", EnvSkip, msg)
	}
	t.Fatalf("%s (or set %s=1 to skip the real-server tests)", msg, EnvSkip)
}

// repoRoot finds the module root, the folder with go.mod, from the test's working
// directory (its package folder).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// process is a server started for one test.
type process struct {
	cmd        *exec.Cmd
	stopSignal syscall.Signal // default SIGTERM
	log        string         // file holding its output
	done       chan struct{}
	err        error // set when done is closed
}

// start runs cmd with its output in logFile and stops it when the test ends: SIGTERM,
// then SIGKILL after 5 seconds. The process gets its own process group so that
// everything it starts is stopped with it.
func start(t TB, cmd *exec.Cmd, logFile string) *process {
	t.Helper()
	out, err := os.OpenFile(logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	// Should the test binary die without its cleanups (a panic, a -timeout), the server
	// dies with it rather than lingering.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	p := &process{cmd: cmd, log: logFile, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *process) stop() {
	pgid := p.cmd.Process.Pid
	sig := p.stopSignal
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	syscall.Kill(-pgid, sig)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// output returns the end of the process's log, for failure messages.
func (p *process) output() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}

// waitReady polls ready until it succeeds, the process exits, or the timeout passes.
func (p *process) waitReady(timeout time.Duration, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var err error
	for {
		if p.exited() {
			return fmt.Errorf("exited (%v) before it was ready", p.err)
		}
		attempt, cancelAttempt := context.WithTimeout(ctx, time.Second)
		err = ready(attempt)
		cancelAttempt()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v: %w", timeout, err)
		case <-p.done:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// userMu serialises user creation within this process; the flock in ensureUser
// serialises it between test binaries running at once.
var userMu sync.Mutex

// ensureUser creates the unprivileged system user name when missing, unlocked so that
// sshd accepts key logins (useradd makes locked users, which sshd refuses without PAM).
func ensureUser(name string) error {
	userMu.Lock()
	defer userMu.Unlock()
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "calgw-testsrv-users.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	if _, err := user.Lookup(name); err != nil {
		if out, err := exec.Command("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
			"--shell", "/bin/sh", name).CombinedOutput(); err != nil {
			return fmt.Errorf("useradd %s: %v: %s", name, err, bytes.TrimSpace(out))
		}
	}
	shadow, err := exec.Command("getent", "shadow", name).Output()
	if err != nil || strings.Split(string(shadow), ":")[1] != "*" {
		if out, err := exec.Command("usermod", "-p", "*", name).CombinedOutput(); err != nil {
			return fmt.Errorf("usermod -p '*' %s: %v: %s", name, err, bytes.TrimSpace(out))
		}
	}
	return nil
}

// lookupIDs returns the uid and gid of user name.
func lookupIDs(name string) (uid, gid int, err error) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, err
	}
	uid, err = strconv.Atoi(u.Uid)
	if err == nil {
		gid, err = strconv.Atoi(u.Gid)
	}
	return uid, gid, err
}

// ownedTempDir makes a temporary folder owned by uid:gid, removed when the test ends. It
// is made under the system temp folder, not t.TempDir(), whose parents only root can
// enter.
func ownedTempDir(t TB, pattern string, uid, gid int) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return dir
}
