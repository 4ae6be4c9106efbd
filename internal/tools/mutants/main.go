// Command mutants runs the committed list of single-point mutations
// (mutations.txt beside this file) against the tests: each mutation is a
// rewritten copy of one source file, given to `go test -overlay` so the
// tree is never touched, and the tests of the file's package (then, if it
// survives, of the module's packages that import it) must fail. It prints
// a score table and exits 1 when a mutation survives, when an entry is
// stale (its original snippet does not occur exactly once) or when a
// mutation does not compile. Three mutations are tested at once by default
// (-jobs), each with its own overlay.
//
//	go run ./internal/tools/mutants                  # every mutation (nightly)
//	go run ./internal/tools/mutants -changed         # those of files changed since the base (CI)
//	go run ./internal/tools/mutants -only rules,edi/x12/ig
//	go run ./internal/tools/mutants -run 'streamlined|cs-limit' -v
//
// -changed selects by the mutated file only (and entries new in the list):
// a change that weakens a test is caught by the full run. Run it from the
// module root.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

const listPath = "internal/tools/mutants/mutations.txt"

// defaultExclude are packages whose tests need servers (SFTP, S3,
// PostgreSQL) or run the whole binary: never run for a mutation. What they
// would see of a mutated file is pinned in the packages that own it.
const defaultExclude = "cmd/calgw,config,pipelines/daemon,pipelines/gateway,store,transport,internal/testsrv"

type options struct {
	list     string
	only     []string
	changed  bool
	base     string
	run      *regexp.Regexp
	exclude  []string
	timeout  time.Duration
	verbose  bool
	listOnly bool
	jobs     int
}

func main() {
	var o options
	var only, exclude, run string
	flag.StringVar(&o.list, "list", listPath, "the mutation list")
	flag.StringVar(&only, "only", "", "comma-separated package path prefixes (e.g. rules,edi/x12): only mutations of files under them")
	flag.BoolVar(&o.changed, "changed", false, "only mutations of files changed since -base (committed or not) and entries new in the list; every mutation when there is no base")
	flag.StringVar(&o.base, "base", "", "git revision to compare with for -changed (default origin/main, else main)")
	flag.StringVar(&run, "run", "", "regexp: only mutations whose name matches")
	flag.StringVar(&exclude, "exclude", defaultExclude, "comma-separated package path prefixes whose tests are never run")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "limit of one go test run; a run over it kills the mutation")
	flag.BoolVar(&o.verbose, "v", false, "print the go test output of every mutation")
	flag.BoolVar(&o.listOnly, "check", false, "only check the list (every snippet occurs exactly once) and print it")
	flag.IntVar(&o.jobs, "jobs", 3, "mutations tested at once (each in its own overlay)")
	flag.Parse()
	o.only, o.exclude = splitList(only), splitList(exclude)
	if run != "" {
		re, err := regexp.Compile(run)
		if err != nil {
			fatal(err)
		}
		o.run = re
	}
	ok, err := mainErr(context.Background(), &o)
	if err != nil {
		fatal(err)
	}
	if !ok {
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mutants:", err)
	os.Exit(1)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.Trim(strings.TrimSpace(p), "/"); p != "" {
			out = append(out, strings.TrimPrefix(p, "./"))
		}
	}
	return out
}

// underAny reports whether the slash path p is one of the prefixes or
// under one of them.
func underAny(p string, prefixes []string) bool {
	for _, x := range prefixes {
		if p == x || strings.HasPrefix(p, x+"/") {
			return true
		}
	}
	return false
}

type outcome string

const (
	killed   outcome = "killed"
	timedOut outcome = "killed (timeout)"
	survived outcome = "SURVIVED"
	broken   outcome = "BROKEN (does not compile)"
)

type result struct {
	m       *Mutation
	outcome outcome
	by      string // the package whose tests failed
	took    time.Duration
}

func mainErr(ctx context.Context, o *options) (bool, error) {
	root, modPath, err := module(ctx)
	if err != nil {
		return false, err
	}
	f, err := os.Open(filepath.Join(root, filepath.FromSlash(o.list)))
	if err != nil {
		return false, err
	}
	all, err := parseList(f)
	f.Close()
	if err != nil {
		return false, fmt.Errorf("%s: %w", o.list, err)
	}
	// Every entry, selected or not, must still apply: a stale list fails.
	var stale []string
	mutated := make([][]byte, len(all))
	for i := range all {
		if mutated[i], err = all[i].apply(root); err != nil {
			stale = append(stale, err.Error())
		}
	}
	if len(stale) > 0 {
		return false, errors.New("stale mutation list:\n  " + strings.Join(stale, "\n  "))
	}
	if o.listOnly {
		for _, m := range all {
			fmt.Printf("%-40s %s\n", m.Name, m.File)
		}
		fmt.Printf("%d mutations, every snippet found exactly once\n", len(all))
		return true, nil
	}
	sel, why, err := selectMutations(ctx, root, o, all)
	if err != nil {
		return false, err
	}
	fmt.Printf("%d of %d mutations selected (%s)\n", len(sel), len(all), why)
	if len(sel) == 0 {
		return true, nil
	}
	g, err := loadGraph(ctx, root, modPath)
	if err != nil {
		return false, err
	}
	tmp, err := os.MkdirTemp("", "mutants-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	// o.jobs workers test the mutations; the results are printed in the
	// list's order as soon as those before them are in.
	results := make([]result, len(sel))
	done := make([]chan struct{}, len(sel))
	for k := range done {
		done[k] = make(chan struct{})
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(o.jobs, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				i := sel[k]
				results[k] = runOne(ctx, o, root, modPath, g, tmp, i, &all[i], mutated[i])
				close(done[k])
			}
		}()
	}
	go func() {
		for k := range sel {
			next <- k
		}
		close(next)
	}()
	for k := range sel {
		<-done[k]
		r := &results[k]
		fmt.Printf("%-4s %-40s %-26s %-44s %s\n", fmt.Sprintf("%d.", k+1), r.m.Name, r.outcome, r.by, r.took.Round(100*time.Millisecond))
	}
	wg.Wait()
	return report(results, time.Since(start)), nil
}

// selectMutations returns the indexes of the mutations to run and says why.
func selectMutations(ctx context.Context, root string, o *options, all []Mutation) ([]int, string, error) {
	keep := func(m *Mutation) bool {
		return (len(o.only) == 0 || underAny(m.File, o.only)) && (o.run == nil || o.run.MatchString(m.Name))
	}
	what := "all"
	var changed map[string]bool // files changed since the base
	var newNames map[string]bool
	if o.changed {
		base, files, oldList, err := changedFiles(ctx, root, o.base, o.list)
		switch {
		case err != nil:
			what = "no base to compare with (" + err.Error() + "): all"
		default:
			what = "changed since " + base
			changed = map[string]bool{}
			for _, f := range files {
				changed[f] = true
			}
			newNames = map[string]bool{}
			if slices.Contains(files, o.list) {
				old, _ := parseList(strings.NewReader(oldList))
				for _, m := range all {
					newNames[m.Name] = true
				}
				for _, m := range old {
					delete(newNames, m.Name)
				}
			}
		}
	}
	var out []int
	for i := range all {
		m := &all[i]
		if !keep(m) {
			continue
		}
		if changed != nil && !changed[m.File] && !newNames[m.Name] {
			continue
		}
		out = append(out, i)
	}
	if len(o.only) > 0 {
		what += ", under " + strings.Join(o.only, ",")
	}
	if o.run != nil {
		what += ", named " + o.run.String()
	}
	return out, what, nil
}

func pathDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return "."
}

// changedFiles lists the files changed between the merge base of HEAD and
// the base revision and the working tree, and the list as it is there.
func changedFiles(ctx context.Context, root, base, list string) (string, []string, string, error) {
	candidates := []string{base}
	if base == "" {
		candidates = []string{"origin/main", "main"}
	}
	for _, b := range candidates {
		mb, err := git(ctx, root, "merge-base", "HEAD", b)
		if err != nil {
			continue
		}
		mb = strings.TrimSpace(mb)
		out, err := git(ctx, root, "diff", "--name-only", mb)
		if err != nil {
			return "", nil, "", err
		}
		untracked, err := git(ctx, root, "ls-files", "--others", "--exclude-standard")
		if err != nil {
			return "", nil, "", err
		}
		files := append(strings.Fields(out), strings.Fields(untracked)...)
		oldList, _ := git(ctx, root, "show", mb+":"+list)
		return b, files, oldList, nil
	}
	return "", nil, "", fmt.Errorf("none of %s is a git revision", strings.Join(candidates, ", "))
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// module returns the module's root directory and path.
func module(ctx context.Context) (string, string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}} {{.Path}}").Output()
	if err != nil {
		return "", "", fmt.Errorf("go list -m: %w (run from inside the module)", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return "", "", fmt.Errorf("go list -m: %q", out)
	}
	return f[0], f[1], nil
}

// runOne applies one mutation through an overlay and runs the tests of its
// package, then, when they pass, of the packages that import it.
func runOne(ctx context.Context, o *options, root, modPath string, g *graph, tmp string, i int, m *Mutation, src []byte) (r result) {
	start := time.Now()
	r.m = m
	defer func() { r.took = time.Since(start) }()
	dir := filepath.Join(tmp, fmt.Sprint(i))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.outcome, r.by = broken, err.Error()
		return r
	}
	copyPath := filepath.Join(dir, filepath.Base(m.File))
	overlay := filepath.Join(dir, "overlay.json")
	ov, _ := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(root, filepath.FromSlash(m.File)): copyPath}})
	if err := os.WriteFile(copyPath, src, 0o644); err != nil {
		r.outcome, r.by = broken, err.Error()
		return r
	}
	if err := os.WriteFile(overlay, ov, 0o644); err != nil {
		r.outcome, r.by = broken, err.Error()
		return r
	}
	own := modPath + "/" + pathDir(m.File)
	stages := [][]string{{own}}
	var importers []string
	for _, p := range g.importers(own) {
		if rel := strings.TrimPrefix(strings.TrimPrefix(p, modPath), "/"); !underAny(rel, o.exclude) {
			importers = append(importers, p)
		}
	}
	if len(importers) > 0 {
		stages = append(stages, importers)
	}
	for _, pkgs := range stages {
		out, res := goTest(ctx, o, root, overlay, pkgs)
		if o.verbose {
			fmt.Printf("--- %s: go test %s\n%s\n", m.Name, strings.Join(pkgs, " "), out)
		}
		if res == survived {
			continue
		}
		r.outcome, r.by = res, failedPackage(out, modPath)
		if res == broken && !o.verbose {
			r.by += "\n" + tail(out, 20)
		}
		return r
	}
	r.outcome = survived
	return r
}

// goTest runs the tests of pkgs with the overlay: survived when they pass.
func goTest(ctx context.Context, o *options, root, overlay string, pkgs []string) (string, outcome) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout+time.Minute)
	defer cancel()
	args := append([]string{"test", "-overlay", overlay, "-count=1", "-short", "-failfast", "-timeout", o.timeout.String()}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	s := string(out)
	switch {
	case err == nil:
		return s, survived
	case ctx.Err() != nil || strings.Contains(s, "panic: test timed out"):
		return s, timedOut
	case strings.Contains(s, "[build failed]") || strings.Contains(s, "[setup failed]") || strings.Contains(s, "build constraints exclude"):
		return s, broken
	}
	return s, killed
}

var failLine = regexp.MustCompile(`(?m)^FAIL[ \t]+(\S+)`)

// failedPackage names the first package go test reported as failing.
func failedPackage(out, modPath string) string {
	if m := failLine.FindStringSubmatch(out); m != nil {
		return strings.TrimPrefix(strings.TrimPrefix(m[1], modPath), "/")
	}
	return ""
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// report prints the score and reports whether every mutation was killed.
func report(results []result, took time.Duration) bool {
	var k int
	var bad []result
	for _, r := range results {
		if r.outcome == killed || r.outcome == timedOut {
			k++
		} else {
			bad = append(bad, r)
		}
	}
	fmt.Printf("\nscore: %d of %d mutations killed (%.0f%%) in %s\n", k, len(results), 100*float64(k)/float64(len(results)), took.Round(time.Second))
	for _, r := range bad {
		fmt.Printf("%s: %s %s\n    %s\n    why: %s\n    --- %s\n    +++ %s\n", r.outcome, r.m.Name, r.m.File, r.by, r.m.Why, r.m.From, r.m.To)
	}
	return len(bad) == 0
}
