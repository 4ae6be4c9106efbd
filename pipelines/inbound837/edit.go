// Package inbound837 edits a provider's 837P (005010X222A1) by SNIP level
// in one streaming pass and writes its 999: the implementation-guide
// validator (edi/x12/ig) gives levels 1, 2 and 4; a claim scanner, run
// inside the same pass, gives the balancing (3) and code-set (5) edits per
// claim. Each finding is an edit of rules/snip with the action the
// partner's profile gives it: a set-rejecting edit rejects the transaction
// set in the 999, a claim-rejecting one rejects its claim (for the 277CA),
// a warning marks the set "accepted with errors".
package inbound837

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ack"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/rules/snip"
)

// Hit is one failed edit.
type Hit struct {
	Edit    string      // rules/snip edit ID
	Level   snip.Level  // SNIP level
	Action  snip.Action // the partner's action for it
	Segment string      // segment ID
	Element int         // 1-based element, 0 for the segment
	Line    int64       // line of the segment in the input
	SetPos  int         // position in the transaction set
	Msg     string      // plain message, no data values
	// Text is the segment as sent, for the sender's report (member data:
	// never log it); "" for findings of the validator.
	Text string
	// Entity is the entity identifier code (NM101) of the party whose NM1
	// or N4 the hit is on, for the 277CA's STC01-3; "" for other segments.
	Entity string
}

// Claim is one 2300 claim with its edits.
type Claim struct {
	ID       string // CLM01, the provider's claim ID
	Set      string // ST02 of its transaction set
	Line     int64  // line of the CLM segment
	Hits     []Hit
	Rejected bool // a hit rejects the claim

	// What a 277CA repeats of the claim (member data: never log it).
	Charge           string // CLM02 as sent
	PatientLast      string // 2010BA NM103 (or 2010CA when a patient loop is sent)
	PatientFirst     string // NM104
	PatientID        string // NM109: 2010BA's when 2010CA has none
	ProviderName     string // 2010AA NM103
	ProviderFirst    string // 2010AA NM104, of a person
	ProviderType     string // 2010AA NM102: 1 a person, 2 an organization
	ProviderNPI      string // 2010AA NM109
	FromDate, ToDate string // the claim's service dates (2400 DTP*472), CCYYMMDD
	// Intermediary is the claim identifier a clearinghouse or other
	// transmission intermediary gave it (2300 REF*D9), "" when none was
	// sent; the 277CA returns it in 2200D REF*D9.
	Intermediary string
	Ordinal      int    // 1-based number of the claim in the interchange
	ISA13        string // its interchange's control number
	// Batch is the plan's number of its interchange's claims (9 digits,
	// Options.ClaimBatch), the first part of PlanClaim.
	Batch  string
	Sender string // its interchange's ISA05:ISA06, trimmed

	// Enc is what its encounter line needs (Options.Collect).
	Enc Encounter

	pos  ig.Pos     // the CLM segment
	rows [][]string // its encounter lines, once made (EncounterRows)
}

// SetResult is one transaction set's outcome after the partner's actions.
type SetResult struct {
	Control string    // ST02
	Status  ig.Status // A, E or R
	Hits    []Hit     // set-level hits (levels 1, 2, 4 and overrides to reject_set)
	Claims  int
}

// Options configure Edit.
type Options struct {
	Profile snip.Profile
	// OnClaim is called for each claim of an accepted or rejected set, after
	// its set's SE; the Claim is valid only during the call.
	OnClaim func(c *Claim) error
	// OnSet is called after each transaction set.
	OnSet func(s *SetResult) error
	// Coding is the DHCS ECM/CS coding table of the level 6 edit; nil
	// skips it.
	Coding *rules.CodingTable
	// Ack999 receives the 999s; nil writes none.
	Ack999 *ack.Writer999
	// Ack277 receives a 277CA per accepted transaction set; nil writes none.
	Ack277 *Writer277
	// TA1 receives the TA1 interchanges as TA1Mode says; nil writes none.
	TA1 *x12.Writer
	// TA1Mode is the partner's TA1 setting: TA1Always, TA1OnError (default)
	// or TA1Never.
	TA1Mode string
	// Numbers hands out the TA1s' control numbers.
	Numbers ack.Numbers
	// Now is the clock of the TA1s (default time.Now).
	Now func() time.Time
	// Collect fills each claim's Enc, for its encounter line.
	Collect bool
	// Judge is called with the claims of one or more consecutive sets the
	// 999 accepts (several small sets waiting together are judged in one
	// call), in order, before their 277CAs, the claims already rejected
	// left out; it may reject claims (Claim.Reject). It may run while
	// OnClaim and OnSet answer earlier sets, so it must not share their
	// state. nil judges nothing.
	Judge func(claims []*Claim) error
	// OnInterchange is called after each interchange.
	OnInterchange func(i *ig.InterchangeResult) error
	// Outcome is called at each group's end, after its AK9 (interchange
	// false), and at each interchange's end, after its 999 and before its
	// TA1 (interchange true). rejected says whether the 999 rejects the
	// group for its envelope (AK901 R with a GE error) or the TA1 the
	// interchange (TA104 R); when it does, every claim OnClaim was given since the group (interchange) began is
	// rejected after all, and accepted counts those OnClaim was given as
	// accepted: their acceptance is to be withdrawn (Edit keeps them out of
	// the 277CA and counts them rejected in the Summary).
	Outcome func(interchange, rejected bool, accepted int) error
	// ClaimBatch hands out the plan's number of each interchange's claims
	// (9 digits), unique across senders, at the interchange's ISA, given
	// its sender (ISA05:ISA06, trimmed) and ISA13; nil numbers them by the
	// interchange's own ISA13, which is unique only per sender.
	ClaimBatch func(sender, isa13 string) (string, error)
}

// Summary counts what Edit saw.
type Summary struct {
	Sets, SetsRejected       int
	Claims, ClaimsRejected   int
	Interchanges, Segments64 int64
}

// Edit reads an 837P from in, edits it and reports as Options say. What
// follows a set's 999 runs on two goroutines of their own, set after set
// in order, while the pass reads the next set: one calls Judge, the other
// then OnClaim, the 277CA and OnSet. Judge may run while OnClaim and OnSet
// answer the sets judged before; no other two callbacks ever run at once,
// and every set is finished before its group's end, its interchange's end
// and Edit's return.
func Edit(ctx context.Context, in io.Reader, opts Options) (Summary, error) {
	r := &run{opts: opts}
	reg := ig.NewRegistry()
	// The scanner does the claim balancing and LX01 checks of NewRegistry's
	// 837P itself; the subscriber's situational rules are kept.
	if err := reg.Register(ig.Spec837P, ig.NewSubscriberCheck, func() ig.Check { return &scanner{r: r} }); err != nil {
		return Summary{}, fmt.Errorf("inbound837: %w", err)
	}
	var a *ack.Writer999
	if opts.Ack999 != nil {
		a = opts.Ack999
	}
	vopts := ig.Options{Registry: reg}
	if a != nil {
		a.Attach(&vopts)
	}
	ackTxn, ackGroup, ackStart, ackEnd := vopts.OnTransaction, vopts.OnGroup, vopts.OnInterchangeStart, vopts.OnInterchange
	vopts.OnInterchangeStart = func(i *ig.InterchangeInfo) error {
		if err := r.drain(); err != nil {
			return err
		}
		r.ordinal = 0
		r.isa13, r.sender = i.Control, strings.TrimSpace(i.SenderQualifier)+":"+strings.TrimSpace(i.SenderID)
		r.batch = i.Control
		if opts.ClaimBatch != nil {
			b, err := opts.ClaimBatch(r.sender, i.Control)
			if err != nil {
				return fmt.Errorf("inbound837: claim numbers of interchange %s: %w", i.Control, err)
			}
			r.batch = b
		}
		d := answerDelimiters(i.Delimiters, opts.Ack277)
		if opts.Ack999 != nil {
			if err := opts.Ack999.SetDelimiters(d); err != nil {
				return err
			}
		}
		if opts.TA1 != nil {
			if err := opts.TA1.SetDelimiters(d); err != nil {
				return err
			}
		}
		if opts.Ack277 != nil {
			if err := opts.Ack277.start(i, d); err != nil {
				return err
			}
		}
		if ackStart != nil {
			return ackStart(i)
		}
		return nil
	}
	vopts.OnInterchange = func(i *ig.InterchangeResult) error {
		if err := r.drain(); err != nil {
			return err
		}
		rejected := i.Status == ig.Rejected
		if opts.Ack277 != nil {
			if err := opts.Ack277.end(rejected); err != nil {
				return err
			}
		}
		if ackEnd != nil {
			if err := ackEnd(i); err != nil {
				return err
			}
		}
		if err := r.outcome(true, rejected); err != nil {
			return err
		}
		if opts.OnInterchange != nil {
			if err := opts.OnInterchange(i); err != nil {
				return err
			}
		}
		return r.ta1(i)
	}
	vopts.OnTransaction = func(t *ig.TransactionResult) error { return r.transaction(t, ackTxn) }
	vopts.OnGroup = func(g *ig.GroupResult) error {
		if err := r.drain(); err != nil {
			return err
		}
		return r.group(g, ackGroup)
	}
	sum, err := ig.NewValidator(vopts).Validate(ctx, in)
	if ferr := r.stop(); err == nil {
		err = ferr
	}
	if opts.Ack277 != nil {
		opts.Ack277.close()
	}
	if err == nil && a != nil {
		err = a.Err()
	}
	if err == nil && opts.Ack277 != nil {
		err = opts.Ack277.Err()
	}
	r.sum.Interchanges = int64(sum.Interchanges)
	r.sum.Segments64 = sum.Segments
	if err != nil {
		return r.sum, fmt.Errorf("inbound837: %w", err)
	}
	return r.sum, r.err
}

// answerDelimiters are the separators of the answers (999, 277CA, TA1) to
// an input interchange whose own are in: the sender's, so that whatever a
// value the answers repeat from the input holds (CLM01, names, IDs), it
// holds none of them; unless they are not valid separators of a 00501
// ISA, or one of them is a character of a value the answers make up
// themselves (the '.' and '-' of amounts and date ranges, the plan's name
// and ID in the 277CA): then x12.DefaultDelimiters, and a repeated value
// that holds one of those has it written as a space (ack.Echo).
func answerDelimiters(in x12.Delimiters, a277 *Writer277) x12.Delimiters {
	if in.Validate00501() != nil {
		return x12.DefaultDelimiters
	}
	own := ".-"
	if a277 != nil {
		own += a277.plan.Name + a277.plan.ID
	}
	for _, c := range []byte{in.Element, in.Repetition, in.Component, in.Segment} {
		if strings.IndexByte(own, c) >= 0 {
			return x12.DefaultDelimiters
		}
	}
	return in
}

type run struct {
	opts Options
	sum  Summary
	err  error

	claims  []Claim  // claims of the set being read
	ordinal int      // claims seen in the interchange
	isa13   string   // of the interchange being read
	sender  string   // its ISA05:ISA06
	batch   string   // the plan's number of its claims (Options.ClaimBatch)
	judged  []*Claim // the finisher's

	// The finisher goroutines (finish): sets handed to them, claims
	// buffers they are done with, sets not finished yet, their first
	// error; the claims of the sets waiting for them (room tells the pass
	// of room made).
	sets    chan *setDone
	spare   chan []Claim
	pending sync.WaitGroup
	errMu   sync.Mutex
	finErr  error // under errMu
	failed  atomic.Bool
	roomMu  sync.Mutex
	room    *sync.Cond
	waiting int

	bht03     string    // BHT03 of the set
	submitter [4]string // 1000A NM102, NM103, NM104 and NM109
	setHits   []Hit     // hits of the scanner outside any claim, and those that reject the set
	own       []ownKey  // the findings the scanner reported to the 999 in the set
	repeated  []segAt   // the segments of the set the 277CA repeats values of, in order
	accepted  int       // sets of the group accepted, with or without errors
	withErr   bool      // a set of the group was accepted with errors

	// Claims given to OnClaim as accepted since the group (interchange)
	// began, and sets accepted since the interchange began, for Outcome.
	grpClaims, icClaims, icSets int
}

func (r *run) hit(id string, pos ig.Pos, element int, msg string) Hit {
	e, _ := snip.Lookup(id)
	return Hit{Edit: id, Level: e.Level, Action: r.opts.Profile.Action(id), Segment: pos.Segment,
		Element: element, Line: pos.Line, SetPos: pos.SetPos, Msg: msg}
}

// transaction applies the partner's actions to the validator's findings,
// sets the set's status, hands the (possibly restated) result to the 999
// writer and the claims to OnClaim.
func (r *run) transaction(t *ig.TransactionResult, next func(*ig.TransactionResult) error) error {
	res := SetResult{Control: t.Control, Claims: len(r.claims)}
	// The validator's rejection stands when none of its findings can be
	// restated: there are none, or some were dropped (over
	// Options.MaxFindings), and the error among those is not known.
	reject, warn := t.Status == ig.Rejected && (len(t.Findings) == 0 || t.Dropped > 0), false
	kept := t.Findings[:0]
	for i := range t.Findings {
		f := &t.Findings[i]
		if r.ownFinding(f) {
			if !r.sameAsValidator(t.Findings, i) {
				kept = append(kept, *f)
			}
			continue
		}
		id := snip.Classify(f.Level.String(), f.Code, f.Segment, f.Element, f.Component)
		h := r.hit(id, f.Pos, f.Element, f.Msg)
		if h.Action == snip.RejectClaim && (len(r.claims) == 0 || !inClaim(f.Loop)) {
			// Outside any claim (the billing provider's or subscriber's
			// loops, the envelope) it concerns every claim under it: it
			// rejects the set, as the scanner's own edits do there.
			h.Action = snip.RejectSet
		}
		if h.Action != snip.RejectSet && r.in277(f) {
			// The 277CA repeats the value (or needs the segment missing):
			// whatever the partner's action, the set is rejected, in the
			// 999, which can always say why; a 277CA could not carry it.
			h.Action = snip.RejectSet
			h.Msg += "; the 277CA repeats it, so it rejects the transaction set whatever the partner profile says"
		}
		dup := r.saidByScanner(&h, f.Loop) // the report shows it once, as the 999 does
		switch h.Action {
		case snip.RejectSet:
			reject = reject || f.Severity == ig.Error
			warn = warn || f.Severity == ig.Warning
			kept = append(kept, *f)
		case snip.Warn:
			warn = true
			f.Severity = ig.Warning
			kept = append(kept, *f)
		case snip.RejectClaim:
			if !dup {
				r.claimHit(r.findingPos(f), h)
			}
			continue
		}
		if !dup {
			res.Hits = append(res.Hits, h)
		}
	}
	t.Findings = kept
	res.Hits = append(res.Hits, r.setHits...)
	for _, h := range r.setHits {
		reject = reject || h.Action == snip.RejectSet
		warn = warn || h.Action == snip.Warn
	}
	for i := range r.claims {
		for _, h := range r.claims[i].Hits {
			warn = warn || h.Action == snip.Warn
		}
	}
	switch {
	case reject:
		res.Status = ig.Rejected
		t.Codes = setCodes(t, ig.Error)
	case warn:
		res.Status = ig.AcceptedWithErrors
		if noted(t) {
			t.Codes = setCodes(t, ig.Warning)
		} else {
			t.Codes = nil
		}
	default:
		res.Status = ig.Accepted
		t.Codes = nil
	}
	t.Status = res.Status
	r.sum.Sets++
	if reject {
		r.sum.SetsRejected++
	} else {
		r.accepted++
		r.withErr = r.withErr || warn
	}
	r.units(t)
	if next != nil {
		if err := next(t); err != nil {
			return err
		}
	}
	set := &setDone{claims: r.claims, res: res, control: t.Control, group: *t.Group, bht03: r.bht03, submitter: r.submitter}
	r.claims, r.setHits, r.own, r.repeated = r.spareClaims(), r.setHits[:0], r.own[:0], r.repeated[:0]
	return r.finish(set)
}

// in277 reports whether validator finding f is on a value the 277CA
// repeats from the set, or finds missing a segment that holds one: an
// element the 277CA copies (BHT03; NM103, NM104 and NM109 of the
// submitter, the billing provider and the patient; CLM01 and CLM02; 2300
// REF*D9's REF02; 2400 DTP*472's DTP02 and DTP03) or any segment finding
// on such a segment (one the validator could not place has had none of
// its elements checked); the submitter's, billing provider's or
// patient's NM1 required and missing; a service line (2400) or its
// DTP*472 required and missing in a claim left without any service date.
// The 277CA cannot carry such a claim validly: a CLM01 longer than
// TRN02's 50 characters, a claim without a service date (2200D DTP*472 is
// required), a name or ID too long or empty.
func (r *run) in277(f *ig.Finding) bool {
	if f.Level == ig.LevelSegment {
		switch f.Code {
		case ig.SegRequiredMissing, ig.SegLoopUnderMin, ig.SegUnderMinUse:
			switch f.Loop {
			case "1000A", "2010AA", "2010BA", "2010CA":
				if f.Segment == "NM1" {
					return true
				}
			case "2400":
				if (f.Segment == "LX" || f.Segment == "DTP") && len(r.claims) > 0 {
					return r.claims[r.claimAt(r.findingPos(f))].FromDate == ""
				}
			}
		}
	} else if f.Level != ig.LevelElement {
		return false
	}
	// r.repeated is in the set's order: the segments at f's position.
	i := sort.Search(len(r.repeated), func(i int) bool { return r.repeated[i].setPos >= f.SetPos })
	for ; i < len(r.repeated) && r.repeated[i].setPos == f.SetPos; i++ {
		if r.repeated[i].id != f.Segment {
			continue
		}
		if f.Level == ig.LevelSegment {
			return true
		}
		switch f.Segment {
		case "BHT":
			return f.Element == 3
		case "NM1":
			return f.Element == 3 || f.Element == 4 || f.Element == 9
		case "CLM":
			return f.Element == 1 || f.Element == 2
		case "REF":
			return f.Element == 2
		case "DTP":
			return f.Element == 2 || f.Element == 3
		}
	}
	return false
}

// segAt is a segment of a transaction set: its position and ID.
type segAt struct {
	setPos int
	id     string
}

// repeat notes that the 277CA repeats values of the segment being read,
// whose ID is id.
func (r *run) repeat(t *ig.Txn, id string) {
	r.repeated = append(r.repeated, segAt{t.Pos().SetPos, id})
}

// inClaim reports whether loop is a claim's loop: 2300, 2400 or one of
// theirs.
func inClaim(loop string) bool {
	return strings.HasPrefix(loop, "23") || strings.HasPrefix(loop, "24")
}

// units names the claim (CTX*CLM01) of each finding inside a claim's
// loops (2300, 2400 and theirs), for the 999; not when the claim's CLM01
// is empty (the 999 writer also leaves out one it cannot carry: too long
// for CTX01-2, or holding a delimiter or a character outside the X12 set).
func (r *run) units(t *ig.TransactionResult) {
	k := 0 // the claim of the finding: the last one that began at or before it
	for i := range t.Findings {
		f := &t.Findings[i]
		if !strings.HasPrefix(f.Loop, "23") && !strings.HasPrefix(f.Loop, "24") {
			continue
		}
		pos := r.findingPos(f)
		if k >= len(r.claims) || r.claims[k].pos.SetPos > pos {
			k = 0
		}
		for k+1 < len(r.claims) && r.claims[k+1].pos.SetPos <= pos {
			k++
		}
		if k >= len(r.claims) || r.claims[k].pos.SetPos > pos || r.claims[k].ID == "" {
			continue
		}
		f.UnitName, f.UnitRef = "CLM01", r.claims[k].ID
	}
}

// setCodes restates IK502 of a rejected set (sev Error) or of a set
// accepted with errors (sev Warning) from the findings of that severity
// the 999 keeps: the set-level codes, then 5 (one or more segments in
// error) when an X12 syntax error is among them, else I5 (implementation
// one or more segments in error) when only rules of the guide fail.
func setCodes(t *ig.TransactionResult, sev ig.Severity) []string {
	codes := t.Codes[:0]
	for _, c := range t.Codes {
		if c != ig.SetSegmentErrors && c != ig.SetImplementationErrors {
			codes = append(codes, c)
		}
	}
	std, impl := false, false
	for i := range t.Findings {
		f := &t.Findings[i]
		if f.Severity != sev || (f.Level != ig.LevelSegment && f.Level != ig.LevelElement) {
			continue
		}
		if strings.HasPrefix(f.Code, "I") {
			impl = true
		} else {
			std = true
		}
	}
	switch {
	case std || len(codes) == 0 && !impl:
		codes = append(codes, ig.SetSegmentErrors)
	case impl:
		codes = append(codes, ig.SetImplementationErrors)
	}
	return codes
}

// noted reports whether the 999 notes an error of a set accepted with
// errors: an IK3 (a segment or element warning) or a set-level code.
func noted(t *ig.TransactionResult) bool {
	for i := range t.Codes {
		if c := t.Codes[i]; c != ig.SetSegmentErrors && c != ig.SetImplementationErrors {
			return true
		}
	}
	for i := range t.Findings {
		if l := t.Findings[i].Level; l == ig.LevelSegment || l == ig.LevelElement {
			return true
		}
	}
	return false
}

// setDone is a transaction set whose 999 is written: what is left of it
// (levels 6 and 7, the claims, the 277CA, the set's report) runs on the
// finisher goroutine.
type setDone struct {
	claims    []Claim
	res       SetResult
	control   string
	group     ig.GroupInfo
	bht03     string
	submitter [4]string
}

// Sets wait for the finisher goroutine (finish) until this many claims
// wait, so that memory stays flat however many sets a file holds; sets
// waiting together are judged together up to finishBatchClaims claims, so
// that a file of one-claim sets pays the judge's run once per batch, not
// once per set.
const (
	finishWaitClaims  = 2048
	finishBatchClaims = 1024
	finishWaitSets    = 1024
)

// finish hands a set to the finisher goroutines, which finish the sets
// in order while the pass reads the next ones; it waits while
// finishWaitClaims claims wait already. It returns the error of a set
// finished before, if any.
func (r *run) finish(s *setDone) error {
	if r.sets == nil {
		r.sets, r.spare = make(chan *setDone, finishWaitSets), make(chan []Claim, 3)
		r.room = sync.NewCond(&r.roomMu)
		go r.finisher()
	}
	r.roomMu.Lock()
	for r.waiting > 0 && r.waiting+len(s.claims) > finishWaitClaims {
		r.room.Wait()
	}
	r.waiting += len(s.claims)
	r.roomMu.Unlock()
	r.pending.Add(1)
	r.sets <- s
	if r.failed.Load() {
		return r.drain()
	}
	return nil
}

// judgedBatch is a batch of sets on its way from the finisher to the
// answerer: judged (ok), judging it failed (err), or neither, after an
// error.
type judgedBatch struct {
	sets   []*setDone
	claims int
	ok     bool
	err    error
}

// finisher finishes the sets handed to it, in order, in two stages that
// overlap: it judges each batch of the sets waiting (up to
// finishBatchClaims claims) at once, and an answerer goroutine of its own
// finishes each set of the batch judged before (OnClaim, the 277CA,
// OnSet). The judge and the answers share nothing but the claims, which
// the channel between them hands over.
func (r *run) finisher() {
	judged := make(chan judgedBatch, 1)
	answered := make(chan struct{})
	go r.answerer(judged, answered)
	var judgeErr error
	for s := range r.sets {
		batch, n := []*setDone{s}, len(s.claims)
	more:
		for n < finishBatchClaims {
			select {
			case next, ok := <-r.sets:
				if !ok {
					break more
				}
				batch, n = append(batch, next), n+len(next.claims)
			default:
				break more
			}
		}
		b := judgedBatch{sets: batch, claims: n}
		if judgeErr == nil && !r.failed.Load() {
			b.err = r.judgeSets(batch)
			b.ok, judgeErr = b.err == nil, b.err
		}
		judged <- b
	}
	close(judged)
	<-answered
}

// answerer finishes the sets of each batch judged, in order, then makes
// room for the pass and marks the sets done. Errors are kept in the
// file's order: an earlier set's answer fails before a later batch's
// judging.
func (r *run) answerer(judged <-chan judgedBatch, answered chan<- struct{}) {
	defer close(answered)
	for b := range judged {
		switch {
		case r.failed.Load():
		case b.err != nil:
			r.fail(b.err)
		case b.ok:
			for _, s := range b.sets {
				if err := r.finishSet(s); err != nil {
					r.fail(err)
					break
				}
			}
		}
		r.roomMu.Lock()
		r.waiting -= b.claims
		r.room.Broadcast()
		r.roomMu.Unlock()
		for _, s := range b.sets {
			select {
			case r.spare <- s.claims[:0]:
			default:
			}
			r.pending.Done()
		}
	}
}

// fail keeps the finishers' first error.
func (r *run) fail(err error) {
	r.errMu.Lock()
	if r.finErr == nil {
		r.finErr = err
	}
	r.errMu.Unlock()
	r.failed.Store(true)
}

// drain waits until every set handed to the finisher is finished and
// returns its first error. The pass drains before anything that takes
// control numbers from the store or ends an interchange.
func (r *run) drain() error {
	if r.sets == nil {
		return nil
	}
	r.pending.Wait()
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.finErr
}

// stop drains the finisher and ends its goroutines.
func (r *run) stop() error {
	err := r.drain()
	if r.sets != nil {
		close(r.sets)
		r.sets = nil
	}
	return err
}

// spareClaims returns a claims buffer the finisher is done with, or a new one.
func (r *run) spareClaims() []Claim {
	select {
	case c := <-r.spare:
		return c
	default:
		return nil
	}
}

// judgeSets judges the claims of sets the 999 accepts, in one call of
// Judge.
func (r *run) judgeSets(sets []*setDone) error {
	if r.opts.Judge == nil {
		return nil
	}
	r.judged = r.judged[:0]
	for _, s := range sets {
		if s.res.Status == ig.Rejected {
			continue
		}
		for i := range s.claims {
			if c := &s.claims[i]; !c.Rejected {
				c.Set = s.control
				r.judged = append(r.judged, c)
			}
		}
	}
	defer clear(r.judged)
	if len(r.judged) == 0 {
		return nil
	}
	return r.opts.Judge(r.judged)
}

// finishSet answers a judged set: its claims to OnClaim, its 277CA, its
// result to OnSet.
func (r *run) finishSet(s *setDone) error {
	res := &s.res
	for i := range s.claims {
		c := &s.claims[i]
		c.Set = s.control
		if res.Status == ig.Rejected {
			c.Rejected = true
		}
		r.sum.Claims++
		if c.Rejected {
			r.sum.ClaimsRejected++
		}
		if !c.Rejected {
			r.grpClaims++
		}
		if r.opts.OnClaim != nil {
			if err := r.opts.OnClaim(c); err != nil {
				return err
			}
		}
	}
	// A 277CA answers claims: a set without any (its subscribers have
	// none) gets none, its 2000C and 2000D loops being required.
	if r.opts.Ack277 != nil && res.Status != ig.Rejected && len(s.claims) > 0 {
		if err := r.opts.Ack277.set(&s.group, s.bht03, s.submitter, s.claims); err != nil {
			return err
		}
	}
	if r.opts.OnSet != nil {
		return r.opts.OnSet(res)
	}
	return nil
}

// TA1 modes of a partner profile.
const (
	TA1Always  = "always"   // a TA1 for every interchange
	TA1OnError = "on_error" // a TA1 for an interchange with envelope errors, or that asks for one (ISA14 = 1)
	TA1Never   = "never"    // no TA1
)

// ta1 writes the TA1 of interchange i as the partner's mode says.
func (r *run) ta1(i *ig.InterchangeResult) error {
	o := &r.opts
	if o.TA1 == nil {
		return nil
	}
	switch o.TA1Mode {
	case TA1Never:
		return nil
	case TA1Always:
	case TA1OnError, "":
		if len(i.Findings) == 0 && !i.AckRequested {
			return nil
		}
	default:
		return fmt.Errorf("inbound837: TA1 mode %q: want always, on_error or never", o.TA1Mode)
	}
	if o.Numbers == nil {
		return fmt.Errorf("inbound837: TA1 without Options.Numbers to number it")
	}
	n, err := o.Numbers.NextInterchange()
	if err != nil {
		return fmt.Errorf("inbound837: TA1 control number: %w", err)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if err := ack.WriteTA1(o.TA1, i, n, now()); err != nil {
		return fmt.Errorf("inbound837: TA1: %w", err)
	}
	return nil
}

// sameAsValidator reports whether the scanner's finding fs[i] says what
// a finding of the validator says already (a code list both check): the
// 999 reports it once.
func (r *run) sameAsValidator(fs []ig.Finding, i int) bool {
	f := &fs[i]
	for j := range fs {
		g := &fs[j]
		if j != i && g.SetPos == f.SetPos && g.Element == f.Element && g.Component == f.Component && g.Code == f.Code && !r.ownFinding(g) {
			return true
		}
	}
	return false
}

// ownKey names a finding the scanner reported to the 999.
type ownKey struct {
	setPos, element int
	msg             string
}

// ownFinding reports whether f is one the scanner reported to the 999
// for a hit that rejects the set or warns (its Hit is in setHits or its
// claim's Hits already).
func (r *run) ownFinding(f *ig.Finding) bool {
	for _, k := range r.own {
		if k.setPos == f.SetPos && k.element == f.Element && k.msg == f.Msg {
			return true
		}
	}
	return false
}

// claimHit adds h to the claim that holds set position pos, one of its
// loops' (inClaim): the last claim that began at or before it.
func (r *run) claimHit(pos int, h Hit) {
	c := &r.claims[r.claimAt(pos)]
	c.Hits = append(c.Hits, h)
	c.Rejected = c.Rejected || h.Action == snip.RejectClaim
}

// findingPos is the set position a validator finding belongs at: its own,
// except for a claim's segment or loop the guide requires that the
// validator found missing when the next claim's CLM began (it reports it
// at the segment that closed the loop), which belongs to the claim before.
func (r *run) findingPos(f *ig.Finding) int {
	if f.Level == ig.LevelSegment && f.Code == ig.SegRequiredMissing && f.Segment != "CLM" && inClaim(f.Loop) {
		if k := r.claimAt(f.SetPos); k > 0 && r.claims[k].pos.SetPos == f.SetPos {
			return f.SetPos - 1
		}
	}
	return f.SetPos
}

// claimAt is the index of the claim that holds set position pos, one of
// its loops': the last claim that began at or before it.
func (r *run) claimAt(pos int) int {
	k := 0
	for i := range r.claims {
		if r.claims[i].Line > 0 && r.claims[i].pos.SetPos <= pos {
			k = i
		}
	}
	return k
}

// saidByScanner reports whether the scanner has validator hit h in loop
// already, on the set or on the claim holding it: its edit of an element
// whose code list the validator checks too (place of service, state).
func (r *run) saidByScanner(h *Hit, loop string) bool {
	if hasHit(r.setHits, h) {
		return true
	}
	return len(r.claims) > 0 && inClaim(loop) && hasHit(r.claims[r.claimAt(h.SetPos)].Hits, h)
}

// hasHit reports whether hits hold h's edit on h's element.
func hasHit(hits []Hit, h *Hit) bool {
	for i := range hits {
		if hits[i].Edit == h.Edit && hits[i].SetPos == h.SetPos && hits[i].Element == h.Element {
			return true
		}
	}
	return false
}

// group restates the group's AK9 from the sets' statuses after the
// partner's actions.
func (r *run) group(g *ig.GroupResult, next func(*ig.GroupResult) error) error {
	groupLevel := false
	for i := range g.Findings {
		groupLevel = groupLevel || g.Findings[i].Severity == ig.Error
	}
	if groupLevel {
		// The group's envelope is in error: the group is rejected whole,
		// none of its sets accepted (AK904 0).
		g.Status, g.Accepted = ig.Rejected, 0
	} else {
		g.Accepted = r.accepted
		switch {
		case r.accepted == 0: // none accepted, or none sent: a group holds at least one set
			g.Status = ig.Rejected
		case r.accepted < g.Received:
			g.Status = ig.PartiallyAccepted
		case r.withErr:
			g.Status = ig.AcceptedWithErrors
		default:
			g.Status = ig.Accepted
		}
	}
	// Rejected for its envelope: a group rejected because every set was
	// has no claim accepted to withdraw.
	rejected := groupLevel
	if rejected {
		r.sum.SetsRejected += r.accepted
	} else {
		r.icSets += r.accepted
	}
	r.accepted, r.withErr = 0, false
	if next != nil {
		if err := next(g); err != nil {
			return err
		}
	}
	if r.opts.Ack277 != nil {
		if err := r.opts.Ack277.groupEnd(rejected); err != nil {
			return err
		}
	}
	return r.outcome(false, rejected)
}

// outcome ends a group (interchange): when it is rejected, the claims
// OnClaim was given as accepted since it began count as rejected, and
// Outcome is told.
func (r *run) outcome(interchange, rejected bool) error {
	n := r.grpClaims
	if interchange {
		n = r.icClaims + r.grpClaims
	}
	switch {
	case !rejected && interchange:
		r.icClaims, r.icSets = 0, 0
	case !rejected:
		r.icClaims += r.grpClaims
	case interchange:
		r.sum.ClaimsRejected += n
		r.sum.SetsRejected += r.icSets
		r.icClaims, r.icSets = 0, 0
	default:
		r.sum.ClaimsRejected += n
	}
	r.grpClaims = 0
	if r.opts.Outcome != nil {
		if !rejected {
			n = 0
		}
		return r.opts.Outcome(interchange, rejected, n)
	}
	return nil
}

// scanner is the claim-level check run inside the validator's pass: it
// opens a Claim at each CLM and applies the balancing and code-set edits.
type scanner struct {
	r     *run
	prov  [4]string // billing provider NM102, NM103, NM104 and NM109
	pat   [3]string // patient last, first, ID
	cur   int       // index of the open claim in r.claims, -1 when none
	total int64     // CLM02 in millionths
	sum   int64     // SV102 so far
	lines int
	bad   bool // an amount could not be read
	lx    int
	freq  string // CLM05-3 of the open claim
	clm   string // its CLM as sent, when CLM05-3 is 7 or 8
	f8    bool   // its 2300 REF*F8 was sent

	entity string // NM101 of the last NM1: the party of the loop being read
	party  party  // billing provider and member being read (Options.Collect)
	bht04  string // BHT04 of the set

	line struct { // the open service line, for the level 6 edit
		open  bool
		pos   ig.Pos
		text  string
		hcpcs string
		mods  []string
		date  string
	}
}

// closeLine applies the DHCS coding edit to the open service line.
func (s *scanner) closeLine(t *ig.Txn) {
	l := &s.line
	if !l.open || s.r.opts.Coding == nil || s.cur < 0 {
		l.open = false
		return
	}
	l.open = false
	d, err := civil.Parse(l.date)
	if err != nil || !snip.HCPCSShape(l.hcpcs) {
		return // no date or a bad code: the other edits report it
	}
	if _, res := s.r.opts.Coding.Lookup(l.hcpcs, l.mods, d); res != rules.CodeAllowed {
		h := s.r.hit(snip.DHCSCode, l.pos, 1, "SV101 is not in the DHCS ECM/CS coding table on the date of service")
		h.Text = l.text
		s.add(t, l.pos, h)
	}
}

func (s *scanner) SegmentIDs() []string {
	if s.r.opts.Collect {
		return []string{"BHT", "CLM", "HL", "LX", "SV1", "HI", "NM1", "N4", "DTP", "N3", "REF", "PRV", "DMG"}
	}
	return []string{"BHT", "CLM", "HL", "LX", "SV1", "HI", "NM1", "N4", "DTP", "REF"}
}

func (s *scanner) Segment(t *ig.Txn, seg *x12.Segment) {
	if len(s.r.claims) == 0 {
		s.cur = -1
	}
	switch string(seg.ID()) {
	case "BHT":
		s.r.bht03 = string(seg.Element(3))
		s.r.repeat(t, "BHT")
	case "CLM":
		s.closeLine(t)
		s.close(t)
		s.r.repeat(t, "CLM")
		pos := t.Pos()
		s.r.ordinal++
		s.r.claims = append(s.r.claims, Claim{ID: string(seg.Element(1)), Line: pos.Line, pos: pos,
			Charge: string(seg.Element(2)), ProviderType: s.prov[0], ProviderName: s.prov[1], ProviderFirst: s.prov[2], ProviderNPI: s.prov[3],
			PatientLast: s.pat[0], PatientFirst: s.pat[1], PatientID: s.pat[2], Ordinal: s.r.ordinal,
			ISA13: s.r.isa13, Sender: s.r.sender, Batch: s.r.batch})
		s.cur = len(s.r.claims) - 1
		total, ok := x12.ParseDecimal(seg.Element(2), 6)
		s.total, s.sum, s.lines, s.bad, s.lx = total, 0, 0, !ok, 0
		s.freq, s.clm, s.f8 = string(seg.Component(5, 3)), "", false
		if s.freq == "7" || s.freq == "8" {
			s.clm = string(seg.Bytes())
		}
		if v := string(seg.Component(5, 1)); v != "" && !snip.PlaceOfService(v) {
			s.report(t, seg, snip.CodePOS, 5, "CLM05-1 is not a CMS place of service code")
		}
	case "HL":
		s.closeLine(t)
		s.close(t)
		s.cur = -1
	case "LX":
		if t.Loop() == "2400" {
			s.closeLine(t)
			s.lx++
			if n, err := strconv.Atoi(string(seg.Element(1))); err == nil && n != s.lx {
				s.report(t, seg, snip.GuideLineNumber, 1, fmt.Sprintf("LX01 must be %d: service lines are numbered 1, 2, 3… within a claim", s.lx))
				s.lx = n
			}
		}
	case "SV1":
		if s.cur >= 0 && t.Loop() == "2400" {
			amt, ok := x12.ParseDecimal(seg.Element(2), 6)
			s.bad = s.bad || !ok
			s.sum += amt
			s.lines++
		}
		if s.cur >= 0 {
			l := &s.line
			l.open, l.pos, l.text, l.hcpcs, l.date = true, t.Pos(), string(seg.Bytes()), string(seg.Component(1, 2)), ""
			l.mods = l.mods[:0]
			for k := 3; k <= 6; k++ {
				if m := string(seg.Component(1, k)); m != "" {
					l.mods = append(l.mods, m)
				}
			}
		}
		if v := string(seg.Component(1, 2)); v != "" && !snip.HCPCSShape(v) {
			s.report(t, seg, snip.CodeHCPCS, 1, "SV101-2 is not shaped like a HCPCS code")
		}
		if v := string(seg.Element(5)); v != "" && !snip.PlaceOfService(v) {
			s.report(t, seg, snip.CodePOS, 5, "SV105 is not a CMS place of service code")
		}
	case "HI":
		for i := 1; i <= seg.Len(); i++ {
			q := string(seg.Component(i, 1))
			if q != "ABK" && q != "ABF" {
				continue
			}
			if v := string(seg.Component(i, 2)); !snip.ICD10Shape(v) {
				s.report(t, seg, snip.CodeICD10, i, fmt.Sprintf("HI%02d-2 is not shaped like an ICD-10-CM code", i))
			}
		}
	case "DTP":
		if s.cur >= 0 && t.Loop() == "2400" && string(seg.Element(1)) == "472" {
			s.r.repeat(t, "DTP")
			from, to := string(seg.Element(3)), string(seg.Element(3))
			if string(seg.Element(2)) == "RD8" && len(from) == 17 {
				from, to = from[:8], from[9:]
			}
			if s.line.open && s.line.date == "" {
				s.line.date = from
			}
			c := &s.r.claims[s.cur]
			if c.FromDate == "" || from < c.FromDate {
				c.FromDate = from
			}
			if to > c.ToDate {
				c.ToDate = to
			}
		}
	case "REF":
		if s.cur >= 0 && t.Loop() == "2300" {
			switch string(seg.Element(1)) {
			case "D9":
				s.r.claims[s.cur].Intermediary = string(seg.Element(2))
				s.r.repeat(t, "REF")
			case "F8":
				s.f8 = true
			}
		}
	case "NM1":
		s.entity = string(seg.Element(1))
		// The patient is 2010BA's subscriber or 2010CA's patient; an
		// NM1*IL elsewhere (2330A, another payer's subscriber under 2320)
		// names someone the 277CA does not repeat.
		el := func(i int) string { return string(seg.Element(i)) }
		switch loop := t.Loop(); {
		case s.entity == "41":
			s.r.repeat(t, "NM1")
			s.r.submitter = [4]string{el(2), el(3), el(4), el(9)}
		case s.entity == "85":
			s.r.repeat(t, "NM1")
			s.prov = [4]string{el(2), el(3), el(4), el(9)}
		case s.entity == "IL" && loop == "2010BA":
			s.r.repeat(t, "NM1")
			s.pat = [3]string{el(3), el(4), el(9)}
		case s.entity == "QC" && loop == "2010CA":
			s.r.repeat(t, "NM1")
			// A dependent (2010CA) has no ID of its own in 005010X222A1:
			// the 277CA names the patient under the subscriber's member ID.
			id := el(9)
			if id == "" {
				id = s.pat[2]
			}
			s.pat = [3]string{el(3), el(4), id}
		}
		if string(seg.Element(8)) == "XX" && !snip.NPI(string(seg.Element(9))) {
			s.report(t, seg, snip.CodeNPI, 9, "NM109 fails the NPI check digit")
		}
	case "N4":
		// A US address has no N404 (country); a Canadian one has a
		// province in N402, which the validator's code list checks.
		us := len(seg.Element(4)) == 0
		if v := string(seg.Element(2)); v != "" && us && !snip.State(v) {
			s.report(t, seg, snip.CodeState, 2, "N402 is not a USPS state code")
		}
		if v := string(seg.Element(3)); v != "" && us && !snip.ZIP(v) {
			s.report(t, seg, snip.CodeZIP, 3, "N403 is not a 5- or 9-digit ZIP code")
		}
	}
	if s.r.opts.Collect {
		s.collect(t, seg)
	}
}

// Fail records a failed edit of levels 6 and 7 found by Options.Judge,
// with the partner's action for it: a warning keeps the claim, any other
// action rejects the claim (its set is accepted already). msg says why in
// plain words, with no member data.
func (c *Claim) Fail(edit string, a snip.Action, line int64, segment, msg string) {
	e, _ := snip.Lookup(edit)
	if a != snip.Warn {
		a = snip.RejectClaim
	}
	c.Hits = append(c.Hits, Hit{Edit: edit, Level: e.Level, Action: a, Segment: segment, Line: line, Msg: msg})
	c.Rejected = c.Rejected || a == snip.RejectClaim
}

func (s *scanner) End(t *ig.Txn) {
	s.closeLine(t)
	s.close(t)
}

// close applies the claim's balancing edit and the situational rule of
// its 2300 REF*F8.
func (s *scanner) close(t *ig.Txn) {
	if s.cur < 0 || s.cur >= len(s.r.claims) {
		return
	}
	c := &s.r.claims[s.cur]
	if !s.bad && s.lines > 0 && s.total != s.sum {
		h := s.r.hit(snip.BalanceClaimTotal, c.pos, 2, "CLM02 is not the sum of the service lines' SV102")
		s.add(t, c.pos, h)
	}
	if (s.freq == "7" || s.freq == "8") && !s.f8 {
		h := s.r.hit(snip.SituationalPayerClaim, c.pos, 5, "2300 REF*F8 (Payer Claim Control Number) is missing: it is required when CLM05-3 is 7 (replacement) or 8 (void)")
		h.Text = s.clm
		s.add(t, c.pos, h)
	}
	s.cur = -1
}

// report records edit id on the current segment: on the open claim, or on
// the set when no claim is open (provider and subscriber loops come before
// their claims: such a hit rejects the set unless the profile says warn).
func (s *scanner) report(t *ig.Txn, seg *x12.Segment, id string, element int, msg string) {
	h := s.r.hit(id, t.Pos(), element, msg)
	h.Text = string(seg.Bytes())
	if id := string(seg.ID()); id == "NM1" || id == "N4" {
		h.Entity = s.entity
	}
	s.add(t, t.Pos(), h)
}

// ik4 is how the 999 reports a scanner edit that rejects the set or
// warns: the IK403 code, the data element's reference number (IK402) and
// the component (IK401-2, 0 for a simple element). A rule of the
// implementation guide the value fails (a check digit, a shape, a sum, a
// sequence) is I12, implementation pattern match failure; a value not in
// its external code list is 7, invalid code value; a valid code the DHCS
// coding table does not use is I6, code value not used in implementation.
func ik4(h *Hit) (code, ref string, component int) {
	switch h.Edit {
	case snip.CodeNPI:
		return ig.ElemPatternMismatch, "67", 0
	case snip.CodeZIP:
		return ig.ElemPatternMismatch, "116", 0
	case snip.BalanceClaimTotal:
		return ig.ElemPatternMismatch, "782", 0
	case snip.GuideLineNumber:
		return ig.ElemPatternMismatch, "554", 0
	case snip.CodeHCPCS:
		return ig.ElemPatternMismatch, "234", 2
	case snip.CodeICD10:
		return ig.ElemPatternMismatch, "1271", 2
	case snip.CodePOS:
		if h.Segment == "CLM" {
			return ig.ElemInvalidCode, "1331", 1
		}
		return ig.ElemInvalidCode, "1331", 0
	case snip.CodeState:
		return ig.ElemInvalidCode, "156", 0
	case snip.DHCSCode:
		return ig.ElemCodeNotUsed, "234", 2
	}
	return ig.ElemInvalidCode, "", 0
}

// finding is how the 999 reports scanner hit h on the segment at pos, an
// error: a replacement's or void's missing 2300 REF*F8 as the guide's
// implementation dependent segment missing (IK3*REF, IK304 I6) at its
// claim's CLM, where loop 2300 begins; any other hit as an IK4 of its
// segment (ik4).
func finding(pos ig.Pos, h *Hit) ig.Finding {
	if h.Edit == snip.SituationalPayerClaim {
		pos.Segment = "REF"
		return ig.Finding{Pos: pos, Level: ig.LevelSegment, Code: ig.SegDependentMissing, Msg: h.Msg}
	}
	code, ref, comp := ik4(h)
	return ig.Finding{Pos: pos, Level: ig.LevelElement, Code: code, Element: h.Element, Component: comp,
		ElementRef: ref, Msg: h.Msg}
}

// add records h: a set-rejecting hit (or a claim-rejecting one outside any
// claim) goes into the 999 as an IK4 of its segment, an error; a warned
// one as the same IK4, a warning, and stays with its claim (or the set,
// outside any claim).
func (s *scanner) add(t *ig.Txn, pos ig.Pos, h Hit) {
	if s.cur < 0 && h.Action == snip.RejectClaim {
		h.Action = snip.RejectSet
	}
	if h.Action == snip.RejectSet || h.Action == snip.Warn {
		f := finding(pos, &h)
		if h.Action == snip.Warn {
			f.Severity = ig.Warning
		}
		t.Report(f)
		s.r.own = append(s.r.own, ownKey{setPos: f.SetPos, element: f.Element, msg: f.Msg})
	}
	if h.Action == snip.RejectSet || s.cur < 0 {
		s.r.setHits = append(s.r.setHits, h)
		return
	}
	c := &s.r.claims[s.cur]
	c.Hits = append(c.Hits, h)
	c.Rejected = c.Rejected || h.Action == snip.RejectClaim
}
