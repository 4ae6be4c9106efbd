package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
)

// graph holds, for each package of the module, the packages it depends on
// (transitively) and those its tests import.
type graph struct {
	deps        map[string]map[string]bool
	testImports map[string][]string
	order       []string
}

func loadGraph(ctx context.Context, root, modPath string) (*graph, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-e", "-json=ImportPath,Deps,TestImports,XTestImports,TestGoFiles,XTestGoFiles", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	g := &graph{deps: map[string]map[string]bool{}, testImports: map[string][]string{}}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath                string
			Deps                      []string
			TestImports, XTestImports []string
			TestGoFiles, XTestGoFiles []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(p.ImportPath, modPath) {
			continue
		}
		d := map[string]bool{}
		for _, x := range p.Deps {
			d[x] = true
		}
		g.deps[p.ImportPath] = d
		if len(p.TestGoFiles)+len(p.XTestGoFiles) > 0 {
			g.order = append(g.order, p.ImportPath)
			g.testImports[p.ImportPath] = append(p.TestImports, p.XTestImports...)
		}
	}
	return g, nil
}

// importers returns the module's packages with tests, other than pkg,
// whose code or tests depend on pkg, in go list order.
func (g *graph) importers(pkg string) []string {
	var out []string
	for _, p := range g.order {
		if p == pkg {
			continue
		}
		if g.deps[p][pkg] || slices.ContainsFunc(g.testImports[p], func(t string) bool { return t == pkg || g.deps[t][pkg] }) {
			out = append(out, p)
		}
	}
	return out
}
