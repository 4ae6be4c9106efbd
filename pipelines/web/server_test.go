package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/calaim-gateway/calaim-gateway/transport"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type fixture struct {
	t   *testing.T
	web *Server
	srv *httptest.Server
	st  *store.SQLite
	dir string // the store's state directory
	log *syncBuffer
}

const password = "correct horse battery"

// auditKey is the fixture's audit key.
const auditKey = "the fixture's audit key, 32 bytes or more"

func newFixture(t *testing.T, tune func(*config.Web)) *fixture {
	t.Helper()
	return newFixtureKey(t, tune, auditKey)
}

// newFixtureKey is newFixture with audit key key.
func newFixtureKey(t *testing.T, tune func(*config.Web), key string) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := config.Default()
	cfg.Web.MaxUploadBytes = 64 << 10
	if tune != nil {
		tune(&cfg.Web)
	}
	rs, err := cfg.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ name, role, npis string }{{"ada", store.RoleAdmin, ""}, {"pat", store.RoleProvider, "1456789019"}} {
		nu, err := NewUser(u.name, u.role, u.npis, password)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Console().AddUser(context.Background(), nu); err != nil {
			t.Fatal(err)
		}
	}
	logs := &syncBuffer{}
	s, err := New(Options{Config: cfg, Rules: rs, Store: st, Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		AuditKey: []byte(key)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(s.Close)
	return &fixture{t: t, web: s, srv: srv, st: st, dir: dir, log: logs}
}

// client is a cookie-keeping client that does not follow redirects.
func (f *fixture) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (f *fixture) get(c *http.Client, path string, html bool) (*http.Response, string) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if html {
		req.Header.Set("Accept", "text/html")
	}
	return f.do(c, req)
}

func (f *fixture) do(c *http.Client, req *http.Request) (*http.Response, string) {
	f.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (f *fixture) post(c *http.Client, path string, form url.Values) (*http.Response, string) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	return f.do(c, req)
}

var hiddenToken = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func token(t *testing.T, page string) string {
	t.Helper()
	m := hiddenToken.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in:\n%s", page)
	}
	return m[1]
}

// login signs in and returns the session's CSRF token.
func (f *fixture) login(c *http.Client, name, pw string) (*http.Response, string) {
	f.t.Helper()
	_, page := f.get(c, "/login", true)
	return f.post(c, "/login", url.Values{"csrf": {token(f.t, page)}, "name": {name}, "password": {pw}})
}

func (f *fixture) signedIn(c *http.Client, name string) string {
	f.t.Helper()
	resp, body := f.login(c, name, password)
	if resp.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("sign-in as %s: %d\n%s", name, resp.StatusCode, body)
	}
	_, page := f.get(c, "/search", true)
	if name != "ada" {
		_, page = f.get(c, "/upload", true)
	}
	return token(f.t, page)
}

// Anonymous: browsers go to /login, other clients get 401; only /login
// and the assets answer.
func TestAnonymousRequests(t *testing.T) {
	f := newFixture(t, nil)
	c := f.client()
	for _, p := range []string{"/", "/files", "/files/1", "/lines/1/1", "/search", "/users", "/nope"} {
		resp, _ := f.get(c, p, true)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("browser GET %s: %d %s", p, resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, _ = f.get(c, p, false)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("API GET %s: %d", p, resp.StatusCode)
		}
	}
	resp, _ := f.post(c, "/search", url.Values{"q": {"x"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous POST: %d", resp.StatusCode)
	}
	if resp, _ := f.get(c, "/login", true); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("login page: %d %v", resp.StatusCode, resp.Header)
	}
}

// The session cookie is Secure, HttpOnly and SameSite=Strict, and the store
// keeps only its hash; signing out ends it.
func TestSessionCookie(t *testing.T) {
	f := newFixture(t, nil)
	c := f.client()
	resp, _ := f.login(c, "ada", password)
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			sess = ck
		}
	}
	if sess == nil || !sess.Secure || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/" {
		t.Fatalf("session cookie = %+v", sess)
	}
	if _, err := f.st.Console().Session(context.Background(), sess.Value, time.Now()); err == nil {
		t.Fatal("the store keeps the cookie's value itself")
	}
	if _, err := f.st.Console().Session(context.Background(), tokenHash(sess.Value), time.Now()); err != nil {
		t.Fatalf("session by hash: %v", err)
	}
	_, page := f.get(c, "/search", true)
	resp, _ = f.post(c, "/logout", url.Values{"csrf": {token(t, page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	// The old cookie no longer works even if a client kept it.
	c2 := f.client()
	u, _ := url.Parse(f.srv.URL)
	c2.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: sess.Value}})
	if resp, _ := f.get(c2, "/files", false); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after logout: %d", resp.StatusCode)
	}
}

// Failed sign-ins are limited per user name (and address): after the limit
// even the right password is refused until the window passes.
func TestLoginRateLimit(t *testing.T) {
	f := newFixture(t, func(w *config.Web) { w.LoginAttempts = 3 })
	c := f.client()
	for i := range 3 {
		if resp, _ := f.login(c, "ada", "wrong password!"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("bad sign-in %d: %d", i+1, resp.StatusCode)
		}
	}
	if resp, _ := f.login(c, "ada", password); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("sign-in after the limit: %d", resp.StatusCode)
	}
	ev, _ := f.st.Console().AuditEvents(context.Background(), 10)
	if len(ev) != 4 || ev[0].Action != "login-limited" || ev[1].Action != "login-failed" {
		t.Fatalf("audit = %+v", ev)
	}
	// The limiter's window.
	now := time.Now()
	l := newLimiter(2, time.Minute, func() time.Time { return now })
	for range 2 {
		if !l.begin("k") {
			t.Fatal("first attempts refused")
		}
		l.end(true, "k")
	}
	if l.begin("k") || !l.begin("other") {
		t.Fatal("limit not applied per key")
	}
	l.end(false, "other")
	now = now.Add(time.Minute + time.Second)
	if !l.begin("k") {
		t.Fatal("limit outlived its window")
	}
	l.end(false, "k")
}

// Sign-ins made at once count against the limit as they begin: of many
// wrong passwords sent together, only login_attempts are checked.
func TestLoginRateLimitConcurrent(t *testing.T) {
	const limit, tries = 3, 12
	f := newFixture(t, func(w *config.Web) { w.LoginAttempts = limit })
	clients := make([]*http.Client, tries)
	reqs := make([]*http.Request, tries)
	for i := range tries {
		clients[i] = f.client()
		_, page := f.get(clients[i], "/login", true)
		form := url.Values{"csrf": {token(t, page)}, "name": {"ada"}, "password": {"wrong password!"}}
		reqs[i], _ = http.NewRequest(http.MethodPost, f.srv.URL+"/login", strings.NewReader(form.Encode()))
		reqs[i].Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	codes := make([]int, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Go(func() {
			resp, err := clients[i].Do(reqs[i])
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	checked := 0
	for _, c := range codes {
		switch c {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
		default:
			t.Errorf("sign-in answered %d", c)
		}
	}
	if checked != limit {
		t.Fatalf("%d of %d concurrent wrong passwords were checked, want %d: %v", checked, tries, limit, codes)
	}
}

// Every unsafe request needs the session's CSRF token, and a cross-site
// one is refused even with it; the sign-in form has its own token.
func TestCSRF(t *testing.T) {
	f := newFixture(t, nil)
	c := f.client()
	tok := f.signedIn(c, "ada")
	for _, form := range []url.Values{{"q": {"x"}}, {"q": {"x"}, "csrf": {"wrong"}}} {
		if resp, body := f.post(c, "/search", form); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "security token") {
			t.Errorf("POST %v: %d", form, resp.StatusCode)
		}
	}
	if resp, _ := f.post(c, "/search", url.Values{"q": {"x"}, "csrf": {tok}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("POST with the token: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/search", strings.NewReader(url.Values{"q": {"x"}, "csrf": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, _ := f.do(c, req); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d", resp.StatusCode)
	}
	// Sign-in without the form's token.
	if resp, _ := f.post(f.client(), "/login", url.Values{"name": {"ada"}, "password": {password}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in without a token: %d", resp.StatusCode)
	}
}

// Roles and objects: a provider reaches no operator page and no file it
// did not upload (404, the same as a file that does not exist); an
// operator reaches any file.
func TestAuthorizationPerObject(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	id, _, err := f.st.RegisterFile(ctx, store.FileNotice{Source: "inbox", Path: "inbox/other.csv", Name: "other.csv", Kind: "invoice", ModTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	mine, _, err := f.st.RegisterFile(ctx, store.FileNotice{Source: "inbox", Path: "inbox/mine.csv", Name: "mine.csv", Kind: "invoice", ModTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	pat, _ := f.st.Console().UserByName(ctx, "pat")
	if err := f.st.Console().RecordUpload(ctx, "inbox", "inbox/mine.csv", pat.ID); err != nil {
		t.Fatal(err)
	}
	c := f.client()
	tok := f.signedIn(c, "pat")
	paths := map[string]int{"/files/" + itoa(id): 404, "/files/" + itoa(mine): 200, "/files/999": 404, "/search": 404, "/rejects": 404, "/users": 404, "/audit": 404}
	for p, want := range paths {
		if resp, _ := f.get(c, p, true); resp.StatusCode != want {
			t.Errorf("provider GET %s: %d, want %d", p, resp.StatusCode, want)
		}
	}
	if resp, body := f.get(c, "/files", true); resp.StatusCode != 200 || strings.Contains(body, "other.csv") || !strings.Contains(body, "mine.csv") {
		t.Errorf("provider's file list:\n%s", body)
	}
	if resp, _ := f.post(c, "/files/"+itoa(id)+"/requeue", url.Values{"csrf": {tok}}); resp.StatusCode != 404 {
		t.Errorf("provider requeue: %d", resp.StatusCode)
	}
	op := f.client()
	f.signedIn(op, "ada")
	if resp, _ := f.get(op, "/files/"+itoa(id), true); resp.StatusCode != 200 {
		t.Errorf("operator GET file: %d", resp.StatusCode)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Output is escaped: a file named like markup shows as text.
func TestOutputEscaped(t *testing.T) {
	f := newFixture(t, nil)
	name := `<script>alert(1)</script>.csv`
	if _, _, err := f.st.RegisterFile(context.Background(), store.FileNotice{Source: "inbox", Path: "x", Name: name, Kind: "invoice", ModTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	c := f.client()
	f.signedIn(c, "ada")
	_, body := f.get(c, "/files", true)
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;.csv") {
		t.Fatalf("file list:\n%s", body)
	}
}

// A search term (PHI) goes by POST, never into a URL or the log; the
// audit log keeps its HMAC-SHA-256 under the audit key: the same term
// gives the same value under one key, another value under another key,
// and not the unkeyed hash anyone could compute for every CIN.
func TestSearchTermsStayOutOfLogs(t *testing.T) {
	const cin = "91234567A"
	search := func(key string) string {
		f := newFixtureKey(t, nil, key)
		c := f.client()
		tok := f.signedIn(c, "ada")
		var details []string
		for range 2 {
			resp, _ := f.post(c, "/search", url.Values{"q": {cin}, "csrf": {tok}})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("search: %d", resp.StatusCode)
			}
			f.web.FlushAudit()
			ev, _ := f.st.Console().AuditEvents(context.Background(), 10)
			if len(ev) == 0 || ev[0].Action != "search" || strings.Contains(ev[0].Detail, cin) {
				t.Fatalf("audit = %+v", ev)
			}
			details = append(details, ev[0].Detail)
		}
		if strings.Contains(f.log.String(), cin) {
			t.Fatalf("the CIN is in the log:\n%s", f.log.String())
		}
		if resp, _ := f.get(c, "/search?q="+cin, true); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /search: %d", resp.StatusCode)
		}
		if details[0] != details[1] {
			t.Fatalf("the same term audited as %q and %q", details[0], details[1])
		}
		return details[0]
	}
	got := search(auditKey)
	m := hmac.New(sha256.New, []byte(auditKey))
	m.Write([]byte(cin))
	if want := "hmac-sha256:" + hex.EncodeToString(m.Sum(nil)); got != want {
		t.Errorf("audit detail %q, want %q", got, want)
	}
	for _, unkeyed := range [][32]byte{sha256.Sum256([]byte(cin)), sha256.Sum256([]byte("calgw-search:" + cin))} {
		if h := hex.EncodeToString(unkeyed[:]); strings.Contains(got, h) || strings.Contains(got, h[:16]) {
			t.Errorf("audit detail %q is the term's unkeyed SHA-256", got)
		}
	}
	if other := search("another deployment's audit key, as long"); other == got {
		t.Errorf("audit detail %q under another key too", got)
	}
}

// The console does not start without an audit key of
// config.MinAuditKey bytes.
func TestAuditKeyRequired(t *testing.T) {
	cfg := config.Default()
	rs, err := cfg.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, key := range []string{"", "31 bytes: one short of the mini"} {
		if s, err := New(Options{Config: cfg, Rules: rs, Store: st, AuditKey: []byte(key)}); err == nil {
			s.Close()
			t.Errorf("audit key %q accepted", key)
		}
	}
}

// An upload over the size limit is refused with 413: far over it before
// it is read, just over it once the form is read.
func TestUploadSizeLimit(t *testing.T) {
	f := newFixture(t, nil)
	c := f.client()
	tok := f.signedIn(c, "pat")
	for _, size := range []int{200 << 10, 64<<10 + 1} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("csrf", tok)
		fw, _ := mw.CreateFormFile("file", "big.csv")
		fw.Write(bytes.Repeat([]byte("x"), size))
		mw.Close()
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/upload", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if resp, page := f.do(c, req); resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(page, "64 KiB") {
			t.Errorf("upload of %d bytes: %d\n%s", size, resp.StatusCode, page)
		}
	}
}

// Passwords: argon2id in PHC form, checked with their own parameters; a
// short one is refused; users need valid roles and NPIs.
func TestPasswordsAndUsers(t *testing.T) {
	h, err := HashPassword(password)
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q %v", h, err)
	}
	if ok, err := CheckPassword(h, password); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, _ := CheckPassword(h, password+"x"); ok {
		t.Fatal("wrong password accepted")
	}
	if h2, _ := HashPassword(password); h2 == h {
		t.Fatal("no salt")
	}
	if _, err := HashPassword("short"); err == nil {
		t.Fatal("short password accepted")
	}
	if ok, err := CheckPassword("$2a$10$bcrypt", password); ok || err == nil {
		t.Fatal("foreign hash accepted")
	}
	for _, tc := range []struct{ name, role, npis string }{
		{"bob", "root", ""}, {"bob", "provider", ""}, {"bob", "provider", "1234567890"}, {"bob", "operator", "1456789019"}, {"bad name", "operator", ""},
	} {
		if _, err := NewUser(tc.name, tc.role, tc.npis, password); err == nil {
			t.Errorf("NewUser(%q, %q, %q) accepted", tc.name, tc.role, tc.npis)
		}
	}
	u, err := NewUser("clinic-1", "provider", "1456789019, 1982345674", password)
	if err != nil || len(u.NPIs) != 2 {
		t.Fatalf("provider: %+v %v", u, err)
	}
}

// clock is a settable time for a server's Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// The dashboard's late ADT notices card counts the notices of its days
// and the late ones among them, from the store; the figures shown are at
// most dashboardMaxAge old.
func TestDashboardLateADTNotices(t *testing.T) {
	f := newFixture(t, nil)
	clk := &clock{t: time.Now()}
	f.web.o.Now = clk.now
	c := f.client()
	f.signedIn(c, "ada")
	_, page := f.get(c, "/", true)
	if !strings.Contains(page, `<b id="adt-late">0</b> late of <span id="adt-total">0</span>`) {
		t.Fatalf("empty store: no zero counts in the card:\n%s", page)
	}
	now := time.Now().UTC()
	var notices []store.ADTNotice
	for i, age := range []time.Duration{time.Hour, 30 * time.Hour, 25 * time.Hour, 2 * time.Hour} {
		notices = append(notices, store.ADTNotice{EventID: int64(i + 1), ProviderNPI: "1234567893", ReceivedAt: now.Add(-age), WrittenAt: now.Add(-time.Minute),
			File: "adt-notices.csv", Late: age >= 24*time.Hour})
	}
	// One late notice written before the dashboard's days: not counted.
	old := now.AddDate(0, 0, -30)
	notices = append(notices, store.ADTNotice{EventID: 9, ProviderNPI: "1234567893", ReceivedAt: old.Add(-48 * time.Hour), WrittenAt: old, File: "old.csv", Late: true})
	if err := f.st.RecordADTNotices(context.Background(), nil, notices); err != nil {
		t.Fatal(err)
	}
	// Within dashboardFresh the figures computed last are shown.
	_, page = f.get(c, "/", true)
	if !strings.Contains(page, `<b id="adt-late">0</b> late of <span id="adt-total">0</span>`) {
		t.Errorf("figures computed again within %s:\n%s", dashboardFresh, page)
	}
	// Past dashboardMaxAge a view waits for new figures.
	clk.add(dashboardMaxAge)
	_, page = f.get(c, "/", true)
	if !strings.Contains(page, `<b id="adt-late">2</b> late of <span id="adt-total">4</span>`) {
		t.Errorf("card does not say 2 late of 4:\n%s", page)
	}
}

// The dashboard's figures are computed once for many views at once, and a
// view between dashboardFresh and dashboardMaxAge gets the last figures
// while new ones are computed in the background.
func TestDashboardCache(t *testing.T) {
	var c dashboardCache
	var mu sync.Mutex
	computed := 0
	release := make(chan struct{})
	compute := func(_ context.Context, at time.Time) (*dashboardFigures, error) {
		<-release
		mu.Lock()
		defer mu.Unlock()
		computed++
		return &dashboardFigures{At: at, Since: strconv.Itoa(computed)}, nil
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	got := make([]*dashboardFigures, 20)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := c.get(context.Background(), t0, compute)
			if err != nil {
				t.Error(err)
			}
			got[i] = d
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	for _, d := range got {
		if d == nil || d.Since != "1" {
			t.Fatalf("20 views at once: want the figures computed once, got %+v", d)
		}
	}
	// Stale but not too old: the last figures, and a computation in the background.
	d, err := c.get(context.Background(), t0.Add(dashboardFresh), compute)
	if err != nil || d.Since != "1" {
		t.Fatalf("stale view: %+v, %v", d, err)
	}
	c.wg.Wait()
	d, err = c.get(context.Background(), t0.Add(dashboardFresh), compute)
	if err != nil || d.Since != "2" || !d.At.Equal(t0.Add(dashboardFresh)) {
		t.Fatalf("after the background computation: %+v, %v", d, err)
	}
	// A failed computation is reported to the views that wait for it.
	fail := func(context.Context, time.Time) (*dashboardFigures, error) { return nil, io.ErrUnexpectedEOF }
	if _, err := c.get(context.Background(), t0.Add(time.Hour), fail); err != io.ErrUnexpectedEOF {
		t.Fatalf("failed computation: %v", err)
	}
}

// A session found in the store is taken again without the store for
// sessionRecheck: a user disabled here is refused at once, a session ended
// in the store by another instance within sessionRecheck.
// A sign-in over an earlier session ends that session: its cookie, kept
// by someone, signs no one in.
func TestSignInEndsTheEarlierSession(t *testing.T) {
	f := newFixture(t, nil)
	c := f.client()
	u, _ := url.Parse(f.srv.URL)
	f.signedIn(c, "ada")
	var first string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			first = ck.Value
		}
	}
	if resp, _ := f.get(c, "/files", false); resp.StatusCode != http.StatusOK {
		t.Fatalf("first session: %d", resp.StatusCode)
	}
	// The sign-in form of an earlier tab, posted with the session's cookie.
	form := f.client()
	_, page := f.get(form, "/login", true)
	form.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: first}})
	if resp, _ := f.post(form, "/login", url.Values{"csrf": {token(t, page)}, "name": {"pat"}, "password": {password}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", resp.StatusCode)
	}
	c = form
	old := f.client()
	old.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: first}})
	if resp, _ := f.get(old, "/files", false); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the first session's cookie after a second sign-in: %d, want 401", resp.StatusCode)
	}
	if _, err := f.st.Console().Session(context.Background(), tokenHash(first), time.Now()); err == nil {
		t.Fatal("the first session is still in the store")
	}
	if resp, _ := f.get(c, "/files", false); resp.StatusCode != http.StatusOK {
		t.Fatalf("second session: %d", resp.StatusCode)
	}
}

func TestSessionRecheck(t *testing.T) {
	f := newFixture(t, nil)
	clk := &clock{t: time.Now()}
	f.web.o.Now = clk.now
	admin, provider := f.client(), f.client()
	csrf := f.signedIn(admin, "ada")
	f.signedIn(provider, "pat")
	if resp, _ := f.get(provider, "/files", false); resp.StatusCode != http.StatusOK {
		t.Fatalf("provider: %d", resp.StatusCode)
	}
	pat, err := f.st.Console().UserByName(context.Background(), "pat")
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.post(admin, "/users/"+strconv.FormatInt(pat.ID, 10)+"/disable", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if resp, _ := f.get(provider, "/files", false); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("disabled user, same instance: %d", resp.StatusCode)
	}
	// Another instance signs ada out: its store row goes.
	if resp, _ := f.get(admin, "/files", false); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin: %d", resp.StatusCode)
	}
	if err := f.st.Console().DeleteExpiredSessions(context.Background(), time.Now().Add(365*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.get(admin, "/files", false); resp.StatusCode != http.StatusOK {
		t.Fatalf("within %s of the last look-up: %d", sessionRecheck, resp.StatusCode)
	}
	clk.add(sessionRecheck)
	if resp, _ := f.get(admin, "/files", false); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session ended elsewhere, after %s: %d", sessionRecheck, resp.StatusCode)
	}
}

// TestAuditedRequestsBesideRuns has many signed-in users make audited
// requests (file views and searches, queued; sign-outs, written at once)
// while runs hold SQLite's write lock and read through the store, as the
// daemon's conversions do: no audit write may fail (SQLITE_BUSY) and every
// request must be in the audit log.
func TestAuditedRequestsBesideRuns(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	id, _, err := f.st.RegisterFile(ctx, store.FileNotice{Source: "inbox", Path: "a.csv", Name: "a.csv", Kind: "invoice", Size: 1, ModTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	const users = 16
	type session struct {
		c    *http.Client
		csrf string
	}
	sessions := make([]session, users)
	for i := range sessions {
		c := f.client()
		sessions[i] = session{c, f.signedIn(c, "ada")}
	}

	// Runs one after another, each holding the write lock for a while and
	// reading through the store's connections meanwhile.
	stop := make(chan struct{})
	runErr := make(chan error, 1)
	go func() {
		defer close(runErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			r, err := f.st.BeginRun(ctx, "test", "audit")
			if err != nil {
				runErr <- err
				return
			}
			for range 4 {
				if _, err := f.st.File(ctx, id); err != nil {
					runErr <- err
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := r.Abandon(ctx, "test"); err != nil {
				runErr <- err
				return
			}
		}
	}()

	var views sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	var bad []string
	deadline := time.Now().Add(2 * time.Second)
	for _, s := range sessions {
		views.Add(1)
		go func() {
			defer views.Done()
			note := func(action string, resp *http.Response, want int) {
				mu.Lock()
				defer mu.Unlock()
				if resp.StatusCode != want {
					bad = append(bad, fmt.Sprintf("%s: %d", action, resp.StatusCode))
					return
				}
				counts[action]++
			}
			for time.Now().Before(deadline) {
				resp, _ := f.get(s.c, "/files/"+strconv.FormatInt(id, 10), true)
				note("view", resp, http.StatusOK)
				resp, _ = f.post(s.c, "/search", url.Values{"csrf": {s.csrf}, "q": {"INV-1"}})
				note("search", resp, http.StatusOK)
			}
			resp, _ := f.post(s.c, "/logout", url.Values{"csrf": {s.csrf}})
			note("logout", resp, http.StatusSeeOther)
		}()
	}
	views.Wait()
	close(stop)
	if err := <-runErr; err != nil {
		t.Fatalf("a run beside the console: %v", err)
	}
	f.web.FlushAudit()
	var errs []string
	for _, l := range strings.Split(f.log.String(), "\n") {
		if strings.Contains(l, "level=ERROR") {
			errs = append(errs, l)
		}
	}
	if len(bad) > 0 || len(errs) > 0 {
		t.Fatalf("%d requests failed %v; %d errors logged:\n%s", len(bad), bad, len(errs), strings.Join(errs, "\n"))
	}
	evs, err := f.st.Console().AuditEvents(ctx, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range evs {
		got[e.Action]++
	}
	for _, action := range []string{"view", "search", "logout"} {
		if got[action] != counts[action] {
			t.Errorf("audit log has %d %s events, the users made %d", got[action], action, counts[action])
		}
	}
	if counts["view"] == 0 || counts["logout"] != users {
		t.Fatalf("requests made: %v", counts)
	}
}

// TestRequeueNeedsAKnownLocation: a quarantined file whose location the
// ledger recorded shows it and is requeued from there; one whose location
// is unknown (its quarantine move was interrupted) shows no requeue
// button and a requeue posted anyway is refused (409) with a message
// naming the entry, registering nothing; a scheduled job's entry is
// requeued as its own period.
func TestRequeueNeedsAKnownLocation(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	quarantine := func(n store.FileNotice, reason, at, where string) int64 {
		t.Helper()
		id, _, err := f.st.RegisterFile(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.TakeFile(ctx, "i", "n", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.DecideFile(ctx, id, "i", store.FileQuarantine, reason); err != nil {
			t.Fatal(err)
		}
		if at != "" {
			if _, err := f.st.RecordQuarantinePath(ctx, id, "i", at); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.st.FinishFile(ctx, id, "i", store.FileQuarantined, where); err != nil {
			t.Fatal(err)
		}
		return id
	}
	c := f.client()
	tok := f.signedIn(c, "ada")
	tests := []struct {
		name        string
		notice      store.FileNotice
		reason      string
		at, where   string
		page        string // on the file's page
		status      int    // of the requeue
		requeuePath string // of the new entry
	}{
		{"recorded location", store.FileNotice{Source: "inbox", Path: "inbox/a.csv", Name: "a.csv", Kind: "invoice", ModTime: time.Now()},
			"not an invoice", "quarantine/a.csv", "quarantine/a.csv", "The file is at <code>quarantine/a.csv</code>", http.StatusSeeOther, "quarantine/a.csv"},
		{"interrupted move", store.FileNotice{Source: "inbox", Path: "inbox/b.csv", Name: "b.csv", Kind: "invoice", ModTime: time.Now()},
			"not an invoice", "", "moved before an interruption", `id="unknown-location"`, http.StatusConflict, ""},
		{"scheduled job", store.FileNotice{Source: store.ScheduleSource, Path: "monthly-report/2026-11", Name: "monthly-report-2026-11", Kind: "monthly", ModTime: time.Now(), Once: true},
			"failed 3 times; last error: enrollment not loaded", "", "", `id="scheduled"`, http.StatusSeeOther, "monthly-report/2026-11"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := quarantine(tc.notice, tc.reason, tc.at, tc.where)
			_, page := f.get(c, "/files/"+itoa(id), true)
			if !strings.Contains(page, tc.page) {
				t.Errorf("file page lacks %s:\n%s", tc.page, page)
			}
			if got, want := strings.Contains(page, `id="requeue"`), tc.requeuePath != ""; got != want {
				t.Errorf("requeue button shown: %v, want %v", got, want)
			}
			before, _ := f.st.Files(ctx, 0)
			resp, body := f.post(c, "/files/"+itoa(id)+"/requeue", url.Values{"csrf": {tok}})
			if resp.StatusCode != tc.status {
				t.Fatalf("requeue: %d, want %d\n%s", resp.StatusCode, tc.status, body)
			}
			after, _ := f.st.Files(ctx, 0)
			if tc.requeuePath == "" {
				if want := "file " + itoa(id) + " (" + tc.notice.Name + ")"; !strings.Contains(body, want) {
					t.Errorf("refusal does not name %q:\n%s", want, body)
				}
				if len(after) != len(before) {
					t.Errorf("a refused requeue registered an entry")
				}
				return
			}
			if len(after) != len(before)+1 || after[0].Path != tc.requeuePath || after[0].State != store.FileQueued {
				t.Fatalf("requeued entry = %+v, want %s queued", after[0], tc.requeuePath)
			}
			if loc := resp.Header.Get("Location"); loc != "/files/"+itoa(after[0].ID) {
				t.Errorf("redirect to %q", loc)
			}
			if _, err := f.st.TakeFile(ctx, "i", "n", time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := f.st.FinishFile(ctx, after[0].ID, "i", store.FileLost, "test"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A backlog of audit events larger than one statement's parameters allow
// is written whole; a flush the store refuses part-way writes none of its
// events and queues them again ahead of newer ones, and the next flush
// writes every event once, in order.
func TestAuditBacklogFlushed(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	queue := func(from, to int) {
		f.web.auditMu.Lock()
		defer f.web.auditMu.Unlock()
		for i := from; i < to; i++ {
			f.web.auditBuf = append(f.web.auditBuf, store.AuditEvent{At: time.Now(), User: "ada", Action: "view", Object: fmt.Sprintf("file %d", i)})
		}
	}
	queued := func() int {
		f.web.auditMu.Lock()
		defer f.web.auditMu.Unlock()
		return len(f.web.auditBuf)
	}
	// The store refuses the 9000th event of the backlog: a statement
	// past the first chunks fails.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(f.dir, store.FileName)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TRIGGER refuse BEFORE INSERT ON audit_log WHEN NEW.object = 'file 8999' BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
		t.Fatal(err)
	}
	queue(0, 12_000)
	f.web.FlushAudit()
	// A periodic flush may have taken the backlog just before this one
	// and been refused too: the refusals counted so far are the first.
	first := strings.Count(f.log.String(), "write deferred")
	if first < 1 || first > 2 {
		t.Fatalf("%d refused flushes logged after the first flush, want 1 or 2", first)
	}
	if n := queued(); n != 12_000 {
		t.Fatalf("after a refused flush %d events are queued, want 12000", n)
	}
	if ev, err := f.st.Console().AuditEvents(ctx, 20_000); err != nil || len(ev) != 0 {
		t.Fatalf("a refused flush wrote %d events (%v)", len(ev), err)
	}
	// The periodic flush waits after a refused one instead of taking the
	// write lock every tick for a backlog the store refuses.
	time.Sleep(5 * auditEvery)
	if n := strings.Count(f.log.String(), "write deferred") - first; n != 0 {
		t.Fatalf("%d more refused flushes within %v of the first, want 0 (no periodic retry before %v)", n, 5*auditEvery, auditRetryMin)
	}
	queue(12_000, 12_010)
	if _, err := db.ExecContext(ctx, `DROP TRIGGER refuse`); err != nil {
		t.Fatal(err)
	}
	f.web.FlushAudit()
	if n := queued(); n != 0 {
		t.Fatalf("%d events still queued", n)
	}
	ev, err := f.st.Console().AuditEvents(ctx, 20_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 12_010 {
		t.Fatalf("%d events written, want 12010", len(ev))
	}
	for i, e := range ev { // newest first
		if want := fmt.Sprintf("file %d", 12_009-i); e.Object != want {
			t.Fatalf("event %d from the newest is %q, want %q", i, e.Object, want)
		}
	}
	if strings.Contains(f.log.String(), "level=ERROR") {
		t.Fatalf("errors logged:\n%s", f.log.String())
	}
}

// A provider reads a DUPLICATE-LINE message in full only when every line
// the earlier run accepted bills one of the provider's NPIs: not when that
// run also sent another provider's lines, nor when it recorded no
// decisions, nor when the earlier line is pending (PriorRun 0). An
// operator reads every message in full; a DUPLICATE-LINE among a line's
// further rules is screened too.
func TestScreenDuplicates(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	const pat, other = "1456789019", "1982345674"
	runOf := func(npis ...string) int64 {
		run, err := f.st.BeginRun(ctx, "convert", "{}")
		if err != nil {
			t.Fatal(err)
		}
		var ds []store.LineDecision
		for i, npi := range npis {
			ds = append(ds, store.LineDecision{Seq: i + 1, Row: i + 2, Invoice: "INV-" + npi, LineNo: "1", NPI: npi, Outcome: store.OutcomeAccepted})
		}
		// A line of another NPI that the run rejected does not count.
		ds = append(ds, store.LineDecision{Seq: len(npis) + 1, NPI: "1111111112", Outcome: store.OutcomeRejected, Rule: "FIELD-INVALID"})
		if err := f.st.RecordDecisions(ctx, run, ds); err != nil {
			t.Fatal(err)
		}
		if err := run.Written(ctx, "", ""); err != nil {
			t.Fatal(err)
		}
		if err := f.st.CompleteRun(ctx, run.ID(), ""); err != nil {
			t.Fatal(err)
		}
		return run.ID()
	}
	own, mixed, none := runOf(pat, pat), runOf(pat, other), runOf()
	const full = "already sent on 2026-12-01 as invoice INV-X line 1, in e.837 (line control 1-1)"
	lines := func() []store.LineDecision {
		return []store.LineDecision{
			{Rule: "DUPLICATE-LINE", Message: full, PriorRun: own},
			{Rule: "DUPLICATE-LINE", Message: full, PriorRun: mixed},
			{Rule: "DUPLICATE-LINE", Message: full, PriorRun: none},
			{Rule: "DUPLICATE-LINE", Message: full, PriorRun: 0},
			{Rule: "DUPLICATE-LINE", Message: full, PriorRun: 99}, // a run not recorded here
			{Rule: "AUTH-MISSING", Message: "no authorization", Facts: []store.Fact{{Kind: "also", Detail: "DUPLICATE-LINE: " + full}}},
		}
	}
	prov := &user{User: &store.User{Role: store.RoleProvider, NPIs: []string{pat}}}
	ls := lines()
	if err := f.web.screenDuplicates(ctx, prov, ls, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{full, encounters.DuplicateForOthers, encounters.DuplicateForOthers, encounters.DuplicateForOthers, encounters.DuplicateForOthers, "no authorization"}
	for i, l := range ls {
		if l.Message != want[i] {
			t.Errorf("line %d (prior run %d): provider reads %q, want %q", i, l.PriorRun, l.Message, want[i])
		}
	}
	if d := ls[5].Facts[0].Detail; d != "DUPLICATE-LINE: "+encounters.DuplicateForOthers {
		t.Errorf("further rule: provider reads %q", d)
	}
	// A run decided by the caller (a check's) is not looked up.
	ls = lines()[4:5]
	if err := f.web.screenDuplicates(ctx, prov, ls, map[int64]bool{99: true}); err != nil || ls[0].Message != full {
		t.Errorf("a check's own run: %q %v", ls[0].Message, err)
	}
	op := &user{User: &store.User{Role: store.RoleOperator}}
	ls = lines()
	if err := f.web.screenDuplicates(ctx, op, ls, nil); err != nil {
		t.Fatal(err)
	}
	for i, l := range ls[:5] {
		if l.Message != full {
			t.Errorf("line %d: operator reads %q", i, l.Message)
		}
	}
	if ls[5].Facts[0].Detail != "DUPLICATE-LINE: "+full {
		t.Errorf("further rule: operator reads %q", ls[5].Facts[0].Detail)
	}
}

// A file whose content repeats an earlier file is noted as its duplicate.
// A provider reads the earlier file's name (and when it came) only when
// the provider uploaded it too: on the file page, the file list and the
// upload page another provider's upload is "a file received before".
// Operators read the note in full.
// A provider's file page tells what happened to the file, not the
// errors of its retries nor where the gateway claimed it; an operator's
// tells both.
func TestProviderFilePageLeavesInternalsOut(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	pat, err := f.st.Console().UserByName(ctx, "pat")
	if err != nil {
		t.Fatal(err)
	}
	const name = "web-20261204T000000.000000000-pat-dec.csv"
	if err := f.st.Console().RecordUpload(ctx, "inbox", "inbox/"+name, pat.ID); err != nil {
		t.Fatal(err)
	}
	id, _, err := f.st.RegisterFile(ctx, store.FileNotice{Source: "inbox", Path: "inbox/" + name, Name: name, Kind: "invoice", ModTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.TakeFile(ctx, name, "n", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.ClaimFile(ctx, id, name, "processing/claimed-"+name, "w"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.RetryFile(ctx, id, name, "dial tcp sftp-internal.plan.example:22: connection refused", false, time.Minute, false); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user      string
		internals bool
	}{{"pat", false}, {"ada", true}} {
		c := f.client()
		f.signedIn(c, tt.user)
		resp, page := f.get(c, "/files/"+itoa(id), true)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "1 failed attempt(s)") {
			t.Fatalf("%s: %d\n%s", tt.user, resp.StatusCode, page)
		}
		for _, internal := range []string{"sftp-internal.plan.example", "processing/claimed-"} {
			if strings.Contains(page, internal) != tt.internals {
				t.Errorf("%s's page shows %q: %v, want %v", tt.user, internal, !tt.internals, tt.internals)
			}
		}
	}
}

func TestDuplicateFileOfAnotherProvider(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	nu, err := NewUser("quinn", store.RoleProvider, "1982345674", password)
	if err != nil {
		t.Fatal(err)
	}
	quinn, err := f.st.Console().AddUser(ctx, nu)
	if err != nil {
		t.Fatal(err)
	}
	pat, err := f.st.Console().UserByName(ctx, "pat")
	if err != nil {
		t.Fatal(err)
	}
	// upload registers an upload of by with content hash and takes it in.
	upload := func(name string, by int64, hash string) *store.FileEntry {
		t.Helper()
		p := "inbox/" + name
		if err := f.st.Console().RecordUpload(ctx, "inbox", p, by); err != nil {
			t.Fatal(err)
		}
		id, _, err := f.st.RegisterFile(ctx, store.FileNotice{Source: "inbox", Path: p, Name: name, Kind: "invoice", ModTime: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if e, err := f.st.TakeFile(ctx, name, "n", time.Minute); err != nil || e == nil || e.ID != id {
			t.Fatalf("take %s: %+v %v", name, e, err)
		}
		if _, err := f.st.ClaimFile(ctx, id, name, "processing/"+name, "w"); err != nil {
			t.Fatal(err)
		}
		e, err := f.st.SetFileContent(ctx, id, name, hash, "w")
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	const quinnName, patName = "web-20261201T000000.000000000-quinn-march.csv", "web-20261202T000000.000000000-pat-feb.csv"
	upload(quinnName, quinn, strings.Repeat("a", 64))
	theirs := upload("web-20261203T000000.000000000-pat-march.csv", pat.ID, strings.Repeat("a", 64))
	upload(patName, pat.ID, strings.Repeat("b", 64))
	own := upload("web-20261204T000000.000000000-pat-feb-again.csv", pat.ID, strings.Repeat("b", 64))
	if theirs.DuplicateOf == 0 || own.DuplicateOf == 0 || !strings.Contains(theirs.Note, quinnName) {
		t.Fatalf("not duplicates: %+v\n%+v", theirs, own)
	}
	c := f.client()
	f.signedIn(c, "pat")
	for _, p := range []string{"/files/" + itoa(theirs.ID), "/files", "/upload", "/"} {
		resp, page := f.get(c, p, true)
		if resp.StatusCode != http.StatusOK || strings.Contains(page, "quinn-march") {
			t.Errorf("provider GET %s: %d, names the other provider's file:\n%s", p, resp.StatusCode, page)
		}
		if p != "/files/"+itoa(theirs.ID) && !strings.Contains(page, patName) {
			t.Errorf("provider GET %s: the provider's own earlier file is not named:\n%s", p, page)
		}
	}
	if _, page := f.get(c, "/files/"+itoa(own.ID), true); !strings.Contains(page, "same content as file "+itoa(own.DuplicateOf)+" ("+patName) {
		t.Errorf("provider's duplicate of its own file:\n%s", page)
	}
	op := f.client()
	f.signedIn(op, "ada")
	if _, page := f.get(op, "/files/"+itoa(theirs.ID), true); !strings.Contains(page, quinnName) {
		t.Errorf("operator's file page:\n%s", page)
	}
}

// An upload waiting for the daemon's result holds no admission slot:
// while as many uploads as there are slots wait, other users' pages
// answer at once.
func TestUploadWaitLeavesPagesFree(t *testing.T) {
	f := newFixture(t, func(w *config.Web) { w.UploadSource, w.UploadWait = "inbox", 20*time.Second })
	inbox := t.TempDir()
	f.web.o.Config.Sources = map[string]config.Source{"inbox": {Transport: transport.Config{Type: "local", Local: &transport.LocalConfig{Dir: inbox}}}}
	invoice, err := files.ReadFile("assets/invoice-template.csv")
	if err != nil {
		t.Fatal(err)
	}
	c, op := f.client(), f.client()
	tok := f.signedIn(c, "pat")
	f.signedIn(op, "ada")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() }) // the uploads stop waiting
	for i := range store.ConsoleReaders {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("csrf", tok)
		fw, _ := mw.CreateFormFile("file", fmt.Sprintf("invoice-%d.csv", i))
		fw.Write(invoice)
		mw.Close()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+"/upload", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		wg.Go(func() {
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	// Every upload is in the source, waiting for a daemon that does not run.
	for deadline := time.Now().Add(time.Minute); ; {
		if es, _ := filepath.Glob(filepath.Join(inbox, "web-*")); len(es) == store.ConsoleReaders {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the uploads did not reach the source")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if resp, _ := f.get(op, "/files", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("file list: %d", resp.StatusCode)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the file list took %v while %d uploads waited", d, store.ConsoleReaders)
	}
}

// A form whose body is still coming holds no admission slot: while as
// many uploads as there are slots trickle in, other users' pages answer
// at once.
func TestSlowBodiesLeavePagesFree(t *testing.T) {
	f := newFixture(t, nil)
	c, op := f.client(), f.client()
	tok := f.signedIn(c, "pat")
	f.signedIn(op, "ada")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	started := make(chan struct{}, store.ConsoleReaders)
	for range store.ConsoleReaders {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+"/upload", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		wg.Go(func() {
			mw.WriteField("csrf", tok)
			fw, _ := mw.CreateFormFile("file", "slow.csv")
			fw.Write([]byte("invoice_number"))
			started <- struct{}{}
			<-ctx.Done() // the rest never comes
			pw.CloseWithError(ctx.Err())
		})
		wg.Go(func() {
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	for range store.ConsoleReaders {
		<-started
	}
	time.Sleep(200 * time.Millisecond) // the server reads what came
	done := make(chan int, 1)
	go func() {
		resp, _ := f.get(op, "/files", true)
		done <- resp.StatusCode
	}()
	select {
	case code := <-done:
		if code != http.StatusOK {
			t.Fatalf("file list: %d", code)
		}
	case <-time.After(5 * time.Second):
		cancel()
		<-done
		t.Fatalf("the file list waited while %d upload bodies trickled in", store.ConsoleReaders)
	}
}

// A new user's password is counted in characters, not bytes: 12 or more.
func TestPasswordLengthInCharacters(t *testing.T) {
	f := newFixture(t, nil)
	c := f.client()
	tok := f.signedIn(c, "ada")
	for i, tc := range []struct {
		password string
		status   int
	}{
		{"ééééééé", http.StatusBadRequest},    // 7 characters, 14 bytes
		{"short pass", http.StatusBadRequest}, // 10
		{"ñandú ñandú!", http.StatusSeeOther}, // 12 characters, 14 bytes
		{"twelve chars", http.StatusSeeOther}, // 12
	} {
		resp, page := f.post(c, "/users", url.Values{"csrf": {tok}, "name": {fmt.Sprintf("op%d", i)}, "role": {"operator"}, "password": {tc.password}})
		if resp.StatusCode != tc.status {
			t.Errorf("password %q: %d, want %d\n%s", tc.password, resp.StatusCode, tc.status, page)
		}
	}
}
