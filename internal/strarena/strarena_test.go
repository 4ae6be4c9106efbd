package strarena

import (
	"fmt"
	"strings"
	"testing"
)

// Strings made earlier keep their values however many are made after
// them, across chunks, and equal string(b) and strings.ToUpper.
func TestStringsKeepTheirValues(t *testing.T) {
	var a Arena
	var got, want []string
	src := make([]byte, 0, 512)
	for i := range 5000 {
		src = fmt.Appendf(src[:0], "member-%d-%s", i, strings.Repeat("x", i%300))
		if i%3 == 0 {
			src = append(src, "é ñame"...)
		}
		got = append(got, a.String(src), a.Upper(src))
		want = append(want, string(src), strings.ToUpper(string(src)))
		for j := range src { // the caller reuses its buffer
			src[j] = '?'
		}
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("string %d = %q, want %q", i, got[i], want[i])
		}
	}
	if a.String(nil) != "" || a.Upper([]byte{}) != "" {
		t.Error("empty input: not the empty string")
	}
}

// One allocation per chunk, not per string.
func TestAllocations(t *testing.T) {
	var a Arena
	b := []byte("SACRAMENTO")
	per := testing.AllocsPerRun(1000, func() {
		for range 100 {
			a.String(b)
			a.Upper(b)
		}
	})
	// 2,000 bytes per run: at most one 4 KB chunk.
	if per > 1 {
		t.Errorf("%.1f allocations per 200 strings, want at most 1", per)
	}
}
