package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/pipelines/gateway"
)

// defaultListen is where `calgw serve` serves the console without --listen.
const defaultListen = "127.0.0.1:8080"

// runServe is `calgw serve [--state DIR] [--listen ADDR]`: the daemon and
// the web console in one process, for a single machine.
func runServe(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("serve", "[--config FILE] [--state DIR] [--listen ADDR]")
	listen := fs.String("listen", "", "address of the web console (default: the configuration's web.listen, else "+defaultListen+")")
	pos, code, ok := g.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(g.stderr, "calgw serve: unexpected arguments: %s\n", strings.Join(pos, " "))
		fs.Usage()
		return exitUnusable
	}
	dir, err := g.stateDir()
	if err != nil {
		return g.fail(err)
	}
	addr := *listen
	if addr == "" {
		cfg, _, err := gateway.LoadConfig(g.config)
		if err != nil {
			return g.fail(err)
		}
		addr = cfg.Web.Listen
		if addr == "" {
			addr = defaultListen
		}
	}
	fmt.Fprintf(g.stderr, "calgw serve: the web console listens on %s\n", addr)
	err = gateway.Run(ctx, gateway.RunOptions{Options: gateway.Options{Config: g.config, State: dir, Log: g.log}, WebListen: addr})
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(g.stderr, "calgw serve: %v\n", err)
		return exitUnusable
	}
	return exitOK
}

// runUser is `calgw user add --role ROLE [--npi NPI]... NAME`. The password
// comes from --password-file, --password-env or the first line of stdin,
// never from a flag's value (which other users of the machine can read).
func runUser(ctx context.Context, g *globals, args []string) int {
	if len(args) == 0 || args[0] != "add" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(g.stdout, "usage: calgw user add --role operator|admin|provider [--npi NPI]... [--password-file FILE | --password-env NAME] NAME")
			return exitOK
		}
		fmt.Fprintln(g.stderr, "usage: calgw user add --role operator|admin|provider [--npi NPI]... [--password-file FILE | --password-env NAME] NAME")
		return exitUnusable
	}
	fs := g.newFlags("user add", "--role operator|admin|provider [--npi NPI]... [--password-file FILE | --password-env NAME] NAME")
	role := fs.String("role", "", "operator, admin (also manages users) or provider")
	var npis stringList
	fs.Var(&npis, "npi", "a billing NPI the provider is bound to (repeat, or comma-separated)")
	pwFile := fs.String("password-file", "", "read the password from the first line of FILE")
	pwEnv := fs.String("password-env", "", "read the password from the environment variable NAME")
	pos, code, ok := g.parse(fs, args[1:])
	if !ok {
		return code
	}
	if *role == "" || len(pos) != 1 {
		return missing(g, fs, "--role and one user NAME")
	}
	password, err := readPassword(g, *pwFile, *pwEnv)
	if err != nil {
		fmt.Fprintf(g.stderr, "calgw user add: %v\n", err)
		return exitUnusable
	}
	gw, err := g.open(ctx)
	if err != nil {
		return g.fail(err)
	}
	defer gw.Close()
	u, err := gw.AddUser(ctx, pos[0], *role, strings.Join(npis, ","), password)
	if err != nil {
		fmt.Fprintf(g.stderr, "calgw user add: %v\n", err)
		return exitUnusable
	}
	fmt.Fprintf(g.stdout, "user %s added (%s", u.Name, u.Role)
	if len(u.NPIs) > 0 {
		fmt.Fprintf(g.stdout, ", NPIs %s", strings.Join(u.NPIs, ", "))
	}
	fmt.Fprintln(g.stdout, ")")
	return exitOK
}

// stdin is where readPassword reads a password given on standard input;
// tests replace it.
var stdin io.Reader = os.Stdin

func readPassword(g *globals, file, env string) (string, error) {
	switch {
	case file != "" && env != "":
		return "", errors.New("give --password-file or --password-env, not both")
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", env)
		}
		return v, nil
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return "", err
		}
		defer f.Close()
		return firstLine(f)
	}
	fmt.Fprintln(g.stderr, "password (one line on standard input):")
	return firstLine(stdin)
}

func firstLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password given")
	}
	return line, nil
}

// runExplain is `calgw explain --invoice N [--line L]`: each recorded
// decision on the line, latest run first, with the rule, its source and
// the facts it used.
func runExplain(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("explain", "--invoice NUMBER [--line LINE]")
	invoice := fs.String("invoice", "", "invoice number")
	line := fs.String("line", "", "line number as the provider numbered it (default: every line)")
	pos, code, ok := g.parse(fs, args)
	if !ok {
		return code
	}
	if *invoice == "" || len(pos) > 0 {
		return missing(g, fs, "--invoice")
	}
	gw, err := g.open(ctx)
	if err != nil {
		return g.fail(err)
	}
	defer gw.Close()
	ds, err := gw.Explain(ctx, *invoice, *line)
	if err != nil {
		return g.fail(err)
	}
	if len(ds) == 0 {
		fmt.Fprintf(g.stderr, "calgw explain: no decision recorded on invoice %s%s\n", *invoice, map[bool]string{true: " line " + *line, false: ""}[*line != ""])
		return exitRejected
	}
	for i, d := range ds {
		if i > 0 {
			fmt.Fprintln(g.stdout)
		}
		fmt.Fprintf(g.stdout, "invoice %s line %s: %s (run %d, %s row %d)\n", d.Invoice, d.LineNo, d.Outcome, d.Run, d.File, d.Row)
		if d.Rule != "" {
			fmt.Fprintf(g.stdout, "  rule:   %s", d.Rule)
			if d.Field != "" {
				fmt.Fprintf(g.stdout, " (column %s)", d.Field)
			}
			fmt.Fprintf(g.stdout, "\n  why:    %s\n  source: %s\n", d.Message, d.Source)
		}
		fmt.Fprintf(g.stdout, "  line:   %s %s..%s, billing NPI %s\n", d.Code, d.From, d.To, d.NPI)
		for _, f := range d.Facts {
			fmt.Fprintf(g.stdout, "  %-13s %s\n", f.Kind+":", f.Detail)
		}
	}
	return exitOK
}
