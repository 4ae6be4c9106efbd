package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ack"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/mappings/enrollment"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Report columns of an 834 ingest (one row per problem; messages never hold
// member data: positions name the member loop).
var report834Header = []string{"source_file", "member", "segment", "line", "byte", "loop", "element", "rule_id", "code", "severity", "message"}

// Suffixes of the outputs beside an input.
const (
	ReportSuffix = ".report.csv"
	AckSuffix    = ".999"
)

// Ingest834 loads 834 enrollment files, one transaction per file.
//
// Semantics (docs/enrollment.md): a change file (BGN08 2) applies each
// member's adds, changes and terminations in file order; a full file
// (BGN08 RX or 4) replaces each listed member's spans for the file's period
// (DTP*090/091, else DTP*007, else BGN03, open-ended) and ends the coverage
// of members it does not list from the period's start. A member loop with
// bad data is reported and skipped; a transaction set that is broken
// outside its member loops is not loaded; an interchange or group envelope
// error stops the whole file. A file with implementation-guide errors gets
// a 999 (and TA1 for envelope errors) beside its report. A change file
// dated before the period of a full file of its plan codes loaded before
// is superseded: recorded, nothing of it applied (ENR-FILE-SUPERSEDED); one
// dated before a change file of its plan codes applied before is applied
// with a warning (ENR-FILE-OUT-OF-ORDER).
func Ingest834(ctx context.Context, job Job) []Result {
	var out []Result
	for _, path := range job.Files {
		start := time.Now()
		r := job.ingest834(ctx, path)
		r.Took = time.Since(start)
		out = append(out, r)
		if ctx.Err() != nil {
			break
		}
	}
	return out
}

func (job *Job) ingest834(ctx context.Context, path string) Result {
	res := Result{File: path, Kind: store.LoadKind834}
	log := job.log()
	sum, size, err := hashFile(path)
	if err != nil {
		res.Err = fmt.Errorf("%w: %s: %v", ErrUnusable, path, err)
		return res
	}
	res.Bytes = size
	load, err := job.Store.BeginEnrollmentLoad(ctx, store.LoadKind834, filepath.Base(path), sum)
	var already *store.AlreadyLoadedError
	if errors.As(err, &already) {
		res.Already = already
		log.Info("834 already loaded", "file", filepath.Base(path), "load", already.Load)
		return res
	}
	if err != nil {
		res.Err = err
		return res
	}
	res.Load = load.ID()
	rep, err := newReport(job.outPath(path, ReportSuffix), report834Header, job.limits().FindingsPerFile)
	if err != nil {
		load.Rollback()
		res.Err = err
		return res
	}
	res.Report = rep.f.FinalName()
	l := &load834{job: job, ctx: ctx, res: &res, rep: rep, load: load, base: filepath.Base(path), started: time.Now()}
	ok, err := l.run(path)
	if err != nil {
		load.Rollback()
		rep.abort()
		res.Report = ""
		res.Err = err
		if le := (*ig.LoopLimitError)(nil); errors.As(err, &le) {
			res.Err = fmt.Errorf("%w: %s: %v", ErrUnusable, filepath.Base(path), le)
		}
		return res
	}
	log.Debug("834 read and stored", "file", filepath.Base(path), "took", time.Since(l.started))
	if !ok {
		load.Rollback()
		res.Rejected, res.Loaded = res.Read, 0
	} else {
		commitStart := time.Now()
		defer func() { log.Debug("834 committed", "file", filepath.Base(path), "took", time.Since(commitStart)) }()
		if err := load.Commit(ctx, l.interchange, res.Summary()); err != nil {
			rep.abort()
			res.Report = ""
			res.Err = err
			return res
		}
		res.Committed = true
	}
	if err := rep.commit(); err != nil {
		res.Err = err
		return res
	}
	if l.igErrors > 0 {
		kept := l.keptSets
		if !res.Committed {
			kept = nil
		}
		ackPath, err := job.write999(ctx, path, kept)
		if err != nil {
			res.Err = fmt.Errorf("999 for %s: %w", filepath.Base(path), err)
			return res
		}
		res.Ack = ackPath
	}
	log.Info("834 ingested", "file", filepath.Base(path), "load", res.Load, "loaded_file", ok, "members_read", res.Read,
		"members_loaded", res.Loaded, "members_rejected", res.Rejected, "sets_rejected", res.SetsRejected, "full", res.Full, "cut", res.Cut)
	return res
}

// load834 is the state of one file's load.
type load834 struct {
	job     *Job
	ctx     context.Context
	res     *Result
	rep     *report
	load    store.EnrollmentLoad
	base    string
	started time.Time

	mapper      *enrollment.Mapper
	pending     []ig.Finding // element and segment findings not yet given to a member
	inSet       bool         // the validator is walking an 834 transaction set
	setTotal    int          // QTY*TO of the open set (-1: none)
	incomplete  bool         // a set's member loops do not match its QTY*TO
	setBroken   bool
	setMembers  int // members read in the open set
	setLoaded   int
	fileBroken  bool
	igErrors    int
	interchange string
	periods     map[[2]civil.Date]bool
	full        bool
	date        civil.Date // the file's date (a full file's period start): its first set's
	memberID    *regexp.Regexp
	unknownCINs int            // full file: rejected member loops without a usable CIN
	keptSets    map[int64]bool // the sets loaded, by the ordinal of their ST: the 999 says E for them
	toStore     chan *batch
	free        chan *batch
	cur         *batch
	storeErr    chan error
}

// item is one unit of work for the store stage, in file order.
type item struct {
	kind   uint8 // itemMember, itemTouch, itemSetBegin, itemSetEnd
	change domain.EnrollmentChange
	cin    string
	keep   bool // itemSetEnd: release (true) or roll back the set
}

const (
	itemMember = iota + 1
	itemTouch
	itemSetBegin
	itemSetEnd
)

type batch struct{ items []item }

const batchSize = 512

// check feeds the mapper from the validator, one transaction set at a time.
type check struct{ l *load834 }

func (c check) Segment(t *ig.Txn, seg *x12.Segment) {
	l := c.l
	if seg.Is("ST") {
		l.beginSet()
	}
	if seg.Is("SE") {
		return // the set ends at End, after the findings SE brings
	}
	// Findings of earlier segments, and "missing" findings at this one,
	// belong to the member loop open before it; the others to the loop
	// this segment is in (a new one at INS).
	l.resolve(func(f *ig.Finding) bool { return f.Ordinal < seg.Ordinal || missing(f) })
	if err := l.mapper.Segment(seg); err != nil {
		l.fail(err)
	}
	l.resolve(func(*ig.Finding) bool { return true })
}

func (c check) End(t *ig.Txn) {
	c.l.resolve(func(*ig.Finding) bool { return true })
	if err := c.l.mapper.EndSet(); err != nil {
		c.l.fail(err)
	}
}

func missing(f *ig.Finding) bool {
	if f.Level != ig.LevelSegment {
		return false
	}
	switch f.Code {
	case ig.SegRequiredMissing, ig.SegDependentMissing, ig.SegLoopUnderMin, ig.SegUnderMinUse:
		return true
	}
	return false
}

func (l *load834) fail(err error) {
	if l.res.Err == nil {
		l.res.Err = err
	}
}

func (l *load834) run(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("%w: %s: %v", ErrUnusable, path, err)
	}
	defer f.Close()
	cfg := l.job.Config
	l.memberID = l.job.memberID()
	opts := enrollment.Options{MemberID: l.memberID}
	if l.job.Tables != nil {
		opts.County = l.job.Tables.CountyCode
	}
	if cfg != nil {
		opts.ShareOfCostAmount = cfg.Eligibility.ShareOfCostAmount
	}
	l.mapper = enrollment.New(opts)
	l.mapper.OnMember = l.member
	l.mapper.OnHeader = l.header
	l.periods = map[[2]civil.Date]bool{}

	reg := &ig.Registry{}
	if err := reg.Register(ig.Spec834, func() ig.Check { return check{l} }); err != nil {
		return false, err
	}
	v := ig.NewValidator(ig.Options{
		Registry:           reg,
		MaxLoopSegments:    l.job.limits().LoopSegments,
		OnFinding:          l.finding,
		OnInterchangeStart: l.interchangeStart,
		OnTransaction:      l.transaction,
	})

	// The store stage runs beside the validator: batches of members go to
	// it in file order and come back to be reused.
	const buffers = 4
	l.free = make(chan *batch, buffers)
	for range buffers {
		l.free <- &batch{items: make([]item, 0, batchSize)}
	}
	l.toStore = make(chan *batch, buffers)
	l.storeErr = make(chan error, 1)
	go l.storeStage()

	sum, verr := v.Validate(l.ctx, f)
	l.send()
	close(l.toStore)
	serr := <-l.storeErr
	switch {
	case errors.Is(verr, x12.ErrNotX12):
		return false, fmt.Errorf("%w: %s: %v", ErrUnusable, path, verr)
	case verr != nil:
		return false, verr
	case serr != nil:
		return false, serr
	case l.res.Err != nil:
		return false, l.res.Err
	}
	l.res.Bytes = sum.Bytes
	if sum.Transactions == 0 {
		l.rep.row(l.base, "", "", "", "", "", "", rules.EnrollmentSetRejected, "", "error", "the file holds no 834 transaction set")
		return false, nil
	}
	if l.fileBroken {
		return false, nil
	}
	l.job.log().Debug("834 validated and mapped", "file", l.base, "took", time.Since(l.started))
	// A file that loaded no member is not recorded: it may be fixed and sent again.
	keep := l.res.Loaded > 0 || l.res.Read == 0
	if keep {
		if err := l.place(); err != nil {
			return false, err
		}
	}
	if l.full && l.res.SetsRejected == 0 && l.unknownCINs == 0 && !l.incomplete && l.res.Loaded > 0 {
		// The cut applies to the spans of the plan codes the file's
		// coverage loops carry: DHCS sends one full file per plan code.
		codes := l.mapper.PlanCodes()
		for p := range l.periods {
			n, err := l.load.CutAbsent(l.ctx, p[0], p[1], codes)
			if err != nil {
				return false, err
			}
			l.res.Cut += n
		}
	} else if l.full {
		l.res.CutSkipped = "the full file was not loaded whole (rejected transaction sets, member loops without a CIN, no member, or fewer member loops than QTY*TO): members it does not list keep their coverage"
		l.res.Warnings++
		l.rep.row(l.base, "", "", "", "", "", "", rules.EnrollmentSetRejected, "", "warning", l.res.CutSkipped)
	}
	return keep, nil
}

// place records the file's kind, date and plan codes with the load, and
// reports where a change file stands among the 834s loaded before: one
// dated before the period of a full file of its plan codes is superseded
// (nothing of it applies), one dated before a change file of its plan
// codes applied before it is out of order.
func (l *load834) place() error {
	f := store.EnrollmentFile{Full: l.full, Date: l.date, PlanCodes: l.mapper.PlanCodes()}
	order, err := l.load.Place(l.ctx, f)
	if err != nil {
		return err
	}
	if by := order.SupersededBy; by != nil {
		l.res.Superseded = by
		l.res.Loaded = 0
		l.rep.row(l.base, "", "", "", "", "", "", rules.EnrollmentFileSuperseded, "", "error",
			fmt.Sprintf("the change file dated %s is older than the period of full file %s (load %d, from %s) loaded before for its health-plan codes: not applied, the full file has the newer picture",
				l.date, by.File, by.Load, by.Date))
	}
	if newer := order.Newer; newer != nil {
		l.res.Newer = newer
		l.res.Warnings++
		l.rep.row(l.base, "", "", "", "", "", "", rules.EnrollmentFileOutOfOrder, "", "warning",
			fmt.Sprintf("the change file dated %s is older than change file %s (load %d, dated %s) loaded before for its health-plan codes: applied, but what it changes of members the newer file also changed may be stale",
				l.date, newer.File, newer.Load, newer.Date))
	}
	return nil
}

func (l *load834) storeStage() {
	var err error
	// Statements run with a context without a Done channel (the driver
	// would start a goroutine per statement to watch it); cancellation is
	// checked between batches.
	ctx := context.WithoutCancel(l.ctx)
	for b := range l.toStore {
		if err == nil {
			err = l.ctx.Err()
		}
		for i := range b.items {
			if err != nil {
				break
			}
			it := &b.items[i]
			switch it.kind {
			case itemMember:
				err = l.load.PutMember(ctx, &it.change)
			case itemTouch:
				err = l.load.TouchMember(ctx, it.cin)
			case itemSetBegin:
				err = l.load.Savepoint(ctx)
			case itemSetEnd:
				if it.keep {
					err = l.load.Release(ctx)
				} else {
					err = l.load.RollbackTo(ctx)
				}
			}
		}
		b.items = b.items[:0]
		l.free <- b
	}
	l.storeErr <- err
}

// next returns the next item slot (its change's Ops slice is reused),
// sending a full batch to the store first.
func (l *load834) next() *item {
	if l.cur != nil && len(l.cur.items) == cap(l.cur.items) {
		l.send()
	}
	if l.cur == nil {
		l.cur = <-l.free
	}
	n := len(l.cur.items)
	l.cur.items = l.cur.items[:n+1]
	it := &l.cur.items[n]
	it.kind, it.cin, it.keep = 0, "", false
	return it
}

func (l *load834) send() {
	if l.cur != nil && len(l.cur.items) > 0 {
		l.toStore <- l.cur
		l.cur = nil
	}
}

func (l *load834) interchangeStart(info *ig.InterchangeInfo) error {
	if l.interchange == "" {
		l.interchange = info.SenderID + "/" + info.Control
	}
	return nil
}

func (l *load834) beginSet() {
	l.inSet = true
	l.setBroken, l.setMembers, l.setLoaded, l.setTotal = false, 0, 0, -1
	l.res.Sets++
	l.next().kind = itemSetBegin
}

func (l *load834) header(h *enrollment.Header) error {
	l.setTotal = h.Total
	if h.Full {
		l.full, l.res.Full = true, true
		l.periods[[2]civil.Date{h.From, h.To}] = true
	}
	if l.date == 0 {
		// The file's date: its first set's. A full file's is its period
		// start, or its BGN03 when it was made before the period began:
		// a change file made after it is newer than it, not superseded.
		l.date = h.From
		if h.Full && h.Date != 0 && h.Date < l.date {
			l.date = h.Date
		}
	}
	return nil
}

// transaction ends a set: its members are kept or rolled back.
func (l *load834) transaction(t *ig.TransactionResult) error {
	if !l.inSet { // the validator did not walk it: not a 005010X220A1 834
		l.res.Sets++
		l.res.SetsRejected++
		l.rep.row(l.base, "", strconv.FormatInt(t.Pos.Ordinal, 10), strconv.FormatInt(t.Pos.Line, 10), strconv.FormatInt(t.Pos.Offset, 10), "", "ST",
			rules.EnrollmentSetRejected, "IK501 R", "error", fmt.Sprintf("transaction set %s %s is not a 005010X220A1 834: not loaded", t.SetID, t.Control))
		return nil
	}
	l.inSet = false
	l.resolve(func(*ig.Finding) bool { return true })
	if l.mapper.InMember() { // a set cut short without SE
		if err := l.mapper.EndSet(); err != nil {
			return err
		}
	}
	for _, c := range t.Codes {
		if t.Status == ig.Rejected && c != ig.SetSegmentErrors && c != ig.SetImplementationErrors {
			l.setBroken = true
		}
	}
	if l.setTotal >= 0 && l.setTotal != l.setMembers {
		l.incomplete = true
		l.res.Warnings++
		l.rep.row(l.base, "", strconv.FormatInt(t.Pos.Ordinal, 10), strconv.FormatInt(t.Pos.Line, 10), strconv.FormatInt(t.Pos.Offset, 10), "", "QTY02",
			rules.EnrollmentSetRejected, "", "warning", fmt.Sprintf("QTY*TO says transaction set %s holds %d member loop(s); it holds %d: the file may be incomplete", t.Control, l.setTotal, l.setMembers))
	}
	keep := !l.setBroken
	if keep {
		if l.keptSets == nil {
			l.keptSets = map[int64]bool{}
		}
		l.keptSets[t.Pos.Ordinal] = true
	}
	if !keep {
		l.res.SetsRejected++
		l.res.Loaded -= l.setLoaded
		l.res.Rejected += l.setLoaded
		l.rep.row(l.base, "", strconv.FormatInt(t.Pos.Ordinal, 10), strconv.FormatInt(t.Pos.Line, 10), strconv.FormatInt(t.Pos.Offset, 10), "", "ST",
			rules.EnrollmentSetRejected, "IK501 R", "error", fmt.Sprintf("transaction set %s is broken outside its member loops: none of its %d member(s) is loaded", t.Control, l.setMembers))
	}
	it := l.next()
	it.kind, it.keep = itemSetEnd, keep
	return nil
}

// finding routes an implementation-guide finding: member-level ones wait
// for the mapper to say which member loop they are in.
func (l *load834) finding(f *ig.Finding) {
	l.res.Findings++
	if f.Severity == ig.Error {
		l.igErrors++
	}
	if f.Severity == ig.Warning {
		l.res.Warnings++
		l.reportFinding(f, "", "warning")
		return
	}
	switch f.Level {
	case ig.LevelSegment, ig.LevelElement:
		l.pending = append(l.pending, *f)
	case ig.LevelTransaction:
		l.setBroken = true
		l.reportFinding(f, rules.EnrollmentSetRejected, "error")
	default:
		l.fileBroken = true
		l.reportFinding(f, rules.EnrollmentSetRejected, "error")
	}
}

func (l *load834) reportFinding(f *ig.Finding, rule, sev string) {
	elem := f.Segment
	if f.Element > 0 {
		elem = fmt.Sprintf("%s%02d", f.Segment, f.Element)
		if f.Component > 0 {
			elem += "-" + strconv.Itoa(f.Component)
		}
	}
	code := levelCode(f.Level) + " " + f.Code
	member := ""
	if rule == rules.EnrollmentMemberInvalid {
		member = strconv.Itoa(l.mapper.Members())
	}
	if rule == "" {
		rule = "IG"
	}
	l.rep.row(l.base, member, strconv.FormatInt(f.Ordinal, 10), strconv.FormatInt(f.Line, 10), strconv.FormatInt(f.Offset, 10), f.Loop, elem, rule, code, sev, f.Msg)
}

func levelCode(lv ig.Level) string {
	switch lv {
	case ig.LevelInterchange:
		return "TA105"
	case ig.LevelGroup:
		return "AK905"
	case ig.LevelTransaction:
		return "IK502"
	case ig.LevelSegment:
		return "IK304"
	}
	return "IK403"
}

// resolve hands the pending findings that match to the open member loop,
// or to the set when none is open.
func (l *load834) resolve(match func(*ig.Finding) bool) {
	k := 0
	for i := range l.pending {
		f := &l.pending[i]
		if !match(f) {
			l.pending[k] = *f
			k++
			continue
		}
		elem := f.Segment
		if f.Element > 0 {
			elem = fmt.Sprintf("%s%02d", f.Segment, f.Element)
		}
		if l.mapper.Reject(enrollment.Pos{Ordinal: f.Ordinal, Line: f.Line, Offset: f.Offset}, f.Loop, elem, levelCode(f.Level)+" "+f.Code, f.Msg) {
			continue // reported with the member
		}
		l.setBroken = true
		l.reportFinding(f, rules.EnrollmentSetRejected, "error")
	}
	l.pending = l.pending[:k]
}

// member takes one mapped member loop.
func (l *load834) member(m *enrollment.Member) error {
	l.res.Read++
	l.setMembers++
	if !m.OK() {
		l.res.Rejected++
		for _, p := range m.Problems {
			code := p.Code
			l.rep.row(l.base, strconv.Itoa(m.Number), strconv.FormatInt(p.Pos.Ordinal, 10), strconv.FormatInt(p.Pos.Line, 10), strconv.FormatInt(p.Pos.Offset, 10),
				p.Loop, p.Element, rules.EnrollmentMemberInvalid, code, "error", fmt.Sprintf("member loop %d (INS at segment %d) skipped: %s", m.Number, m.Start.Ordinal, p.Message))
		}
		// A full file lists this member: keep its coverage (it is not
		// absent). Without a usable CIN the member cannot be named, and the
		// file's absent members keep theirs too (see run).
		cin := m.Change.Enrollee.CIN
		if cin == "" || !l.memberID.MatchString(cin) {
			l.unknownCINs++
		} else if l.full {
			it := l.next()
			it.kind, it.cin = itemTouch, cin
		}
		return nil
	}
	it := l.next()
	it.kind = itemMember
	ops := it.change.Ops[:0]
	it.change = m.Change
	it.change.Ops = append(ops, m.Change.Ops...)
	l.res.Loaded++
	l.setLoaded++
	return nil
}

// write999 validates the file again with the 999 writer attached: only a
// file with errors pays for it, and the control numbers are reserved from
// the store after the load's transaction has ended. The 999 says what the
// load did: a set loaded (kept, by the ordinal of its ST) is accepted, with
// errors when its skipped members had any (IK501 E); a set not loaded is
// rejected (IK501 R).
func (job *Job) write999(ctx context.Context, path string, kept map[int64]bool) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	out, err := atomicfile.Create(job.outPath(path, AckSuffix), tempPrefix)
	if err != nil {
		return "", err
	}
	// No IK404 copies of bad values: they may be member data (a birth date).
	opts := []ack.Option{ack.WithoutValues(), ack.WithSetStatus(func(t *ig.TransactionResult) ig.Status {
		switch {
		case !kept[t.Pos.Ordinal]:
			return ig.Rejected
		case t.Status == ig.Rejected:
			return ig.AcceptedWithErrors
		}
		return t.Status
	})}
	if job.Now != nil {
		opts = append(opts, ack.WithClock(job.Now))
	}
	written := &countingWriter{w: out}
	a := ack.New999(x12.NewWriter(written, x12.DefaultDelimiters), storeNumbers{ctx: ctx, s: job.Store}, append(opts, ack.WithTA1(), ack.WithSendersDelimiters())...)
	vo := ig.Options{}
	a.Attach(&vo)
	_, err = ig.NewValidator(vo).Validate(ctx, bufio.NewReaderSize(f, 256<<10))
	if err == nil {
		err = a.Err()
	}
	if err != nil {
		out.Abort()
		return "", err
	}
	if written.n == 0 {
		// An interchange whose ISA cannot be read has no sender to answer:
		// no TA1, no 999, and no empty file; the report says why.
		out.Abort()
		return "", nil
	}
	if err := out.Commit(); err != nil {
		return "", err
	}
	return out.FinalName(), nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// storeNumbers hands out 999 and TA1 control numbers from the store.
type storeNumbers struct {
	ctx context.Context
	s   Store
}

func (n storeNumbers) NextInterchange() (int64, error) {
	return n.s.NextControlNumber(n.ctx, "ISA/999")
}
func (n storeNumbers) NextGroup() (int64, error) { return n.s.NextControlNumber(n.ctx, "GS/999") }
func (n storeNumbers) NextTransaction() (int64, error) {
	return n.s.NextControlNumber(n.ctx, "ST/999")
}
