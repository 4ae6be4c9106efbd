package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/pipelines/gateway"
)

// envCrashAt names the test-only environment variable that makes the
// daemon kill itself at a named point (see daemon.Options.CrashAt).
const envCrashAt = "CALGW_TEST_CRASH_AT"

// runDaemon is `calgw run [--config FILE] [--state DIR]`: it runs until
// SIGTERM or SIGINT and exits 0 after a clean shutdown, 2 when it cannot
// start (configuration, store, a source's host key or credentials).
func runDaemon(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("run", "[--config FILE] [--state DIR]")
	pos, code, ok := g.parse(fs, args)
	if !ok {
		return code
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
	dir, err := g.stateDir()
	if err != nil {
		return fail(err)
	}
	err = gateway.Run(ctx, gateway.RunOptions{Options: gateway.Options{Config: g.config, State: dir, Log: g.log}, CrashAt: os.Getenv(envCrashAt)})
	if err != nil && ctx.Err() == nil {
		return fail(err)
	}
	// Stopped (SIGTERM, SIGINT), even while it was starting: a clean stop.
	return exitOK
}
