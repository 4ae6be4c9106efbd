package contracts

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Directory is the provider roster as the judge reads it (store.SQLite,
// store.Postgres).
type Directory interface {
	domain.ProviderDirectory
	// RosterLoaded reports whether any roster was ever loaded.
	RosterLoaded(ctx context.Context) (bool, error)
}

var (
	_ Directory = (*store.SQLite)(nil)
	_ Directory = (*store.Postgres)(nil)
)

// Modes of the contract check (config providers.contract_check).
const (
	ModeAuto = "auto" // apply once a roster has been loaded
	ModeOn   = "on"   // always apply: without a roster every line is rejected
	ModeOff  = "off"  // never apply
)

// Judge applies PROVIDER-NOT-CONTRACTED in convert's store stage (it is a
// pipelines/encounters.Judge). It reads each billing NPI's contracts once
// per conversion and keeps them: the roster does not change during a run.
// Like every convert judge it is called from one goroutine (the store
// stage) and is not safe for concurrent use.
type Judge struct {
	dir    Directory
	active bool
	cache  map[string][]domain.ProviderContract
	// POF, when set, returns the ECM population of focus a line is billed
	// under (for instance from the member's authorization); "" means not
	// known, and then any contracted ECM population of focus will do.
	POF func(ctx context.Context, l *domain.InvoiceLine) (string, error)

	facts []store.Fact // the contracts the last line was judged on
}

// Facts returns the roster contracts the last line judged was decided on.
func (j *Judge) Facts() []store.Fact { return j.facts }

func contractDetail(c *domain.ProviderContract) string {
	to := "open"
	if c.To != 0 {
		to = c.To.String()
	}
	return fmt.Sprintf("roster contract NPI %s site %q county %s %s..%s types %s POFs %s CS %s", c.NPI, c.Site, c.County, c.From, to,
		strings.Join(c.Types, ","), strings.Join(c.POFs, ","), strings.Join(c.CommunitySupports, ","))
}

// New returns the judge for a conversion. In auto mode it is inactive (it
// passes every line, and says so in the log) until a roster has been
// loaded, so that a gateway without a roster keeps converting.
func New(ctx context.Context, mode string, dir Directory, log *slog.Logger) (*Judge, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	j := &Judge{dir: dir, cache: map[string][]domain.ProviderContract{}}
	switch mode {
	case ModeOn:
		j.active = true
	case ModeOff:
	case ModeAuto, "":
		loaded, err := dir.RosterLoaded(ctx)
		if err != nil {
			return nil, err
		}
		j.active = loaded
		if !loaded {
			log.Warn("no provider roster loaded: PROVIDER-NOT-CONTRACTED is not applied (calgw ingest --kind roster FILE)")
		}
	default:
		return nil, fmt.Errorf("contract check mode %q: want auto, on or off", mode)
	}
	return j, nil
}

// Active reports whether the judge applies the rule.
func (j *Judge) Active() bool { return j.active }

// Judge decides the line.
func (j *Judge) Judge(ctx context.Context, _ store.Run, l *domain.InvoiceLine, leg *rules.CodeLeg) ([]rules.Decision, error) {
	j.facts = j.facts[:0]
	if !j.active || leg == nil {
		return nil, nil
	}
	npi := l.Billing.NPI
	cs, ok := j.cache[npi]
	if !ok {
		var err error
		if cs, err = j.dir.Contracts(ctx, npi); err != nil {
			return nil, err
		}
		j.cache[npi] = cs
	}
	q := rules.ContractQuery{NPI: npi, From: l.From, To: l.To, Leg: leg}
	if j.POF != nil && leg.Program == rules.ProgramECM {
		pof, err := j.POF(ctx, l)
		if err != nil {
			return nil, err
		}
		q.POF = pof
	}
	j.facts = j.facts[:0]
	if len(cs) == 0 {
		j.facts = append(j.facts, store.Fact{Kind: "contract", Detail: "no roster contract for NPI " + npi})
	}
	for i := range cs {
		j.facts = append(j.facts, store.Fact{Kind: "contract", Detail: contractDetail(&cs[i])})
	}
	if d := rules.CheckProviderContract(cs, q); d != nil {
		return []rules.Decision{*d}, nil
	}
	return nil, nil
}

// Sent has nothing to count: contracts are not used up.
func (j *Judge) Sent(context.Context, store.Run, *domain.InvoiceLine, *rules.CodeLeg) error {
	return nil
}
