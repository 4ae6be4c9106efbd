package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// longName is a file name of n bytes ending in .csv.
func longName(prefix string, n int) string {
	return prefix + strings.Repeat("x", n-len(prefix)-len(".csv")) + ".csv"
}

// dropShort drops a file through a short temporary name (dropFile's would
// be too long for the longest names).
func dropShort(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".upload.tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// TestLongFileNamesAreProcessedAndAnswered drops invoices whose names are
// 250 to 255 bytes long (the longest a file name may be): each is claimed,
// converted, its rejects and summary are delivered under names that fit
// (the stem shortened, the ledger ID and the suffix kept), and the source
// is archived.
func TestLongFileNamesAreProcessedAndAnswered(t *testing.T) {
	dir := t.TempDir()
	h := startDaemon(t, dir, localConfig(dir, ""))
	sizes := []int{250, 253, 255}
	for i, n := range sizes {
		dropShort(t, filepath.Join(dir, "inbox"), longName(fmt.Sprintf("l%d-", n), n), invoice(fmt.Sprintf("LN-%d", i), 10*i+1, 1, badRow(fmt.Sprintf("LNB-%d", i), 1, 10*i+5)))
	}
	waitFor(t, 20*time.Second, "every file final", settled(t, h.st, len(sizes)))
	files := byName(t, h.st)
	resp := listDir(t, filepath.Join(dir, "outbox", "responses"))
	archive := listDir(t, filepath.Join(dir, "archive"))
	for _, n := range sizes {
		name := longName(fmt.Sprintf("l%d-", n), n)
		e := files[name]
		if e.State != store.FileArchived {
			t.Errorf("%d-byte name: %s, want archived (%s; last error %s)", n, e.State, e.Note, e.LastError)
			continue
		}
		if !slices.Contains(archive, name) {
			t.Errorf("%d-byte name not in the archive", n)
		}
		for _, suffix := range []string{".rejects.csv", ".summary.html"} {
			end := "." + itoa(e.ID) + suffix
			found := false
			for _, r := range resp {
				if strings.HasPrefix(r, fmt.Sprintf("l%d-", n)) && strings.HasSuffix(r, end) {
					found = true
					if len(r) > 255 {
						t.Errorf("response name of %d bytes", len(r))
					}
				}
			}
			if !found {
				t.Errorf("%d-byte name: no response ending %s in %v", n, end, resp)
			}
		}
	}
	for _, sub := range []string{"inbox", "processing", "quarantine"} {
		if got := listDir(t, filepath.Join(dir, sub)); len(got) != 0 {
			t.Errorf("%s still holds %v", sub, got)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "outbox", "dhcs")); err != nil {
		t.Error(err)
	}
}

// TestFitNameKeepsTheIDAndSuffix pins how derived names are shortened to
// 255 bytes: the stem is cut (never inside a UTF-8 character), the ledger
// ID and the suffix stay.
func TestFitNameKeepsTheIDAndSuffix(t *testing.T) {
	long := strings.Repeat("a", 250)
	utf := strings.Repeat("é", 125) // 250 bytes
	tests := []struct {
		name, in string
		id       int64
		limit    int
		want     string
	}{
		{"short names are kept", "sept.7.rejects.csv", 7, 255, "sept.7.rejects.csv"},
		{"long stem cut, ID and suffix kept", long + ".12.rejects.csv", 12, 255, long[:240] + ".12.rejects.csv"},
		{"room left for an encryption ending", long + ".12.rejects.csv", 12, 251, long[:236] + ".12.rejects.csv"},
		{"cut at a character boundary", utf + ".12.summary.html", 12, 255, strings.Repeat("é", 119) + ".12.summary.html"},
		{"no ID: the extension kept", long + "-more-than-fits.837", 9, 255, (long + "-more-than-fits")[:251] + ".837"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fitOutputName(tc.in, tc.id, tc.limit)
			if got != tc.want {
				t.Errorf("fitOutputName = %q (%d bytes), want %q", got, len(got), tc.want)
			}
			if len(got) > tc.limit {
				t.Errorf("%d bytes, limit %d", len(got), tc.limit)
			}
		})
	}
	if got := idPrefixed(42, longName("p", 255)); len(got) != 255 || !strings.HasPrefix(got, "42-p") || !strings.HasSuffix(got, ".csv") {
		t.Errorf("idPrefixed = %q (%d bytes)", got, len(got))
	}
}

// TestLeftoverTemporaryCopiesAreRemovedAtStart leaves what a crash during
// a delivery leaves, hidden temporary copies of an 837, in a local and an
// SFTP destination (and a source's quarantine folder), beside files that
// only look alike; the daemon's start removes exactly the former.
func TestLeftoverTemporaryCopiesAreRemovedAtStart(t *testing.T) {
	srv := testsrv.SSHD(t)
	dir := t.TempDir()
	tmp := ".encounters-000000007.837.0123456789abcdef.calgw-tmp"
	keep := []string{"encounters-000000006.837", ".encounters-000000007.837.calgw-tmp", "x.0123456789abcdef.calgw-tmp"}
	for _, folder := range []string{filepath.Join(dir, "outbox", "dhcs"), filepath.Join(dir, "quarantine")} {
		for _, n := range append([]string{tmp}, keep...) {
			dropShort(t, folder, n, []byte("ISA*member data"))
		}
	}
	for _, n := range append([]string{tmp}, keep...) {
		sftpUpload(t, srv, "outbound/"+n, []byte("ISA*member data"))
	}
	yaml := localConfig(dir, "") + fmt.Sprintf("  sftp-dhcs: {transport: %s, folder: outbound}\n", sftpTransport(srv, srv.KnownHostsFile))
	h := startDaemon(t, dir, yaml)
	waitFor(t, 10*time.Second, "the start's clean-up", func() bool {
		return strings.Count(h.log.String(), "removed temporary copies left by an interrupted delivery") == 3
	})
	for _, folder := range []string{filepath.Join(dir, "outbox", "dhcs"), filepath.Join(dir, "quarantine"), filepath.Join(srv.Dir, "outbound")} {
		var names []string
		entries, err := os.ReadDir(folder)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		slices.Sort(names)
		want := slices.Sorted(slices.Values(keep))
		if !slices.Equal(names, want) {
			t.Errorf("%s holds %q, want %q", folder, names, want)
		}
	}
}

// settleConfig is localConfig with the inbox's settle interval set.
func settleConfig(dir, settle string) string {
	return strings.Replace(localConfig(dir, ""), "    quarantine: quarantine\n", "    quarantine: quarantine\n    settle: "+settle+"\n", 1)
}

// TestHalfWrittenUploadWaitsUntilComplete plays an upload that stalls
// half-written for longer than two polls (so ready: stable takes it), then
// goes on writing: the settle check sees the claimed file change, moves it
// back and lets it wait, and the complete file is processed, every line of
// it.
func TestHalfWrittenUploadWaitsUntilComplete(t *testing.T) {
	dir := t.TempDir()
	h := startDaemon(t, dir, settleConfig(dir, "1s"))
	completesHalfWritten(t, h, dir, "upload.csv", invoice("HW-1", 1, 6))
}

// completesHalfWritten writes data into the inbox as name, stalls past two
// polls once the daemon has taken the half-written file, writes the rest,
// and checks that the settle check saw the change and that the complete
// file is archived and its 6 lines delivered in one 837.
func completesHalfWritten(t *testing.T, h *harness, dir, name string, data []byte) {
	t.Helper()
	inbox := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	f, rest := halfWritten(t, filepath.Join(inbox, name), data)
	waitFor(t, 10*time.Second, "the half-written file taken", func() bool {
		return strings.Contains(h.log.String(), "file noticed")
	})
	time.Sleep(300 * time.Millisecond) // stalled past two polls and the claim
	if _, err := f.Write(rest); err != nil {
		t.Fatal(err)
	}
	f.Close()
	waitFor(t, 20*time.Second, "the file archived", settled(t, h.st, 1))
	e := byName(t, h.st)[name]
	if e.State != store.FileArchived {
		t.Fatalf("entry %s (%s), want archived", e.State, e.Note)
	}
	if !strings.Contains(h.log.String(), "file still changing") {
		t.Error("the settle check did not report the change")
	}
	n837, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs"))
	if n837 != 1 || all.lines != 6 {
		t.Errorf("delivered %d 837s with %d lines, want 1 with all 6", n837, all.lines)
	}
}

// TestChangingFileReleasedBeforeACrashIsClaimedAgain stops `calgw run`
// (crash hook "released") after the settle check released a changing
// upload's claim and before the file was moved back to the inbox: the
// ledger has the entry queued while the file is still at its claim path.
// After the restart the file is claimed from there and processed, every
// line once, never quarantined.
func TestChangingFileReleasedBeforeACrashIsClaimedAgain(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	cfg := writeConfig(t, settleConfig(dir, "1s"))
	inbox, processing := filepath.Join(dir, "inbox"), filepath.Join(dir, "processing")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	f, rest := halfWritten(t, filepath.Join(inbox, "upload.csv"), invoice("RC-1", 1, 6))
	p := startCalgw(t, "crashing", dir, cfg, state, envCrashAt+"=released")
	waitFor(t, 30*time.Second, "the half-written file claimed", func() bool { return len(listDir(t, processing)) == 1 })
	time.Sleep(300 * time.Millisecond) // inside the settle interval
	if _, err := f.Write(rest); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p.crashed(30 * time.Second)

	// What the crash left: a queued entry, its file still claimed.
	claimed := listDir(t, processing)
	if len(claimed) != 1 || len(listDir(t, inbox)) != 0 {
		t.Fatalf("processing holds %v, inbox %v; want the file at its claim path", claimed, listDir(t, inbox))
	}
	st, err := store.OpenSQLite(t.Context(), state)
	if err != nil {
		t.Fatal(err)
	}
	e := byName(t, st)["upload.csv"]
	st.Close()
	if e.State != store.FileQueued || e.ClaimPath != "" || !strings.Contains(e.Note, "changed while it was read") {
		t.Fatalf("after the crash: %s, claim path %q, note %q; want queued, released", e.State, e.ClaimPath, e.Note)
	}

	r := startCalgw(t, "restarted", dir, cfg, state)
	waitFor(t, 30*time.Second, "the file archived", drained(t, dir, 1))
	r.term()
	if !strings.Contains(r.output(), "file found where it was claimed before an interruption") {
		t.Error("the restart did not report the file found at its claim path")
	}
	st, err = store.OpenSQLite(t.Context(), state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	files, err := st.Files(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].State != store.FileArchived || files[0].Failures != 0 {
		t.Fatalf("ledger = %+v, want one entry archived without failures", files)
	}
	n837, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs"))
	if n837 != 1 || all.lines != 6 {
		t.Errorf("delivered %d 837s with %d lines, want 1 with all 6", n837, all.lines)
	}
}

// TestSourceChangedAfterProcessingIsReported stops `calgw run` (crash
// hook) after a file's outputs are recorded, appends to the claimed source
// as a sender still writing would, and restarts: the file is archived (its
// lines were sent) but the change is logged and noted in the ledger.
func TestSourceChangedAfterProcessingIsReported(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	cfg := writeConfig(t, settleConfig(dir, "50ms"))
	dropFile(t, filepath.Join(dir, "inbox"), "late.csv", invoice("LT-1", 1, 2))
	p := startCalgw(t, "crashing", dir, cfg, state, envCrashAt+"=recorded")
	p.crashed(30 * time.Second)
	claimed := listDir(t, filepath.Join(dir, "processing"))
	if len(claimed) != 1 {
		t.Fatalf("processing holds %v, want the claimed file", claimed)
	}
	f, err := os.OpenFile(filepath.Join(dir, "processing", claimed[0]), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(invoiceRow("LT-2", 1, 50) + "\n")
	f.Close()
	r := startCalgw(t, "restarted", dir, cfg, state)
	waitFor(t, 30*time.Second, "the file archived", drained(t, dir, 1))
	r.term()
	st, err := store.OpenSQLite(t.Context(), state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := byName(t, st)["late.csv"]
	if e.State != store.FileArchived || !strings.Contains(e.Note, "the source changed after it was processed") {
		t.Errorf("entry %s, note %q; want archived with the change noted", e.State, e.Note)
	}
	if !strings.Contains(r.output(), "source changed after it was processed") {
		t.Error("the change was not logged")
	}
}

// TestOddNamesAndEntriesAreReported drops files whose names are not valid
// UTF-8 or hold control bytes, and a folder, a symbolic link and a named
// pipe named *.csv, beside a good file: the bad names are quarantined under
// their original bytes with the reason, and the odd entries are logged once
// each (over many polls) and left in place; the good file flows.
func TestOddNamesAndEntriesAreReported(t *testing.T) {
	dir := t.TempDir()
	inbox := filepath.Join(dir, "inbox")
	h := startDaemon(t, dir, localConfig(dir, ""))
	badNames := map[string]string{
		"bad\xff\xfename.csv": "not valid UTF-8",
		"tab\tname.csv":       "control character",
		"bell\x07.csv":        "control character",
	}
	for n := range badNames {
		dropShort(t, inbox, n, invoice("ON-1", 1, 1))
	}
	if err := os.MkdirAll(filepath.Join(inbox, "folder.csv"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "elsewhere.csv"), filepath.Join(inbox, "link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(inbox, "pipe.csv"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.write("good.csv", invoice("ON-2", 10, 2))
	waitFor(t, 20*time.Second, "the good file archived", settled(t, h.st, 1))
	waitFor(t, 10*time.Second, "the bad names quarantined", func() bool {
		return len(listDir(t, filepath.Join(dir, "quarantine"))) == 2*len(badNames)
	})
	time.Sleep(300 * time.Millisecond) // more polls: nothing is reported twice
	quarantine := listDir(t, filepath.Join(dir, "quarantine"))
	for n, why := range badNames {
		if !slices.Contains(quarantine, n) {
			t.Errorf("%q not quarantined under its own bytes (quarantine: %q)", n, quarantine)
		}
		note, err := os.ReadFile(filepath.Join(dir, "quarantine", n+".error.txt"))
		if err != nil || !strings.Contains(string(note), why) {
			t.Errorf("%q: note %q (%v), want the reason %q", n, note, err, why)
		}
	}
	if files := byName(t, h.st); len(files) != 1 || files["good.csv"].State != store.FileArchived {
		t.Errorf("ledger = %v, want only good.csv, archived", files)
	}
	log := h.log.String()
	for _, n := range []string{"folder.csv", "link.csv", "pipe.csv"} {
		if got := strings.Count(log, "not a plain file"); got != 3 {
			t.Errorf("odd entries reported %d times, want 3 (once each)", got)
			break
		}
		if !strings.Contains(log, "name="+n) {
			t.Errorf("%s not reported", n)
		}
		if _, err := os.Lstat(filepath.Join(inbox, n)); err != nil {
			t.Errorf("%s not left in place: %v", n, err)
		}
	}
}

// halfWritten creates path with the first half of content, as an upload
// still being written, and returns the open file and the half to write.
func halfWritten(t *testing.T, path string, content []byte) (*os.File, []byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	half := len(content) / 2
	if _, err := f.Write(content[:half]); err != nil {
		t.Fatal(err)
	}
	return f, content[half:]
}

// TestFileSwappedForALinkIsNotFollowed: a file registered from the inbox
// is replaced by a symbolic link to a file outside the drop before it is
// claimed (a sender on the same machine). The link is not followed: the
// file it points to is neither read nor sent.
func TestFileSwappedForALinkIsNotFollowed(t *testing.T) {
	dir := t.TempDir()
	h, err := newHarness(t, dir, localConfig(dir, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, added, err := h.st.RegisterFile(t.Context(), store.FileNotice{Source: "inbox", Path: "inbox/swap.csv", Name: "swap.csv", Kind: "invoice", ModTime: time.Now()}); err != nil || !added {
		t.Fatalf("register: %v %v", added, err)
	}
	outside := filepath.Join(t.TempDir(), "not-for-senders.csv")
	if err := os.WriteFile(outside, invoice("LINK-1", 1, 2), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "inbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "inbox", "swap.csv")); err != nil {
		t.Fatal(err)
	}
	h.run()
	waitFor(t, 20*time.Second, "the entry settled", settled(t, h.st, 1))
	if n, _ := delivered837s(t, filepath.Join(dir, "outbox", "dhcs")); n != 0 {
		t.Errorf("%d 837s delivered from the file behind the link, want none", n)
	}
	if fi, err := os.Lstat(outside); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the linked file: %v %v", fi, err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "inbox", "swap.csv")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was not left in place: %v %v", fi, err)
	}
	if f := byName(t, h.st)["swap.csv"]; f.State != store.FileLost || !strings.Contains(f.Note, "not a plain file") {
		t.Errorf("entry: %s (%s), want lost, replaced by a link", f.State, f.Note)
	}
}
