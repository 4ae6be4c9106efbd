package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseList(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Mutation // Line ignored
		err  string
	}{
		{"one-line snippets", "# comment\n=== a x.go\nwhy: because\n---\n\tif a < b {\n+++\n\tif a <= b {\n",
			[]Mutation{{Name: "a", File: "x.go", Why: "because", From: "if a < b {", To: "if a <= b {"}}, ""},
		{"multi-line snippet and deletion", "=== b y.go\n---\nx := 1\n\ty := 2\n+++\n\n=== c z.go\n---\na\n+++\nb\n",
			[]Mutation{{Name: "b", File: "y.go", From: "x := 1\n\ty := 2", To: ""}, {Name: "c", File: "z.go", From: "a", To: "b"}}, ""},
		{"no replacement part", "=== a x.go\n---\na\n", nil, "no --- and +++"},
		{"empty original", "=== a x.go\n---\n+++\nb\n", nil, "empty original"},
		{"no change", "=== a x.go\n---\na\n+++\na\n", nil, "changes nothing"},
		{"duplicate name", "=== a x.go\n---\na\n+++\nb\n=== a y.go\n---\na\n+++\nb\n", nil, "already used"},
		{"header without file", "=== a\n---\na\n+++\nb\n", nil, "want \"=== name file\""},
		{"stray text", "hello\n", nil, "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseList(strings.NewReader(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				got[i].Line = 0
				if got[i] != tt.want[i] {
					t.Errorf("entry %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// A snippet must occur exactly once in its file: a stale entry fails.
func TestApplyNeedsTheSnippetExactlyOnce(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "f.go"), []byte("a < b\nc < d\nc < d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from string
		want string // mutated source, or "" for an error
	}{
		{"a < b", "a <= b\nc < d\nc < d\n"},
		{"c < d", ""},
		{"e < f", ""},
	}
	for _, tt := range tests {
		m := Mutation{Name: "m", File: "f.go", From: tt.from, To: strings.Replace(tt.from, "<", "<=", 1)}
		got, err := m.apply(root)
		if tt.want == "" {
			if err == nil || !strings.Contains(err.Error(), "exactly once") {
				t.Errorf("%q: error %v, want a stale entry", tt.from, err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("%q: got %q %v, want %q", tt.from, got, err, tt.want)
		}
	}
}

// The committed list parses and every entry still applies to the tree.
func TestCommittedListIsNotStale(t *testing.T) {
	f, err := os.Open("mutations.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, err := parseList(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 60 {
		t.Errorf("%d mutations, want about 60 or more", len(ms))
	}
	for i := range ms {
		if _, err := ms[i].apply("../../.."); err != nil {
			t.Error(err)
		}
		if ms[i].Why == "" {
			t.Errorf("%s: no why", ms[i].Name)
		}
	}
}

func TestUnderAny(t *testing.T) {
	for _, tt := range []struct {
		p    string
		pre  []string
		want bool
	}{
		{"rules/authorization.go", []string{"rules"}, true},
		{"rulesx/a.go", []string{"rules"}, false},
		{"edi/x12/ig/validator.go", []string{"edi/x12"}, true},
		{"edi/x12", []string{"edi/x12"}, true},
		{"mappings/a.go", nil, false},
	} {
		if got := underAny(tt.p, tt.pre); got != tt.want {
			t.Errorf("underAny(%q, %q) = %v", tt.p, tt.pre, got)
		}
	}
}
