package archtest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/calaim-gateway/calaim-gateway/"

// goList runs `go list` from the module root with the given arguments.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

// The CLI keeps flags, printing and exit codes: every verb calls pipelines.
func TestCmdImportsOnlyPipelines(t *testing.T) {
	for _, imp := range goList(t, "-f", `{{join .Imports "\n"}}`, "./cmd/calgw") {
		p, ours := strings.CutPrefix(imp, module)
		if ours && !strings.HasPrefix(p, "pipelines/") && p != "config" && p != "internal/term" && p != "internal/earlysignal" && p != "internal/progress" {
			t.Errorf("cmd/calgw imports %s", p)
		}
	}
}

// No package registers a built-in from init: what the binary contains is
// listed in literal tables.
func TestNoInitFunctions(t *testing.T) {
	initFunc := regexp.MustCompile(`^func init\(\)`)
	err := filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && d.Name() != "." && d.Name() != ".." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			if initFunc.MatchString(sc.Text()) {
				t.Errorf("%s:%d: func init", path, n)
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}
