package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// TestDaemonTakesTheBillingAddressFromTheRoster converts, in the daemon,
// the invoice of a small provider the roster knows: no billing street and
// a 5-digit ZIP. As in `calgw convert`, the 837P's billing provider
// (2010AA N3/N4) carries the roster site's address with its ZIP+4, and
// the line is not rejected; the same invoice before the roster was loaded
// is rejected, naming billing_address and the 5-digit billing_zip.
func TestDaemonTakesTheBillingAddressFromTheRoster(t *testing.T) {
	dir := t.TempDir()
	h := startDaemon(t, dir, localConfig(dir, feedRoutes))
	small := func(inv string, m int) []byte {
		row := strings.Replace(invoiceRow(inv, 1, m), "Bay Street Housing,1200 Mission St,San Francisco,CA,941031520", "Bay Street Housing,,,,94103", 1)
		return []byte(invoiceHeader + "\n" + row + "\n")
	}
	h.write("before.csv", small("SMALL-0", 1))
	waitFor(t, 20*time.Second, "invoice before the roster done", settled(t, h.st, 1))
	h.write("roster-demo.csv", readTestdata(t, rosterData+"demo-roster.csv"))
	waitFor(t, 20*time.Second, "roster loaded", settled(t, h.st, 2))
	h.write("after.csv", small("SMALL-1", 2))
	waitFor(t, 20*time.Second, "invoice after the roster done", settled(t, h.st, 3))

	files := byName(t, h.st)
	for _, n := range []string{"before.csv", "roster-demo.csv", "after.csv"} {
		if files[n].State != store.FileArchived {
			t.Fatalf("%s: %s (%s)", n, files[n].State, files[n].Note)
		}
	}
	rejects := string(h.response("before." + itoa(files["before.csv"].ID) + ".rejects.csv"))
	for _, w := range []string{"billing_address", "billing_zip 94103 has 5 digits"} {
		if !strings.Contains(rejects, w) {
			t.Errorf("before the roster, the rejects lack %q:\n%s", w, rejects)
		}
	}
	rejects = string(h.response("after." + itoa(files["after.csv"].ID) + ".rejects.csv"))
	if strings.Contains(rejects, "SMALL-1") {
		t.Errorf("after the roster, the line is rejected:\n%s", rejects)
	}
	n, all := delivered837s(t, filepath.Join(dir, "outbox", "dhcs"))
	if n != 1 || all.lines != 1 {
		t.Fatalf("%d 837s with %d lines, want 1 with 1", n, all.lines)
	}
	names := listDir(t, filepath.Join(dir, "outbox", "dhcs"))
	x, err := os.ReadFile(filepath.Join(dir, "outbox", "dhcs", names[0]))
	if err != nil {
		t.Fatal(err)
	}
	// 2010AA: the billing provider's NM1*85, then its N3 and N4.
	seg := strings.Split(string(x), "~")
	for i, s := range seg {
		if strings.HasPrefix(strings.TrimSpace(s), "NM1*85*") {
			got := strings.TrimSpace(seg[i+1]) + "~" + strings.TrimSpace(seg[i+2])
			if want := "N3*1200 MISSION ST~N4*SAN FRANCISCO*CA*941031520"; !strings.EqualFold(got, want) {
				t.Errorf("2010AA address %q, want %q", got, want)
			}
			return
		}
	}
	t.Errorf("no NM1*85 in the 837:\n%s", x)
}
