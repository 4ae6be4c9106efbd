// Command calgw is the calaim-gateway CLI: it converts provider invoices to
// DHCS 837P encounters, validates X12 and invoice files, and runs the demo.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	_ "time/tzdata" // the configured time zone must load on minimal systems
)

// Exit codes shared by the commands.
const (
	exitOK       = 0
	exitRejected = 1 // convert: every line rejected; validate: a file is invalid
	exitUnusable = 2 // an input or the command line is unusable
)

// version is set with -ldflags "-X main.version=..." by release builds.
var version = "dev"

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, g *globals, args []string) int
}

// globals are the flags every command accepts.
type globals struct {
	state  string
	config string
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

// commands lists every command, in the order usage prints them.
var commands = []command{
	{"convert", "convert invoice files (CSV/XLSX) to a DHCS 837P encounter file", runConvert},
	{"validate", "check X12 (837P, 834, 999) and invoice files, printing every problem", runValidate},
	{"ingest", "load reference files into the state store: calgw ingest --kind KIND FILE...", runIngest},
	{"run", "watch the configured drops (local, SFTP, S3), process each file once, deliver the outputs", runDaemon},
	{"demo", "run the whole path on bundled sample invoices into ./demo-out", runDemo},
	{"rules", "list every rule: ID, description, effective dates, source", runRules},
	{"version", "print the version", runVersion},
	{"provider-file", "write the month's DHCS 274 provider network files, one per county: --month YYYY-MM --out DIR", runProviderFile},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// CALGW_CPUPROFILE=FILE writes a CPU profile of the command, for tuning.
	if p := os.Getenv("CALGW_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
			defer f.Close()
		}
	}
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	pprof.StopCPUProfile()
	stop()
	os.Exit(code)
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: calgw [--state DIR] <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nglobal flags (before or after the command):\n  --state DIR   state directory (default ./calgw-state)\n  --config FILE configuration file (YAML; default: built-in defaults)\n")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{state: "./calgw-state", stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("calgw", flag.ContinueOnError)
	fs.SetOutput(stderr)
	g.register(fs)
	fs.Usage = func() { usage(stderr) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUnusable
	}
	rest := fs.Args()
	if len(rest) == 0 {
		usage(stderr)
		return exitUnusable
	}
	g.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel()}))
	slog.SetDefault(g.log) // packages that log through slog.Default use the same handler
	for _, c := range commands {
		if c.name == rest[0] {
			return c.run(ctx, g, rest[1:])
		}
	}
	fmt.Fprintf(stderr, "calgw: unknown command %q\n\n", rest[0])
	usage(stderr)
	return exitUnusable
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.state, "state", g.state, "state directory")
	fs.StringVar(&g.config, "config", g.config, "configuration file (YAML)")
}

// newFlags returns a command's flag set with the global flags registered.
func (g *globals) newFlags(name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet("calgw "+name, flag.ContinueOnError)
	fs.SetOutput(g.stderr)
	g.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(g.stderr, "usage: calgw %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags and positional arguments in any order.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func logLevel() slog.Level {
	switch strings.ToLower(os.Getenv("CALGW_LOG")) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

func runVersion(_ context.Context, g *globals, args []string) int {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += "+" + s.Value[:12]
			}
		}
		fmt.Fprintf(g.stdout, "calgw %s (%s)\n", v, bi.GoVersion)
		return exitOK
	}
	fmt.Fprintf(g.stdout, "calgw %s\n", v)
	return exitOK
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
