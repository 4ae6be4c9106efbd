// Package daemon is `calgw run`: it watches the configured drops (local
// folders, SFTP servers, S3 buckets), takes every file in through the file
// ledger, processes it with the processor its route names, delivers the
// outputs, and moves the source to archive or quarantine.
//
// One file's way through, each step recorded in the ledger before the next
// (see store.Ledger for the states):
//
//	poll     a file whose size and time held over two polls (or whose .done
//	         marker is there) is registered, once, in the ledger
//	take     an instance takes the next due entry, with a lease
//	claim    the source file moves to the processing folder (S3: the lease
//	         is the claim)
//	fetch    it is copied to the work directory, decrypted if OpenPGP, and
//	         hashed: content seen before is archived as a duplicate
//	process  the processor's store run commits the lines and marks the entry
//	         committed in one transaction; the outputs stay in the work
//	         directory
//	deliver  each output is written atomically to its destination
//	archive  the source moves to archive (or, if it could not be processed,
//	         to quarantine with a .error.txt beside it)
//
// A crash anywhere leaves an entry whose state says what to redo or finish:
// nothing is lost, and since a committed run is resumed from its outputs
// instead of being converted again, no encounter is emitted twice.
package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/internal/pgp"
	pipeadt "github.com/calaim-gateway/calaim-gateway/pipelines/adt"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/pipelines/mllpd"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/calaim-gateway/calaim-gateway/transport"
)

// Options configure a Daemon.
type Options struct {
	Config *config.Config
	Store  store.LedgerStore
	// StateDir holds the work directory (outputs waiting for delivery) and
	// the instance name. With SQLite it is also the database's folder.
	StateDir string
	// Instance names this instance in the ledger; default: kept in
	// StateDir/instance, made on first start.
	Instance string
	// Shared is set when other instances share the store (PostgreSQL): the
	// daemon renews its leases so that they do not take its files over.
	Shared bool
	Log    *slog.Logger
	// Rules is the rule set every processor decides with; nil = loaded
	// from Config.
	Rules *rules.Set
	// Processors adds processors to the built-in ones, or replaces one, by
	// kind.
	Processors map[string]Registration
	// Judges returns the stateful invoice rules for one conversion.
	Judges func(ctx context.Context) ([]encounters.Judge, error)
	// CrashAt names a point where the process kills itself (SIGKILL), for
	// crash tests: "claimed", "fetched", "committed", "processed",
	// "recorded", "delivered", "moved", "released" (a changing file's
	// claim released, the file not moved back yet); "point:N" at its N-th
	// passage.
	CrashAt string
}

// Daemon runs the pipelines. Make one with New, then call Run.
type Daemon struct {
	cfg      *config.Config
	st       store.LedgerStore
	log      *slog.Logger
	instance string
	node     string
	workRoot string
	shared   bool
	lease    time.Duration

	sources []*source
	bySrc   map[string]*source
	dests   map[string]*destination
	procs   map[string]*processorEntry
	jobs    []config.ScheduledJob
	decrypt *pgp.Keys

	metrics  *metrics
	crash    *crashPoint
	stopping atomic.Bool
	wake     chan struct{}

	httpAddr atomic.Value // string: the address the HTTP server listens on
	started  chan struct{}
	mllp     *mllpd.Listener // the `mllp:` listener, nil when none
}

type processorEntry struct {
	reg  Registration
	proc Processor
}

// New checks the configuration against what this build can do and opens
// every source and destination, so that mistakes show at start: a route to
// a kind without a processor, an unknown output role, an SFTP host key that
// does not match, refused credentials, unreadable PGP keys. A source or
// destination that is unreachable for now (network, server down) is only
// logged: the daemon keeps trying.
func New(ctx context.Context, opts Options) (*Daemon, error) {
	cfg := opts.Config
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{
		cfg: cfg, st: opts.Store, log: log, shared: opts.Shared, lease: cfg.State.Lease,
		node: cfg.State.Node, workRoot: filepath.Join(opts.StateDir, "work"),
		bySrc: map[string]*source{}, dests: map[string]*destination{}, procs: map[string]*processorEntry{},
		jobs: cfg.Schedules.Jobs, metrics: newMetrics(opts.Store), wake: make(chan struct{}, 1), started: make(chan struct{}),
	}
	d.httpAddr.Store("")
	var err error
	if d.crash, err = parseCrashPoint(opts.CrashAt); err != nil {
		return nil, err
	}
	if d.instance = opts.Instance; d.instance == "" {
		if d.instance, err = InstanceName(opts.StateDir, d.node); err != nil {
			return nil, err
		}
	}
	if err := atomicfile.MkdirAll(d.workRoot, 0o750); err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	if err := d.buildProcessors(opts); err != nil {
		return nil, err
	}
	if len(cfg.PGP.PrivateKeyFiles) > 0 {
		var pass []byte
		if cfg.PGP.PassphraseEnv != "" || cfg.PGP.PassphraseFile != "" {
			p, err := config.Secret("pgp passphrase", cfg.PGP.PassphraseEnv, cfg.PGP.PassphraseFile)
			if err != nil {
				return nil, err
			}
			pass = []byte(p)
		}
		if d.decrypt, err = pgp.LoadPrivateKeys(pass, cfg.PGP.PrivateKeyFiles...); err != nil {
			return nil, err
		}
	}
	ok := false
	defer func() {
		if !ok {
			d.closeTransports()
		}
	}()
	for _, name := range sortedNames(cfg.Sources) {
		s := &source{name: name, cfg: cfg.Sources[name],
			seen: map[string]observation{}, warned: map[string]int64{}, others: map[string]bool{}}
		d.sources = append(d.sources, s)
		d.bySrc[name] = s
		if err := d.open(ctx, "source "+name, s.cfg.Transport, &s.t); err != nil {
			return nil, err
		}
	}
	for _, name := range sortedNames(cfg.Destinations) {
		dc := cfg.Destinations[name]
		dst := &destination{name: name, cfg: dc}
		if len(dc.EncryptTo) > 0 {
			if dst.encrypt, err = pgp.LoadPublicKeys(dc.EncryptTo...); err != nil {
				return nil, fmt.Errorf("destinations.%s.encrypt_to: %w", name, err)
			}
		}
		d.dests[name] = dst
		if err := d.open(ctx, "destination "+name, dc.Transport, &dst.t); err != nil {
			return nil, err
		}
	}
	if cfg.MLLP.Listen != "" {
		in, isInbox := opts.Store.(store.Inbox)
		if !isInbox {
			return nil, fmt.Errorf("mllp: the state store %T has no HL7 inbox", opts.Store)
		}
		if d.mllp, err = mllpd.Listen(mllpd.Options{Config: cfg.MLLP, Inbox: in, Log: log, Registerer: d.metrics.reg, ProcessingIDs: cfg.ADT.TakenProcessingIDs()}); err != nil {
			return nil, err
		}
	}
	ok = true
	return d, nil
}

// buildProcessors makes a processor for every kind a route or job names,
// and checks the deliver maps against the processors' roles.
func (d *Daemon) buildProcessors(opts Options) error {
	rs := opts.Rules
	if rs == nil {
		var err error
		if rs, err = d.cfg.LoadRules(); err != nil {
			return err
		}
	}
	env := Env{Config: d.cfg, Store: d.st, Rules: rs, Log: d.log, Judges: opts.Judges}
	if d.metrics != nil {
		env.Metrics = d.metrics.reg
	}
	table := maps.Clone(processors)
	maps.Copy(table, opts.Processors)
	var errs []error
	need := func(kind, where string, scheduled bool, deliver map[string]string) {
		reg, ok := table[kind]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: kind %q has no processor in this build of calgw (available: %s)",
				where, kind, strings.Join(slices.Sorted(maps.Keys(table)), ", ")))
			return
		}
		if scheduled != reg.Scheduled {
			what := "a file kind"
			if reg.Scheduled {
				what = "a scheduled job kind"
			}
			errs = append(errs, fmt.Errorf("%s: kind %q is %s", where, kind, what))
			return
		}
		roles := map[string]string{}
		for _, r := range reg.Roles {
			roles[r.Name] = r.DefaultDestination
		}
		for role := range deliver {
			if _, ok := roles[role]; !ok {
				errs = append(errs, fmt.Errorf("%s.deliver.%s: kind %q has no output %q (it has %s)", where, role, kind, role, roleNames(reg.Roles)))
			}
		}
		for role, def := range roles {
			if deliver[role] == "" {
				if _, ok := d.cfg.Destinations[def]; !ok {
					errs = append(errs, fmt.Errorf("%s: kind %q sends its %s output to destination %q by default, which is not in destinations: add it or set deliver.%s",
						where, kind, role, def, role))
				}
			}
		}
		if _, done := d.procs[kind]; done {
			return
		}
		p, err := reg.New(env)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s processor: %w", where, kind, err))
			return
		}
		d.procs[kind] = &processorEntry{reg: reg, proc: p}
	}
	for i, r := range d.cfg.Routes {
		need(r.Kind, fmt.Sprintf("routes[%d]", i), false, r.Deliver)
	}
	for i, j := range d.cfg.Schedules.Jobs {
		need(j.Kind, fmt.Sprintf("schedules.jobs[%d]", i), true, j.Deliver)
	}
	return errors.Join(errs...)
}

func roleNames(roles []Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.Name
	}
	return strings.Join(names, ", ")
}

// openTransport opens a source's or destination's transport; tests
// replace it to inject failures.
var openTransport = transport.New

// open connects a transport. Permanent failures (configuration, host key,
// credentials) stop the start; transient ones are logged and retried later.
func (d *Daemon) open(ctx context.Context, what string, cfg transport.Config, t *transport.Transport) error {
	tr, err := openTransport(ctx, cfg)
	if err == nil {
		*t = tr
		return nil
	}
	if transport.IsTransient(err) {
		d.log.Warn("not reachable at start; will keep trying", "what", what, "err", err)
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (d *Daemon) closeTransports() {
	for _, s := range d.sources {
		if s.t != nil {
			s.t.Close()
		}
	}
	for _, dst := range d.dests {
		if dst.t != nil {
			dst.t.Close()
		}
	}
}

// InstanceName reads the instance name kept in the state directory dir,
// making one (node plus random digits) on first use. It stays the same
// across restarts, so that a restarted instance finds its own files.
func InstanceName(dir, node string) (string, error) {
	p := filepath.Join(dir, "instance")
	if b, err := os.ReadFile(p); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("instance name: %w", err)
	}
	var b [4]byte
	rand.Read(b[:])
	if node == "" {
		node = "calgw"
	}
	name := node + "-" + hex.EncodeToString(b[:])
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("instance name: %w", err)
	}
	if err := os.WriteFile(p, []byte(name+"\n"), 0o640); err != nil {
		return "", fmt.Errorf("instance name: %w", err)
	}
	return name, nil
}

// Instance is the name this instance holds ledger entries under.
func (d *Daemon) Instance() string { return d.instance }

// HTTPAddr is the address the HTTP server listens on, once Run started it
// ("" without one).
func (d *Daemon) HTTPAddr() string {
	<-d.started
	return d.httpAddr.Load().(string)
}

// Run polls, processes and delivers until ctx is cancelled (SIGTERM), then
// stops taking files, lets the file in hand finish for up to
// shutdown_grace (then abandons it safely: its ledger state says where to
// resume), releases what it holds, and returns nil.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.closeTransports()
	// Work goes on after ctx is cancelled, for the grace period.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stop := context.AfterFunc(ctx, func() {
		d.stopping.Store(true)
		d.log.Info("shutting down: no new files; finishing the one in hand", "grace", d.cfg.ShutdownGrace)
		time.AfterFunc(d.cfg.ShutdownGrace, cancelWork)
		d.wakeUp()
	})
	defer stop()

	srv, err := d.startHTTP()
	if err != nil {
		if d.mllp != nil {
			d.mllp.Close()
		}
		close(d.started)
		return err
	}
	close(d.started)
	var bg sync.WaitGroup
	hbCtx, stopHB := context.WithCancel(work)
	if d.shared {
		bg.Add(1)
		go func() { defer bg.Done(); d.heartbeat(hbCtx) }()
	}
	if d.mllp != nil {
		// The listener stops reading at ctx's end and answers what it holds.
		bg.Add(1)
		go func() {
			defer bg.Done()
			if err := d.mllp.Serve(ctx); err != nil {
				d.log.Error("mllp listener stopped", "err", err)
			}
		}()
	}
	if in, ok := d.st.(store.Inbox); ok {
		if st, ok := d.st.(pipeadt.Store); ok {
			// The HL7 inbox (MLLP messages, from this listener or another
			// instance's) becomes ADT events in the background.
			proc := &pipeadt.Processor{Store: st, Profiles: pipeadt.Profiles(d.cfg)}
			bg.Add(1)
			go func() { defer bg.Done(); proc.RunInbox(hbCtx, in, time.Second, d.log) }()
		}
	}
	d.sweepWork(work)
	d.removeLeftoverTemps(work)
	for _, s := range d.sources {
		d.log.Info("source", "name", s.name, "at", describe(s.cfg.Transport), "folder", s.cfg.Folder, "ready", s.cfg.Ready,
			"archive", s.cfg.Archive, "quarantine", s.cfg.Quarantine, "poll", s.cfg.PollInterval)
	}
	for _, name := range sortedNames(d.dests) {
		dst := d.dests[name]
		d.log.Info("destination", "name", name, "at", describe(dst.cfg.Transport), "folder", dst.cfg.Folder, "encrypted", dst.encrypt != nil)
	}
	d.log.Info("calgw run started", "instance", d.instance, "sources", len(d.sources), "destinations", len(d.dests),
		"kinds", strings.Join(sortedNames(d.procs), ","), "store", d.cfg.State.Store, "http", d.httpAddr.Load())

	for !d.stopping.Load() {
		now := time.Now()
		d.poll(work, now)
		d.schedule(work, now)
		d.work(work)
		if d.stopping.Load() {
			break
		}
		d.sleep(d.nextWake(work))
	}

	// Let other instances (or this one's next start) continue what is left.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	if err := d.st.ReleaseFiles(rctx, d.instance); err != nil {
		d.log.Warn("releasing held files", "err", err)
	}
	cancel()
	stopHB()
	bg.Wait()
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		srv.Shutdown(sctx)
		cancel()
	}
	d.log.Info("calgw run stopped")
	return nil
}

func (d *Daemon) wakeUp() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *Daemon) sleep(wait time.Duration) {
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-d.wake:
	}
}

// nextWake is how long until a source is due for polling, a ledger entry
// is due, or a scheduled job's time comes (checked at least every poll
// interval).
func (d *Daemon) nextWake(ctx context.Context) time.Duration {
	now := time.Now()
	wait := d.cfg.Schedules.PollInterval
	for _, s := range d.sources {
		wait = min(wait, s.nextPoll.Sub(now))
	}
	if due, ok, err := d.st.NextFileDue(ctx, d.instance, d.node); err == nil && ok {
		wait = min(wait, due)
	}
	return max(wait, 10*time.Millisecond)
}

// work takes due ledger entries one at a time and drives each as far as it
// goes.
func (d *Daemon) work(ctx context.Context) {
	for range 10000 {
		if d.stopping.Load() {
			return
		}
		e, err := d.st.TakeFile(ctx, d.instance, d.node, d.lease)
		if err != nil {
			d.metrics.error("take")
			if isTransient(err) {
				d.log.Warn("state store unavailable; retrying", "err", err)
			} else {
				d.log.Error("taking the next file from the ledger", "err", err)
			}
			return
		}
		if e == nil {
			return
		}
		d.drive(ctx, e)
	}
}

// sweepWork removes work directories of files that are finished: left by
// a crash between a file's last step and the clean-up, or by a file another
// instance took over and finished.
func (d *Daemon) sweepWork(ctx context.Context) {
	entries, err := os.ReadDir(d.workRoot)
	if err != nil {
		return
	}
	for _, de := range entries {
		id, err := strconv.ParseInt(de.Name(), 10, 64)
		if err != nil || !de.IsDir() {
			continue
		}
		e, err := d.st.File(ctx, id)
		if err == nil && !e.State.Final() {
			continue
		}
		if err != nil && !errors.Is(err, store.ErrNoFile) {
			continue // the store did not answer: keep it
		}
		os.RemoveAll(filepath.Join(d.workRoot, de.Name()))
	}
}

// removeLeftoverTemps deletes the temporary copies a crash during a
// delivery left (hidden ".NAME.<16 hex>.calgw-tmp" files, see
// transport.IsTempName; they may hold member data) in every folder this
// instance writes to: each destination's folder, and the archive and
// quarantine folders of each source (where the notes go). Only names of the
// transport's own pattern are touched. A place not reachable at start is
// skipped (its leftovers wait for the next start).
func (d *Daemon) removeLeftoverTemps(ctx context.Context) {
	type place struct {
		what, folder string
		t            transport.Transport
	}
	var places []place
	for _, name := range sortedNames(d.dests) {
		dst := d.dests[name]
		places = append(places, place{"destination " + name, dst.cfg.Folder, dst.t})
	}
	for _, s := range d.sources {
		places = append(places, place{"source " + s.name, s.cfg.Archive, s.t}, place{"source " + s.name, s.cfg.Quarantine, s.t})
	}
	for _, p := range places {
		tc, ok := p.t.(transport.TempCleaner)
		if !ok || p.t == nil {
			continue
		}
		removed, err := tc.RemoveTemps(ctx, p.folder)
		if len(removed) > 0 {
			d.log.Warn("removed temporary copies left by an interrupted delivery", "where", p.what, "folder", p.folder, "files", len(removed))
		}
		if err != nil {
			d.log.Warn("removing temporary copies left by an interrupted delivery", "where", p.what, "folder", p.folder, "err", err)
		}
	}
}

// heartbeat renews this instance's leases while it runs.
func (d *Daemon) heartbeat(ctx context.Context) {
	t := time.NewTicker(max(d.lease/3, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := d.st.RenewLeases(ctx, d.instance, d.lease); err != nil && ctx.Err() == nil {
			d.metrics.error("lease")
			d.log.Error("renewing leases: other instances may take this one's files over", "err", err)
		}
	}
}

// startHTTP serves /healthz and /metrics unless http.listen is off. An
// address it cannot listen on (a port in use: another instance on the
// machine) is logged, and the daemon runs without the server.
func (d *Daemon) startHTTP() (*http.Server, error) {
	if d.cfg.HTTP.Listen == "" || d.cfg.HTTP.Listen == "off" {
		return nil, nil
	}
	l, err := net.Listen("tcp", d.cfg.HTTP.Listen)
	if err != nil {
		d.log.Warn("http: cannot listen, /healthz and /metrics are off (set http.listen to a free port, or off)", "listen", d.cfg.HTTP.Listen, "err", err)
		return nil, nil
	}
	d.httpAddr.Store(l.Addr().String())
	d.log.Info("http: serving /healthz and /metrics", "listen", l.Addr().String())
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", d.healthz)
	mux.Handle("/metrics", d.metrics.handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return srv, nil
}

// crashPoint kills the process at a named point, for crash tests.
type crashPoint struct {
	name string
	n    int
	file string // "processing@NAME": every time processing of a file named NAME starts
	mu   sync.Mutex
	seen int
}

func parseCrashPoint(spec string) (*crashPoint, error) {
	if spec == "" {
		return nil, nil
	}
	if file, ok := strings.CutPrefix(spec, "processing@"); ok && file != "" {
		return &crashPoint{name: "processing", file: file}, nil
	}
	name, count, _ := strings.Cut(spec, ":")
	n := 1
	if count != "" {
		if _, err := fmt.Sscan(count, &n); err != nil || n < 1 {
			return nil, fmt.Errorf("crash point %q: want NAME or NAME:N", spec)
		}
	}
	known := []string{"claimed", "downloading", "fetched", "committed", "processed", "recorded", "delivered", "moved", "released"}
	if !containsString(known, name) {
		return nil, fmt.Errorf("crash point %q: want one of %s", name, strings.Join(known, ", "))
	}
	return &crashPoint{name: name, n: n}, nil
}

// atFile kills the process when processing of a file named file starts
// and the crash point names it (processing@NAME): a poison file.
func (c *crashPoint) atFile(name, file string) {
	if c == nil || c.file == "" || c.name != name || c.file != file {
		return
	}
	fmt.Fprintf(os.Stderr, "calgw: crash point %s@%s reached: SIGKILL\n", name, file)
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // never returns
}

func (c *crashPoint) at(name string) {
	if c == nil || c.file != "" || c.name != name {
		return
	}
	c.mu.Lock()
	c.seen++
	hit := c.seen == c.n
	c.mu.Unlock()
	if hit {
		fmt.Fprintf(os.Stderr, "calgw: crash point %s reached: SIGKILL\n", name)
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // never returns
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// describe says where a transport points, without credentials.
func describe(c transport.Config) string {
	switch {
	case c.Local != nil:
		abs, err := filepath.Abs(c.Local.Dir)
		if err != nil {
			abs = c.Local.Dir
		}
		return "local:" + abs
	case c.SFTP != nil:
		port := c.SFTP.Port
		if port == 0 {
			port = 22
		}
		return fmt.Sprintf("sftp://%s@%s:%d/%s", c.SFTP.User, c.SFTP.Host, port, strings.TrimPrefix(c.SFTP.BaseDir, "/"))
	case c.S3 != nil:
		return "s3://" + c.S3.Bucket + "/" + c.S3.Prefix
	}
	return c.Type
}
