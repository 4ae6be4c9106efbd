package adt

import (
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/mappings/adt"
	"github.com/calaim-gateway/calaim-gateway/store"
)

func inboxAdd(t *testing.T, st *store.SQLite, ids ...string) {
	t.Helper()
	at := time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC)
	var msgs []store.InboxMessage
	for _, id := range ids {
		cin := known
		if id == "U1" {
			cin = unknown
		}
		msgs = append(msgs, store.InboxMessage{ReceivedAt: at, Remote: "127.0.0.1:5000", SendingApplication: "EPIC",
			SendingFacility: "STMARYS", ControlID: id, Raw: []byte(adtMsg(id, "A01", cin))})
	}
	if _, err := st.InboxAdd(ctx, msgs); err != nil {
		t.Fatal(err)
	}
}

func TestDrainInboxTurnsMessagesIntoEventsOnce(t *testing.T) {
	st := newStore(t, known)
	inboxAdd(t, st, "K1", "U1", "K2")
	p := &Processor{Store: st}
	res, err := p.DrainInbox(ctx, st, 2) // two batches
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 3 || res.Stored != 2 || res.Exceptions != 1 {
		t.Errorf("first drain: %s", res.Summary())
	}
	if len(res.Problems) != 1 || res.Problems[0].Source != InboxSource || res.Problems[0].Position != 2 || res.Problems[0].ControlID != "U1" {
		t.Errorf("problems %+v", res.Problems)
	}
	if pending, _ := st.InboxPending(ctx, 10); len(pending) != 0 {
		t.Errorf("%d messages still pending after the drain", len(pending))
	}
	evs, err := st.ADTEvents(ctx, known)
	if err != nil || len(evs) != 2 {
		t.Fatalf("events of the known member: %d, %v", len(evs), err)
	}

	// Nothing pending: the next drain does nothing.
	if res, err := p.DrainInbox(ctx, st, 2); err != nil || res.Messages != 0 {
		t.Errorf("second drain: %s, %v", res.Summary(), err)
	}

	// A crash after recording but before marking: the message is read
	// again and recognised, not stored twice.
	inboxAdd(t, st, "K3")
	pending, err := st.InboxPending(ctx, 10)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending %d, %v", len(pending), err)
	}
	src := Inputs{RawInputs(InboxSource, int(pending[0].ID), pending[0].Raw, pending[0].ReceivedAt)[0]}
	if _, err := p.Process(ctx, &src); err != nil {
		t.Fatal(err)
	}
	res, err = p.DrainInbox(ctx, st, 0)
	if err != nil || res.Messages != 1 || res.Stored != 0 || res.Duplicates != 1 {
		t.Errorf("drain after a crash: %s, %v", res.Summary(), err)
	}
	if evs, _ := st.ADTEvents(ctx, known); len(evs) != 3 {
		t.Errorf("events after the crash: %d, want 3", len(evs))
	}
}

// Two facilities of one profile send the same MSH-10 over MLLP: the inbox
// keeps both (its key is MSH-3, MSH-4 and MSH-10) and so do the events;
// the same facility's message read again is a duplicate.
func TestDrainInboxFacilitiesShareProfile(t *testing.T) {
	st := newStore(t, known)
	at := time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC)
	var msgs []store.InboxMessage
	for _, fac := range []string{"STMARYS", "MERCY"} {
		raw := strings.Replace(adtMsg("K1", "A01", known), "|EPIC|STMARYS|", "|EPIC|"+fac+"|", 1)
		msgs = append(msgs, store.InboxMessage{ReceivedAt: at, Remote: "127.0.0.1:5000", SendingApplication: "EPIC", SendingFacility: fac, ControlID: "K1", Raw: []byte(raw)})
	}
	if added, err := st.InboxAdd(ctx, msgs); err != nil || !added[0] || !added[1] {
		t.Fatalf("inbox add %v %v", added, err)
	}
	p := &Processor{Store: st, Profiles: []adt.Profile{{Name: "county", Facilities: []string{"STMARYS", "MERCY"}, IDType: "MA"}}}
	res, err := p.DrainInbox(ctx, st, 0)
	if err != nil || res.Messages != 2 || res.Stored != 2 || res.Duplicates != 0 {
		t.Fatalf("drain: %s %v", res.Summary(), err)
	}
	src := Inputs{RawInputs(InboxSource, 9, msgs[1].Raw, at)[0]}
	if res, err := p.Process(ctx, &src); err != nil || res.Duplicates != 1 {
		t.Errorf("MERCY's K1 again: %s %v", res.Summary(), err)
	}
	evs, err := st.ADTEvents(ctx, known)
	if err != nil || len(evs) != 2 || evs[0].SendingFacility != "STMARYS" || evs[1].SendingFacility != "MERCY" || evs[0].Sender != "county" || evs[1].Sender != "county" {
		t.Errorf("events %+v %v", evs, err)
	}
}

// An inbox message holding two messages and a batch trailer (a frame that
// a listener without the one-message-per-frame check acknowledged): the
// first becomes an event, the second and the trailer are exceptions at the
// inbox ID, without a control ID, so that the second sent again on its own
// becomes an event.
func TestDrainInboxFrameWithMoreThanOneMessage(t *testing.T) {
	st := newStore(t, known)
	at := time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC)
	x2 := adtMsg("X2", "A03", known)
	raw := adtMsg("X1", "A01", known) + x2 + "BTS|2\r"
	added, err := st.InboxAdd(ctx, []store.InboxMessage{{ReceivedAt: at, Remote: "127.0.0.1:5000", SendingApplication: "EPIC",
		SendingFacility: "STMARYS", ControlID: "X1", Raw: []byte(raw)}})
	if err != nil || !added[0] {
		t.Fatalf("inbox add %v %v", added, err)
	}
	pending, _ := st.InboxPending(ctx, 1)
	id := int(pending[0].ID)
	p := &Processor{Store: st}
	res, err := p.DrainInbox(ctx, st, 0)
	if err != nil || res.Messages != 3 || res.Stored != 1 || res.Exceptions != 2 {
		t.Fatalf("drain: %s %v", res.Summary(), err)
	}
	if len(res.Problems) != 2 {
		t.Fatalf("problems %+v", res.Problems)
	}
	second, trailer := res.Problems[0], res.Problems[1]
	if second.Source != InboxSource || second.Position != id || second.ControlID != "" || second.Line != 5 ||
		!strings.Contains(second.Reason, "more than one message") || !strings.Contains(second.Reason, `MSH-10 "X2"`) {
		t.Errorf("second message's exception %+v", second)
	}
	if trailer.Position != id || trailer.Line != 9 || !strings.Contains(trailer.Reason, "more than one message") || !strings.Contains(trailer.Reason, "BTS") {
		t.Errorf("trailer's exception %+v", trailer)
	}
	exc, err := st.ADTExceptions(ctx, time.Time{})
	if err != nil || len(exc) != 2 {
		t.Fatalf("exceptions %d %v", len(exc), err)
	}
	if string(exc[0].Raw) != x2 || exc[0].ControlID != "" || exc[0].Position != id {
		t.Errorf("second message kept as %q (control ID %q, position %d)", exc[0].Raw, exc[0].ControlID, exc[0].Position)
	}
	if string(exc[1].Raw) != raw {
		t.Errorf("trailer's exception keeps %q, want the whole frame", exc[1].Raw)
	}
	// X2 sent again in a frame of its own becomes an event.
	if _, err := st.InboxAdd(ctx, []store.InboxMessage{{ReceivedAt: at, Remote: "127.0.0.1:5000", SendingApplication: "EPIC",
		SendingFacility: "STMARYS", ControlID: "X2", Raw: []byte(x2)}}); err != nil {
		t.Fatal(err)
	}
	if res, err := p.DrainInbox(ctx, st, 0); err != nil || res.Messages != 1 || res.Stored != 1 {
		t.Errorf("X2 again: %s %v", res.Summary(), err)
	}
	if evs, _ := st.ADTEvents(ctx, known); len(evs) != 2 || evs[0].ControlID != "X1" || evs[1].ControlID != "X2" {
		t.Errorf("events %+v", evs)
	}
}
