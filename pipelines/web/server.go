// Package web is the gateway's web console: pages rendered on the server
// from embedded Go templates (no JavaScript), over the same state store as
// the daemon (SQLite or PostgreSQL).
//
// Operators see the files the daemon took in (a dashboard, a filtered list,
// each file's ledger timeline, outputs and rejects by rule), every line's
// decision with the evidence the judges recorded, search by CIN, invoice
// number, CLM01, ISA13, file name or hash, rejects by rule over time, and
// requeue quarantined files; admins also manage users and read the audit
// log. Providers upload invoice files (through the daemon's own source, so
// the same checks, duplicate protection and outputs apply), check a file
// without sending it, see their own files only, and download the invoice
// templates.
//
// Security: argon2id password hashes; sessions in Secure, HttpOnly,
// SameSite=Strict cookies whose tokens are kept hashed; a CSRF token on
// every form and net/http.CrossOriginProtection; sign-ins rate-limited per
// address and per user name; every object checked against the user on
// every request (another provider's file is a 404); an upload size limit;
// html/template escaping; an audit log of who viewed or changed what. PHI
// never goes in URLs or logs: search terms are posted and only their hash
// is audited.
package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/pipelines/judges"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

//go:embed templates/*.html assets/*
var files embed.FS

// Store is what the console reads and changes: the ledger, the console's
// tables, and what the judges read for a check-only conversion
// (store.SQLite, store.Postgres).
type Store interface {
	store.LedgerStore
	store.ConsoleStore
	judges.Store
}

var (
	_ Store = (*store.SQLite)(nil)
	_ Store = (*store.Postgres)(nil)
)

// Options configure a Server.
type Options struct {
	Config *config.Config
	Rules  *rules.Set
	Store  Store
	Log    *slog.Logger
	Now    func() time.Time // nil = time.Now
	// AuditKey is the key the audit log keeps search terms under
	// (config.Web.AuditKey), at least config.MinAuditKey bytes.
	AuditKey []byte
}

// Server is the console.
type Server struct {
	o       Options
	web     config.Web
	c       *store.Console
	pages   map[string]*template.Template
	limiter *limiter
	handler http.Handler
	log     *slog.Logger
	// memberID is the profile's member ID pattern: search looks a term up
	// as a CIN only when it matches.
	memberID *regexp.Regexp

	dash     dashboardCache
	sessions sessionCache
	// busy admits signed-in requests, store.ConsoleReaders at once, the
	// others waiting in the order they came (a channel's senders queue).
	busy chan struct{}

	uploadMu sync.Mutex // serializes the creation of the upload transport
	upload   uploadTarget

	// Views and searches are audited in batches (auditEvery); changes
	// (sign-ins, requeues, users, uploads) at once.
	auditMu  sync.Mutex
	auditBuf []store.AuditEvent
	flushMu  sync.Mutex // one flush at a time: a flush returns after the ones before it
	// After a refused flush the periodic one waits (retryAt), doubling
	// the wait (backoff) from auditRetryMin to auditRetryMax, so that a
	// refused backlog does not hold the store's write lock over and over.
	retryAt   time.Time
	backoff   time.Duration
	auditStop chan struct{}
	auditDone chan struct{}
}

// auditEvery is how often the queued audit events are written.
const auditEvery = 100 * time.Millisecond

// Cookie names.
const (
	sessionCookie = "calgw_session"
	loginCookie   = "calgw_login" // the sign-in form's CSRF token (double submit)
)

// New returns the console.
func New(o Options) (*Server, error) {
	if o.Config == nil || o.Store == nil || o.Rules == nil {
		return nil, errors.New("web: configuration, rule set and store are required")
	}
	if len(o.AuditKey) < config.MinAuditKey {
		return nil, fmt.Errorf("web: an audit key of at least %d bytes is required", config.MinAuditKey)
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{o: o, web: o.Config.Web.WithDefaults(), c: o.Store.Console(), log: o.Log, busy: make(chan struct{}, store.ConsoleReaders)}
	s.limiter = newLimiter(s.web.LoginAttempts, time.Minute, o.Now)
	if re, err := regexp.Compile(o.Config.Encounters.MemberIDPattern); err == nil && o.Config.Encounters.MemberIDPattern != "" {
		s.memberID = re
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.routes()
	s.auditStop, s.auditDone = make(chan struct{}), make(chan struct{})
	go s.auditLoop()
	return s, nil
}

func (s *Server) auditLoop() {
	defer close(s.auditDone)
	t := time.NewTicker(auditEvery)
	defer t.Stop()
	for {
		select {
		case <-s.auditStop:
			s.FlushAudit()
			return
		case <-t.C:
			s.flushAudit(true)
		}
	}
}

// auditWait bounds how long a flush waits for the store (on SQLite, for
// the writer's turn while a run or a load holds it) before it tries again.
const auditWait = 30 * time.Second

// maxQueuedAudit bounds the audit events kept for another attempt while
// the store refuses them.
const maxQueuedAudit = 100_000

// auditRetryMin and auditRetryMax bound the periodic flush's wait after
// the store refused one.
const (
	auditRetryMin = time.Second
	auditRetryMax = 30 * time.Second
)

// FlushAudit writes the queued audit events. Events the store refuses
// (a database that is down, a write lock held past the busy timeout) stay
// queued, ahead of newer ones, for the next attempt. A flush waits for
// one in progress (the periodic one), so that the events queued before
// it are written, or queued again, when it returns.
func (s *Server) FlushAudit() { s.flushAudit(false) }

// flushAudit is FlushAudit; a periodic flush (periodic) is skipped until
// the wait after a refused one is over.
func (s *Server) flushAudit(periodic bool) {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	if periodic && time.Now().Before(s.retryAt) {
		return
	}
	s.auditMu.Lock()
	es := s.auditBuf
	s.auditBuf = nil
	s.auditMu.Unlock()
	if len(es) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), auditWait)
	defer cancel()
	err := s.c.AuditMany(ctx, es)
	if err == nil {
		s.retryAt, s.backoff = time.Time{}, 0
		return
	}
	s.backoff = min(max(2*s.backoff, auditRetryMin), auditRetryMax)
	s.retryAt = time.Now().Add(s.backoff)
	s.auditMu.Lock()
	s.auditBuf = append(es, s.auditBuf...)
	n := len(s.auditBuf)
	if n > maxQueuedAudit {
		s.auditBuf = s.auditBuf[n-maxQueuedAudit:]
	}
	s.auditMu.Unlock()
	if n > maxQueuedAudit {
		s.log.Error("web: audit log: events lost", "err", err, "lost", n-maxQueuedAudit)
		return
	}
	s.log.Warn("web: audit log: write deferred", "err", err, "events", len(es))
}

// Handler is the console's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves the console on ln until ctx ends (HTTPS when the web
// section names a certificate), then shuts down.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	done := make(chan error, 1)
	go func() {
		if s.web.TLSCert != "" {
			done <- srv.ServeTLS(ln, s.web.TLSCert, s.web.TLSKey)
		} else {
			done <- srv.Serve(ln)
		}
	}()
	s.log.Info("web console listening", "addr", ln.Addr().String(), "tls", s.web.TLSCert != "")
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ListenAndServe listens on the configured address and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.web.Listen)
	if err != nil {
		return fmt.Errorf("web console: %w", err)
	}
	return s.Serve(ctx, ln)
}

// ---- requests ----

// user is the signed-in user of a request.
type user struct {
	*store.User
	session *store.Session
}

func (u *user) operator() bool { return u.Role == store.RoleOperator || u.Role == store.RoleAdmin }
func (u *user) admin() bool    { return u.Role == store.RoleAdmin }

// roles a page is for.
type access int

const (
	anyUser access = iota
	operators
	admins
	providers
)

func (a access) allows(u *user) bool {
	switch a {
	case operators:
		return u.operator()
	case admins:
		return u.admin()
	case providers:
		return u.Role == store.RoleProvider
	}
	return true
}

// errNotFound is answered with 404: also for an object the user may not see.
var errNotFound = errors.New("not found")

// errForbidden is answered with 403.
var errForbidden = errors.New("forbidden")

type pageFunc func(w http.ResponseWriter, r *http.Request, u *user) error

func (s *Server) routes() {
	mux := http.NewServeMux()
	static, _ := fs.Sub(files, "assets")
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(static)))
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.Handle("POST /logout", s.page(anyUser, s.logout))
	mux.Handle("GET /{$}", s.page(anyUser, s.home))
	mux.Handle("GET /files", s.page(anyUser, s.fileList))
	mux.Handle("GET /files/{id}", s.page(anyUser, s.filePage))
	mux.Handle("POST /files/{id}/requeue", s.page(operators, s.requeue))
	mux.Handle("GET /lines/{run}/{seq}", s.page(anyUser, s.linePage))
	mux.Handle("GET /search", s.page(operators, s.searchForm))
	mux.Handle("POST /search", s.page(operators, s.search))
	mux.Handle("GET /rejects", s.page(operators, s.rejectsByRule))
	mux.Handle("GET /users", s.page(admins, s.users))
	mux.Handle("POST /users", s.page(admins, s.addUser))
	mux.Handle("POST /users/{id}/disable", s.page(admins, s.disableUser))
	mux.Handle("GET /audit", s.page(admins, s.auditLog))
	mux.Handle("GET /upload", s.page(anyUser, s.uploadForm))
	mux.Handle("POST /upload", s.page(anyUser, s.uploadFile))
	mux.Handle("GET /templates/{name}", s.page(anyUser, s.template))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.signedIn(w, r); !ok {
			return
		}
		s.render(w, r, http.StatusNotFound, "error", nil, map[string]any{"Status": 404, "Message": "There is no such page."})
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("web: cross-origin request refused", "method", r.Method, "path", r.URL.Path)
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
	}))
	s.handler = s.logRequests(securityHeaders(cop.Handler(mux)))
}

// securityHeaders sets headers every answer carries: no framing, no
// sniffing, no referrer, a strict content security policy (no script at all).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// logRequests logs each request's method, path (IDs only: no PHI goes in
// a path), status and duration; never the query or the body.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.log.Debug("web request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", time.Since(start).Milliseconds())
	})
}

// wantsHTML reports whether the client reads pages (a browser) rather than
// an API client: anonymous browsers are sent to /login, others get 401.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// signedIn returns the request's user; when there is none it answers
// (a redirect to /login, or 401) and ok is false.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request) (*user, bool) {
	u, err := s.sessionUser(r)
	if err != nil {
		if !errors.Is(err, store.ErrNoSession) && !errors.Is(err, store.ErrNoUser) {
			s.log.Error("web: session", "err", err)
		}
		if wantsHTML(r) && r.Method == http.MethodGet {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		} else {
			w.Header().Set("WWW-Authenticate", `Cookie realm="calgw"`)
			http.Error(w, "sign in at /login", http.StatusUnauthorized)
		}
		return nil, false
	}
	return u, true
}

func (s *Server) sessionUser(r *http.Request) (*user, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, store.ErrNoSession
	}
	tok, now := tokenHash(ck.Value), s.o.Now()
	if u := s.sessions.get(tok, now); u != nil {
		return u, nil
	}
	sess, su, err := s.c.SessionUser(r.Context(), tok, now)
	if err != nil {
		return nil, err
	}
	u := &user{User: su, session: sess}
	s.sessions.put(tok, u, now)
	return u, nil
}

// sessionRecheck is how long a session found in the store is taken
// without asking the store again. A sign-out or a disabled user on this
// instance applies at once (the entries are dropped); on another instance
// of the same store, within sessionRecheck.
const sessionRecheck = time.Second

// sessionCache keeps the sessions found in the store lately, by token hash.
type sessionCache struct {
	mu sync.Mutex
	m  map[string]cachedSession
}

type cachedSession struct {
	u  *user
	at time.Time
}

// maxCachedSessions bounds the cache (it is emptied when full).
const maxCachedSessions = 10_000

func (c *sessionCache) get(tok string, now time.Time) *user {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[tok]
	if !ok {
		return nil
	}
	if age := now.Sub(e.at); age < 0 || age >= sessionRecheck || !now.Before(e.u.session.Expires) {
		delete(c.m, tok)
		return nil
	}
	return e.u
}

func (c *sessionCache) put(tok string, u *user, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedSessions {
		c.m = map[string]cachedSession{}
	}
	c.m[tok] = cachedSession{u: u, at: now}
}

// drop forgets a session (tok) or every session of a user (tok "").
func (c *sessionCache) drop(tok string, userID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if k == tok || tok == "" && e.u.ID == userID {
			delete(c.m, k)
		}
	}
}

// page wraps a handler: the user must be signed in and have the access;
// every unsafe request must carry the session's CSRF token. The request
// holds an admission slot (busy) while it is served, but not while its
// body is read.
func (s *Server) page(a access, fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.admit(r) {
			return
		}
		held := true
		defer func() {
			if held {
				<-s.busy
			}
		}()
		u, ok := s.signedIn(w, r)
		if !ok {
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// The body is read without an admission slot: a client
			// sending it slowly holds no other page back.
			<-s.busy
			held = false
			ok, tooLarge := s.validCSRF(w, r, u)
			if !s.admit(r) {
				return
			}
			held = true
			if tooLarge {
				s.render(w, r, http.StatusRequestEntityTooLarge, "error", u, map[string]any{"Status": 413, "Message": fmt.Sprintf("The upload is larger than the %d KiB limit.", s.web.MaxUploadBytes>>10)})
				return
			}
			if !ok {
				s.render(w, r, http.StatusForbidden, "error", u, map[string]any{"Status": 403, "Message": "The form's security token is missing or stale: reload the page and try again."})
				return
			}
		}
		if !a.allows(u) {
			s.render(w, r, http.StatusNotFound, "error", u, map[string]any{"Status": 404, "Message": "There is no such page."})
			return
		}
		err := fn(w, r, u)
		switch {
		case err == nil:
		case errors.Is(err, errNotFound):
			s.render(w, r, http.StatusNotFound, "error", u, map[string]any{"Status": 404, "Message": "There is no such page."})
		case errors.Is(err, errForbidden):
			s.render(w, r, http.StatusForbidden, "error", u, map[string]any{"Status": 403, "Message": "You may not do that."})
		default:
			s.log.Error("web: page", "method", r.Method, "path", r.URL.Path, "err", err)
			s.render(w, r, http.StatusInternalServerError, "error", u, map[string]any{"Status": 500, "Message": "Something went wrong; the log says what."})
		}
	})
}

// admit waits for an admission slot (busy) for r; false when r ended first.
func (s *Server) admit(r *http.Request) bool {
	select {
	case s.busy <- struct{}{}:
		return true
	case <-r.Context().Done():
		return false
	}
}

// validCSRF checks the form's token against the session's. A multipart
// form (an upload) is parsed within the upload limit.
func (s *Server) validCSRF(w http.ResponseWriter, r *http.Request, u *user) (ok, tooLarge bool) {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, s.web.MaxUploadBytes+64<<10)
		err = r.ParseMultipartForm(1 << 20)
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		err = r.ParseForm()
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return false, true
	}
	tok := r.PostFormValue("csrf")
	return err == nil && tok != "" && subtleEqual(tok, u.session.CSRF), false
}

func subtleEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is how a session token is kept in the store.
func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// termHash is what the audit log keeps of a search term (PHI): its
// HMAC-SHA-256 under the audit key, in hex. The same term gives the same
// value within a deployment, so that whoever holds the key can tell
// whether a term was searched; without the key the log's values cannot be
// matched to CINs or names by trying them.
func termHash(key []byte, term string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(term))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}

// audit records a change in the audit log at once; when the store
// refuses it, the event is queued for the next flush (auditEvery).
func (s *Server) audit(r *http.Request, u *user, action, object, detail string) {
	e := auditEvent(r, u, s.o.Now(), action, object, detail)
	if err := s.c.Audit(r.Context(), e); err != nil {
		s.log.Warn("web: audit log: write deferred", "err", err, "events", 1)
		s.auditMu.Lock()
		s.auditBuf = append(s.auditBuf, e)
		s.auditMu.Unlock()
	}
}

// auditView queues a view or a search for the audit log (written within
// auditEvery, and when the server closes).
func (s *Server) auditView(r *http.Request, u *user, action, object, detail string) {
	s.auditMu.Lock()
	s.auditBuf = append(s.auditBuf, auditEvent(r, u, s.o.Now(), action, object, detail))
	s.auditMu.Unlock()
}

func auditEvent(r *http.Request, u *user, at time.Time, action, object, detail string) store.AuditEvent {
	name := ""
	if u != nil {
		name = u.Name
	}
	addr, _, _ := net.SplitHostPort(r.RemoteAddr)
	return store.AuditEvent{At: at, User: name, Action: action, Object: object, Detail: detail, Addr: addr}
}

func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound
	}
	return id, nil
}

// ---- sign-in ----

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, err := s.sessionUser(r); err == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.showLogin(w, r, http.StatusOK, "")
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	tok := randomToken()
	s.setCookie(w, loginCookie, tok, 600)
	s.render(w, r, status, "login", nil, map[string]any{"LoginToken": tok, "Message": msg})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	ck, err := r.Cookie(loginCookie)
	if err != nil || ck.Value == "" || !subtleEqual(ck.Value, r.PostFormValue("csrf")) {
		s.render(w, r, http.StatusForbidden, "error", nil, map[string]any{"Status": 403, "Message": "The sign-in form's security token is missing or stale: reload the page and try again."})
		return
	}
	name, password := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	addr, _, _ := net.SplitHostPort(r.RemoteAddr)
	keys := []string{"addr:" + addr, "user:" + name}
	if !s.limiter.begin(keys...) {
		s.audit(r, nil, "login-limited", "user "+name, "")
		s.showLogin(w, r, http.StatusTooManyRequests, "Too many failed sign-ins: wait a minute and try again.")
		return
	}
	failed := true
	defer func() { s.limiter.end(failed, keys...) }()
	u, err := s.c.UserByName(r.Context(), name)
	hash := dummyHash
	if err == nil {
		hash = u.Hash
	} else if !errors.Is(err, store.ErrNoUser) {
		s.log.Error("web: sign-in", "err", err)
	}
	ok, _ := CheckPassword(hash, password)
	if err != nil || !ok || u.Disabled {
		s.audit(r, nil, "login-failed", "user "+name, "")
		s.showLogin(w, r, http.StatusUnauthorized, "Wrong user name or password.")
		return
	}
	failed = false
	tok := randomToken()
	now := s.o.Now()
	sess := store.Session{Token: tokenHash(tok), UserID: u.ID, CSRF: randomToken(), Created: now, Expires: now.Add(s.web.SessionTTL)}
	if err := s.c.CreateSession(r.Context(), sess); err != nil {
		s.log.Error("web: sign-in", "err", err)
		http.Error(w, "could not sign in", http.StatusInternalServerError)
		return
	}
	_ = s.c.DeleteExpiredSessions(r.Context(), now)
	if old, err := r.Cookie(sessionCookie); err == nil && old.Value != "" {
		// The browser's earlier session ends with this sign-in, as at
		// sign-out: a copy of its cookie signs no one in.
		h := tokenHash(old.Value)
		if err := s.c.DeleteSession(r.Context(), h); err != nil {
			s.log.Error("web: sign-in: ending the earlier session", "err", err)
		}
		s.sessions.drop(h, 0)
	}
	s.setCookie(w, sessionCookie, tok, int(s.web.SessionTTL.Seconds()))
	s.setCookie(w, loginCookie, "", -1)
	s.audit(r, &user{User: u}, "login", "user "+u.Name, "")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, u *user) error {
	if err := s.c.DeleteSession(r.Context(), u.session.Token); err != nil {
		return err
	}
	s.sessions.drop(u.session.Token, u.ID)
	s.setCookie(w, sessionCookie, "", -1)
	s.audit(r, u, "logout", "user "+u.Name, "")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// limiter counts failed sign-ins per key over a window, and the sign-ins
// under way: an attempt takes its place when it begins, so that attempts
// made at once cannot pass the limit together.
type limiter struct {
	mu       sync.Mutex
	max      int
	window   time.Duration
	now      func() time.Time
	fails    map[string][]time.Time
	underway map[string]int
}

func newLimiter(max int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{max: max, window: window, now: now, fails: map[string][]time.Time{}, underway: map[string]int{}}
}

// begin reports whether every key has fewer than max failures in the
// window and attempts under way together; when so, the attempt is under
// way for each key until end.
func (l *limiter) begin(keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if len(l.recent(k))+l.underway[k] >= l.max {
			return false
		}
	}
	for _, k := range keys {
		l.underway[k]++
	}
	return true
}

// end ends an attempt begun on keys; a failed one counts in the window.
func (l *limiter) end(failed bool, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if l.underway[k]--; l.underway[k] <= 0 {
			delete(l.underway, k)
		}
		if failed {
			l.fails[k] = append(l.recent(k), l.now())
		}
	}
	if len(l.fails) > 100_000 { // bound the memory a flood of names can take
		clear(l.fails)
	}
}

func (l *limiter) recent(key string) []time.Time {
	cut := l.now().Add(-l.window)
	ts := l.fails[key]
	i := 0
	for i < len(ts) && ts[i].Before(cut) {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
	}
	return ts
}
