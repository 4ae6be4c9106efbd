package mllp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/hl7"
)

// Message is one message received, as the Sink gets it.
type Message struct {
	Raw      []byte     // the frame's content, without the framing bytes; the Sink may keep it
	Header   hl7.Header // its MSH, read and checked
	Remote   string     // the sender's address (host:port)
	Received time.Time  // when its frame ended
}

// Sink stores messages. Submit takes a message and calls done exactly
// once: with nil only once m is durably stored (an AA follows), or with
// the reason it was not. Submit is called from many connections at once;
// on one connection, in the order the messages came, and the Sink stores
// them in that order. Submit should not wait for the store: a connection
// keeps reading (up to Config.MaxInFlight messages) while its messages
// are being stored. An error that is a *Refusal is answered with its code
// and reason; any other error with AR (the sender should send the message
// again later).
type Sink interface {
	Submit(ctx context.Context, m *Message, done func(error))
}

// SinkFunc is a Sink storing each message with f, synchronously, in the
// caller's goroutine.
type SinkFunc func(ctx context.Context, m *Message) error

// Submit implements Sink.
func (f SinkFunc) Submit(ctx context.Context, m *Message, done func(error)) { done(f(ctx, m)) }

// Refusal is a Sink's answer other than AA: Code is hl7.AckError or
// hl7.AckReject, Reason goes to MSA-3 and ERR (no PHI).
type Refusal struct {
	Code, Reason string
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Reason }

// Config configures a Server.
type Config struct {
	// MaxFrameBytes is the largest message accepted; a larger frame is read
	// to its end and answered with AR. Default DefaultMaxFrameBytes.
	MaxFrameBytes int
	// IdleTimeout closes a connection on which nothing arrived for that
	// long (and bounds the time to write an ACK). Default DefaultIdleTimeout.
	IdleTimeout time.Duration
	// TLS, when set, serves TLS only (tls.Config.ClientAuth decides whether
	// client certificates are required and verified; see ServerTLS).
	TLS *tls.Config
	// Allow admits senders; empty admits everyone (see AllowList).
	Allow AllowList
	// ProcessingIDs are the MSH-11.1 processing IDs taken; a message with
	// another is answered AR. None takes any.
	ProcessingIDs []string
	// MaxInFlight bounds the messages of one connection stored but not yet
	// acknowledged (a sender may send several before reading ACKs). Default 64.
	MaxInFlight int
	// Observe, when set, is called once per ACK written with its code and
	// the time from the end of the message's frame to the ACK written.
	Observe func(code string, latency time.Duration)
	Log     *slog.Logger
}

// Defaults of Config.
const (
	DefaultMaxFrameBytes = 1 << 20
	DefaultIdleTimeout   = 5 * time.Minute
	defaultInFlight      = 64
)

// Versions are the HL7 versions accepted (MSH-12); another is answered AR.
var Versions = []string{"2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2"}

// Server serves MLLP connections. Make one with NewServer.
type Server struct {
	cfg  Config
	sink Sink
	log  *slog.Logger

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
	stopped atomic.Int64 // Unix nanoseconds of the shutdown; 0 while serving
}

// shutdownWrite is how long ACKs in hand may take to be written once the
// server stops (a sender that does not read them does not hold it up).
const shutdownWrite = 5 * time.Second

// NewServer returns a server handing messages to sink.
func NewServer(sink Sink, cfg Config) *Server {
	if cfg.MaxFrameBytes <= 0 {
		cfg.MaxFrameBytes = DefaultMaxFrameBytes
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = defaultInFlight
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, sink: sink, log: log, conns: map[net.Conn]struct{}{}}
}

// Serve accepts connections on ln until ctx ends, then stops reading,
// writes the ACKs of the messages in hand and returns once every
// connection is closed. It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.cfg.TLS != nil {
		ln = tls.NewListener(ln, s.cfg.TLS)
	}
	stop := context.AfterFunc(ctx, func() {
		s.stopped.Store(time.Now().UnixNano())
		ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.SetReadDeadline(time.Now()) // readers stop; writers finish the ACKs in hand
		}
		s.mu.Unlock()
	})
	defer stop()
	var err error
	var delay time.Duration
	for {
		c, aerr := ln.Accept()
		if aerr != nil {
			if ctx.Err() != nil {
				break
			}
			var ne net.Error
			if errors.As(aerr, &ne) && ne.Timeout() || errors.Is(aerr, syscall.EMFILE) || errors.Is(aerr, syscall.ENFILE) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("mllp: accept", "err", aerr, "retry_in", delay)
				time.Sleep(delay)
				continue
			}
			err = fmt.Errorf("mllp: accept: %w", aerr)
			break
		}
		delay = 0
		s.mu.Lock()
		if ctx.Err() != nil {
			s.mu.Unlock()
			c.Close()
			break
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(ctx, c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
	s.wg.Wait()
	return err
}

// pending is a message whose ACK is on its way.
type pending struct {
	done     chan struct{}
	ack      []byte
	code     string
	received time.Time
}

func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	remote := c.RemoteAddr().String()
	ip := remoteIP(c.RemoteAddr())
	if !s.cfg.Allow.AdmitsAddr(ip) {
		s.log.Warn("mllp: connection refused by the allow-list", "remote", remote)
		return
	}
	if tc, ok := c.(*tls.Conn); ok {
		c.SetDeadline(time.Now().Add(s.cfg.IdleTimeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			s.log.Warn("mllp: TLS handshake", "remote", remote, "err", err)
			return
		}
		c.SetDeadline(time.Time{})
	}
	s.log.Debug("mllp: connection", "remote", remote)

	queue := make(chan *pending, s.cfg.MaxInFlight)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.writeACKs(c, remote, queue)
	}()
	// Messages are stored even if the connection ends before their ACK:
	// their context does not end with the connection or the server.
	storeCtx := context.WithoutCancel(ctx)
	fr := frameReader{max: s.cfg.MaxFrameBytes}
	buf := make([]byte, 64<<10)
	for {
		c.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		// The stop stores s.stopped, then sets every connection's read
		// deadline to now: either this load sees the stop, or the stop's
		// deadline comes after ours and replaces it. So no read starts
		// after the stop, however long the reader was away from Read
		// (waiting for an in-flight slot): frames read before it are
		// answered once stored, the rest get no ACK.
		if s.stopped.Load() != 0 {
			s.log.Debug("mllp: server stopping; connection no longer read", "remote", remote)
			if fr.in {
				s.log.Warn("mllp: server stopped inside a frame; the partial message is dropped", "remote", remote, "bytes", fr.size)
			}
			break
		}
		n, err := c.Read(buf)
		frames := fr.feed(buf[:n])
		for _, size := range fr.cut {
			s.log.Warn("mllp: a new frame began before the frame's end; the partial message is dropped", "remote", remote, "bytes", size)
		}
		for _, f := range frames {
			p := &pending{done: make(chan struct{}), received: time.Now()}
			queue <- p
			s.answer(storeCtx, p, f, remote, ip)
		}
		if err != nil {
			var ne net.Error
			switch {
			case errors.Is(err, io.EOF):
				s.log.Debug("mllp: connection closed by the sender", "remote", remote)
			case ctx.Err() != nil:
			case errors.As(err, &ne) && ne.Timeout():
				s.log.Info("mllp: idle connection closed", "remote", remote, "idle", s.cfg.IdleTimeout)
			default:
				s.log.Warn("mllp: read", "remote", remote, "err", err)
			}
			if fr.in {
				s.log.Warn("mllp: connection ended inside a frame; the partial message is dropped", "remote", remote, "bytes", fr.size)
			}
			break
		}
	}
	close(queue)
	<-writerDone
}

// writeACKs writes the ACKs in the order the messages came.
func (s *Server) writeACKs(c net.Conn, remote string, queue <-chan *pending) {
	var out []byte
	broken := false
	for p := range queue {
		<-p.done
		if broken {
			continue
		}
		out = AppendFrame(out[:0], p.ack)
		deadline := time.Now().Add(s.cfg.IdleTimeout)
		if stop := s.stopped.Load(); stop != 0 {
			deadline = time.Unix(0, stop).Add(shutdownWrite)
		}
		c.SetWriteDeadline(deadline)
		if _, err := c.Write(out); err != nil {
			// The message was stored (or refused) all the same; the sender
			// will send it again and its duplicate is recognised.
			s.log.Warn("mllp: ACK not delivered", "remote", remote, "code", p.code, "err", err)
			broken = true
			continue
		}
		if s.cfg.Observe != nil {
			s.cfg.Observe(p.code, time.Since(p.received))
		}
	}
}

// frame is a complete frame read; over is set for a frame over the limit
// (raw then holds its first headKeep bytes only, for the header, whatever
// the reads' sizes).
type frame struct {
	raw  []byte
	over bool
}

// headKeep is how much of an oversize frame is kept to answer it.
const headKeep = 4096

// frameReader cuts a byte stream into frames, whatever the reads' sizes:
// bytes outside a frame are skipped; <VT> starts a frame (one already
// started is dropped, unless it was oversize: that one is answered AR);
// <FS> ends it (the <CR> after it is outside any frame and skipped).
type frameReader struct {
	max  int
	in   bool
	over bool
	size int
	cur  []byte
	// cut holds the sizes of the frames of normal size that the last feed
	// dropped because a <VT> came before their <FS>.
	cut []int
}

func (r *frameReader) feed(b []byte) []frame {
	var out []frame
	r.cut = r.cut[:0]
	for len(b) > 0 {
		if !r.in {
			i := indexByte(b, StartBlock)
			if i < 0 {
				return out
			}
			b = b[i+1:]
			r.in, r.over, r.size, r.cur = true, false, 0, nil
			continue
		}
		i := indexAny2(b, EndBlock, StartBlock)
		chunk := b
		if i >= 0 {
			chunk = b[:i]
		}
		r.size += len(chunk)
		if !r.over && r.size > r.max {
			r.over = true
			if len(r.cur) > headKeep {
				r.cur = slices.Clone(r.cur[:headKeep])
			}
		}
		if r.over {
			chunk = chunk[:min(len(chunk), headKeep-len(r.cur))]
		}
		r.cur = append(r.cur, chunk...)
		if i < 0 {
			return out
		}
		switch b[i] {
		case EndBlock:
			out = append(out, frame{raw: r.cur, over: r.over})
			r.in = false
			b = b[i+1:]
		case StartBlock:
			if r.over {
				out = append(out, frame{raw: r.cur, over: true})
			} else {
				r.cut = append(r.cut, r.size)
			}
			r.in, r.over, r.size, r.cur = true, false, 0, nil
			b = b[i+1:]
		}
	}
	return out
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func indexAny2(b []byte, c1, c2 byte) int {
	for i, x := range b {
		if x == c1 || x == c2 {
			return i
		}
	}
	return -1
}

// answer decides a message's ACK: checks of the frame and header, the
// allow-list, then the Sink. p.done is closed once the ACK is ready.
func (s *Server) answer(ctx context.Context, p *pending, f frame, remote string, ip netip.Addr) {
	h, code, reason := s.check(f, ip)
	finish := func(code, reason string) {
		if code != hl7.AckAccept {
			s.log.Warn("mllp: message refused", "remote", remote, "control_id", h.ControlID, "code", code, "reason", reason)
		}
		p.code = code
		p.ack = hl7.AppendACK(nil, h, code, reason, time.Now())
		close(p.done)
	}
	if code != hl7.AckAccept {
		finish(code, reason)
		return
	}
	m := &Message{Raw: f.raw, Header: h, Remote: remote, Received: p.received}
	s.sink.Submit(ctx, m, func(err error) {
		if err == nil {
			finish(hl7.AckAccept, "")
			return
		}
		var rf *Refusal
		if errors.As(err, &rf) {
			finish(rf.Code, rf.Reason)
			return
		}
		s.log.Error("mllp: message not stored", "remote", remote, "control_id", h.ControlID, "err", err)
		finish(hl7.AckReject, "message not stored (store unavailable); send it again later")
	})
}

// check is the server's own verdict on a frame, before the Sink: AR for a
// frame too large, an unreadable MSH, a sender the allow-list refuses, a
// version, processing ID or message type not taken, a frame holding more than one
// message (a second MSH, or batch or file segments); AE for a body that is
// not segments.
func (s *Server) check(f frame, ip netip.Addr) (hl7.Header, string, string) {
	h, err := hl7.ReadHeader(f.raw)
	if f.over {
		return h, hl7.AckReject, fmt.Sprintf("frame larger than %d bytes refused", s.cfg.MaxFrameBytes)
	}
	if err != nil {
		return h, hl7.AckReject, err.Error()
	}
	if !s.cfg.Allow.AdmitsMessage(ip, h.FirstComponent(h.SendingApplication), h.FirstComponent(h.SendingFacility)) {
		return h, hl7.AckReject, "sender (address, MSH-3, MSH-4) not allowed"
	}
	if !supported(h.Version) {
		return h, hl7.AckReject, fmt.Sprintf("MSH-12 version %q not supported (2.3 to 2.8)", h.Version)
	}
	if id := h.FirstComponent(h.ProcessingID); len(s.cfg.ProcessingIDs) > 0 && !slices.Contains(s.cfg.ProcessingIDs, id) {
		return h, hl7.AckReject, fmt.Sprintf("MSH-11 processing ID %q not taken (takes %s)", id, strings.Join(s.cfg.ProcessingIDs, ", "))
	}
	if mt := h.FirstComponent(h.Type); mt != "ADT" {
		return h, hl7.AckReject, fmt.Sprintf("MSH-9 message type %q not accepted (ADT only)", mt)
	}
	if seg, name := secondHeader(f.raw); seg != 0 {
		return h, hl7.AckReject, fmt.Sprintf("frame holds more than one message (segment %d is %s); one message per frame", seg, name)
	}
	if seg, why := badSegment(f.raw, h.Field); why != "" {
		return h, hl7.AckError, fmt.Sprintf("segment %d: %s", seg, why)
	}
	return h, hl7.AckAccept, ""
}

func supported(v string) bool {
	for _, s := range Versions {
		if v == s {
			return true
		}
	}
	return false
}

// secondHeader returns the first segment after the first (1-based, segments
// cut as badSegment cuts them) that starts a message, a batch or a file, or
// ends one (MSH, BHS, BTS, FHS, FTS), and its name; 0 when there is none.
// MLLP carries one message per frame: such a segment means the sender put
// several messages (or a batch) in one frame, which the listener refuses
// whole rather than acknowledge the first message only.
func secondHeader(raw []byte) (int, string) {
	n := 0
	for _, line := range strings.FieldsFunc(string(raw), func(r rune) bool { return r == '\r' || r == '\n' }) {
		n++
		if n == 1 || len(line) < 3 || len(line) > 3 && isAlnum(line[3]) {
			continue
		}
		switch name := line[:3]; name {
		case "MSH", "BHS", "BTS", "FHS", "FTS":
			return n, name
		}
	}
	return 0, ""
}

// badSegment checks that every segment (CR, LF or CRLF ends) starts with a
// three-character name of capital letters and digits followed by the field
// separator or the segment's end, and returns the first one that does not
// (1-based) with the reason.
func badSegment(raw []byte, fs byte) (int, string) {
	n := 0
	for _, line := range strings.FieldsFunc(string(raw), func(r rune) bool { return r == '\r' || r == '\n' }) {
		n++
		if len(line) < 3 || (len(line) > 3 && line[3] != fs) {
			return n, "not a segment (want a 3-character name and the field separator)"
		}
		for i := 0; i < 3; i++ {
			c := line[i]
			if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
				return n, "segment name is not 3 capital letters or digits"
			}
		}
	}
	return 0, ""
}

func isAlnum(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
}

func remoteIP(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(ta.IP)
		return ip.Unmap()
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
