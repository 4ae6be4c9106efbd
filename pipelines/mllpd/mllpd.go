// Package mllpd is the MLLP intake: an MLLP listener (transport/mllp) whose
// messages go to the store's HL7 inbox (store.Inbox) with group commit, each
// acknowledged only after the transaction holding it committed. `calgw
// mllp` runs it alone; `calgw run` starts it beside the daemon when the
// configuration has an `mllp:` section.
//
// The ADT pipeline reads the inbox (store.Inbox.InboxPending), and marks
// what it turned into events (InboxMarkProcessed).
package mllpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/calaim-gateway/calaim-gateway/transport/mllp"
)

// Options configure a Listener.
type Options struct {
	Config config.MLLPConfig // listen, tls, allow, max_frame_bytes, idle_timeout
	Inbox  store.Inbox
	Log    *slog.Logger
	// Registerer, when set, gets the ACK latency histogram
	// (calgw_mllp_ack_seconds).
	Registerer prometheus.Registerer
	// MaxBatch bounds the messages committed in one transaction (default 512).
	MaxBatch int
	// ProcessingIDs are the MSH-11 processing IDs taken (adt.processing_ids);
	// a message with another is answered AR. None takes any.
	ProcessingIDs []string
}

// Listener is a bound MLLP listener; Serve serves it.
type Listener struct {
	ln    net.Listener
	srv   *mllp.Server
	batch *Batcher
	log   *slog.Logger
	tls   bool
}

// ackBuckets span a group commit on a fast disk (a millisecond) to a slow
// store (seconds).
var ackBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// Listen checks the configuration, loads the TLS files and binds the
// listening address, so that mistakes show at start.
func Listen(o Options) (*Listener, error) {
	cfg := o.Config
	if cfg.Listen == "" {
		return nil, errors.New("mllp: no listen address")
	}
	if o.Inbox == nil {
		return nil, errors.New("mllp: the state store has no HL7 inbox")
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var tc *tls.Config
	if cfg.TLS.Cert != "" {
		var err error
		if tc, err = mllp.ServerTLS(cfg.TLS.Cert, cfg.TLS.Key, cfg.TLS.ClientCA); err != nil {
			return nil, err
		}
	}
	sc := mllp.Config{MaxFrameBytes: cfg.MaxFrameBytes, IdleTimeout: cfg.IdleTimeout, TLS: tc, Allow: cfg.AllowList(), ProcessingIDs: o.ProcessingIDs, Log: log}
	if o.Registerer != nil {
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "calgw_mllp_ack_seconds",
			Help:    "Time from the end of an MLLP message's frame to its ACK written (an AA only after the message's transaction committed), by MSA-1 code (AA, AE, AR).",
			Buckets: ackBuckets}, []string{"code"})
		if err := o.Registerer.Register(h); err != nil {
			return nil, fmt.Errorf("mllp: metrics: %w", err)
		}
		sc.Observe = func(code string, d time.Duration) { h.WithLabelValues(code).Observe(d.Seconds()) }
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("mllp: %w", err)
	}
	b := NewBatcher(o.Inbox, o.MaxBatch, log)
	return &Listener{ln: ln, srv: mllp.NewServer(b, sc), batch: b, log: log, tls: tc != nil}, nil
}

// Addr is the address listened on.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Close closes a listener that will not be served.
func (l *Listener) Close() error { return l.ln.Close() }

// Serve serves until ctx ends, then answers the messages in hand (their
// transactions finish) and returns.
func (l *Listener) Serve(ctx context.Context) error {
	bctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.batch.Run(bctx)
	}()
	l.log.Info("mllp listening", "addr", l.ln.Addr().String(), "tls", l.tls)
	err := l.srv.Serve(ctx, l.ln)
	stop()
	<-done
	return err
}

// Batcher is the mllp.Sink that writes messages to the inbox with group
// commit: one goroutine takes every message waiting (up to MaxBatch, in the
// order submitted) into one InboxAdd transaction, and completes them
// (their ACKs go out) once it committed. While one transaction commits the
// next batch gathers, so the rate grows with the senders while each
// message still waits for its own commit.
type Batcher struct {
	in    store.Inbox
	max   int
	queue chan item
	log   *slog.Logger
}

type item struct {
	m    store.InboxMessage
	done func(error)
}

// NewBatcher returns a Batcher over in; call Run.
func NewBatcher(in store.Inbox, maxBatch int, log *slog.Logger) *Batcher {
	if maxBatch <= 0 {
		maxBatch = 512
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Batcher{in: in, max: maxBatch, queue: make(chan item, 4*maxBatch), log: log}
}

// Submit implements mllp.Sink. It waits only while the queue is full.
//
// The inbox key (MSH-3 and MSH-4 first components, MSH-10) is written by
// domain.KeyText: valid text for a text column of either engine (so that
// one sender's odd bytes, Latin-1 in MSH-4, cannot fail the transaction it
// shares with other messages) that keeps different values apart (so that
// two facilities whose names differ only in such bytes are not taken for
// one, the second message for a resend of the first). The raw message is
// kept as received.
func (b *Batcher) Submit(ctx context.Context, m *mllp.Message, done func(error)) {
	h := m.Header
	b.queue <- item{m: store.InboxMessage{ReceivedAt: m.Received, Remote: m.Remote,
		SendingApplication: domain.KeyText(h.FirstComponent(h.SendingApplication)), SendingFacility: domain.KeyText(h.FirstComponent(h.SendingFacility)),
		ControlID: domain.KeyText(h.ControlID), Raw: m.Raw}, done: done}
}

// Run commits batches until ctx ends; what is queued then is still committed.
func (b *Batcher) Run(ctx context.Context) {
	batch := make([]item, 0, b.max)
	msgs := make([]store.InboxMessage, 0, b.max)
	for {
		var first item
		select {
		case first = <-b.queue:
		case <-ctx.Done():
			select {
			case first = <-b.queue:
			default:
				return
			}
		}
		batch = append(batch[:0], first)
	gather:
		for len(batch) < b.max {
			select {
			case it := <-b.queue:
				batch = append(batch, it)
			default:
				break gather
			}
		}
		msgs = msgs[:0]
		for _, it := range batch {
			msgs = append(msgs, it.m)
		}
		added, err := b.in.InboxAdd(context.WithoutCancel(ctx), msgs)
		for i, it := range batch {
			if err == nil && !added[i] {
				b.log.Info("mllp: message already in the inbox (sent again); acknowledged", "remote", it.m.Remote, "control_id", it.m.ControlID)
			}
			it.done(err)
		}
		for i := range batch {
			batch[i] = item{}
		}
	}
}
