package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/tools/genmonthly"
	mm "github.com/calaim-gateway/calaim-gateway/mappings/monthly"
)

// monthlyConfig is a plan with a name and a plan code per generated county.
const monthlyConfig = `trading_partners:
  dhcs-encounters:
    interchange: {sender_qualifier: ZZ, sender_id: "123456789305", receiver_qualifier: ZZ, receiver_id: CALIFORNIA-DHCS, usage: T}
    group: {sender_code: "123456789", receiver_code: CALIFORNIA-DHCS}
    submitter: {name: BENCH PLAN, id: "123456789", contact_phone: "9165550100"}
    receiver: {name: CALIFORNIA-DHCS, id: "610442"}
    payer: {name: CALIFORNIA-DHCS, id: "610442"}
    plan: {name: BENCHPLAN, tin: "123456789", hcp_codes: {"19": "319", "33": "333", "36": "336", "37": "337"}}
`

// Limits of the monthly figure (the targets).
const (
	monthlyMaxWall = 60 * time.Second
	monthlyMaxRSS  = 250 * 1024 // KiB
)

var reRecords = regexp.MustCompile(`version \d+, (\d+) record\(s\)`)

// runMonthly measures `calgw report monthly` for one month of a generated
// year of n members (state generated once per n, kept in dir), against a
// plain encoding/json encode of as many records in the same run.
func runMonthly(n int, dir, calgw string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	state := filepath.Join(dir, fmt.Sprintf("monthly-state-%d", n))
	done := filepath.Join(state, ".generated")
	if _, err := os.Stat(done); err != nil {
		os.RemoveAll(state)
		start := time.Now()
		st, err := genmonthly.Generate(context.Background(), state, n)
		if err != nil {
			return err
		}
		log.Printf("monthly state: %d members, %d authorizations, %d lines sent in %s", st.Members, st.Auths, st.Lines, time.Since(start).Round(time.Second))
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			return err
		}
	}
	// The report records what it submitted: each run starts from a copy of
	// the generated state, so that every run builds the month's first file
	// (an Original), not a Resubmission against the previous run.
	run := state + "-run"
	if err := copyDir(state, run); err != nil {
		return err
	}
	defer os.RemoveAll(run)
	state = run
	cfg := filepath.Join(dir, "monthly.yaml")
	if err := os.WriteFile(cfg, []byte(monthlyConfig), 0o644); err != nil {
		return err
	}
	out := filepath.Join(dir, "monthly-out")
	os.RemoveAll(out)
	m, err := timed(calgw, "--config", cfg, "--state", state, "report", "monthly", "--month", fmt.Sprintf("%d-06", genmonthly.Year), "--out", out)
	if err != nil {
		return err
	}
	s := reRecords.FindStringSubmatch(m.out)
	if s == nil {
		return fmt.Errorf("report monthly: no record count in %q", m.out)
	}
	records, _ := strconv.Atoi(s[1])
	base, err := timed(self, "-baseline-json", strconv.Itoa(records), "-dir", dir)
	if err != nil {
		return err
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.json"))
	var mb float64
	if len(files) == 1 {
		st, _ := os.Stat(files[0])
		mb = float64(st.Size()) / 1e6
	}
	verdict := func(ok bool) string {
		if ok {
			return "within target"
		}
		return "OVER TARGET"
	}
	fmt.Printf("\n## monthly monitoring JSON: %d members, a year of authorizations and lines; June: %d records (%.0f MB)\n\n", n, records, mb)
	fmt.Printf("| step | wall | records/s | peak RSS | vs baseline |\n|---|---|---|---|---|\n")
	fmt.Printf("| encoding/json encode of %d records (baseline) | %s | %.0f | %d MB | 1.0× |\n", records, base.wall.Round(time.Millisecond), float64(records)/base.wall.Seconds(), base.rss/1024)
	fmt.Printf("| calgw report monthly (read state, map, validate each record, write, record submission) | %s | %.0f | %d MB | %.1f× time, %.1f× RSS |\n",
		m.wall.Round(time.Millisecond), float64(records)/m.wall.Seconds(), m.rss/1024, m.wall.Seconds()/base.wall.Seconds(), float64(m.rss)/float64(max(base.rss, 1)))
	fmt.Printf("\ntargets: under %s (%s), peak RSS under %d MB (%s)\n", monthlyMaxWall, verdict(m.wall < monthlyMaxWall), monthlyMaxRSS/1024, verdict(m.rss < monthlyMaxRSS))
	return nil
}

// encodeJSON is the baseline: n records like the file's, encoded with
// encoding/json to a buffered file.
func encodeJSON(n int, dir string) {
	f, err := os.Create(filepath.Join(dir, "baseline.json"))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 256<<10)
	enc := json.NewEncoder(w)
	end := "20261231"
	for i := range n {
		r := mm.EnrollmentRecord{Base: mm.Base{RecordID: fmt.Sprintf("ENR202606001-%016x", i), RecordType: "Original", PlanCode: "333"},
			CIN: genmonthly.CIN(i), EnrollmentStatus: "Enrolled", ECMStartDate: "20260101", ECMEndDate: &end}
		if err := enc.Encode(&r); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
}

// copyDir replaces to with a copy of from's regular files.
func copyDir(from, to string) error {
	if err := os.RemoveAll(to); err != nil {
		return err
	}
	if err := os.MkdirAll(to, 0o750); err != nil {
		return err
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := copyFile(filepath.Join(from, e.Name()), filepath.Join(to, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
