package daemon

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/internal/pgp"
	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/calaim-gateway/calaim-gateway/transport"
)

// scheduleSource is the ledger source of scheduled jobs' entries.
const scheduleSource = store.ScheduleSource

// drive takes an entry through its remaining steps until it is final or a
// step fails (then it is scheduled for a retry or quarantined).
func (d *Daemon) drive(ctx context.Context, e *store.FileEntry) {
	start, stepped := time.Now(), false
	e, ok := d.poisoned(ctx, e)
	if !ok {
		return
	}
	for !e.State.Final() {
		stepped = true
		log := d.fileLog(e)
		var next *store.FileEntry
		var err error
		switch e.State {
		case store.FileQueued:
			next, err = d.claim(ctx, e, log)
		case store.FileClaimed:
			next, err = d.fetch(ctx, e, log)
		case store.FileProcessing:
			next, err = d.process(ctx, e, log)
		case store.FileCommitted:
			next, err = d.resume(ctx, e, log)
		case store.FileProcessed:
			next, err = d.deliver(ctx, e, log)
		case store.FileArchive, store.FileQuarantine:
			next, err = d.move(ctx, e, log)
		default:
			err = fmt.Errorf("unknown ledger state %q", e.State)
		}
		if err != nil {
			if next = d.fail(ctx, e, err, log); next == nil {
				return // waits for a retry (or another instance holds it)
			}
		}
		e = next
	}
	if stepped {
		d.metrics.processed(e.Kind, time.Since(start))
	}
}

// poisoned quarantines a pre-commit entry whose earlier starts crashed the
// gateway retry.max_attempts times (a file that kills the process while it
// is processed would otherwise be taken after every restart, and starve the
// files behind it). It returns the entry to drive on, and false when the
// decision could not be recorded (the entry is left for a later take).
func (d *Daemon) poisoned(ctx context.Context, e *store.FileEntry) (*store.FileEntry, bool) {
	crashed := e.Starts - 1
	if !preCommit(e.State) || crashed < d.cfg.Retry.MaxAttempts {
		return e, true
	}
	log := d.fileLog(e)
	reason := fmt.Sprintf("crashed the gateway %d times while being processed", crashed)
	log.Error("file crashed the gateway: quarantining it", "crashes", crashed)
	next, err := d.st.DecideFile(ctx, e.ID, d.instance, store.FileQuarantine, reason)
	if err != nil {
		log.Error("recording the quarantine decision", "err", err)
		return nil, false
	}
	return next, true
}

func (d *Daemon) fileLog(e *store.FileEntry) *slog.Logger {
	attrs := []any{"file_id", e.ID, "source", e.Source, "name", e.Name, "kind", e.Kind, "state", string(e.State)}
	if e.Hash != "" {
		attrs = append(attrs, "sha256", e.HashPrefix())
	}
	return d.log.With(attrs...)
}

// preCommit reports whether nothing of the entry counts as sent yet: it can
// still be quarantined or redone from its source.
func preCommit(s store.FileState) bool {
	return s == store.FileQueued || s == store.FileClaimed || s == store.FileProcessing
}

// fail decides what a failed step means for the entry and returns it when
// driving should go on (to quarantine), nil when it waits for a retry.
func (d *Daemon) fail(ctx context.Context, e *store.FileEntry, err error, log *slog.Logger) *store.FileEntry {
	bg := context.WithoutCancel(ctx)
	switch {
	case errors.Is(err, store.ErrNotHeld):
		log.Warn("file no longer held by this instance (lease lost); leaving it", "err", err)
		return nil
	case errors.Is(err, errChanged):
		return nil // released to the queue: it waits until it holds still
	case ctx.Err() != nil:
		log.Info("interrupted by shutdown; it resumes from its ledger state", "err", err)
		return nil
	}
	msg := err.Error()
	if errors.Is(err, ErrUnusable) && preCommit(e.State) {
		log.Warn("file cannot be processed: quarantining it", "reason", msg)
		next, derr := d.st.DecideFile(bg, e.ID, d.instance, store.FileQuarantine, msg)
		if derr != nil {
			log.Error("recording the quarantine decision", "err", derr)
			return nil
		}
		return next
	}
	d.metrics.error(string(e.State))
	transient := isTransient(err)
	operator := needsOperator(err)
	counts := preCommit(e.State) && !transient && !operator
	if counts && e.Failures+1 >= d.cfg.Retry.MaxAttempts {
		reason := fmt.Sprintf("failed %d times; last error: %s", e.Failures+1, msg)
		log.Error("file keeps failing: quarantining it", "err", err, "attempts", e.Failures+1)
		next, derr := d.st.DecideFile(bg, e.ID, d.instance, store.FileQuarantine, reason)
		if derr != nil {
			log.Error("recording the quarantine decision", "err", derr)
			return nil
		}
		return next
	}
	delay := d.backoff(e.Attempts + 1)
	if operator {
		delay = d.cfg.Retry.Max
	}
	switch {
	case operator:
		log.Error("step failed: check the configuration or the server; retrying", "err", err, "retry_in", delay)
	case preCommit(e.State):
		log.Warn("step failed; retrying", "err", err, "retry_in", delay, "failures", e.Failures+btoi(counts))
	default:
		// Its lines are sent: it must be delivered, however long it takes.
		log.Error("delivery step failed; retrying until it succeeds", "err", err, "retry_in", delay)
	}
	if _, rerr := d.st.RetryFile(bg, e.ID, d.instance, msg, counts, delay, preCommit(e.State)); rerr != nil {
		log.Error("recording the retry", "err", rerr)
	}
	return nil
}

// needsOperator reports whether err is the setup's, not the file's: the
// credentials, a host key or a permission, or the gateway's own disk full,
// over quota, read-only or failing. Such a step is retried at the longest
// backoff without counting against the file, so a good file is never
// quarantined for it.
func needsOperator(err error) bool {
	for _, e := range []error{transport.ErrAuth, transport.ErrHostKey, fs.ErrPermission,
		syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EIO} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// isTransient reports whether an error may pass by itself: a transport's
// network trouble, or a state store that is busy, unreachable or restarting
// (PostgreSQL's 57P03 "not yet accepting connections", connection refused).
// Such errors are retried with the normal backoff, without counting against
// a file.
func isTransient(err error) bool {
	return transport.IsTransient(err) || store.IsTransient(err)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (d *Daemon) sourceOf(ctx context.Context, e *store.FileEntry) (*source, error) {
	s := d.bySrc[e.Source]
	if s == nil {
		return nil, fmt.Errorf("source %q is no longer configured", e.Source)
	}
	if s.t == nil {
		t, err := openTransport(ctx, s.cfg.Transport)
		if err != nil {
			return nil, err
		}
		s.t = t
	}
	return s, nil
}

func (d *Daemon) workDir(e *store.FileEntry) string {
	return filepath.Join(d.workRoot, strconv.FormatInt(e.ID, 10))
}

// claim moves the file to the processing folder, so that it leaves the
// watched folder and nobody else takes it (on S3 too: a copy, then the
// source's deletion), and a file of the same name dropped since waits
// there for its own entry. A file that vanished since it was noticed is
// recorded as lost.
func (d *Daemon) claim(ctx context.Context, e *store.FileEntry, log *slog.Logger) (*store.FileEntry, error) {
	if e.Source == scheduleSource {
		return d.st.ClaimFile(ctx, e.ID, d.instance, "", d.workDir(e))
	}
	s, err := d.sourceOf(ctx, e)
	if err != nil {
		return nil, err
	}
	// The claim path is the entry's own (its ID prefixes the name). A file
	// already there was moved there before an interruption (a claim, or a
	// release whose move back did not happen): it is claimed from there,
	// and a file of the same name dropped since stays in the folder,
	// waiting for its own entry.
	claimPath := path.Join(s.cfg.Processing, idPrefixed(e.ID, e.Name))
	_, err = s.t.Stat(ctx, claimPath)
	switch {
	case err == nil:
		log.Info("file found where it was claimed before an interruption", "at", claimPath)
		if err := d.removeCopiedSource(ctx, s, e, log); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
		err = s.t.Rename(ctx, e.Path, claimPath)
		if errors.Is(err, syscall.ENAMETOOLONG) {
			return nil, unusable("%s: the name (%d bytes) is too long to be claimed into %s: %v", e.Name, len(e.Name), s.cfg.Processing, err)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return d.lost(ctx, e, "vanished before it was claimed", log)
		}
		if errors.Is(err, fs.ErrInvalid) {
			// Replaced by a link, a folder or the like since it was
			// noticed: it is left in place, as such entries are.
			return d.lost(ctx, e, "replaced by an entry that is not a plain file (a link, a folder) before it was claimed; left in place", log)
		}
		if err != nil {
			return nil, err
		}
	case errors.Is(err, syscall.ENAMETOOLONG):
		return nil, unusable("%s: the name (%d bytes) is too long to be claimed into %s: %v", e.Name, len(e.Name), s.cfg.Processing, err)
	default:
		return nil, err
	}
	if s.cfg.MarkerReady() {
		if err := s.t.Remove(ctx, e.Path+s.cfg.MarkerSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Warn("removing the marker file", "err", err)
		}
	}
	next, err := d.st.ClaimFile(ctx, e.ID, d.instance, claimPath, d.workDir(e))
	if err != nil {
		return nil, err
	}
	// The file the poll registered at this path has left it: whatever the
	// next poll finds there is a new file, even with the same size and
	// time (a copy dropped again), and is registered for itself.
	if o, ok := s.seen[e.Path]; ok && o.registered {
		delete(s.seen, e.Path)
	}
	d.crash.at("claimed")
	return next, nil
}

// removeCopiedSource deletes the source object of an S3 claim that was
// interrupted between its copy to the claim path and the source's
// deletion: the object still at the noticed path with the ETag, size and
// time the entry noticed. Left there, it would be registered again once
// the entry is final, and answered as a duplicate of itself. A new upload
// under that key (another time, or other content) is left for its own
// entry. On local and SFTP sources (no ETag) the claim is a rename, so a
// file at the noticed path is always a new one.
func (d *Daemon) removeCopiedSource(ctx context.Context, s *source, e *store.FileEntry, log *slog.Logger) error {
	if e.ETag == "" {
		return nil
	}
	obj, err := s.t.Stat(ctx, e.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if obj.ETag != e.ETag || obj.Size != e.Size || !obj.ModTime.Truncate(time.Second).Equal(e.ModTime.Truncate(time.Second)) {
		return nil
	}
	if err := s.t.Remove(ctx, e.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	log.Info("removed the source left by an interrupted claim (copied, not yet deleted)", "path", e.Path)
	return nil
}

// lost finishes an entry whose file was not there to be claimed, saying why.
func (d *Daemon) lost(ctx context.Context, e *store.FileEntry, why string, log *slog.Logger) (*store.FileEntry, error) {
	log.Warn("file not claimed: "+why, "path", e.Path)
	if err := d.st.FinishFile(ctx, e.ID, d.instance, store.FileLost, why); err != nil {
		return nil, err
	}
	d.metrics.file(e.Kind, "lost")
	return d.st.File(ctx, e.ID)
}

// plainName is the entry's file name without an OpenPGP ending.
func plainName(e *store.FileEntry) string {
	n, _ := pgp.Plain(e.Name)
	return n
}

func (d *Daemon) inputPath(e *store.FileEntry) string {
	return filepath.Join(d.workDir(e), "in", plainName(e))
}

// fetch copies the claimed file to the work directory, decrypting it if it
// is OpenPGP, hashes the content and records it: same content as a file
// already processed makes this one a duplicate.
func (d *Daemon) fetch(ctx context.Context, e *store.FileEntry, log *slog.Logger) (*store.FileEntry, error) {
	work := d.workDir(e)
	if e.Source == scheduleSource {
		sum := sha256.Sum256([]byte(scheduleSource + "\x00" + e.Path))
		return d.st.SetFileContent(ctx, e.ID, d.instance, store.HexHash(sum[:]), work)
	}
	hash, err := d.download(ctx, e, "")
	if errors.Is(err, ErrUnusable) {
		// An OpenPGP upload still being written cannot be decrypted: the
		// settle check tells it (released, it waits) from a bad file
		// (quarantined).
		if serr := d.settle(ctx, e, log); serr != nil {
			return nil, serr
		}
	}
	if err != nil {
		return nil, err
	}
	if err := d.settle(ctx, e, log); err != nil {
		return nil, err
	}
	next, err := d.st.SetFileContent(ctx, e.ID, d.instance, hash, work)
	if err != nil {
		return nil, err
	}
	if next.DuplicateOf != 0 {
		log.Info("same content as an earlier file: archiving it as a duplicate", "duplicate_of", next.DuplicateOf, "sha256", next.HashPrefix())
	}
	d.crash.at("fetched")
	return next, nil
}

// download copies the claimed file into the work directory and returns the
// content's SHA-256 (of the plaintext, for an OpenPGP file). The copy is
// written under a temporary name (downloadRaw, downloadPlain: short, so a
// file name as long as the system allows still fits) and renamed to the input's
// name only once it is whole, synced and, when want is not "", its hash is
// want: a download cut short (a kill, a lost connection) or of content that
// changed never leaves an input that process would take as the file.
func (d *Daemon) download(ctx context.Context, e *store.FileEntry, want string) (string, error) {
	s, err := d.sourceOf(ctx, e)
	if err != nil {
		return "", err
	}
	in := filepath.Join(d.workDir(e), "in")
	if err := os.RemoveAll(in); err != nil {
		return "", err
	}
	if err := atomicfile.MkdirAll(in, 0o750); err != nil {
		return "", err
	}
	r, err := s.t.Open(ctx, e.ClaimPath)
	if err != nil {
		return "", err
	}
	defer r.Close()
	raw := filepath.Join(in, downloadRaw)
	h := sha256.New()
	if err := writeLocal(raw, io.TeeReader(&crashReader{r: r, crash: d.crash}, h)); err != nil {
		return "", err
	}
	plain, encrypted := pgp.Plain(e.Name)
	part := raw
	if encrypted {
		h.Reset()
		part = filepath.Join(in, downloadPlain)
		if err := d.decryptLocal(raw, part, h); err != nil {
			if errors.Is(err, pgp.ErrDecrypt) {
				return "", unusable("%s: %v", e.Name, err)
			}
			return "", err
		}
	}
	hash := store.HexHash(h.Sum(nil))
	if want != "" && hash != want {
		os.Remove(part)
		return "", fmt.Errorf("%w: sha256 %.12s, fetched %.12s", errRefetchedChanged, hash, want)
	}
	if err := atomicfile.Rename(part, filepath.Join(in, plain)); err != nil {
		return "", err
	}
	return hash, nil
}

// errRefetchedChanged means a claimed file fetched again has other content
// than it had when it was first fetched (the sender went on writing it).
var errRefetchedChanged = errors.New("the claimed file changed since it was fetched")

// The names in a work directory's in/ of a download not yet whole: the
// bytes as fetched, and an OpenPGP file's plaintext.
const (
	downloadRaw   = ".download"
	downloadPlain = ".download-plain"
)

// decryptLocal decrypts the OpenPGP file raw into a new file plain, synced,
// writing the plaintext to h too, and removes raw.
func (d *Daemon) decryptLocal(raw, plain string, h io.Writer) error {
	defer os.Remove(raw)
	f, err := os.Open(raw)
	if err != nil {
		return err
	}
	defer f.Close()
	out, err := os.OpenFile(plain, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	err = pgp.Decrypt(io.MultiWriter(out, h), f, d.decrypt)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// crashReader reads r, passing the test crash point "downloading" once
// the first part of the content has been read and written.
type crashReader struct {
	r     io.Reader
	crash *crashPoint
	reads int
}

func (c *crashReader) Read(p []byte) (int, error) {
	if c.reads++; c.reads == 2 {
		c.crash.at("downloading")
	}
	return c.r.Read(p)
}

// writeLocal streams r into a new local file, synced.
func writeLocal(name string, r io.Reader) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// job prepares a processor's job for the entry.
func (d *Daemon) job(e *store.FileEntry, outDir string, log *slog.Logger) *Job {
	j := &Job{
		File: e, Name: plainName(e), OutDir: outDir, Config: d.cfg, Log: log,
		Store: d.st.BindRuns(e.ID, d.instance, filepath.Dir(outDir), func() { d.crash.at("committed") }),
	}
	if e.Source == scheduleSource {
		j.Period = path.Base(e.Path)
	} else {
		j.Input = d.inputPath(e)
	}
	return j
}

// process runs the entry's processor. Its outputs are recorded in the
// ledger before anything is delivered.
func (d *Daemon) process(ctx context.Context, e *store.FileEntry, log *slog.Logger) (*store.FileEntry, error) {
	pe, deliver, err := d.processorFor(e)
	if err != nil {
		return nil, err
	}
	if e.Source != scheduleSource {
		if _, err := os.Stat(d.inputPath(e)); err != nil {
			// Another instance fetched it, or the work directory was
			// cleared: fetch again. Content that changed since is still
			// being written: the claim is released and the file waits, as
			// unchangedBeforeCommit does.
			_, err := d.download(ctx, e, e.Hash)
			if errors.Is(err, errRefetchedChanged) {
				s, serr := d.sourceOf(ctx, e)
				if serr != nil {
					return nil, serr
				}
				return nil, d.releaseChanged(ctx, s, e, err.Error(), log)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	if err := d.unchangedBeforeCommit(ctx, e, log); err != nil {
		return nil, err
	}
	outDir := filepath.Join(d.workDir(e), "out")
	if err := os.RemoveAll(outDir); err != nil {
		return nil, err
	}
	if err := atomicfile.MkdirAll(outDir, 0o750); err != nil {
		return nil, err
	}
	log.Info("processing")
	d.crash.atFile("processing", e.Name)
	start := time.Now()
	res, err := pe.proc.Process(ctx, d.job(e, outDir, log))
	if err != nil {
		// A failure after the run committed is finished by resume.
		if cur, ferr := d.st.File(context.WithoutCancel(ctx), e.ID); ferr == nil && cur.State == store.FileCommitted && ctx.Err() == nil {
			log.Warn("processing failed after its run committed; resuming from its outputs", "err", err)
			return cur, nil
		}
		return nil, err
	}
	d.crash.at("processed")
	if e.Kind == "invoice" { // calgw_lines_total counts invoice lines only
		d.metrics.lines(res)
	}
	log.Info("processed", "accepted", res.Accepted, "rejected", res.Rejected, "outputs", len(res.Outputs), "took", time.Since(start).Round(time.Millisecond))
	return d.record(ctx, e, res, deliver)
}

// resume collects the outputs of a run that committed before the daemon
// recorded them.
func (d *Daemon) resume(ctx context.Context, e *store.FileEntry, log *slog.Logger) (*store.FileEntry, error) {
	pe, deliver, err := d.processorFor(e)
	if err != nil {
		return nil, err
	}
	r, ok := pe.proc.(Resumer)
	if !ok {
		return nil, fmt.Errorf("the %s processor committed a run but cannot resume it", e.Kind)
	}
	// The outputs are where the run wrote them: this instance's work
	// directory, or that of the instance whose file this one took over.
	log.Warn("resuming a file whose run committed before a crash", "run", e.RunID, "work_dir", e.WorkDir)
	res, err := r.Resume(ctx, d.job(e, filepath.Join(e.WorkDir, "out"), log))
	if errors.Is(err, ErrRunUndone) {
		log.Warn("its committed run lost its output and was rolled back: processing it again", "err", err)
		return d.st.RedoFile(ctx, e.ID, d.instance, err.Error())
	}
	if err != nil {
		return nil, err
	}
	return d.record(ctx, e, res, deliver)
}

// processorFor returns the entry's processor and where its outputs go.
func (d *Daemon) processorFor(e *store.FileEntry) (*processorEntry, map[string]string, error) {
	var deliver map[string]string
	if e.Source == scheduleSource {
		name, _, _ := strings.Cut(e.Path, "/")
		var job *config.ScheduledJob
		for i := range d.jobs {
			if d.jobs[i].Name == name {
				job = &d.jobs[i]
			}
		}
		if job == nil {
			return nil, nil, unusable("scheduled job %q is no longer configured", name)
		}
		deliver = job.Deliver
	} else {
		r := d.route(e.Source, e.Name)
		if r == nil {
			return nil, nil, unusable("%s: no route matches the file any more", e.Name)
		}
		if r.Kind != e.Kind {
			return nil, nil, unusable("%s: noticed as %s, but its route now says %s", e.Name, e.Kind, r.Kind)
		}
		deliver = r.Deliver
	}
	pe := d.procs[e.Kind]
	if pe == nil {
		return nil, nil, fmt.Errorf("no processor for kind %q", e.Kind)
	}
	out := map[string]string{}
	for _, role := range pe.reg.Roles {
		out[role.Name] = role.DefaultDestination
		if dst := deliver[role.Name]; dst != "" {
			out[role.Name] = dst
		}
	}
	return pe, out, nil
}

// record hashes the outputs and records them with their destinations.
func (d *Daemon) record(ctx context.Context, e *store.FileEntry, res *Result, deliver map[string]string) (*store.FileEntry, error) {
	outs := make([]store.FileOutput, 0, len(res.Outputs))
	for _, o := range res.Outputs {
		dst, ok := deliver[o.Role]
		if !ok {
			return nil, fmt.Errorf("the %s processor wrote an output with an unknown role %q", e.Kind, o.Role)
		}
		if o.Destination != "" {
			if _, ok := d.dests[o.Destination]; !ok {
				return nil, fmt.Errorf("the %s processor sends %s to destination %q, which is not configured", e.Kind, o.Name, o.Destination)
			}
			dst = o.Destination
		}
		size, sum, err := hashFile(o.Path)
		if err != nil {
			return nil, err
		}
		limit := maxNameBytes
		if dc := d.dests[dst]; dc != nil && dc.encrypt != nil {
			limit -= len(".pgp") // or .asc
		}
		name := fitOutputName(o.Name, e.ID, limit)
		outs = append(outs, store.FileOutput{Role: o.Role, Destination: dst, Name: name, Local: o.Path, Size: size, SHA256: sum})
	}
	next, err := d.st.FileProcessed(ctx, e.ID, d.instance, outs, res.Note)
	if err != nil {
		return nil, err
	}
	d.crash.at("recorded")
	return next, nil
}

func hashFile(name string) (int64, string, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, store.HexHash(h.Sum(nil)), nil
}

// deliver writes each output not yet delivered to its destination. An
// output whose name already exists at the destination, and which this
// entry never started to deliver, is refused rather than overwritten: that
// happens only if the state was reset (an 837 with a reused ISA13).
func (d *Daemon) deliver(ctx context.Context, e *store.FileEntry, log *slog.Logger) (*store.FileEntry, error) {
	for i, o := range e.Outputs {
		if o.Delivered {
			continue
		}
		dst := d.dests[o.Destination]
		if dst == nil {
			return nil, fmt.Errorf("output %s goes to destination %q, which is no longer configured", o.Name, o.Destination)
		}
		if dst.t == nil {
			t, err := openTransport(ctx, dst.cfg.Transport)
			if err != nil {
				return nil, fmt.Errorf("destination %s: %w", dst.name, err)
			}
			dst.t = t
		}
		name := o.Name
		switch {
		case dst.encrypt != nil && dst.cfg.Armor:
			name += ".asc"
		case dst.encrypt != nil:
			name += ".pgp"
		}
		target := path.Join(dst.cfg.Folder, name)
		if !o.Attempted {
			if _, err := dst.t.Stat(ctx, target); err == nil {
				return nil, fmt.Errorf("destination %s already has %s, which this file never delivered: refusing to overwrite it (was the state directory reset?)", dst.name, target)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			if err := d.st.FileOutputDelivery(ctx, e.ID, d.instance, i, true, false); err != nil {
				return nil, err
			}
		}
		if err := d.put(ctx, dst, target, o); err != nil {
			return nil, err
		}
		if err := d.st.FileOutputDelivery(ctx, e.ID, d.instance, i, false, true); err != nil {
			return nil, err
		}
		d.metrics.success("deliver", dst.name)
		log.Info("delivered", "role", o.Role, "destination", dst.name, "to", target, "bytes", o.Size)
		d.crash.at("delivered")
	}
	if pe := d.procs[e.Kind]; pe != nil {
		if dr, ok := pe.proc.(DeliveryRecorder); ok {
			if err := dr.Delivered(ctx, e, time.Now()); err != nil {
				return nil, err
			}
		}
	}
	return d.st.DecideFile(ctx, e.ID, d.instance, store.FileArchive, "")
}

// put streams a local output to a destination, encrypting it on the way
// when the destination says so.
func (d *Daemon) put(ctx context.Context, dst *destination, target string, o store.FileOutput) error {
	f, err := os.Open(o.Local)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("output %s is missing from the work directory (%s): it cannot be delivered; restore it or resolve the file by hand", o.Name, o.Local)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return d.putReader(ctx, dst, target, o.Name, f)
}

// move archives or quarantines the source file and finishes the entry.
func (d *Daemon) move(ctx context.Context, e *store.FileEntry, log *slog.Logger) (*store.FileEntry, error) {
	quarantine := e.State == store.FileQuarantine
	final, outcome := store.FileArchived, "processed"
	if quarantine {
		final, outcome = store.FileQuarantined, "quarantined"
	} else if e.DuplicateOf != 0 {
		outcome = "duplicate"
	}
	where := ""
	if e.Source != scheduleSource {
		s, err := d.sourceOf(ctx, e)
		if err != nil {
			return nil, err
		}
		folder := s.cfg.Archive
		if quarantine {
			folder = s.cfg.Quarantine
		}
		from := e.ClaimPath
		if from == "" {
			from = e.Path
		}
		if !quarantine && e.DuplicateOf == 0 {
			if e, err = d.changedAfterProcessing(ctx, s, e, from, log); err != nil {
				return nil, err
			}
		}
		if err := d.senderNote(ctx, e, quarantine, log); err != nil {
			return nil, err
		}
		if where, err = d.moveSource(ctx, s, e, from, folder, quarantine); err != nil {
			return nil, err
		}
	}
	d.crash.at("moved")
	// The work directory goes before the entry is final (nothing in it is
	// needed once the source moved), so a final entry has none left.
	for _, dir := range []string{d.workDir(e), e.WorkDir} {
		if dir == "" {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			log.Warn("removing the work directory", "err", err)
		}
	}
	if err := d.st.FinishFile(ctx, e.ID, d.instance, final, where); err != nil {
		return nil, err
	}
	d.metrics.file(e.Kind, outcome)
	log.Info("file done", "outcome", outcome, "to", where)
	return d.st.File(ctx, e.ID)
}

// moveSource moves the file into folder, under its own name or, if taken,
// prefixed with its ledger ID, writing the note (.error.txt or
// .duplicate.txt) beside it first. A quarantine records the destination
// in the ledger before the move (RecordQuarantinePath), so that an
// interruption after the move still leaves it known. It returns where the
// file went.
func (d *Daemon) moveSource(ctx context.Context, s *source, e *store.FileEntry, from, folder string, quarantine bool) (string, error) {
	if _, err := s.t.Stat(ctx, from); errors.Is(err, fs.ErrNotExist) {
		// The move happened before an interruption; the ledger had not
		// heard of it, unless it recorded the quarantine's destination.
		if quarantine && e.QuarantinePath != "" {
			if _, err := s.t.Stat(ctx, e.QuarantinePath); err == nil {
				return e.QuarantinePath, nil
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
			if _, err := d.st.RecordQuarantinePath(ctx, e.ID, d.instance, ""); err != nil {
				return "", err
			}
		}
		return "moved before an interruption", nil
	} else if err != nil {
		return "", err
	}
	to := path.Join(folder, e.Name)
	if _, err := s.t.Stat(ctx, to); err == nil {
		to = path.Join(folder, idPrefixed(e.ID, e.Name))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if quarantine {
		if _, err := d.st.RecordQuarantinePath(ctx, e.ID, d.instance, to); err != nil {
			return "", err
		}
	}
	var note, noteFile string
	switch {
	case quarantine:
		noteFile = path.Join(folder, fitName(path.Base(to)+".error.txt", ".error.txt", maxNameBytes))
		note = fmt.Sprintf("calgw could not process this file.\n\nfile:      %s\nsource:    %s (%s)\nledger id: %d\nsha256:    %s\nattempts:  %d\ntime:      %s\n\nreason: %s\n",
			e.Name, e.Source, e.Path, e.ID, e.Hash, e.Attempts+1, time.Now().UTC().Format(time.RFC3339), e.Note)
	case e.DuplicateOf != 0:
		noteFile = path.Join(folder, fitName(path.Base(to)+".duplicate.txt", ".duplicate.txt", maxNameBytes))
		note = fmt.Sprintf("calgw did not process this file again.\n\nfile:      %s\nledger id: %d\nsha256:    %s\n\n%s\n", e.Name, e.ID, e.Hash, e.Note)
	}
	if noteFile != "" {
		if err := s.t.Put(ctx, noteFile, strings.NewReader(note)); err != nil {
			return "", err
		}
	}
	if err := s.t.Rename(ctx, from, to); err != nil {
		if quarantine && errors.Is(err, syscall.ENAMETOOLONG) {
			// It cannot be moved at all: leave it, say so once (the entry
			// is final), and keep the reason in the ledger.
			d.fileLog(e).Error("file cannot be moved to quarantine (name too long): left where it is", "at", from, "err", err)
			if _, err := d.st.RecordQuarantinePath(ctx, e.ID, d.instance, from); err != nil {
				return "", err
			}
			return "left at " + from + ": it cannot be moved (name too long)", nil
		}
		return "", err
	}
	return to, nil
}
