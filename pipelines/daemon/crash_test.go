package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// checkFinished opens the state after the last process stopped and checks
// that every one of n files ended archived or quarantined, and that every
// one of the lines wanted is in exactly one delivered 837.
func checkFinished(t *testing.T, dir, state string, n, lines int) []store.FileEntry {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	files, err := st.Files(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	final := 0
	for _, f := range files {
		if f.State.Final() {
			final++
		} else {
			t.Errorf("file %d %s left %s", f.ID, f.Name, f.State)
		}
	}
	if final < n {
		t.Errorf("%d files final, want %d", final, n)
	}
	if pending, _ := st.PendingRuns(context.Background()); len(pending) != 0 {
		t.Errorf("runs left pending: %+v", pending)
	}
	_, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs"))
	exactlyOnce(t, all.ids, lines)
	return files
}

// TestCrashRestartAtEveryStep kills `calgw run` (SIGKILL, from a test hook)
// at each step of a file's way through — the second time it passes there,
// so one file is already done — restarts it, and checks that nothing was
// lost or sent twice. "committed" is the subtle one: the run's lines count
// as sent, its 837 is still under a temporary name in the work directory,
// and the ledger does not know the outputs yet.
func TestCrashRestartAtEveryStep(t *testing.T) {
	points := []string{"claimed", "fetched", "committed", "processed", "recorded", "delivered", "moved"}
	for _, point := range points {
		t.Run(point, func(t *testing.T) {
			dir := t.TempDir()
			state := filepath.Join(dir, "state")
			cfg := writeConfig(t, localConfig(dir, ""))
			const files, perFile = 3, 2
			for i := range files {
				dropFile(t, filepath.Join(dir, "inbox"), fmt.Sprintf("inv-%d.csv", i), invoice(fmt.Sprintf("CR-%d", i), 100*i, perFile, badRow(fmt.Sprintf("CRB-%d", i), 1, 100*i+50)))
			}
			p := startCalgw(t, "crashing", dir, cfg, state, envCrashAt+"="+point+":2")
			p.crashed(30 * time.Second)
			if !strings.Contains(p.output(), "crash point "+point+" reached") {
				t.Fatalf("did not crash at %s:\n%s", point, p.output())
			}
			r := startCalgw(t, "restarted", dir, cfg, state)
			waitFor(t, 30*time.Second, "every file archived", drained(t, dir, files))
			r.term()
			if (point == "committed" || point == "processed") && !strings.Contains(r.output(), "resuming a file whose run committed") {
				t.Error("the restart did not resume the committed run from its outputs")
			}
			entries := checkFinished(t, dir, state, files, files*perFile)
			// Each processed file's reports reached its sender, even when
			// the crash came before they were renamed into place.
			resp := listDir(t, filepath.Join(dir, "outbox", "responses"))
			for _, f := range entries {
				if f.DuplicateOf != 0 || f.State != store.FileArchived {
					continue
				}
				stem := strings.TrimSuffix(f.Name, ".csv") + "." + itoa(f.ID)
				for _, r := range []string{stem + ".rejects.csv", stem + ".summary.html"} {
					if !containsString(resp, r) {
						t.Errorf("response %s missing (have %v)", r, resp)
					}
				}
			}
		})
	}
}

const envCrashAt = "CALGW_TEST_CRASH_AT"

// TestCrashRestartKilledMidFile kills `calgw run` from outside at random
// moments while it converts a large invoice (and small ones around it),
// several times, then lets it finish: every line ends in exactly one 837.
func TestCrashRestartKilledMidFile(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	// Each kill during the big file's conversion is a start that never
	// ended: allow more than the test's kills, or the file is quarantined
	// as a poison file.
	cfg := writeConfig(t, strings.Replace(localConfig(dir, ""), "max_attempts: 2", "max_attempts: 10", 1))
	const big = 200000
	dropFile(t, filepath.Join(dir, "inbox"), "big.csv", invoice("BIG-1", 1_000_000, big))
	for i := range 3 {
		dropFile(t, filepath.Join(dir, "inbox"), fmt.Sprintf("small-%d.csv", i), invoice(fmt.Sprintf("SM-%d", i), 10*i, 2))
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	kills, midFile := 0, 0
	for round := 0; round < 4 && !drained(t, dir, 4)(); round++ {
		p := startCalgw(t, fmt.Sprintf("round-%d", round), dir, cfg, state)
		// Kill while it works on the big file (or just after: that must be
		// safe too). A round that finds the file done has nothing to kill.
		waitFor(t, 30*time.Second, "the big file in processing, or everything done", func() bool {
			return strings.Contains(p.output(), "name=big.csv kind=invoice state=processing") || drained(t, dir, 4)()
		})
		delay := time.Duration(rng.IntN(400)) * time.Millisecond
		time.Sleep(delay)
		p.kill()
		kills++
		state := bigFileState(t, state)
		if state == store.FileProcessing {
			midFile++
		}
		t.Logf("round %d: killed %v after processing started; big.csv was %s", round, delay, state)
	}
	if midFile == 0 {
		t.Errorf("none of the %d kills landed while the big file was being converted: make it bigger", kills)
	}
	r := startCalgw(t, "final", dir, cfg, state)
	waitFor(t, 60*time.Second, "every file archived", drained(t, dir, 4))
	r.term()
	checkFinished(t, dir, state, 4, big+6)
	if st, err := os.Stat(filepath.Join(state, "work")); err == nil && st.IsDir() {
		if left, _ := os.ReadDir(filepath.Join(state, "work")); len(left) != 0 {
			t.Errorf("work directory holds %d leftovers", len(left))
		}
	}
}

// bigFileState reads big.csv's ledger state while no process runs.
func bigFileState(t *testing.T, state string) store.FileState {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return byName(t, st)["big.csv"].State
}

// TestCrashRestartPoisonFileIsQuarantined drops a file that kills `calgw
// run` every time its processing starts (the test hook
// processing@NAME), ahead of good files, and restarts the process after
// each crash: after retry.max_attempts (2) crashed starts the poison file is
// quarantined with the reason, and the files behind it are processed.
func TestCrashRestartPoisonFileIsQuarantined(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	cfg := writeConfig(t, localConfig(dir, ""))
	inbox := filepath.Join(dir, "inbox")
	dropFile(t, inbox, "a-poison.csv", invoice("PO-1", 1, 2))
	const good = 3
	for i := range good {
		dropFile(t, inbox, fmt.Sprintf("b-good-%d.csv", i), invoice(fmt.Sprintf("GD-%d", i), 10*i+10, 2))
	}
	crashes := 0
	for round := 0; round < 5 && !drained(t, dir, good+1)(); round++ {
		p := startCalgw(t, fmt.Sprintf("round-%d", round), dir, cfg, state, envCrashAt+"=processing@a-poison.csv")
		exited := make(chan struct{})
		go func() { <-p.done; close(exited) }()
		waitFor(t, 30*time.Second, "a crash or every file done", func() bool {
			select {
			case <-exited:
				return true
			default:
				return drained(t, dir, good+1)()
			}
		})
		select {
		case <-exited:
			p.crashed(time.Second)
			crashes++
		default:
			p.term()
		}
	}
	if crashes != 2 {
		t.Errorf("the poison file crashed the gateway %d times, want 2 (retry.max_attempts)", crashes)
	}
	entries := checkFinished(t, dir, state, good+1, good*2)
	for _, e := range entries {
		want := store.FileArchived
		if e.Name == "a-poison.csv" {
			want = store.FileQuarantined
			if !strings.Contains(e.Note, "crashed the gateway 2 times while being processed") {
				t.Errorf("poison file's note = %q", e.Note)
			}
		}
		if e.State != want {
			t.Errorf("%s: %s, want %s (%s)", e.Name, e.State, want, e.Note)
		}
	}
	note, err := os.ReadFile(filepath.Join(dir, "quarantine", "a-poison.csv.error.txt"))
	if err != nil || !strings.Contains(string(note), "crashed the gateway 2 times while being processed") {
		t.Errorf("quarantine note: %v\n%s", err, note)
	}
}

// TestCrashAfterQuarantineMoveKeepsWhereTheFileWent stops `calgw run`
// (crash hook "moved") after it moved an unusable file to quarantine and
// before the ledger recorded the entry final: the restart finishes the
// entry with the location it recorded before the move, and the console's
// requeue takes the file, fixed in place, from there.
func TestCrashAfterQuarantineMoveKeepsWhereTheFileWent(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	cfg := writeConfig(t, localConfig(dir, ""))
	dropFile(t, filepath.Join(dir, "inbox"), "bad.csv", []byte("not,an,invoice\n1,2,3\n"))
	p := startCalgw(t, "crashing", dir, cfg, state, envCrashAt+"=moved")
	p.crashed(30 * time.Second)
	quarantined := filepath.Join(dir, "quarantine", "bad.csv")
	if _, err := os.Stat(quarantined); err != nil {
		t.Fatalf("the crash came before the move: %v\n%s", err, p.output())
	}
	entry := func() store.FileEntry {
		t.Helper()
		st, err := store.OpenSQLite(t.Context(), state)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		return byName(t, st)["bad.csv"]
	}
	if e := entry(); e.State != store.FileQuarantine || e.QuarantinePath != "quarantine/bad.csv" {
		t.Fatalf("after the crash: %s, quarantine path %q; want quarantine, quarantine/bad.csv", e.State, e.QuarantinePath)
	}
	r := startCalgw(t, "restarted", dir, cfg, state)
	waitFor(t, 30*time.Second, "the entry final", func() bool { return entry().State.Final() })
	r.term()
	e := entry()
	if e.State != store.FileQuarantined || store.QuarantinedAt(&e) != "quarantine/bad.csv" || strings.Contains(e.Note, "interruption") {
		t.Fatalf("after the restart: %s, at %q, note %q", e.State, store.QuarantinedAt(&e), e.Note)
	}

	// The operator fixes the file where it is and requeues it.
	if err := os.WriteFile(quarantined, invoice("QR-1", 1, 2), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenSQLite(t.Context(), state)
	if err != nil {
		t.Fatal(err)
	}
	nid, err := st.Console().RequeueFile(t.Context(), e.ID)
	st.Close()
	if err != nil {
		t.Fatalf("requeue: %v", err)
	}
	r = startCalgw(t, "requeued", dir, cfg, state)
	waitFor(t, 30*time.Second, "the requeued entry final", func() bool {
		st, err := store.OpenSQLite(t.Context(), state)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		n, err := st.File(t.Context(), nid)
		return err == nil && n.State.Final()
	})
	r.term()
	st, err = store.OpenSQLite(t.Context(), state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, _ := st.File(t.Context(), nid); n.State != store.FileArchived {
		t.Fatalf("requeued entry %s (%s), want archived", n.State, n.Note)
	}
	if n, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs")); n != 1 || all.lines != 2 {
		t.Errorf("%d 837s with %d lines, want 1 with 2", n, all.lines)
	}
}

// TestCrashDuringRedownload kills `calgw run` while it copies a file again
// into a work directory that lost its input (another instance fetched the
// file, or the directory was cleared): the part copied before the kill is
// never taken for the file, and the restart processes every line of it.
func TestCrashDuringRedownload(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	// Two kills while the file is worked on: not a poison file yet.
	cfg := writeConfig(t, strings.Replace(localConfig(dir, ""), "max_attempts: 2", "max_attempts: 5", 1))
	const lines = 600 // more than one read of the copy (32 KB)
	data := invoice("RD-1", 1, lines)
	if len(data) < 64<<10 {
		t.Fatalf("the invoice is %d bytes: too small to be cut by the crash", len(data))
	}
	dropFile(t, filepath.Join(dir, "inbox"), "redl.csv", data)
	input := crashAfterFetch(t, dir, cfg, state, "redl.csv")
	p := startCalgw(t, "downloading", dir, cfg, state, envCrashAt+"=downloading")
	p.crashed(30 * time.Second)
	if !strings.Contains(p.output(), "crash point downloading reached") {
		t.Fatalf("did not crash while downloading:\n%s", p.output())
	}
	if _, err := os.Stat(input); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a download cut short left the input %s: %v", input, err)
	}
	r := startCalgw(t, "restarted", dir, cfg, state)
	waitFor(t, 30*time.Second, "the file archived", drained(t, dir, 1))
	r.term()
	checkFinished(t, dir, state, 1, lines)
}

// crashAfterFetch kills `calgw run` once it has fetched the inbox's file
// name and clears the fetched copy's work directory, as a takeover on
// another node finds it; it returns the copy's path.
func crashAfterFetch(t *testing.T, dir, cfg, state, name string) string {
	t.Helper()
	p := startCalgw(t, "fetched", dir, cfg, state, envCrashAt+"=fetched")
	p.crashed(30 * time.Second)
	inputs, _ := filepath.Glob(filepath.Join(state, "work", "*", "in", name))
	if len(inputs) != 1 {
		t.Fatalf("inputs after the fetch: %v", inputs)
	}
	if err := os.RemoveAll(filepath.Dir(inputs[0])); err != nil {
		t.Fatal(err)
	}
	return inputs[0]
}

// TestRedownloadOfAChangedFileReleasesIt kills `calgw run` once a file is
// fetched, clears its work directory (as a takeover on another node
// finds it) and lets the sender's upload go on at the claim path: the
// restart, fetching the file again, finds other content than it hashed,
// and releases the claim, as the check before the commit does, so the file
// waits until it holds still and all of it is processed, never
// quarantined.
func TestRedownloadOfAChangedFileReleasesIt(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	cfg := writeConfig(t, localConfig(dir, ""))
	dropFile(t, filepath.Join(dir, "inbox"), "grow.csv", invoice("GR-1", 1, 2))
	crashAfterFetch(t, dir, cfg, state, "grow.csv")
	claimed, _ := filepath.Glob(filepath.Join(dir, "processing", "*-grow.csv"))
	if len(claimed) != 1 {
		t.Fatalf("claimed files: %v", claimed)
	}
	f, err := os.OpenFile(claimed[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(invoiceRow("GR-1", 3, 3) + "\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := startCalgw(t, "restarted", dir, cfg, state)
	waitFor(t, 30*time.Second, "the file archived", drained(t, dir, 1))
	r.term()
	entries := checkFinished(t, dir, state, 1, 3)
	if len(entries) != 1 || entries[0].State != store.FileArchived {
		t.Errorf("entries %+v, want grow.csv archived", entries)
	}
}
