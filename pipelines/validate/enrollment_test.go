package validate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
)

// A large 834 is validated in parts, a part per core: the report must be
// the one-pass report, line for line: the guide's findings and the members'
// problems in file order, with their positions and member loop numbers.
func TestValidate834InParts(t *testing.T) {
	var b bytes.Buffer
	if _, err := (gen834.Options{Members: 30000, Seed: 11, Full: false}).WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	// Problems all through the file: bad dates of birth, unknown counties,
	// a segment the guide does not know.
	text := b.String()
	var damaged strings.Builder
	for i, m := range strings.SplitAfter(text, "~INS*") {
		switch {
		case i%997 == 5:
			m = strings.Replace(m, "DMG*D8*19", "DMG*D8*XX", 1)
		case i%1511 == 7:
			m = strings.Replace(m, "REF*ZX*", "REF*ZX*9", 1)
		case i%4001 == 9:
			m = strings.Replace(m, "~DMG*", "~ZZZ*1~DMG*", 1)
		}
		damaged.WriteString(m)
	}
	path := filepath.Join(t.TempDir(), "members.834")
	if err := os.WriteFile(path, []byte(damaged.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	report := func(procs int) (string, ig.Summary) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		var out strings.Builder
		reps := Files(context.Background(), []string{path}, Options{Line: func(s string) { out.WriteString(s + "\n") }})
		if len(reps) != 1 || reps[0].Status != Invalid || reps[0].X12 == nil {
			t.Fatalf("GOMAXPROCS %d: %+v\n%.2000s", procs, reps, out.String())
		}
		return out.String(), *reps[0].X12
	}
	want, one := report(1)
	got, split := report(2)
	if one.Parts > 1 || split.Parts != 2 {
		t.Fatalf("parts: %d with one core, %d with two", one.Parts, split.Parts)
	}
	if !strings.Contains(want, "834 change file, 30000 member loop(s), ") || strings.Count(want, "ENR-MEMBER-INVALID") < 25 ||
		strings.Count(want, "segment ZZZ") < 5 || strings.Count(want, "[IK403 8]") < 10 {
		t.Fatalf("one pass:\n%s", want[max(len(want)-1500, 0):])
	}
	if got != want {
		g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Fatalf("line %d:\n got %s\nwant %s", i+1, g[i], w[i])
			}
		}
		t.Fatalf("%d lines, want %d", len(g), len(w))
	}
}
