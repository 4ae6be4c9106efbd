package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestDaemonDefaultsAreTheLocalLayout(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	src, ok := c.Sources[DefaultSource]
	if !ok || len(c.Sources) != 1 {
		t.Fatalf("sources = %+v", c.Sources)
	}
	if src.Transport.Type != "local" || src.Transport.Local.Dir != "." || src.Folder != "inbox" ||
		src.Processing != "processing" || src.Archive != "archive" || src.Quarantine != "quarantine" ||
		src.Ready != "stable" || src.PollInterval != DefaultPollInterval {
		t.Errorf("default source = %+v", src)
	}
	for _, name := range []string{DefaultDHCS, DefaultResponses} {
		if d := c.Destinations[name]; d.Transport.Type != "local" || d.Folder != "outbox" {
			t.Errorf("destination %s = %+v", name, d)
		}
	}
	if len(c.Routes) != 2 || c.Routes[0].Kind != "invoice" || c.Routes[1].Pattern != "*.xlsx" {
		t.Errorf("routes = %+v", c.Routes)
	}
	if c.State.Store != "sqlite" || c.State.Lease != DefaultLease || c.State.Node == "" || c.UsesPostgres() {
		t.Errorf("state = %+v", c.State)
	}
	if c.Retry.MaxAttempts != DefaultMaxAttempts || c.ShutdownGrace != DefaultShutdownGrace || c.HTTP.Listen != "127.0.0.1:9464" {
		t.Errorf("retry %+v grace %v http %+v", c.Retry, c.ShutdownGrace, c.HTTP)
	}
}

func TestDaemonDSNChoosesPostgres(t *testing.T) {
	c, err := Load(write(t, "state: {postgres: {dsn_file: /etc/calgw/dsn}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.UsesPostgres() {
		t.Errorf("store = %q, want postgres when a DSN is named", c.State.Store)
	}
}

func TestDaemonSourceDefaultsFollowItsFolder(t *testing.T) {
	c, err := Load(write(t, `
sources:
  partners:
    transport: {type: sftp, sftp: {host: sftp.example.org, user: calgw, private_key_file: /k, host_key_fingerprint: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"}}
    folder: /inbound/
    ready: marker
    poll_interval: 2m
`))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Sources["partners"]
	if s.Folder != "inbound" || s.Processing != "inbound/processing" || s.Archive != "inbound/archive" ||
		s.Quarantine != "inbound/quarantine" || !s.MarkerReady() || s.MarkerSuffix != ".done" || s.PollInterval != 2*time.Minute {
		t.Errorf("source = %+v", s)
	}
	if _, ok := c.Sources[DefaultSource]; ok {
		t.Error("the default source was added beside a configured one")
	}
}

// The examples in docs/daemon.md must stay valid configurations: the full
// one (several instances on PostgreSQL) and the single-instance one with the
// reference feeds and the monthly 274.
func TestDaemonDocumentedExamplesLoad(t *testing.T) {
	doc, err := os.ReadFile("../docs/daemon.md")
	if err != nil {
		t.Fatal(err)
	}
	ms := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(ms) < 2 {
		t.Fatalf("docs/daemon.md has %d yaml examples, want 2", len(ms))
	}
	full, err := Load(write(t, string(ms[0][1])))
	if err != nil {
		t.Fatalf("the full example does not load: %v", err)
	}
	if !full.UsesPostgres() || len(full.Sources) < 3 || len(full.Routes) < 2 {
		t.Errorf("the full example lost its substance: %d sources, %d routes", len(full.Sources), len(full.Routes))
	}
	feeds, err := Load(write(t, string(ms[1][1])))
	if err != nil {
		t.Fatalf("the feeds example does not load: %v", err)
	}
	kinds := map[string]bool{}
	for _, r := range feeds.Routes {
		kinds[r.Kind] = true
	}
	if feeds.UsesPostgres() || len(feeds.Schedules.Jobs) == 0 || !kinds["834"] || !kinds["auth"] || !kinds["roster"] || !kinds["invoice"] {
		t.Errorf("the feeds example lost its substance: routes %v, %d jobs, postgres %v", kinds, len(feeds.Schedules.Jobs), feeds.UsesPostgres())
	}
}

func TestDaemonConfigErrorsNameTheKey(t *testing.T) {
	local := "{type: local, local: {dir: /tmp}}"
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown store":         {"state: {store: mysql}", `state.store "mysql"`},
		"postgres without DSN":  {"state: {store: postgres}", "state.postgres: set exactly one of dsn_env and dsn_file"},
		"inline DSN refused":    {"state: {store: postgres, postgres: {dsn: 'postgres://u:p@h/db'}}", "state.postgres.dsn (line 1): unknown key (known here: dsn_env, dsn_file"},
		"postgres conf, sqlite": {"state: {store: sqlite, postgres: {dsn_env: X}}", "state.postgres is set but state.store"},
		"short lease":           {"state: {lease: 10ms}", "state.lease"},
		"bad listen":            {"http: {listen: '9464'}", "http.listen"},
		"transport error":       {"sources: {in: {transport: {type: ftp}}}", "sources.in.transport"},
		"folder escapes":        {"sources: {in: {transport: " + local + ", folder: ../etc}}", `sources.in.folder "../etc"`},
		"archive is folder":     {"sources: {in: {transport: " + local + ", folder: in, archive: in}}", "sources.in.archive"},
		"bad ready":             {"sources: {in: {transport: " + local + ", ready: soon}}", `sources.in.ready "soon"`},
		"bad marker":            {"sources: {in: {transport: " + local + ", ready: marker, marker_suffix: done}}", "sources.in.marker_suffix"},
		"unknown key":           {"sources: {in: {transport: " + local + ", watch: x}}", "sources.in.watch (line 1): unknown key"},
		"armor without keys":    {"destinations: {d: {transport: " + local + ", armor: true}}", "destinations.d.armor"},
		"route unknown source":  {"routes: [{source: nowhere, pattern: '*.csv', kind: invoice}]", `routes[0].source "nowhere"`},
		"route bad pattern":     {"routes: [{pattern: '[', kind: invoice}]", "routes[0].pattern"},
		"route no pattern":      {"routes: [{kind: invoice}]", "routes[0].pattern is required"},
		"route unknown kind":    {"routes: [{pattern: '*.csv', kind: claims}]", `routes[0].kind "claims"`},
		"route unknown dest":    {"routes: [{pattern: '*.csv', kind: invoice, deliver: {encounters: state}}]", `routes[0].deliver.encounters: destination "state"`},
		"job day 31":            {"schedules: {jobs: [{name: m, kind: monthly-report, day_of_month: 31}]}", "schedules.jobs[0].day_of_month 31"},
		"job bad time":          {"schedules: {jobs: [{name: m, kind: '274', day_of_month: 5, at: '6am'}]}", `schedules.jobs[0].at "6am"`},
		"job kind":              {"schedules: {jobs: [{name: m, kind: invoice, day_of_month: 5}]}", `schedules.jobs[0].kind "invoice"`},
		"job twice":             {"schedules: {jobs: [{name: m, kind: '274', day_of_month: 5}, {name: m, kind: '274', day_of_month: 6}]}", `"m": used twice`},
		"two passphrases":       {"pgp: {passphrase_env: A, passphrase_file: /b}", "pgp: set only one of passphrase_env and passphrase_file"},
		"retry":                 {"retry: {initial: 10m, max: 1m}", "retry: initial"},
		"notices no every":      {"schedules: {jobs: [{name: n, kind: adt-notices}]}", "schedules.jobs[0].every 0s: kind adt-notices needs an interval of 1m to 24h"},
		"notices every 25h":     {"schedules: {jobs: [{name: n, kind: adt-notices, every: 25h}]}", "schedules.jobs[0].every 25h0m0s"},
		"monthly with every":    {"schedules: {jobs: [{name: m, kind: '274', day_of_month: 5, every: 1h}]}", "schedules.jobs[0].every: kind 274 runs monthly"},
		"notice dest unknown":   {"adt: {notice_destinations: {'1234567893': nowhere}}", `adt.notice_destinations.1234567893: destination "nowhere"`},
		"notice dest bad NPI":   {"adt: {notice_destinations: {'12345': responses}}", `adt.notice_destinations: "12345" is not a 10-digit NPI`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(write(t, tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestSecret(t *testing.T) {
	t.Setenv("CALGW_TEST_SECRET", "s3cret")
	if v, err := Secret("dsn", "CALGW_TEST_SECRET", ""); err != nil || v != "s3cret" {
		t.Errorf("env: %q %v", v, err)
	}
	p := write(t, "from-file\n")
	if v, err := Secret("dsn", "", p); err != nil || v != "from-file" {
		t.Errorf("file: %q %v", v, err)
	}
	if _, err := Secret("dsn", "CALGW_TEST_UNSET_VARIABLE", ""); err == nil || !strings.Contains(err.Error(), "CALGW_TEST_UNSET_VARIABLE is not set") {
		t.Errorf("unset: %v", err)
	}
	empty := write(t, "\n")
	if _, err := Secret("dsn", "", empty); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("empty file: %v", err)
	}
}

// The console's audit key comes from audit_key_env, audit_key_file or
// CALGW_AUDIT_KEY; a short one is refused, without its value in the error.
func TestWebAuditKey(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef"
	t.Setenv(DefaultAuditKeyEnv, key)
	if v, err := (Web{}).AuditKey(); err != nil || string(v) != key {
		t.Errorf("default: %q %v", v, err)
	}
	t.Setenv("CALGW_TEST_AUDIT_KEY", key+"-env")
	if v, err := (Web{AuditKeyEnv: "CALGW_TEST_AUDIT_KEY"}).AuditKey(); err != nil || string(v) != key+"-env" {
		t.Errorf("env: %q %v", v, err)
	}
	if v, err := (Web{AuditKeyFile: write(t, key+"-file\n")}).AuditKey(); err != nil || string(v) != key+"-file" {
		t.Errorf("file: %q %v", v, err)
	}
	if _, err := (Web{AuditKeyFile: write(t, "short-secret\n")}).AuditKey(); err == nil || strings.Contains(err.Error(), "short-secret") {
		t.Errorf("short: %v", err)
	}
	t.Setenv(DefaultAuditKeyEnv, "")
	if _, err := (Web{}).AuditKey(); err == nil || !strings.Contains(err.Error(), DefaultAuditKeyEnv+" is not set") {
		t.Errorf("unset: %v", err)
	}
	if _, err := Load(write(t, "web:\n  audit_key_env: A\n  audit_key_file: /b\n")); err == nil || !strings.Contains(err.Error(), "audit_key_env and audit_key_file") {
		t.Errorf("both: %v", err)
	}
}
