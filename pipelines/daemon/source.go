package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/internal/pgp"
	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/calaim-gateway/calaim-gateway/transport"
)

// source is a watched drop.
type source struct {
	name string
	cfg  config.Source
	t    transport.Transport // nil until connected

	seen      map[string]observation // files in the folder at the last poll
	warned    map[string]int64       // unrouted files already reported: path → size
	others    map[string]bool        // folders, links, pipes already reported
	nextPoll  time.Time
	failures  int       // consecutive failed polls
	downSince time.Time // when the failed polls began
}

// observation is what a poll saw of a file.
type observation struct {
	size       int64
	mod        time.Time
	etag       string
	first      time.Time // when this instance first saw it (this size and time)
	registered bool      // in the ledger
	// waiting: the ledger refused to register it because an entry of the
	// same path is not finished yet (reported once)
	waiting bool
}

func (o observation) same(obj transport.Object) bool {
	return o.size == obj.Size && o.mod.Equal(obj.ModTime) && o.etag == obj.ETag
}

// destination is where outputs go.
type destination struct {
	name    string
	cfg     config.Destination
	t       transport.Transport
	encrypt *pgp.Keys // nil: deliver as is
}

// route finds the kind of a file name in a source: the first route whose
// source matches (or is empty) and whose pattern matches the name without
// its OpenPGP ending, case-insensitively.
func (d *Daemon) route(src, name string) *config.Route {
	plain, _ := pgp.Plain(name)
	lower := strings.ToLower(plain)
	for i := range d.cfg.Routes {
		r := &d.cfg.Routes[i]
		if r.Source != "" && r.Source != src {
			continue
		}
		if ok, _ := path.Match(strings.ToLower(r.Pattern), lower); ok {
			return r
		}
	}
	return nil
}

// poll lists every source that is due and registers the files that are
// ready.
func (d *Daemon) poll(ctx context.Context, now time.Time) {
	for _, s := range d.sources {
		if d.stopping.Load() {
			return
		}
		if now.Before(s.nextPoll) {
			continue
		}
		err := d.pollSource(ctx, s, now)
		if err == nil {
			if s.failures > 0 {
				d.log.Info("source reachable again", "source", s.name, "failed_polls", s.failures, "down_for", time.Since(s.downSince).Round(time.Second))
			}
			s.failures = 0
			s.nextPoll = time.Now().Add(s.cfg.PollInterval)
			d.metrics.sourceUp(s.name, true)
			d.metrics.success("poll", s.name)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if s.failures == 0 {
			s.downSince = time.Now()
		}
		s.failures++
		d.metrics.sourceUp(s.name, false)
		d.metrics.error("poll")
		wait := d.backoff(s.failures)
		if !isTransient(err) {
			// Credentials, host key, permissions: an operator must act. Say
			// so loudly, and keep trying at the slowest cadence.
			wait = d.cfg.Retry.Max
			d.log.Error("source failing: check its configuration", "source", s.name, "err", err, "retry_in", wait)
		} else {
			d.log.Warn("source unreachable", "source", s.name, "err", err, "failures", s.failures, "retry_in", wait)
		}
		s.nextPoll = time.Now().Add(max(wait, s.cfg.PollInterval))
	}
}

func (d *Daemon) pollSource(ctx context.Context, s *source, now time.Time) error {
	if s.t == nil {
		t, err := openTransport(ctx, s.cfg.Transport)
		if err != nil {
			return err
		}
		s.t = t
		d.log.Info("source connected", "source", s.name)
	}
	objs, err := s.t.List(ctx, s.cfg.Folder)
	if errors.Is(err, fs.ErrNotExist) && s.cfg.Transport.Type != "s3" {
		// A watched folder that does not exist yet is made, not an error.
		if err = s.t.MkdirAll(ctx, s.cfg.Folder); err == nil {
			objs, err = s.t.List(ctx, s.cfg.Folder)
		}
	}
	if err != nil {
		return err
	}
	d.reportOthers(ctx, s)
	ready := s.ready(objs, now)
	var oldestMod, oldestSeen time.Time
	unrouted := 0
	for _, obj := range objs {
		if s.cfg.MarkerReady() && strings.HasSuffix(obj.Name(), s.cfg.MarkerSuffix) {
			continue
		}
		if d.route(s.name, obj.Name()) == nil {
			unrouted++
			if size, ok := s.warned[obj.Path]; !ok || size != obj.Size {
				s.warned[obj.Path] = obj.Size
				d.log.Warn("file matches no route; left in place", "source", s.name, "name", obj.Name())
			}
			continue
		}
		if oldestMod.IsZero() || obj.ModTime.Before(oldestMod) {
			oldestMod = obj.ModTime
		}
		if o := s.seen[obj.Path]; oldestSeen.IsZero() || o.first.Before(oldestSeen) {
			oldestSeen = o.first
		}
	}
	for p := range s.warned {
		if _, ok := s.seen[p]; !ok {
			delete(s.warned, p) // gone from the folder
		}
	}
	d.metrics.sourceWaiting(s.name, now, oldestMod, oldestSeen, unrouted)
	for _, obj := range ready {
		r := d.route(s.name, obj.Name())
		if r == nil {
			continue
		}
		if why := badName(obj.Name()); why != "" {
			d.quarantineName(ctx, s, obj, r.Kind, why)
			continue
		}
		id, added, err := d.st.RegisterFile(ctx, store.FileNotice{
			Source: s.name, Path: obj.Path, Name: obj.Name(), Kind: r.Kind,
			Size: obj.Size, ModTime: obj.ModTime, ETag: obj.ETag,
		})
		if err != nil {
			return fmt.Errorf("state store: %w", err)
		}
		o := s.seen[obj.Path]
		switch {
		case added:
			o.registered, o.waiting = true, false
			d.log.Info("file noticed", "file_id", id, "source", s.name, "name", obj.Name(), "kind", r.Kind, "bytes", obj.Size)
		case !o.waiting:
			// An entry of the same path is not finished (a file of the
			// same name still being delivered, or this one taken by
			// another instance): the file is registered at a later poll,
			// once that entry is final.
			o.waiting = true
			d.log.Info("file waits: an earlier entry of the same path is not finished yet", "source", s.name, "name", obj.Name(), "path", obj.Path)
		}
		s.seen[obj.Path] = o
	}
	return nil
}

// reportOthers logs, once each, the entries of the watched folder that a
// route matches by name but that are not plain files (a folder named
// *.csv, a symbolic link, a named pipe): the daemon leaves them where they
// are, and says so rather than ignoring them silently.
func (d *Daemon) reportOthers(ctx context.Context, s *source) {
	ol, ok := s.t.(transport.OtherLister)
	if !ok {
		return
	}
	others, err := ol.ListOthers(ctx, s.cfg.Folder)
	if err != nil {
		return // List's error, if lasting, is the poll's to report
	}
	seen := make(map[string]bool, len(others))
	for _, o := range others {
		seen[o.Path] = true
		name := path.Base(o.Path)
		if s.others[o.Path] || d.route(s.name, name) == nil {
			continue
		}
		s.others[o.Path] = true
		d.log.Warn("not a plain file (a "+o.Kind+"): left in place, not processed", "source", s.name, "name", name, "kind", o.Kind)
	}
	for p := range s.others {
		if !seen[p] {
			delete(s.others, p)
		}
	}
}

// badName says what is wrong with a file name the gateway cannot carry
// as it is: bytes that are not UTF-8 (the ledger, PostgreSQL, logs and the
// answers' names need text) or control characters. "" when it is fine.
func badName(name string) string {
	if !utf8.ValidString(name) {
		return "its name is not valid UTF-8"
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Sprintf("its name holds a control character (%U)", r)
		}
	}
	return ""
}

// quarantineName moves a ready file whose name the gateway cannot carry
// straight to the quarantine folder, under the same bytes, with a
// .error.txt saying why; it is never registered. If it cannot be moved it
// is left where it is and logged once.
func (d *Daemon) quarantineName(ctx context.Context, s *source, obj transport.Object, kind, why string) {
	log := d.log.With("source", s.name, "name", obj.Name())
	to := path.Join(s.cfg.Quarantine, obj.Name())
	note := path.Join(s.cfg.Quarantine, fitName(obj.Name()+".error.txt", ".error.txt", maxNameBytes))
	text := fmt.Sprintf("calgw did not process this file: %s. Rename it (printable UTF-8) and drop it again.\n\nsource: %s (%q)\ntime:   %s\n",
		why, s.name, obj.Path, time.Now().UTC().Format(time.RFC3339))
	err := s.t.Put(ctx, note, strings.NewReader(text))
	if err == nil {
		now := time.Now()
		why := why + "; give it a name of printable characters only"
		e := &store.FileEntry{Source: s.name, Name: obj.Name(), Kind: kind}
		err = d.tellSender(ctx, e, noteStem(obj.Name())+quarantinedNoteSuffix, quarantinedText(obj.Name(), why, now, now, ""), log)
	}
	if err == nil {
		if _, serr := s.t.Stat(ctx, to); serr == nil {
			err = fmt.Errorf("%s already exists", to)
		}
	}
	if err == nil {
		err = s.t.Rename(ctx, obj.Path, to)
	}
	if err != nil {
		if size, ok := s.warned[obj.Path]; !ok || size != obj.Size {
			s.warned[obj.Path] = obj.Size
			log.Error("file name cannot be processed, and the file cannot be moved to quarantine: left in place", "reason", why, "err", err)
		}
		return
	}
	d.metrics.file(kind, "quarantined")
	log.Warn("file name cannot be processed: quarantined under the same name", "reason", why, "to", to)
}

// ready updates what the source saw and returns the files that are
// complete: unchanged since the previous poll (stable), or with their
// marker file beside them (marker). Files already registered are left out;
// a file the ledger did not register yet (an earlier entry of its path is
// not finished) is returned again at every poll.
func (s *source) ready(objs []transport.Object, now time.Time) []transport.Object {
	listed := make(map[string]bool, len(objs))
	for _, o := range objs {
		listed[o.Path] = true
	}
	var out []transport.Object
	for _, obj := range objs {
		if s.cfg.MarkerReady() && strings.HasSuffix(obj.Name(), s.cfg.MarkerSuffix) {
			continue
		}
		prev, ok := s.seen[obj.Path]
		if !ok || !prev.same(obj) {
			// New, or still changing: look again at the next poll.
			s.seen[obj.Path] = observation{size: obj.Size, mod: obj.ModTime, etag: obj.ETag, first: now}
			if !s.cfg.MarkerReady() {
				continue
			}
			prev = s.seen[obj.Path]
		}
		if prev.registered {
			continue
		}
		if s.cfg.MarkerReady() && !listed[obj.Path+s.cfg.MarkerSuffix] {
			continue
		}
		out = append(out, obj)
	}
	for p := range s.seen {
		if !listed[p] {
			delete(s.seen, p)
		}
	}
	return out
}

// backoff is the wait before attempt n+1 after n failures: exponential
// from retry.initial, capped at retry.max, with ±20% jitter so that
// instances do not retry in step.
func (d *Daemon) backoff(n int) time.Duration {
	b := d.cfg.Retry.Initial
	for i := 1; i < n && b < d.cfg.Retry.Max; i++ {
		b *= 2
	}
	b = min(b, d.cfg.Retry.Max)
	jitter := time.Duration((rand.Float64()*0.4 - 0.2) * float64(b))
	return max(b+jitter, 10*time.Millisecond)
}
