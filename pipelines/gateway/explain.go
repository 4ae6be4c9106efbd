package gateway

import (
	"context"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// Explain returns the recorded decisions on line of invoice, the latest
// run first: the rule that decided each, its source citation and the facts
// the judges used when they decided (line "" = every line of the invoice).
func (g *Gateway) Explain(ctx context.Context, invoice, line string) ([]store.LineDecision, error) {
	ds, err := g.st.Console().InvoiceDecisions(ctx, invoice, 0, 1000)
	if err != nil {
		return nil, err
	}
	if line == "" {
		return ds, nil
	}
	var out []store.LineDecision
	for _, d := range ds {
		if d.LineNo == line {
			out = append(out, d)
		}
	}
	return out, nil
}

// Store returns the gateway's open state store, for the web console.
func (g *Gateway) Store() Store { return g.st }
