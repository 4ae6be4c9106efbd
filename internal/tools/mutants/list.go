package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Mutation is one single-point change of a source file: From must occur
// exactly once in File, and To replaces it.
type Mutation struct {
	Name string // unique, short: what the change breaks
	File string // slash-separated, relative to the module root
	Why  string // the behaviour a test must pin
	From string
	To   string
	Line int // of the entry's header in the list, for messages
}

// The list format, one entry after another:
//
//	=== name path/to/file.go
//	why: the behaviour the mutation breaks (optional, may repeat)
//	---
//	the original snippet (one or more lines)
//	+++
//	its replacement (one or more lines; nothing deletes the snippet)
//
// Lines starting with # are comments, except inside an original snippet
// (so a comment may follow a replacement). A snippet's
// leading and trailing blank lines and the spaces and tabs at its two ends
// are trimmed; inner lines are kept as written.
func parseList(r io.Reader) ([]Mutation, error) {
	var out []Mutation
	var cur *Mutation
	var from, to []string
	state := "" // "", "head", "from", "to"
	finish := func() error {
		if cur == nil {
			return nil
		}
		if state != "to" {
			return fmt.Errorf("line %d: entry %s has no --- and +++ parts", cur.Line, cur.Name)
		}
		cur.From, cur.To = snippet(from), snippet(to)
		if cur.From == "" {
			return fmt.Errorf("line %d: entry %s has an empty original snippet", cur.Line, cur.Name)
		}
		if cur.From == cur.To {
			return fmt.Errorf("line %d: entry %s changes nothing", cur.Line, cur.Name)
		}
		out = append(out, *cur)
		cur, from, to = nil, nil, nil
		return nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "=== "):
			if err := finish(); err != nil {
				return nil, err
			}
			f := strings.Fields(line[4:])
			if len(f) != 2 {
				return nil, fmt.Errorf("line %d: want \"=== name file\", got %q", n, line)
			}
			cur, state = &Mutation{Name: f[0], File: f[1], Line: n}, "head"
		case line == "---" && state == "head":
			state = "from"
		case line == "+++" && state == "from":
			state = "to"
		case state == "from":
			from = append(from, line)
		case state == "to" && !strings.HasPrefix(line, "#"):
			to = append(to, line)
		case state == "head" && strings.HasPrefix(line, "why:"):
			cur.Why = strings.TrimSpace(strings.TrimSpace(cur.Why + " " + strings.TrimPrefix(line, "why:")))
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
		default:
			return nil, fmt.Errorf("line %d: unexpected %q", n, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := finish(); err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for _, m := range out {
		if l, dup := seen[m.Name]; dup {
			return nil, fmt.Errorf("line %d: name %s already used on line %d", m.Line, m.Name, l)
		}
		seen[m.Name] = m.Line
	}
	return out, nil
}

// snippet joins a snippet's lines, trimmed at both ends.
func snippet(lines []string) string {
	return strings.Trim(strings.Join(lines, "\n"), " \t\n")
}

// apply returns the mutated source, or an error when the original snippet
// does not occur exactly once (a stale entry).
func (m *Mutation) apply(root string) ([]byte, error) {
	src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(m.File)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Name, err)
	}
	s := string(src)
	if c := strings.Count(s, m.From); c != 1 {
		return nil, fmt.Errorf("%s (list line %d): the original snippet occurs %d times in %s, want exactly once: update the entry", m.Name, m.Line, c, m.File)
	}
	return []byte(strings.Replace(s, m.From, m.To, 1)), nil
}
