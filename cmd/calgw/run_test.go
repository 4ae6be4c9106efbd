package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/pipelines/daemon"
)

func writeRunConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "calgw.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// missingKind is a file kind without a processor in this build, or "".
func missingKind() string {
	for _, k := range config.FileKinds {
		if !slices.Contains(daemon.Kinds(), k) {
			return k
		}
	}
	return ""
}

func TestRunRefusesToStartWithAClearError(t *testing.T) {
	state := t.TempDir()
	kind := missingKind()
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"extra argument": {[]string{"run", "inbox"}, "unexpected arguments: inbox"},
		"bad config":     {[]string{"run", "--config", writeRunConfig(t, "state: {store: mysql}\n")}, `state.store "mysql"`},
		"kind without a processor": {[]string{"run", "--config", writeRunConfig(t, "routes: [{pattern: '*.x', kind: '"+kind+"'}]\n")},
			`routes[0]: kind "` + kind + `" has no processor`},
		"postgres DSN not set": {[]string{"run", "--config", writeRunConfig(t, "state: {store: postgres, postgres: {dsn_env: CALGW_TEST_NO_SUCH_DSN}}\n")},
			"environment variable CALGW_TEST_NO_SUCH_DSN is not set"},
	} {
		t.Run(name, func(t *testing.T) {
			if kind == "" && strings.Contains(name, "processor") {
				t.Skip("every file kind has a processor in this build")
			}
			t.Setenv("CALGW_TEST_DSN", "postgres://nobody@127.0.0.1:1/none")
			args := append(tc.args, "--state", filepath.Join(state, strings.ReplaceAll(name, " ", "-")))
			code, _, stderr := calgw(t, args...)
			if code != exitUnusable || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr, exitUnusable, tc.want)
			}
		})
	}
}

// With every rule on PostgreSQL, nothing in the configuration stops the
// start; a database that does not answer yet is waited for (it may be
// restarting), and a stop while waiting is a clean one.
func TestRunWaitsForTheDatabase(t *testing.T) {
	t.Setenv("CALGW_TEST_DSN", "postgres://nobody@127.0.0.1:1/none")
	cfg := writeRunConfig(t, "eligibility: {rules: all}\nproviders: {contract_check: on}\nstate: {store: postgres, postgres: {dsn_env: CALGW_TEST_DSN}}\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errs syncBuffer
	go func() {
		done <- run(ctx, []string{"--state", t.TempDir(), "run", "--config", cfg}, &out, &errs)
	}()
	select {
	case code := <-done:
		t.Fatalf("run ended (exit %d) instead of waiting for the database:\n%s", code, errs.String())
	case <-time.After(2 * time.Second):
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("stopped while waiting: exit %d\n%s", code, errs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("run did not stop after its context ended:\n%s", errs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the daemon's log and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunProcessesADropAndStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	cfg := writeRunConfig(t, fmt.Sprintf(`
schedules: {poll_interval: 50ms}
sources:
  inbox: {transport: {type: local, local: {dir: %[1]q}}, folder: inbox}
destinations:
  dhcs: {transport: {type: local, local: {dir: %[1]q}}, folder: outbox}
  responses: {transport: {type: local, local: {dir: %[1]q}}, folder: outbox}
`, dir))
	writeInvoice(t, mkdir(t, filepath.Join(dir, "inbox")), "a.csv", goodRow)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--state", filepath.Join(dir, "state"), "run", "--config", cfg}, &out, &errs)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !fileExists(filepath.Join(dir, "inbox", "archive", "a.csv")) {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("not archived; log:\n%s", errs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A second daemon on the same state directory is refused.
	if code, _, stderr := calgw(t, "run", "--config", cfg, "--state", filepath.Join(dir, "state")); code != exitUnusable || !strings.Contains(stderr, "in use") {
		t.Errorf("second instance on one state directory: exit %d %q", code, stderr)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("exit %d after the shutdown, want 0; log:\n%s", code, errs.String())
	}
	if !fileExists(filepath.Join(dir, "outbox", "encounters-000000001.837")) {
		t.Errorf("no 837 delivered; log:\n%s", errs.String())
	}
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
