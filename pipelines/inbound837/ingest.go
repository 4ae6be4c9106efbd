package inbound837

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ack"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/scratch"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/pipelines/judges"
	"github.com/calaim-gateway/calaim-gateway/rules/snip"
	"github.com/calaim-gateway/calaim-gateway/store"
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
// job.OutDir, its 999, 277CA, TA1 (as the sender's profile says) and the
// provider's report (CSV and HTML), each atomically, and the accepted
// claims' encounter lines (SuffixEncounters) for the next 837P to DHCS.
// The plan answers under its configured name and TIN. With a store that
// keeps claims and runs (store.Store), levels 6 and 7 apply the invoice
// rules to each claim's lines; with a store.InboundStore, a file that
// repeats an interchange received before is answered with a TA1 (R, 025)
// and nothing else.
func Ingest(ctx context.Context, job ingest.Job) []ingest.Result {
	res := make([]ingest.Result, 0, len(job.Files))
	for _, f := range job.Files {
		r := ingest.Result{File: f, Kind: Kind}
		r.Err = ingestFile(ctx, &job, f, &r)
		res = append(res, r)
	}
	return res
}

// peekSender returns ISA06 of the interchange in (trimmed), "" when the
// file does not start with an ISA.
func peekSender(in *bufio.Reader) string {
	b, _ := in.Peek(106)
	if len(b) < 106 || string(b[:3]) != "ISA" {
		return ""
	}
	f := strings.Split(string(b[:106]), string(b[3]))
	if len(f) < 7 {
		return ""
	}
	return strings.TrimSpace(f[6])
}

// partnerProfile returns the sender's edit profile and TA1 mode from the
// configuration.
func partnerProfile(cfg *config.Config, sender string) (snip.Profile, string, error) {
	if cfg == nil {
		return snip.Profile{}, TA1OnError, nil
	}
	p := cfg.Inbound837.Partner(sender)
	prof, err := snip.NewProfile(p.Edits)
	if err != nil {
		return snip.Profile{}, "", fmt.Errorf("inbound_837p.trading_partners.%s: %w", sender, err)
	}
	mode := p.TA1
	if mode == "" {
		mode = TA1OnError
	}
	return prof, mode, nil
}

func ingestFile(ctx context.Context, job *ingest.Job, path string, r *ingest.Result) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ingest.ErrUnusable, err)
	}
	defer f.Close()
	sum := sha256.New()
	in := bufio.NewReaderSize(io.TeeReader(f, sum), 256<<10)
	profile, ta1Mode, err := partnerProfile(job.Config, peekSender(in))
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	dir := job.OutDir
	if dir == "" {
		dir = filepath.Dir(path)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	names := []string{Suffix999, Suffix277CA, SuffixTA1, SuffixReportCSV, SuffixReportHTML, SuffixEncounters}
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
	num999 := &storeNumbers{ctx: ctx, s: job.Store, kind: "999"}
	w999 := ack.New999(x12.NewWriter(outs[0], x12.DefaultDelimiters), num999, ack.WithClock(now), ack.WithoutValues())
	var plan Party
	if job.Config != nil {
		tp := job.Config.EncounterPartner()
		plan = Party{Name: tp.Submitter.Name, ID: tp.Submitter.ID}
	}
	// The 277CAs draw their ISA13 and GS06 from the 999s' (and TA1s')
	// sequences: all go to the same sender, whose translator takes an
	// ISA13 seen twice for a duplicate interchange.
	w277 := NewWriter277(x12.NewWriter(outs[1], x12.DefaultDelimiters), &storeNumbers{ctx: ctx, s: job.Store, kind: "999"}, plan, now)
	ta1 := x12.NewWriter(outs[2], x12.DefaultDelimiters)
	rep, err := NewReport(filepath.Base(path), outs[3], outs[4])
	if err != nil {
		abort()
		return err
	}
	defer rep.Discard()
	opts := Options{
		Profile: profile, Coding: job.Coding, Ack999: w999, Ack277: w277, TA1: ta1, TA1Mode: ta1Mode, Numbers: num999, Now: now,
	}
	batch := "" // the claim batch of the interchange being read
	opts.ClaimBatch = func(sender, isa13 string) (string, error) {
		b, err := claimBatch(ctx, job, sender, isa13)
		batch = b
		return b, err
	}
	// The encounter lines need the configuration; levels 6 and 7 also the
	// store's runs and the coding table.
	opts.Collect = job.Config != nil
	var j *judge
	if st, full := job.Store.(store.Store); full && job.Config != nil && (job.Coding != nil || job.Rules != nil) {
		j, err = newJudge(ctx, job, st, profile, base+SuffixEncounters)
		if err != nil {
			abort()
			return err
		}
		defer j.check.Close()
		opts.Judge = j.claims
	}
	var (
		ics       []store.InboundInterchange
		results   []ig.InterchangeResult
		forwarded int
	)
	claims, err := newClaimSpool()
	if err != nil {
		abort()
		return err
	}
	defer claims.close()
	received := now()
	w277.Received(received)
	fwd := csv.NewWriter(outs[5])
	opts.OnInterchange = func(i *ig.InterchangeResult) error {
		// An interchange the TA1 rejects was not received: it is not
		// recorded, so that the sender can send it again, fixed, under the
		// same ISA13 without a duplicate-interchange TA1.
		if i.Status != ig.Rejected {
			ics = append(ics, store.InboundInterchange{Sender: strings.TrimSpace(i.SenderQualifier) + ":" + strings.TrimSpace(i.SenderID),
				ISA13: i.Control, File: filepath.Base(path), ReceivedAt: received, Source: job.Source, Batch: batch})
		}
		batch = ""
		c := *i
		c.Findings = nil
		results = append(results, c)
		return nil
	}
	opts.OnSet = rep.Set
	opts.OnClaim = func(c *Claim) error {
		if err := rep.Claim(c); err != nil {
			return err
		}
		if !opts.Collect {
			return nil
		}
		if err := claims.add(c.PlanClaim(), c.Sender, c.ISA13, c.ID, !c.Rejected, c.Enc.Lines); err != nil {
			return err
		}
		if c.Rejected {
			return nil
		}
		forwarded++
		if forwarded == 1 {
			if err := fwd.Write(encounterColumns); err != nil {
				return err
			}
		}
		for _, row := range EncounterRows(c) {
			if err := fwd.Write(row); err != nil {
				return err
			}
		}
		return nil
	}
	// A group the 999 rejects, or an interchange the TA1 rejects, has its
	// claims withdrawn: their encounter lines are cut off the output, the
	// claims recorded as not accepted with no pending lines, and a
	// rejected interchange's 999 is cut off too (the TA1 answers it).
	var grp, ic struct {
		fwd       int64 // end of the encounter lines
		forwarded int
		claims    int             // claims spooled
		ack       int64           // end of the 999s (interchange only)
		lines     encounters.Mark // the judge's lines accepted and usage moved
	}
	opts.Outcome = func(interchange, rejected bool, accepted int) error {
		if !rejected {
			if err := rep.End(interchange); err != nil {
				return err
			}
			fwd.Flush()
			off, err := outs[5].Seek(0, io.SeekCurrent)
			if err != nil {
				return fmt.Errorf("encounter lines: %w", err)
			}
			grp.fwd, grp.forwarded, grp.claims = off, forwarded, claims.n
			if j != nil {
				grp.lines = j.check.Mark()
			}
			if interchange {
				if grp.ack, err = outs[0].Seek(0, io.SeekCurrent); err != nil {
					return fmt.Errorf("999: %w", err)
				}
				ic = grp
			}
			return nil
		}
		to := grp
		scope := "group"
		if interchange {
			to, scope = ic, "interchange"
			if err := rewind(outs[0].File, ic.ack); err != nil {
				return fmt.Errorf("999: %w", err)
			}
		}
		fwd.Flush()
		if err := fwd.Error(); err != nil {
			return err
		}
		if err := rewind(outs[5].File, to.fwd); err != nil {
			return fmt.Errorf("encounter lines: %w", err)
		}
		forwarded = to.forwarded
		claims.reject(to.claims)
		if j != nil {
			if err := j.check.Forget(to.lines); err != nil {
				return fmt.Errorf("%s rejected: %w", scope, err)
			}
		}
		grp = to
		return rep.Withdrawn(scope, accepted)
	}
	editSum, err := Edit(ctx, in, opts)
	if err == nil {
		err = rep.Close()
	}
	if err == nil {
		fwd.Flush()
		err = fwd.Error()
	}
	if err == nil {
		_, err = io.Copy(io.Discard, in) // the content hash covers the whole file
	}
	if err != nil {
		abort()
		return fmt.Errorf("%s: %w", path, err)
	}
	if is, ok := job.Store.(store.InboundStore); ok && len(ics) > 0 {
		var h [32]byte
		copy(h[:], sum.Sum(nil))
		for i := range ics {
			ics[i].Sum = h
		}
		window := config.DefaultDuplicateWindow
		if job.Config != nil {
			window = job.Config.Inbound837.Window()
		}
		seq, seqErr := claims.all(filepath.Base(path))
		prior, err := is.RecordInbound(ctx, ics, window, seq)
		if err == nil {
			err = *seqErr
		}
		if err != nil {
			abort()
			return fmt.Errorf("%s: %w", path, err)
		}
		if prior != nil {
			abort()
			return duplicate(ctx, job, path, dir, base, prior, results, ta1Mode, num999, now, r)
		}
	}
	r.Sets, r.SetsRejected = editSum.Sets, editSum.SetsRejected
	r.Read, r.Rejected, r.Loaded = editSum.Claims, editSum.ClaimsRejected, editSum.Claims-editSum.ClaimsRejected
	for i, o := range outs {
		if err := commitOrDropEmpty(o, i == 3 || i == 4); err != nil {
			abort()
			return err
		}
		outs[i] = nil
	}
	if forwarded > 0 {
		r.Forward = filepath.Join(dir, base+SuffixEncounters)
	}
	r.Report = filepath.Join(dir, base+SuffixReportHTML)
	r.Ack = filepath.Join(dir, base+Suffix999)
	r.Committed = true
	return nil
}

// duplicate answers a file that repeats an interchange received before:
// a TA1 rejecting each of its interchanges with note 025 (duplicate
// interchange control number), in the interchange's own separators
// (answerDelimiters), unless the sender's profile says never; nothing else
// is written.
func duplicate(ctx context.Context, job *ingest.Job, path, dir, base string, prior *store.InboundInterchange,
	results []ig.InterchangeResult, mode string, num ack.Numbers, now func() time.Time, r *ingest.Result) error {
	r.Duplicate = fmt.Sprintf("repeats interchange %s of %s received %s in %s (the same sender and ISA13, or the same content)",
		prior.ISA13, prior.Sender, prior.ReceivedAt.Format("2006-01-02 15:04"), prior.File)
	if mode == TA1Never {
		return nil
	}
	out, err := atomicfile.Create(filepath.Join(dir, base+SuffixTA1), tempPrefix)
	if err != nil {
		return err
	}
	w := x12.NewWriter(out, x12.DefaultDelimiters)
	for i := range results {
		ir := results[i]
		ir.Status, ir.Note = ig.Rejected, NoteDuplicate
		// The sender's separators, as the answers of a file processed.
		err := w.SetDelimiters(answerDelimiters(ir.Delimiters, nil))
		var n int64
		if err == nil {
			n, err = num.NextInterchange()
		}
		if err == nil {
			err = ack.WriteTA1(w, &ir, n, now())
		}
		if err != nil {
			out.Abort()
			return fmt.Errorf("%s: TA1: %w", path, err)
		}
	}
	if err := out.Commit(); err != nil {
		return err
	}
	r.Ack = filepath.Join(dir, base+SuffixTA1)
	return nil
}

// NoteDuplicate is the TA1 note code (TA105) of a duplicate interchange
// control number.
const NoteDuplicate = "025"

// newJudge returns the levels 6 and 7 judge of a file: the judges of the
// store's reference data (pipelines/judges) over an encounters.Checker of
// the file's encounter lines.
func newJudge(ctx context.Context, job *ingest.Job, st store.Store, profile snip.Profile, file string) (*judge, error) {
	var js []encounters.Judge
	if jst, ok := st.(judges.Store); ok && job.Rules != nil {
		log := job.Log
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		var err error
		js, err = judges.New(ctx, judges.Env{Config: job.Config, Rules: job.Rules, Store: jst, Log: log})
		if err != nil {
			return nil, err
		}
	}
	coding := job.Coding
	if coding == nil && job.Rules != nil {
		coding = job.Rules.Coding
	}
	check, err := encounters.NewChecker(encounters.Job{Store: st, Config: job.Config, Coding: coding, Judges: js,
		// The decisions' messages go to the sender's report and 277CA.
		SenderReports: true}, file, encounterColumns)
	if err != nil {
		return nil, fmt.Errorf("inbound837: levels 6 and 7: %w", err)
	}
	j := &judge{ctx: ctx, check: check, profile: profile}
	j.inbound, _ = st.(store.InboundStore)
	return j, nil
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

// ClaimBatchScope is the store's control-number scope of the plan's
// numbers of inbound interchanges' claims (Options.ClaimBatch): one per
// interchange, whoever sent it, so that no two claims share a plan's
// claim number.
const ClaimBatchScope = "CLAIMS/837P"

// claimBatch is Options.ClaimBatch of an ingest: the batch recorded for
// the interchange when the job's delivery (Source) was processed before,
// else the next control number of ClaimBatchScope.
func claimBatch(ctx context.Context, job *ingest.Job, sender, isa13 string) (string, error) {
	if is, ok := job.Store.(store.InboundStore); ok && job.Source != "" {
		b, found, err := is.InboundBatch(ctx, job.Source, sender, isa13)
		if err != nil || found {
			return b, err
		}
	}
	n, err := job.Store.NextControlNumber(ctx, ClaimBatchScope)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%09d", n), nil
}

// storeNumbers hands out control numbers of the acknowledgments: ISA13
// and GS06 from the store, so that none repeats; ST02 counts from 1 in
// each group, which is all the standard asks of it (unique within its
// functional group), so that a file of many transaction sets costs no
// durable write per set.
type storeNumbers struct {
	ctx  context.Context
	s    ingest.Store
	kind string
	st   int64
}

func (n *storeNumbers) NextInterchange() (int64, error) {
	return n.s.NextControlNumber(n.ctx, "ISA/"+n.kind)
}
func (n *storeNumbers) NextGroup() (int64, error) {
	n.st = 0
	return n.s.NextControlNumber(n.ctx, "GS/"+n.kind)
}
func (n *storeNumbers) NextTransaction() (int64, error) {
	n.st++
	return n.st, nil
}

// rewind drops what f holds past off and writes on from there.
func rewind(f *os.File, off int64) error {
	if err := f.Truncate(off); err != nil {
		return err
	}
	_, err := f.Seek(off, io.SeekStart)
	return err
}

// claimSpool keeps a file's claims (the plan's number, sender, ISA13,
// the provider's CLM01, accepted) and their pending lines in a temporary
// file until they are recorded with the file's interchanges, so that they
// are never all in memory. A claim is a record of its own ('c', four
// strings, a byte 1 or 0 for accepted), each of its pending lines one
// after it ('l', the 16 bytes of the key, the invoice and line numbers);
// a string is its length (uvarint) and its bytes.
type claimSpool struct {
	f   *os.File
	w   *bufio.Writer
	n   int
	rec []byte
	// rejected are claims spooled as accepted whose group or interchange
	// was rejected after: those from rejected[i][0] to rejected[i][1]
	// (0-based, end excluded) are read back as not accepted, without
	// their pending lines.
	rejected [][2]int
}

// reject marks the claims spooled since the first claims (a count) as
// not accepted.
func (s *claimSpool) reject(first int) {
	if first >= s.n {
		return
	}
	if k := len(s.rejected); k > 0 && s.rejected[k-1][1] >= first {
		s.rejected[k-1][1] = s.n
		s.rejected[k-1][0] = min(s.rejected[k-1][0], first)
		return
	}
	s.rejected = append(s.rejected, [2]int{first, s.n})
}

func newClaimSpool() (*claimSpool, error) {
	f, err := scratch.File("", "calgw-837p-claims-")
	if err != nil {
		return nil, fmt.Errorf("inbound837: claims: %w", err)
	}
	return &claimSpool{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

func appendSpoolString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// add spools a claim; the lines of an accepted claim that are pending
// (EncounterLine.Pending) are spooled with it, each with the usage
// counters it moves.
func (s *claimSpool) add(plan, sender, isa13, provider string, accepted bool, lines []EncounterLine) error {
	s.n++
	b := append(s.rec[:0], 'c')
	for _, v := range [...]string{plan, sender, isa13, provider} {
		b = appendSpoolString(b, v)
	}
	if accepted {
		b = append(b, 1)
		for i := range lines {
			if l := &lines[i]; l.Pending {
				b = append(b, 'l')
				b = append(b, l.Sent.Key[:]...)
				b = appendSpoolString(appendSpoolString(b, l.Sent.Invoice), l.Sent.LineNo)
				b = binary.AppendUvarint(b, uint64(len(l.Sent.Uses)))
				for _, u := range l.Sent.Uses {
					b = binary.AppendVarint(binary.AppendVarint(appendSpoolString(b, u.Counter), u.Amount), int64(u.Date))
				}
			}
		}
	} else {
		b = append(b, 0)
	}
	s.rec = b
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("inbound837: claims: %w", err)
	}
	return nil
}

// spoolReader reads the records of a claimSpool.
type spoolReader struct {
	r    *bufio.Reader
	buf  []byte
	last [2]string // the sender and ISA13 read last, shared by the claims that repeat them
}

func (r *spoolReader) bytes() ([]byte, error) {
	n, err := binary.ReadUvarint(r.r)
	if err != nil {
		return nil, err
	}
	if n > 1<<20 {
		return nil, fmt.Errorf("a field of %d bytes", n)
	}
	r.buf = slices.Grow(r.buf[:0], int(n))[:n]
	_, err = io.ReadFull(r.r, r.buf)
	return r.buf, err
}

func (r *spoolReader) string() (string, error) {
	b, err := r.bytes()
	return string(b), err
}

// shared reads a string that is often the one read last at i.
func (r *spoolReader) shared(i int) (string, error) {
	b, err := r.bytes()
	if err == nil && string(b) != r.last[i] {
		r.last[i] = string(b)
	}
	return r.last[i], err
}

// all returns the claims as recorded, each with file; the error of their
// reading is in *err once the sequence is done. nil when there are none.
func (s *claimSpool) all(file string) (iter.Seq[store.InboundClaim], *error) {
	var err error
	if s.n == 0 {
		return nil, &err
	}
	return func(yield func(store.InboundClaim) bool) {
		if err = s.w.Flush(); err != nil {
			err = fmt.Errorf("inbound837: claims: %w", err)
			return
		}
		if _, err = s.f.Seek(0, io.SeekStart); err != nil {
			err = fmt.Errorf("inbound837: claims: %w", err)
			return
		}
		r := &spoolReader{r: bufio.NewReaderSize(s.f, 64<<10)}
		var c *store.InboundClaim
		k, rej := -1, s.rejected // the claim being read; the ranges not passed yet
		for {
			kind, e := r.r.ReadByte()
			if e == io.EOF || e == nil && kind == 'c' {
				if c != nil && !yield(*c) {
					return
				}
				if e == io.EOF {
					return
				}
			}
			switch {
			case e != nil:
			case kind == 'c':
				c = &store.InboundClaim{File: file}
				if c.PlanClaim, e = r.string(); e == nil {
					if c.Sender, e = r.shared(0); e == nil {
						if c.ISA13, e = r.shared(1); e == nil {
							c.ProviderClaim, e = r.string()
						}
					}
				}
				var a byte
				if e == nil {
					a, e = r.r.ReadByte()
				}
				k++
				for len(rej) > 0 && rej[0][1] <= k {
					rej = rej[1:]
				}
				c.Accepted = a == 1 && (len(rej) == 0 || k < rej[0][0])
			case kind == 'l' && c != nil:
				var l store.Line
				if _, e = io.ReadFull(r.r, l.Key[:]); e == nil {
					if l.Invoice, e = r.string(); e == nil {
						l.LineNo, e = r.string()
					}
				}
				var n uint64
				if e == nil {
					n, e = binary.ReadUvarint(r.r)
				}
				for ; e == nil && n > 0; n-- {
					var u store.LineUse
					var date int64
					if u.Counter, e = r.string(); e == nil {
						if u.Amount, e = binary.ReadVarint(r.r); e == nil {
							date, e = binary.ReadVarint(r.r)
							u.Date = civil.Date(date)
						}
					}
					l.Uses = append(l.Uses, u)
				}
				if c.Accepted {
					c.Lines = append(c.Lines, l)
				}
			default:
				e = fmt.Errorf("unexpected record %q", kind)
			}
			if e != nil {
				if e == io.EOF {
					e = io.ErrUnexpectedEOF
				}
				err = fmt.Errorf("inbound837: claims: %w", e)
				return
			}
		}
	}, &err
}

func (s *claimSpool) close() { s.f.Close() }
