// Command hostile runs calgw over a generated set of hostile input files and
// prints, for each command and file, the exit code, the peak RSS (from
// /usr/bin/time -v), the disk the command's output took and the first error
// line, as a Markdown table (docs/hostile-input.md). It fails when a run
// exceeds the documented RSS bound, exits 0 on a file it must refuse, or
// leaves more output than the disk bound.
//
//	go run ./internal/tools/hostile -calgw bin/calgw [-mb 100] [-rss-mb 256]
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

func main() {
	calgw := flag.String("calgw", "bin/calgw", "the calgw binary")
	sizeMB := flag.Int("mb", 100, "size of each generated hostile file in MB")
	rssMB := flag.Int64("rss-mb", 256, "peak RSS bound in MB (docs/hostile-input.md)")
	diskMB := flag.Int64("disk-mb", 16, "bound on the output a refused file may leave, in MB")
	dir := flag.String("dir", "", "work directory (default: a temporary one, removed at the end)")
	flag.Parse()
	work := *dir
	if work == "" {
		d, err := os.MkdirTemp("", "calgw-hostile-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		work = d
	}
	if err := run(*calgw, work, int64(*sizeMB)<<20, *rssMB<<10, *diskMB<<20); err != nil {
		log.Fatal(err)
	}
}

// A hostile case: a generated file and the commands run over it.
type hostileCase struct {
	name string
	file string
	gen  func(w *bufio.Writer, size int64) error
	cmds [][]string // {FILE} is the file, {OUT} an empty output folder
}

const invoiceHeader = "invoice_number,invoice_date,billing_npi,billing_tin,billing_name,member_cin,member_last_name,member_first_name,member_dob,service_from,service_to,hcpcs,units,charge_amount\n"

var cases = []hostileCase{
	{"CSV: one line of commas (52 M fields per 100 MB)", "commas.csv", func(w *bufio.Writer, n int64) error {
		w.WriteString(invoiceHeader)
		return repeat(w, ",", n)
	}, [][]string{{"validate", "{FILE}"}, {"convert", "--in", "{FILE}", "--out", "{OUT}"}, {"ingest", "--kind", "auth", "--out", "{OUT}", "{FILE}"}}},
	{"CSV: one line without commas", "one-line.csv", func(w *bufio.Writer, n int64) error {
		w.WriteString(invoiceHeader)
		return repeat(w, "x", n)
	}, [][]string{{"validate", "{FILE}"}, {"convert", "--in", "{FILE}", "--out", "{OUT}"}, {"ingest", "--kind", "roster", "{FILE}"}}},
	{"CSV: a quoted field that never closes", "open-quote.csv", func(w *bufio.Writer, n int64) error {
		w.WriteString(invoiceHeader + "\"")
		return repeat(w, "a\n", n)
	}, [][]string{{"validate", "{FILE}"}, {"convert", "--in", "{FILE}", "--out", "{OUT}"}}},
	{"834: one member with a million REF segments", "refs.834", func(w *bufio.Writer, n int64) error {
		w.WriteString("ISA*00*          *00*          *ZZ*CADHCS_5010_834*30*941234567      *260101*0500*^*00501*000000201*0*T*:~" +
			"GS*BE*CADHCS_5010_834*941234567*20260101*0500*201*X*005010X220A1~ST*834*0001*005010X220A1~" +
			"BGN*00*REF1*20260101*0500****2~N1*P5*DHCS*FI*946000001~N1*IN*PLAN*FI*941234567~INS*Y*18*021*28*A***AC~REF*0F*91234567A~")
		if err := repeat(w, "REF*17*123456789~", n); err != nil {
			return err
		}
		_, err := w.WriteString("SE*1*0001~GE*1*201~IEA*1*000000201~")
		return err
	}, [][]string{{"validate", "{FILE}"}, {"ingest", "--kind", "834", "--out", "{OUT}", "{FILE}"}}},
	{"834: one segment of 100 MB", "long-segment.834", func(w *bufio.Writer, n int64) error {
		w.WriteString("ISA*00*          *00*          *ZZ*CADHCS_5010_834*30*941234567      *260101*0500*^*00501*000000201*0*T*:~" +
			"GS*BE*CADHCS_5010_834*941234567*20260101*0500*201*X*005010X220A1~ST*834*0001*005010X220A1~BGN*00*")
		return repeat(w, "A", n)
	}, [][]string{{"validate", "{FILE}"}, {"ingest", "--kind", "834", "--out", "{OUT}", "{FILE}"}}},
	{"roster: every row bad (17 problems a row)", "bad-rows.csv", func(w *bufio.Writer, n int64) error {
		w.WriteString(rosterHeader)
		return repeat(w, strings.Repeat("x,", 22)+"x\n", n)
	}, [][]string{{"validate", "{FILE}"}, {"ingest", "--kind", "roster", "{FILE}"}}},
	{"auth feed: one JSON line of the whole size", "long.jsonl", func(w *bufio.Writer, n int64) error {
		w.WriteString(`{"authorization_number": "A-1", "note": "`)
		if err := repeat(w, "z", n); err != nil {
			return err
		}
		_, err := w.WriteString("\"}\n")
		return err
	}, [][]string{{"ingest", "--kind", "auth", "--out", "{OUT}", "{FILE}"}}},
}

const rosterHeader = "npi,tin,organization_name,site_name,site_address,site_city,site_state,site_zip,county,phone,taxonomy,provider_types,ecm_pofs,community_supports,contract_start,contract_end,medi_cal_enrolled,capacity_current,capacity_max,languages,accessibility,practitioner_npi,practitioner_name\n"

func repeat(w *bufio.Writer, s string, n int64) error {
	chunk := strings.Repeat(s, max(1, 64<<10/len(s)))
	for written := int64(0); written < n; written += int64(len(chunk)) {
		if _, err := w.WriteString(chunk); err != nil {
			return err
		}
	}
	return nil
}

var (
	reRSS  = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)
	reTime = regexp.MustCompile(`(?m)^\s*(Command being timed|User time|System time|Percent of CPU|Elapsed|Average|Maximum resident|Major|Minor|Voluntary|Involuntary|Swaps|File system|Socket|Signals|Page size|Exit status).*$`)
)

func run(calgw, work string, size, rssKB, diskBytes int64) error {
	failed := 0
	// The baseline: the peak RSS of `calgw version`, measured in the same run.
	var base bytes.Buffer
	vcmd := exec.Command("/usr/bin/time", "-v", calgw, "version")
	vcmd.Stderr = &base
	if err := vcmd.Run(); err != nil {
		return fmt.Errorf("calgw version: %v", err)
	}
	var baseKB int64
	if m := reRSS.FindStringSubmatch(base.String()); m != nil {
		baseKB, _ = strconv.ParseInt(m[1], 10, 64)
	}
	fmt.Printf("Baseline: `calgw version` peak RSS %.1f MB; files of %d MB.\n\n", float64(baseKB)/1024, size>>20)
	fmt.Printf("| case | command | exit | peak RSS (× baseline) | output on disk | first error line |\n| --- | --- | --- | --- | --- | --- |\n")
	for i, c := range cases {
		path := filepath.Join(work, c.file)
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		if err := c.gen(w, size); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		f.Close()
		for j, args := range c.cmds {
			out := filepath.Join(work, fmt.Sprintf("out-%d-%d", i, j))
			state := filepath.Join(work, fmt.Sprintf("state-%d-%d", i, j))
			full := []string{"-v", calgw, "--state", state}
			for _, a := range args {
				full = append(full, strings.NewReplacer("{FILE}", path, "{OUT}", out).Replace(a))
			}
			cmd := exec.Command("/usr/bin/time", full...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				return err
			}
			var rss int64
			if m := reRSS.FindStringSubmatch(stderr.String()); m != nil {
				rss, _ = strconv.ParseInt(m[1], 10, 64)
			}
			disk := du(out)
			verdict := ""
			switch {
			case rss > rssKB:
				verdict = fmt.Sprintf(" **over the %d MB RSS bound**", rssKB>>10)
			case code == 0:
				verdict = " **exit 0 on a hostile file**"
			case disk > diskBytes:
				verdict = fmt.Sprintf(" **over the %d MB disk bound**", diskBytes>>20)
			}
			if verdict != "" {
				failed++
			}
			fmt.Printf("| %s | `calgw %s` | %d | %.1f MB (%.1f×) | %.1f MB | %s%s |\n", c.name, strings.Join(args, " "), code, float64(rss)/1024, float64(rss)/float64(max(baseKB, 1)),
				float64(disk)/(1<<20), firstError(stdout.String()+"\n"+reTime.ReplaceAllString(stderr.String(), "")), verdict)
		}
		os.Remove(path)
	}
	if failed > 0 {
		return fmt.Errorf("%d run(s) past a bound", failed)
	}
	return nil
}

// firstError returns the first line naming a problem, shortened and with
// the work directory's paths cut to their base names.
func firstError(s string) string {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		low := strings.ToLower(l)
		if l == "" || strings.HasPrefix(l, "time=") && !strings.Contains(low, "error") {
			continue
		}
		if strings.Contains(low, "error") || strings.Contains(low, "limit") || strings.Contains(low, "refused") || strings.Contains(low, "unusable") ||
			strings.Contains(low, "not ") || strings.Contains(low, "malformed") || strings.Contains(low, "longer") || strings.Contains(low, "more than") {
			l = regexp.MustCompile(`/\S*/`).ReplaceAllString(l, "")
			if len(l) > 160 {
				l = l[:157] + "..."
			}
			return strings.ReplaceAll(l, "|", "\\|")
		}
	}
	return ""
}

// du sums the sizes of the files under dir.
func du(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
