package gateway

import (
	"context"

	"github.com/calaim-gateway/calaim-gateway/pipelines/web"
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

// AddUser adds a console user: name, role (operator, admin, provider), the
// billing NPIs a provider is bound to, and the password (hashed with
// argon2id; never stored or logged as given).
func (g *Gateway) AddUser(ctx context.Context, name, role, npis, password string) (store.User, error) {
	u, err := web.NewUser(name, role, npis, password)
	if err != nil {
		return u, err
	}
	id, err := g.st.Console().AddUser(ctx, u)
	if err != nil {
		return u, err
	}
	u.ID = id
	if err := g.st.Console().Audit(ctx, store.AuditEvent{User: "calgw user add", Action: "user-add", Object: "user " + u.Name, Detail: "role " + u.Role}); err != nil {
		return u, err
	}
	return u, nil
}
