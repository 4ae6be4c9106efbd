package encounters

import (
	"context"
	"fmt"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// decisionOf is the decision on a candidate as it is recorded: the rule
// that decided it (the first, when several did) with its source citation,
// every other finding, the coding-table row the line matched and what the
// judges decided it on.
func (c *converter) decisionOf(cand *candidate, seq int) store.LineDecision {
	l := &cand.line
	d := store.LineDecision{Seq: seq, File: l.Source.File, Row: l.Source.Row, Invoice: l.InvoiceNumber, LineNo: l.LineNumber,
		CIN: l.Member.CIN, NPI: l.Billing.NPI, Outcome: store.OutcomeAccepted}
	if l.HCPCS != "" {
		d.Code = strings.TrimSpace(l.HCPCS + " " + strings.Join(l.Modifiers, " "))
	}
	if l.From != 0 {
		d.From = l.From.String()
	}
	if l.To != 0 {
		d.To = l.To.String()
	}
	if len(cand.decisions) > 0 {
		first := cand.decisions[0]
		d.Outcome, d.Rule, d.Field, d.Message = store.OutcomeRejected, first.Rule, first.Field, first.Message
		if first.Rule == rules.DuplicateLine {
			d.PriorRun = cand.priorRun
		}
		if r, ok := rules.Lookup(first.Rule); ok {
			d.Source = r.Source
		}
		for _, more := range cand.decisions[1:] {
			d.Facts = append(d.Facts, store.Fact{Kind: "also", Detail: more.Rule + ": " + more.Message})
		}
	}
	if leg := cand.leg; leg != nil {
		to := "open"
		if leg.To != 0 {
			to = leg.To.String()
		}
		d.Facts = append(d.Facts, store.Fact{Kind: "coding",
			Detail: fmt.Sprintf("%s (%s %s) in force %s..%s; coding table row %d; %s", leg.Code(), leg.Program, leg.ServiceID, leg.From, to, leg.Row, leg.Source)})
	}
	d.Facts = append(d.Facts, cand.facts...)
	if cand.control != "" && d.Outcome == store.OutcomeAccepted {
		d.Facts = append(d.Facts, store.Fact{Kind: "sent", Detail: "line control " + cand.control})
	}
	return d
}

// checkOnly ends a check-only run: nothing is written, the run is
// abandoned (no line counts as sent, no control number is used) and the
// result carries every line's decision.
func (c *converter) checkOnly() (*Result, error) {
	c.rejFile.Abort()
	for _, o := range c.outs {
		if o.out != nil {
			o.out.Abort()
		}
	}
	if err := c.run.Abandon(context.WithoutCancel(c.ctx), "check only"); err != nil {
		return nil, err
	}
	c.committed = true // nothing left for abort to undo
	return &Result{Summary: c.sum, Lines: c.checked}, nil
}
