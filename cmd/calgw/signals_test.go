package main

import (
	"bytes"
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

// buildCalgw builds the command into a temporary folder, for the tests
// that send it signals.
func buildCalgw(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "calgw")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// exitCode waits for cmd and returns its exit code, failing after limit.
func exitCode(t *testing.T, cmd *exec.Cmd, limit time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(limit):
		cmd.Process.Kill()
		t.Fatalf("still running %v after the signal", limit)
		return -1
	}
}

// A command stops promptly on SIGINT or SIGTERM and exits 130 or 143, never
// 0 as if it had finished; the daemon's SIGTERM is its clean stop (0), even
// while it starts.
func TestSignals(t *testing.T) {
	bin := buildCalgw(t)
	dir := t.TempDir()
	// A CSV invoice large enough to take seconds to validate.
	var b bytes.Buffer
	b.WriteString(invoiceHeader + "\n")
	for i := range 400000 {
		fmt.Fprintf(&b, "INV-%d,2026-10-01,1456789019,941234567,Bay Street,1200 Mission St,San Francisco,CA,941031520,91234567A,Rivera,Ana,1978-04-12,2026-09-01,2026-09-01,H0043,U6,1,85.00,1 Elm St,Fresno,CA,93721\n", i)
	}
	big := filepath.Join(dir, "big.csv")
	if err := os.WriteFile(big, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		cmd := exec.Command(bin, "validate", big)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		start := time.Now()
		cmd.Process.Signal(tt.sig)
		if code := exitCode(t, cmd, 5*time.Second); code != tt.want {
			t.Errorf("validate after %v: exit %d, want %d\n%.500s", tt.sig, code, tt.want, out.String())
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("validate took %v to stop after %v", took, tt.sig)
		}
	}

	// The daemon: SIGTERM while it starts (its first log line is written
	// while it opens its sources), and once it runs.
	for _, after := range []string{"msg=source", "calgw run started"} {
		cmd := exec.Command(bin, "--state", filepath.Join(t.TempDir(), "state"), "run")
		cmd.Dir = t.TempDir()
		logs := &waitWriter{want: after, seen: make(chan struct{})}
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-logs.seen:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("no %q in the daemon's log", after)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if code := exitCode(t, cmd, 10*time.Second); code != 0 {
			t.Errorf("daemon SIGTERM after %q: exit %d\n%s", after, code, logs.String())
		}
	}
}

// waitWriter closes seen when what it was written holds want.
type waitWriter struct {
	mu   sync.Mutex
	buf  strings.Builder
	want string
	seen chan struct{}
	done bool
}

func (w *waitWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.done && strings.Contains(w.buf.String(), w.want) {
		w.done = true
		close(w.seen)
	}
	return len(p), nil
}

func (w *waitWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
