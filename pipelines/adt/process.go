// Package adt is the ADT intake: it reads HL7 v2 messages from a source (a
// file, or messages already received by the MLLP listener), maps each to an
// event through its sender's profile (mappings/adt) and records them in the
// store in batches, one transaction each: a message once per sending
// system (profile, MSH-3.1, MSH-4.1) and MSH-10, an unknown member or a broken message kept as an exception with
// its source and position. It also writes the notices to ECM providers
// (notices.go).
package adt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/hl7"
	"github.com/calaim-gateway/calaim-gateway/mappings/adt"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Input is one message from a source.
type Input struct {
	// Message is the message read; nil when the codec could not read it
	// (Problem says why).
	Message *hl7.Message
	Problem *hl7.Error
	// Source names where it came from (a file's base name, an inbox);
	// Position is its ordinal there and Line the line of its MSH.
	Source     string
	Position   int
	Line       int
	ReceivedAt time.Time
	// Raw is the message as received, when the source has it (else it is
	// rebuilt from Message).
	Raw []byte
}

// Source hands out messages one at a time; io.EOF ends it. An Input with a
// Problem and Position 0 is a problem of the source itself (a batch count,
// a segment outside a message), and reading goes on.
type Source interface {
	Next(ctx context.Context) (Input, error)
}

// FileSource reads the messages of an ER7 file (batch, multi- or
// single-message).
func FileSource(name string, r io.Reader, receivedAt time.Time) Source {
	return &fileSource{name: name, rd: hl7.NewReader(r), at: receivedAt}
}

type fileSource struct {
	name string
	rd   *hl7.Reader
	at   time.Time
}

func (s *fileSource) Next(ctx context.Context) (Input, error) {
	if err := ctx.Err(); err != nil {
		return Input{}, err
	}
	m, err := s.rd.Next()
	var he *hl7.Error
	switch {
	case err == nil:
		return Input{Message: m, Source: s.name, Position: m.Index, Line: m.Line, ReceivedAt: s.at}, nil
	case errors.As(err, &he):
		return Input{Problem: he, Source: s.name, Position: he.MessageIndex, Line: he.Line, ReceivedAt: s.at}, nil
	}
	return Input{}, err
}

// RawInputs reads an inbox message (one MLLP frame, received whole) as the
// Inputs of source at position. The first is the frame's message. MLLP
// carries one message per frame and the listener refuses a frame holding
// more, but the inbox may hold such a frame all the same (stored by a
// listener that did not check): each further message, and each batch or
// file segment, after the first message is an Input of its own at the same
// position whose Problem says so, so that it is kept as an exception
// rather than dropped. That exception has no control ID (its MSH-10 is in
// the reason): it does not take the sending system's MSH-10, so the message
// sent again in a frame of its own becomes an event. Its Raw is the further
// message rebuilt from its segments, or the whole frame when it could not
// be read.
func RawInputs(source string, position int, raw []byte, receivedAt time.Time) []Input {
	first := Input{Source: source, Position: position, ReceivedAt: receivedAt, Raw: raw}
	rd := hl7.NewReader(bytes.NewReader(raw))
	m, err := rd.Next()
	var he *hl7.Error
	switch {
	case err == nil:
		first.Message, first.Line = m, m.Line
	case errors.As(err, &he):
		first.Problem, first.Line = he, he.Line
	default:
		first.Problem = &hl7.Error{Line: 1, Reason: "no message: " + err.Error()}
		return []Input{first}
	}
	out := []Input{first}
	const more = "more than one message in one inbox message (MLLP frame), which was acknowledged for its first message only"
	for {
		m, err := rd.Next()
		if err == io.EOF {
			return out
		}
		extra := Input{Source: source, Position: position, ReceivedAt: receivedAt, Raw: raw}
		switch {
		case err == nil:
			extra.Raw = m.Bytes()
			extra.Problem = &hl7.Error{Line: m.Line, MessageIndex: m.Index, Segment: "MSH", Position: 1,
				Reason: fmt.Sprintf("%s: this further message (MSH-10 %q) is not an event; have it sent again in a frame of its own", more, m.ControlID())}
		case errors.As(err, &he):
			e := *he
			if e.Message != "" {
				e.Reason = fmt.Sprintf("%s (MSH-10 %q)", e.Reason, e.Message)
			}
			e.Message, e.Reason = "", more+": "+e.Reason
			extra.Problem = &e
		default:
			extra.Problem = &hl7.Error{Line: first.Line, Reason: more + ": the rest is unreadable: " + err.Error()}
			return append(out, extra)
		}
		extra.Line = extra.Problem.Line
		out = append(out, extra)
	}
}

// Inputs is a Source over inputs already read (the MLLP inbox's).
type Inputs []Input

// Next implements Source.
func (s *Inputs) Next(ctx context.Context) (Input, error) {
	if len(*s) == 0 {
		return Input{}, io.EOF
	}
	in := (*s)[0]
	*s = (*s)[1:]
	return in, nil
}

// Store is what the intake needs of the state store.
type Store interface {
	RecordADT(ctx context.Context, items []store.ADTItem) ([]store.ADTOutcome, error)
}

// Processor maps and records messages.
type Processor struct {
	Store    Store
	Profiles []adt.Profile
	// Batch is the number of messages per store transaction (0 = 2000).
	Batch int
}

// Exception is a message kept as an exception, or a problem of the source
// itself (Position 0).
type Exception struct {
	Source    string
	Position  int
	Line      int
	ControlID string
	Reason    string
}

// Result counts what a Process did; it names no member.
type Result struct {
	Messages, Stored, Duplicates, Exceptions int
	Cancelled, Merged, Updated               int
	// Problems lists the exceptions and the source's own problems, in order.
	Problems []Exception
}

// Add adds another result's counts and problems.
func (r *Result) Add(o Result) {
	r.Messages += o.Messages
	r.Stored += o.Stored
	r.Duplicates += o.Duplicates
	r.Exceptions += o.Exceptions
	r.Cancelled += o.Cancelled
	r.Merged += o.Merged
	r.Updated += o.Updated
	r.Problems = append(r.Problems, o.Problems...)
}

// Summary is a one-line account, counts only.
func (r *Result) Summary() string {
	return fmt.Sprintf("messages=%d stored=%d duplicates=%d exceptions=%d cancelled=%d merged=%d updated=%d source_problems=%d",
		r.Messages, r.Stored, r.Duplicates, r.Exceptions, r.Cancelled, r.Merged, r.Updated, len(r.Problems)-r.Exceptions)
}

// Process reads src to its end and records every message. Reading and
// mapping run beside the store: while one batch is recorded the next is
// read (at most three batches in memory). Batches already recorded stay
// recorded when a later one fails (each message is recorded once, so
// processing the source again finishes the job).
func (p *Processor) Process(ctx context.Context, src Source) (Result, error) {
	size := p.Batch
	if size <= 0 {
		size = 2000
	}
	const inFlight = 3
	free := make(chan []store.ADTItem, inFlight)
	for range inFlight {
		free <- make([]store.ADTItem, 0, size)
	}
	todo := make(chan []store.ADTItem, 1)
	// The recorder owns rec until it sends on done; after a failure it
	// records nothing more and hands the batches back.
	var rec Result
	var failed atomic.Bool
	done := make(chan error, 1)
	go func() {
		var err error
		for items := range todo {
			if err == nil {
				if err = p.record(ctx, items, &rec); err != nil {
					failed.Store(true)
				}
			}
			clear(items)
			free <- items[:0]
		}
		done <- err
	}()
	var read Result // messages read and the source's own problems
	items := <-free
	var srcErr error
	for !failed.Load() {
		in, err := src.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			srcErr = err
			break
		}
		if in.Message == nil && in.Position == 0 {
			read.Problems = append(read.Problems, Exception{Source: in.Source, Line: in.Line, Reason: in.Problem.Error()})
			continue
		}
		read.Messages++
		items = append(items, p.item(&in))
		if len(items) == size {
			todo <- items
			items = <-free
		}
	}
	if len(items) > 0 {
		todo <- items
	}
	close(todo)
	err := <-done
	if err == nil {
		err = srcErr
	}
	rec.Messages = read.Messages
	rec.Problems = append(rec.Problems, read.Problems...)
	sort.SliceStable(rec.Problems, func(i, j int) bool { return rec.Problems[i].Line < rec.Problems[j].Line })
	return rec, err
}

// record records one batch and counts its outcomes into res.
func (p *Processor) record(ctx context.Context, items []store.ADTItem, res *Result) error {
	out, err := p.Store.RecordADT(ctx, items)
	if err != nil {
		return err
	}
	for i, o := range out {
		switch o.Status {
		case store.ADTStored:
			res.Stored++
		case store.ADTDuplicate:
			res.Duplicates++
		case store.ADTException:
			res.Exceptions++
			it := &items[i]
			res.Problems = append(res.Problems, Exception{Source: it.Source, Position: it.Position, Line: it.Line, ControlID: it.ControlID, Reason: o.Reason})
		}
		if o.Cancelled != 0 {
			res.Cancelled++
		}
		res.Merged += int(o.Merged)
		res.Updated += int(o.Updated)
	}
	return nil
}

// item maps one input.
func (p *Processor) item(in *Input) store.ADTItem {
	it := store.ADTItem{Source: in.Source, Position: in.Position, Line: in.Line, ReceivedAt: in.ReceivedAt, Raw: in.Raw}
	if in.Message == nil {
		it.ControlID = in.Problem.Message
		it.Sender = adt.DefaultProfile().Name
		it.Problem = in.Problem.Error()
		asText(&it)
		return it
	}
	m := in.Message
	if it.Raw == nil {
		it.Raw = m.Bytes()
	}
	prof := adt.Choose(p.Profiles, m)
	ev, errs := adt.Map(m, prof)
	it.Sender, it.ControlID, it.Event = prof.Name, ev.ControlID, ev
	it.SendingApplication, it.SendingFacility = ev.SendingApplication, ev.SendingFacility
	if ev.ControlID == "" {
		errs = append(errs, hl7.ErrorAt(m, &m.Segments[0], 10, "message control ID is missing"))
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		it.Problem = strings.Join(msgs, "; ")
	}
	asText(&it)
	return it
}

// asText writes every text of it that came from the message as
// domain.KeyText does: valid UTF-8 without NUL, as both engines' text
// columns take it (a message in Latin-1 would otherwise fail its whole
// batch on PostgreSQL), different values kept apart (MSH-3.1, MSH-4.1 and
// MSH-10 key the sending system's messages, as they key the inbox). Text
// of valid UTF-8 is unchanged.
func asText(it *store.ADTItem) {
	for _, p := range []*string{&it.ControlID, &it.SendingApplication, &it.SendingFacility, &it.Problem} {
		*p = domain.KeyText(*p)
	}
	ev := &it.Event
	for _, p := range []*string{&ev.ControlID, &ev.Trigger, &ev.SendingApplication, &ev.SendingFacility, &ev.CIN, &ev.Facility,
		&ev.PatientClass, &ev.AdmissionType, &ev.VisitNumber, &ev.Disposition, &ev.PriorCIN} {
		*p = domain.KeyText(*p)
	}
	for i := range ev.Identifiers {
		id := &ev.Identifiers[i]
		id.ID, id.Authority, id.Type = domain.KeyText(id.ID), domain.KeyText(id.Authority), domain.KeyText(id.Type)
	}
	for i := range ev.Diagnoses {
		d := &ev.Diagnoses[i]
		d.Code, d.Text, d.System, d.Type = domain.KeyText(d.Code), domain.KeyText(d.Text), domain.KeyText(d.System), domain.KeyText(d.Type)
	}
}
