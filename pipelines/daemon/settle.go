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
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/pgp"
	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/calaim-gateway/calaim-gateway/transport"
)

// errChanged means the claimed file changed while it was read (an upload
// still being written): its claim was released and it waits in its folder.
var errChanged = errors.New("the file changed while it was read")

// sourceState is what the daemon compares to tell whether a source file
// holds still: its size and time, and the SHA-256 of its bytes as stored.
type sourceState struct {
	size int64
	mod  time.Time
	hash string
}

func (a sourceState) String() string {
	return fmt.Sprintf("%d bytes, %s, sha256 %.12s", a.size, a.mod.UTC().Format(time.RFC3339Nano), a.hash)
}

func readState(ctx context.Context, t transport.Transport, p string) (sourceState, error) {
	obj, err := t.Stat(ctx, p)
	if err != nil {
		return sourceState{}, err
	}
	r, err := t.Open(ctx, p)
	if err != nil {
		return sourceState{}, err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return sourceState{}, err
	}
	return sourceState{size: obj.Size, mod: obj.ModTime, hash: store.HexHash(h.Sum(nil))}, nil
}

// settle looks at a claimed file again after the source's settle interval
// (ready: stable on local and SFTP): if its size, time or content moved,
// someone is still writing it, so the claim is released and it waits.
func (d *Daemon) settle(ctx context.Context, e *store.FileEntry, log *slog.Logger) error {
	s, err := d.sourceOf(ctx, e)
	if err != nil {
		return err
	}
	wait := s.cfg.SettleInterval()
	if wait <= 0 {
		return nil
	}
	before, err := readState(ctx, s.t, e.ClaimPath)
	if err != nil {
		return err
	}
	t := time.NewTimer(wait)
	select {
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	case <-t.C:
	}
	after, err := readState(ctx, s.t, e.ClaimPath)
	if err != nil {
		return err
	}
	if after != before {
		return d.releaseChanged(ctx, s, e, fmt.Sprintf("changed while it was read (%s, then %s after %v)", before, after, wait), log)
	}
	return nil
}

// unchangedBeforeCommit checks, just before the processor runs (and its
// run commits), that the claimed file still has the content that was
// fetched; if not, the claim is released and the file waits. OpenPGP files
// are hashed as plaintext, so only their settle check applies.
func (d *Daemon) unchangedBeforeCommit(ctx context.Context, e *store.FileEntry, log *slog.Logger) error {
	if e.Source == scheduleSource {
		return nil
	}
	s, err := d.sourceOf(ctx, e)
	if err != nil {
		return err
	}
	if _, encrypted := pgp.Plain(e.Name); encrypted || s.cfg.SettleInterval() <= 0 {
		return nil
	}
	now, err := readState(ctx, s.t, e.ClaimPath)
	if err != nil {
		return err
	}
	if now.hash != e.Hash {
		return d.releaseChanged(ctx, s, e, fmt.Sprintf("changed before it was processed (sha256 %.12s, fetched %.12s)", now.hash, e.Hash), log)
	}
	return nil
}

// releaseChanged gives a claimed file that is still changing back to the
// queue, due after a poll interval, then moves it back to where it was
// noticed; it returns errChanged. The release is recorded first: a crash
// before the move leaves a queued entry whose file is at its claim path,
// where claim finds it at the next take. A move back that fails leaves it
// there too.
func (d *Daemon) releaseChanged(ctx context.Context, s *source, e *store.FileEntry, why string, log *slog.Logger) error {
	log.Warn("file still changing (an upload in progress?): it waits until it holds still", "why", why)
	if _, err := d.st.ReleaseClaim(ctx, e.ID, d.instance, why, s.cfg.PollInterval); err != nil {
		return err
	}
	d.crash.at("released")
	if e.ClaimPath != "" && e.ClaimPath != e.Path {
		if err := s.t.Rename(ctx, e.ClaimPath, e.Path); err != nil {
			log.Warn("the changing file could not be moved back: it waits where it was claimed, and is claimed from there when due", "at", e.ClaimPath, "err", err)
		}
	}
	if err := os.RemoveAll(d.workDir(e)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Warn("removing the work directory", "err", err)
	}
	return errChanged
}

// changedAfterProcessing compares a processed file's source with the
// content that was processed before it is archived. A file that changed
// since (the sender kept writing) is archived as it is now, but never
// silently: the log says so and the ledger's note records it. OpenPGP
// files are not compared (their hash is of the plaintext).
func (d *Daemon) changedAfterProcessing(ctx context.Context, s *source, e *store.FileEntry, from string, log *slog.Logger) (*store.FileEntry, error) {
	if _, encrypted := pgp.Plain(e.Name); encrypted || e.Hash == "" {
		return e, nil
	}
	now, err := readState(ctx, s.t, from)
	if errors.Is(err, fs.ErrNotExist) {
		return e, nil // moved before an interruption
	}
	if err != nil {
		return nil, err
	}
	if now.hash == e.Hash {
		return e, nil
	}
	note := fmt.Sprintf("the source changed after it was processed (now %s; processed sha256 %.12s): what was added was not processed", now, e.Hash)
	log.Warn("source changed after it was processed: archiving it as it is now; the change was not processed", "now", now.String())
	return d.st.DecideFile(ctx, e.ID, d.instance, store.FileArchive, note)
}
