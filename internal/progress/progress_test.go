package progress

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name string, size int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, bytes.Repeat([]byte("x"), size), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The tracker reads how far the process has read its files from the
// kernel: the open file's offset, earlier files counted whole, a file read
// and closed counted whole.
func TestTrackerFollowsTheReading(t *testing.T) {
	a, b := writeFile(t, "a", 1000), writeFile(t, "b", 3000)
	tr := NewTracker([]string{a, b})
	if tr.Total() != 4000 || tr.Sample() != 0 {
		t.Fatalf("total %d, done %d before reading", tr.Total(), tr.Sample())
	}
	fa, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	io.CopyN(io.Discard, fa, 400)
	if got := tr.Sample(); got != 400 {
		t.Errorf("400 bytes of a read: %d", got)
	}
	fa.Close()
	if got := tr.Sample(); got != 1000 {
		t.Errorf("a read and closed: %d", got)
	}
	fb, err := os.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	io.CopyN(io.Discard, fb, 1500)
	if got := tr.Sample(); got != 2500 {
		t.Errorf("a done, 1500 of b: %d", got)
	}

	// b opened while a was never seen open: a counts as read.
	tr2 := NewTracker([]string{a, b})
	if got := tr2.Sample(); got != 2500 {
		t.Errorf("a skipped over: %d", got)
	}
}

func TestLine(t *testing.T) {
	got := Line("validate", 50<<20, 200<<20, 10*time.Second)
	for _, want := range []string{"validate: 50.0 MB of 200.0 MB (25%)", "5.0 MB/s", "30s left"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
}

// Below MinSize nothing is drawn.
func TestShowSmallInputIsSilent(t *testing.T) {
	var w bytes.Buffer
	stop := Show(context.Background(), &w, "convert", []string{writeFile(t, "s", 100)})
	time.Sleep(2 * Interval)
	stop()
	if w.Len() != 0 {
		t.Errorf("drew %q", w.String())
	}
}
