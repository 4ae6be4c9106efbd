package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/calaim-gateway/calaim-gateway/transport/mllp"
)

// startMLLP starts the built calgw mllp on 127.0.0.1 and returns it and
// the address it printed.
func startMLLP(t *testing.T, bin, state string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "--state", state, "mllp", "--listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("calgw mllp printed %q, %v", line, err)
	}
	return cmd, addr
}

// kill -9 of `calgw mllp` while four senders keep sending: every message
// that got an AA is in the inbox afterwards (the ACK followed the commit).
// A restarted listener takes messages again; SIGTERM is a clean stop (0).
func TestMLLPKill9UnderLoad(t *testing.T) {
	bin := buildCalgw(t)
	state := t.TempDir()
	cmd, addr := startMLLP(t, bin, state)

	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for s := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, err := mllp.Dial(ctx, addr, nil)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			// A window of 16 messages in flight, until the listener dies.
			sent, next := 0, 0
			for {
				for sent-next < 16 {
					if c.Write(ctx, adtMessage(s, sent)) != nil {
						return
					}
					sent++
				}
				ack, err := c.ReadACK(ctx)
				if err != nil {
					return
				}
				code, id, _ := mllp.ACKCode(ack)
				if want := fmt.Sprintf("S%d-%d", s, next); code != "AA" || id != want {
					t.Errorf("ACK %s %s, want AA %s", code, id, want)
					return
				}
				mu.Lock()
				acked[id] = true
				mu.Unlock()
				next++
			}
		}()
	}
	for {
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 400 {
			break
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	wg.Wait()

	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, state)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	p, err := st.InboxPending(ctx, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range p {
		stored[m.ControlID] = true
	}
	// The listener also turns the inbox into ADT events as it goes; these
	// members are not enrolled, so a processed message is an exception.
	exc, err := st.ADTExceptions(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exc {
		stored[e.ControlID] = true
	}
	lost := 0
	for id := range acked {
		if !stored[id] {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged messages are not in the inbox", lost, len(acked))
	}
	t.Logf("%d acknowledged, %d stored (stored and not acknowledged: the sender sends them again)", len(acked), len(p))
	st.Close()

	cmd, addr = startMLLP(t, bin, state)
	c, err := mllp.Dial(ctx, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := c.Send(ctx, adtMessage(9, 0))
	if code, _, _ := mllp.ACKCode(ack); err != nil || code != "AA" {
		t.Fatalf("after the restart: %q %v", ack, err)
	}
	// A training message (MSH-11 T): the default adt.processing_ids take P alone.
	ack, err = c.Send(ctx, bytes.Replace(adtMessage(9, 1), []byte("|P|2.5.1"), []byte("|T|2.5.1"), 1))
	if code, _, text := mllp.ACKCode(ack); err != nil || code != "AR" || !strings.Contains(text, "MSH-11") {
		t.Fatalf("training message: %q %v, want AR naming MSH-11", ack, err)
	}
	c.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(t, cmd, 10*time.Second); code != 0 {
		t.Errorf("SIGTERM: exit %d, want 0", code)
	}
}

func adtMessage(sender, n int) []byte {
	return []byte(fmt.Sprintf("MSH|^~\\&|S%d|GOODHOSP|CALGW|PLAN|20260301120000||ADT^A01^ADT_A01|S%d-%d|P|2.5.1\r"+
		"EVN|A01|20260301120000\rPID|1||9%07dA^^^CA-DHCS^MC||DOE^JANE||19800101|F\rPV1|1|E|ED^1^1^GOODHOSP\r", sender, sender, n, n))
}

// freePort returns a 127.0.0.1 address free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// calgw run starts the mllp: listener of its configuration; its ACK latency
// histogram is on /metrics; the message is in the inbox.
func TestRunStartsMLLP(t *testing.T) {
	dir := t.TempDir()
	mllpAddr, httpAddr := freePort(t), freePort(t)
	cfg := writeRunConfig(t, fmt.Sprintf(`
schedules: {poll_interval: 50ms}
http: {listen: %[2]q}
mllp: {listen: %[3]q, max_frame_bytes: 4096, idle_timeout: 30s, allow: [{from: [127.0.0.1/32], sending_application: S1}]}
sources:
  inbox: {transport: {type: local, local: {dir: %[1]q}}, folder: inbox}
destinations:
  dhcs: {transport: {type: local, local: {dir: %[1]q}}, folder: outbox}
  responses: {transport: {type: local, local: {dir: %[1]q}}, folder: outbox}
`, dir, httpAddr, mllpAddr))
	mkdir(t, filepath.Join(dir, "inbox"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs syncBuffer
	done := make(chan int, 1)
	state := filepath.Join(dir, "state")
	go func() { done <- run(ctx, []string{"--state", state, "run", "--config", cfg}, &out, &errs) }()
	var c *mllp.Client
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		if c, err = mllp.Dial(ctx, mllpAddr, nil); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no MLLP listener: %v; log:\n%s", err, errs.String())
		}
	}
	for i, want := range []string{"AA", "AR"} { // S1 is allowed, S2 is not
		ack, err := c.Send(ctx, adtMessage(i+1, 0))
		if code, _, _ := mllp.ACKCode(ack); err != nil || code != want {
			t.Fatalf("sender S%d: %q %v, want %s", i+1, ack, err, want)
		}
	}
	// A training message (MSH-11 T) of an allowed sender: the default
	// adt.processing_ids take P alone.
	ack, err := c.Send(ctx, bytes.Replace(adtMessage(1, 1), []byte("|P|2.5.1"), []byte("|T|2.5.1"), 1))
	if code, _, text := mllp.ACKCode(ack); err != nil || code != "AR" || !strings.Contains(text, "MSH-11") {
		t.Fatalf("training message: %q %v, want AR naming MSH-11", ack, err)
	}
	c.Close()
	// The histogram observes an ACK once written: poll until both are counted.
	var body []byte
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + httpAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `calgw_mllp_ack_seconds_count{code="AA"} 1`) &&
			strings.Contains(string(body), `calgw_mllp_ack_seconds_count{code="AR"} 2`) || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []string{`calgw_mllp_ack_seconds_count{code="AA"} 1`, `calgw_mllp_ack_seconds_count{code="AR"} 2`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The daemon turns the inbox into ADT events in the background.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(errs.String(), "hl7 inbox processed"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the inbox was not processed; log:\n%s", errs.String())
		}
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d; log:\n%s", code, errs.String())
	}
	if strings.Contains(errs.String(), "GOODHOSP") || strings.Contains(errs.String(), "DOE") {
		t.Errorf("the log shows message content:\n%s", errs.String())
	}
	st, err := store.OpenSQLite(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if p, _ := st.InboxPending(context.Background(), 10); len(p) != 0 {
		t.Errorf("inbox still pending after the daemon processed it: %+v", p)
	}
	// The member is not enrolled: the message is kept as an ADT exception.
	exc, err := st.ADTExceptions(context.Background(), time.Time{})
	if err != nil || len(exc) != 1 || exc[0].ControlID != "S1-0" || exc[0].Source != "mllp-inbox" {
		t.Errorf("ADT exceptions %+v, %v", exc, err)
	}
}
