package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// pageNames are the templates under templates/, each rendered inside layout.html.
var pageNames = []string{"login", "error", "dashboard", "files", "file", "line", "search", "rejects", "users", "audit", "upload", "checked", "waiting"}

func (s *Server) parseTemplates() error {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05Z")
		},
		"short": func(h string) string {
			if len(h) > 12 {
				return h[:12]
			}
			return h
		},
		"describe": func(rule string) string {
			if r, ok := rules.Lookup(rule); ok {
				return r.Description
			}
			return ""
		},
		"kb": func(n int64) string { return strconv.FormatFloat(float64(n)/1024, 'f', 1, 64) + " KiB" },
	}
	s.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("web: template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return nil
}

// render writes a page: the layout with the user's navigation and the
// page's data, buffered so that a template error never sends half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, u *user, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["Page"] = name
	if u != nil {
		data["User"] = u.User
		data["Operator"] = u.operator()
		data["Admin"] = u.admin()
		data["CSRF"] = u.session.CSRF
	}
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer putRenderBuffer(buf)
	if err := s.pages[name].Execute(buf, data); err != nil {
		s.log.Error("web: render", "page", name, "err", err)
		http.Error(w, "page error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderBuffers are the buffers pages are rendered into, reused.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer bounds a buffer kept for reuse (a rare huge page's is dropped).
const maxPooledBuffer = 1 << 20

func putRenderBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	renderBuffers.Put(b)
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, u *user) error {
	if !u.operator() {
		return s.uploadForm(w, r, u)
	}
	return s.dashboard(w, r, u)
}

// dashboardDays is how many days the dashboard counts.
const dashboardDays = 7

// dayRow is one day of the dashboard: counts by kind and outcome.
type dayRow struct {
	Day   string
	Cells []kindCell
}

type kindCell struct {
	Kind                                   string
	Archived, Quarantined, Pending, Others int
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, u *user) error {
	d, err := s.dash.get(r.Context(), s.o.Now(), s.dashboardFigures)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "dashboard", u, map[string]any{
		"Kinds": d.Kinds, "Days": d.Days, "Lag": d.Lag, "Oldest": d.Oldest, "Quarantined": d.Quarantined, "ADTNotices": d.ADTNotices,
		"Since": d.Since, "AsOf": d.At,
	})
	return nil
}

// dashboardFigures are what the dashboard shows, the same for every
// operator, computed at At.
type dashboardFigures struct {
	At          time.Time
	Kinds       []string
	Days        []dayRow
	Lag         store.Lag
	Oldest      string
	Quarantined []store.FileEntry
	ADTNotices  *adtNoticeCounts
	Since       string
}

func (s *Server) dashboardFigures(ctx context.Context, at time.Time) (*dashboardFigures, error) {
	now := at.UTC()
	since := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(dashboardDays - 1))
	counts, err := s.c.FilesByDay(ctx, since)
	if err != nil {
		return nil, err
	}
	var kinds []string
	for _, c := range counts {
		if !slices.Contains(kinds, c.Kind) {
			kinds = append(kinds, c.Kind)
		}
	}
	slices.Sort(kinds)
	var days []dayRow
	for d := range dashboardDays {
		day := now.AddDate(0, 0, -d).Format("2006-01-02")
		row := dayRow{Day: day}
		for _, k := range kinds {
			cell := kindCell{Kind: k}
			for _, c := range counts {
				if c.Day != day || c.Kind != k {
					continue
				}
				switch {
				case c.State == store.FileArchived:
					cell.Archived += c.Count
				case c.State == store.FileQuarantined:
					cell.Quarantined += c.Count
				case !c.State.Final():
					cell.Pending += c.Count
				default:
					cell.Others += c.Count
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		days = append(days, row)
	}
	lag, err := s.c.PendingLag(ctx)
	if err != nil {
		return nil, err
	}
	oldest := ""
	if !lag.OldestNotice.IsZero() {
		oldest = now.Sub(lag.OldestNotice).Round(time.Second).String()
	}
	quarantined, err := s.c.ListFiles(ctx, store.FileFilter{State: store.FileQuarantined, Limit: 20})
	if err != nil {
		return nil, err
	}
	var adtNotices *adtNoticeCounts
	if a, ok := s.o.Store.(adtNoticeCounter); ok {
		total, late, err := a.CountADTNotices(ctx, since, now, rules.ADTNoticeWithin)
		if err != nil {
			return nil, err
		}
		adtNotices = &adtNoticeCounts{Total: total, Late: late}
	}
	return &dashboardFigures{At: at, Kinds: kinds, Days: days, Lag: lag, Oldest: oldest, Quarantined: quarantined,
		ADTNotices: adtNotices, Since: since.Format("2006-01-02")}, nil
}

// The dashboard's figures are computed about once in dashboardFresh
// whatever the number of operators watching: a view takes the figures
// computed last while they are younger than dashboardFresh; until they are
// dashboardMaxAge old it still takes them and has them computed again in
// the background; older, it waits for new ones. So a dashboard is at most
// dashboardMaxAge old.
const (
	dashboardFresh  = 2 * time.Second
	dashboardMaxAge = 3 * time.Second
)

// dashboardCache keeps the figures computed last.
type dashboardCache struct {
	mu      sync.Mutex
	cur     *dashboardFigures
	running chan struct{} // closed when the computation under way ends; nil when none is
	err     error         // of the computation that ended last
	wg      sync.WaitGroup
}

// get returns figures at most dashboardMaxAge old at now, computed by compute.
func (c *dashboardCache) get(ctx context.Context, now time.Time, compute func(context.Context, time.Time) (*dashboardFigures, error)) (*dashboardFigures, error) {
	c.mu.Lock()
	if d := c.cur; d != nil && now.Sub(d.At) < dashboardMaxAge && !now.Before(d.At) {
		if now.Sub(d.At) >= dashboardFresh {
			c.start(ctx, now, compute)
		}
		c.mu.Unlock()
		return d, nil
	}
	done := c.start(ctx, now, compute)
	c.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	return c.cur, nil
}

// start computes the figures in the background unless that is under way
// already; it returns the computation's end. c.mu is held.
func (c *dashboardCache) start(ctx context.Context, now time.Time, compute func(context.Context, time.Time) (*dashboardFigures, error)) chan struct{} {
	if c.running != nil {
		return c.running
	}
	done := make(chan struct{})
	c.running = done
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		d, err := compute(context.WithoutCancel(ctx), now)
		c.mu.Lock()
		if err == nil {
			c.cur = d
		}
		c.err = err
		c.running = nil
		c.mu.Unlock()
		close(done)
	}()
	return done
}

// adtNoticeCounter counts ADT notices to ECM providers (store.ADTStore).
type adtNoticeCounter interface {
	CountADTNotices(ctx context.Context, since, at time.Time, within time.Duration) (total, late int64, err error)
}

// adtNoticeCounts are the dashboard's ADT notice counts over its days.
type adtNoticeCounts struct{ Total, Late int64 }

// fileStates are the states the file list filters on.
var fileStates = []store.FileState{store.FileQueued, store.FileClaimed, store.FileProcessing, store.FileCommitted,
	store.FileProcessed, store.FileArchive, store.FileQuarantine, store.FileArchived, store.FileQuarantined, store.FileLost}

func (s *Server) fileList(w http.ResponseWriter, r *http.Request, u *user) error {
	q := r.URL.Query()
	f := store.FileFilter{Kind: q.Get("kind"), Source: q.Get("source"), State: store.FileState(q.Get("state")), Limit: 50}
	if f.State != "" && !slices.Contains(fileStates, f.State) {
		f.State = ""
	}
	if d := q.Get("date"); d != "" {
		if day, err := time.Parse("2006-01-02", d); err == nil {
			f.Since, f.Until = day, day.AddDate(0, 0, 1)
		}
	}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
		f.BeforeID = b
	}
	if !u.operator() {
		f.UploadedBy = u.ID
	}
	list, err := s.c.ListFiles(r.Context(), f)
	if err != nil {
		return err
	}
	for i := range list {
		if err := s.screenNote(r.Context(), u, &list[i]); err != nil {
			return err
		}
	}
	next := ""
	if len(list) == f.Limit {
		v := q
		v.Set("before", strconv.FormatInt(list[len(list)-1].ID, 10))
		next = "/files?" + v.Encode()
	}
	s.render(w, r, http.StatusOK, "files", u, map[string]any{"Files": list, "Filter": f, "States": fileStates, "Date": q.Get("date"), "Next": next})
	return nil
}

// fileFor returns the entry the user may see: any for operators, their own
// uploads for providers; errNotFound otherwise.
func (s *Server) fileFor(ctx context.Context, u *user, id int64) (*store.FileEntry, error) {
	e, err := s.c.File(ctx, id)
	if errors.Is(err, store.ErrNoFile) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	if u.operator() {
		return e, nil
	}
	by, err := s.c.Uploader(ctx, e)
	if err != nil {
		return nil, err
	}
	if by != u.ID {
		return nil, errNotFound
	}
	return e, nil
}

// screenNote gives a provider the note of a duplicate entry (e) naming
// the earlier file only when the provider uploaded that file too;
// otherwise the note names it by ID alone, not its name or when it came,
// as the daemon's note to another sender does. Operators read the note as
// recorded.
func (s *Server) screenNote(ctx context.Context, u *user, e *store.FileEntry) error {
	if u.operator() || e.DuplicateOf == 0 {
		return nil
	}
	short := fmt.Sprintf("duplicate: same content as file %d, received before; not processed again", e.DuplicateOf)
	first, err := s.c.File(ctx, e.DuplicateOf)
	if errors.Is(err, store.ErrNoFile) {
		e.Note = short
		return nil
	}
	if err != nil {
		return err
	}
	by, err := s.c.Uploader(ctx, first)
	if err != nil {
		return err
	}
	if by == u.ID {
		return nil
	}
	if full := store.DuplicateNote(first.ID, first.Name, first.Noticed); strings.Contains(e.Note, full) {
		e.Note = strings.Replace(e.Note, full, short, 1)
	} else {
		e.Note = short
	}
	return nil
}

// step is one step of a file's timeline.
type step struct {
	What, Detail string
	At           time.Time
}

// timeline is the steps of a file's ledger entry. A provider (operator
// false) sees what happened to its file, not its retries' errors nor where
// the gateway claimed it: those name the plan's hosts and folders.
func timeline(e *store.FileEntry, operator bool) []step {
	noticed := e.Name
	if operator {
		noticed = e.Source + ": " + e.Path
	}
	out := []step{{What: "noticed", Detail: noticed, At: e.Noticed}}
	if e.ClaimPath != "" && operator {
		out = append(out, step{What: "claimed", Detail: e.ClaimPath})
	}
	if e.Hash != "" {
		out = append(out, step{What: "fetched", Detail: "sha256 " + e.Hash})
	}
	if e.DuplicateOf != 0 {
		out = append(out, step{What: "duplicate", Detail: fmt.Sprintf("same content as file %d", e.DuplicateOf)})
	}
	if e.RunID != 0 {
		out = append(out, step{What: "processed", Detail: fmt.Sprintf("run %d committed", e.RunID)})
	}
	for _, o := range e.Outputs {
		st := "not delivered yet"
		if o.Delivered {
			st = "delivered to " + o.Destination
		}
		out = append(out, step{What: "output " + o.Role, Detail: o.Name + ": " + st})
	}
	if e.Attempts > 0 {
		d := fmt.Sprintf("%d failed attempt(s)", e.Attempts)
		if operator {
			d += "; last: " + e.LastError
		}
		out = append(out, step{What: "retried", Detail: d})
	}
	out = append(out, step{What: string(e.State), Detail: e.Note, At: e.Updated})
	return out
}

// linesPerPage bounds the lines a file page lists.
const linesPerPage = 100

func (s *Server) filePage(w http.ResponseWriter, r *http.Request, u *user) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	e, err := s.fileFor(ctx, u, id)
	if err != nil {
		return err
	}
	if err := s.screenNote(ctx, u, e); err != nil {
		return err
	}
	data := map[string]any{"File": e, "Timeline": timeline(e, u.operator())}
	if e.RunID != 0 {
		counts, err := s.c.RunRuleCounts(ctx, e.RunID)
		if err != nil {
			return err
		}
		rule := r.URL.Query().Get("rule")
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		offset = max(offset, 0)
		// Providers see every line of their file; operators the rejected ones.
		lines, err := s.c.RunDecisions(ctx, e.RunID, u.operator() || rule != "", rule, offset, linesPerPage)
		if err != nil {
			return err
		}
		if err := s.screenDuplicates(ctx, u, lines, nil); err != nil {
			return err
		}
		is, err := s.c.RunInterchanges(ctx, e.RunID)
		if err != nil {
			return err
		}
		data["Counts"], data["Lines"], data["Rule"], data["Interchanges"] = counts, lines, rule, is
		if len(lines) == linesPerPage {
			data["NextOffset"] = offset + linesPerPage
		}
	}
	if e.State == store.FileQuarantined {
		data["Quarantined"] = true
		if u.operator() {
			data["QuarantinedAt"] = store.QuarantinedAt(e)
		}
		data["Scheduled"] = e.Source == store.ScheduleSource
		_, err := store.RequeuePath(e)
		data["Requeueable"] = err == nil
	}
	s.auditView(r, u, "view", fmt.Sprintf("file %d", e.ID), "")
	s.render(w, r, http.StatusOK, "file", u, data)
	return nil
}

func (s *Server) linePage(w http.ResponseWriter, r *http.Request, u *user) error {
	run, err := pathID(r, "run")
	if err != nil {
		return err
	}
	seq, err := pathID(r, "seq")
	if err != nil {
		return err
	}
	ctx := r.Context()
	f, err := s.c.FileOfRun(ctx, run)
	if err != nil {
		return err
	}
	if !u.operator() {
		// A provider sees the lines of their own files only.
		if f == nil {
			return errNotFound
		}
		if _, err := s.fileFor(ctx, u, f.ID); err != nil {
			return err
		}
	}
	d, ok, err := s.c.Decision(ctx, run, int(seq))
	if err != nil {
		return err
	}
	if !ok {
		return errNotFound
	}
	one := []store.LineDecision{*d}
	if err := s.screenDuplicates(ctx, u, one, nil); err != nil {
		return err
	}
	d = &one[0]
	s.auditView(r, u, "view", fmt.Sprintf("line %d/%d", run, seq), "")
	s.render(w, r, http.StatusOK, "line", u, map[string]any{"Line": d, "File": f})
	return nil
}

func (s *Server) requeue(w http.ResponseWriter, r *http.Request, u *user) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.fileFor(r.Context(), u, id); err != nil {
		return err
	}
	nid, err := s.c.RequeueFile(r.Context(), id)
	if errors.Is(err, store.ErrNotQuarantined) {
		return errForbidden
	}
	if errors.Is(err, store.ErrCannotRequeue) {
		s.log.Warn("web: requeue refused", "file", id, "err", err, "by", u.Name)
		s.render(w, r, http.StatusConflict, "error", u, map[string]any{"Status": 409,
			"Message": strings.TrimPrefix(err.Error(), store.ErrCannotRequeue.Error()+": ")})
		return nil
	}
	if err != nil {
		return err
	}
	s.audit(r, u, "requeue", fmt.Sprintf("file %d", id), fmt.Sprintf("queued again as file %d", nid))
	s.log.Info("web: file requeued", "file", id, "new", nid, "by", u.Name)
	http.Redirect(w, r, fmt.Sprintf("/files/%d", nid), http.StatusSeeOther)
	return nil
}

func (s *Server) searchForm(w http.ResponseWriter, r *http.Request, u *user) error {
	s.render(w, r, http.StatusOK, "search", u, nil)
	return nil
}

// search looks a posted term up as a CIN, an invoice number, a CLM01, an
// ISA13, a file name or a content hash. The term never reaches a URL or a
// log; the audit log keeps its hash.
func (s *Server) search(w http.ResponseWriter, r *http.Request, u *user) error {
	term := strings.TrimSpace(r.PostFormValue("q"))
	data := map[string]any{"Q": term}
	if term == "" {
		s.render(w, r, http.StatusOK, "search", u, data)
		return nil
	}
	ctx := r.Context()
	const limit = 200
	var lines []store.LineDecision
	add := func(ds []store.LineDecision, err error) error {
		if err != nil {
			return err
		}
		lines = append(lines, ds...)
		return nil
	}
	// A term that cannot be a CIN (the profile's member_id_pattern) is not
	// looked up as one.
	if s.memberID == nil || s.memberID.MatchString(term) {
		if err := add(s.c.MemberDecisions(ctx, term, limit)); err != nil {
			return err
		}
	}
	if err := add(s.c.InvoiceLines(ctx, term, 0, limit)); err != nil {
		return err
	}
	var claim *store.SentClaim
	c, found, err := s.c.ClaimByCLM01(ctx, term)
	if err != nil {
		return err
	}
	if found {
		claim = &c
		if c.Invoice != term {
			if err := add(s.c.InvoiceLines(ctx, c.Invoice, c.Run, limit)); err != nil {
				return err
			}
		}
	}
	files, err := s.c.FilesByNameOrHash(ctx, term)
	if err != nil {
		return err
	}
	if n, err := strconv.ParseInt(strings.TrimLeft(term, "0"), 10, 64); err == nil && n > 0 && len(term) <= 9 {
		is, err := s.c.InterchangesByISA13(ctx, n)
		if err != nil {
			return err
		}
		for _, i := range is {
			f, err := s.c.FileOfRun(ctx, i.Run)
			if err != nil {
				return err
			}
			if f != nil {
				files = append(files, *f)
			}
		}
		data["Interchanges"] = is
	}
	lines = dedupe(lines)
	data["Lines"], data["Files"], data["Claim"] = lines, files, claim
	s.auditView(r, u, "search", "search", termHash(s.o.AuditKey, term))
	s.render(w, r, http.StatusOK, "search", u, data)
	return nil
}

func dedupe(ds []store.LineDecision) []store.LineDecision {
	type key struct {
		run int64
		seq int
	}
	seen := map[key]bool{}
	out := ds[:0]
	for _, d := range ds {
		k := key{d.Run, d.Seq}
		if !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	return out
}

// rejectDays is how far back rejects by rule go.
const rejectDays = 30

func (s *Server) rejectsByRule(w http.ResponseWriter, r *http.Request, u *user) error {
	now := s.o.Now().UTC()
	since := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(rejectDays - 1))
	rows, err := s.c.RejectsByRule(r.Context(), since)
	if err != nil {
		return err
	}
	var ruleIDs []string
	for _, x := range rows {
		if !slices.Contains(ruleIDs, x.Rule) {
			ruleIDs = append(ruleIDs, x.Rule)
		}
	}
	slices.Sort(ruleIDs)
	type row struct {
		Day    string
		Counts []int
	}
	var table []row
	for _, x := range rows {
		if len(table) == 0 || table[len(table)-1].Day != x.Day {
			table = append(table, row{Day: x.Day, Counts: make([]int, len(ruleIDs))})
		}
		table[len(table)-1].Counts[slices.Index(ruleIDs, x.Rule)] = x.Count
	}
	s.render(w, r, http.StatusOK, "rejects", u, map[string]any{"Rules": ruleIDs, "Table": table, "Days": rejectDays})
	return nil
}

func (s *Server) users(w http.ResponseWriter, r *http.Request, u *user) error {
	return s.showUsers(w, r, u, http.StatusOK, "")
}

func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, u *user, status int, msg string) error {
	list, err := s.c.Users(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, status, "users", u, map[string]any{"Users": list, "Message": msg})
	return nil
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request, u *user) error {
	nu, err := NewUser(r.PostFormValue("name"), r.PostFormValue("role"), r.PostFormValue("npis"), r.PostFormValue("password"))
	if err != nil {
		return s.showUsers(w, r, u, http.StatusBadRequest, err.Error())
	}
	if _, err := s.c.AddUser(r.Context(), nu); err != nil {
		if errors.Is(err, store.ErrUserExists) {
			return s.showUsers(w, r, u, http.StatusBadRequest, "That name is taken.")
		}
		return err
	}
	s.audit(r, u, "user-add", "user "+nu.Name, "role "+nu.Role)
	http.Redirect(w, r, "/users", http.StatusSeeOther)
	return nil
}

func (s *Server) disableUser(w http.ResponseWriter, r *http.Request, u *user) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if id == u.ID {
		return s.showUsers(w, r, u, http.StatusBadRequest, "You cannot disable yourself.")
	}
	target, err := s.c.User(r.Context(), id)
	if errors.Is(err, store.ErrNoUser) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	if err := s.c.SetUserDisabled(r.Context(), id, true); err != nil {
		return err
	}
	s.sessions.drop("", id)
	s.audit(r, u, "user-disable", "user "+target.Name, "")
	http.Redirect(w, r, "/users", http.StatusSeeOther)
	return nil
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request, u *user) error {
	s.FlushAudit()
	ev, err := s.c.AuditEvents(r.Context(), 200)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "audit", u, map[string]any{"Events": ev})
	return nil
}

// invoiceTemplates are the templates providers download.
var invoiceTemplates = map[string]string{
	"invoice-template.csv":  "text/csv; charset=utf-8",
	"invoice-template.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

func (s *Server) template(w http.ResponseWriter, r *http.Request, u *user) error {
	name := r.PathValue("name")
	ct, ok := invoiceTemplates[name]
	if !ok {
		return errNotFound
	}
	b, err := files.ReadFile("assets/" + name)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write(b)
	return nil
}

// NewUser checks a new user's values and hashes the password: a name of
// letters, digits and . _ @ -, a role, the billing NPIs (comma or space
// separated; required for a provider, each passing the check digit).
func NewUser(name, role, npis, password string) (store.User, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 || strings.IndexFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r))
	}) >= 0 {
		return store.User{}, fmt.Errorf("user name %q: use 1 to 64 letters, digits and . _ @ -", name)
	}
	if !store.ValidRole(role) {
		return store.User{}, fmt.Errorf("role %q: want operator, admin or provider", role)
	}
	list := strings.FieldsFunc(npis, func(r rune) bool { return r == ',' || r == ' ' })
	for _, n := range list {
		if !rules.ValidNPI(n) {
			return store.User{}, fmt.Errorf("NPI %q fails the check digit", n)
		}
	}
	if role == store.RoleProvider && len(list) == 0 {
		return store.User{}, errors.New("a provider needs at least one billing NPI")
	}
	if role != store.RoleProvider && len(list) > 0 {
		return store.User{}, errors.New("only a provider is bound to NPIs")
	}
	hash, err := HashPassword(password)
	if err != nil {
		return store.User{}, err
	}
	return store.User{Name: name, Role: role, NPIs: list, Hash: hash}, nil
}
