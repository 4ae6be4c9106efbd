package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/evr"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/x277ca"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/x999"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// The kinds of DHCS's answers to the plan's 837P files.
const (
	Kind277CA = "277ca"
	Kind999   = "999"
	KindEVR   = "evr"
)

// ResponseSuffix ends the name of a response's reconciliation report
// (beside the input, or in the output directory).
const ResponseSuffix = ".report.csv"

// responseHeader are the reconciliation report's columns: one row per
// answer (a 999 transaction set, a 277CA claim, an EVR encounter, an EVR
// transaction or file answered without its encounters) and per warning.
// Messages hold claim IDs and codes, never member data.
var responseHeader = []string{"response", "our_file", "gs06", "st02", "clm01", "frequency", "status", "code", "reason", "encounter_id", "rule", "note"}

// ResponseLoader loads one DHCS response file into the encounters sent
// (Load277CA, Load999, LoadEVR): the daemon's processors call them.
type ResponseLoader func(ctx context.Context, es store.EncounterStore, path, outDir string, log *slog.Logger) Result

// Ingest277CA, Ingest999 and IngestEVR load DHCS's answers (`calgw ingest
// --kind 277ca|999|evr`): each answer goes to the encounter it matches
// (store.EncounterStore), and each file gets a reconciliation report
// listing every answer, what it matched, and what matched nothing. Read
// counts the answers, Loaded those matched, Rejected those that reject,
// Warnings those that matched nothing and other warnings. Loading a file
// again changes nothing.
func Ingest277CA(ctx context.Context, job Job) []Result {
	return ingestResponses(ctx, job, Kind277CA, Load277CA)
}

// Ingest999 loads DHCS 999s (see Ingest277CA).
func Ingest999(ctx context.Context, job Job) []Result {
	return ingestResponses(ctx, job, Kind999, Load999)
}

// IngestEVR loads DHCS Encounter Validation Responses (see Ingest277CA).
func IngestEVR(ctx context.Context, job Job) []Result {
	return ingestResponses(ctx, job, KindEVR, LoadEVR)
}

func ingestResponses(ctx context.Context, job Job, kind string, load ResponseLoader) []Result {
	var out []Result
	for _, path := range job.Files {
		start := time.Now()
		es, ok := job.Store.(store.EncounterStore)
		if !ok {
			out = append(out, Result{File: path, Kind: kind, Err: fmt.Errorf("the %T state store keeps no encounters sent", job.Store)})
			continue
		}
		dir := job.OutDir
		if dir == "" {
			dir = filepath.Dir(path)
		}
		r := load(ctx, es, path, dir, job.log())
		r.Took = time.Since(start)
		out = append(out, r)
		if ctx.Err() != nil {
			break
		}
	}
	return out
}

// responseLoad is one response file being loaded.
type responseLoad struct {
	res  Result
	name string // the response's base name
	rep  *report
	log  *slog.Logger
}

func beginResponse(path, outDir, kind string, log *slog.Logger) (*responseLoad, *os.File) {
	l := &responseLoad{res: Result{File: path, Kind: kind}, name: filepath.Base(path), log: log}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	f, err := os.Open(path)
	if err != nil {
		l.res.Err = fmt.Errorf("%w: %s: %v", ErrUnusable, path, err)
		return l, nil
	}
	return l, f
}

// openReport starts the reconciliation report, once the input is known to
// be of its kind. It has one row per response, so it is not capped.
func (l *responseLoad) openReport(outDir string) bool {
	rep, err := newReport(filepath.Join(outDir, l.name+ResponseSuffix), responseHeader, math.MaxInt)
	if err != nil {
		l.res.Err = err
		return false
	}
	l.rep = rep
	return true
}

func (l *responseLoad) unusable(err error) Result {
	l.res.Err = fmt.Errorf("%w: %s: %v", ErrUnusable, l.res.File, err)
	return l.res
}

func (l *responseLoad) fail(err error) Result {
	if l.rep != nil {
		l.rep.abort()
	}
	l.res.Err = err
	return l.res
}

func (l *responseLoad) finish() Result {
	if err := l.rep.commit(); err != nil {
		l.res.Err = err
		return l.res
	}
	l.res.Report = l.rep.f.FinalName()
	return l.res
}

// answered writes the report row of a claim answer and counts it.
func (l *responseLoad) answered(a store.ClaimAnswer, s store.Submission, gs, st string, note string) {
	l.res.Read++
	if a.Status == store.EncounterRejected {
		l.res.Rejected++
	}
	rule := ""
	if s.ID == 0 {
		l.res.Warnings++
		rule = rules.ResponseUnmatched
		note = strings.TrimPrefix(note+"; no claim sent has this CLM01", "; ")
	} else {
		l.res.Loaded++
		if gs == "" {
			gs, st = strconv.FormatInt(s.GS06, 10), strconv.FormatInt(s.ST02, 10)
		}
	}
	file := s.File
	if file == "" {
		file = a.File
	}
	l.rep.row(l.name, file, gs, st, a.CLM01, s.Frequency, a.Status, a.Code, a.Reason, a.EncounterID, rule, note)
}

func (l *responseLoad) warn(note string) {
	l.res.Warnings++
	l.rep.row(l.name, "", "", "", "", "", "", "", "", "", "", note)
}

// answeredFile returns the base name (without its extension) of our 837
// that a response named name answers: DHCS names its 277CA
// `<our file>_RESP_277.dat` (dhcs-observed-formats.md B3 [P]). "" when
// the name does not say.
func answeredFile(name string) string {
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	if i := strings.LastIndex(strings.ToUpper(stem), "_RESP_277"); i > 0 {
		return stem[:i]
	}
	return ""
}

// encounterIDShape is the DHCS Encounter ID's shape: 15 digits (B2 [P]).
func encounterIDShape(id string) bool {
	if len(id) != 15 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

func statusOf(ruleStatus string) string {
	switch ruleStatus {
	case rules.StatusAccepted:
		return store.EncounterAccepted
	case rules.StatusSent:
		return store.EncounterSent
	}
	return store.EncounterRejected
}

// Load277CA loads one DHCS 277CA: per claim (TRN*2 = CLM01) its status
// (rules.Status277CA), the status code in words and the DHCS Encounter ID
// (REF*1K) go to the claim's submission in the file the 277CA's name
// answers, else to the CLM01's submission waiting for an answer. A batch
// whose QTY*90/QTY*AA counts differ from the claims under it, and an
// Encounter ID that is not 15 digits, are warnings in the report.
func Load277CA(ctx context.Context, es store.EncounterStore, path, outDir string, log *slog.Logger) Result {
	l, f := beginResponse(path, outDir, Kind277CA, log)
	if f == nil {
		return l.res
	}
	defer f.Close()
	resp, err := x277ca.ReadResponse(f)
	if err != nil {
		return l.unusable(err)
	}
	if !l.openReport(outDir) {
		return l.res
	}
	ours := answeredFile(l.name)
	as := make([]store.ClaimAnswer, len(resp.Claims))
	for i, c := range resp.Claims {
		stc := c.STC01()
		as[i] = store.ClaimAnswer{File: ours, CLM01: c.CLM01, Status: statusOf(rules.Status277CA(c.Category())), Code: stc, EncounterID: c.EncounterID}
		if !c.Accepted() {
			as[i].Reason = rules.DescribeClaimStatus(stc)
		}
	}
	subs, err := es.AnswerClaims(ctx, l.name, as)
	if err != nil {
		return l.fail(err)
	}
	for i, a := range as {
		note := ""
		if a.EncounterID != "" && !encounterIDShape(a.EncounterID) {
			note = fmt.Sprintf("REF*1K %q is not a 15-digit DHCS Encounter ID (line %d)", a.EncounterID, resp.Claims[i].Line)
		}
		l.answered(a, subs[i], "", "", note)
	}
	// Each batch's counts are of the claims under it.
	accepted, rejected := make([]int, len(resp.Batches)), make([]int, len(resp.Batches))
	for i, a := range as {
		b := resp.Claims[i].Batch
		if b < 0 {
			continue
		}
		switch a.Status {
		case store.EncounterAccepted:
			accepted[b]++
		case store.EncounterRejected:
			rejected[b]++
		}
	}
	for i, b := range resp.Batches {
		if b.Accepted >= 0 && b.Accepted != accepted[i] || b.Rejected >= 0 && b.Rejected != rejected[i] {
			l.warn(fmt.Sprintf("batch %s (line %d): QTY*90 %d accepted and QTY*AA %d rejected, but the batch holds %d accepted and %d rejected claim(s)",
				b.TRN, b.Line, b.Accepted, b.Rejected, accepted[i], rejected[i]))
		}
	}
	l.res.Committed = true
	l.log.Info("277CA loaded", "file", l.name, "claims", l.res.Read, "matched", l.res.Loaded, "rejected", l.res.Rejected)
	return l.finish()
}

// Load999 loads one 999: each acknowledged transaction set's status
// (rules.Status999Set: its IK501, unless its group's AK901 rejects the
// whole group) goes to the claims of the set sent (by GS06, ST02 and our
// sender IDs, the 999's ISA08 and GS03); a rejected group without AK2
// rejects all its sets. A set that matches nothing sent is reported.
func Load999(ctx context.Context, es store.EncounterStore, path, outDir string, log *slog.Logger) Result {
	l, f := beginResponse(path, outDir, Kind999, log)
	if f == nil {
		return l.res
	}
	defer f.Close()
	ack, err := x999.Read(f)
	if err != nil {
		return l.unusable(err)
	}
	if !l.openReport(outDir) {
		return l.res
	}
	recv := []string{ack.Receiver, ack.GroupReceiver}
	var as []store.SetAnswer
	var groups, sets []string
	for _, g := range ack.Groups {
		// Only 837P groups are ours to match: the 274's groups are numbered
		// from the same sender IDs and from 1 too.
		if g.FunctionalID != "HC" || (g.Version != "" && !strings.HasPrefix(g.Version, "005010X222")) {
			l.warn(fmt.Sprintf("AK1 at line %d: answers a group of another kind (AK101 %s, AK103 %s), not an 837P: matched to nothing", g.Line, g.FunctionalID, g.Version))
			continue
		}
		gs, err := strconv.ParseInt(g.Control, 10, 64)
		if err != nil {
			l.warn(fmt.Sprintf("AK1 at line %d: group control number %q is not a number", g.Line, g.Control))
			continue
		}
		if len(g.Sets) == 0 {
			// The whole group answered at once (AK9 only): ST02 0 = every set.
			reason := "999 AK9 " + g.Status + " " + strings.Join(g.Codes, " ")
			as = append(as, store.SetAnswer{Receivers: recv, GS06: gs, Ack: g.Status, Status: statusOf(rules.Status999(g.Status)), Reason: strings.TrimSpace(reason)})
			groups, sets = append(groups, g.Control), append(sets, "")
			continue
		}
		for _, s := range g.Sets {
			st, err := strconv.ParseInt(s.Control, 10, 64)
			if err != nil {
				l.warn(fmt.Sprintf("AK2 at line %d: transaction set control number %q is not a number", s.Line, s.Control))
				continue
			}
			reasons := slices.Clone(s.Errors)
			for _, c := range s.Codes {
				reasons = append(reasons, "IK5 "+x999.SetErrorText(c))
			}
			ack, status := s.Status, statusOf(rules.Status999Set(s.Status, g.Status))
			if status == store.EncounterRejected && rules.Status999(s.Status) != rules.StatusRejected {
				// The group was rejected as a whole: its AK901 is the answer.
				ack = g.Status
				reasons = append(reasons, strings.TrimSpace("999 AK9 "+g.Status+" "+strings.Join(g.Codes, " ")))
			}
			reason := strings.Join(reasons, "; ")
			as = append(as, store.SetAnswer{Receivers: recv, GS06: gs, ST02: st, Ack: ack, Status: status, Reason: reason})
			groups, sets = append(groups, g.Control), append(sets, s.Control)
		}
	}
	n, err := es.AnswerSets(ctx, l.name, as)
	if err != nil {
		return l.fail(err)
	}
	for i, a := range as {
		l.res.Read++
		rule, note := "", fmt.Sprintf("%d claim(s)", n[i])
		if a.Status == store.EncounterRejected {
			l.res.Rejected++
		}
		if n[i] == 0 {
			l.res.Warnings++
			rule, note = rules.ResponseUnmatched, "no 837P sent by "+strings.Join(recv, " or ")+" has this group and set"
		} else {
			l.res.Loaded++
		}
		l.rep.row(l.name, "", groups[i], sets[i], "", "", a.Status, "999 IK5 "+a.Ack, a.Reason, "", rule, note)
	}
	l.res.Committed = true
	l.log.Info("999 loaded", "file", l.name, "sets", l.res.Read, "matched", l.res.Loaded, "rejected", l.res.Rejected)
	return l.finish()
}

// evrBatch is how many EVR encounters go to the store at once.
const evrBatch = 500

// LoadEVR loads one DHCS Encounter Validation Response, streamed: each
// encounter's status (rules.StatusEVR), its error responses (encounter
// and service lines, SNIP or not) and its DHCS Encounter ID go to the
// claim sent (EncounterReferenceNumber = CLM01) of the file the EVR names.
// A Transaction that lists no encounters and whose Status is not Accepted
// rejects the claims of its set (GroupControlNumber, OriginatorTransactionId
// as ST02) in that file, and an EVR whose ValidationStatus is not Accepted
// and that lists no encounter nor such a Transaction rejects every claim
// of the file, as a 999 rejecting a set or group without AK2 does; each is
// a report row, a warning when it matches no claim or cannot name one.
func LoadEVR(ctx context.Context, es store.EncounterStore, path, outDir string, log *slog.Logger) Result {
	l, f := beginResponse(path, outDir, KindEVR, log)
	if f == nil {
		return l.res
	}
	defer f.Close()
	var (
		pending    []store.ClaimAnswer
		sets       []string
		notes      []string
		started    bool
		encounters int
		without    []evrSetAnswer // transactions answered without their encounters
	)
	start := func() error {
		if !started {
			if !l.openReport(outDir) {
				return l.res.Err
			}
			started = true
		}
		return nil
	}
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		subs, err := es.AnswerClaims(ctx, l.name, pending)
		if err != nil {
			return err
		}
		for i, a := range pending {
			l.answered(a, subs[i], "", sets[i], notes[i])
		}
		pending, sets, notes = pending[:0], sets[:0], notes[:0]
		return ctx.Err()
	}
	h, err := evr.ReadTransactions(f, func(h *evr.Header, t *evr.Transaction, e *evr.Encounter) error {
		if err := start(); err != nil {
			return err
		}
		encounters++
		a := store.ClaimAnswer{File: evrFile(h), CLM01: e.Reference, Status: statusOf(rules.StatusEVR(e.Status)), Code: "EVR " + e.Status, EncounterID: e.EncounterID}
		if errs := e.Errors(); len(errs) > 0 {
			a.Reason = strings.Join(errs, "; ")
		}
		note := ""
		if a.EncounterID != "" && !encounterIDShape(a.EncounterID) {
			note = fmt.Sprintf("EncounterId %q is not a 15-digit DHCS Encounter ID (line %d)", a.EncounterID, e.Line)
		}
		pending, sets, notes = append(pending, a), append(sets, t.TransID), append(notes, note)
		if len(pending) >= evrBatch {
			return flush()
		}
		return nil
	}, func(h *evr.Header, t *evr.Transaction) error {
		if t.Encounters > 0 || rules.StatusEVR(t.Status) == rules.StatusAccepted {
			return nil
		}
		if err := start(); err != nil {
			return err
		}
		without = append(without, evrTransaction(h, t))
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil && encounters == 0 && len(without) == 0 && rules.StatusEVR(h.ValidationStatus) != rules.StatusAccepted {
		if err = start(); err == nil {
			without = append(without, evrWholeFile(h))
		}
	}
	if err == nil && len(without) > 0 {
		err = l.evrSets(ctx, es, without)
	}
	switch {
	case err != nil && !started:
		if l.res.Err != nil {
			return l.res
		}
		return l.unusable(err)
	case err != nil:
		// Answers already stored stay: loading the file again repeats them.
		l.res.Committed = l.res.Read > 0
		return l.fail(err)
	}
	if !started && !l.openReport(outDir) {
		return l.res
	}
	l.res.Committed = true
	l.log.Info("EVR loaded", "file", l.name, "answers", l.res.Read, "matched", l.res.Loaded, "rejected", l.res.Rejected)
	return l.finish()
}

// evrFile is the stem of our 837 the EVR names (EncounterFileName without
// its extension); "" when it names none.
func evrFile(h *evr.Header) string {
	file := h.FileName
	if file != "" {
		file = strings.TrimSuffix(file, filepath.Ext(file))
	}
	return file
}

// evrSetAnswer is an EVR's answer to a transaction set or to the whole
// file without its encounters, as it goes to the store and the report.
type evrSetAnswer struct {
	a      store.SetAnswer
	gs, st string // as the EVR gives them
	what   string // the transaction or file, in words
	why    string // why it cannot go to claims; "" when it can
}

// evrTransaction is the answer of a Transaction that lists no encounters
// and is not Accepted: it rejects its set, when the EVR names our file,
// the set's group (GroupControlNumber) and its ST02
// (OriginatorTransactionId) as numbers, and gives a Status.
func evrTransaction(h *evr.Header, t *evr.Transaction) evrSetAnswer {
	x := evrSetAnswer{gs: t.GS06, st: t.TransID,
		what: fmt.Sprintf("transaction %s (Status %q, ISAControlNumber %q) lists no encounters", t.Number, t.Status, t.ISA13)}
	x.a = store.SetAnswer{File: evrFile(h), Status: store.EncounterRejected, Code: "EVR Transaction " + t.Status, Reason: evrReason(t.Responses, "EVR transaction "+t.Number+" "+t.Status)}
	gs, gsErr := strconv.ParseInt(t.GS06, 10, 64)
	st, stErr := strconv.ParseInt(t.TransID, 10, 64)
	switch {
	case t.Status == "":
		x.why = "it has no Status"
	case x.a.File == "":
		x.why = "the EVR names no file of ours (EncounterFileName)"
	case gsErr != nil || gs <= 0 || stErr != nil || st <= 0 || len(t.TransID) > 9:
		x.why = fmt.Sprintf("GroupControlNumber %q and OriginatorTransactionId %q do not name one of our transaction sets (GS06, ST02)", t.GS06, t.TransID)
	default:
		x.a.GS06, x.a.ST02 = gs, st
	}
	return x
}

// evrWholeFile is the answer of an EVR whose ValidationStatus is not
// Accepted and that lists no encounters: it rejects every claim of the
// file it names, when it names one and gives a ValidationStatus.
func evrWholeFile(h *evr.Header) evrSetAnswer {
	x := evrSetAnswer{what: fmt.Sprintf("the EVR (ValidationStatus %q) lists no encounters", h.ValidationStatus)}
	x.a = store.SetAnswer{File: evrFile(h), Status: store.EncounterRejected, Code: "EVR ValidationStatus " + h.ValidationStatus,
		Reason: evrReason(h.Responses, "EVR file "+h.FileName+" "+h.ValidationStatus)}
	switch {
	case h.ValidationStatus == "":
		x.why = "it has no ValidationStatus"
	case x.a.File == "":
		x.why = "it names no file of ours (EncounterFileName)"
	}
	return x
}

// evrReason is the findings of a transaction or file in words, else def.
func evrReason(rs []evr.Response, def string) string {
	if errs := evr.Errors(rs); len(errs) > 0 {
		return strings.Join(errs, "; ")
	}
	return def
}

// evrSets applies the answers that can go to claims and reports each: the
// claims it rejected, or a warning (RESPONSE-UNMATCHED) when it matched
// none or could not name them.
func (l *responseLoad) evrSets(ctx context.Context, es store.EncounterStore, xs []evrSetAnswer) error {
	var as []store.SetAnswer
	for _, x := range xs {
		if x.why == "" {
			as = append(as, x.a)
		}
	}
	n, err := es.AnswerSets(ctx, l.name, as)
	if err != nil {
		return err
	}
	for _, x := range xs {
		l.res.Read++
		status := x.a.Status
		rule, note := rules.ResponseUnmatched, x.what+": "+x.why+"; no claim changed"
		if x.why != "" {
			status = ""
		} else {
			l.res.Rejected++
			if n[0] == 0 {
				note = x.what + ": no claim sent in our file " + x.a.File + " has this group and set"
			} else {
				rule, note = "", fmt.Sprintf("%s: %d claim(s) rejected", x.what, n[0])
			}
			n = n[1:]
		}
		if rule != "" {
			l.res.Warnings++
		} else {
			l.res.Loaded++
		}
		l.rep.row(l.name, x.a.File, x.gs, x.st, "", "", status, x.a.Code, x.a.Reason, "", rule, note)
	}
	return nil
}
