package main

import (
	"context"
	"fmt"

	"github.com/calaim-gateway/calaim-gateway/pipelines/gateway"
)

// open opens the gateway the global flags name: the configuration, its
// rule set and the state store (locked for this process).
func (g *globals) open(ctx context.Context) (*gateway.Gateway, error) {
	return gateway.Open(ctx, gateway.Options{Config: g.config, State: g.state, Log: g.log})
}

// fail prints err as the command's error and returns the exit code for an
// unusable command line, configuration or state.
func (g *globals) fail(err error) int {
	fmt.Fprintf(g.stderr, "calgw: %v\n", err)
	return exitUnusable
}
