package adt

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// InboxSource names the messages read from the HL7 inbox in results and
// exceptions; their position is the inbox ID.
const InboxSource = "mllp-inbox"

// DrainInbox processes the inbox's pending messages, batch at a time, until
// none is left: each batch is recorded as events (Process) and then marked
// processed. A crash between the two leaves the batch pending; reading it
// again records nothing twice (the events store knows each sending
// system's MSH-10), so a message is turned into an event exactly once.
func (p *Processor) DrainInbox(ctx context.Context, in store.Inbox, batch int) (Result, error) {
	if batch <= 0 {
		batch = 2000
	}
	var total Result
	for {
		msgs, err := in.InboxPending(ctx, batch)
		if err != nil {
			return total, fmt.Errorf("hl7 inbox: %w", err)
		}
		if len(msgs) == 0 {
			return total, nil
		}
		src := make(Inputs, 0, len(msgs))
		ids := make([]int64, len(msgs))
		for i := range msgs {
			m := &msgs[i]
			src = append(src, RawInputs(InboxSource, int(m.ID), m.Raw, m.ReceivedAt)...)
			ids[i] = m.ID
		}
		res, err := p.Process(ctx, &src)
		total.Add(res)
		if err != nil {
			return total, err
		}
		if err := in.InboxMarkProcessed(ctx, ids); err != nil {
			return total, fmt.Errorf("hl7 inbox: %w", err)
		}
		if len(msgs) < batch {
			return total, nil
		}
	}
}

// RunInbox drains the inbox every interval until ctx ends, logging counts
// only (never message content). A failed drain is logged and tried again
// at the next tick; what it did not mark stays pending.
func (p *Processor) RunInbox(ctx context.Context, in store.Inbox, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		res, err := p.DrainInbox(ctx, in, 0)
		if res.Messages > 0 || len(res.Problems) > 0 {
			log.Info("hl7 inbox processed", "summary", res.Summary())
		}
		if err != nil && ctx.Err() == nil {
			log.Error("hl7 inbox: processing failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
