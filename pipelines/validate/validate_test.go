package validate

import (
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestValidateGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	for _, c := range []struct {
		gogc string
		want int
	}{{"", validateGCPercent}, {"50", 100}} {
		t.Setenv("GOGC", c.gogc)
		restore := validateGC()
		got := debug.SetGCPercent(100)
		debug.SetGCPercent(got)
		restore()
		if got != c.want {
			t.Errorf("GOGC=%q: GC percent while validating %d, want %d", c.gogc, got, c.want)
		}
		if after := debug.SetGCPercent(100); after != 100 {
			t.Errorf("GOGC=%q: GC percent after %d, want 100 restored", c.gogc, after)
		}
	}
}

// A file of no known layout is described without echoing its first row,
// which may be member data.
func TestUnknownLayoutEchoesNoRow(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rows.csv")
	if err := os.WriteFile(p, []byte("A-1,91234567A,Rivera,1978-04-12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var lines []string
	reps := Files(context.Background(), []string{p}, Options{Line: func(s string) { lines = append(lines, s) }})
	if len(reps) != 1 || reps[0].Status != Unusable || reps[0].Err == nil {
		t.Fatalf("%+v", reps)
	}
	msg := reps[0].Err.Error() + strings.Join(lines, "\n")
	for _, phi := range []string{"91234567A", "Rivera", "1978-04-12"} {
		if strings.Contains(msg, phi) {
			t.Errorf("echoes %s: %s", phi, msg)
		}
	}
	if !strings.Contains(msg, "header row missing") {
		t.Errorf("%s", msg)
	}
}
