package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/pipelines/daemon"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/pipelines/judges"
	"github.com/calaim-gateway/calaim-gateway/pipelines/web"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// RunOptions configure the daemon.
type RunOptions struct {
	Options
	// CrashAt names a point where the daemon kills itself, for crash tests
	// (daemon.Options.CrashAt).
	CrashAt string
	// WebListen, when set, serves the web console there whatever the
	// configuration's web.listen says (calgw serve).
	WebListen string
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
	if o.WebListen != "" {
		cfg.Web.Listen = o.WebListen
	}
	// The console's audit key is read before anything starts: without
	// it the console, and so the daemon beside it, does not start.
	var auditKey []byte
	if cfg.Web.Listen != "" {
		if auditKey, err = cfg.Web.AuditKey(); err != nil {
			return err
		}
	}
	// The state directory holds the work directory and the instance name in
	// both modes (and the SQLite database): one process per directory.
	unlock, err := store.LockDir(o.State)
	if err != nil {
		return err
	}
	defer unlock()

	var console web.Store
	opts := daemon.Options{Config: cfg, Rules: rs, StateDir: o.State, Log: o.Log, CrashAt: o.CrashAt}
	if cfg.UsesPostgres() {
		pg := cfg.State.Postgres
		dsn, err := config.Secret("state.postgres DSN", pg.DSNEnv, pg.DSNFile)
		if err != nil {
			return err
		}
		// The instance name is needed before the store opens: runs are
		// recorded under it.
		instance, err := daemon.InstanceName(o.State, cfg.State.Node)
		if err != nil {
			return err
		}
		st, err := OpenPostgresWhenReady(ctx, dsn, store.PostgresOptions{Owner: instance, Lease: cfg.State.Lease, MaxConns: pg.MaxConns},
			cfg.Retry.Initial, cfg.Retry.Max, o.Log)
		if err != nil {
			return err
		}
		defer st.Close()
		opts.Store, opts.Instance, opts.Shared = st, instance, true
		opts.Judges = judgesOf(cfg, rs, st, o.Log)
		console = st
	} else {
		st, err := store.OpenSQLite(ctx, o.State)
		if err != nil {
			return err
		}
		defer st.Close()
		opts.Store = st
		opts.Judges = judgesOf(cfg, rs, st, o.Log)
		console = st
	}
	d, err := daemon.New(ctx, opts)
	if err != nil {
		return err
	}
	if cfg.Web.Listen == "" {
		return d.Run(ctx)
	}
	return runWithConsole(ctx, d, web.Options{Config: cfg, Rules: rs, Store: console, Log: o.Log, AuditKey: auditKey})
}

// runWithConsole runs the daemon and the web console until ctx ends; the
// console failing to listen stops both.
func runWithConsole(ctx context.Context, d *daemon.Daemon, wo web.Options) error {
	srv, err := web.New(wo)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", wo.Config.Web.Listen)
	if err != nil {
		return fmt.Errorf("web console: %w", err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	webDone := make(chan error, 1)
	go func() {
		err := srv.Serve(ctx, ln)
		if err != nil {
			cancel(fmt.Errorf("web console: %w", err))
		}
		webDone <- err
	}()
	err = d.Run(ctx)
	cancel(nil)
	if werr := <-webDone; werr != nil && err == nil {
		err = fmt.Errorf("web console: %w", werr)
	}
	return err
}

// judgesOf builds the judges of each conversion over st: each file gets
// them anew, so a feed loaded meanwhile switches its rules on. Both engines
// hold the enrollment, authorization and provider data.
func judgesOf(cfg *config.Config, rs *rules.Set, st judges.Store, log *slog.Logger) func(context.Context) ([]encounters.Judge, error) {
	return func(ctx context.Context) ([]encounters.Judge, error) {
		return judges.New(ctx, judges.Env{Config: cfg, Rules: rs, Store: st, Log: log})
	}
}

// OpenPostgresWhenReady opens the PostgreSQL store, waiting while the
// database is unreachable or restarting (connection refused, SQLSTATE 57P03
// "not yet accepting connections": store.IsTransient) with backoff from
// initial doubling to maxWait; any other error, or ctx ending, is returned.
func OpenPostgresWhenReady(ctx context.Context, dsn string, opts store.PostgresOptions, initial, maxWait time.Duration, log *slog.Logger) (*store.Postgres, error) {
	wait := initial
	for {
		st, err := store.OpenPostgres(ctx, dsn, opts)
		if err == nil || !store.IsTransient(err) || ctx.Err() != nil {
			return st, err
		}
		if log != nil {
			log.Warn("state store not reachable yet; retrying", "err", err, "retry_in", wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		wait = min(2*wait, maxWait)
	}
}
