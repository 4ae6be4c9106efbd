package validate

import (
	"runtime/debug"
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
