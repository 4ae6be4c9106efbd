package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/mappings/invoice"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/pipelines/judges"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/calaim-gateway/calaim-gateway/transport"
)

// uploadTarget is the source uploads are dropped into.
type uploadTarget struct {
	t      transport.Transport
	folder string
}

func (s *Server) uploadForm(w http.ResponseWriter, r *http.Request, u *user) error {
	data := map[string]any{"Uploads": s.web.UploadSource != "", "MaxKiB": s.web.MaxUploadBytes >> 10}
	if !u.operator() {
		mine, err := s.c.ListFiles(r.Context(), store.FileFilter{UploadedBy: u.ID, Limit: 50})
		if err != nil {
			return err
		}
		for i := range mine {
			if err := s.screenNote(r.Context(), u, &mine[i]); err != nil {
				return err
			}
		}
		data["Files"] = mine
	}
	s.render(w, r, http.StatusOK, "upload", u, data)
	return nil
}

// uploadName is the name an upload is dropped under: web-, the time, the
// user's ID and the name as uploaded, reduced to safe characters.
func uploadName(now time.Time, userID int64, name string) string {
	base := filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, base)
	if len(clean) > 80 {
		clean = clean[len(clean)-80:]
	}
	return fmt.Sprintf("web-%s-%d-%s", now.UTC().Format("20060102T150405.000000000"), userID, clean)
}

func (s *Server) uploadFile(w http.ResponseWriter, r *http.Request, u *user) error {
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return s.uploadProblem(w, r, u, http.StatusBadRequest, "Choose a CSV or XLSX invoice file.")
	}
	defer f.Close()
	ext := strings.ToLower(filepath.Ext(hdr.Filename))
	if ext != ".csv" && ext != ".xlsx" {
		return s.uploadProblem(w, r, u, http.StatusBadRequest, "Only CSV and XLSX invoice files can be uploaded.")
	}
	if hdr.Size > s.web.MaxUploadBytes {
		return s.uploadProblem(w, r, u, http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than the %d KiB limit.", s.web.MaxUploadBytes>>10))
	}
	checkOnly := r.PostFormValue("check_only") != ""
	tmp, err := os.MkdirTemp("", "calgw-upload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	name := uploadName(s.o.Now(), u.ID, hdr.Filename)
	local := filepath.Join(tmp, name)
	if err := copyTo(local, io.LimitReader(f, s.web.MaxUploadBytes+1)); err != nil {
		return err
	}
	// A provider's file is refused whole, before any rule runs on it, when
	// a line bills an NPI the user is not bound to: the rules' messages
	// (a duplicate's names the earlier line) are about that NPI's lines.
	if foreign := s.foreignRows(u, local); len(foreign) > 0 {
		s.audit(r, u, "refuse", "upload "+name, fmt.Sprintf("%d line(s) bill an NPI the user is not bound to", len(foreign)))
		s.render(w, r, http.StatusOK, "checked", u, map[string]any{"Name": hdr.Filename, "CheckOnly": checkOnly, "Foreign": foreign})
		return nil
	}
	res, err := s.check(r.Context(), local, filepath.Join(tmp, "out"))
	if errors.Is(err, encounters.ErrUnusable) {
		msg := strings.ReplaceAll(err.Error(), local, hdr.Filename)
		return s.uploadProblem(w, r, u, http.StatusBadRequest, "This file cannot be read as an invoice: "+strings.TrimPrefix(msg, encounters.ErrUnusable.Error()+": "))
	}
	if err != nil {
		return err
	}
	if checkOnly || s.web.UploadSource == "" {
		data := map[string]any{"Name": hdr.Filename, "Lines": res.Lines, "Accepted": res.Accepted(), "Rejected": res.Rejected(), "CheckOnly": checkOnly}
		if !checkOnly {
			data["Problem"] = "Uploads are not set up on this gateway (web.upload_source): the file was checked, not sent."
		}
		// The check's own run is not recorded: the lines it accepted are
		// the ones before a duplicate of this file.
		var accepted []string
		for _, l := range res.Lines {
			if l.Outcome == store.OutcomeAccepted {
				accepted = append(accepted, l.NPI)
			}
		}
		if err := s.screenDuplicates(r.Context(), u, res.Lines, map[int64]bool{res.Summary.RunID: ownsAll(u, accepted)}); err != nil {
			return err
		}
		s.audit(r, u, "check", "upload "+name, fmt.Sprintf("%d accepted, %d rejected", res.Accepted(), res.Rejected()))
		s.render(w, r, http.StatusOK, "checked", u, data)
		return nil
	}
	id, err := s.drop(r.Context(), u, local, name)
	if err != nil {
		return err
	}
	s.audit(r, u, "upload", "upload "+name, "")
	if id == 0 {
		s.render(w, r, http.StatusAccepted, "waiting", u, map[string]any{"Name": hdr.Filename})
		return nil
	}
	http.Redirect(w, r, "/files/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

// uploadProblem shows the upload form again with what was wrong (status:
// 400, or 413 for a file over the size limit).
func (s *Server) uploadProblem(w http.ResponseWriter, r *http.Request, u *user, status int, msg string) error {
	data := map[string]any{"Uploads": s.web.UploadSource != "", "MaxKiB": s.web.MaxUploadBytes >> 10, "Problem": msg}
	s.render(w, r, status, "upload", u, data)
	return nil
}

// foreignRows lists the rows of an uploaded invoice file a provider may
// not send: their billing NPI is not one the user is bound to (none for
// operators). It only decodes the rows; no rule runs. A file that cannot
// be read as an invoice lists none here: the check says why it is
// unusable, and runs no rule on it either.
func (s *Server) foreignRows(u *user, local string) []store.LineDecision {
	if u.operator() {
		return nil
	}
	limits := s.o.Config.Limits.WithDefaults()
	r, err := tabular.OpenWith(local, &tabular.Options{MaxRecordBytes: limits.CSVRecordBytes, MaxColumns: limits.FieldsPerRow})
	if err != nil {
		return nil
	}
	defer r.Close()
	dec, err := invoice.NewDecoder(r.Header, r.Format, filepath.Base(local))
	if err != nil {
		return nil
	}
	var out []store.LineDecision
	var l domain.InvoiceLine
	for {
		row, err := r.Next()
		if err != nil {
			var rowErr *tabular.RowError
			if errors.As(err, &rowErr) {
				continue
			}
			return out
		}
		dec.Decode(row, &l)
		if l.Billing.NPI != "" && !slices.Contains(u.NPIs, l.Billing.NPI) {
			out = append(out, store.LineDecision{Row: row.Number, Invoice: l.InvoiceNumber, LineNo: l.LineNumber, NPI: l.Billing.NPI})
		}
	}
}

// ownsAll reports whether npis (the billing NPIs of the lines a run
// accepted) are some, and all of them NPIs u is bound to.
func ownsAll(u *user, npis []string) bool { return encounters.OwnsAll(u.NPIs, npis) }

// screenDuplicates gives a provider the message of a DUPLICATE-LINE line
// in full only when the line it repeats is theirs: every line the earlier
// run accepted bills an NPI the user is bound to. Otherwise, and when the
// earlier line is pending (a claim from an 837P, whose run is unknown),
// the message is encounters.DuplicateForOthers; so are DUPLICATE-LINE messages
// among a line's further rules (facts "also"). owned holds runs already
// decided (the runs not recorded, such as a check's); the rest are looked
// up. Operators read every message as recorded.
func (s *Server) screenDuplicates(ctx context.Context, u *user, lines []store.LineDecision, owned map[int64]bool) error {
	if u.operator() {
		return nil
	}
	if owned == nil {
		owned = map[int64]bool{}
	}
	for i := range lines {
		d := &lines[i]
		for j, f := range d.Facts {
			if f.Kind == "also" && strings.HasPrefix(f.Detail, rules.DuplicateLine+":") {
				d.Facts[j].Detail = rules.DuplicateLine + ": " + encounters.DuplicateForOthers
			}
		}
		if d.Rule != rules.DuplicateLine {
			continue
		}
		own, known := owned[d.PriorRun]
		if !known && d.PriorRun != 0 {
			npis, err := s.c.RunBillingNPIs(ctx, d.PriorRun)
			if err != nil {
				return err
			}
			own = ownsAll(u, npis)
			owned[d.PriorRun] = own
		}
		if d.PriorRun == 0 || !own {
			d.Message = encounters.DuplicateForOthers
		}
	}
	return nil
}

// check runs every rule on the file and sends nothing.
func (s *Server) check(ctx context.Context, input, outDir string) (*encounters.Result, error) {
	js, err := judges.New(ctx, judges.Env{Config: s.o.Config, Rules: s.o.Rules, Store: s.o.Store, Log: s.log})
	if err != nil {
		return nil, err
	}
	return encounters.Convert(ctx, encounters.Job{Inputs: []string{input}, OutDir: outDir, Store: s.o.Store,
		Config: s.o.Config, Coding: s.o.Rules.Coding, Judges: js, Log: s.log, CheckOnly: true})
}

// drop puts the file into the upload source, where the daemon takes it in
// like any dropped file, and waits for the daemon to finish it (or for
// web.upload_wait). It returns the ledger ID, 0 when it is not registered
// yet. It runs in a request admitted by page, whose admission slot (busy)
// it gives back while it waits and takes again before it returns: a wait
// does not hold other users' pages back.
func (s *Server) drop(ctx context.Context, u *user, local, name string) (int64, error) {
	tgt, err := s.uploadTransport(ctx)
	if err != nil {
		return 0, err
	}
	p := path.Join(tgt.folder, name)
	// The upload is recorded first: the daemon may register the file the
	// moment it lands, and its owner must be known by then.
	if err := s.c.RecordUpload(ctx, s.web.UploadSource, p, u.ID); err != nil {
		return 0, err
	}
	in, err := os.Open(local)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	if err := tgt.t.Put(ctx, p, in); err != nil {
		return 0, fmt.Errorf("upload to source %s: %w", s.web.UploadSource, err)
	}
	s.log.Info("web: file uploaded", "source", s.web.UploadSource, "name", name, "by", u.Name)
	<-s.busy
	defer func() { s.busy <- struct{}{} }()
	deadline := time.Now().Add(s.web.UploadWait)
	var id int64
	for {
		e, err := s.c.FileByPath(ctx, s.web.UploadSource, p)
		if err != nil {
			return 0, err
		}
		if e != nil {
			id = e.ID
			if e.State.Final() {
				return id, nil
			}
		}
		if time.Now().After(deadline) {
			return id, nil
		}
		select {
		case <-ctx.Done():
			return id, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *Server) uploadTransport(ctx context.Context) (uploadTarget, error) {
	s.uploadMu.Lock()
	defer s.uploadMu.Unlock()
	if s.upload.t != nil {
		return s.upload, nil
	}
	src, ok := s.o.Config.Sources[s.web.UploadSource]
	if !ok {
		return uploadTarget{}, fmt.Errorf("web.upload_source %q is not a source", s.web.UploadSource)
	}
	t, err := transport.New(ctx, src.Transport)
	if err != nil {
		return uploadTarget{}, fmt.Errorf("upload source %s: %w", s.web.UploadSource, err)
	}
	folder := src.Folder
	if folder == "" {
		folder = "."
	}
	s.upload = uploadTarget{t: t, folder: folder}
	return s.upload, nil
}

// Close writes the queued audit events and releases the upload source's
// connection.
func (s *Server) Close() {
	select {
	case <-s.auditStop:
	default:
		close(s.auditStop)
		<-s.auditDone
	}
	s.dash.wg.Wait()
	s.uploadMu.Lock()
	defer s.uploadMu.Unlock()
	if c, ok := s.upload.t.(io.Closer); ok {
		c.Close()
	}
}

func copyTo(dst string, r io.Reader) error {
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
