package daemon

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// TestRejectsBackToTheSenderNameOnlyItsOwnLines: provider B's file repeats
// a line provider A sent (the same rendering provider, member, date and
// code): B's rejects.csv and summary.html, as delivered to responses,
// carry the rule ID and the console's short message, and no A invoice
// number, 837 file name or line control; the decision the plan's console
// reads keeps the full message. B's repeat within its own file, and B's
// next file repeating B's own line, keep the full message.
func TestRejectsBackToTheSenderNameOnlyItsOwnLines(t *testing.T) {
	dir := t.TempDir()
	h := startDaemon(t, dir, localConfig(dir, ""))
	header := invoiceHeader + ",rendering_npi,rendering_name\n"
	rendered := func(npi, inv string, line, m int) string {
		return strings.Replace(invoiceRow(inv, line, m), "1456789019", npi, 1) + ",1982345674,Shared Clinician\n"
	}
	h.write("provider-a.csv", []byte(header+rendered("1456789019", "AINV77", 1, 1)))
	waitFor(t, 20*time.Second, "A's file done", settled(t, h.st, 1))
	dhcs := listDir(t, filepath.Join(dir, "outbox", "dhcs"))
	if len(dhcs) != 1 {
		t.Fatalf("A's 837s: %v", dhcs)
	}
	h.write("provider-b.csv", []byte(header+
		rendered("1234567893", "BINV88", 1, 1)+ // repeats A's line
		rendered("1234567893", "BINV88", 2, 2)+ // accepted
		rendered("1234567893", "BINV88", 3, 2))) // repeats line 2
	waitFor(t, 20*time.Second, "B's file done", settled(t, h.st, 2))
	h.write("provider-b-again.csv", []byte(header+rendered("1234567893", "BINV99", 1, 2)))
	waitFor(t, 20*time.Second, "B's second file done", settled(t, h.st, 3))

	files := byName(t, h.st)
	b, again := files["provider-b.csv"], files["provider-b-again.csv"]
	for _, f := range []store.FileEntry{files["provider-a.csv"], b, again} {
		if f.State != store.FileArchived {
			t.Fatalf("%s: %s (%s)", f.Name, f.State, f.Note)
		}
	}
	ds, err := h.st.(store.ConsoleStore).Console().RunDecisions(context.Background(), b.RunID, true, "", 0, 10)
	if err != nil || len(ds) != 2 || ds[0].Invoice != "BINV88" || ds[0].LineNo != "1" {
		t.Fatalf("B's recorded rejects: %v %+v", err, ds)
	}
	full := ds[0].Message
	control := regexp.MustCompile(`line control (\S+)\)`).FindStringSubmatch(full)
	if !strings.Contains(full, "AINV77") || !strings.Contains(full, dhcs[0]) || control == nil {
		t.Fatalf("the console's decision is not the full message: %q", full)
	}

	rejects := readCSV(t, filepath.Join(dir, "outbox", "responses", "provider-b."+itoa(b.ID)+".rejects.csv"))
	if len(rejects) != 3 || strings.Join(rejects[0], ",") != "source_file,row,invoice_number,line_number,rule_id,field,message" {
		t.Fatalf("B's rejects.csv: %v", rejects)
	}
	if r := rejects[1]; r[2] != "BINV88" || r[3] != "1" || r[4] != "DUPLICATE-LINE" || r[6] != encounters.DuplicateForOthers {
		t.Errorf("B's repeat of A's line: %v", r)
	}
	if r := rejects[2]; r[3] != "3" || r[4] != "DUPLICATE-LINE" || !strings.Contains(r[6], "repeats invoice BINV88 line 2 earlier in this file") {
		t.Errorf("B's repeat within its file: %v", r)
	}
	for _, name := range []string{".rejects.csv", ".summary.html"} {
		text := string(h.response("provider-b." + itoa(b.ID) + name))
		for _, leak := range []string{"AINV77", dhcs[0], control[1]} {
			if strings.Contains(text, leak) {
				t.Errorf("B's %s names A's line (%s):\n%s", name, leak, text)
			}
		}
	}

	rejects = readCSV(t, filepath.Join(dir, "outbox", "responses", "provider-b-again."+itoa(again.ID)+".rejects.csv"))
	if len(rejects) != 2 || rejects[1][4] != "DUPLICATE-LINE" || !strings.Contains(rejects[1][6], "BINV88 line 2") ||
		!strings.Contains(rejects[1][6], "line control ") {
		t.Errorf("B's repeat of its own earlier line: %v", rejects)
	}
}
