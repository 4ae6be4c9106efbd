package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/internal/progress"
	"github.com/calaim-gateway/calaim-gateway/internal/term"
	"github.com/calaim-gateway/calaim-gateway/pipelines/gateway"
)

// open opens the gateway the global flags name: the configuration, its
// rule set and the state store (locked for this process).
func (g *globals) open(ctx context.Context) (*gateway.Gateway, error) {
	dir, err := g.stateDir()
	if err != nil {
		return nil, err
	}
	return gateway.Open(ctx, gateway.Options{Config: g.config, State: dir, Log: g.log, Now: g.now})
}

// openExisting opens the gateway for a command that works without state
// but reads it when there is some (validate: the provider roster): only
// when --state is given or the per-user state directory exists, or the
// configuration names PostgreSQL. A state it cannot open (a running
// daemon holds the directory) is said once on stderr, and the command
// goes on without it (nil).
func (g *globals) openExisting(ctx context.Context, cmd string) *gateway.Gateway {
	cfg, err := config.Load(g.config) // the rule set is the command's to load
	if err != nil {
		return nil // the command reports the configuration itself
	}
	if !cfg.UsesPostgres() {
		dir, err := g.defaultStateDir()
		if err != nil || !gateway.StateExists(dir) {
			return nil // no state yet: nothing to read, and none is made
		}
	}
	gw, err := g.open(ctx)
	if err != nil {
		fmt.Fprintf(g.stderr, "calgw %s: the state is not read (%v): billing addresses are checked as if the provider roster knew no provider\n", cmd, err)
		return nil
	}
	return gw
}

// stateDir returns the state directory: --state, else
// $XDG_STATE_HOME/calgw, else ~/.local/state/calgw. One directory per user,
// wherever the command runs, so that control numbers and the lines already
// sent carry over from one run to the next. The first command that uses
// the per-user directory says where it is.
func (g *globals) stateDir() (string, error) {
	if g.state != "" {
		return g.state, nil
	}
	dir, err := g.defaultStateDir()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(g.stderr, "calgw: keeping state (control numbers, lines sent, loaded feeds) in %s; --state DIR chooses another\n", dir)
	}
	g.state = dir
	return dir, nil
}

// defaultStateDir is --state, else the per-user state directory, without
// making or announcing it.
func (g *globals) defaultStateDir() (string, error) {
	if g.state != "" {
		return g.state, nil
	}
	base := os.Getenv("XDG_STATE_HOME")
	if !filepath.IsAbs(base) { // the XDG specification ignores a relative path
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state directory: give --state DIR, or set XDG_STATE_HOME or HOME: %w", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "calgw"), nil
}

// fail prints err as the command's error and returns the exit code for an
// unusable command line, configuration or state.
func (g *globals) fail(err error) int {
	fmt.Fprintf(g.stderr, "calgw: %v\n", err)
	return exitUnusable
}

// progress shows how far a long command has read its files, on stderr when
// it is a terminal (internal/progress: 50 MB and more); stop clears it.
func (g *globals) progress(ctx context.Context, what string, files []string) (stop func()) {
	f, ok := g.stderr.(*os.File)
	if !ok || !term.IsTerminal(f) {
		return func() {}
	}
	return progress.Show(ctx, f, what, files)
}
