package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/calaim-gateway/calaim-gateway/internal/pgp"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Suffixes of the notes a sender gets about a file that was not processed:
// <stem>.<id>.quarantined.txt and <stem>.<id>.duplicate.txt.
const (
	quarantinedNoteSuffix = ".quarantined.txt"
	duplicateNoteSuffix   = ".duplicate.txt"
)

// senderNote tells the sender of a quarantined or duplicate file, in plain
// words, that it was not processed and why: a note where the route sends
// that kind's answers (the destination of its registration's NoteRole).
// It is written before the source moves, so a crash in between writes it
// again under the same name. A file with no route or processor any more,
// or a kind without a NoteRole, gets none (the .error.txt in quarantine
// still says why).
func (d *Daemon) senderNote(ctx context.Context, e *store.FileEntry, quarantine bool, log *slog.Logger) error {
	if e.Source == scheduleSource || (!quarantine && e.DuplicateOf == 0) {
		return nil
	}
	suffix, text := quarantinedNoteSuffix, ""
	if quarantine {
		text = quarantinedNote(e, time.Now())
	} else {
		suffix = duplicateNoteSuffix
		first, err := d.st.File(ctx, e.DuplicateOf)
		if err != nil {
			return err
		}
		text = duplicateNote(e, first)
	}
	return d.tellSender(ctx, e, noteStem(plainName(e))+"."+strconv.FormatInt(e.ID, 10)+suffix, text, log)
}

// tellSender writes a note named name (shortened to fit, its ".<id>."
// part kept) where the route of e (its source, name and kind) sends that
// kind's answers.
func (d *Daemon) tellSender(ctx context.Context, e *store.FileEntry, name, text string, log *slog.Logger) error {
	pe, deliver, err := d.processorFor(e)
	if err != nil || pe.reg.NoteRole == "" {
		log.Info("no route to answer the sender: no note written", "reason", errText(err))
		return nil
	}
	dstName := deliver[pe.reg.NoteRole]
	dst := d.dests[dstName]
	if dst == nil {
		log.Warn("no destination to answer the sender: no note written", "destination", dstName)
		return nil
	}
	if dst.t == nil {
		t, err := openTransport(ctx, dst.cfg.Transport)
		if err != nil {
			return fmt.Errorf("destination %s: %w", dst.name, err)
		}
		dst.t = t
	}
	limit := maxNameBytes
	if dst.encrypt != nil {
		limit -= len(".pgp") // or .asc
	}
	name = fitOutputName(name, e.ID, limit)
	target := name
	switch {
	case dst.encrypt != nil && dst.cfg.Armor:
		target += ".asc"
	case dst.encrypt != nil:
		target += ".pgp"
	}
	target = path.Join(dst.cfg.Folder, target)
	if err := d.putReader(ctx, dst, target, name, strings.NewReader(text)); err != nil {
		return err
	}
	log.Info("sender told", "destination", dst.name, "to", target)
	return nil
}

// putReader streams r to a destination, encrypting it on the way when the
// destination says so (name is the plaintext's name inside the envelope).
func (d *Daemon) putReader(ctx context.Context, dst *destination, target, name string, r io.Reader) error {
	if dst.encrypt == nil {
		return dst.t.Put(ctx, target, r)
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(pgp.Encrypt(pw, r, dst.encrypt, name, dst.cfg.Armor))
	}()
	err := dst.t.Put(ctx, target, pr)
	pr.CloseWithError(err) // unblocks the encryption if Put stopped reading
	return err
}

func errText(err error) string {
	if err == nil {
		return "its kind writes no note"
	}
	return err.Error()
}

// noteStem is the file's name without its extension, as a name the note
// can carry: invalid UTF-8 and control characters become "_".
func noteStem(name string) string {
	stem := strings.TrimSuffix(name, path.Ext(name))
	stem = strings.ToValidUTF8(stem, "_")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '/' {
			return '_'
		}
		return r
	}, stem)
}

// shownName is a file name as the note's text shows it: quoted when it
// holds bytes a reader could not see.
func shownName(name string) string {
	if noteStem(name) == strings.TrimSuffix(name, path.Ext(name)) && !strings.ContainsFunc(path.Ext(name), unicode.IsControl) {
		return name
	}
	return strconv.Quote(name)
}

// quarantinedNote is the plain-language note for the sender of a
// quarantined file: what happened, why, and what to do. The reason is the
// ledger's (ErrUnusable messages and the like hold no member data).
func quarantinedNote(e *store.FileEntry, now time.Time) string {
	return quarantinedText(e.Name, e.Note, e.Noticed, now, fmt.Sprintf("file %d", e.ID))
}

// quarantinedText is the note of quarantinedNote; ref is the file's
// reference ("" for a file never registered).
func quarantinedText(fileName, why string, received, now time.Time, ref string) string {
	reason := strings.TrimPrefix(why, ErrUnusable.Error()+": ")
	todo := "Please correct the file and send it again. Nothing from this file was used or sent on, so the corrected file is processed as new."
	if strings.HasPrefix(reason, "crashed the gateway") {
		reason = "the gateway stopped while reading it (" + reason + ")."
		todo = "The plan's support team has been alerted and will contact you. Nothing from this file was used or sent on; please do not send it again until they do."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Your file %s was received but could not be processed.\n\n", shownName(fileName))
	fmt.Fprintf(&b, "Why: %s\n\n", reason)
	fmt.Fprintf(&b, "%s\n\n", todo)
	fmt.Fprintf(&b, "Received: %s\n", received.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Set aside: %s\n", now.UTC().Format("2006-01-02 15:04 MST"))
	if ref != "" {
		fmt.Fprintf(&b, "Reference: %s (quote it if you ask the plan about this file)\n", ref)
	}
	return b.String()
}

// duplicateNote is the plain-language note for the sender of a file whose
// content was received before (first). It names the first file and when
// it came only when the same sender dropped it (sameSender): another
// sender's file names are not this sender's to read.
func duplicateNote(e, first *store.FileEntry) string {
	var b strings.Builder
	if sameSender(e, first) {
		fmt.Fprintf(&b, "Your file %s was received but not processed again: it has exactly the same content as the file %s received on %s.\n\n",
			shownName(e.Name), shownName(first.Name), first.Noticed.UTC().Format("2006-01-02 15:04 MST"))
	} else {
		fmt.Fprintf(&b, "Your file %s was received but not processed again: it has exactly the same content as a file received before it.\n\n",
			shownName(e.Name))
	}
	b.WriteString("Nothing from it was used or sent twice. If you meant to send new or corrected lines, check that you sent the right file.\n\n")
	fmt.Fprintf(&b, "Received: %s\n", e.Noticed.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Reference: file %d, a copy of file %d (quote them if you ask the plan about this file)\n", e.ID, first.ID)
	return b.String()
}

// sameSender says whether two files came through the same source and
// folder, which is how the gateway knows a sender.
func sameSender(e, first *store.FileEntry) bool {
	return e.Source == first.Source && path.Dir(e.Path) == path.Dir(first.Path)
}
