// Command mllpload measures `calgw mllp` on loopback: senders each keep a
// window of ADT messages in flight over MLLP and check every ACK (AA, MSA-2
// the message's MSH-10); each message is acknowledged only after the
// transaction holding it committed (SQLite, synchronous FULL). Each figure
// is reported next to a baseline measured in the same run: a raw TCP echo
// server (this command with -echo) that returns each frame as it came,
// under the same senders and windows. Peak RSS of both servers comes from
// /usr/bin/time -v.
//
//	go run ./internal/tools/mllpload -calgw bin/calgw
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/calaim-gateway/calaim-gateway/transport/mllp"
)

func main() {
	calgw := flag.String("calgw", "bin/calgw", "calgw binary to measure")
	dir := flag.String("dir", "bench-out/mllp", "state directory (emptied first)")
	senders := flag.Int("senders", 8, "concurrent senders of the first figure")
	each := flag.Int("messages", 10000, "messages per sender")
	window := flag.Int("window", 32, "messages each sender keeps in flight")
	echo := flag.Bool("echo", false, "internal: run the baseline echo server")
	flag.Parse()
	if *echo {
		echoServer()
		return
	}
	if err := run(*calgw, *dir, *senders, *each, *window); err != nil {
		log.Fatal(err)
	}
}

type figure struct {
	name            string
	senders, n, win int
	target          float64
	calgw, baseline float64 // messages per second
}

func run(calgw, dir string, senders, each, window int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	figs := []*figure{
		{name: fmt.Sprintf("%d senders, window %d", senders, window), senders: senders, n: each, win: window, target: 10000},
		{name: fmt.Sprintf("1 sender, window %d", window), senders: 1, n: each, win: window, target: 1000},
		{name: "1 sender, stop-and-wait (window 1)", senders: 1, n: min(each, 2000), win: 1},
	}
	srv, err := startServer(calgw, "--state", dir, "mllp", "--listen", "127.0.0.1:0")
	if err != nil {
		return err
	}
	echoSrv, err := startServer(self, "-echo")
	if err != nil {
		srv.stop()
		return err
	}
	for i, f := range figs {
		// Interleaved: calgw, then the baseline, for each figure.
		if f.calgw, err = load(srv.addr, fmt.Sprintf("R%d", i), f.senders, f.n, f.win, true); err != nil {
			return fmt.Errorf("calgw, %s: %w", f.name, err)
		}
		if f.baseline, err = load(echoSrv.addr, fmt.Sprintf("E%d", i), f.senders, f.n, f.win, false); err != nil {
			return fmt.Errorf("echo, %s: %w", f.name, err)
		}
	}
	rss, err := srv.stop()
	if err != nil {
		return err
	}
	echoRSS, err := echoSrv.stop()
	if err != nil {
		return err
	}
	// Every message acknowledged is in the inbox.
	st, err := store.OpenSQLite(context.Background(), dir)
	if err != nil {
		return err
	}
	stored, err := st.InboxPending(context.Background(), 1<<30)
	st.Close()
	if err != nil {
		return err
	}
	want := 0
	for _, f := range figs {
		want += f.senders * f.n
	}
	if len(stored) != want {
		return fmt.Errorf("%d messages acknowledged AA, %d in the inbox", want, len(stored))
	}
	fmt.Printf("MLLP on loopback, ACK after durable write (SQLite, synchronous FULL, group commit), %d messages per sender:\n", each)
	for _, f := range figs {
		verdict := ""
		if f.target > 0 {
			verdict = fmt.Sprintf("  target >= %.0f/s: %s", f.target, map[bool]string{true: "met", false: "NOT MET"}[f.calgw >= f.target])
		}
		fmt.Printf("  %-38s calgw %8.0f msg/s   echo baseline %8.0f msg/s   ratio %.3f%s\n", f.name, f.calgw, f.baseline, f.calgw/f.baseline, verdict)
	}
	fmt.Printf("  all %d messages acknowledged AA are in the inbox\n", want)
	fmt.Printf("  peak RSS: calgw mllp %.1f MiB, echo baseline %.1f MiB (ratio %.1f)\n", float64(rss)/1024, float64(echoRSS)/1024, float64(rss)/float64(echoRSS))
	return nil
}

// adt is a real-shaped A01 of about 600 bytes.
func adt(id string, n int) []byte {
	return fmt.Appendf(nil, "MSH|^~\\&|EPICADT|GOODHOSP|CALGW|PLAN|20260301120000||ADT^A01^ADT_A01|%s|P|2.5.1\r"+
		"EVN|A01|20260301120000\r"+
		"PID|1||9%07dA^^^CA-DHCS^MC~%d^^^GOODHOSP^MR||RIVERA^ANA^M||19780412|F|||1200 MISSION ST^^SAN FRANCISCO^CA^94103||^PRN^PH^^^415^5550100\r"+
		"PV1|1|I|4W^401^A^GOODHOSP||||1234567893^SMITH^ANN^^^^MD|||MED||||7|||1234567893^SMITH^ANN^^^^MD|IP|V%d|||||||||||||||||||||||||20260301115500\r"+
		"DG1|1||I50.9^Heart failure, unspecified^I10|||A\r"+
		"ZPV|1|LOCALDATA\r", id, n%10000000, n, n)
}

// load runs senders, each sending n messages with a window in flight, and
// returns messages per second. With check, every ACK must be AA for its
// message; else each answer must be the frame sent (echo).
func load(addr, prefix string, senders, n, window int, check bool) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	errs := make(chan error, senders)
	var wg sync.WaitGroup
	var ready, startAll sync.WaitGroup
	startAll.Add(1)
	for s := range senders {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			c, err := mllp.Dial(ctx, addr, nil)
			ready.Done()
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			startAll.Wait()
			id := func(i int) string { return fmt.Sprintf("%s-%d-%d", prefix, s, i) }
			sent := 0
			for got := 0; got < n; got++ {
				for sent < n && sent-got < window {
					if err := c.Write(ctx, adt(id(sent), sent)); err != nil {
						errs <- err
						return
					}
					sent++
				}
				ack, err := c.ReadACK(ctx)
				if err != nil {
					errs <- err
					return
				}
				if check {
					if code, ctl, text := mllp.ACKCode(ack); code != "AA" || ctl != id(got) {
						errs <- fmt.Errorf("message %s: ACK %s %s %s", id(got), code, ctl, text)
						return
					}
				} else if !bytes.Equal(ack, adt(id(got), got)) {
					errs <- fmt.Errorf("echo of %s differs", id(got))
					return
				}
			}
		}()
	}
	ready.Wait()
	start := time.Now()
	startAll.Done()
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(senders*n) / elapsed.Seconds(), nil
}

// server is a process started under /usr/bin/time -v that printed
// "listening on ADDR".
type server struct {
	cmd    *exec.Cmd
	addr   string
	stderr *bytes.Buffer
}

func startServer(name string, args ...string) (*server, error) {
	cmd := exec.Command("/usr/bin/time", append([]string{"-v", name}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("%s printed %q (%v): %s", name, line, err, stderr.String())
	}
	go io.Copy(io.Discard, out)
	return &server{cmd: cmd, addr: addr, stderr: &stderr}, nil
}

var reRSS = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)

// stop sends SIGTERM to the server (the child of /usr/bin/time, which does
// not pass signals on) and returns its peak RSS in KiB.
func (s *server) stop() (int64, error) {
	kids, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(s.cmd.Process.Pid), "task", strconv.Itoa(s.cmd.Process.Pid), "children"))
	if err != nil {
		return 0, err
	}
	for _, f := range strings.Fields(string(kids)) {
		if pid, err := strconv.Atoi(f); err == nil {
			syscall.Kill(pid, syscall.SIGTERM)
		}
	}
	if err := s.cmd.Wait(); err != nil {
		return 0, fmt.Errorf("%v: %s", err, s.stderr.String())
	}
	m := reRSS.FindStringSubmatch(s.stderr.String())
	if m == nil {
		return 0, errors.New("no RSS in /usr/bin/time's report")
	}
	return strconv.ParseInt(m[1], 10, 64)
}

// echoServer returns every frame as it came, until SIGTERM.
func echoServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReaderSize(c, 64<<10)
				w := bufio.NewWriterSize(c, 64<<10)
				for {
					f, err := mllp.ReadFrame(r, 0)
					if err != nil {
						return
					}
					w.Write(mllp.AppendFrame(nil, f))
					if r.Buffered() == 0 { // flush when no further frame is waiting, as a server answering in order would
						if w.Flush() != nil {
							return
						}
					}
				}
			}()
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	ln.Close()
}
