// Package eligibility applies the enrollment and authorization rules to
// each invoice line of a conversion, as an encounters.Judge: it gathers the
// member's facts from the state store with indexed lookups by CIN (cached
// while consecutive lines are the same member), decides with rules.Eligibility
// and moves the usage counters of the units and Community Supports limits
// inside the run's transaction when a line is sent.
package eligibility

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Judge is the eligibility and authorization judge of one conversion.
type Judge struct {
	rules        *rules.Eligibility
	on           rules.Groups
	providers    domain.ProviderDirectory
	skipAuths    bool // no authorization feed loaded: nothing to look up
	skipPrograms bool // no other_programs feed loaded

	view Enrollment // of the current run
	run  store.Run  // the run view belongs to

	cins  []string        // Prefetch's, reused
	keys  []string        // prefetchUsage's: the counters to read
	asked map[string]bool // prefetchUsage's: keys noted

	// The current member's facts.
	cin      string
	member   *domain.Enrollee
	auths    []domain.Authorization
	programs []domain.ProgramSpan

	contracts map[string][]domain.ProviderContract // roster answers by NPI, for the conversion
	usage     map[string]usage                     // counters as this run sees them
	carried   encounters.CarriedUsage              // usage of a Checker's earlier runs; nil = none
	pending   pendingUses                          // what the last judged line moves if sent
	ctx       context.Context
	err       error
	facts     rules.Facts

	// The evidence of the line being judged: what the rules read
	// (readFacts, readNPIs) and everything it was decided on (evidence),
	// gathered from the line's facts (factsOf) once Facts asks.
	factsOf   *domain.InvoiceLine
	readFacts []store.Fact
	readNPIs  []string
	evidence  []store.Fact
}

// Enrollment is what the judge reads and moves inside a conversion run's
// transaction (store.EnrollmentViewOf gives it for a run of the SQLite or
// the PostgreSQL store).
type Enrollment interface {
	Member(ctx context.Context, cin string) (*domain.Enrollee, bool, error)
	Authorizations(ctx context.Context, cin string, out []domain.Authorization) ([]domain.Authorization, error)
	Programs(ctx context.Context, cin string, out []domain.ProgramSpan) ([]domain.ProgramSpan, error)
	// Usage reads a usage counter as the run sees it; on a store shared by
	// several instances, the run holds the counter until it ends.
	Usage(ctx context.Context, key string) (int64, civil.Date, error)
	AddUsage(ctx context.Context, key string, amount int64, date civil.Date) error
	// WasSent reports whether a line with this key was sent before.
	WasSent(ctx context.Context, key [16]byte) (bool, error)
}

type usage struct {
	amount int64
	first  civil.Date
}

type pendingUses struct {
	line *domain.InvoiceLine
	uses []rules.Use
}

// maxCache bounds the per-conversion caches.
const maxCache = 100_000

// Options configure a Judge.
type Options struct {
	Rules     *rules.Set               // the rule set: tables and the plan's parameters
	Groups    rules.Groups             // which rules run
	Providers domain.ProviderDirectory // the roster; nil = none (configured streamlined extensions only)
	// Status is what the store holds: a table no feed has filled is not
	// queried (nil = query every table).
	Status *store.EnrollmentStatus
}

// New returns a Judge.
func New(o Options) (*Judge, error) {
	if o.Rules == nil {
		return nil, fmt.Errorf("eligibility: no rule set")
	}
	j := &Judge{
		skipAuths:    o.Status != nil && o.Status.AuthLoads == 0,
		skipPrograms: o.Status != nil && o.Status.ProgramLoads == 0,
		rules:        o.Rules.Eligibility,
		on:           o.Groups,
		providers:    o.Providers,
		contracts:    map[string][]domain.ProviderContract{},
		usage:        map[string]usage{},
	}
	j.facts.Contracts = j.contractsOf
	j.facts.Usage = j.usageOf
	j.facts.Sent = j.sent
	return j, nil
}

// Groups returns the rule groups the judge applies.
func (j *Judge) Groups() rules.Groups { return j.on }

// Describe says which rule groups run, for logs and summaries.
func Describe(g rules.Groups) string {
	var on, off []string
	add := func(b bool, name string) {
		if b {
			on = append(on, name)
		} else {
			off = append(off, name)
		}
	}
	add(g.Enrollment, "enrollment (ELIG-*)")
	add(g.Exclusions, "program exclusions (ECM-EXCLUDED)")
	add(g.Authorization, "authorization (AUTH-*, POF-NOT-LIVE, TR-NEEDS-ECM, CS-LIMIT)")
	s := "on: " + strings.Join(on, ", ")
	if len(on) == 0 {
		s = "on: none"
	}
	if len(off) > 0 {
		s += "; skipped: " + strings.Join(off, ", ")
	}
	return s
}

// GroupsFor decides which rule groups run from the configuration's mode
// (auto, all, off) and what the store holds.
func GroupsFor(mode string, st store.EnrollmentStatus) rules.Groups {
	switch mode {
	case config.RulesAll:
		return rules.Groups{Enrollment: true, Exclusions: true, Authorization: true}
	case config.RulesOff:
		return rules.Groups{}
	}
	return rules.Groups{
		Enrollment:    st.Loads834 > 0,
		Exclusions:    st.Loads834 > 0 || st.ProgramLoads > 0,
		Authorization: st.AuthLoads > 0,
	}
}

// Judge decides the line.
func (j *Judge) Judge(ctx context.Context, run store.Run, l *domain.InvoiceLine, leg *rules.CodeLeg) ([]rules.Decision, error) {
	j.pending = pendingUses{}
	j.evidence, j.readFacts, j.readNPIs, j.factsOf = j.evidence[:0], j.readFacts[:0], j.readNPIs[:0], nil
	if !j.on.Any() {
		return nil, nil
	}
	if err := j.bind(run); err != nil {
		return nil, err
	}
	j.ctx = ctx
	if err := j.load(ctx, l.Member.CIN); err != nil {
		return nil, err
	}
	f := &j.facts
	f.Member, f.Auths, f.Programs = j.member, j.auths, j.programs
	ds, uses := j.rules.Decide(f, l, leg, j.on)
	if j.err != nil {
		err := j.err
		j.err = nil
		return nil, err
	}
	j.factsOf = l
	if len(ds) > 0 {
		return ds, nil
	}
	j.pending = pendingUses{line: l, uses: uses}
	return nil, nil
}

// CarryUsage implements encounters.UsageCarrier: the counters read count
// c's usage above the store's, and the moves of the lines sent are c's
// too.
func (j *Judge) CarryUsage(c encounters.CarriedUsage) { j.carried = c }

// plusCarried adds the carried usage of key to a counter read from the
// store.
func (j *Judge) plusCarried(key string, amount int64, first civil.Date) (int64, civil.Date) {
	if j.carried == nil {
		return amount, first
	}
	a, f := j.carried.Usage(key)
	if f != 0 && (first == 0 || f < first) {
		first = f
	}
	return amount + a, first
}

// Sent moves the usage counters of a line that will be sent.
func (j *Judge) Sent(ctx context.Context, run store.Run, l *domain.InvoiceLine, leg *rules.CodeLeg) error {
	if j.pending.line != l {
		return nil // judged by nothing that counts (or rules off)
	}
	if err := j.bind(run); err != nil {
		return err
	}
	for _, u := range j.pending.uses {
		if err := j.view.AddUsage(ctx, u.Key, u.Amount, u.Date); err != nil {
			return err
		}
		if j.carried != nil {
			j.carried.Moved(u.Key, u.Amount, u.Date)
		}
		if cur, ok := j.usage[u.Key]; ok { // else the next read sees the store's value
			cur.amount += u.Amount
			if cur.first == 0 || u.Date < cur.first {
				cur.first = u.Date
			}
			j.usage[u.Key] = cur
		}
	}
	j.pending = pendingUses{}
	return nil
}

// Prefetch implements encounters.Prefetcher: the members of the lines, and
// their authorizations and program spans where the rules read them, are
// read in one pass (store.MemberPrefetcher), and so are the usage counters
// the rules will read (store.UsagePrefetcher, prefetchUsage), so that
// judging the lines one at a time reads none of them again.
func (j *Judge) Prefetch(ctx context.Context, run store.Run, lines []*domain.InvoiceLine, legs []*rules.CodeLeg) error {
	if !(j.on.Enrollment || j.on.Exclusions || j.on.Authorization) {
		return nil
	}
	if err := j.bind(run); err != nil {
		return err
	}
	p, ok := j.view.(store.MemberPrefetcher)
	if !ok {
		return nil
	}
	j.cins = j.cins[:0]
	for _, l := range lines {
		j.cins = append(j.cins, l.Member.CIN)
	}
	if err := p.PrefetchMembers(ctx, j.cins, store.MemberParts{
		Authorizations: (j.on.Authorization || j.on.Exclusions) && !j.skipAuths,
		Programs:       j.on.Exclusions && !j.skipPrograms,
	}); err != nil {
		return err
	}
	return j.prefetchUsage(ctx, lines, legs)
}

// prefetchUsage reads, in one round trip, the usage counters the rules
// will read to judge lines that the run has not read yet, where the view
// can (store.UsagePrefetcher: PostgreSQL, where each read is a round
// trip). It finds them by deciding each line beforehand with a Usage that
// notes the keys asked and a Sent that says no: which counter a rule reads
// follows from the line and the member's facts, never from a counter's
// value, so judging the line reads the same ones, then from the cache.
func (j *Judge) prefetchUsage(ctx context.Context, lines []*domain.InvoiceLine, legs []*rules.CodeLeg) error {
	up, ok := j.view.(store.UsagePrefetcher)
	if !ok || !j.on.Authorization || len(lines) != len(legs) {
		return nil
	}
	j.ctx = ctx
	j.keys = j.keys[:0]
	if j.asked == nil {
		j.asked = map[string]bool{}
	}
	clear(j.asked)
	f := rules.Facts{
		Contracts: j.contractsOf,
		Sent:      func(rules.LineKey) bool { return false },
		Usage: func(key string) (int64, civil.Date) {
			if _, cached := j.usage[key]; !cached && !j.asked[key] {
				j.asked[key] = true
				j.keys = append(j.keys, key)
			}
			return 0, 0
		},
	}
	for i, l := range lines {
		if err := j.load(ctx, l.Member.CIN); err != nil {
			return err
		}
		j.readFacts, j.readNPIs = j.readFacts[:0], j.readNPIs[:0]
		f.Member, f.Auths, f.Programs = j.member, j.auths, j.programs
		j.rules.Decide(&f, l, legs[i], j.on)
		if j.err != nil {
			err := j.err
			j.err = nil
			return err
		}
	}
	if len(j.keys) == 0 {
		return nil
	}
	counts, err := up.PrefetchUsage(ctx, j.keys)
	if err != nil {
		return err
	}
	if len(j.usage)+len(j.keys) > maxCache {
		clear(j.usage)
	}
	for _, k := range j.keys {
		c := counts[k]
		a, f := j.plusCarried(k, c.Amount, c.First)
		j.usage[k] = usage{amount: a, first: f}
	}
	return nil
}

// bind attaches the judge to the run's transaction; a new run starts with
// fresh caches of what the run can change.
func (j *Judge) bind(run store.Run) error {
	// The run itself, not its ID: a check run is rolled back, so the next
	// one may get the same ID on another connection.
	if j.view != nil && j.run == run {
		return nil
	}
	v, err := store.EnrollmentViewOf(run)
	if err != nil {
		return err
	}
	j.view, j.run = v, run
	j.cin = ""
	clear(j.usage)
	return nil
}

// load fetches the member's facts unless the previous line was the same
// member: one indexed lookup per table per member.
func (j *Judge) load(ctx context.Context, cin string) error {
	if cin == j.cin && cin != "" {
		return nil
	}
	j.cin = ""
	var err error
	if j.on.Enrollment || j.on.Exclusions || j.on.Authorization {
		m, ok, err := j.view.Member(ctx, cin)
		if err != nil {
			return err
		}
		j.member = nil
		if ok {
			j.member = m
		}
	}
	j.auths, j.programs = j.auths[:0], j.programs[:0]
	if (j.on.Authorization || j.on.Exclusions) && !j.skipAuths {
		if j.auths, err = j.view.Authorizations(ctx, cin, j.auths); err != nil {
			return err
		}
	}
	if j.on.Exclusions && !j.skipPrograms {
		if j.programs, err = j.view.Programs(ctx, cin, j.programs); err != nil {
			return err
		}
	}
	j.cin = cin
	return nil
}

func (j *Judge) contractsOf(npi string) []domain.ProviderContract {
	if j.providers == nil || npi == "" {
		return nil
	}
	if cs, ok := j.contracts[npi]; ok {
		j.readContracts(npi, cs)
		return cs
	}
	cs, err := j.providers.Contracts(j.ctx, npi)
	if err != nil {
		j.err = fmt.Errorf("provider roster: %w", err)
		return nil
	}
	if len(j.contracts) >= maxCache {
		clear(j.contracts)
	}
	j.contracts[npi] = cs
	j.readContracts(npi, cs)
	return cs
}

// readContracts keeps the contracts of npi the rules read, once per line.
func (j *Judge) readContracts(npi string, cs []domain.ProviderContract) {
	for _, n := range j.readNPIs {
		if n == npi {
			return
		}
	}
	j.readNPIs = append(j.readNPIs, npi)
	if len(cs) == 0 {
		j.readFacts = append(j.readFacts, store.Fact{Kind: "contract", Detail: "no roster contract for NPI " + npi})
	}
	for i := range cs {
		j.readFacts = append(j.readFacts, ContractFact(&cs[i]))
	}
}

func (j *Judge) usageOf(key string) (int64, civil.Date) {
	if u, ok := j.usage[key]; ok {
		j.readFacts = append(j.readFacts, usageFact(key, u.amount, u.first))
		return u.amount, u.first
	}
	a, f, err := j.view.Usage(j.ctx, key)
	if err != nil {
		j.err = err
		return 0, 0
	}
	a, f = j.plusCarried(key, a, f)
	if len(j.usage) >= maxCache {
		clear(j.usage)
	}
	j.usage[key] = usage{amount: a, first: f}
	j.readFacts = append(j.readFacts, usageFact(key, a, f))
	return a, f
}

// sent asks the run's store whether a line with this key was already sent,
// or the carried usage whether an earlier run of its Checker accepted one
// (an error is held for Judge to return).
func (j *Judge) sent(key rules.LineKey) bool {
	if j.err != nil {
		return false
	}
	ok, err := j.view.WasSent(j.ctx, key)
	if err == nil && !ok && j.carried != nil {
		ok, err = j.carried.Sent(key)
	}
	if err != nil {
		j.err = err
		return false
	}
	return ok
}

// LogGroups logs which rule groups run.
func LogGroups(log *slog.Logger, g rules.Groups, st store.EnrollmentStatus) {
	log.Info("eligibility rules", "groups", Describe(g), "loads_834", st.Loads834, "auth_loads", st.AuthLoads,
		"program_loads", st.ProgramLoads, "member_rows", st.Members)
}
