package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/transport"
)

// DaemonConfig configures `calgw run`: where files are dropped (sources),
// what each file is (routes), where outputs go (destinations), when things
// run (schedules), the state store, and operations. It is inlined in Config,
// so its keys are top-level keys of the configuration file. docs/daemon.md
// has a full example.
//
// With no sources, destinations or routes the daemon uses a local layout
// under the working directory: it watches ./inbox, delivers to ./outbox,
// moves sources to ./archive or ./quarantine, and routes *.csv and *.xlsx
// (encrypted or not) as invoices.
type DaemonConfig struct {
	State         StateConfig            `yaml:"state"`
	HTTP          HTTPConfig             `yaml:"http"`
	Schedules     Schedules              `yaml:"schedules"`
	Retry         RetryConfig            `yaml:"retry"`
	PGP           PGPConfig              `yaml:"pgp"`
	ShutdownGrace time.Duration          `yaml:"shutdown_grace"` // how long in-flight work may finish after SIGTERM; default 30s
	Sources       map[string]Source      `yaml:"sources"`
	Destinations  map[string]Destination `yaml:"destinations"`
	Routes        []Route                `yaml:"routes"`
	MLLP          MLLPConfig             `yaml:"mllp"` // HL7 v2 listener (mllp.go)
}

// StateConfig selects the state store.
type StateConfig struct {
	// Store is "sqlite" (one instance, in the --state directory) or
	// "postgres" (several instances share the work). Default: postgres when
	// postgres names a DSN, sqlite otherwise.
	Store    string         `yaml:"store"`
	Postgres PostgresConfig `yaml:"postgres"`
	// Lease is how long a file or run held by an instance that stopped (a
	// crash) blocks the others before they take it over; default 60s.
	Lease time.Duration `yaml:"lease"`
	// Node names this machine (default: its host name). Instances on the
	// same node can finish each other's deliveries from their work
	// directories.
	Node string `yaml:"node"`
}

// PostgresConfig locates the database. The DSN holds a password, so it is
// never written in the configuration: it comes from an environment variable
// or a file.
type PostgresConfig struct {
	DSNEnv   string `yaml:"dsn_env"`   // environment variable holding the DSN (postgres://user:pass@host/db)
	DSNFile  string `yaml:"dsn_file"`  // or a file holding it
	MaxConns int32  `yaml:"max_conns"` // connection pool size; default 4
}

// HTTPConfig configures the operations endpoint (/healthz, /metrics).
type HTTPConfig struct {
	// Listen is host:port; default DefaultHTTPListen; "off" = no HTTP
	// server. A port in use is logged and the daemon runs without it.
	Listen string `yaml:"listen"`
}

// Schedules says when sources are polled and scheduled jobs run.
type Schedules struct {
	PollInterval time.Duration  `yaml:"poll_interval"` // default 30s; a source may override it
	Jobs         []ScheduledJob `yaml:"jobs"`
}

// ScheduledJob runs once a month on a day of the month, or, for a kind of
// IntervalJobKinds, once in every interval of Every.
type ScheduledJob struct {
	Name       string            `yaml:"name"`         // unique; names the run in the ledger
	Kind       string            `yaml:"kind"`         // 274, monthly-report, adt-notices
	DayOfMonth int               `yaml:"day_of_month"` // 1..28 (monthly kinds)
	At         string            `yaml:"at"`           // HH:MM in the configured time zone; default 06:00 (adt-notices: when the day before's summary is made)
	Deliver    map[string]string `yaml:"deliver"`      // output role → destination
	// Every is the interval of an interval kind (adt-notices): the job
	// runs once in each interval, counted from midnight UTC; 1m..24h.
	Every time.Duration `yaml:"every"`
}

// IntervalJobKinds are the scheduled job kinds that run every
// ScheduledJob.Every instead of monthly.
var IntervalJobKinds = []string{"adt-notices"}

// RetryConfig governs retries of failed steps.
type RetryConfig struct {
	Initial     time.Duration `yaml:"initial"`      // first backoff; default 2s
	Max         time.Duration `yaml:"max"`          // longest backoff; default 5m
	MaxAttempts int           `yaml:"max_attempts"` // failures of a file's own processing before quarantine; default 3
}

// PGPConfig holds the plan's private keys, which decrypt inbound .pgp,
// .gpg and .asc files.
type PGPConfig struct {
	PrivateKeyFiles []string `yaml:"private_key_files"`
	PassphraseEnv   string   `yaml:"passphrase_env"`
	PassphraseFile  string   `yaml:"passphrase_file"`
}

// Source is a place files are dropped. Folders are relative to the
// transport's root (the local dir, the SFTP base_dir, the S3 prefix).
type Source struct {
	Transport    transport.Config `yaml:"transport"`
	Folder       string           `yaml:"folder"`        // watched folder; default "."
	Processing   string           `yaml:"processing"`    // files being processed; default FOLDER/processing
	Archive      string           `yaml:"archive"`       // default FOLDER/archive
	Quarantine   string           `yaml:"quarantine"`    // default FOLDER/quarantine
	Ready        string           `yaml:"ready"`         // stable (default): size and time unchanged over two polls; marker: a FILE.done beside it
	MarkerSuffix string           `yaml:"marker_suffix"` // default .done
	PollInterval time.Duration    `yaml:"poll_interval"` // default schedules.poll_interval
	// Settle (ready: stable, local and SFTP): how long after reading a
	// claimed file the daemon looks at it again (size, time and content)
	// before processing it; a file that changed goes back to wait. Default
	// the poll interval, at most 5s; 0s turns the check off.
	Settle *time.Duration `yaml:"settle"`
}

// SettleInterval is the source's settle interval (0: no check).
func (s *Source) SettleInterval() time.Duration {
	if s.Settle == nil || s.MarkerReady() || s.Transport.Type == "s3" {
		return 0
	}
	return *s.Settle
}

// Destination is a place outputs are delivered.
type Destination struct {
	Transport transport.Config `yaml:"transport"`
	Folder    string           `yaml:"folder"`     // default "."
	EncryptTo []string         `yaml:"encrypt_to"` // public key files: files delivered here are OpenPGP-encrypted (+ .pgp)
	Armor     bool             `yaml:"armor"`      // ASCII-armored (.asc) instead of binary
}

// Route says what kind of file a name is.
type Route struct {
	Source  string            `yaml:"source"`  // source name; "" = every source
	Pattern string            `yaml:"pattern"` // glob on the file name (without .pgp/.gpg/.asc), case-insensitive
	Kind    string            `yaml:"kind"`    // invoice, 834, adt, roster, auth, other_programs, dhcs-response, 837P, 277ca, 999, evr
	Deliver map[string]string `yaml:"deliver"` // output role → destination; the kind's defaults otherwise
}

// FileKinds are the kinds of file a route may name. A kind needs a
// processor in the daemon, which refuses at start a route to one it lacks.
var FileKinds = []string{"invoice", "834", "adt", "roster", "auth", "other_programs", "dhcs-response", "837P", "277ca", "999", "evr", "837p"}

// JobKinds are the kinds of scheduled job.
var JobKinds = []string{"274", "monthly-report", "adt-notices"}

// Default daemon settings.
const (
	DefaultPollInterval  = 30 * time.Second
	DefaultShutdownGrace = 30 * time.Second
	// DefaultHTTPListen serves /healthz and /metrics on the loopback only.
	DefaultHTTPListen   = "127.0.0.1:9464"
	DefaultRetryInitial = 2 * time.Second
	DefaultRetryMax     = 5 * time.Minute
	DefaultMaxAttempts  = 3
	DefaultLease        = 60 * time.Second
	DefaultMarkerSuffix = ".done"
	DefaultMaxSettle    = 5 * time.Second
)

// Names of the default layout's source and destinations.
const (
	DefaultSource      = "inbox"
	DefaultDHCS        = "dhcs"      // where 837P encounters go
	DefaultResponses   = "responses" // where rejects and summaries go back to senders
	DefaultInvoices    = "invoices"  // where encounter lines of providers' 837Ps go: the inbox the invoice route reads
	defaultInboxDir    = "inbox"
	defaultOutboxDir   = "outbox"
	defaultArchiveDir  = "archive"
	defaultQuarDir     = "quarantine"
	defaultProcessDir  = "processing"
	defaultJobTime     = "06:00"
	storeSQLite        = "sqlite"
	storePostgres      = "postgres"
	readyStable        = "stable"
	readyMarker        = "marker"
	defaultLocalLayout = "."
)

// UsesPostgres reports whether the state store is PostgreSQL.
func (d *DaemonConfig) UsesPostgres() bool { return d.State.Store == storePostgres }

// MarkerReady reports whether a source waits for a marker file.
func (s *Source) MarkerReady() bool { return s.Ready == readyMarker }

// applyDaemonDefaults fills what the file left out.
func (d *DaemonConfig) applyDaemonDefaults() {
	if d.State.Store == "" {
		d.State.Store = storeSQLite
		if d.State.Postgres.DSNEnv != "" || d.State.Postgres.DSNFile != "" {
			d.State.Store = storePostgres // naming a DSN is choosing PostgreSQL
		}
	}
	if d.State.Lease == 0 {
		d.State.Lease = DefaultLease
	}
	if d.State.Node == "" {
		d.State.Node, _ = os.Hostname()
	}
	if d.Schedules.PollInterval == 0 {
		d.Schedules.PollInterval = DefaultPollInterval
	}
	if d.ShutdownGrace == 0 {
		d.ShutdownGrace = DefaultShutdownGrace
	}
	if d.HTTP.Listen == "" {
		d.HTTP.Listen = DefaultHTTPListen
	}
	if d.Retry.Initial == 0 {
		d.Retry.Initial = DefaultRetryInitial
	}
	if d.Retry.Max == 0 {
		d.Retry.Max = DefaultRetryMax
	}
	if d.Retry.MaxAttempts == 0 {
		d.Retry.MaxAttempts = DefaultMaxAttempts
	}
	local := func() transport.Config {
		return transport.Config{Type: "local", Local: &transport.LocalConfig{Dir: defaultLocalLayout}}
	}
	if len(d.Sources) == 0 {
		d.Sources = map[string]Source{DefaultSource: {
			Transport: local(), Folder: defaultInboxDir, Processing: defaultProcessDir,
			Archive: defaultArchiveDir, Quarantine: defaultQuarDir,
		}}
	}
	if len(d.Destinations) == 0 {
		d.Destinations = map[string]Destination{
			DefaultDHCS:      {Transport: local(), Folder: defaultOutboxDir},
			DefaultResponses: {Transport: local(), Folder: defaultOutboxDir},
			DefaultInvoices:  {Transport: local(), Folder: defaultInboxDir},
		}
	}
	if len(d.Routes) == 0 {
		d.Routes = []Route{{Pattern: "*.csv", Kind: "invoice"}, {Pattern: "*.xlsx", Kind: "invoice"}}
	}
	for name, s := range d.Sources {
		if s.Folder == "" {
			s.Folder = "."
		}
		s.Folder = cleanFolder(s.Folder)
		if s.Processing == "" {
			s.Processing = path.Join(s.Folder, defaultProcessDir)
		}
		if s.Archive == "" {
			s.Archive = path.Join(s.Folder, defaultArchiveDir)
		}
		if s.Quarantine == "" {
			s.Quarantine = path.Join(s.Folder, defaultQuarDir)
		}
		s.Processing, s.Archive, s.Quarantine = cleanFolder(s.Processing), cleanFolder(s.Archive), cleanFolder(s.Quarantine)
		if s.Ready == "" {
			s.Ready = readyStable
		}
		if s.MarkerSuffix == "" {
			s.MarkerSuffix = DefaultMarkerSuffix
		}
		if s.PollInterval == 0 {
			s.PollInterval = d.Schedules.PollInterval
		}
		if s.Settle == nil {
			settle := min(s.PollInterval, DefaultMaxSettle)
			s.Settle = &settle
		}
		d.Sources[name] = s
	}
	for name, dst := range d.Destinations {
		if dst.Folder == "" {
			dst.Folder = "."
		}
		dst.Folder = cleanFolder(dst.Folder)
		d.Destinations[name] = dst
	}
	for i := range d.Schedules.Jobs {
		if d.Schedules.Jobs[i].At == "" {
			d.Schedules.Jobs[i].At = defaultJobTime
		}
	}
}

func cleanFolder(f string) string {
	c := path.Clean("/" + f)[1:]
	if c == "" {
		return "."
	}
	return c
}

// validateDaemon applies the defaults and checks every daemon setting,
// returning one message per problem, each naming the key.
func (d *DaemonConfig) validateDaemon() []string {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	// Folders stay inside their transport's root: checked before cleaning,
	// which would quietly drop a leading "..".
	escapes := func(v string) bool { return slices.Contains(strings.Split(v, "/"), "..") }
	for _, name := range sortedKeys(d.Sources) {
		s := d.Sources[name]
		for _, f := range []struct{ key, v string }{{"folder", s.Folder}, {"processing", s.Processing}, {"archive", s.Archive}, {"quarantine", s.Quarantine}} {
			if escapes(f.v) {
				bad("sources.%s.%s %q: must stay inside the transport's root (no \"..\")", name, f.key, f.v)
			}
		}
	}
	for _, name := range sortedKeys(d.Destinations) {
		if f := d.Destinations[name].Folder; escapes(f) {
			bad("destinations.%s.folder %q: must stay inside the transport's root (no \"..\")", name, f)
		}
	}
	d.applyDaemonDefaults()
	errs = append(errs, d.MLLP.validate()...)
	switch d.State.Store {
	case storeSQLite:
		if d.State.Postgres != (PostgresConfig{}) {
			bad("state.postgres is set but state.store is %q (set store: postgres)", d.State.Store)
		}
	case storePostgres:
		pg := d.State.Postgres
		if (pg.DSNEnv == "") == (pg.DSNFile == "") {
			bad("state.postgres: set exactly one of dsn_env and dsn_file (the DSN holds a password: it is never written in the configuration)")
		}
		if pg.MaxConns < 0 {
			bad("state.postgres.max_conns %d: must not be negative", pg.MaxConns)
		}
	default:
		bad("state.store %q: must be sqlite or postgres", d.State.Store)
	}
	if d.State.Lease < time.Second {
		bad("state.lease %v: must be at least 1s", d.State.Lease)
	}
	if d.HTTP.Listen != "" && d.HTTP.Listen != "off" {
		if _, _, err := net.SplitHostPort(d.HTTP.Listen); err != nil {
			bad("http.listen %q: want host:port (e.g. 127.0.0.1:9464): %v", d.HTTP.Listen, err)
		}
	}
	if d.Schedules.PollInterval < 10*time.Millisecond {
		bad("schedules.poll_interval %v: too short", d.Schedules.PollInterval)
	}
	if d.ShutdownGrace < 0 {
		bad("shutdown_grace %v: must not be negative", d.ShutdownGrace)
	}
	if d.Retry.Initial < 0 || d.Retry.Max < d.Retry.Initial {
		bad("retry: initial (%v) must be positive and at most max (%v)", d.Retry.Initial, d.Retry.Max)
	}
	if d.Retry.MaxAttempts < 1 {
		bad("retry.max_attempts %d: must be at least 1", d.Retry.MaxAttempts)
	}
	if d.PGP.PassphraseEnv != "" && d.PGP.PassphraseFile != "" {
		bad("pgp: set only one of passphrase_env and passphrase_file")
	}
	for i, f := range d.PGP.PrivateKeyFiles {
		if f == "" {
			bad("pgp.private_key_files[%d] is empty", i)
		}
	}

	for _, name := range sortedKeys(d.Sources) {
		s := d.Sources[name]
		p := "sources." + name
		errs = append(errs, checkName(p, name)...)
		if err := s.Transport.Validate(); err != nil {
			bad("%s.transport: %v", p, err)
		}
		for _, f := range []struct{ key, v string }{{"processing", s.Processing}, {"archive", s.Archive}, {"quarantine", s.Quarantine}} {
			if f.v == s.Folder {
				bad("%s.%s %q: must differ from the watched folder", p, f.key, f.v)
			}
		}
		if s.Archive == s.Quarantine {
			bad("%s: archive and quarantine must be different folders", p)
		}
		if s.Ready != readyStable && s.Ready != readyMarker {
			bad("%s.ready %q: must be stable or marker", p, s.Ready)
		}
		if !strings.HasPrefix(s.MarkerSuffix, ".") || len(s.MarkerSuffix) < 2 || strings.Contains(s.MarkerSuffix, "/") {
			bad("%s.marker_suffix %q: must be a file name ending such as .done", p, s.MarkerSuffix)
		}
		if s.Settle != nil && *s.Settle < 0 {
			bad("%s.settle %v: must not be negative", p, *s.Settle)
		}
		if s.PollInterval < 10*time.Millisecond {
			bad("%s.poll_interval %v: too short", p, s.PollInterval)
		}
	}
	for _, name := range sortedKeys(d.Destinations) {
		dst := d.Destinations[name]
		p := "destinations." + name
		errs = append(errs, checkName(p, name)...)
		if err := dst.Transport.Validate(); err != nil {
			bad("%s.transport: %v", p, err)
		}
		if dst.Armor && len(dst.EncryptTo) == 0 {
			bad("%s.armor is set but encrypt_to is empty", p)
		}
	}
	for i, r := range d.Routes {
		p := fmt.Sprintf("routes[%d]", i)
		if r.Source != "" {
			if _, ok := d.Sources[r.Source]; !ok {
				bad("%s.source %q is not in sources (%s)", p, r.Source, strings.Join(sortedKeys(d.Sources), ", "))
			}
		}
		if r.Pattern == "" {
			bad("%s.pattern is required (e.g. \"*.csv\")", p)
		} else if _, err := path.Match(strings.ToLower(r.Pattern), ""); err != nil || strings.Contains(r.Pattern, "/") {
			bad("%s.pattern %q: not a file name pattern", p, r.Pattern)
		}
		if !slices.Contains(FileKinds, r.Kind) {
			bad("%s.kind %q: must be one of %s", p, r.Kind, strings.Join(FileKinds, ", "))
		}
		errs = append(errs, d.checkDeliver(p, r.Deliver)...)
	}
	seen := map[string]bool{}
	for i, j := range d.Schedules.Jobs {
		p := fmt.Sprintf("schedules.jobs[%d]", i)
		errs = append(errs, checkName(p+".name", j.Name)...)
		if seen[j.Name] {
			bad("%s.name %q: used twice", p, j.Name)
		}
		seen[j.Name] = true
		if !slices.Contains(JobKinds, j.Kind) {
			bad("%s.kind %q: must be one of %s", p, j.Kind, strings.Join(JobKinds, ", "))
		}
		if slices.Contains(IntervalJobKinds, j.Kind) {
			if j.Every < time.Minute || j.Every > 24*time.Hour {
				bad("%s.every %s: kind %s needs an interval of 1m to 24h", p, j.Every, j.Kind)
			}
		} else if j.Every != 0 {
			bad("%s.every: kind %s runs monthly (day_of_month), not every interval", p, j.Kind)
		} else if j.DayOfMonth < 1 || j.DayOfMonth > 28 {
			bad("%s.day_of_month %d: must be 1..28 (every month has it)", p, j.DayOfMonth)
		}
		if _, err := time.Parse("15:04", j.At); err != nil {
			bad("%s.at %q: want HH:MM", p, j.At)
		}
		errs = append(errs, d.checkDeliver(p, j.Deliver)...)
	}
	return errs
}

func (d *DaemonConfig) checkDeliver(p string, deliver map[string]string) []string {
	var errs []string
	for _, role := range sortedKeys(deliver) {
		if _, ok := d.Destinations[deliver[role]]; !ok {
			errs = append(errs, fmt.Sprintf("%s.deliver.%s: destination %q is not in destinations (%s)",
				p, role, deliver[role], strings.Join(sortedKeys(d.Destinations), ", ")))
		}
	}
	return errs
}

func checkName(p, name string) []string {
	if name == "" || strings.ContainsAny(name, "/\\ :\t\n") {
		return []string{fmt.Sprintf("%s: name %q must be a non-empty word without spaces, slashes or colons", p, name)}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Secret reads a secret from the environment variable env or the file file
// (exactly one is set), without putting its value in an error.
func Secret(what, env, file string) (string, error) {
	switch {
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok || v == "" {
			return "", fmt.Errorf("%s: environment variable %s is not set", what, env)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s file: %w", what, err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("%s file %s is empty", what, file)
		}
		return v, nil
	}
	return "", errors.New(what + ": neither an environment variable nor a file is configured")
}
