// Command bench measures the core path and reports each figure next to a
// baseline measured in the same run, so results compare across machines:
//
//   - convert: N invoice lines → 837P with the duplicate look-ups in the
//     store, against a plain encoding/csv read of the same file;
//
//   - validate: X12 validation of the 837P just written, against a plain
//     buffered byte scan of the same file;
//
//   - peak RSS (from /usr/bin/time -v) of convert at N/10 and N lines, to
//     show memory stays flat as input grows;
//
//   - 834: `calgw validate` (implementation guide and data checks) and
//     `calgw ingest --kind 834` of a generated file of M members, against
//     a plain buffered byte scan of the same file, and the ingest's peak
//     RSS at M/100 and M members.
//
//   - start-up: `calgw version` and `calgw validate` of a generated 834
//     of K members, each run R times interleaved with /bin/true, the
//     cost of starting a process: the median milliseconds per run and the
//     ratio to /bin/true, against the targets (10 ms and 30 ms); beside
//     them, two floors built in the same run: an empty Go program and one
//     importing calgw's third-party packages; with -startup-compare, the
//     same two figures of another calgw binary, in the same runs.
//
//   - inbound 837P: `calgw validate` and `calgw ingest --kind 837p` of a
//     generated provider 837P of C claims (internal/tools/gen837p), against
//     a byte scan, and the ingest's peak RSS at C/10 and C claims.
//
//   - monthly: `calgw report monthly` for June of a generated year of M
//     members (internal/tools/genmonthly), against an encoding/json encode
//     of as many records, with its peak RSS; targets 60 s and 250 MB.
//
//     go run ./internal/tools/bench -lines 1000000 -members 1000000
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	lines := flag.Int("lines", 1000000, "invoice lines in the large file (0: skip the invoice figures)")
	members := flag.Int("members", 1000000, "members in the large 834 (0: skip the 834 figures)")
	dir := flag.String("dir", "bench-out", "working directory (large files go here; never committed)")
	calgw := flag.String("calgw", "bin/calgw", "calgw binary to measure")
	adtMessages := flag.Int("adt-messages", 1000000, "messages in the large ADT batch (0: skip the ADT figures)")
	startupRuns := flag.Int("startup-runs", 50, "runs of each start-up figure (0: skip them)")
	startupMembers := flag.Int("startup-members", 10000, "members in the 834 of the start-up validate figure")
	startupOther := flag.String("startup-compare", "", "another calgw binary (e.g. the previous build) whose start-up figures are measured in the same runs")
	baselineCSV := flag.String("baseline-csv", "", "internal: read this CSV with encoding/csv and exit")
	baselineScan := flag.String("baseline-scan", "", "internal: scan this file byte by byte and exit")
	monthlyMembers := flag.Int("monthly-members", 1000000, "members of the monthly monitoring JSON figure (0: skip it)")
	baselineJSON := flag.Int("baseline-json", 0, "internal: encode this many records with encoding/json and exit")
	inboundClaims := flag.Int("inbound-claims", 330000, "claims in the large provider 837P, about 100 MB (0: skip the inbound 837P figures)")
	flag.Parse()
	switch {
	case *baselineCSV != "":
		readCSV(*baselineCSV)
		return
	case *baselineScan != "":
		scan(*baselineScan)
		return
	case *baselineJSON > 0:
		encodeJSON(*baselineJSON, *dir)
		return
	}
	if *lines > 0 {
		if err := run(*lines, *dir, *calgw); err != nil {
			log.Fatal(err)
		}
	}
	if *members > 0 {
		if err := run834(*members, *dir, *calgw); err != nil {
			log.Fatal(err)
		}
	}
	if *monthlyMembers > 0 {
		if err := runMonthly(*monthlyMembers, *dir, *calgw); err != nil {
			log.Fatal(err)
		}
	}
	if *adtMessages > 0 {
		if err := runADT(*adtMessages, *dir, *calgw); err != nil {
			log.Fatal(err)
		}
	}
	if *inboundClaims > 0 {
		if err := run837(*inboundClaims, *dir, *calgw); err != nil {
			log.Fatal(err)
		}
	}
	if *startupRuns > 0 {
		if err := runStartup(*startupRuns, *startupMembers, *dir, *calgw, *startupOther); err != nil {
			log.Fatal(err)
		}
	}
}

type measure struct {
	wall time.Duration
	cpu  time.Duration // user and system time
	rss  int64         // KiB
	out  string
}

var (
	reRSS = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)
	reCPU = regexp.MustCompile(`(?:User|System) time \(seconds\): ([0-9.]+)`)
)

// timed runs a command under /usr/bin/time -v.
func timed(name string, args ...string) (measure, error) {
	cmd := exec.Command("/usr/bin/time", append([]string{"-v", name}, args...)...)
	var stderr, stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	// The command's CPU time is the one /usr/bin/time reports; the time
	// process's own rusage (ProcessState) already holds its child's too.
	m := measure{wall: time.Since(start), out: stdout.String()}
	if s := reRSS.FindStringSubmatch(stderr.String()); s != nil {
		m.rss, _ = strconv.ParseInt(s[1], 10, 64)
	}
	for _, s := range reCPU.FindAllStringSubmatch(stderr.String(), -1) {
		sec, _ := strconv.ParseFloat(s[1], 64)
		m.cpu += time.Duration(sec * float64(time.Second))
	}
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 && strings.Contains(name, "calgw") {
			return m, nil // validate exits 1 for an invalid file; report, do not stop
		}
		return m, fmt.Errorf("%s %v: %v\n%s", name, args, err, lastLines(stderr.String(), 20))
	}
	return m, nil
}

// validateRuns is how many times a validation and its byte-scan baseline
// run, one after the other, for their medians: this machine's speed moves
// by ±20% from minute to minute, and a median of interleaved runs keeps the
// ratio honest.
const validateRuns = 3

// scanAndValidate measures the byte scan of file and calgw validate of it,
// interleaved, and returns the run of median time of each (with the
// largest peak RSS of its runs).
func scanAndValidate(self, calgw, file string) (scan, val measure, err error) {
	var scans, vals []measure
	for range validateRuns {
		s, err := timed(self, "-baseline-scan", file)
		if err != nil {
			return scan, val, err
		}
		v, err := timed(calgw, "validate", file)
		if err != nil {
			return scan, val, err
		}
		scans, vals = append(scans, s), append(vals, v)
	}
	return median(scans), median(vals), nil
}

func median(ms []measure) measure {
	var rss int64
	for _, m := range ms {
		rss = max(rss, m.rss)
	}
	slices.SortFunc(ms, func(a, b measure) int { return cmp.Compare(a.wall, b.wall) })
	m := ms[len(ms)/2]
	m.rss = rss
	return m
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func run(n int, dir, calgw string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	small := n / 10
	files, err := generate(dir, "invoices-%d.csv", "./internal/tools/geninvoices", "-lines", small, n)
	if err != nil {
		return err
	}
	big := files[n]
	st, _ := os.Stat(big)
	mb := float64(st.Size()) / 1e6

	base, err := timed(self, "-baseline-csv", big)
	if err != nil {
		return err
	}
	conv := map[int]measure{}
	var out837 string
	for _, k := range []int{small, n} {
		state, out := filepath.Join(dir, fmt.Sprintf("state-%d", k)), filepath.Join(dir, fmt.Sprintf("out-%d", k))
		os.RemoveAll(state)
		os.RemoveAll(out)
		m, err := timed(calgw, "--state", state, "convert", "--in", files[k], "--out", out)
		if err != nil {
			return err
		}
		conv[k] = m
		matches, _ := filepath.Glob(filepath.Join(out, "*.837"))
		if len(matches) != 1 {
			return fmt.Errorf("convert of %d lines wrote %d 837 files", k, len(matches))
		}
		if k == n {
			out837 = matches[0]
		}
	}
	st837, _ := os.Stat(out837)
	mb837 := float64(st837.Size()) / 1e6
	scanBase, val, err := scanAndValidate(self, calgw, out837)
	if err != nil {
		return err
	}

	rate := func(m measure) float64 { return float64(n) / m.wall.Seconds() }
	fmt.Printf("## calgw benchmark: %d invoice lines (%.0f MB CSV → %.0f MB 837P), %s\n\n", n, mb, mb837, time.Now().Format("2006-01-02"))
	fmt.Printf("| measurement | result | baseline (same run) | ratio |\n|---|---|---|---|\n")
	fmt.Printf("| convert: invoice lines/s (incl. duplicate look-ups in SQLite) | %.0f lines/s (%.1f MB/s) | plain encoding/csv read: %.0f lines/s | %.2f× the CSV read time |\n",
		rate(conv[n]), mb/conv[n].wall.Seconds(), rate(base), conv[n].wall.Seconds()/base.wall.Seconds())
	fmt.Printf("| validate 837P (005010X222A1), median of 3 | %.0f MB/s | plain buffered byte scan: %.0f MB/s | %.2f× the scan time |\n",
		mb837/val.wall.Seconds(), mb837/scanBase.wall.Seconds(), val.wall.Seconds()/scanBase.wall.Seconds())
	fmt.Printf("| convert peak RSS | %d MB at %d lines, %d MB at %d lines | CSV read: %d MB | %.2f× from 10× the input |\n",
		conv[small].rss>>10, small, conv[n].rss>>10, n, base.rss>>10, float64(conv[n].rss)/float64(conv[small].rss))
	fmt.Printf("| validate peak RSS | %d MB | byte scan: %d MB | |\n\n", val.rss>>10, scanBase.rss>>10)
	fmt.Printf("Validator output: %s\n", lastLines(val.out, 1))
	return nil
}

// generate makes, with the generator command gen, a file of each size in
// dir (named by the pattern) unless it is there already.
func generate(dir, pattern, gen, sizeFlag string, sizes ...int) (map[int]string, error) {
	files := map[int]string{}
	for _, k := range sizes {
		files[k] = filepath.Join(dir, fmt.Sprintf(pattern, k))
		if err := generateFile(files[k], gen, sizeFlag, strconv.Itoa(k)); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// generateFile makes out with `go run gen args... -out out` unless it is
// there already.
func generateFile(out, gen string, args ...string) error {
	if _, err := os.Stat(out); err == nil {
		return nil
	}
	fmt.Fprintf(os.Stderr, "generating %s...\n", out)
	cmd := exec.Command("go", append(append([]string{"run", gen}, args...), "-out", out)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", gen, err)
	}
	return nil
}

// run834 measures the 834 figures.
func run834(n int, dir, calgw string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	small, mid := max(n/100, 1), max(n/10, 1)
	files, err := generate(dir, "members-%d.834", "./internal/tools/gen834/cmd/gen834", "-members", small, mid, n)
	if err != nil {
		return err
	}
	big := files[n]
	st, err := os.Stat(big)
	if err != nil {
		return err
	}
	mb := float64(st.Size()) / 1e6
	scanBase, val, err := scanAndValidate(self, calgw, big)
	if err != nil {
		return err
	}
	ingest := map[int]measure{}
	for _, k := range []int{small, mid, n} {
		state := filepath.Join(dir, fmt.Sprintf("state834-%d", k))
		os.RemoveAll(state)
		m, err := timed(calgw, "--state", state, "ingest", "--kind", "834", "--out", filepath.Join(dir, fmt.Sprintf("reports834-%d", k)), files[k])
		if err != nil {
			return err
		}
		ingest[k] = m
	}
	fmt.Printf("## calgw 834 benchmark: %d members (%.0f MB), %s\n\n", n, mb, time.Now().Format("2006-01-02"))
	fmt.Printf("| measurement | result | baseline (same run) | ratio |\n|---|---|---|---|\n")
	fmt.Printf("| validate 834 (005010X220A1 and data checks), median of 3 | %.0f MB/s | plain buffered byte scan: %.0f MB/s | %.2f× the scan time |\n",
		mb/val.wall.Seconds(), mb/scanBase.wall.Seconds(), val.wall.Seconds()/scanBase.wall.Seconds())
	fmt.Printf("| ingest 834 into SQLite | %.0f members/s | byte scan: %.0f members/s | %.2f× the scan time |\n",
		float64(n)/ingest[n].wall.Seconds(), float64(n)/scanBase.wall.Seconds(), ingest[n].wall.Seconds()/scanBase.wall.Seconds())
	fmt.Printf("| peak RSS | validate %d MB; ingest %d MB at %d members, %d MB at %d, %d MB at %d | byte scan: %d MB | ingest %.2f× from 100× the members, %.2f× from 10× |\n\n",
		val.rss>>10, ingest[small].rss>>10, small, ingest[mid].rss>>10, mid, ingest[n].rss>>10, n, scanBase.rss>>10,
		float64(ingest[n].rss)/float64(ingest[small].rss), float64(ingest[n].rss)/float64(ingest[mid].rss))
	fmt.Printf("Validator output: %s\n", lastLines(val.out, 2))
	return nil
}

// Start-up targets: `calgw version`, and `calgw validate` of the
// 10,000-member 834.
const (
	startupVersionTarget  = 10 * time.Millisecond
	startupValidateTarget = 30 * time.Millisecond
)

// runStartup measures the start-up figures: each command runs runs times,
// interleaved with /bin/true so that all see the same machine, and the
// medians are compared. other, if set, is a second calgw measured in the
// same rounds.
func runStartup(runs, members int, dir, calgw, other string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files, err := generate(dir, "members-%d.834", "./internal/tools/gen834/cmd/gen834", "-members", members)
	if err != nil {
		return err
	}
	file := files[members]
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	empty, deps, err := buildFloors(dir)
	if err != nil {
		return err
	}
	validateName := fmt.Sprintf("`calgw validate` of an 834 of %d members (%.1f MB)", members, float64(st.Size())/1e6)
	type figure struct {
		name   string
		args   []string
		target time.Duration
	}
	figures := []figure{
		{"/bin/true", []string{"/bin/true"}, 0},
		{"an empty Go program (the Go runtime's start-up)", []string{empty}, 0},
		{"a Go program importing calgw's third-party packages (their package initialisation)", []string{deps}, 0},
		{"`calgw version`", []string{calgw, "version"}, startupVersionTarget},
		{validateName, []string{calgw, "validate", file}, 0},
	}
	if members == 10000 {
		figures[4].target = startupValidateTarget
	}
	if other != "" {
		figures = append(figures,
			figure{"`calgw version`, " + other, []string{other, "version"}, 0},
			figure{validateName + ", " + other, []string{other, "validate", file}, 0})
	}
	walls := make([][]time.Duration, len(figures))
	cpus := make([][]time.Duration, len(figures))
	for range runs {
		for i, f := range figures {
			d, c, err := wallOf(f.args)
			if err != nil {
				return err
			}
			walls[i], cpus[i] = append(walls[i], d), append(cpus[i], c)
		}
	}
	med := func(ds []time.Duration) time.Duration {
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	base := med(walls[0])
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	fmt.Printf("## calgw start-up: median of %d runs each, interleaved with /bin/true, %s\n\n", runs, time.Now().Format("2006-01-02"))
	fmt.Printf("| measurement | result (wall; CPU user+system) | baseline (same run) | ratio (wall) | target (wall) |\n|---|---|---|---|---|\n")
	for i, f := range figures[1:] {
		m := med(walls[i+1])
		verdict := ""
		if f.target > 0 {
			verdict = fmt.Sprintf("under %s: ", f.target)
			if m < f.target {
				verdict += "met"
			} else {
				verdict += "NOT MET"
			}
		}
		fmt.Printf("| %s | %.1f ms/run; CPU %.1f ms | /bin/true: %.1f ms/run; CPU %.1f ms | %.1f× /bin/true | %s |\n",
			f.name, ms(m), ms(med(cpus[i+1])), ms(base), ms(med(cpus[0])), float64(m)/float64(base), verdict)
	}
	fmt.Println()
	return nil
}

// buildFloors builds the two floors of the start-up figures with the flags of
// `make release` (static, stripped): an empty Go program, and one that imports
// (blank) every package outside the standard library and this module that
// cmd/calgw links, so that its start-up is the runtime's plus those packages'
// initialisation. It returns the two binaries' paths.
func buildFloors(dir string) (empty, deps string, err error) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./cmd/calgw").Output()
	if err != nil {
		return "", "", fmt.Errorf("go list -deps ./cmd/calgw: %w", err)
	}
	mod, err := exec.Command("go", "list", "-m").Output()
	if err != nil {
		return "", "", fmt.Errorf("go list -m: %w", err)
	}
	own := strings.TrimSpace(string(mod)) + "/"
	var imports []string
	for _, p := range strings.Fields(string(out)) {
		if !strings.HasPrefix(p, own) && !slices.Contains(strings.Split(p, "/"), "internal") && !strings.HasPrefix(p, "vendor/") {
			imports = append(imports, fmt.Sprintf("\t_ %q\n", p))
		}
	}
	// A folder starting with "_" is left out of ./... patterns but builds
	// by its path, inside the module (so the versions are go.mod's).
	src, err := os.MkdirTemp(".", "_startup")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(src)
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", err
	}
	for _, b := range []struct{ name, body string }{
		{"startup-empty", "package main\n\nfunc main() {}\n"},
		{"startup-deps", "package main\n\nimport (\n" + strings.Join(imports, "") + ")\n\nfunc main() {}\n"},
	} {
		pkg := filepath.Join(src, b.name)
		if err := os.MkdirAll(pkg, 0o755); err != nil {
			return "", "", err
		}
		if err := os.WriteFile(filepath.Join(pkg, "main.go"), []byte(b.body), 0o644); err != nil {
			return "", "", err
		}
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(abs, b.name), "./"+pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("building %s: %w\n%s", b.name, err, msg)
		}
	}
	return filepath.Join(abs, "startup-empty"), filepath.Join(abs, "startup-deps"), nil
}

// wallOf runs a command, its output discarded, and returns its wall time
// and CPU time (user and system). A calgw that exits 1 (an invalid file)
// counts as run.
func wallOf(args []string) (wall, cpu time.Duration, err error) {
	cmd := exec.Command(args[0], args[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start)
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 && strings.Contains(args[0], "calgw") {
		err = nil
	}
	if err != nil {
		return wall, cpu, fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, lastLines(stderr.String(), 20))
	}
	return wall, cpu, nil
}

func readCSV(path string) {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	r := csv.NewReader(bufio.NewReaderSize(f, 256<<10))
	r.ReuseRecord = true
	n := 0
	for {
		_, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		n++
	}
	fmt.Println(n, "records")
}

func scan(path string) {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	br := bufio.NewReaderSize(f, 256<<10)
	n := 0
	for {
		b, err := br.ReadSlice('~')
		n += len(b)
		if err == io.EOF {
			break
		}
		if err != nil && err != bufio.ErrBufferFull {
			log.Fatal(err)
		}
	}
	fmt.Println(n, "bytes")
}

// runADT measures the ADT file ingest: batches of 10,000, 100,000 and n
// messages (the sizes up to n) for 10,000 members loaded from a gen834 file
// first, each into a fresh state, next to a byte scan of each file, and
// the ingest's peak RSS at each size. Only the ADT figures:
//
//	go run ./internal/tools/bench -lines 0 -members 0 -monthly-members 0 -inbound-claims 0 -startup-runs 0 -adt-messages 1000000
func runADT(n int, dir, calgw string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	const members = 10000
	var sizes []int
	for _, k := range []int{10000, 100000} {
		if k < n {
			sizes = append(sizes, k)
		}
	}
	sizes = append(sizes, n)
	small := sizes[0]
	m834, err := generate(dir, "adt-members-%d.834", "./internal/tools/gen834/cmd/gen834", "-members", members)
	if err != nil {
		return err
	}
	files := map[int]string{}
	for _, k := range sizes {
		files[k] = filepath.Join(dir, fmt.Sprintf("adt-%d.hl7", k))
		if err := generateFile(files[k], "./internal/tools/genadt/cmd/genadt", "-messages", strconv.Itoa(k), "-members", strconv.Itoa(members)); err != nil {
			return err
		}
	}
	ingest, scans := map[int]measure{}, map[int]measure{}
	for _, k := range sizes {
		scan, err := timed(self, "-baseline-scan", files[k])
		if err != nil {
			return err
		}
		scans[k] = scan
		state := filepath.Join(dir, fmt.Sprintf("stateadt-%d", k))
		os.RemoveAll(state)
		reports := filepath.Join(dir, fmt.Sprintf("reportsadt-%d", k))
		if _, err := timed(calgw, "--state", state, "ingest", "--kind", "834", "--out", reports, m834[members]); err != nil {
			return err
		}
		m, err := timed(calgw, "--state", state, "ingest", "--kind", "adt", "--out", reports, files[k])
		if err != nil {
			return err
		}
		ingest[k] = m
	}
	st, err := os.Stat(files[n])
	if err != nil {
		return err
	}
	fmt.Printf("## calgw ADT benchmark: %d messages (%.0f MB), %s\n\n", n, float64(st.Size())/1e6, time.Now().Format("2006-01-02"))
	fmt.Printf("| measurement | result | baseline (same run) | ratio |\n|---|---|---|---|\n")
	for _, k := range sizes {
		fmt.Printf("| ingest %d ADT messages into SQLite (target >= 100,000 msg/s) | %.0f messages/s, %.2f s (CPU %.2f s) | byte scan: %.0f messages/s | %.1fx the scan time |\n",
			k, float64(k)/ingest[k].wall.Seconds(), ingest[k].wall.Seconds(), ingest[k].cpu.Seconds(), float64(k)/scans[k].wall.Seconds(), ingest[k].wall.Seconds()/scans[k].wall.Seconds())
	}
	for _, k := range sizes {
		fmt.Printf("| peak RSS at %d messages (target: within 1.5x of %d) | %d MB | byte scan: %d MB | %.2fx the RSS at %d |\n",
			k, small, ingest[k].rss>>10, scans[k].rss>>10, float64(ingest[k].rss)/float64(ingest[small].rss), small)
	}
	fmt.Printf("\nIngest output: %s\n", lastLines(ingest[n].out, 2))
	return nil
}
