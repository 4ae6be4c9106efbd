package term

import (
	"os"
	"strings"
	"testing"
)

func TestWrap(t *testing.T) {
	text := "A Community Supports limit would be exceeded, counted over every line sent (rules/data/cs_limits.csv)."
	for _, width := range []int{20, 40, 80} {
		got := Wrap(text, width, "    ")
		for i, line := range strings.Split(got, "\n") {
			if len(line) > width && !strings.Contains(strings.TrimSpace(line), " ") {
				continue // one long word
			}
			if len(line) > width {
				t.Errorf("width %d: line %d has %d characters: %q", width, i, len(line), line)
			}
			if !strings.HasPrefix(line, "    ") {
				t.Errorf("width %d: line %d not indented: %q", width, i, line)
			}
		}
		if strings.Join(strings.Fields(got), " ") != text {
			t.Errorf("width %d: words changed: %q", width, got)
		}
	}
	if got := Wrap("a (rules/data/a-very-long-file-name.csv) b", 10, ""); got != "a\n(rules/data/a-very-long-file-name.csv)\nb" {
		t.Errorf("long word: %q", got)
	}
}

func TestNotATerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a file is a terminal")
	}
	if w := Width(f, 123); w != 123 {
		t.Errorf("width of a file %d, want the default", w)
	}
}
