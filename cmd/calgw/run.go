package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/pipelines/daemon"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

func init() {
	register(command{"run", "watch the configured drops (local, SFTP, S3), process each file once, deliver the outputs", runDaemon})
}

// envCrashAt names the test-only environment variable that makes the
// daemon kill itself at a named point (see daemon.Options.CrashAt).
const envCrashAt = "CALGW_TEST_CRASH_AT"

// runDaemon is `calgw run [--config FILE] [--state DIR]`: it runs until
// SIGTERM or SIGINT and exits 0 after a clean shutdown, 2 when it cannot
// start (configuration, store, a source's host key or credentials).
func runDaemon(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("run", "[--config FILE] [--state DIR]")
	pos, err := parse(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUnusable
	}
	if len(pos) > 0 {
		fmt.Fprintf(g.stderr, "calgw run: unexpected arguments: %s\n", strings.Join(pos, " "))
		fs.Usage()
		return exitUnusable
	}
	fail := func(err error) int {
		fmt.Fprintf(g.stderr, "calgw run: %v\n", err)
		return exitUnusable
	}
	cfg, err := config.Load(g.config)
	if err != nil {
		return fail(err)
	}
	// The state directory holds the work directory and the instance name in
	// both modes (and the SQLite database): one process per directory.
	unlock, err := store.LockDir(g.state)
	if err != nil {
		return fail(err)
	}
	defer unlock()

	opts := daemon.Options{Config: cfg, StateDir: g.state, Log: g.log, CrashAt: os.Getenv(envCrashAt)}
	if cfg.UsesPostgres() {
		pg := cfg.State.Postgres
		dsn, err := config.Secret("state.postgres DSN", pg.DSNEnv, pg.DSNFile)
		if err != nil {
			return fail(err)
		}
		if err := postgresWithoutJudges(g, cfg); err != nil {
			return fail(err)
		}
		// The instance name is needed before the store opens: runs are
		// recorded under it.
		instance, err := daemon.InstanceName(g.state, cfg.State.Node)
		if err != nil {
			return fail(err)
		}
		st, err := store.OpenPostgres(ctx, dsn, store.PostgresOptions{Owner: instance, Lease: cfg.State.Lease, MaxConns: pg.MaxConns})
		if err != nil {
			return fail(err)
		}
		defer st.Close()
		opts.Store, opts.Instance, opts.Shared = st, instance, true
	} else {
		st, err := store.OpenSQLite(ctx, g.state)
		if err != nil {
			return fail(err)
		}
		defer st.Close()
		opts.Store = st
		if len(judgeFactories) > 0 {
			coding, err := rules.LoadCodingTable(cfg.CodingTable, cfg.RulesData)
			if err != nil {
				return fail(err)
			}
			// Built for each file: a feed loaded meanwhile switches its
			// rules on.
			opts.Judges = func(ctx context.Context) ([]encounters.Judge, error) {
				return buildJudges(ctx, cfg, coding, st)
			}
		}
	}
	d, err := daemon.New(ctx, opts)
	if err != nil {
		return fail(err)
	}
	if err := d.Run(ctx); err != nil {
		return fail(err)
	}
	return exitOK
}

// postgresWithoutJudges checks that the daemon may run on PostgreSQL
// without the stateful invoice rules. Those rules (eligibility and
// authorization from 834 and authorization feeds, provider contracts from
// the roster) read their feeds from the SQLite store, which several
// instances do not share. In their "auto" setting they apply only once a
// feed is loaded, so on PostgreSQL, where none is, they are off, as in a
// fresh store: say so. A configuration that enforces them regardless is
// refused rather than silently not enforced.
func postgresWithoutJudges(g *globals, cfg *config.Config) error {
	if len(judgeFactories) == 0 {
		return nil
	}
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
	g.log.Warn("state.store postgres: eligibility, authorization and provider-contract rules are not applied (their 834, authorization and roster feeds live in the SQLite store)")
	return nil
}
