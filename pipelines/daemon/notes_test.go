package daemon

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// TestSenderIsToldOfQuarantineAndDuplicate drops files that are not
// processed: an invoice that is not a spreadsheet, an invoice whose
// content was received before, an 834 that is not X12 at all (no ISA to
// address a TA1 to), an 834 past limits.loop_segments, and one whose name
// holds a control byte. Each sender gets a plain-language note where that
// kind's answers go (the route's rejects or report destination): what
// happened, why, what to do, and the file's reference; a duplicate's names
// the first file. No note carries member data, and the sources still go to
// quarantine (with their .error.txt) or the archive.
func TestSenderIsToldOfQuarantineAndDuplicate(t *testing.T) {
	dir := t.TempDir()
	team := filepath.Join(dir, "outbox", "team")
	yaml := strings.Replace(localConfig(dir, `
limits: {loop_segments: 50}
routes:
  - {pattern: "*.834", kind: "834", deliver: {report: team}}
  - {pattern: "*.csv", kind: invoice}
  - {pattern: "*.xlsx", kind: invoice}
`), "destinations:\n", "destinations:\n  team: {transport: {type: local, local: {dir: "+strconv.Quote(dir)+"}}, folder: outbox/team}\n", 1)
	h := startDaemon(t, dir, yaml)
	content := invoice("NOTE-1", 1, 2)
	h.write("sept.csv", content)
	waitFor(t, 20*time.Second, "first file archived", settled(t, h.st, 1))
	h.write("sept-again.csv", content)
	h.write("broken.xlsx", []byte("\x00\x01PK\x03\x04 this is not a workbook"))
	h.write("garbled.834", []byte("Zmember1 8000001A this is not an 834\n"))
	h.write("ctl\x01name.xlsx", []byte("not a workbook either"))
	big := string(readTestdata(t, enrollmentData+"demo-sunrise-2026-09.834"))
	i := strings.Index(big, "REF*0F*")
	h.write("refs.834", []byte(big[:i]+strings.Repeat("REF*17*X~", 60)+big[i:]))
	waitFor(t, 20*time.Second, "every file final", settled(t, h.st, 5))

	files := byName(t, h.st)
	first := files["sept.csv"]
	resp := filepath.Join(dir, "outbox", "responses")
	cases := []struct {
		file, folder, note string
		state              store.FileState
		want               []string
	}{
		{"sept-again.csv", resp, "sept-again.%d.duplicate.txt", store.FileArchived,
			[]string{"was received but not processed again", "same content as the file sept.csv received on", "Nothing from it was used or sent twice", "a copy of file " + itoa(first.ID)}},
		{"broken.xlsx", resp, "broken.%d.quarantined.txt", store.FileQuarantined,
			[]string{"Your file broken.xlsx was received but could not be processed", "Why: broken.xlsx", "Please correct the file and send it again"}},
		{"garbled.834", team, "garbled.%d.quarantined.txt", store.FileQuarantined,
			[]string{"Your file garbled.834 was received but could not be processed", "not an X12 interchange", "send it again"}},
		{"refs.834", team, "refs.%d.quarantined.txt", store.FileQuarantined,
			[]string{"could not be processed", "limits.loop_segments", "segment"}},
	}
	for _, c := range cases {
		e, ok := files[c.file]
		if !ok || e.State != c.state {
			t.Errorf("%q: %s (%s), want %s", c.file, e.State, e.Note, c.state)
			continue
		}
		name := strings.Replace(c.note, "%d", itoa(e.ID), 1)
		b, err := os.ReadFile(filepath.Join(c.folder, name))
		if err != nil {
			t.Errorf("%q: no note for the sender: %v (%s has %v)", c.file, err, c.folder, listDir(t, c.folder))
			continue
		}
		note := string(b)
		for _, w := range append(c.want, "Reference: file "+itoa(e.ID)) {
			if !strings.Contains(note, w) {
				t.Errorf("%q: the note lacks %q:\n%s", c.file, w, note)
			}
		}
		for _, phi := range []string{"Zmember", "8000001A", "1961"} {
			if strings.Contains(note, phi) {
				t.Errorf("%q: the note carries member data %q:\n%s", c.file, phi, note)
			}
		}
		if strings.Contains(note, "ErrUnusable") || strings.Contains(note, "unusable input:") {
			t.Errorf("%q: the note speaks Go:\n%s", c.file, note)
		}
	}
	// A name the gateway cannot carry is quarantined before it has a
	// ledger entry: its note has a name of printable characters and no
	// reference.
	odd, err := os.ReadFile(filepath.Join(resp, "ctl_name.quarantined.txt"))
	if err != nil {
		t.Errorf("no note for a name with a control byte: %v (%v)", err, listDir(t, resp))
	}
	for _, w := range []string{`Your file "ctl\x01name.xlsx" was received but could not be processed`, "control character (U+0001); give it a name of printable characters only", "send it again"} {
		if !strings.Contains(string(odd), w) {
			t.Errorf("the odd name's note lacks %q:\n%s", w, odd)
		}
	}
	// The sources went where they always go, the quarantined ones with
	// their .error.txt.
	q := listDir(t, filepath.Join(dir, "quarantine"))
	for _, n := range []string{"ctl\x01name.xlsx", "broken.xlsx", "broken.xlsx.error.txt", "garbled.834", "garbled.834.error.txt", "refs.834", "refs.834.error.txt"} {
		if !slices.Contains(q, n) {
			t.Errorf("quarantine lacks %s: %v", n, q)
		}
	}
	if a := listDir(t, filepath.Join(dir, "archive")); !slices.Contains(a, "sept-again.csv.duplicate.txt") {
		t.Errorf("archive = %v", a)
	}
	// The processed file's own answers are there, and no note for it.
	for _, n := range listDir(t, resp) {
		if strings.HasPrefix(n, "sept."+itoa(first.ID)+".") && strings.HasSuffix(n, ".txt") {
			t.Errorf("a note for the processed file: %s", n)
		}
	}
}

// TestDuplicateNoteNamesOnlyTheSendersOwnFile: the note of a file whose
// content came before names the first file and its time when the same
// source and folder received it, and neither when another sender's did.
func TestDuplicateNoteNamesOnlyTheSendersOwnFile(t *testing.T) {
	at := time.Date(2026, 9, 1, 10, 30, 0, 0, time.UTC)
	e := &store.FileEntry{ID: 9, Source: "sftp-acme", Path: "in/acme/sept-again.csv", Name: "sept-again.csv", Noticed: at.Add(time.Hour)}
	cases := []struct {
		name       string
		first      store.FileEntry
		namesFirst bool
	}{
		{"same source and folder", store.FileEntry{ID: 4, Source: "sftp-acme", Path: "in/acme/sept.csv", Name: "sept.csv", Noticed: at}, true},
		{"another source", store.FileEntry{ID: 4, Source: "sftp-other", Path: "in/acme/sept.csv", Name: "sept.csv", Noticed: at}, false},
		{"another folder of the source", store.FileEntry{ID: 4, Source: "sftp-acme", Path: "in/other/sept.csv", Name: "sept.csv", Noticed: at}, false},
	}
	for _, c := range cases {
		note := duplicateNote(e, &c.first)
		named := strings.Contains(note, "sept.csv") || strings.Contains(note, "2026-09-01 10:30")
		if named != c.namesFirst {
			t.Errorf("%s: the note names the first file or its time: %v, want %v:\n%s", c.name, named, c.namesFirst, note)
		}
		for _, w := range []string{"sept-again.csv was received but not processed again", "Reference: file 9, a copy of file 4"} {
			if !strings.Contains(note, w) {
				t.Errorf("%s: the note lacks %q:\n%s", c.name, w, note)
			}
		}
	}
}
