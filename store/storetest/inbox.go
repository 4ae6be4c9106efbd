package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// hl7Inbox: messages added are pending in the order added, byte for byte,
// until marked processed; a message of the same sender and MSH-10 is not
// stored twice (also within one call); the inbox survives a reopen.
func hl7Inbox(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	in, ok := s.(store.Inbox)
	if !ok {
		t.Fatalf("%T is not a store.Inbox", s)
	}
	at := time.Date(2026, 3, 1, 20, 15, 30, 123456000, time.UTC)
	msg := func(app, fac, id string) store.InboxMessage {
		raw := []byte("MSH|^~\\&|" + app + "|" + fac + "|CALGW|PLAN|20260301||ADT^A01|" + id + "|P|2.5\rPID|1||\x00\xff binary-safe\r")
		return store.InboxMessage{ReceivedAt: at, Remote: "127.0.0.1:40000", SendingApplication: app, SendingFacility: fac, ControlID: id, Raw: raw}
	}
	added, err := in.InboxAdd(ctx, []store.InboxMessage{msg("EPIC", "H1", "1"), msg("EPIC", "H1", "2"), msg("EPIC", "H2", "1"), msg("EPIC", "H1", "1")})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(added) != "[true true true false]" {
		t.Fatalf("added %v: the same sender and MSH-10 twice in one call must be stored once", added)
	}
	if added, _ = in.InboxAdd(ctx, []store.InboxMessage{msg("EPIC", "H1", "2"), msg("CERNER", "H1", "2")}); fmt.Sprint(added) != "[false true]" {
		t.Fatalf("second add %v", added)
	}
	if got, err := in.InboxAdd(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("empty add: %v %v", got, err)
	}
	ids := func(ms []store.InboxMessage) string {
		var out string
		for _, m := range ms {
			out += m.SendingApplication + "/" + m.SendingFacility + "/" + m.ControlID + " "
		}
		return out
	}
	p, err := in.InboxPending(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(p); got != "EPIC/H1/1 EPIC/H1/2 EPIC/H2/1 CERNER/H1/2 " {
		t.Fatalf("pending %q", got)
	}
	want := msg("EPIC", "H1", "1")
	if m := p[0]; !bytes.Equal(m.Raw, want.Raw) || !m.ReceivedAt.Equal(at) || m.Remote != want.Remote || m.ID >= p[1].ID {
		t.Errorf("first message read back as %+v", m)
	}
	if p2, _ := in.InboxPending(ctx, 2); len(p2) != 2 || p2[1].ID != p[1].ID {
		t.Errorf("limit 2: %q", ids(p2))
	}
	if err := in.InboxMarkProcessed(ctx, []int64{p[0].ID, p[2].ID, 999999}); err != nil {
		t.Fatal(err)
	}
	if err := in.InboxMarkProcessed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// A processed message sent again is still a duplicate.
	if added, _ = in.InboxAdd(ctx, []store.InboxMessage{msg("EPIC", "H1", "1")}); added[0] {
		t.Error("a processed message was stored again")
	}
	s.Close()
	in = open("a").(store.Inbox)
	if p, _ = in.InboxPending(ctx, 10); ids(p) != "EPIC/H1/2 CERNER/H1/2 " {
		t.Errorf("pending after processing and reopen %q", ids(p))
	}
}
