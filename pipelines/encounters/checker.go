package encounters

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/scratch"
	"github.com/calaim-gateway/calaim-gateway/internal/spillmap"
	"github.com/calaim-gateway/calaim-gateway/mappings/invoice"
	"github.com/calaim-gateway/calaim-gateway/report"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Checker puts invoice rows held in memory through every rule of a
// conversion, as a check-only Convert does with a file: the decoding
// rules, rules.LineChecker, the billing and member addresses, the judges,
// corrections and the duplicate check. Each Check is a run of its own
// (store.Store.BeginCheck), rolled back when it ends: nothing is kept,
// not even the run, no line counts as sent, no 837 is assembled, and no
// durable write is made. A line that repeats one accepted by an earlier Check of
// the same Checker is a duplicate (DUPLICATE-LINE), as a line repeated
// within one run is: a Checker is one file, checked in parts. With
// Job.SenderReports a DUPLICATE-LINE decision's message names the line it
// repeats only when that line is the sender's own (earlier in the file,
// or sent by a run whose accepted lines all bill the line's billing NPI);
// otherwise, and for a pending line, it is DuplicateForOthers.
type Checker struct {
	job     Job
	log     *slog.Logger
	now     time.Time
	checker rules.LineChecker
	in      *input
	cells   []string // a row's cells, trimmed
	earlier *earlierLines
	usage   *carriedUsage
	batch   *batch // the candidates of a batch of rows, reused by each Check
	// sent are the last Check's rows as the duplicate check saw them,
	// for Sent.
	sent []sentLine
}

type sentLine struct {
	line store.Line
	ok   bool // accepted and checked for duplicates
}

// NewChecker makes the checker of the rows of file (named in decisions),
// whose columns are header (the invoice template's names). job gives the
// store, configuration, coding table, judges and dates; its Inputs and
// OutDir are not used.
func NewChecker(job Job, file string, header []string) (*Checker, error) {
	job.CheckOnly = true
	log, now, checker, err := job.start()
	if err != nil {
		return nil, err
	}
	dec, err := invoice.NewDecoder(tabular.NewHeader(header), tabular.CSV, file)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnusable, file, err)
	}
	k := &Checker{job: job, log: log, now: now, checker: checker,
		in: &input{dec: dec}, earlier: newEarlierLines()}
	k.usage = &carriedUsage{earlier: k.earlier, at: map[string]usageCount{}}
	for _, j := range job.Judges {
		if c, ok := j.(UsageCarrier); ok {
			c.CarryUsage(k.usage)
		}
	}
	return k, nil
}

// UsageCarrier is a Judge that moves usage counters (units of an
// authorization, Community Supports limits). A Checker's runs are rolled
// back, so what one Check's accepted lines moved is gone from the store
// for the next Check: the Checker carries it instead, and the judge
// counts it above the store's counters.
type UsageCarrier interface {
	Judge
	// CarryUsage gives the judge the usage the Checker carries. The judge
	// adds Usage to each counter it reads from the store, tells Moved each
	// move its Sent makes, and takes a line Sent reports as already
	// counted (a repeat, left to DUPLICATE-LINE rather than to a limit).
	CarryUsage(c CarriedUsage)
}

// CarriedUsage is the usage the lines accepted by a Checker's earlier
// Checks moved (see UsageCarrier).
type CarriedUsage interface {
	// Usage returns what those lines moved counter key by, and the
	// earliest date they moved it with (0 when none).
	Usage(key string) (int64, civil.Date)
	// Moved notes a move of the Check under way; it counts for the next
	// Checks once this one has ended.
	Moved(key string, amount int64, date civil.Date)
	// Sent reports whether an earlier Check accepted a line with this key.
	Sent(key rules.LineKey) (bool, error)
}

// Check decides rows, in order: the k-th decision (Seq k) is rows[k-1]'s.
// Row numbers are counted as in a CSV file of the rows under a header
// line: the first row is row 2. A decision carries the first rule that
// rejected the line, not the facts Convert records. The lines it accepts
// and the usage they move count for the later Checks (Hold and Keep
// with every row).
func (k *Checker) Check(ctx context.Context, rows [][]string) ([]store.LineDecision, error) {
	out, err := k.Hold(ctx, rows)
	if err != nil {
		return nil, err
	}
	return out, k.Keep(len(rows), nil)
}

// Hold decides rows as Check does, but what they accept counts for the
// later Checks only once Keep says how many of them stay.
func (k *Checker) Hold(ctx context.Context, rows [][]string) ([]store.LineDecision, error) {
	runInfo, _ := json.Marshal(map[string]any{"check": k.in.dec.File(), "rows": len(rows)})
	run, err := k.job.Store.BeginCheck(ctx, "check", string(runInfo))
	if err != nil {
		return nil, err
	}
	c := &converter{
		ctx: ctx, job: k.job, log: k.log, run: run, now: k.now, checker: k.checker,
		prefix: tempPrefix(run.ID()), sites: map[string][]domain.ProviderContract{},
		skip: map[string]bool{}, correctionInvoice: map[string]string{}, earlier: k.earlier, carry: k.usage,
		priorNPIs: map[int64][]string{},
	}
	c.priorRuns, _ = k.job.Store.(store.PriorRunStore)
	c.byHCP = len(k.job.Config.EncounterPartner().Plan.HCPs()) > 0
	c.sum = report.Summary{RunID: run.ID(), Started: k.now, ByRule: map[string]int{}}
	c.sum.Files = []report.FileSummary{{Name: k.in.dec.File(), Format: string(tabular.CSV)}}
	out := make([]store.LineDecision, 0, len(rows))
	k.sent = k.sent[:0]
	k.usage.moves = k.usage.moves[:0]
	if err := k.check(ctx, c, rows, &out); err != nil {
		c.abort(err)
		return nil, err
	}
	if err := run.Abandon(context.WithoutCancel(ctx), "check only"); err != nil {
		return nil, err
	}
	return out, nil
}

// Keep makes the first n rows of the last Hold count for the later
// Checks, but for those drop says to drop (drop may be nil): the lines
// among them it accepted are repeated by nothing later without being a
// duplicate, and the usage they moved counts above the store's counters.
// The rows dropped and the rows after the first n count for nothing, as
// if never checked, so that a caller withdrawing a row's claim (rejected
// for another of its lines) can check again the rows its lines may have
// decided.
func (k *Checker) Keep(n int, drop func(seq int) bool) error {
	n = max(0, min(n, len(k.sent)))
	for i, s := range k.sent[:n] {
		if s.ok && (drop == nil || !drop(i+1)) {
			if err := k.earlier.add(s.line.Key, s.line.Control, s.line.Invoice, s.line.LineNo); err != nil {
				return err
			}
		}
	}
	// Row numbers start at 2: row n+1 is the last kept.
	return k.usage.carry(func(row int) bool { return row <= n+1 && (drop == nil || !drop(row-1)) })
}

func (k *Checker) check(ctx context.Context, c *converter, rows [][]string, out *[]store.LineDecision) error {
	if k.batch == nil {
		k.batch = &batch{cands: make([]candidate, 0, batchSize)}
	}
	b := k.batch
	moved := 0 // the moves of k.usage given to the rows before
	for start := 0; start < len(rows); start += batchSize {
		if err := ctx.Err(); err != nil {
			return err
		}
		b.cands, b.lines = b.cands[:0], b.lines[:0]
		for i, cells := range rows[start:min(start+batchSize, len(rows))] {
			k.cells = k.cells[:0]
			for _, s := range cells {
				k.cells = append(k.cells, strings.TrimSpace(s))
			}
			b.cands = append(b.cands, candidate{})
			cand := &b.cands[len(b.cands)-1]
			c.decode(0, k.in, tabular.Row{Number: start + i + 2, Cells: k.cells}, cand)
			if len(cand.decisions) == 0 && cand.line.Frequency == "" { // a correction has no duplicate check
				cand.key = rules.KeyOf(&cand.line)
				b.lines = append(b.lines, store.Line{Key: cand.key, Control: cand.control,
					Invoice: cand.line.InvoiceNumber, LineNo: cand.line.LineNumber})
			}
		}
		if err := c.judge(ctx, b); err != nil {
			return err
		}
		if k.job.SenderReports {
			if err := c.ownDuplicates(ctx, b); err != nil {
				return err
			}
		}
		for i := range b.cands {
			cand := &b.cands[i]
			l := &cand.line
			var uses []store.LineUse
			for ; moved < len(k.usage.moves) && k.usage.moves[moved].row <= l.Source.Row; moved++ {
				if m := &k.usage.moves[moved]; m.row == l.Source.Row {
					uses = append(uses, store.LineUse{Counter: m.key, Amount: m.amount, Date: m.date})
				}
			}
			d := store.LineDecision{Seq: start + i + 1, File: l.Source.File, Row: l.Source.Row, Invoice: l.InvoiceNumber,
				LineNo: l.LineNumber, Outcome: store.OutcomeAccepted}
			if len(cand.decisions) > 0 {
				first := cand.decisions[0]
				d.Outcome, d.Rule, d.Field, d.Message = store.OutcomeRejected, first.Rule, first.Field, first.Message
				if k.job.SenderReports {
					// A Checker is one file: a line earlier in it is the sender's.
					d.Message = senderMessage(cand, first, true)
				}
			}
			ok := d.Outcome == store.OutcomeAccepted && l.Frequency == ""
			k.sent = append(k.sent, sentLine{store.Line{Key: cand.key, Control: cand.control, Invoice: l.InvoiceNumber,
				LineNo: l.LineNumber, Uses: uses}, ok})
			*out = append(*out, d)
		}
	}
	return nil
}

// Mark is where the lines accepted and the usage moved so far end.
type Mark struct{ lines, usage int64 }

// Mark returns where the lines accepted and the usage moved so far end,
// for Forget.
func (k *Checker) Mark() Mark { return Mark{k.earlier.off, k.usage.off} }

// Forget drops the lines accepted since mark (Mark) from those later
// Checks take repeats of, and gives back the usage they moved: their rows
// were withdrawn after all (their group or interchange was rejected), so
// their services are not sent.
func (k *Checker) Forget(mark Mark) error {
	k.earlier.forget(mark.lines)
	return k.usage.forget(mark.usage)
}

// Close frees the scratch files that keep the lines accepted and the
// usage moved so far.
func (k *Checker) Close() error { return errors.Join(k.earlier.close(), k.usage.close()) }

// Sent returns the line the duplicate check will know row seq (1-based)
// of the last Check or Hold by once it is sent (its key, invoice and line
// number, and the usage counters it moves), false when that row was
// rejected or is a replacement or void, which has no duplicate check.
func (k *Checker) Sent(seq int) (store.Line, bool) {
	if seq < 1 || seq > len(k.sent) || !k.sent[seq-1].ok {
		return store.Line{}, false
	}
	return k.sent[seq-1].line, true
}

// earlierLines are the lines an earlier Check of a Checker accepted. Each
// line's record (the low half of its key, the control, invoice and line
// numbers) goes to a temporary file, and the high half of its key maps to
// where its record is in a spillmap.Map, whose memory stays bounded: a
// large file's lines cost little memory and none grows with the file. A
// record is read back only for a repeat. Of two lines whose keys share
// the high half (one chance in 2^64 per pair) only the first is kept.
type earlierLines struct {
	at  *spillmap.Map // high half of the key → record offset
	f   *os.File      // the records, once there is one
	w   *bufio.Writer
	off int64 // the file's size, written or buffered
	rec []byte
}

func newEarlierLines() *earlierLines { return &earlierLines{at: spillmap.New("", 0)} }

func (e *earlierLines) add(key rules.LineKey, control, invoice, lineNo string) error {
	// The record goes where the file ends now.
	if put, err := e.at.PutIfAbsent(binary.BigEndian.Uint64(key[:8]), e.off); err != nil || !put {
		return checkedErr(err)
	}
	if e.f == nil {
		f, err := scratch.File("", "calgw-check-lines-")
		if err != nil {
			return checkedErr(err)
		}
		e.f, e.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	e.rec = append(e.rec[:0], 0, 0, 0, 0)
	e.rec = append(e.rec, key[8:]...)
	for _, s := range []string{control, invoice, lineNo} {
		e.rec = binary.AppendUvarint(e.rec, uint64(len(s)))
		e.rec = append(e.rec, s...)
	}
	binary.BigEndian.PutUint32(e.rec, uint32(len(e.rec)-4))
	if _, err := e.w.Write(e.rec); err != nil {
		return checkedErr(err)
	}
	e.off += int64(len(e.rec))
	return nil
}

// forget drops the lines added since mark (an offset e.off had).
func (e *earlierLines) forget(mark int64) { e.at.DropFrom(mark) }

// none says whether no line was ever added.
func (e *earlierLines) none() bool { return e.off == 0 }

// checkedErr wraps an error of the lines checked (nil stays nil).
func checkedErr(err error) error {
	if err != nil {
		return fmt.Errorf("encounters: lines checked: %w", err)
	}
	return nil
}

// prior returns the earlier line of key as the duplicate of a line of run
// (nil when none).
func (e *earlierLines) prior(key rules.LineKey, run int64) (*store.PriorLine, error) {
	if e == nil {
		return nil, nil
	}
	off, ok, err := e.at.Get(binary.BigEndian.Uint64(key[:8]))
	if err != nil || !ok {
		return nil, checkedErr(err)
	}
	if err := e.w.Flush(); err != nil {
		return nil, checkedErr(err)
	}
	var size [4]byte
	if _, err := e.f.ReadAt(size[:], off); err != nil {
		return nil, checkedErr(err)
	}
	b := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := e.f.ReadAt(b, off+4); err != nil {
		return nil, checkedErr(err)
	}
	if len(b) < 8 || !bytes.Equal(b[:8], key[8:]) {
		return nil, nil // another line sharing the high half
	}
	b = b[8:]
	var f [3]string
	for i := range f {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return nil, fmt.Errorf("encounters: lines checked: a record at %d is cut short", off)
		}
		f[i], b = string(b[w:w+int(n)]), b[w+int(n):]
	}
	return &store.PriorLine{Run: run, Control: f[0], Invoice: f[1], LineNo: f[2]}, nil
}

// close frees the records and their map.
func (e *earlierLines) close() error {
	err := e.at.Close()
	if e.f == nil {
		return err
	}
	err = errors.Join(err, e.f.Close())
	e.f, e.w = nil, nil
	return err
}

// usageCount is a usage counter's value: the amount moved and the
// earliest date moved with.
type usageCount struct {
	amount int64
	first  civil.Date
}

// carriedUsage is the usage a Checker's earlier Checks moved, by counter
// (CarriedUsage). A counter is an authorization's units or a member's
// Community Supports limit, so the map grows with the counters a file
// moves, not with its lines. Each move is also written to a temporary
// file, the counter's earliest date before it with it, so that forget
// can give back the moves since a mark without keeping them in memory.
type carriedUsage struct {
	earlier *earlierLines
	at      map[string]usageCount
	moves   []usageMove // the moves of the Check under way
	row     int         // the row whose moves Moved is told now
	f       *os.File    // the moves carried, once there is one
	w       *bufio.Writer
	off     int64 // the file's size, written or buffered
	rec     []byte
}

type usageMove struct {
	row    int
	key    string
	amount int64
	date   civil.Date
}

func (u *carriedUsage) Usage(key string) (int64, civil.Date) {
	c := u.at[key]
	return c.amount, c.first
}

func (u *carriedUsage) Moved(key string, amount int64, date civil.Date) {
	u.moves = append(u.moves, usageMove{u.row, key, amount, date})
}

func (u *carriedUsage) Sent(key rules.LineKey) (bool, error) {
	p, err := u.earlier.prior(key, 0)
	return p != nil, err
}

// carry makes the moves of the Check that ended for the rows keep says
// to keep count for the next ones; the moves of other rows are dropped.
func (u *carriedUsage) carry(keep func(row int) bool) error {
	for _, m := range u.moves {
		if !keep(m.row) {
			continue
		}
		c := u.at[m.key]
		if u.f == nil {
			f, err := scratch.File("", "calgw-check-usage-")
			if err != nil {
				return usageErr(err)
			}
			u.f, u.w = f, bufio.NewWriterSize(f, 64<<10)
		}
		u.rec = binary.AppendUvarint(u.rec[:0], uint64(len(m.key)))
		u.rec = append(u.rec, m.key...)
		u.rec = binary.AppendVarint(u.rec, m.amount)
		u.rec = binary.AppendVarint(u.rec, int64(c.first))
		if _, err := u.w.Write(u.rec); err != nil {
			return usageErr(err)
		}
		u.off += int64(len(u.rec))
		c.amount += m.amount
		if c.first == 0 || m.date != 0 && m.date < c.first {
			c.first = m.date
		}
		u.at[m.key] = c
	}
	u.moves = u.moves[:0]
	return nil
}

// forget gives back the moves carried since mark (an offset u.off had):
// each counter loses their amounts and gets back its earliest date as it
// was before the first of them.
func (u *carriedUsage) forget(mark int64) error {
	if mark >= u.off {
		return nil
	}
	if err := u.w.Flush(); err != nil {
		return usageErr(err)
	}
	r := bufio.NewReader(io.NewSectionReader(u.f, mark, u.off-mark))
	seen := map[string]bool{}
	for {
		n, err := binary.ReadUvarint(r)
		if err == io.EOF {
			break
		}
		key := make([]byte, n)
		if err == nil {
			_, err = io.ReadFull(r, key)
		}
		var amount, first int64
		if err == nil {
			amount, err = binary.ReadVarint(r)
		}
		if err == nil {
			first, err = binary.ReadVarint(r)
		}
		if err != nil {
			return usageErr(fmt.Errorf("a move after %d is cut short: %w", mark, err))
		}
		c := u.at[string(key)]
		c.amount -= amount
		if !seen[string(key)] {
			seen[string(key)] = true
			c.first = civil.Date(first)
		}
		if c == (usageCount{}) {
			delete(u.at, string(key))
		} else {
			u.at[string(key)] = c
		}
	}
	if _, err := u.f.Seek(mark, io.SeekStart); err != nil {
		return usageErr(err)
	}
	if err := u.f.Truncate(mark); err != nil {
		return usageErr(err)
	}
	u.w.Reset(u.f)
	u.off = mark
	return nil
}

// close frees the moves' file.
func (u *carriedUsage) close() error {
	if u.f == nil {
		return nil
	}
	err := u.f.Close()
	u.f, u.w = nil, nil
	return err
}

// usageErr wraps an error of the usage carried.
func usageErr(err error) error { return fmt.Errorf("encounters: usage carried: %w", err) }
