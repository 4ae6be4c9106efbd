// Package gateway assembles the gateway for one command: the configuration,
// the rule set loaded once from it, and the state store. Each `calgw` verb
// calls one function here (or pipelines/validate) and prints what it
// returns; the flows themselves live in the pipelines they name
// (encounters, ingest, contracts, providerfile, daemon).
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/demo"
	mp "github.com/calaim-gateway/calaim-gateway/mappings/providerfile"
	pipeadt "github.com/calaim-gateway/calaim-gateway/pipelines/adt"
	"github.com/calaim-gateway/calaim-gateway/pipelines/contracts"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/pipelines/inbound837"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/pipelines/judges"
	"github.com/calaim-gateway/calaim-gateway/pipelines/monthly"
	"github.com/calaim-gateway/calaim-gateway/pipelines/providerfile"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Options name the configuration file and the state directory.
type Options struct {
	Config string // YAML file; "" = built-in defaults
	State  string // state directory (the SQLite store and its lock)
	Log    *slog.Logger
	// Now pins the clock (the envelopes' dates, "today" for the date
	// rules); zero = the real time. The demo pins it so that its output
	// does not depend on the day it runs.
	Now time.Time
}

// Store is what the verbs need of the state store; the SQLite and the
// PostgreSQL stores both are one.
type Store interface {
	store.Store // control numbers, runs and sent lines
	judges.Store
	ingest.Store
	contracts.RosterStore
	providerfile.Store
	monthly.Store
	store.ConsoleStore
}

var (
	_ Store = (*store.SQLite)(nil)
	_ Store = (*store.Postgres)(nil)
)

// Gateway is the configuration, the rule set and the open state store of
// one command. Close it when done.
type Gateway struct {
	Config *config.Config
	Rules  *rules.Set
	st     Store
	unlock func()
	// stopRenew stops the renewal of the command's leases (PostgreSQL).
	stopRenew func()
	log       *slog.Logger
	now       time.Time
}

// LoadConfig loads the configuration and its rule set, for commands that
// need no store.
func LoadConfig(path string) (*config.Config, *rules.Set, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	rs, err := cfg.LoadRules()
	if err != nil {
		return nil, nil, err
	}
	return cfg, rs, nil
}

// Open loads the configuration and rule set and opens the configured
// store: the SQLite store of the state directory (locked for this process),
// or the PostgreSQL store the gateway's instances share (state.store:
// postgres), where a command's runs are recorded under its own name.
func Open(ctx context.Context, o Options) (*Gateway, error) {
	cfg, rs, err := LoadConfig(o.Config)
	if err != nil {
		return nil, err
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	g := &Gateway{Config: cfg, Rules: rs, log: log, now: o.Now, unlock: func() {}, stopRenew: func() {}}
	if cfg.UsesPostgres() {
		pg := cfg.State.Postgres
		dsn, err := config.Secret("state.postgres DSN", pg.DSNEnv, pg.DSNFile)
		if err != nil {
			return nil, err
		}
		host, _ := os.Hostname()
		owner := fmt.Sprintf("calgw-cli:%s:%d", host, os.Getpid())
		st, err := store.OpenPostgres(ctx, dsn, store.PostgresOptions{Owner: owner, Lease: cfg.State.Lease, MaxConns: pg.MaxConns})
		if err != nil {
			return nil, err
		}
		g.st = st
		g.stopRenew = renewLeases(ctx, st, owner, cfg.State.Lease, log)
		return g, nil
	}
	unlock, err := store.LockDir(o.State)
	if err != nil {
		return nil, err
	}
	st, err := store.OpenSQLite(ctx, o.State)
	if err != nil {
		unlock()
		return nil, err
	}
	g.st, g.unlock = st, unlock
	return g, nil
}

// Close closes the store and releases the state directory.
func (g *Gateway) Close() {
	g.stopRenew()
	g.st.Close()
	g.unlock()
}

// renewLeases renews the leases of owner's runs on st every lease/3 until
// the returned function is called (and returns once renewal stopped), so
// that other instances sharing the database do not take a command's runs
// that outlast the lease for those of a dead instance and abort them.
func renewLeases(ctx context.Context, st *store.Postgres, owner string, lease time.Duration, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(max(lease/3, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := st.RenewLeases(ctx, owner, lease); err != nil && ctx.Err() == nil {
				log.Error("renewing the leases of this command's runs: other instances may abort them", "err", err)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// ErrOutputExists means the output folder already holds a conversion's
// reports: a second run would replace them.
var ErrOutputExists = errors.New("the output folder already holds a conversion's files")

// Convert converts invoice files to an 837P, with the stateful rules
// (judges.New) over the store. Unless force is set it refuses an output
// folder that already holds a conversion's rejects.csv or summary.html,
// which it would replace (the 837s themselves have unique names).
func (g *Gateway) Convert(ctx context.Context, inputs []string, outDir string, force bool) (*encounters.Result, error) {
	if !force {
		var found []string
		for _, name := range []string{encounters.RejectsFile, encounters.SummaryFile} {
			if _, err := os.Stat(filepath.Join(outDir, name)); err == nil {
				found = append(found, name)
			}
		}
		if len(found) > 0 {
			return nil, fmt.Errorf("%w: %s has %s (choose another folder, or replace them with --force)", ErrOutputExists, outDir, strings.Join(found, " and "))
		}
	}
	js, err := judges.New(ctx, judges.Env{Config: g.Config, Rules: g.Rules, Store: g.st, Log: g.log})
	if err != nil {
		return nil, err
	}
	return encounters.Convert(ctx, encounters.Job{Inputs: inputs, OutDir: outDir, Store: g.st, Config: g.Config, Coding: g.Rules.Coding, Judges: js, Now: g.now, Log: g.log, ProviderReports: true})
}

// FeedKind is a kind of reference file `calgw ingest` loads through
// pipelines/ingest.
type FeedKind struct {
	Name    string
	Summary string
	ingest  func(context.Context, ingest.Job) []ingest.Result
}

// Kind834 names the 834 enrollment kind.
const Kind834 = store.LoadKind834

// KindADT names the HL7 v2 ADT kind.
const KindADT = pipeadt.Kind

// KindRoster names the provider roster kind (loaded by IngestRoster).
const KindRoster = "roster"

// feedKinds lists the feed kinds, in the order usage prints them.
var feedKinds = []FeedKind{
	{Kind834, "X12 834 enrollment (005010X220A1, DHCS layout): members and eligibility spans", ingest.Ingest834},
	{store.LoadKindAuth, "authorization feed (CSV/XLSX/JSON lines; template in docs/enrollment.md)", ingest.IngestAuth},
	{store.LoadKindOtherPrograms, "members in programs that exclude ECM (CSV/XLSX/JSON lines: member_cin, program, start_date, end_date)", ingest.IngestPrograms},
	{ingest.Kind277CA, "DHCS 277CA answer to our 837P (005010X214, <our file>_RESP_277.dat): each encounter's status and DHCS Encounter ID (REF*1K)", ingest.Ingest277CA},
	{ingest.Kind999, "999 answer to our 837P (005010X231A1): each transaction set's acceptance or rejection, for its encounters", ingest.Ingest999},
	{ingest.KindEVR, "DHCS Encounter Validation Response (XML): each encounter's status, errors and DHCS Encounter ID", ingest.IngestEVR},
	{monthly.KindDHCSResponse, "DHCS response to a monthly monitoring JSON (responseHierarchy): each record's status and a report of what to fix", monthly.IngestResponse},
	{pipeadt.Kind, "HL7 v2 ADT (ER7, batch or message files): admit, discharge and transfer events per member (docs/adt.md)", pipeadt.IngestFiles},
	{inbound837.Kind, "inbound 837P (005010X222A1) from a provider: SNIP 1-7 edits, 999, 277CA, TA1, report, the accepted claims as encounter lines for calgw convert (docs/inbound-837p.md)", inbound837.Ingest},
}

// IngestKinds lists every kind `calgw ingest` loads: the feeds and the
// provider roster, by name.
func IngestKinds() []FeedKind {
	return append(slices.Clone(feedKinds), FeedKind{Name: KindRoster, Summary: "provider roster (CSV/XLSX, one row per provider site)"})
}

// Ingest loads 834, authorization or other_programs files into the store,
// writing each file's report (and an 834's 999) into outDir ("" = beside
// each input).
func (g *Gateway) Ingest(ctx context.Context, kind string, files []string, outDir string) ([]ingest.Result, error) {
	for _, k := range feedKinds {
		if k.Name == kind {
			return k.ingest(ctx, ingest.Job{Files: files, OutDir: outDir, Store: g.st, Config: g.Config,
				Coding: g.Rules.Coding, Tables: g.Rules.Tables, Data: g.Rules.Data, Now: g.nowFunc(), Log: g.log, Rules: g.Rules}), nil
		}
	}
	return nil, fmt.Errorf("unknown feed kind %q", kind)
}

// Notices writes the pending ADT notices into outDir, one CSV per ECM
// provider (pipelines/adt.WriteNotices).
func (g *Gateway) Notices(ctx context.Context, outDir string) (pipeadt.NoticeResult, error) {
	st, ok := g.st.(pipeadt.NoticeStore)
	if !ok {
		return pipeadt.NoticeResult{}, fmt.Errorf("the %T state store keeps no ADT events", g.st)
	}
	return pipeadt.WriteNotices(ctx, st, outDir, g.Rules.Data, g.Config.Location(), g.nowFunc())
}

// CandidatesReport lists the members who meet pof's numeric thresholds
// from their ADT events and hold no ECM authorization, as of asOf
// (YYYY-MM-DD; "" is today in the configured time zone), as CSV into
// outFile (written atomically) or, when outFile is "", to w. It returns
// the counts and the as-of day used.
func (g *Gateway) CandidatesReport(ctx context.Context, pof, asOf, outFile string, w io.Writer) (*pipeadt.CandidatesResult, civil.Date, error) {
	day := civil.Today(g.Config.Location())
	if asOf != "" {
		var err error
		if day, err = civil.Parse(asOf); err != nil {
			return nil, day, fmt.Errorf("--as-of %q: %w", asOf, err)
		}
	}
	if pof != pipeadt.POFAvoidableUtilization {
		return nil, day, fmt.Errorf("population of focus %q: the candidates report knows %s", pof, pipeadt.POFAvoidableUtilization)
	}
	st, ok := g.st.(pipeadt.CandidateStore)
	if !ok {
		return nil, day, fmt.Errorf("the %T state store keeps no ADT events", g.st)
	}
	res, err := pipeadt.Candidates(ctx, st, g.Rules.Tables.Utilization, g.Rules.Tables.AdmissionTypes, g.Rules.Data, day, g.Config.Location())
	if err != nil {
		return nil, day, err
	}
	if outFile == "" {
		return res, day, pipeadt.WriteCandidates(w, res.Candidates)
	}
	f, err := atomicfile.Create(outFile, ".calgw-candidates-")
	if err != nil {
		return nil, day, err
	}
	if err := pipeadt.WriteCandidates(f, res.Candidates); err != nil {
		f.Abort()
		return nil, day, err
	}
	return res, day, f.Commit()
}

// Providers is the state store's provider roster (nil when the store
// keeps none), for `calgw validate` to decide billing addresses as
// convert does.
func (g *Gateway) Providers() domain.ProviderDirectory {
	p, _ := g.st.(domain.ProviderDirectory)
	return p
}

// IngestRoster loads provider rosters. The results come in file order; an
// error stops at the file it names (the files before it were loaded).
func (g *Gateway) IngestRoster(ctx context.Context, files []string) ([]contracts.FileResult, error) {
	return contracts.IngestWithin(ctx, g.st, providerfile.TablesOf(g.Rules), files, g.log, g.Config.Limits)
}

// ProviderFile writes the month's DHCS 274 provider network files into
// outDir; providerfile.ErrNoSites when no roster site is in force.
func (g *Gateway) ProviderFile(ctx context.Context, month mp.Month, outDir string) (*providerfile.Result, error) {
	return providerfile.Run(ctx, providerfile.Job{Month: month, OutDir: outDir, Store: g.st, Config: g.Config, Mapping: g.Rules.ProviderFile, Now: g.now, Log: g.log})
}

// MonthlyReport writes the month's monitoring JSON for DHCS and its side
// report into outDir; monthly.ErrInvalid (with the violations in the
// Result) when the document breaks its schema, and then nothing is written.
func (g *Gateway) MonthlyReport(ctx context.Context, month mp.Month, outDir string) (*monthly.Result, error) {
	return monthly.Run(ctx, monthly.Job{Month: month, OutDir: outDir, Store: g.st, Config: g.Config, Rules: g.Rules, Log: g.log})
}

// DemoMonthlyReport is MonthlyReport for the demo: when the configuration
// names no plan (the built-in defaults), the demo's made-up plan name and
// codes stand in (internal/demo).
func (g *Gateway) DemoMonthlyReport(ctx context.Context, month mp.Month, outDir string) (*monthly.Result, error) {
	cfg := *g.Config
	cfg.Partners = maps.Clone(g.Config.Partners)
	tp := cfg.Partners[cfg.Encounters.TradingPartner]
	if tp.Plan.Name == "" || len(tp.Plan.HCPs()) == 0 {
		tp.Plan = config.Plan{Name: demo.PlanName, TIN: tp.Plan.TIN, HCPCodes: demo.PlanCodes()}
		cfg.Partners[cfg.Encounters.TradingPartner] = tp
	}
	return monthly.Run(ctx, monthly.Job{Month: month, OutDir: outDir, Store: g.st, Config: &cfg, Rules: g.Rules, Log: g.log})
}

// Rules lists every rule the gateway applies, in evaluation order.
func Rules() []rules.Rule { return rules.Catalog() }

// StateExists reports whether dir holds a SQLite state store.
func StateExists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, store.FileName))
	return err == nil
}

// Month is a reporting month.
type Month = mp.Month

// ParseMonth reads a reporting month, YYYY-MM.
func ParseMonth(s string) (Month, error) { return mp.ParseMonth(s) }

// ResetDemo empties dir for `calgw demo`, refusing a folder the demo did
// not make.
func ResetDemo(dir string) error { return demo.Reset(dir) }

// DemoInputs writes the demo's invoice files into dir and returns their
// paths.
func DemoInputs(dir string) ([]string, error) { return demo.Inputs(dir) }

// DemoReference writes the demo's reference file name into dir and returns
// its path ("" when the demo has none).
func DemoReference(dir, name string) (string, error) { return demo.Reference(dir, name) }

// nowFunc returns the pinned clock as a function (nil = the real time).
func (g *Gateway) nowFunc() func() time.Time {
	if g.now.IsZero() {
		return nil
	}
	return func() time.Time { return g.now }
}
