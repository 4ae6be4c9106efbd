package encounters

import (
	"context"
	"slices"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// recordServices records the batch's lines that will be sent (original
// claims; a replacement or void repeats a line already counted) by member,
// service and leg, for the monthly monitoring file, in the run's
// transaction. A store that keeps none (store.ServiceRecorder) skips it.
func (c *converter) recordServices(ctx context.Context, b *batch) error {
	rec, ok := c.job.Store.(store.ServiceRecorder)
	if !ok {
		return nil
	}
	out := c.services[:0]
	for i := range b.cands {
		cand := &b.cands[i]
		if len(cand.decisions) > 0 || cand.line.Frequency != "" || cand.leg == nil {
			continue
		}
		l := &cand.line
		npi := l.Rendering.NPI
		if npi == "" {
			npi = l.Billing.NPI
		}
		mods := slices.Clone(cand.leg.Modifiers)
		slices.Sort(mods)
		out = append(out, domain.SentService{CIN: l.Member.CIN, Service: cand.leg.ServiceID, HCPCS: cand.leg.HCPCS, Modifiers: mods,
			Outreach: cand.leg.Outreach, From: l.From, To: l.To, Units: l.Units, Charge: l.Charge, NPI: npi})
	}
	c.services = out
	if len(out) == 0 {
		return nil
	}
	return rec.RecordServices(ctx, c.run, out)
}
