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
	"sync/atomic"
	"syscall"
	"time"
	_ "time/tzdata" // the configured time zone must load on minimal systems

	"github.com/calaim-gateway/calaim-gateway/internal/earlysignal"
	"github.com/calaim-gateway/calaim-gateway/pipelines/gateway"
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
	state    string    // "" until resolved: the --state flag, else the per-user directory
	stateSet bool      // --state was given
	now      time.Time // a pinned clock (the demo's); zero = the real time
	config   string
	summary  string // the running command's line of the command list, for its usage
	stdout   io.Writer
	stderr   io.Writer
	log      *slog.Logger
}

// commands lists every command, in the order usage prints them.
var commands = []command{
	{"convert", "convert invoice files (CSV/XLSX) to a DHCS 837P encounter file", runConvert},
	{"validate", "check files, printing every problem: X12 (837P, 834, 999, TA1, 277CA, 274), HL7 v2 ADT, invoices and rosters (CSV/XLSX), monthly JSON and DHCS responses", runValidate},
	{"ingest", "load reference files into the state store: calgw ingest --kind KIND FILE...", runIngest},
	{"run", "watch the configured drops (local, SFTP, S3), process each file once, deliver the outputs", runDaemon},
	{"demo", "run the whole path on bundled sample invoices into ./demo-out", runDemo},
	{"rules", "list every rule: ID, description, effective dates, source", runRules},
	{"version", "print the version", runVersion},
	{"provider-file", "write the month's DHCS 274 provider network files, one per county: --month YYYY-MM --out DIR", runProviderFile},
	{"report", "write a report from the state store: calgw report KIND [flags]", runReport},
	{"serve", "the daemon with the web console, on one machine: --listen ADDR", runServe},
	{"user", "add a web console user: calgw user add --role operator|admin|provider [--npi NPI] NAME", runUser},
	{"explain", "print the recorded decision on an invoice line, with its evidence: --invoice N --line L", runExplain},
	{"mllp", "receive HL7 v2 messages over MLLP into the state store's inbox: --listen ADDR", runMLLP},
	{"notices", "write the pending ADT notices, one CSV per ECM provider: --out DIR", runNotices},
}

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := earlysignal.Signals() // catching since before main
	var got atomic.Value          // the signal that stopped the command
	go func() {
		s := <-sigs
		got.Store(s)
		cancel()
		signal.Stop(sigs) // a second Ctrl-C kills the process the usual way
	}()
	// CALGW_CPUPROFILE=FILE writes a CPU profile of the command, for tuning.
	if p := os.Getenv("CALGW_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
			defer f.Close()
		}
	}
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	pprof.StopCPUProfile()
	// CALGW_MEMPROFILE=FILE writes the heap profile (live and allocated)
	// as the command ends, for tuning.
	if p := os.Getenv("CALGW_MEMPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	if s, ok := got.Load().(os.Signal); ok {
		code = signalExit(os.Args[1:], s, code)
	}
	cancel()
	os.Exit(code)
}

// signalExit is the exit code of a command stopped by a signal: 130 after
// SIGINT and 143 after SIGTERM (128 + the signal's number), so that a
// stopped command never looks like a finished one; except the daemon,
// whose SIGTERM is its normal stop (exit 0 once it stopped cleanly).
func signalExit(args []string, s os.Signal, code int) int {
	if isDaemon(args) && s == syscall.SIGTERM {
		return code
	}
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return code
}

// isDaemon reports whether the command line runs a server: `calgw run` or `calgw mllp`.
func isDaemon(args []string) bool {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--state" || a == "--config" || a == "-state" || a == "-config":
			i++ // the flag's value
		case strings.HasPrefix(a, "-"):
		default:
			return a == "run" || a == "mllp"
		}
	}
	return false
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: calgw [--state DIR] [--config FILE] <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-14s %s\n", "help", "print this help, or a command's: calgw help COMMAND")
	fmt.Fprintf(w, "\nglobal flags (before or after the command):\n"+
		"  --state DIR   state directory (default $XDG_STATE_HOME/calgw, else ~/.local/state/calgw)\n"+
		"  --config FILE configuration file (YAML; default: built-in defaults)\n")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("calgw", flag.ContinueOnError)
	fs.SetOutput(stderr)
	g.register(fs)
	fs.Usage = func() { usage(stdout) }
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
	if rest[0] == "help" {
		return help(ctx, g, rest[1:])
	}
	g.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel()}))
	slog.SetDefault(g.log) // packages that log through slog.Default use the same handler
	for _, c := range commands {
		if c.name == rest[0] {
			g.summary = c.summary
			return c.run(ctx, g, rest[1:])
		}
	}
	fmt.Fprintf(stderr, "calgw: unknown command %q\n\n", rest[0])
	usage(stderr)
	return exitUnusable
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.Func("state", "state directory (default $XDG_STATE_HOME/calgw, else ~/.local/state/calgw)", func(s string) error {
		g.state, g.stateSet = s, true
		return nil
	})
	fs.StringVar(&g.config, "config", g.config, "configuration file (YAML)")
}

// help prints the usage, or a command's, to stdout.
func help(ctx context.Context, g *globals, args []string) int {
	if len(args) == 0 {
		usage(g.stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			g.summary = c.summary
			return c.run(ctx, g, []string{"--help"})
		}
	}
	fmt.Fprintf(g.stderr, "calgw help: unknown command %q\n\n", args[0])
	usage(g.stderr)
	return exitUnusable
}

// newFlags returns a command's flag set with the global flags registered.
// Its usage goes to stdout when asked for (-h, --help) and to stderr after
// a mistake.
func (g *globals) newFlags(name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet("calgw "+name, flag.ContinueOnError)
	fs.SetOutput(g.stderr)
	g.register(fs)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: calgw %s %s\n", name, args)
		if g.summary != "" {
			fmt.Fprintf(w, "\n%s\n\n", g.summary)
		}
		fs.PrintDefaults()
	}
	return fs
}

// missing reports the required flags that were not given, and prints the
// usage to stderr.
func missing(g *globals, fs *flag.FlagSet, flags ...string) int {
	fmt.Fprintf(g.stderr, "calgw %s: missing %s\n", strings.TrimPrefix(fs.Name(), "calgw "), strings.Join(flags, ", "))
	fs.Usage()
	return exitUnusable
}

// parse parses flags and positional arguments in any order. ok is false
// when the command stops there: after -h or --help (the usage on stdout,
// exit 0) or a flag mistake (the flag package said which, on stderr;
// exit 2).
func (g *globals) parse(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "--h" || a == "-help" || a == "--help" {
			fs.SetOutput(g.stdout)
			fs.Usage()
			return nil, exitOK, false
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, exitUnusable, false
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, exitOK, true
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
	if _, code, ok := g.parse(g.newFlags("version", ""), args); !ok {
		return code
	}
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

// parseMonthOut parses the flags of a monthly verb: --month YYYY-MM and
// --out DIR, both required, and no arguments. ok is false when the verb
// must exit with code.
func (g *globals) parseMonthOut(fs *flag.FlagSet, args []string, month, out *string) (m gateway.Month, code int, ok bool) {
	pos, code, ok := g.parse(fs, args)
	if !ok {
		return m, code, false
	}
	verb := strings.TrimPrefix(fs.Name(), "calgw ")
	if len(pos) > 0 {
		fmt.Fprintf(g.stderr, "calgw %s: unexpected arguments: %s\n", verb, strings.Join(pos, " "))
		fs.Usage()
		return m, exitUnusable, false
	}
	var need []string
	if *month == "" {
		need = append(need, "--month YYYY-MM")
	}
	if *out == "" {
		need = append(need, "--out DIR")
	}
	if len(need) > 0 {
		return m, missing(g, fs, need...), false
	}
	m, err := gateway.ParseMonth(*month)
	if err != nil {
		fmt.Fprintf(g.stderr, "calgw %s: %v\n", verb, err)
		return m, exitUnusable, false
	}
	return m, 0, true
}
