package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// run837 measures the inbound 837P figures: `calgw validate` (the
// validator alone) and `calgw ingest --kind 837p` (SNIP 1-7 edits, 999,
// 277CA, report, encounter lines, duplicate check) of a generated
// provider 837P of n claims (internal/tools/gen837p; 330,000 claims is
// about 100 MB), against a plain buffered byte scan of the same file, and
// the ingest's peak RSS at n/10 and n claims. The target: the ingest at no
// less than half the validator's speed.
func run837(n int, dir, calgw string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	small := max(n/10, 1)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files, err := generate(dir, "claims-%d.837", "./internal/tools/gen837p/cmd/gen837p", "-claims", small, n)
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
	for _, k := range []int{small, n} {
		state := filepath.Join(dir, fmt.Sprintf("state837-%d", k))
		out := filepath.Join(dir, fmt.Sprintf("answers837-%d", k))
		os.RemoveAll(state)
		os.RemoveAll(out)
		m, err := timed(calgw, "--state", state, "ingest", "--kind", "837p", "--out", out, files[k])
		if err != nil {
			return err
		}
		ingest[k] = m
	}
	fmt.Printf("## calgw inbound 837P benchmark: %d claims (%.0f MB), %s\n\n", n, mb, time.Now().Format("2006-01-02"))
	fmt.Printf("| measurement | result | baseline (same run) | ratio |\n|---|---|---|---|\n")
	fmt.Printf("| validate 837P (005010X222A1), median of 3 | %.0f MB/s | plain buffered byte scan: %.0f MB/s | %.2f× the scan time |\n",
		mb/val.wall.Seconds(), mb/scanBase.wall.Seconds(), val.wall.Seconds()/scanBase.wall.Seconds())
	fmt.Printf("| ingest 837P (SNIP 1-7, 999, 277CA, report, encounter lines) into SQLite | %.1f MB/s | validate: %.1f MB/s | %.2f× the validator's speed (target ≥ 0.5×) |\n",
		mb/ingest[n].wall.Seconds(), mb/val.wall.Seconds(), val.wall.Seconds()/ingest[n].wall.Seconds())
	fmt.Printf("| peak RSS | validate %d MB; ingest %d MB at %d claims, %d MB at %d | byte scan: %d MB | ingest %.2f× from 10× the claims |\n\n",
		val.rss>>10, ingest[small].rss>>10, small, ingest[n].rss>>10, n, scanBase.rss>>10,
		float64(ingest[n].rss)/float64(ingest[small].rss))
	fmt.Printf("Ingest output: %s\n", lastLines(ingest[n].out, 3))
	return nil
}
