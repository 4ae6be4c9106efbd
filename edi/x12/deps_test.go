package x12_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCodecsImportNoPolicy checks that no package under edi/ depends on a
// package of policy or I/O (rules, config, mappings, pipelines, store,
// transport, report), directly or not: the codecs are used by those, never
// the other way round. It asks the go command, as `go list -deps` would.
func TestCodecsImportNoPolicy(t *testing.T) {
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	const module = "github.com/calaim-gateway/calaim-gateway/"
	out, err := exec.Command(gocmd, "list", "-deps", "-f", "{{.ImportPath}}", "../...").Output()
	if err != nil {
		t.Fatalf("go list -deps ./edi/...: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 || !strings.Contains(string(out), module+"edi/x12/x274\n") {
		t.Fatalf("go list -deps ./edi/... listed no x274: %q", out)
	}
	for _, p := range deps {
		rest, ok := strings.CutPrefix(p, module)
		if !ok {
			continue
		}
		for _, banned := range []string{"rules", "config", "mappings", "pipelines", "store", "transport", "report", "cmd"} {
			if rest == banned || strings.HasPrefix(rest, banned+"/") {
				t.Errorf("edi/... depends on %s", p)
			}
		}
	}
}
