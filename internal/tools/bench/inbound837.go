package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen837p"
)

// run837 measures the inbound 837P figures: `calgw validate` (the
// validator alone) and `calgw ingest --kind 837p` (SNIP 1-7 edits, 999,
// 277CA, report, encounter lines, duplicate check) of a generated
// provider 837P of n claims (internal/tools/gen837p; 330,000 claims is
// about 90 MB), against a plain buffered byte scan of the same file, and
// the ingest's peak RSS at n/10 and n claims. The claims are those of the
// members of a generated 834 (gen834, inboundMembers members, their dates
// of birth the claims'), which each ingest's state has loaded, so that
// levels 6 and 7 judge every claim with the eligibility rules on, as a
// plan runs them. The scan, the validation and the ingest of n claims run
// one after the other, validateRuns times, and each figure is the median
// of its runs, in wall time and in CPU time (user and system): on a
// shared machine the wall time of one run moves with the other load, the
// CPU time much less. The target: the ingest at no less than half the
// validator's speed.
func run837(n int, dir, calgw string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	small := max(n/10, 1)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	members := filepath.Join(dir, fmt.Sprintf("inbound-members-%d.834", inboundMembers))
	if err := generateFile(members, "./internal/tools/gen834/cmd/gen834", "-members", strconv.Itoa(inboundMembers), "-birth-date", gen837p.BirthDate); err != nil {
		return err
	}
	files := map[int]string{}
	for _, k := range []int{small, n} {
		files[k] = filepath.Join(dir, fmt.Sprintf("claims-%d-of-%d.837", k, inboundMembers))
		if err := generateFile(files[k], "./internal/tools/gen837p/cmd/gen837p", "-claims", strconv.Itoa(k), "-members", strconv.Itoa(inboundMembers)); err != nil {
			return err
		}
	}
	// The state every ingest starts from: the members' 834 loaded.
	template := filepath.Join(dir, "state837-members")
	os.RemoveAll(template)
	if _, err := timed(calgw, "--state", template, "ingest", "--kind", "834", members); err != nil {
		return err
	}
	big := files[n]
	st, err := os.Stat(big)
	if err != nil {
		return err
	}
	mb := float64(st.Size()) / 1e6
	ingestPath := func(path string) (measure, error) {
		state := filepath.Join(dir, "state837-"+filepath.Base(path))
		out := filepath.Join(dir, "answers837-"+filepath.Base(path))
		os.RemoveAll(out)
		if err := copyDir(template, state); err != nil {
			return measure{}, err
		}
		return timed(calgw, "--state", state, "ingest", "--kind", "837p", "--out", out, path)
	}
	ingest := func(k int) (measure, error) { return ingestPath(files[k]) }
	var scans, vals, ings []measure
	for range validateRuns {
		s, err := timed(self, "-baseline-scan", big)
		if err != nil {
			return err
		}
		v, err := timed(calgw, "validate", big)
		if err != nil {
			return err
		}
		m, err := ingest(n)
		if err != nil {
			return err
		}
		scans, vals, ings = append(scans, s), append(vals, v), append(ings, m)
	}
	scanCPU, valCPU, ingCPU := medianCPU(scans), medianCPU(vals), medianCPU(ings)
	scanBase, val, ing := median(scans), median(vals), median(ings)
	ingSmall, err := ingest(small)
	if err != nil {
		return err
	}
	fmt.Printf("## calgw inbound 837P benchmark: %d claims (%.0f MB), %s\n\n", n, mb, time.Now().Format("2006-01-02"))
	fmt.Printf("| measurement | result | baseline (same run) | ratio |\n|---|---|---|---|\n")
	fmt.Printf("| validate 837P (005010X222A1), median of %d | %.0f MB/s | plain buffered byte scan: %.0f MB/s | %.2f× the scan time |\n",
		validateRuns, mb/val.wall.Seconds(), mb/scanBase.wall.Seconds(), val.wall.Seconds()/scanBase.wall.Seconds())
	fmt.Printf("| ingest 837P (SNIP 1-7 with the eligibility rules on an 834 of %d members, 999, 277CA, report, encounter lines) into SQLite, median of %d | %.1f MB/s | validate: %.1f MB/s | %.2f× the validator's speed (target ≥ 0.5×) |\n",
		inboundMembers, validateRuns, mb/ing.wall.Seconds(), mb/val.wall.Seconds(), val.wall.Seconds()/ing.wall.Seconds())
	fmt.Printf("| CPU time (user+system), median of %d | ingest %.2f s | validate %.2f s; byte scan %.2f s | ingest at %.2f× the validator's speed in CPU time |\n",
		validateRuns, ingCPU.Seconds(), valCPU.Seconds(), scanCPU.Seconds(), valCPU.Seconds()/ingCPU.Seconds())
	fmt.Printf("| peak RSS | validate %d MB; ingest %d MB at %d claims, %d MB at %d | byte scan: %d MB | ingest %.2f× from 10× the claims |\n\n",
		val.rss>>10, ingSmall.rss>>10, small, ing.rss>>10, n, scanBase.rss>>10,
		float64(ing.rss)/float64(ingSmall.rss))
	// A file of one-claim transaction sets, as some billing systems send
	// them: each set is checked and answered on its own, and that must
	// cost no durable write per set.
	perSet := filepath.Join(dir, fmt.Sprintf("claims-%d-of-%d-1perset.837", small, inboundMembers))
	if err := generateFile(perSet, "./internal/tools/gen837p/cmd/gen837p", "-claims", strconv.Itoa(small), "-per-set", "1", "-members", strconv.Itoa(inboundMembers)); err != nil {
		return err
	}
	v1, err := timed(calgw, "validate", perSet)
	if err != nil {
		return err
	}
	i1, err := ingestPath(perSet)
	if err != nil {
		return err
	}
	st1, err := os.Stat(perSet)
	if err != nil {
		return err
	}
	mb1 := float64(st1.Size()) / 1e6
	fmt.Printf("| ingest of %d one-claim transaction sets (%.0f MB) | %.1f MB/s | validate: %.1f MB/s | %.2f× the validator's speed; the %d-claims-per-set file above: %.2f× |\n\n",
		small, mb1, mb1/i1.wall.Seconds(), mb1/v1.wall.Seconds(), v1.wall.Seconds()/i1.wall.Seconds(), 1000, val.wall.Seconds()/ing.wall.Seconds())
	fmt.Printf("Ingest output: %s\n", lastLines(ing.out, 3))
	return nil
}

// inboundMembers is how many members the inbound 837P figures' 834 has:
// a prime, so that claim k's member (k mod inboundMembers) and date of
// service (gen837p's cycle of 280 dates) never repeat together.
const inboundMembers = 99991

// medianCPU is the median CPU time of runs.
func medianCPU(runs []measure) time.Duration {
	cpu := make([]time.Duration, len(runs))
	for i, m := range runs {
		cpu[i] = m.cpu
	}
	slices.Sort(cpu)
	return cpu[len(cpu)/2]
}
