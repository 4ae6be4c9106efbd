package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/pipelines/gateway"
)

// runMLLP is `calgw mllp --listen ADDR`: the MLLP listener alone, into the
// state store's HL7 inbox, until SIGTERM or SIGINT (exit 0 after a clean
// stop; 2 when it cannot start). It prints "listening on ADDR" once bound.
func runMLLP(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("mllp", "--listen ADDR [--config FILE] [--state DIR]")
	listen := fs.String("listen", "", "host:port to listen on (default: the configuration's mllp.listen)")
	pos, code, ok := g.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(g.stderr, "calgw mllp: unexpected arguments: %s\n", strings.Join(pos, " "))
		fs.Usage()
		return exitUnusable
	}
	dir, err := g.stateDir()
	if err != nil {
		fmt.Fprintf(g.stderr, "calgw mllp: %v\n", err)
		return exitUnusable
	}
	err = gateway.MLLP(ctx, gateway.MLLPOptions{
		Options: gateway.Options{Config: g.config, State: dir, Log: g.log},
		Listen:  *listen,
		Ready:   func(addr string) { fmt.Fprintf(g.stdout, "listening on %s\n", addr) },
	})
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(g.stderr, "calgw mllp: %v\n", err)
		return exitUnusable
	}
	return exitOK
}
