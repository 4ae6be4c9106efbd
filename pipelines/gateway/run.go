package gateway

import (
	"context"
	"fmt"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/pipelines/daemon"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/pipelines/judges"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// RunOptions configure the daemon.
type RunOptions struct {
	Options
	// CrashAt names a point where the daemon kills itself, for crash tests
	// (daemon.Options.CrashAt).
	CrashAt string
}

// Run runs the daemon until ctx ends: the configured store (SQLite in the
// state directory, or PostgreSQL shared by several instances), the rule
// set loaded once, and the invoice judges built for each file (a feed
// loaded meanwhile switches its rules on).
func Run(ctx context.Context, o RunOptions) error {
	cfg, rs, err := LoadConfig(o.Config)
	if err != nil {
		return err
	}
	// The state directory holds the work directory and the instance name in
	// both modes (and the SQLite database): one process per directory.
	unlock, err := store.LockDir(o.State)
	if err != nil {
		return err
	}
	defer unlock()

	opts := daemon.Options{Config: cfg, Rules: rs, StateDir: o.State, Log: o.Log, CrashAt: o.CrashAt}
	if cfg.UsesPostgres() {
		pg := cfg.State.Postgres
		dsn, err := config.Secret("state.postgres DSN", pg.DSNEnv, pg.DSNFile)
		if err != nil {
			return err
		}
		if err := postgresWithoutJudges(o, cfg); err != nil {
			return err
		}
		// The instance name is needed before the store opens: runs are
		// recorded under it.
		instance, err := daemon.InstanceName(o.State, cfg.State.Node)
		if err != nil {
			return err
		}
		st, err := store.OpenPostgres(ctx, dsn, store.PostgresOptions{Owner: instance, Lease: cfg.State.Lease, MaxConns: pg.MaxConns})
		if err != nil {
			return err
		}
		defer st.Close()
		opts.Store, opts.Instance, opts.Shared = st, instance, true
	} else {
		st, err := store.OpenSQLite(ctx, o.State)
		if err != nil {
			return err
		}
		defer st.Close()
		opts.Store = st
		opts.Judges = func(ctx context.Context) ([]encounters.Judge, error) {
			return judges.New(ctx, judges.Env{Config: cfg, Rules: rs, Store: st, Log: o.Log})
		}
	}
	d, err := daemon.New(ctx, opts)
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

// postgresWithoutJudges checks that the daemon may run on PostgreSQL
// without the stateful invoice rules. Those rules (eligibility and
// authorization from 834 and authorization feeds, provider contracts from
// the roster) read their feeds from the SQLite store, which several
// instances do not share. In their "auto" setting they apply only once a
// feed is loaded, so on PostgreSQL, where none is, they are off, as in a
// fresh store: say so. A configuration that enforces them regardless is
// refused rather than silently not enforced.
func postgresWithoutJudges(o RunOptions, cfg *config.Config) error {
	var forced []string
	if cfg.Eligibility.Rules != config.RulesAuto && cfg.Eligibility.Rules != config.RulesOff {
		forced = append(forced, "eligibility.rules: "+cfg.Eligibility.Rules)
	}
	if cfg.Providers.ContractCheck == "on" {
		forced = append(forced, "providers.contract_check: on")
	}
	if len(forced) > 0 {
		return fmt.Errorf("state.store postgres: %s needs the feeds in the SQLite store, which the PostgreSQL store does not have yet; use store: sqlite (one instance) or the auto setting", strings.Join(forced, " and "))
	}
	if o.Log != nil {
		o.Log.Warn("state.store postgres: eligibility, authorization and provider-contract rules are not applied (their 834, authorization and roster feeds live in the SQLite store)")
	}
	return nil
}
