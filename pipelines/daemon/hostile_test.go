package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
