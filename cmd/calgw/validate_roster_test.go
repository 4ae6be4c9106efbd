package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// TestValidateReadsTheRoster validates an invoice of a small provider: no
// billing street, a 5-digit billing ZIP. Convert takes the billing address
// from the roster's site when the roster knows the billing NPI, so validate
// does too: with a state holding the roster the line is valid; without
// state (none is made) or with a state it cannot open (a daemon holds it,
// said on stderr) the line lacks the address, as convert would say
// without a roster.
func TestValidateReadsTheRoster(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	if code, out, errOut := calgw(t, "--state", state, "ingest", "--kind", "roster", "../../testdata/roster/demo-roster.csv"); code != exitOK {
		t.Fatalf("roster: exit %d %s %s", code, out, errOut)
	}
	small := strings.Replace(goodRow, "Bay Street,1200 Mission St,San Francisco,CA,941031520", "Bay Street,,,,94103", 1)
	inv := writeInvoice(t, dir, "small.csv", small)

	code, out, errOut := calgw(t, "--state", state, "validate", inv)
	if code != exitOK || !strings.Contains(out, "0 with problems") || errOut != "" {
		t.Errorf("with the roster: exit %d\n%s%s", code, out, errOut)
	}

	none := filepath.Join(dir, "no-state")
	code, out, _ = calgw(t, "--state", none, "validate", inv)
	for _, w := range []string{"small.csv row 2 (invoice INV-1 line ): FIELD-MISSING billing_address", "FIELD-INVALID billing_zip: billing_zip 94103 has 5 digits"} {
		if code != exitRejected || !strings.Contains(out, w) {
			t.Errorf("without state: exit %d, want %d and %q:\n%s", code, exitRejected, w, out)
		}
	}
	if _, err := os.Stat(none); err == nil {
		t.Errorf("validate made a state directory %s", none)
	}

	unlock, err := store.LockDir(state)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	code, out, errOut = calgw(t, "--state", state, "validate", inv)
	if code != exitRejected || !strings.Contains(out, "FIELD-MISSING billing_address") || !strings.Contains(errOut, "the state is not read") {
		t.Errorf("state held by another process: exit %d\n%s%s", code, out, errOut)
	}
}
