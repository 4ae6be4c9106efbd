// Package encounters runs the core job: provider invoice files in, one 837P
// encounter interchange, rejects.csv and summary.html out. It is the only
// place that knows the whole chain: tabular decode → invoice mapping → rules
// → duplicate check in the store → claim assembly → 837P encode → atomic
// outputs. `calgw convert`, `calgw demo` and the daemon all call Convert.
package encounters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/x837p"
	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/mappings/encounter"
	"github.com/calaim-gateway/calaim-gateway/mappings/invoice"
	"github.com/calaim-gateway/calaim-gateway/report"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Output file names in the output directory.
const (
	RejectsFile = "rejects.csv"
	SummaryFile = "summary.html"
)

// ErrUnusable marks an input that cannot be processed at all: unreadable,
// not CSV/XLSX, or without the invoice template's columns. Nothing is
// written when any input is unusable.
var ErrUnusable = errors.New("unusable input")

// Judge applies rules that need state — eligibility, authorizations,
// provider contracts, usage limits — to a line that passed the stateless
// rules. Judges run in the pipeline's store stage, inside the run's
// transaction, one line at a time in row order, so a limit sees every line
// accepted before it in this run and in earlier ones.
type Judge interface {
	// Judge returns the decisions against the line; none means it may be sent.
	Judge(ctx context.Context, run store.Run, l *domain.InvoiceLine, leg *rules.CodeLeg) ([]rules.Decision, error)
	// Sent reports that the line passed every rule, the duplicate check
	// included, and will be sent: usage counters move now.
	Sent(ctx context.Context, run store.Run, l *domain.InvoiceLine, leg *rules.CodeLeg) error
}

// Prefetcher is a Judge that looks up, in one pass, what it will need of
// the store to judge a batch's lines, which it then judges one at a time
// (each after the lines before it are recorded). It decides the same
// with or without.
type Prefetcher interface {
	// Prefetch is given the lines, each with its code leg (legs[i] is
	// lines[i]'s), as Judge will be.
	Prefetch(ctx context.Context, run store.Run, lines []*domain.InvoiceLine, legs []*rules.CodeLeg) error
}

// Explainer is a Judge that tells the facts it decided the last line it
// judged on (the 834 spans, authorizations, usage, roster contracts): they
// are recorded with the line's decision when the store keeps decisions
// (store.DecisionStore).
type Explainer interface {
	Facts() []store.Fact
}

// Job is one conversion.
type Job struct {
	Inputs []string
	OutDir string
	Store  store.Store
	Config *config.Config
	Coding *rules.CodingTable
	Judges []Judge    // stateful rules (eligibility, authorization, contracts); may be empty
	Today  civil.Date // zero = today in the configured time zone
	Now    time.Time  // zero = time.Now(); stamps the envelopes
	Log    *slog.Logger
	// ProviderReports also writes each billing provider's own
	// rejects-<NPI>.csv and summary-<NPI>.html (Result.Providers).
	ProviderReports bool
	// CheckOnly runs every rule and writes nothing: the run is abandoned,
	// no line counts as sent, and Result.Lines has every line's decision.
	CheckOnly bool
	// SenderReports: rejects.csv and summary.html go back to the file's
	// sender (the daemon's responses), so a DUPLICATE-LINE message in them
	// names the line it repeats only when that line is the sender's own
	// (sentToSender); otherwise it is DuplicateForOthers. Without it they
	// are the plan's and keep every message whole. The recorded decisions
	// (store.DecisionStore) keep every message whole either way.
	SenderReports bool
}

// Result reports what a conversion did.
type Result struct {
	Summary report.Summary
	Output  string // path of the (first) 837 file, "" when none was written
	// Outputs are the paths of every 837 file, one per HCP code when the
	// profile has an HCP code table (sorted by HCP code).
	Outputs     []string
	RejectsPath string
	SummaryPath string
	// Providers are the billing providers' own reports, by NPI (with
	// Job.ProviderReports).
	Providers []ProviderReport
	// Lines are the decisions on every line (Job.CheckOnly only).
	Lines []store.LineDecision
}

// Accepted and Rejected total the files.
func (r *Result) Accepted() int { return r.Summary.Totals().Accepted }
func (r *Result) Rejected() int { return r.Summary.Totals().Rejected }

// batchSize rows move through the pipeline stages together.
const batchSize = 1024

// maxSummaryRejects bounds the rejects listed in summary.html.
const maxSummaryRejects = 500

type input struct {
	path string
	r    *tabular.Reader
	dec  *invoice.Decoder
}

// candidate is a line waiting for the duplicate check, or a row already
// rejected, kept in row order.
type candidate struct {
	line      domain.InvoiceLine
	leg       *rules.CodeLeg
	decisions []rules.Decision
	control   string
	file      int
	hcp       string        // the line's HCP code; "" without an HCP code table
	facts     []store.Fact  // what the judges decided it on
	key       rules.LineKey // its duplicate-check key (set when it decodes without decisions)
	priorRun  int64         // DUPLICATE-LINE: the run that sent the line it repeats (store.LineDecision.PriorRun)
	// DUPLICATE-LINE: the line it repeats came earlier in this run
	// (dupSameRun), and is the line's billing provider's own (dupOwn: every
	// line accepted by its run, up to it in this run, bills the line's
	// billing NPI).
	dupSameRun, dupOwn bool
}

// start gives a run its logger, its clock in the plan's time zone (envelope
// dates and times are the plan's local time) and its line checker (the
// coding table, today's date, the member-ID pattern), with the job's
// defaults applied.
func (job Job) start() (*slog.Logger, time.Time, rules.LineChecker, error) {
	log := job.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := job.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.In(job.Config.Location())
	today := job.Today
	if today == 0 {
		today = civil.FromTime(now)
	}
	memberID, err := regexp.Compile(job.Config.Encounters.MemberIDPattern)
	if err != nil {
		return nil, now, rules.LineChecker{}, fmt.Errorf("member_id_pattern: %w", err)
	}
	return log, now, rules.LineChecker{Coding: job.Coding, Today: today, MemberID: memberID}, nil
}

// Convert runs the job.
func Convert(ctx context.Context, job Job) (*Result, error) {
	log, now, checker, err := job.start()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(job.OutDir, 0o750); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	// A check-only run leaves other runs alone: it may run beside the
	// daemon's, which Recover would take for an interrupted one.
	if !job.CheckOnly {
		if err := Recover(ctx, job.Store, log); err != nil {
			return nil, err
		}
	}

	// Open every input before writing anything: one unusable file stops the run.
	inputs := make([]*input, 0, len(job.Inputs))
	defer func() {
		for _, in := range inputs {
			in.r.Close()
		}
	}()
	limits := job.Config.Limits.WithDefaults()
	for _, p := range job.Inputs {
		r, err := tabular.OpenWith(p, &tabular.Options{MaxRecordBytes: limits.CSVRecordBytes, MaxColumns: limits.FieldsPerRow})
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnusable, p, err)
		}
		dec, err := invoice.NewDecoder(r.Header, r.Format, filepath.Base(p))
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("%w: %s: %v", ErrUnusable, p, err)
		}
		inputs = append(inputs, &input{path: p, r: r, dec: dec})
	}

	runInfo, _ := json.Marshal(map[string]any{"inputs": job.Inputs, "out": job.OutDir})
	run, err := job.Store.BeginRun(ctx, "convert", string(runInfo))
	if err != nil {
		return nil, err
	}
	c := &converter{
		ctx: ctx, job: job, log: log, run: run, now: now, checker: checker,
		prefix: tempPrefix(run.ID()), sites: map[string][]domain.ProviderContract{},
	}
	c.sum = report.Summary{RunID: run.ID(), Started: now, ByRule: map[string]int{}}
	res, err := c.convert(inputs)
	if err != nil {
		c.abort(err)
		return nil, err
	}
	return res, nil
}

func tempPrefix(run int64) string { return ".calgw-run" + strconv.FormatInt(run, 10) + "-" }

type converter struct {
	ctx      context.Context
	job      Job
	log      *slog.Logger
	run      store.Run
	released []store.Line // releaseRejected's, reused
	// A batch's lines and their code legs for the Prefetchers, reused.
	prefetch     []*domain.InvoiceLine
	prefetchLegs []*rules.CodeLeg
	now          time.Time
	checker      rules.LineChecker
	prefix       string

	sum      report.Summary
	rejects  *report.RejectWriter
	rejFile  *atomicfile.File
	outs     map[string]*hcpOutput                // by HCP code ("" without an HCP code table)
	hcps     []string                             // the keys of outs, in the order opened
	byHCP    bool                                 // the profile has an HCP code table: one 837 per HCP code
	view     store.EnrollmentView                 // the run's enrollment: the member's address and county (byHCP)
	sites    map[string][]domain.ProviderContract // the roster's sites by billing NPI, read once per run
	seq      int                                  // line control sequence
	claimSeq int                                  // claims in this run, for CLM01 (byHCP)
	// sentClaims are the claims written (writer stage) and not recorded
	// with the run yet (recordSentClaims; when the store keeps claims,
	// store.ClaimStore).
	sentClaims []store.SentClaim
	// correctionInvoice is the invoice number of the replacement or void
	// of each CLM01 in this run.
	correctionInvoice map[string]string
	// claimLines are the lines handed to a claim assembler and not yet in
	// a claim written, by line control: each claim's submission records
	// its lines under their keys (store.SentClaim.Lines).
	claimLines map[string]store.Line
	services   []domain.SentService // recordServices' buffer
	skip       map[string]bool
	committed  bool             // the run's transaction is committed: never abandon it
	prov       *providerReports // nil unless Job.ProviderReports
	// Decisions recorded with the run (store.DecisionStore), or kept for
	// a check-only run.
	decStore  store.DecisionStore
	decisions []store.LineDecision
	lineSeq   int
	checked   []store.LineDecision // Job.CheckOnly
	// earlier are the lines accepted by a Checker's earlier checks: a
	// line repeating one is a duplicate (nil for a conversion).
	earlier *earlierLines
	// carry is a Checker's carried usage, told which row the moves of the
	// judges' Sent are for (nil outside a Checker).
	carry *carriedUsage
	// Whose line a duplicate repeats (ownDuplicates): the billing NPIs of
	// the lines earlier runs accepted, by run, and of the lines this run
	// accepted so far (runNPI, or several: runMixed).
	priorRuns store.PriorRunStore
	priorNPIs map[int64][]string
	runNPI    string
	runMixed  bool
}

// hcpOutput is the 837 of one HCP code: its file, encoder and claim assembler.
type hcpOutput struct {
	hcp string
	isa int64
	out *atomicfile.File
	enc *x837p.Encoder
	asm *encounter.Assembler
	env store.SentClaim // the file's envelope, for the claims recorded as sent
}

func (c *converter) convert(inputs []*input) (*Result, error) {
	var err error
	c.rejFile, err = atomicfile.Create(filepath.Join(c.job.OutDir, RejectsFile), c.prefix)
	if err != nil {
		return nil, err
	}
	if c.rejects, err = report.NewRejectWriter(c.rejFile); err != nil {
		return nil, err
	}
	c.outs = map[string]*hcpOutput{}
	c.byHCP = len(c.job.Config.EncounterPartner().Plan.HCPs()) > 0
	c.skip = map[string]bool{}
	c.correctionInvoice = map[string]string{}
	c.claimLines = map[string]store.Line{}
	c.decStore, _ = c.job.Store.(store.DecisionStore)
	c.priorRuns, _ = c.job.Store.(store.PriorRunStore)
	c.priorNPIs = map[int64][]string{}
	if c.job.ProviderReports {
		c.prov = &providerReports{dir: c.job.OutDir, prefix: c.prefix, by: map[string]*providerReport{}}
	}
	for _, in := range inputs {
		c.sum.Files = append(c.sum.Files, report.FileSummary{Name: filepath.Base(in.path), Format: string(in.r.Format)})
	}
	if err := c.pipeline(inputs); err != nil {
		return nil, err
	}
	for _, h := range c.hcps {
		if err := c.outs[h].asm.Flush(); err != nil {
			return nil, err
		}
	}
	return c.finish()
}

// batch is a slice of rows on its way through the pipeline.
type batch struct {
	cands []candidate
	lines []store.Line // per candidate without decisions so far, in order: its duplicate-check record
}

// pipeline runs three stages concurrently, in row order: decoding and the
// stateless rules (this goroutine), the duplicate check in the store, and
// rejects + claim assembly + 837 encoding. Batches are recycled, so memory
// stays flat however large the input.
func (c *converter) pipeline(inputs []*input) error {
	ctx, cancel := context.WithCancelCause(c.ctx)
	defer cancel(nil)
	const buffers = 4
	free := make(chan *batch, buffers)
	for range buffers {
		free <- &batch{cands: make([]candidate, 0, batchSize)}
	}
	toStore := make(chan *batch, 1)
	toWrite := make(chan *batch, 1)
	storeDone := make(chan struct{})
	writeDone := make(chan struct{})

	// The store stage. Statements run with a context that has no Done
	// channel (the driver would start a goroutine per statement to watch
	// it); cancellation is checked between batches.
	go func() {
		defer close(storeDone)
		defer close(toWrite)
		quiet := context.WithoutCancel(ctx)
		for b := range toStore {
			if ctx.Err() != nil {
				continue // drain
			}
			if err := c.decide(quiet, b); err != nil {
				cancel(err)
				continue
			}
			toWrite <- b
		}
	}()
	// The writer stage.
	go func() {
		defer close(writeDone)
		for b := range toWrite {
			if ctx.Err() == nil {
				if err := c.write(b); err != nil {
					cancel(err)
				}
			}
			free <- b
		}
	}()

	err := c.read(ctx, inputs, free, toStore)
	close(toStore)
	<-storeDone
	<-writeDone
	if err != nil {
		return err
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return c.ctx.Err()
}

// read decodes every row of every input into batches.
func (c *converter) read(ctx context.Context, inputs []*input, free <-chan *batch, out chan<- *batch) error {
	var b *batch
	send := func() {
		if b != nil && len(b.cands) > 0 {
			out <- b
			b = nil
		}
	}
	for fileIdx, in := range inputs {
		for {
			if err := ctx.Err(); err != nil {
				return nil // the cause is reported by pipeline
			}
			row, err := in.r.Next()
			if err == io.EOF {
				break
			}
			if b == nil {
				select {
				case b = <-free:
				case <-ctx.Done():
					return nil
				}
				b.cands, b.lines = b.cands[:0], b.lines[:0]
			}
			b.cands = append(b.cands, candidate{})
			cand := &b.cands[len(b.cands)-1]
			var rowErr *tabular.RowError
			switch {
			case errors.As(err, &rowErr):
				*cand = candidate{file: fileIdx, line: domain.InvoiceLine{Source: domain.Source{File: c.sum.Files[fileIdx].Name, Row: rowErr.Row}},
					decisions: []rules.Decision{{Rule: rules.FieldInvalid, Message: rowErr.Err.Error()}}}
			case errors.Is(err, tabular.ErrLimit):
				return fmt.Errorf("%w: %s: %v", ErrUnusable, in.path, err)
			case err != nil:
				return fmt.Errorf("%s: %w", in.path, err)
			default:
				c.decode(fileIdx, in, row, cand)
				if len(cand.decisions) == 0 {
					cand.key = rules.KeyOf(&cand.line)
				}
				if len(cand.decisions) == 0 && cand.line.Frequency == "" { // a correction has no duplicate check
					b.lines = append(b.lines, store.Line{Key: cand.key, Control: cand.control,
						Invoice: cand.line.InvoiceNumber, LineNo: cand.line.LineNumber})
				}
			}
			c.sum.Files[fileIdx].Rows++
			if len(b.cands) == batchSize {
				send()
			}
		}
		c.log.Info("invoice file read", "run", c.run.ID(), "file", c.sum.Files[fileIdx].Name, "rows", c.sum.Files[fileIdx].Rows)
	}
	send()
	return nil
}

func (c *converter) decode(fileIdx int, in *input, row tabular.Row, cand *candidate) {
	cand.file = fileIdx
	cand.decisions = cand.decisions[:0]
	cand.facts = cand.facts[:0]
	cand.control = ""
	cand.priorRun, cand.dupSameRun, cand.dupOwn = 0, false, false
	problems := in.dec.Decode(row, &cand.line)
	clear(c.skip)
	for _, p := range problems {
		id := rules.FieldInvalid
		if p.Missing {
			id = rules.FieldMissing
		}
		cand.decisions = append(cand.decisions, rules.Decision{Rule: id, Field: p.Field, Message: p.Message})
		c.skip[p.Field] = true
	}
	leg, ds := c.checker.Check(&cand.line, c.skip)
	cand.leg = leg
	cand.decisions = append(cand.decisions, ds...)
	if len(cand.decisions) == 0 {
		c.seq++
		cand.control = strconv.FormatInt(c.run.ID(), 10) + "-" + strconv.Itoa(c.seq)
	}
}

// decide runs the stateful part of the rules in the store stage: the
// judges, then the duplicate check that records the line as sent, then the
// judges' usage counters. Without judges the whole batch goes to the store
// in one call.
func (c *converter) decide(ctx context.Context, b *batch) error {
	if err := c.judge(ctx, b); err != nil {
		return err
	}
	if !c.job.CheckOnly && (c.job.SenderReports || c.prov != nil) {
		if err := c.ownDuplicates(ctx, b); err != nil {
			return err
		}
	}
	if !c.job.CheckOnly { // what a check-only run records is thrown away; no rule reads it
		if err := c.recordServices(ctx, b); err != nil {
			return err
		}
		if err := c.releaseRejected(ctx, b); err != nil {
			return err
		}
	}
	return c.recordDecisions(ctx, b)
}

// releaseRejected ends the pending state of the batch's lines rejected
// for a rule (an inbound claim's line that its conversion rejects), so
// that a corrected claim for the service is not its duplicate.
func (c *converter) releaseRejected(ctx context.Context, b *batch) error {
	c.released = c.released[:0]
	for i := range b.cands {
		if l := &b.cands[i].line; len(b.cands[i].decisions) > 0 && l.Frequency == "" && l.InvoiceNumber != "" {
			c.released = append(c.released, store.Line{Key: rules.KeyOf(l), Invoice: l.InvoiceNumber, LineNo: l.LineNumber})
		}
	}
	return c.run.ReleaseLines(ctx, c.released)
}

// recordDecisions records the batch's decisions with the run, or keeps
// them for a check-only run.
func (c *converter) recordDecisions(ctx context.Context, b *batch) error {
	if c.decStore == nil && !c.job.CheckOnly {
		return nil
	}
	c.decisions = c.decisions[:0]
	for i := range b.cands {
		c.lineSeq++
		c.decisions = append(c.decisions, c.decisionOf(&b.cands[i], c.lineSeq))
	}
	if c.job.CheckOnly {
		c.checked = append(c.checked, c.decisions...)
		return nil
	}
	return c.decStore.RecordDecisions(ctx, c.run, c.decisions)
}

// judge runs the judges and the duplicate check on a batch.
func (c *converter) judge(ctx context.Context, b *batch) error {
	if err := c.keep(ctx, b, c.billingAddress); err != nil {
		return err
	}
	if len(c.job.Judges) == 0 && !c.byHCP {
		if err := c.keep(ctx, b, c.memberAddress); err != nil {
			return err
		}
		if c.earlier != nil {
			if err := c.keep(ctx, b, c.repeatsEarlier); err != nil {
				return err
			}
		}
		prior, err := c.run.RecordLines(ctx, b.lines)
		if err != nil {
			return err
		}
		k := 0
		for i := range b.cands {
			cand := &b.cands[i]
			if len(cand.decisions) == 0 && cand.line.Frequency != "" {
				if err := c.correction(ctx, cand); err != nil {
					return err
				}
				continue
			}
			if len(cand.decisions) == 0 {
				if p := prior[k]; p != nil {
					c.duplicate(cand, p)
				}
				k++
			}
		}
		return nil
	}
	if p, ok := c.run.(store.LinePrefetcher); ok {
		if err := p.PrefetchLines(ctx, b.lines); err != nil {
			return err
		}
	}
	c.prefetch, c.prefetchLegs = c.prefetch[:0], c.prefetchLegs[:0]
	for i := range b.cands {
		if len(b.cands[i].decisions) == 0 {
			c.prefetch, c.prefetchLegs = append(c.prefetch, &b.cands[i].line), append(c.prefetchLegs, b.cands[i].leg)
		}
	}
	for _, j := range c.job.Judges {
		if p, ok := j.(Prefetcher); ok && len(c.prefetch) > 0 {
			if err := p.Prefetch(ctx, c.run, c.prefetch, c.prefetchLegs); err != nil {
				return err
			}
		}
	}
	k := 0
	for i := range b.cands {
		cand := &b.cands[i]
		if len(cand.decisions) > 0 {
			continue
		}
		correction := cand.line.Frequency != ""
		var rec []store.Line
		if !correction {
			rec = b.lines[k : k+1]
			k++
		}
		judges := c.job.Judges
		if cand.line.Frequency == "8" {
			// A void withdraws an encounter: the rules of what may be
			// billed (enrollment, authorization, contracts) are not its.
			judges = nil
		}
		for _, j := range judges {
			ds, err := j.Judge(ctx, c.run, &cand.line, cand.leg)
			if err != nil {
				return err
			}
			cand.decisions = append(cand.decisions, ds...)
			if e, ok := j.(Explainer); ok && (c.decStore != nil || c.job.CheckOnly) && c.earlier == nil {
				cand.facts = append(cand.facts, e.Facts()...)
			}
		}
		if len(cand.decisions) == 0 {
			if err := c.memberAddress(ctx, cand); err != nil {
				return err
			}
		}
		if len(cand.decisions) > 0 {
			continue
		}
		if correction {
			// A replacement or void goes to its original's file and is not
			// checked for duplicates (it repeats the original on purpose);
			// usage counters do not move for it.
			if err := c.correction(ctx, cand); err != nil {
				return err
			}
			continue
		}
		if c.byHCP {
			d, err := c.chooseHCP(ctx, cand)
			if err != nil {
				return err
			}
			if d != nil {
				cand.decisions = append(cand.decisions, *d)
				continue
			}
		}
		p, err := c.earlier.prior(rec[0].Key, c.run.ID())
		if err != nil {
			return err
		}
		if p != nil {
			c.duplicate(cand, p)
			continue
		}
		prior, err := c.run.RecordLines(ctx, rec)
		if err != nil {
			return err
		}
		if prior[0] != nil {
			c.duplicate(cand, prior[0])
			continue
		}
		if c.carry != nil {
			c.carry.row = cand.line.Source.Row
		}
		for _, j := range c.job.Judges {
			if err := j.Sent(ctx, c.run, &cand.line, cand.leg); err != nil {
				return err
			}
		}
	}
	return nil
}

// repeatsEarlier rejects a line that repeats one a Checker's earlier
// check accepted.
func (c *converter) repeatsEarlier(_ context.Context, cand *candidate) error {
	if len(cand.decisions) > 0 || cand.line.Frequency != "" || c.earlier.none() {
		return nil
	}
	p, err := c.earlier.prior(cand.key, c.run.ID())
	if err != nil {
		return err
	}
	if p != nil {
		c.duplicate(cand, p)
	}
	return nil
}

// duplicate rejects a line that repeats p (DUPLICATE-LINE) and keeps the
// run that sent p, so that the console tells who may read the message,
// which names p's invoice, line and file.
func (c *converter) duplicate(cand *candidate, p *store.PriorLine) {
	cand.decisions = append(cand.decisions, rules.Decision{Rule: rules.DuplicateLine, Message: duplicateMessage(p, c.run.ID(), c.job.CheckOnly)})
	if !p.Pending {
		cand.priorRun = p.Run
		cand.dupSameRun = p.Run == c.run.ID()
	}
}

// DuplicateForOthers is the message of a DUPLICATE-LINE rejection that a
// provider reads (in the console, in the reports sent back to it) when
// the line it repeats may be another provider's: the full message names
// that line's invoice, line number, file, line control and the day it was
// sent.
const DuplicateForOthers = "already billed: this service (member, dates of service, rendering provider, code and modifiers) was sent to DHCS before, or is waiting to be sent, so it is not sent again"

// OwnsAll reports whether npis (the billing NPIs of the lines a run
// accepted) are some, and all of them are in own (a provider's NPIs).
func OwnsAll(own, npis []string) bool {
	if len(npis) == 0 {
		return false
	}
	for _, n := range npis {
		if !slices.Contains(own, n) {
			return false
		}
	}
	return true
}

// ownDuplicates tells, in row order, whether the line each DUPLICATE-LINE
// of the batch repeats is its billing provider's own (candidate.dupOwn):
// every line its run accepted bills the rejected line's billing NPI — for
// an earlier run, from the decisions that run recorded
// (store.PriorRunStore; none recorded, or no such store: not own); for
// this run, the lines accepted before it. A pending line (from a
// provider's 837P, priorRun 0) is never own.
func (c *converter) ownDuplicates(ctx context.Context, b *batch) error {
	for i := range b.cands {
		cand := &b.cands[i]
		if len(cand.decisions) == 0 {
			switch npi := cand.line.Billing.NPI; {
			case c.runNPI == "":
				c.runNPI = npi
			case c.runNPI != npi:
				c.runMixed = true
			}
			continue
		}
		if cand.priorRun == 0 || cand.decisions[0].Rule != rules.DuplicateLine {
			continue
		}
		own := []string{cand.line.Billing.NPI}
		if cand.dupSameRun {
			cand.dupOwn = !c.runMixed && OwnsAll(own, []string{c.runNPI})
			continue
		}
		npis, ok := c.priorNPIs[cand.priorRun]
		if !ok && c.priorRuns != nil {
			var err error
			if npis, err = c.priorRuns.RunBillingNPIs(ctx, c.run, cand.priorRun); err != nil {
				return err
			}
			c.priorNPIs[cand.priorRun] = npis
		}
		cand.dupOwn = OwnsAll(own, npis)
	}
	return nil
}

// sentToSender is the rejects row r of cand as a sender reads it: a
// DUPLICATE-LINE message names the line it repeats only when that line is
// the sender's own — its billing provider's (cand.dupOwn) or, with
// sameRun (the report of a whole run's files, sent back to the one sender
// of them), one earlier in this run; otherwise, and for a pending line,
// the message is DuplicateForOthers. The rule ID stays.
func sentToSender(cand *candidate, r report.Reject, sameRun bool) report.Reject {
	r.Message = senderMessage(cand, rules.Decision{Rule: r.RuleID, Message: r.Message}, sameRun)
	return r
}

// senderMessage is the message of decision d against cand as a sender
// reads it (sentToSender).
func senderMessage(cand *candidate, d rules.Decision, sameRun bool) string {
	if d.Rule == rules.DuplicateLine && !cand.dupOwn && !(sameRun && cand.dupSameRun) {
		return DuplicateForOthers
	}
	return d.Message
}

// keep applies rule to each line of the batch (rule looks at the line's
// decisions so far); a line it rejects leaves b.lines.
func (c *converter) keep(ctx context.Context, b *batch, rule func(context.Context, *candidate) error) error {
	k, kept := 0, b.lines[:0]
	for i := range b.cands {
		cand := &b.cands[i]
		recorded := len(cand.decisions) == 0 && cand.line.Frequency == ""
		if err := rule(ctx, cand); err != nil {
			return err
		}
		if recorded {
			if len(cand.decisions) == 0 {
				kept = append(kept, b.lines[k])
			}
			k++
		}
	}
	b.lines = kept
	return nil
}

// billingAddress gives the line the billing provider's address from the
// roster, or checks the invoice's (rules.BillingAddress). A line whose
// billing columns did not decode is left as it is.
func (c *converter) billingAddress(ctx context.Context, cand *candidate) error {
	if cand.line.Billing.NPI == "" {
		return nil
	}
	for _, d := range cand.decisions {
		if strings.HasPrefix(d.Field, "billing_") {
			return nil
		}
	}
	sites, ok := c.sites[cand.line.Billing.NPI]
	if !ok {
		if dir, isDir := c.job.Store.(domain.ProviderDirectory); isDir {
			var err error
			if sites, err = dir.Contracts(ctx, cand.line.Billing.NPI); err != nil {
				return err
			}
		}
		c.sites[cand.line.Billing.NPI] = sites
	}
	cand.decisions = append(cand.decisions, rules.BillingAddress(&cand.line, sites)...)
	return nil
}

// memberAddress gives the line the member's address the 837P needs
// (rules.MemberAddress): the invoice's, else the member's 834 record's.
func (c *converter) memberAddress(ctx context.Context, cand *candidate) error {
	if len(cand.decisions) > 0 || rules.CompleteAddress(cand.line.Member.Address) {
		return nil
	}
	m, err := c.member(ctx, cand.line.Member.CIN)
	if err != nil {
		return err
	}
	if d := rules.MemberAddress(&cand.line, m); d != nil {
		cand.decisions = append(cand.decisions, *d)
	}
	return nil
}

// member returns the member's 834 record from the run's enrollment view
// (nil when unknown).
func (c *converter) member(ctx context.Context, cin string) (*domain.Enrollee, error) {
	if c.view == nil {
		v, err := store.EnrollmentViewOf(c.run)
		if err != nil {
			return nil, fmt.Errorf("the member's address needs the enrollment data: %w", err)
		}
		c.view = v
	}
	m, ok, err := c.view.Member(ctx, cin)
	if err != nil || !ok {
		return nil, err
	}
	return m, nil
}

// correction gathers what the store knows of the original of a replacement
// or void and applies rules.DecideCorrection: its CLM01, HCP code and DHCS
// Encounter ID go on the line, or the line is rejected or held.
func (c *converter) correction(ctx context.Context, cand *candidate) error {
	cs, ok := c.job.Store.(store.ClaimStore)
	if !ok {
		return fmt.Errorf("a replacement or void needs a store that keeps the claims sent (got %T)", c.job.Store)
	}
	l := &cand.line
	orig, claims, err := cs.SentClaim(ctx, l.OriginalClaim, l.Billing.NPI)
	if err != nil {
		return err
	}
	d := rules.DecideCorrection(l, rules.Original{Claims: claims, CLM01: orig.CLM01, Run: orig.Run, EncounterID: orig.EncounterID, Latest: orig.Latest, Frequency: orig.LatestFrequency})
	if d.Decision != nil {
		cand.decisions = append(cand.decisions, *d.Decision)
		return nil
	}
	l.Frequency, l.OriginalClaim, l.OriginalEncounterID = d.Frequency, d.CLM01, d.EncounterID
	if c.byHCP {
		cand.hcp = orig.HCP
	}
	return nil
}

// chooseHCP sets the line's HCP code from the member's county of enrollment
// on the date of service (the run's enrollment view) and the profile's
// county → HCP code table.
func (c *converter) chooseHCP(ctx context.Context, cand *candidate) (*rules.Decision, error) {
	m, err := c.member(ctx, cand.line.Member.CIN)
	if err != nil {
		return nil, err
	}
	plan := c.job.Config.EncounterPartner().Plan
	hcp, d := rules.ChooseHCP(m, &cand.line, plan.HCPFor)
	cand.hcp = hcp
	return d, nil
}

// write reports the batch's rejects and hands its accepted lines to the
// claim assembler, in row order.
func (c *converter) write(b *batch) error {
	for i := range b.cands {
		cand := &b.cands[i]
		fs := &c.sum.Files[cand.file]
		if len(cand.decisions) == 0 && cand.line.Frequency != "" {
			o, err := c.output(cand.hcp)
			if err != nil {
				return err
			}
			_, started := c.correctionInvoice[cand.line.OriginalClaim]
			if d := rules.DecideCorrectionSplit(&cand.line, started && !o.asm.Continues(&cand.line)); d != nil {
				cand.decisions = append(cand.decisions, *d)
			}
		}
		if c.prov != nil {
			if err := c.prov.line(c, cand); err != nil {
				return err
			}
		}
		if len(cand.decisions) > 0 {
			fs.Rejected++
			for _, d := range cand.decisions {
				if err := c.reject(cand, d); err != nil {
					return err
				}
			}
			continue
		}
		fs.Accepted++
		if cand.line.Frequency != "" {
			c.correctionInvoice[cand.line.OriginalClaim] = cand.line.InvoiceNumber
		}
		o, err := c.output(cand.hcp)
		if err != nil {
			return err
		}
		c.claimLines[cand.control] = store.Line{Key: cand.key, Control: cand.control, Invoice: cand.line.InvoiceNumber, LineNo: cand.line.LineNumber}
		if err := o.asm.Add(&cand.line, cand.control); err != nil {
			return err
		}
	}
	return nil
}

// duplicateMessage says which line p a DUPLICATE-LINE repeats, to a line
// of run (checkOnly: a check, whose line controls no output has).
func duplicateMessage(p *store.PriorLine, run int64, checkOnly bool) string {
	what := "invoice " + p.Invoice
	if p.LineNo != "" {
		what += " line " + p.LineNo
	}
	if p.Pending {
		return fmt.Sprintf("repeats %s of %s, a claim accepted on %s from a provider's 837P and waiting to be sent to DHCS, since DHCS denies a whole encounter for a duplicate line", what, filepath.Base(p.Output), p.At.Format("2006-01-02"))
	}
	switch {
	case p.Run == run && checkOnly:
		// A check's line controls are its own: no output has them.
		return fmt.Sprintf("repeats %s earlier in this file; only the first is sent, since DHCS denies a whole encounter for a duplicate line", what)
	case p.Run == run:
		return fmt.Sprintf("repeats %s earlier in this file or run; only the first was sent, since DHCS denies a whole encounter for a duplicate line (line control %s)", what, p.Control)
	}
	where := "run " + strconv.FormatInt(p.Run, 10)
	if p.Output != "" {
		names := strings.Split(p.Output, "\n")
		for i, n := range names {
			names[i] = filepath.Base(n)
		}
		where = strings.Join(names, " or ")
	}
	return fmt.Sprintf("already sent on %s as %s, in %s (line control %s)", p.At.Format("2006-01-02"), what, where, p.Control)
}

func (c *converter) reject(b *candidate, d rules.Decision) error {
	fs := &c.sum.Files[b.file]
	if max := c.job.Config.Limits.WithDefaults().RejectsPerFile; fs.Rejected > max {
		return fmt.Errorf("%w: %s: more than %d rejected lines (limits.rejects_per_file): the file is refused; fix it and send it again", ErrUnusable, fs.Name, max)
	}
	r := rejectOf(b, d)
	if c.job.SenderReports {
		r = sentToSender(b, r, true)
	}
	c.sum.ByRule[d.Rule]++
	if len(c.sum.Rejects) < maxSummaryRejects {
		c.sum.Rejects = append(c.sum.Rejects, r)
	} else {
		c.sum.MoreRejects++
	}
	return c.rejects.Write(r)
}

// output returns the 837 of an HCP code, making its claim assembler; the
// file itself opens with the first claim.
func (c *converter) output(hcp string) (*hcpOutput, error) {
	if o, ok := c.outs[hcp]; ok {
		return o, nil
	}
	enc := c.job.Config.Encounters
	partner := c.job.Config.EncounterPartner()
	o := &hcpOutput{hcp: hcp}
	opts := encounter.Options{
		Payer:                 x837p.Party{Name: partner.Payer.Name, ID: partner.Payer.ID},
		ClaimFilingIndicator:  enc.ClaimFilingIndicator,
		DefaultPlaceOfService: enc.DefaultPlaceOfService,
		DefaultDiagnosis:      enc.DefaultDiagnosis,
	}
	invoiceOf := map[string]string{}
	if hcp != "" {
		// CLM01 starts with the HCP code and is unique across every run:
		// the HCP code, the run ID and the claim's sequence in the run.
		opts.ClaimID = func(l *domain.InvoiceLine) string {
			c.claimSeq++
			id := hcp + strconv.FormatInt(c.run.ID(), 10) + "C" + strconv.Itoa(c.claimSeq)
			invoiceOf[id] = l.InvoiceNumber
			return id
		}
	} else {
		opts.ClaimID = func(l *domain.InvoiceLine) string {
			invoiceOf[l.InvoiceNumber] = l.InvoiceNumber
			return l.InvoiceNumber
		}
	}
	o.asm = encounter.NewAssembler(opts, func(claim *x837p.Claim) error {
		if o.enc == nil {
			if err := c.openInterchange(o); err != nil {
				return err
			}
		}
		if err := o.enc.Encode(claim); err != nil {
			return err
		}
		// Every claim written is a submission whose answers are tracked;
		// an original is also the CLM01's record for its corrections.
		sc := o.env
		sc.CLM01, sc.HCP, sc.Frequency, sc.ST02 = claim.PatientControlNumber, hcp, claim.FrequencyCode, o.enc.TransactionControl()
		sc.BillingNPI = claim.Billing.NPI
		sc.Invoice = invoiceOf[claim.PatientControlNumber]
		if inv, ok := c.correctionInvoice[claim.PatientControlNumber]; ok {
			sc.Invoice, sc.Correction = inv, true
		}
		sc.Lines = make([]store.Line, len(claim.Lines))
		for i := range claim.Lines {
			ctl := claim.Lines[i].ControlNumber
			sc.Lines[i] = c.claimLines[ctl]
			delete(c.claimLines, ctl)
		}
		c.sentClaims = append(c.sentClaims, sc)
		if len(c.sentClaims) >= sentClaimsChunk && !c.job.CheckOnly {
			return c.recordSentClaims()
		}
		return nil
	})
	c.outs[hcp] = o
	c.hcps = append(c.hcps, hcp)
	return o, nil
}

// sentClaimsChunk is how many claims written the converter holds before
// it records them with the run: memory stays the same however large the
// file.
const sentClaimsChunk = 1024

// recordSentClaims records the claims written and not recorded yet with
// the run (in its transaction: they count only if it commits), when the
// store keeps claims, and forgets them.
func (c *converter) recordSentClaims() error {
	if cs, ok := c.job.Store.(store.ClaimStore); ok && len(c.sentClaims) > 0 {
		if err := cs.RecordClaims(c.ctx, c.run, c.sentClaims); err != nil {
			return err
		}
	}
	clear(c.sentClaims)
	c.sentClaims = c.sentClaims[:0]
	return nil
}

func (c *converter) openInterchange(o *hcpOutput) error {
	partner := c.job.Config.EncounterPartner().ForHCP(o.hcp)
	pi := partner.Interchange
	isaScope := fmt.Sprintf("ISA/%s:%s/%s:%s", pi.SenderQualifier, pi.SenderID, pi.ReceiverQualifier, pi.ReceiverID)
	gsScope := fmt.Sprintf("GS/%s/%s", partner.Group.SenderCode, partner.Group.ReceiverCode)
	stScope := fmt.Sprintf("ST/%s/%s", partner.Group.SenderCode, partner.Group.ReceiverCode)
	// Control numbers are reserved inside the run: they are consumed only
	// if the run's 837 is written, and never reused once it is.
	isa, err := c.run.NextControlNumber(c.ctx, isaScope)
	if err != nil {
		return err
	}
	o.isa = isa
	gs, err := c.run.NextControlNumber(c.ctx, gsScope)
	if err != nil {
		return err
	}
	base := fmt.Sprintf("encounters-%09d.837", isa)
	if o.hcp != "" && partner.FileName != "" {
		// The file counter counts the HCP code's files of the day.
		day := c.now.Format("20060102")
		n, err := c.run.NextControlNumber(c.ctx, "FILE/837P/"+o.hcp+"/"+day)
		if err != nil {
			return err
		}
		base = partner.OutputName(o.hcp, c.now, n)
	}
	name := filepath.Join(c.job.OutDir, base)
	if _, err := os.Stat(name); err == nil {
		return fmt.Errorf("%s already exists: the state directory was reset or is shared with another output; refusing to overwrite it", name)
	}
	if o.out, err = atomicfile.Create(name, c.prefix); err != nil {
		return err
	}
	enc := c.job.Config.Encounters
	h := x837p.Header{
		Interchange: x12.InterchangeHeader{
			AuthQualifier: pi.AuthQualifier, AuthInfo: pi.AuthInfo,
			SenderQualifier: pi.SenderQualifier, SenderID: pi.SenderID,
			ReceiverQualifier: pi.ReceiverQualifier, ReceiverID: pi.ReceiverID,
			Date: c.now, ControlNumber: isa, AckRequested: pi.AckRequested, Usage: pi.Usage,
		},
		Group:           x12.GroupHeader{SenderCode: partner.Group.SenderCode, ReceiverCode: partner.Group.ReceiverCode, Date: c.now, ControlNumber: gs},
		Submitter:       x837p.Party{Name: partner.Submitter.Name, ID: partner.Submitter.ID},
		SubmitterPER:    x837p.Contact{Name: partner.Submitter.ContactName, Phone: partner.Submitter.ContactPhone, Email: partner.Submitter.ContactEmail},
		Receiver:        x837p.Party{Name: partner.Receiver.Name, ID: partner.Receiver.ID},
		TransactionType: enc.TransactionType,
		MaxClaimsPerST:  enc.MaxClaimsPerST,
		NextSTControl:   func() (int64, error) { return c.run.NextControlNumber(c.ctx, stScope) },
	}
	var opts []x12.WriterOption
	if enc.SegmentNewlines {
		opts = append(opts, x12.WithNewlines())
	}
	o.enc = x837p.NewEncoder(o.out, x12.DefaultDelimiters, h, opts...)
	o.env = store.SentClaim{File: filepath.Base(name), Sender: pi.SenderID, GroupSender: partner.Group.SenderCode,
		ISA13: isa, GS06: gs, Sent: c.now.Format("2006-01-02")}
	if c.sum.Output == "" {
		c.sum.Interchange = isa
		c.sum.Output = filepath.Base(name)
	} else {
		c.sum.Output += ", " + filepath.Base(name)
	}
	return nil
}

// finish closes the outputs and commits them: the 837 is recorded as
// written before it is renamed, so a crash in between is recovered.
func (c *converter) finish() (*Result, error) {
	if c.job.CheckOnly {
		return c.checkOnly()
	}
	res := &Result{RejectsPath: c.rejFile.FinalName(), SummaryPath: filepath.Join(c.job.OutDir, SummaryFile)}
	var written []*hcpOutput
	for _, h := range slices.Sorted(maps.Keys(c.outs)) {
		o := c.outs[h]
		if o.enc == nil {
			continue
		}
		if _, err := o.enc.Close(); err != nil {
			return nil, err
		}
		c.sum.Claims += o.enc.Claims()
		c.sum.Lines += o.enc.Lines()
		c.sum.TransactionSets += o.enc.TransactionSets()
		if err := o.out.Sync(); err != nil {
			return nil, err
		}
		res.Outputs = append(res.Outputs, o.out.FinalName())
		written = append(written, o)
	}
	if len(res.Outputs) > 0 {
		res.Output = res.Outputs[0]
	}
	if err := c.rejects.Flush(); err != nil {
		return nil, fmt.Errorf("%s: %w", RejectsFile, err)
	}
	c.sum.Finished = time.Now()
	sumFile, err := atomicfile.Create(res.SummaryPath, c.prefix)
	if err != nil {
		return nil, err
	}
	if err := c.sum.WriteHTML(sumFile); err != nil {
		sumFile.Abort()
		return nil, fmt.Errorf("%s: %w", SummaryFile, err)
	}
	var provFiles []*atomicfile.File
	if c.prov != nil {
		var err error
		provFiles, res.Providers, err = c.prov.write(c)
		if err != nil {
			sumFile.Abort()
			for _, f := range provFiles {
				f.Abort()
			}
			return nil, err
		}
	}
	abortReports := func() {
		sumFile.Abort()
		for _, f := range provFiles {
			f.Abort()
		}
	}
	if err := c.recordSentClaims(); err != nil {
		abortReports()
		return nil, err
	}
	if c.decStore != nil {
		var is []store.Interchange
		for _, o := range written {
			is = append(is, store.Interchange{ISA13: o.isa, File: filepath.Base(o.out.FinalName())})
		}
		if err := c.decStore.RecordInterchanges(c.ctx, c.run, is); err != nil {
			abortReports()
			return nil, err
		}
	}
	// Commit the run: from here its lines count as sent and a crash is
	// recovered by renaming the complete temporary files (one per line of
	// the run's temp and output).
	var temps, finals []string
	for _, o := range written {
		temps, finals = append(temps, o.out.TempName()), append(finals, o.out.FinalName())
	}
	if err := c.run.Written(c.ctx, strings.Join(temps, "\n"), strings.Join(finals, "\n")); err != nil {
		abortReports()
		return nil, err
	}
	c.committed = true
	for i := range temps {
		if err := atomicfile.Rename(temps[i], finals[i]); err != nil {
			abortReports()
			return nil, err
		}
	}
	if err := c.rejFile.Commit(); err != nil {
		abortReports()
		return nil, err
	}
	if err := sumFile.Commit(); err != nil {
		return nil, err
	}
	for _, f := range provFiles {
		if err := f.Commit(); err != nil {
			return nil, err
		}
	}
	t := c.sum.Totals()
	summary := fmt.Sprintf("rows=%d accepted=%d rejected=%d claims=%d", t.Rows, t.Accepted, t.Rejected, c.sum.Claims)
	if err := c.job.Store.CompleteRun(c.ctx, c.run.ID(), summary); err != nil {
		return nil, err
	}
	c.log.Info("conversion complete", "run", c.run.ID(), "rows", t.Rows, "accepted", t.Accepted, "rejected", t.Rejected,
		"claims", c.sum.Claims, "output", c.sum.Output)
	res.Summary = c.sum
	return res, nil
}

func (c *converter) abort(cause error) {
	if c.rejFile != nil {
		c.rejFile.Abort()
	}
	if c.prov != nil {
		c.prov.abort()
	}
	if c.committed {
		// The run is committed and its 837 is complete on disk (renamed, or
		// renamed by the next Recover): its lines were sent.
		c.log.Error("conversion committed but not finished; the next run recovers it", "run", c.run.ID(), "err", cause)
		return
	}
	for _, o := range c.outs {
		if o.out != nil {
			o.out.Abort()
		}
	}
	// A context that is already cancelled must not stop the clean-up.
	ctx := context.WithoutCancel(c.ctx)
	if err := c.run.Abandon(ctx, cause.Error()); err != nil {
		c.log.Error("abandon run", "run", c.run.ID(), "err", err)
	}
	c.log.Warn("conversion abandoned; no line counts as sent", "run", c.run.ID(), "err", cause)
}

// Recover finishes or abandons runs that a crash left behind. A run whose
// 837 was fully written (and recorded so) is completed, renaming the file
// into place if needed; any other run is aborted and its lines forgotten.
func Recover(ctx context.Context, st store.Store, log *slog.Logger) error {
	pending, err := st.PendingRuns(ctx)
	if err != nil {
		return err
	}
	for _, r := range pending {
		if r.Status == store.RunWritten {
			done, err := recoverOutputs(r, log)
			if err != nil {
				return err
			}
			if done != "" {
				if err := st.CompleteRun(ctx, r.ID, done); err != nil {
					return err
				}
				continue
			}
		}
		if err := st.AbortRun(ctx, r.ID, "interrupted before its output was written"); err != nil {
			return err
		}
		removeTemps(r, log)
		log.Warn("abandoned an interrupted run; its lines do not count as sent", "run", r.ID)
	}
	return nil
}

// recoverOutputs puts a written run's 837 files in place (the run's temp and
// output list them one per line, in the same order). It returns the
// completion note, or "" when a file is neither in place nor complete
// under its temporary name: the run is then aborted.
func recoverOutputs(r store.RunInfo, log *slog.Logger) (string, error) {
	if r.Output == "" {
		return "recovered: no output", nil
	}
	temps, finals := strings.Split(r.Temp, "\n"), strings.Split(r.Output, "\n")
	if len(temps) != len(finals) {
		return "", nil
	}
	for i := range finals {
		if _, err := os.Stat(finals[i]); err == nil {
			continue
		}
		if _, err := os.Stat(temps[i]); err != nil {
			return "", nil
		}
	}
	renamed := false
	for i := range finals {
		if _, err := os.Stat(finals[i]); err == nil {
			continue
		}
		if err := atomicfile.Rename(temps[i], finals[i]); err != nil {
			return "", err
		}
		renamed = true
		log.Warn("recovered an interrupted run", "run", r.ID, "output", filepath.Base(finals[i]))
	}
	if renamed {
		return "recovered: output renamed", nil
	}
	return "recovered: output in place", nil
}

// removeTemps deletes an abandoned run's temporary files.
func removeTemps(r store.RunInfo, log *slog.Logger) {
	var info struct {
		Out string `json:"out"`
	}
	json.Unmarshal([]byte(r.Inputs), &info)
	dir := info.Out
	if r.Temp != "" {
		dir = filepath.Dir(strings.Split(r.Temp, "\n")[0])
	}
	if dir == "" {
		return
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix(r.ID)) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
