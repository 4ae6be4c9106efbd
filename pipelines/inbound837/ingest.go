package inbound837

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ack"
	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/rules/snip"
)

// Kind names the inbound 837P kind of `calgw ingest`.
const Kind = "837p"

// Output suffixes, after the input's name without its extension.
const (
	Suffix999        = ".999"
	Suffix277CA      = ".277ca"
	SuffixTA1        = ".ta1"
	SuffixReportCSV  = ".report.csv"
	SuffixReportHTML = ".report.html"
)

const tempPrefix = ".calgw-837p-"

// Ingest edits each inbound 837P of job and writes, beside it or into
// job.OutDir, its 999, 277CA, TA1 (on envelope errors or when asked) and
// the provider's report (CSV and HTML), each atomically. The plan answers
// under its configured name and TIN; every partner has the default edit
// actions.
func Ingest(ctx context.Context, job ingest.Job) []ingest.Result {
	res := make([]ingest.Result, 0, len(job.Files))
	for _, f := range job.Files {
		r := ingest.Result{File: f, Kind: Kind}
		r.Err = ingestFile(ctx, &job, f, &r)
		res = append(res, r)
	}
	return res
}

func ingestFile(ctx context.Context, job *ingest.Job, path string, r *ingest.Result) error {
	in, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ingest.ErrUnusable, err)
	}
	defer in.Close()
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	dir := job.OutDir
	if dir == "" {
		dir = filepath.Dir(path)
	}
	names := []string{Suffix999, Suffix277CA, SuffixTA1, SuffixReportCSV, SuffixReportHTML}
	outs := make([]*atomicfile.File, len(names))
	abort := func() {
		for _, o := range outs {
			if o != nil {
				o.Abort()
			}
		}
	}
	for i, s := range names {
		if outs[i], err = atomicfile.Create(filepath.Join(dir, base+s), tempPrefix); err != nil {
			abort()
			return err
		}
	}
	now := job.Now
	if now == nil {
		now = time.Now
	}
	num999 := storeNumbers{ctx, job.Store, "999"}
	w999 := ack.New999(x12.NewWriter(outs[0], x12.DefaultDelimiters), num999, ack.WithClock(now), ack.WithoutValues())
	var plan Party
	if job.Config != nil {
		tp := job.Config.EncounterPartner()
		plan = Party{Name: tp.Submitter.Name, ID: tp.Submitter.ID}
	}
	w277 := NewWriter277(x12.NewWriter(outs[1], x12.DefaultDelimiters), storeNumbers{ctx, job.Store, "277"}, plan, now)
	ta1 := x12.NewWriter(outs[2], x12.DefaultDelimiters)
	rep, err := NewReport(filepath.Base(path), outs[3], outs[4])
	if err != nil {
		abort()
		return err
	}
	sum, err := Edit(ctx, bufio.NewReaderSize(in, 256<<10), Options{
		Profile: snip.Profile{}, Coding: job.Coding, Ack999: w999, Ack277: w277, TA1: ta1, TA1Mode: TA1OnError, Numbers: num999, Now: now,
		OnClaim: rep.Claim, OnSet: rep.Set,
	})
	if err == nil {
		err = rep.Close()
	}
	if err != nil {
		abort()
		return fmt.Errorf("%s: %w", path, err)
	}
	r.Sets, r.SetsRejected = sum.Sets, sum.SetsRejected
	r.Read, r.Rejected, r.Loaded = sum.Claims, sum.ClaimsRejected, sum.Claims-sum.ClaimsRejected
	for i, o := range outs {
		if err := commitOrDropEmpty(o, i >= 3); err != nil {
			abort()
			return err
		}
		outs[i] = nil
	}
	r.Committed = true
	return nil
}

// commitOrDropEmpty commits an output, or drops an acknowledgment that has
// nothing in it (no 277CA when every set was rejected, no TA1 when none was
// due).
func commitOrDropEmpty(o *atomicfile.File, always bool) error {
	if !always {
		if st, err := o.Stat(); err == nil && st.Size() == 0 {
			o.Abort()
			return nil
		}
	}
	return o.Commit()
}

// numbers hands out control numbers of the acknowledgments from the store.
type storeNumbers struct {
	ctx  context.Context
	s    ingest.Store
	kind string
}

func (n storeNumbers) NextInterchange() (int64, error) {
	return n.s.NextControlNumber(n.ctx, "ISA/"+n.kind)
}
func (n storeNumbers) NextGroup() (int64, error) { return n.s.NextControlNumber(n.ctx, "GS/"+n.kind) }
func (n storeNumbers) NextTransaction() (int64, error) {
	return n.s.NextControlNumber(n.ctx, "ST/"+n.kind)
}
