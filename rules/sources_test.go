package rules_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/rules"
)

var (
	seedCite = regexp.MustCompile(`\bS(00[0-9]):([0-9]+)(?:-([0-9]+))?`)
	noteCite = regexp.MustCompile(`\b([a-z0-9-]+\.md)\b`)
)

// lineCount returns the number of lines of a source text.
func lineCount(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("cited source: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
	}
	return n
}

// Every source a rule or a rule table cites is in the repository: a seed
// line (S004:1681) is a line of docs/sources/S004.txt, a note is a file in
// docs/sources or docs.
func TestCitedSourcesExist(t *testing.T) {
	texts := map[string]string{}
	for _, r := range rules.Catalog() {
		texts["rule "+r.ID] = r.Source + " " + r.Description
	}
	tables, err := filepath.Glob("data/*.csv")
	if err != nil || len(tables) == 0 {
		t.Fatalf("rule tables: %v", err)
	}
	for _, p := range tables {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		texts[p] = string(b)
	}
	lines := map[string]int{}
	for where, text := range texts {
		for _, m := range seedCite.FindAllStringSubmatch(text, -1) {
			name := "S" + m[1]
			if _, ok := lines[name]; !ok {
				lines[name] = lineCount(t, filepath.Join("..", "docs", "sources", name+".txt"))
			}
			for _, s := range m[2:] {
				if s == "" {
					continue
				}
				if n, _ := strconv.Atoi(s); n < 1 || n > lines[name] {
					t.Errorf("%s cites %s, past the end of %s.txt (%d lines)", where, m[0], name, lines[name])
				}
			}
		}
		for _, m := range noteCite.FindAllStringSubmatch(text, -1) {
			_, e1 := os.Stat(filepath.Join("..", "docs", "sources", m[1]))
			_, e2 := os.Stat(filepath.Join("..", "docs", m[1]))
			if e1 != nil && e2 != nil {
				t.Errorf("%s cites %s, which is neither in docs/sources nor in docs", where, m[1])
			}
		}
	}
}
