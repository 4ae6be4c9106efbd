package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// PendingBatches lists the batches of service lines accepted from
// providers' 837Ps and not yet sent to DHCS (their encounter lines not yet
// converted), the oldest first, keeping those received at least olderThan
// before now.
func (g *Gateway) PendingBatches(ctx context.Context, olderThan time.Duration) ([]store.PendingBatch, error) {
	ps, err := g.pendingStore()
	if err != nil {
		return nil, err
	}
	all, err := ps.PendingBatches(ctx)
	if err != nil {
		return nil, err
	}
	now := g.now
	if now.IsZero() {
		now = time.Now()
	}
	cut := now.Add(-olderThan)
	out := all[:0]
	for _, b := range all {
		if olderThan <= 0 || b.ReceivedAt.IsZero() || !b.ReceivedAt.After(cut) {
			out = append(out, b)
		}
	}
	return out, nil
}

// ReleasePending ends the pending state of a batch's lines, for encounter
// lines that will never be converted (their file lost): the provider's
// claims for those services are then no longer duplicates of them. It
// returns how many lines it released.
func (g *Gateway) ReleasePending(ctx context.Context, batch string) (int, error) {
	ps, err := g.pendingStore()
	if err != nil {
		return 0, err
	}
	n, err := ps.ReleasePending(ctx, batch)
	if err == nil && n > 0 {
		g.log.Info("pending lines released", "batch", batch, "lines", n)
	}
	return n, err
}

func (g *Gateway) pendingStore() (store.PendingStore, error) {
	ps, ok := g.st.(store.PendingStore)
	if !ok {
		return nil, fmt.Errorf("the %T state store keeps no pending lines", g.st)
	}
	return ps, nil
}
