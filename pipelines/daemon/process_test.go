package daemon

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Tests that run `calgw run` as a real process: crashes (SIGKILL) and
// several instances. The binary is built once per test run.

var calgwBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if calgwBinary.dir != "" {
		os.RemoveAll(calgwBinary.dir)
	}
	os.Exit(code)
}

// buildCalgw builds cmd/calgw once.
func buildCalgw(t *testing.T) string {
	t.Helper()
	b := &calgwBinary
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "calgw-bin-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "calgw")
		cmd := exec.Command("go", "build", "-o", b.path, "./cmd/calgw")
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build ./cmd/calgw: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// calgwProc is a running `calgw run`.
type calgwProc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	log  string // its stderr
	done chan struct{}
	err  error
}

// startCalgw runs `calgw run --config cfg --state state` in dir with the
// extra environment; the process is killed if the test ends first.
func startCalgw(t *testing.T, name, dir, cfg, state string, env ...string) *calgwProc {
	t.Helper()
	p := &calgwProc{t: t, name: name, log: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	logFile, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(buildCalgw(t), "run", "--config", cfg, "--state", state)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s log (end):\n%s", p.name, tail(p.output(), 6000))
		}
	})
	return p
}

func (p *calgwProc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// waitExit waits for the process to end and returns how.
func (p *calgwProc) waitExit(timeout time.Duration) error {
	p.t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.t.Fatalf("%s still running after %v", p.name, timeout)
		return nil
	}
}

// crashed checks that the process killed itself at its crash point.
func (p *calgwProc) crashed(timeout time.Duration) {
	p.t.Helper()
	err := p.waitExit(timeout)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		p.t.Fatalf("%s: exit %v, want killed by SIGKILL at its crash point", p.name, err)
	}
}

// term sends SIGTERM and checks the clean exit.
func (p *calgwProc) term() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.waitExit(30 * time.Second); err != nil {
		p.t.Errorf("%s after SIGTERM: %v, want exit 0", p.name, err)
	}
}

// kill sends SIGKILL, as a crash would.
func (p *calgwProc) kill() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.waitExit(10 * time.Second)
}

// drained reports whether every file dropped in dir's local layout has
// been moved to archive or quarantine (n in all).
func drained(t *testing.T, dir string, n int) func() bool {
	return func() bool {
		if len(listDir(t, filepath.Join(dir, "inbox"))) > 0 || len(listDir(t, filepath.Join(dir, "processing"))) > 0 {
			return false
		}
		done := 0
		for _, sub := range []string{"archive", "quarantine"} {
			for _, name := range listDir(t, filepath.Join(dir, sub)) {
				if !strings.HasSuffix(name, ".txt") {
					done++
				}
			}
		}
		return done >= n
	}
}

// writeConfig writes a configuration file for a process test.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "calgw.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
