package mllp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/hl7"
)

// adt is a real-shaped A01 with control ID id.
func adt(id string) []byte {
	return []byte("MSH|^~\\&|EPICADT|GOODHOSP|CALGW|PLAN|20260301120000||ADT^A01^ADT_A01|" + id + "|P|2.5.1\r" +
		"EVN|A01|20260301120000\rPID|1||91234567A^^^CA-DHCS^MC||DOE^JANE||19800101|F\r" +
		"PV1|1|I|4W^401^A^GOODHOSP||||1234567893^SMITH^ANN\r")
}

// memSink keeps messages in memory, in order. gate, when set, holds their
// done calls until closed.
type memSink struct {
	mu   sync.Mutex
	msgs []*Message
	gate chan struct{}
	err  error
}

func (s *memSink) Submit(ctx context.Context, m *Message, done func(error)) {
	store := func() {
		s.mu.Lock()
		if s.err == nil && ctx.Err() == nil {
			s.msgs = append(s.msgs, m)
		}
		s.mu.Unlock()
		done(s.err)
	}
	if s.gate == nil {
		store()
		return
	}
	go func() {
		<-s.gate // the store's work goes on after the sender left
		store()
	}()
}

func (s *memSink) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.msgs {
		out = append(out, m.Header.ControlID)
	}
	return out
}

// serve starts a server on 127.0.0.1 and returns its address.
func serve(t *testing.T, sink Sink, cfg Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewServer(sink, cfg).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ln.Addr().String()
}

func dialRaw(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

// wantACK reads the next ACK and checks MSA-1 and MSA-2.
func wantACK(t *testing.T, r *bufio.Reader, code, id string) string {
	t.Helper()
	ack, err := ReadFrame(r, 0)
	if err != nil {
		t.Fatalf("reading the ACK of %s: %v", id, err)
	}
	got, gotID, text := ACKCode(ack)
	if got != code || gotID != id {
		t.Fatalf("ACK %s %s (%s), want %s %s: %q", got, gotID, text, code, id, ack)
	}
	return text
}

func TestFrameReader(t *testing.T) {
	m1, m2 := adt("M1"), adt("M2")
	stream := append([]byte("noise\r\n"), AppendFrame(nil, m1)...)
	stream = append(stream, AppendFrame(nil, m2)...)
	// Every way of cutting the stream in two reads, and one byte per read.
	for cut := 0; cut <= len(stream); cut++ {
		r := frameReader{max: 1000}
		got := append(r.feed(stream[:cut]), r.feed(stream[cut:])...)
		if len(got) != 2 || !bytes.Equal(got[0].raw, m1) || !bytes.Equal(got[1].raw, m2) || got[0].over || got[1].over {
			t.Fatalf("cut at %d: %d frames", cut, len(got))
		}
	}
	r := frameReader{max: 1000}
	var got []frame
	for i := range stream {
		got = append(got, r.feed(stream[i:i+1])...)
	}
	if len(got) != 2 || !bytes.Equal(got[1].raw, m2) {
		t.Fatalf("byte by byte: %d frames", len(got))
	}

	// Limit boundaries: a frame of exactly max bytes passes, max+1 is over
	// and keeps its beginning; a frame cut by a new <VT> is dropped unless
	// it was over.
	for _, tc := range []struct {
		name  string
		in    []byte
		overs []bool
	}{
		{"at the limit", AppendFrame(nil, bytes.Repeat([]byte("x"), 10)), []bool{false}},
		{"one over", AppendFrame(nil, bytes.Repeat([]byte("x"), 11)), []bool{true}},
		{"cut short by VT", append([]byte{StartBlock, 'a', 'b'}, AppendFrame(nil, []byte("c"))...), []bool{false}},
		{"over, cut by VT", append(append([]byte{StartBlock}, bytes.Repeat([]byte("x"), 20)...), AppendFrame(nil, []byte("c"))...), []bool{true, false}},
	} {
		r := frameReader{max: 10}
		fs := r.feed(tc.in)
		var overs []bool
		for _, f := range fs {
			overs = append(overs, f.over)
		}
		if fmt.Sprint(overs) != fmt.Sprint(tc.overs) {
			t.Errorf("%s: overs %v, want %v", tc.name, overs, tc.overs)
		}
	}
}

// logBuffer is a log destination several goroutines may write.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A frame of normal size cut short by a new <VT> is dropped and logged
// with its size (never its content); the frame after it is answered.
func TestFrameCutShortIsLogged(t *testing.T) {
	var logs logBuffer
	sink := &memSink{}
	addr := serve(t, sink, Config{Log: slog.New(slog.NewTextHandler(&logs, nil))})
	c, r := dialRaw(t, addr)
	partial := "MSH|^~\\&|EPICADT|GOODHOSP"
	c.Write(append([]byte{StartBlock}, partial...))
	c.Write(AppendFrame(nil, adt("M2")))
	wantACK(t, r, hl7.AckAccept, "M2")
	if got := sink.ids(); len(got) != 1 || got[0] != "M2" {
		t.Errorf("stored %v, want M2 alone", got)
	}
	out := logs.String()
	if !strings.Contains(out, "partial message is dropped") || !strings.Contains(out, fmt.Sprintf("bytes=%d", len(partial))) {
		t.Errorf("log %q: want the dropped partial frame and its size", out)
	}
	if strings.Contains(out, "GOODHOSP") {
		t.Errorf("log %q holds the message's content", out)
	}
}

// An oversize frame keeps its first headKeep bytes (its MSH, for the AR's
// MSA-2), however the reads cut it: below and above headKeep as the limit.
func TestOversizeFrameKeepsItsBeginning(t *testing.T) {
	long := bytes.Repeat([]byte("y"), headKeep+100)
	for _, tc := range []struct {
		name    string
		max     int
		content []byte
		reads   []int
	}{
		{"limit 10, one read", 10, adt("M1"), []int{1 << 20}},
		{"limit 10, reads of 8 bytes", 10, adt("M1"), []int{8}},
		{"limit 10, one byte at a time", 10, adt("M1"), []int{1}},
		{"limit past headKeep, reads of 1000 bytes", headKeep + 10, long, []int{1000}},
		{"limit past headKeep, reads of 3000 then 7 bytes", headKeep + 10, long, []int{3000, 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := AppendFrame(nil, tc.content)
			r := frameReader{max: tc.max}
			var got []frame
			for i, k := 0, 0; i < len(in); k++ {
				n := min(len(in)-i, tc.reads[min(k, len(tc.reads)-1)])
				got = append(got, r.feed(in[i:i+n])...)
				i += n
			}
			want := tc.content[:min(len(tc.content), headKeep)]
			if len(got) != 1 || !got[0].over || !bytes.Equal(got[0].raw, want) {
				t.Fatalf("frames %d, first %q, want %q over", len(got), got[0].raw, want)
			}
			if tc.max == 10 {
				h, code, _ := NewServer(nil, Config{MaxFrameBytes: tc.max}).check(got[0], netip.Addr{})
				if code != hl7.AckReject || h.ControlID != "M1" {
					t.Errorf("answer %s to MSH-10 %q, want AR to M1", code, h.ControlID)
				}
			}
		})
	}
}

// Partial frames, two messages in one write, a frame split across writes,
// bytes between frames: each message is stored and answered in order.
func TestPartialAndCoalescedFrames(t *testing.T) {
	sink := &memSink{}
	addr := serve(t, sink, Config{})
	c, r := dialRaw(t, addr)
	f1, f2, f3 := AppendFrame(nil, adt("M1")), AppendFrame(nil, adt("M2")), AppendFrame(nil, adt("M3"))
	// M1 in three writes with pauses (the server sees partial frames).
	for _, part := range [][]byte{f1[:1], f1[1:40], f1[40:]} {
		c.Write(part)
		time.Sleep(20 * time.Millisecond)
	}
	wantACK(t, r, hl7.AckAccept, "M1")
	// M2 and M3 in one write, with a stray newline between them.
	c.Write(append(append(append([]byte{}, f2...), '\n'), f3...))
	wantACK(t, r, hl7.AckAccept, "M2")
	wantACK(t, r, hl7.AckAccept, "M3")
	if got := strings.Join(sink.ids(), ","); got != "M1,M2,M3" {
		t.Errorf("stored %s", got)
	}
	if !bytes.Equal(sink.msgs[0].Raw, adt("M1")) {
		t.Errorf("raw bytes changed: %q", sink.msgs[0].Raw)
	}
}

// An oversize frame is answered AR (with its MSH-10, read from its
// beginning), not stored, and the next frame on the connection is served;
// also when the oversize frame never ends and the next <VT> comes.
func TestOversizeFrame(t *testing.T) {
	sink := &memSink{}
	addr := serve(t, sink, Config{MaxFrameBytes: 1000})
	c, r := dialRaw(t, addr)
	big := append(adt("BIG1"), bytes.Repeat([]byte("NTE|1||padding\r"), 200)...)
	c.Write(AppendFrame(nil, big))
	c.Write(AppendFrame(nil, adt("OK1")))
	if text := wantACK(t, r, hl7.AckReject, "BIG1"); !strings.Contains(text, "larger than 1000 bytes") {
		t.Errorf("reason %q", text)
	}
	wantACK(t, r, hl7.AckAccept, "OK1")
	unended := append([]byte{StartBlock}, append(adt("BIG2"), bytes.Repeat([]byte("x"), 5000)...)...)
	c.Write(unended)
	c.Write(AppendFrame(nil, adt("OK2")))
	wantACK(t, r, hl7.AckReject, "BIG2")
	wantACK(t, r, hl7.AckAccept, "OK2")
	if got := strings.Join(sink.ids(), ","); got != "OK1,OK2" {
		t.Errorf("stored %s", got)
	}
}

// A sender that sends and goes away before its ACK: the message is stored
// all the same.
func TestDisconnectBeforeACK(t *testing.T) {
	sink := &memSink{gate: make(chan struct{})}
	addr := serve(t, sink, Config{})
	c, _ := dialRaw(t, addr)
	c.Write(AppendFrame(nil, adt("GONE")))
	time.Sleep(50 * time.Millisecond)
	c.Close()
	time.Sleep(50 * time.Millisecond)
	close(sink.gate)
	deadline := time.Now().Add(5 * time.Second)
	for len(sink.ids()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := sink.ids(); len(got) != 1 || got[0] != "GONE" {
		t.Fatalf("stored %v", got)
	}
}

// Shutdown while the reader waits for an in-flight slot (MaxInFlight 1,
// the store held) and the sender goes on sending: Serve returns promptly;
// the messages read before the stop are answered AA once stored and not
// before; nothing sent after the stop is read, stored or answered.
func TestShutdownStopsBusySender(t *testing.T) {
	sink := &memSink{gate: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(sink, Config{MaxInFlight: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	type ack struct{ code, id string }
	var mu sync.Mutex
	var acks []ack
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		r := bufio.NewReader(c)
		for {
			f, err := ReadFrame(r, 0)
			if err != nil {
				return
			}
			code, id, _ := ACKCode(f)
			mu.Lock()
			acks = append(acks, ack{code, id})
			mu.Unlock()
		}
	}()
	nACKs := func() int { mu.Lock(); defer mu.Unlock(); return len(acks) }

	// A1 is with the writer, A2 in the queue, A3 read and waiting for a slot.
	var before []byte
	for _, id := range []string{"A1", "A2", "A3"} {
		before = AppendFrame(before, adt(id))
	}
	c.Write(before)
	time.Sleep(200 * time.Millisecond)
	cancel()
	for deadline := time.Now().Add(5 * time.Second); srv.stopped.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server did not stop")
		}
	}
	// The sender goes on sending after the stop.
	quit := make(chan struct{})
	senderDone := make(chan int)
	go func() {
		n := 0
		defer func() { senderDone <- n }()
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if _, err := c.Write(AppendFrame(nil, adt(fmt.Sprintf("B%d", i)))); err != nil {
				return
			}
			n++
		}
	}()
	time.Sleep(100 * time.Millisecond)
	if n := nACKs(); n != 0 {
		t.Fatalf("%d ACKs before the store committed", n)
	}
	close(sink.gate)
	start := time.Now()
	select {
	case err := <-served:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(3 * time.Second):
		t.Errorf("Serve has not returned 3 s after the store was released, the sender still sending")
		c.Close()
		<-served
	}
	took := time.Since(start)
	close(quit)
	sent := <-senderDone
	<-readerDone
	if sent == 0 {
		t.Error("the sender sent nothing after the stop; the test proves nothing")
	}
	t.Logf("Serve returned %v after the store was released; %d messages sent after the stop", took, sent)

	// A1 and A2 were read and submitted before the stop; A3 was read too
	// (one write), so it is answered once stored. Nothing else.
	var got []string
	for _, a := range acks {
		if a.code != hl7.AckAccept {
			t.Errorf("ACK %s %s", a.code, a.id)
		}
		got = append(got, a.id)
	}
	if strings.Join(got, ",") != "A1,A2,A3" {
		t.Errorf("ACKs %v, want A1,A2,A3", got)
	}
	stored := sink.ids() // the held store completes them in any order
	sort.Strings(stored)
	if ids := strings.Join(stored, ","); ids != "A1,A2,A3" {
		t.Errorf("stored %s, want A1,A2,A3", ids)
	}
}

func TestIdleTimeout(t *testing.T) {
	addr := serve(t, &memSink{}, Config{IdleTimeout: 150 * time.Millisecond})
	c, r := dialRaw(t, addr)
	c.Write(AppendFrame(nil, adt("M1")))
	wantACK(t, r, hl7.AckAccept, "M1")
	start := time.Now()
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("want the server to close the idle connection, got %v", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 3*time.Second {
		t.Errorf("closed after %v, want about 150ms", d)
	}
}

// Many connections at once, each sending in turn and some pipelining.
func TestManyConnections(t *testing.T) {
	sink := &memSink{}
	addr := serve(t, sink, Config{})
	const conns, each = 40, 25
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cl, err := Dial(ctx, addr, nil)
			if err != nil {
				errs <- err
				return
			}
			defer cl.Close()
			if i%2 == 0 { // pipelined: all frames, then all ACKs
				for j := range each {
					if err := cl.Write(ctx, adt(fmt.Sprintf("C%d-%d", i, j))); err != nil {
						errs <- err
						return
					}
				}
			}
			for j := range each {
				id := fmt.Sprintf("C%d-%d", i, j)
				var ack []byte
				if i%2 == 0 {
					ack, err = cl.ReadACK(ctx)
				} else {
					ack, err = cl.Send(ctx, adt(id))
				}
				if code, got, _ := ACKCode(ack); err != nil || code != hl7.AckAccept || got != id {
					errs <- fmt.Errorf("%s: %s %s %v", id, code, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(sink.ids()); n != conns*each {
		t.Errorf("stored %d, want %d", n, conns*each)
	}
}

// Each refusal: its code, its reason, and nothing stored.
func TestAnswers(t *testing.T) {
	msg := func(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r")) }
	tests := []struct {
		name   string
		msg    []byte
		sink   error
		allow  AllowList
		code   string
		id     string
		reason string
	}{
		{"accepted", adt("A1"), nil, nil, hl7.AckAccept, "A1", ""},
		{"no MSH", msg("PID|1||X\n"), nil, nil, hl7.AckReject, "", "MSH"},
		{"MSH ends before MSH-1", msg("MSH\n0000"), nil, nil, hl7.AckReject, "", "MSH-1"},
		{"no control ID", msg("MSH|^~\\&|A|B|C|D|2026||ADT^A01||P|2.5\n"), nil, nil, hl7.AckReject, "", "MSH-10"},
		{"version", msg("MSH|^~\\&|A|B|C|D|2026||ADT^A01|V1|P|2.2\nPID|1\n"), nil, nil, hl7.AckReject, "V1", "MSH-12"},
		{"not ADT", msg("MSH|^~\\&|A|B|C|D|2026||ORU^R01|O1|P|2.5\nPID|1\n"), nil, nil, hl7.AckReject, "O1", "MSH-9"},
		{"bad segment", msg("MSH|^~\\&|A|B|C|D|2026||ADT^A01|S1|P|2.5\nPID|1\nthis is not a segment\n"), nil, nil, hl7.AckError, "S1", "segment 3"},
		{"trailing blank lines", append(adt("T1"), "\r\n\r\n"...), nil, nil, hl7.AckAccept, "T1", ""},
		// MLLP carries one message per frame: a second message, or batch
		// segments, refuse the whole frame (nothing of it stored).
		{"two messages in one frame", append(adt("M1"), adt("M2")...), nil, nil, hl7.AckReject, "M1", "more than one message (segment 5 is MSH)"},
		{"second message, other delimiters", append(adt("M1"), msg("MSH#^~\\&#A#B#C#D#2026##ADT^A01#M2#P#2.5\nPID#1\n")...), nil, nil, hl7.AckReject, "M1", "segment 5 is MSH"},
		{"second message after LF", append(adt("M1")[:len(adt("M1"))-1], "\n"+string(adt("M2"))...), nil, nil, hl7.AckReject, "M1", "segment 5 is MSH"},
		{"batch trailer", append(adt("B1"), "BTS|1\r"...), nil, nil, hl7.AckReject, "B1", "segment 5 is BTS"},
		{"batch header", append(adt("B2"), "BHS|^~\\&\r"...), nil, nil, hl7.AckReject, "B2", "segment 5 is BHS"},
		{"segment named like MSH", append(adt("Z1"), "MSHA|1\r"...), nil, nil, hl7.AckError, "Z1", "segment 5"},
		{"sink refuses AE", adt("R1"), &Refusal{Code: hl7.AckError, Reason: "PID-3 has no identifier"}, nil, hl7.AckError, "R1", "PID-3"},
		{"sink fails", adt("F1"), errors.New("disk full"), nil, hl7.AckReject, "F1", "not stored"},
		{"allowed application", adt("L1"), nil, AllowList{{From: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, SendingApplication: "EPICADT"}}, hl7.AckAccept, "L1", ""},
		{"application not allowed", adt("L2"), nil, AllowList{{SendingApplication: "OTHER"}}, hl7.AckReject, "L2", "not allowed"},
		{"facility not allowed", adt("L3"), nil, AllowList{{SendingApplication: "EPICADT", SendingFacility: "OTHERHOSP"}, {From: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}, hl7.AckReject, "L3", "not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := &memSink{err: tc.sink}
			addr := serve(t, sink, Config{Allow: tc.allow})
			c, r := dialRaw(t, addr)
			c.Write(AppendFrame(nil, tc.msg))
			text := wantACK(t, r, tc.code, tc.id)
			if !strings.Contains(text, tc.reason) {
				t.Errorf("reason %q, want it to name %q", text, tc.reason)
			}
			if n := len(sink.ids()); (n == 1) != (tc.code == hl7.AckAccept) {
				t.Errorf("%d stored", n)
			}
		})
	}
}

// A connection from an address no rule admits is closed before anything is read.
func TestAllowListAddress(t *testing.T) {
	sink := &memSink{}
	addr := serve(t, sink, Config{Allow: AllowList{{From: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}})
	c, r := dialRaw(t, addr)
	c.Write(AppendFrame(nil, adt("X1")))
	if _, err := ReadFrame(r, 0); err == nil {
		t.Fatal("an ACK to a refused address")
	}
	if len(sink.ids()) != 0 {
		t.Fatal("stored from a refused address")
	}
	for _, s := range []string{"10.1.2.3", "10.0.0.0/8", "::1"} {
		if _, err := ParsePrefix(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParsePrefix("10.0.0/8"); err == nil {
		t.Error("bad prefix accepted")
	}
	// A peer's address is compared unmapped; a rule written in IPv4-mapped
	// form admits the IPv4 peers it names, and no others.
	for _, tt := range []struct {
		rule, peer string
		admits     bool
	}{
		{"::ffff:10.1.0.0/112", "10.1.2.3", true},
		{"::ffff:10.1.0.0/112", "10.2.0.1", false},
		{"::ffff:10.1.2.3", "10.1.2.3", true},
		{"::ffff:10.1.2.3/128", "10.1.2.3", true},
		{"::ffff:10.1.2.3/128", "10.1.2.4", false},
		{"10.1.0.0/16", "10.1.2.3", true},
		{"::1/128", "10.1.2.3", false},
	} {
		p, err := ParsePrefix(tt.rule)
		if err != nil {
			t.Fatal(err)
		}
		if got := (AllowList{{From: []netip.Prefix{p}}}).AdmitsAddr(netip.MustParseAddr(tt.peer)); got != tt.admits {
			t.Errorf("rule %s, peer %s: admitted %v, want %v", tt.rule, tt.peer, got, tt.admits)
		}
	}
}

// pki writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, each signed by the CA, as PEM files in dir.
func pki(t *testing.T, dir string) {
	t.Helper()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	write("ca.pem", "CERTIFICATE", caDER)
	for i, name := range []string{"server", "client"} {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalECPrivateKey(key)
		write(name+".pem", "CERTIFICATE", der)
		write(name+"-key.pem", "EC PRIVATE KEY", kb)
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	pki(t, dir)
	p := func(n string) string { return filepath.Join(dir, n) }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	send := func(addr string, cfg *tls.Config) error {
		cl, err := Dial(ctx, addr, cfg)
		if err != nil {
			return err
		}
		defer cl.Close()
		ack, err := cl.Send(ctx, adt("T1"))
		if code, _, _ := ACKCode(ack); err == nil && code != hl7.AckAccept {
			err = fmt.Errorf("ACK %s", code)
		}
		return err
	}
	withCert, err := ClientTLS(p("ca.pem"), "127.0.0.1", p("client.pem"), p("client-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	noCert, _ := ClientTLS(p("ca.pem"), "127.0.0.1", "", "")

	t.Run("server certificate only", func(t *testing.T) {
		cfg, err := ServerTLS(p("server.pem"), p("server-key.pem"), "")
		if err != nil {
			t.Fatal(err)
		}
		sink := &memSink{}
		addr := serve(t, sink, Config{TLS: cfg})
		if err := send(addr, noCert); err != nil {
			t.Fatal(err)
		}
		// A client that does not trust the server's CA does not connect.
		if err := send(addr, &tls.Config{ServerName: "127.0.0.1"}); err == nil {
			t.Error("a client without the CA connected")
		}
		// Plain MLLP on a TLS port gets no ACK.
		c, r := dialRaw(t, addr)
		c.Write(AppendFrame(nil, adt("PLAIN")))
		if ack, err := ReadFrame(r, 0); err == nil {
			t.Errorf("plain text answered: %q", ack)
		}
		if got := sink.ids(); len(got) != 1 || got[0] != "T1" {
			t.Errorf("stored %v", got)
		}
	})
	t.Run("client certificates verified", func(t *testing.T) {
		cfg, err := ServerTLS(p("server.pem"), p("server-key.pem"), p("ca.pem"))
		if err != nil {
			t.Fatal(err)
		}
		sink := &memSink{}
		addr := serve(t, sink, Config{TLS: cfg})
		if err := send(addr, withCert); err != nil {
			t.Fatal(err)
		}
		if err := send(addr, noCert); err == nil {
			t.Error("a client without a certificate was served")
		}
		if len(sink.ids()) != 1 {
			t.Errorf("stored %v", sink.ids())
		}
	})
	if _, err := ServerTLS(p("server.pem"), p("missing.pem"), ""); err == nil {
		t.Error("missing key accepted")
	}
	if _, err := ServerTLS(p("server.pem"), p("server-key.pem"), p("server-key.pem")); err == nil {
		t.Error("a CA file without certificates accepted")
	}
}

// A server that lists processing IDs answers AR, storing nothing, to a
// message whose MSH-11.1 is not one of them; one listing none takes any.
func TestProcessingIDs(t *testing.T) {
	withID := func(ctl, id string) []byte {
		return bytes.Replace(adt(ctl), []byte("|"+ctl+"|P|"), []byte("|"+ctl+"|"+id+"|"), 1)
	}
	for _, tt := range []struct {
		ids   []string
		msg   []byte
		code  string
		ctlID string
	}{
		{[]string{"P"}, adt("P1"), hl7.AckAccept, "P1"},
		{[]string{"P"}, withID("T1", "T"), hl7.AckReject, "T1"},
		{[]string{"P"}, withID("D1", "D"), hl7.AckReject, "D1"},
		{[]string{"P", "T"}, withID("T2", "T"), hl7.AckAccept, "T2"},
		{nil, withID("T3", "T"), hl7.AckAccept, "T3"},
	} {
		sink := &memSink{}
		addr := serve(t, sink, Config{ProcessingIDs: tt.ids})
		c, r := dialRaw(t, addr)
		c.Write(AppendFrame(nil, tt.msg))
		text := wantACK(t, r, tt.code, tt.ctlID)
		if tt.code == hl7.AckReject && !strings.Contains(text, "MSH-11 processing ID") {
			t.Errorf("%s: reason %q, want it to name MSH-11", tt.ctlID, text)
		}
		if n := len(sink.ids()); (n == 1) != (tt.code == hl7.AckAccept) {
			t.Errorf("%s: %d stored", tt.ctlID, n)
		}
	}
}
