package daemon

import (
	"context"
	"encoding/csv"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
)

func TestLocalDropToDeliveredEncounters(t *testing.T) {
	dir := t.TempDir()
	h := startDaemon(t, dir, localConfig(dir, ""))
	// Two providers' invoices; the second has a line with a code DHCS does
	// not allow.
	h.write("bay-street-2026-09.csv", invoice("BS-1", 1, 3))
	h.write("valley-2026-09.csv", invoice("VM-1", 100, 2, badRow("VM-2", 1, 200)))
	waitFor(t, 20*time.Second, "both files archived", settled(t, h.st, 2))

	files := byName(t, h.st)
	for _, n := range []string{"bay-street-2026-09.csv", "valley-2026-09.csv"} {
		if e := files[n]; e.State != store.FileArchived || e.DuplicateOf != 0 {
			t.Errorf("%s: %s (%s)", n, e.State, e.Note)
		}
	}
	// The 837Ps at the DHCS destination: valid, one per file, a claim per
	// member (each line here is another member's), every accepted line once.
	n837, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs"))
	if n837 != 2 || all.claims != 5 || all.lines != 5 {
		t.Errorf("delivered %d 837s with %d claims and %d lines; want 2, 5, 5", n837, all.claims, all.lines)
	}
	exactlyOnce(t, all.ids, 5)
	// Rejects and summaries go back to the sender, named after the input.
	resp := listDir(t, filepath.Join(dir, "outbox", "responses"))
	vm := files["valley-2026-09.csv"]
	rejects := "valley-2026-09." + itoa(vm.ID) + ".rejects.csv"
	if !slices.Contains(resp, rejects) || !slices.Contains(resp, "valley-2026-09."+itoa(vm.ID)+".summary.html") || len(resp) != 4 {
		t.Fatalf("responses = %v", resp)
	}
	rows := readCSV(t, filepath.Join(dir, "outbox", "responses", rejects))
	if len(rows) != 2 || rows[1][0] != "valley-2026-09.csv" || rows[1][2] != "VM-2" || rows[1][4] != "CODE-NOT-ALLOWED" {
		t.Errorf("rejects = %v", rows)
	}
	// Sources archived; nothing left behind.
	if got := listDir(t, filepath.Join(dir, "archive")); !slices.Equal(got, []string{"bay-street-2026-09.csv", "valley-2026-09.csv"}) {
		t.Errorf("archive = %v", got)
	}
	for _, sub := range []string{"inbox", "processing", "quarantine"} {
		if got := listDir(t, filepath.Join(dir, sub)); len(got) != 0 {
			t.Errorf("%s still holds %v", sub, got)
		}
	}
	if work, _ := os.ReadDir(filepath.Join(h.state, "work")); len(work) != 0 {
		t.Errorf("work directory not cleaned: %d entries", len(work))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestLocalSameContentTwiceIsProcessedOnce(t *testing.T) {
	dir := t.TempDir()
	h := startDaemon(t, dir, localConfig(dir, ""))
	content := invoice("DUP-1", 1, 2)
	h.write("sept.csv", content)
	waitFor(t, 20*time.Second, "first file archived", settled(t, h.st, 1))
	// The same content again under another name, and under the same name.
	h.write("sept-resent.csv", content)
	waitFor(t, 20*time.Second, "second file archived", settled(t, h.st, 2))
	h.write("sept.csv", content)
	waitFor(t, 20*time.Second, "third file archived", settled(t, h.st, 3))

	files, err := h.st.Files(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	first := files[len(files)-1]
	for _, f := range files[:len(files)-1] {
		if f.State != store.FileArchived || f.DuplicateOf != first.ID || !strings.Contains(f.Note, "duplicate") {
			t.Errorf("file %d %s: %s dup of %d (%s), want a duplicate of %d", f.ID, f.Name, f.State, f.DuplicateOf, f.Note, first.ID)
		}
	}
	n837, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs"))
	if n837 != 1 || all.lines != 2 {
		t.Errorf("%d 837s with %d lines, want 1 with 2", n837, all.lines)
	}
	// Each duplicate is archived with a note naming the original; the same
	// name archived twice keeps both files.
	arch := listDir(t, filepath.Join(dir, "archive"))
	want := []string{itoa(files[0].ID) + "-sept.csv", itoa(files[0].ID) + "-sept.csv.duplicate.txt", "sept-resent.csv", "sept-resent.csv.duplicate.txt", "sept.csv"}
	slices.Sort(want)
	if !slices.Equal(arch, want) {
		t.Fatalf("archive = %v, want %v", arch, want)
	}
	note, _ := os.ReadFile(filepath.Join(dir, "archive", "sept-resent.csv.duplicate.txt"))
	if !strings.Contains(string(note), "same content as file "+itoa(first.ID)+" (sept.csv") {
		t.Errorf("duplicate note:\n%s", note)
	}
	// The answers of the first file, and a note for each duplicate's sender.
	resp := listDir(t, filepath.Join(dir, "outbox", "responses"))
	wantResp := []string{"sept." + itoa(first.ID) + ".rejects.csv", "sept." + itoa(first.ID) + ".summary.html"}
	for _, f := range files[:len(files)-1] {
		wantResp = append(wantResp, strings.TrimSuffix(f.Name, ".csv")+"."+itoa(f.ID)+".duplicate.txt")
	}
	slices.Sort(wantResp)
	if !slices.Equal(resp, wantResp) {
		t.Errorf("responses = %v, want %v", resp, wantResp)
	}
}

func TestLocalSameContentInOnePollIsProcessedOnce(t *testing.T) {
	dir := t.TempDir()
	content := invoice("DUP-2", 1, 3)
	for _, n := range []string{"a.csv", "b.csv", "c.csv"} {
		dropFile(t, filepath.Join(dir, "inbox"), n, content)
	}
	h := startDaemon(t, dir, localConfig(dir, ""))
	waitFor(t, 20*time.Second, "files archived", settled(t, h.st, 3))
	processed := 0
	for _, f := range byName(t, h.st) {
		if f.DuplicateOf == 0 {
			processed++
		}
	}
	if processed != 1 {
		t.Errorf("%d of 3 identical files processed, want 1", processed)
	}
	if _, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs")); all.lines != 3 {
		t.Errorf("%d lines delivered, want 3", all.lines)
	}
}

func TestQuarantineBadFilesWhileGoodOnesFlow(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CALGW_TEST_PGP_PASSPHRASE", "calgw-test")
	h := startDaemon(t, dir, localConfig(dir, `
pgp:
  private_key_files: [../../testdata/daemon/pgp/plan-test.sec.asc]
  passphrase_env: CALGW_TEST_PGP_PASSPHRASE
`))
	garbage := []byte("\x00\x01PK\x03\x04 this is not a workbook")
	h.write("good-1.csv", invoice("G-1", 1, 2))
	h.write("roster.csv", []byte("npi,name\n1456789019,Bay Street\n"))
	h.write("broken.xlsx", garbage)
	h.write("damaged.csv.pgp", garbage)
	h.write("good-2.csv", invoice("G-2", 10, 1))
	h.write("notes.txt", []byte("not routed: stays where it is\n"))
	waitFor(t, 20*time.Second, "files done", settled(t, h.st, 5))

	files := byName(t, h.st)
	for _, n := range []string{"good-1.csv", "good-2.csv"} {
		if files[n].State != store.FileArchived {
			t.Errorf("%s: %s %s", n, files[n].State, files[n].Note)
		}
	}
	for n, reason := range map[string]string{
		"roster.csv":      "missing column",
		"broken.xlsx":     "broken.xlsx",
		"damaged.csv.pgp": "cannot decrypt",
	} {
		if files[n].State != store.FileQuarantined {
			t.Errorf("%s: %s, want quarantined", n, files[n].State)
			continue
		}
		text, err := os.ReadFile(filepath.Join(dir, "quarantine", n+".error.txt"))
		if err != nil {
			t.Errorf("%s: no .error.txt: %v", n, err)
			continue
		}
		if !strings.Contains(string(text), reason) || !strings.Contains(string(text), "ledger id: "+itoa(files[n].ID)) {
			t.Errorf("%s.error.txt does not give the reason (%q):\n%s", n, reason, text)
		}
		if _, err := os.Stat(filepath.Join(dir, "quarantine", n)); err != nil {
			t.Errorf("%s not in quarantine: %v", n, err)
		}
	}
	if _, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs")); all.lines != 3 {
		t.Errorf("%d lines delivered, want 3", all.lines)
	}
	if _, ok := files["notes.txt"]; ok {
		t.Error("an unrouted file entered the ledger")
	}
	if got := listDir(t, filepath.Join(dir, "inbox")); !slices.Equal(got, []string{"notes.txt"}) {
		t.Errorf("inbox = %v, want the unrouted file left in place", got)
	}
	if !strings.Contains(h.log.String(), "matches no route") {
		t.Error("the unrouted file was not reported")
	}
}

func TestLogsCarryNoMemberData(t *testing.T) {
	dir := t.TempDir()
	h := startDaemon(t, dir, localConfig(dir, ""))
	h.write("phi.csv", invoice("PHI-1", 4242, 2, badRow("PHI-2", 1, 4250)))
	h.write("not-an-invoice.csv", []byte("member_cin,member_last_name\n84242000A,Zmember4242\n"))
	waitFor(t, 20*time.Second, "files done", settled(t, h.st, 2))
	h.stop()
	logs := h.log.String()
	if !strings.Contains(logs, "phi.csv") {
		t.Fatalf("the log does not even name the file:\n%s", logs)
	}
	for _, phi := range []string{"80004242A", "80004243A", "80004250A", "Zmember4242", "Zmember4250", "1961-02-03", "19610203"} {
		if strings.Contains(logs, phi) {
			t.Errorf("the log holds member data %q", phi)
		}
	}
}

func TestPartialUploadIsNotPickedUp(t *testing.T) {
	dir := t.TempDir()
	h := startDaemon(t, dir, localConfig(dir, ""))
	// A provider's client writes the file in place, slowly: between polls
	// (every 50ms) it grows, so it is never stable until it is complete.
	path := filepath.Join(dir, "inbox", "slow.csv")
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(invoiceHeader + "\n")
	const lines = 25
	for i := range lines {
		f.WriteString(invoiceRow("SLOW-1", i+1, 500+i) + "\n")
		time.Sleep(25 * time.Millisecond)
		if i == lines/2 {
			if files, _ := h.st.Files(context.Background(), 0); len(files) != 0 {
				t.Fatalf("a file still being written was taken: %+v", files[0])
			}
		}
	}
	f.Close()
	waitFor(t, 20*time.Second, "the complete file archived", settled(t, h.st, 1))
	if _, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs")); all.lines != lines {
		t.Errorf("%d lines delivered, want all %d", all.lines, lines)
	}
}

func TestMarkerFileReadiness(t *testing.T) {
	dir := t.TempDir()
	yaml := strings.Replace(localConfig(dir, ""), "    quarantine: quarantine\n", "    quarantine: quarantine\n    ready: marker\n", 1)
	h := startDaemon(t, dir, yaml)
	h.write("waiting.csv", invoice("MK-1", 1, 1))
	time.Sleep(400 * time.Millisecond) // several polls
	if files, _ := h.st.Files(context.Background(), 0); len(files) != 0 {
		t.Fatalf("taken without its marker: %+v", files[0])
	}
	h.write("waiting.csv.done", nil)
	waitFor(t, 20*time.Second, "archived after the marker", settled(t, h.st, 1))
	if got := listDir(t, filepath.Join(dir, "inbox")); len(got) != 0 {
		t.Errorf("inbox after processing = %v (marker left behind?)", got)
	}
}

// blockDHCS puts a file where the DHCS outbox folder of dir goes, so that
// every delivery there fails until the test removes it; it returns its
// path.
func blockDHCS(t *testing.T, dir string) string {
	t.Helper()
	blocker := filepath.Join(dir, "outbox", "dhcs")
	if err := os.MkdirAll(filepath.Dir(blocker), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocker, []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	return blocker
}

func TestDeliveryRetriesUntilTheDestinationWorks(t *testing.T) {
	dir := t.TempDir()
	// Every delivery fails (not a transient error), but the file's lines
	// are sent, so it must neither be quarantined nor processed again: it
	// waits, retrying.
	blocker := blockDHCS(t, dir)
	h := startDaemon(t, dir, localConfig(dir, ""))
	h.write("retry.csv", invoice("RT-1", 1, 2))
	waitFor(t, 20*time.Second, "several failed deliveries", func() bool {
		f := byName(t, h.st)["retry.csv"]
		return f.State == store.FileProcessed && f.Attempts >= 3
	})
	f := byName(t, h.st)["retry.csv"]
	if f.Failures != 0 || !strings.Contains(f.LastError, "outbox/dhcs") {
		t.Errorf("after failed deliveries: failures=%d last error %q", f.Failures, f.LastError)
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "delivered and archived", settled(t, h.st, 1))
	if n, all := delivered837s(t, blocker); n != 1 || all.lines != 2 {
		t.Errorf("%d 837s with %d lines, want 1 with 2", n, all.lines)
	}
}

// TestSameNameWaitsBehindAnUnfinishedEntry drops a provider's fixed-name
// daily file while yesterday's, of the same name, still retries its
// delivery (the DHCS folder is blocked): the ledger holds one unfinished
// entry per path, so the new file waits, said once in the log, and is
// registered and processed as soon as the first is archived. Each file's
// lines are delivered once.
func TestSameNameWaitsBehindAnUnfinishedEntry(t *testing.T) {
	dir := t.TempDir()
	blocker := blockDHCS(t, dir)
	h := startDaemon(t, dir, localConfig(dir, ""))
	h.write("daily.csv", invoice("DAY-1", 1, 2))
	waitFor(t, 20*time.Second, "the first daily.csv processed, its delivery retrying", func() bool {
		f := byName(t, h.st)["daily.csv"]
		return f.State == store.FileProcessed && f.Attempts >= 1
	})
	h.write("daily.csv", invoice("DAY-2", 3, 2))
	const waits = "file waits: an earlier entry of the same path is not finished yet"
	waitFor(t, 20*time.Second, "the second daily.csv reported waiting", func() bool {
		return strings.Contains(h.log.String(), waits)
	})
	time.Sleep(300 * time.Millisecond) // several polls while it waits
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	bothArchived(t, h.st)
	if got := strings.Count(h.log.String(), waits); got != 1 {
		t.Errorf("the wait was logged %d times, want once", got)
	}
	if left := listDir(t, filepath.Join(dir, "inbox")); len(left) != 0 {
		t.Errorf("inbox still holds %v", left)
	}
	n, all := delivered837s(t, blocker)
	if n != 2 {
		t.Errorf("%d 837s delivered, want 2", n)
	}
	exactlyOnce(t, all.ids, 4)
}

// bothArchived waits until the ledger holds two settled entries and
// checks that both are archived, of different content, neither a
// duplicate.
func bothArchived(t *testing.T, st store.Ledger) {
	t.Helper()
	waitFor(t, 20*time.Second, "both files archived", settled(t, st, 2))
	files, err := st.Files(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Hash == files[1].Hash {
		t.Fatalf("ledger holds %d entries, want 2 of different content: %+v", len(files), files)
	}
	for _, f := range files {
		if f.State != store.FileArchived || f.DuplicateOf != 0 {
			t.Errorf("entry %d: %s (%s, duplicate of %d), want archived", f.ID, f.State, f.Note, f.DuplicateOf)
		}
	}
}

// TestFileLeftAtItsClaimPathIsClaimedFromThere starts the daemon on the
// state an interruption leaves (a queued entry whose file is at its claim
// path processing/<id>-<name>) while a new file of the same name already
// waits in the inbox: the entry is claimed from its claim path, the new
// file is not moved over it, and both are processed, each once.
func TestFileLeftAtItsClaimPathIsClaimedFromThere(t *testing.T) {
	dir := t.TempDir()
	h, err := newHarness(t, dir, localConfig(dir, ""))
	if err != nil {
		t.Fatal(err)
	}
	id, added, err := h.st.RegisterFile(t.Context(), store.FileNotice{Source: "inbox", Path: "inbox/daily.csv", Name: "daily.csv", Kind: "invoice", ModTime: time.Now()})
	if err != nil || !added {
		t.Fatalf("register: %v %v", added, err)
	}
	dropFile(t, filepath.Join(dir, "processing"), idPrefixed(id, "daily.csv"), invoice("LEFT-1", 1, 2))
	h.write("daily.csv", invoice("NEW-1", 3, 2))
	h.run()
	bothArchived(t, h.st)
	if !strings.Contains(h.log.String(), "file found where it was claimed before an interruption") {
		t.Error("the claim from the claim path was not logged")
	}
	n, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs"))
	if n != 2 {
		t.Errorf("%d 837s delivered, want 2", n)
	}
	exactlyOnce(t, all.ids, 4)
}

func TestRefusesToOverwriteAnUnknownFileAtTheDestination(t *testing.T) {
	dir := t.TempDir()
	// An 837 with the name this run will use is already there (a reset
	// state directory would do that): it must not be overwritten.
	dropFile(t, filepath.Join(dir, "outbox", "dhcs"), "encounters-000000001.837", []byte("someone else's interchange"))
	h := startDaemon(t, dir, localConfig(dir, ""))
	h.write("a.csv", invoice("OW-1", 1, 1))
	waitFor(t, 20*time.Second, "the delivery refused", func() bool {
		return strings.Contains(byName(t, h.st)["a.csv"].LastError, "refusing to overwrite")
	})
	if b, _ := os.ReadFile(filepath.Join(dir, "outbox", "dhcs", "encounters-000000001.837")); string(b) != "someone else's interchange" {
		t.Error("the existing file was overwritten")
	}
}

func TestUnavailableKindIsAConfigurationError(t *testing.T) {
	var missing string
	for _, k := range []string{"adt", "dhcs-response", "837P", "auth", "834", "roster"} {
		if _, ok := processors[k]; !ok {
			missing = k
			break
		}
	}
	if missing == "" {
		t.Skip("every file kind has a processor")
	}
	dir := t.TempDir()
	for name, tc := range map[string]struct{ yaml, want string }{
		"kind without processor": {"routes:\n  - {pattern: '*.hl7', kind: " + missing + "}\n", `kind "` + missing + `" has no processor`},
		"unknown output role":    {"routes:\n  - {pattern: '*.csv', kind: invoice, deliver: {acks: dhcs}}\n", `has no output "acks"`},
		"missing default destination": {"routes:\n  - {pattern: '*.csv', kind: invoice, deliver: {encounters: dhcs}}\n",
			`sends its rejects output to destination "responses" by default`},
	} {
		t.Run(name, func(t *testing.T) {
			yaml := localConfig(dir, tc.yaml)
			if strings.Contains(name, "default destination") {
				yaml = strings.Replace(yaml, "  responses: {", "  senders: {", 1)
			}
			_, err := newHarness(t, dir, yaml)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestGracefulShutdownAndRestartLoseNothing(t *testing.T) {
	dir := t.TempDir()
	const files = 12
	for i := range files {
		dropFile(t, filepath.Join(dir, "inbox"), "batch-"+itoa(int64(i))+".csv", invoice("GS-"+itoa(int64(i)), 10*i, 2))
	}
	h := startDaemon(t, dir, localConfig(dir, ""))
	waitFor(t, 20*time.Second, "the first file archived", func() bool {
		c, _ := h.st.CountFiles(context.Background())
		return c[store.FileArchived] >= 1
	})
	start := time.Now()
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("shutdown took %v", took)
	}
	// The file in hand was finished; nothing is left held by the stopped
	// instance (queued files are free for whoever starts next).
	all, err := h.st.Files(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range all {
		if !f.State.Final() && (f.State != store.FileQueued || f.Owner != "") {
			t.Errorf("after shutdown file %d is %s held by %q", f.ID, f.State, f.Owner)
		}
	}
	// A new daemon on the same state finishes the rest, each line once.
	h2, err := New(context.Background(), Options{Config: h.cfg, Store: h.st, StateDir: h.state,
		Log: slog.New(slog.NewTextHandler(h.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.d = h2
	h.run()
	waitFor(t, 30*time.Second, "every file archived", settled(t, h.st, files))
	_, lines := delivered837s(t, filepath.Join(dir, "outbox", "dhcs"))
	exactlyOnce(t, lines.ids, 2*files)
}

// TestSameFileDroppedAgainRightAfterItsClaimIsProcessed drops a file, and
// once it is claimed (gone from the inbox), drops it again before the next
// poll with the same size and modification time (a sync tool that keeps
// times, sending what it no longer finds): the second copy is a file of its
// own, archived as a duplicate of the first, not left in the inbox for
// ever as the file the poll had registered.
func TestSameFileDroppedAgainRightAfterItsClaimIsProcessed(t *testing.T) {
	dir := t.TempDir()
	h := startDaemon(t, dir, strings.Replace(localConfig(dir, ""), "poll_interval: 50ms", "poll_interval: 1s", 1))
	content := invoice("AGAIN-1", 1, 2)
	inbox := filepath.Join(dir, "inbox")
	h.write("resent.csv", content)
	mod := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(filepath.Join(inbox, "resent.csv"), mod, mod); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the file claimed", func() bool {
		return len(byName(t, h.st)) == 1 && len(listDir(t, inbox)) == 0
	})
	h.write("resent.csv", content)
	if err := os.Chtimes(filepath.Join(inbox, "resent.csv"), mod, mod); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "both copies final", settled(t, h.st, 2))
	files, err := h.st.Files(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].DuplicateOf != files[1].ID || files[0].State != store.FileArchived {
		t.Errorf("ledger: %+v; want the second copy archived as a duplicate of the first", files)
	}
	if left := listDir(t, inbox); len(left) != 0 {
		t.Errorf("inbox still holds %v", left)
	}
}
