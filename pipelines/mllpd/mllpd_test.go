package mllpd

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/edi/hl7"
	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/calaim-gateway/calaim-gateway/transport/mllp"
)

func adt(app, id string) []byte {
	return []byte("MSH|^~\\&|" + app + "|GOODHOSP|CALGW|PLAN|20260301120000||ADT^A03^ADT_A03|" + id + "|P|2.5.1\r" +
		"EVN|A03|20260301120000\rPID|1||91234567A^^^CA-DHCS^MC||DOE^JANE\rPV1|1|I\r")
}

// gatedInbox is the real SQLite inbox whose commits wait for gate (when
// set) and are counted.
type gatedInbox struct {
	store.Inbox
	gate  chan struct{}
	calls atomic.Int64
}

func (g *gatedInbox) InboxAdd(ctx context.Context, msgs []store.InboxMessage) ([]bool, error) {
	g.calls.Add(1)
	if g.gate != nil {
		<-g.gate
	}
	return g.Inbox.InboxAdd(ctx, msgs)
}

func start(t *testing.T, in store.Inbox, reg prometheus.Registerer) (addr string) {
	t.Helper()
	l, err := Listen(Options{Config: config.MLLPConfig{Listen: "127.0.0.1:0"}, Inbox: in, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return l.Addr().String()
}

func openSQLite(t *testing.T) *store.SQLite {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func dial(t *testing.T, addr string) *mllp.Client {
	t.Helper()
	c, err := mllp.Dial(context.Background(), addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// The ACK waits for the commit: while the transaction is held no ACK comes;
// once it commits the AA comes and the message is in the inbox.
func TestACKAfterCommit(t *testing.T) {
	st := openSQLite(t)
	in := &gatedInbox{Inbox: st, gate: make(chan struct{})}
	c := dial(t, start(t, in, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, adt("EPIC", "M1")); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		ack, _ := c.ReadACK(ctx)
		got <- ack
	}()
	select {
	case ack := <-got:
		t.Fatalf("ACK before the commit: %q", ack)
	case <-time.After(200 * time.Millisecond):
	}
	if p, _ := st.InboxPending(ctx, 10); len(p) != 0 {
		t.Fatal("stored before the commit")
	}
	close(in.gate)
	ack := <-got
	if code, id, _ := mllp.ACKCode(ack); code != hl7.AckAccept || id != "M1" {
		t.Fatalf("ACK %q", ack)
	}
	p, err := st.InboxPending(ctx, 10)
	if err != nil || len(p) != 1 || string(p[0].Raw) != string(adt("EPIC", "M1")) || p[0].ControlID != "M1" ||
		p[0].SendingApplication != "EPIC" || p[0].SendingFacility != "GOODHOSP" || !strings.HasPrefix(p[0].Remote, "127.0.0.1:") {
		t.Fatalf("inbox %+v %v", p, err)
	}
}

// Eight senders at once: every message is acknowledged AA and stored, in
// fewer transactions than messages (group commit), each sender's messages
// in the order sent; the histogram counts every ACK.
func TestGroupCommit(t *testing.T) {
	st := openSQLite(t)
	in := &gatedInbox{Inbox: st}
	reg := prometheus.NewRegistry()
	addr := start(t, in, reg)
	const senders, each = 8, 40
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c := dial(t, addr)
			app := fmt.Sprintf("S%d", s)
			for i := range each { // pipelined: all sent, then all ACKs read
				if err := c.Write(ctx, adt(app, fmt.Sprint(i))); err != nil {
					t.Error(err)
					return
				}
			}
			for i := range each {
				ack, err := c.ReadACK(ctx)
				if code, id, _ := mllp.ACKCode(ack); err != nil || code != hl7.AckAccept || id != fmt.Sprint(i) {
					t.Errorf("%s %d: %q %v", app, i, ack, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	p, err := st.InboxPending(context.Background(), 10000)
	if err != nil || len(p) != senders*each {
		t.Fatalf("%d stored, %v", len(p), err)
	}
	next := map[string]int{}
	for _, m := range p {
		if m.ControlID != fmt.Sprint(next[m.SendingApplication]) {
			t.Fatalf("%s: message %s stored out of order", m.SendingApplication, m.ControlID)
		}
		next[m.SendingApplication]++
	}
	if n := in.calls.Load(); n >= senders*each {
		t.Errorf("%d transactions for %d messages: no group commit", n, senders*each)
	}
	// Each ACK is observed once written: wait for the last ones.
	count := func() uint64 {
		mfs, _ := reg.Gather()
		if len(mfs) != 1 || len(mfs[0].Metric) != 1 {
			return 0
		}
		return mfs[0].Metric[0].GetHistogram().GetSampleCount()
	}
	for deadline := time.Now().Add(5 * time.Second); count() < senders*each && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	mfs, _ := reg.Gather()
	if len(mfs) != 1 || mfs[0].GetName() != "calgw_mllp_ack_seconds" || mfs[0].Metric[0].GetHistogram().GetSampleCount() != senders*each {
		t.Errorf("metrics %v", mfs)
	}
}

// A message sent again (its ACK was lost) is acknowledged AA and stored
// once; a store that fails answers AR, and the message sent again later
// is stored.
func TestDuplicateAndStoreFailure(t *testing.T) {
	st := openSQLite(t)
	c := dial(t, start(t, st, nil))
	ctx := context.Background()
	for range 2 {
		ack, err := c.Send(ctx, adt("EPIC", "D1"))
		if code, _, _ := mllp.ACKCode(ack); err != nil || code != hl7.AckAccept {
			t.Fatalf("%q %v", ack, err)
		}
	}
	if p, _ := st.InboxPending(ctx, 10); len(p) != 1 {
		t.Fatalf("%d stored", len(p))
	}

	broken, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	broken.Close() // every InboxAdd fails
	c2 := dial(t, start(t, broken, nil))
	ack, err := c2.Send(ctx, adt("EPIC", "F1"))
	if code, id, text := mllp.ACKCode(ack); err != nil || code != hl7.AckReject || id != "F1" || !strings.Contains(text, "not stored") {
		t.Fatalf("%q %v", ack, err)
	}
}

// On PostgreSQL: messages from several senders share a transaction, one
// with Latin-1 bytes and a NUL in its header does not fail the others,
// and its raw bytes are kept as received.
func TestPostgresInbox(t *testing.T) {
	srv := testsrv.Postgres(t)
	ctx := context.Background()
	st, err := store.OpenPostgres(ctx, srv.DSN, store.PostgresOptions{Owner: "mllp-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	addr := start(t, st, nil)
	odd := []byte("MSH|^~\\&|EPIC|H\xe9PITAL\x00|CALGW|PLAN|2026||ADT^A08|L\xe91|P|2.5\rPID|1||X\r")
	var wg sync.WaitGroup
	for i, msg := range [][]byte{odd, adt("EPIC", "N1"), adt("EPIC", "N2")} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dial(t, addr)
			ack, err := c.Send(ctx, msg)
			if code, _, text := mllp.ACKCode(ack); err != nil || code != hl7.AckAccept {
				t.Errorf("message %d: %s %s %v", i, code, text, err)
			}
		}()
	}
	wg.Wait()
	p, err := st.InboxPending(ctx, 10)
	if err != nil || len(p) != 3 {
		t.Fatalf("%d stored, %v", len(p), err)
	}
	found := 0
	for _, m := range p {
		if m.SendingFacility == `H\xE9PITAL\x00` {
			found++
			if m.ControlID != `L\xE91` || string(m.Raw) != string(odd) {
				t.Errorf("odd message stored as %+v", m)
			}
		}
	}
	if found != 1 {
		t.Errorf("the odd message's header was not kept as valid text: %+v", p)
	}
}

// A sender that leaves before its ACK: the transaction still commits and
// the message is in the inbox.
func TestSenderLeavesBeforeACK(t *testing.T) {
	st := openSQLite(t)
	in := &gatedInbox{Inbox: st, gate: make(chan struct{})}
	c, err := mllp.Dial(context.Background(), start(t, in, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(context.Background(), adt("EPIC", "GONE")); err != nil {
		t.Fatal(err)
	}
	for in.calls.Load() == 0 { // the commit has begun
		time.Sleep(5 * time.Millisecond)
	}
	c.Close()
	time.Sleep(50 * time.Millisecond)
	close(in.gate)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if p, _ := st.InboxPending(context.Background(), 10); len(p) == 1 && p[0].ControlID == "GONE" {
			return
		}
	}
	t.Fatal("the message of a sender that left is not in the inbox")
}

// Two facilities whose MSH-4 differ only in bytes that are not UTF-8
// (Latin-1 Ô and É), with the same MSH-3 and MSH-10: both are stored, on
// either engine, each under its own key; each sent again is recognised;
// a facility name of valid UTF-8 keeps its key as sent.
func TestInboxKeyKeepsOddBytesApart(t *testing.T) {
	srv := testsrv.Postgres(t)
	ctx := context.Background()
	pg, err := store.OpenPostgres(ctx, srv.DSN, store.PostgresOptions{Owner: "mllp-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	withFacility := func(fac string) []byte {
		return []byte(strings.Replace(string(adt("EPIC", "K1")), "|GOODHOSP|", "|"+fac+"|", 1))
	}
	for _, eng := range []struct {
		name string
		st   store.Inbox
	}{{"sqlite", openSQLite(t)}, {"postgres", pg}} {
		t.Run(eng.name, func(t *testing.T) {
			c := dial(t, start(t, eng.st, nil))
			facs := []string{"H\xd4P", "H\xc9P", "HÔP"}
			for range 2 {
				for _, fac := range facs {
					ack, err := c.Send(ctx, withFacility(fac))
					if code, id, text := mllp.ACKCode(ack); err != nil || code != hl7.AckAccept || id != "K1" {
						t.Fatalf("%q: %s %s %s %v", fac, code, id, text, err)
					}
				}
			}
			p, err := eng.st.InboxPending(ctx, 10)
			if err != nil || len(p) != 3 {
				t.Fatalf("%d stored, want 3: %v", len(p), err)
			}
			for i, want := range []string{`H\xD4P`, `H\xC9P`, "HÔP"} {
				if p[i].SendingFacility != want || string(p[i].Raw) != string(withFacility(facs[i])) {
					t.Errorf("message %d stored as %q %q", i, p[i].SendingFacility, p[i].Raw)
				}
			}
		})
	}
}
