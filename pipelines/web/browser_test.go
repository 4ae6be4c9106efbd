package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/calaim-gateway/calaim-gateway/pipelines/gateway"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// chromium is Debian's Chromium; the browser tests fail without it
// (scripts/install-test-deps.sh installs it).
const chromium = "/usr/bin/chromium"

const invoiceHeader = "invoice_number,line_number,invoice_date,billing_npi,billing_tin,billing_name,billing_address,billing_city,billing_state,billing_zip,member_cin,member_last_name,member_first_name,member_dob,service_from,service_to,hcpcs,modifiers,units,charge_amount,diagnosis,member_address,member_city,member_state,member_zip"

// invoiceRow is a line for member m on day d of September 2026.
func invoiceRow(inv string, line int, npi string, m, d int, code, mods string) string {
	return fmt.Sprintf("%s,%d,2026-10-01,%s,941234567,Bay Street Housing,1200 Mission St,San Francisco,CA,941031520,9%07dA,Member%d,Test,1980-01-01,2026-09-%02d,2026-09-%02d,%s,%s,1,100.00,,88 Pine St,Oakland,CA,94612",
		inv, line, npi, m, m, d, d, code, mods)
}

// The two providers' billing NPIs (valid check digits).
const (
	patNPI   = "1456789019"
	quinnNPI = "1982345674"
)

type site struct {
	t    *testing.T
	dir  string
	base string
}

// startGateway runs `calgw serve` (the daemon and the console) on a local
// source under a temporary folder, with three users: an admin, and two
// providers bound to different NPIs. A file that is not an invoice is
// dropped first, to be quarantined.
func startGateway(t *testing.T) *site {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"inbox", "outbox"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "calgw.yaml")
	yaml := fmt.Sprintf(`
schedules: {poll_interval: 50ms}
retry: {initial: 50ms, max: 400ms, max_attempts: 2}
shutdown_grace: 5s
sources:
  inbox:
    transport: {type: local, local: {dir: %[1]q}}
    folder: inbox
    processing: processing
    archive: archive
    quarantine: quarantine
destinations:
  dhcs: {transport: {type: local, local: {dir: %[1]q}}, folder: outbox/dhcs}
  responses: {transport: {type: local, local: {dir: %[1]q}}, folder: outbox/responses}
web:
  upload_source: inbox
  upload_wait: 20s
  audit_key_file: %[2]q
`, dir, filepath.Join(dir, "audit.key"))
	if err := os.WriteFile(filepath.Join(dir, "audit.key"), []byte("the browser test's audit key, 32 bytes or more\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	ctx := context.Background()
	g, err := gateway.Open(ctx, gateway.Options{Config: cfg, State: state})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ name, role, npis string }{
		{"ada", store.RoleAdmin, ""}, {"pat", store.RoleProvider, patNPI}, {"quinn", store.RoleProvider, quinnNPI},
	} {
		if _, err := g.AddUser(ctx, u.name, u.role, u.npis, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
	}
	g.Close()
	if err := os.WriteFile(filepath.Join(dir, "inbox", "broken.csv"), []byte("this is not an invoice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- gateway.Run(runCtx, gateway.RunOptions{Options: gateway.Options{Config: cfg, State: state}, WebListen: addr})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway: %v", err)
		}
	})
	s := &site{t: t, dir: dir, base: "http://" + addr}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(s.base + "/login")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the console did not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// browser starts headless Chromium (as root it needs --no-sandbox).
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromium); err != nil {
		t.Fatalf("Chromium is required for the browser tests (apt-get install chromium; scripts/install-test-deps.sh): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// tab opens a new browser context (its own cookies) in the browser.
func tab(t *testing.T, b context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancel2 := context.WithTimeout(ctx, 40*time.Second)
	t.Cleanup(cancel2)
	return ctx
}

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

func (s *site) login(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	run(t, ctx,
		chromedp.Navigate(s.base+"/login"),
		chromedp.SendKeys(chromedp.ID("name"), name),
		chromedp.SendKeys(chromedp.ID("password"), "correct horse battery"),
		chromedp.Click(chromedp.ID("#signin")),
		chromedp.WaitVisible(chromedp.CSS("nav")),
	)
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// screenshot writes the page as a PNG under the test's artifact folder
// (go test -artifacts keeps them).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (s *site) file(t *testing.T, name string, lines ...string) string {
	t.Helper()
	p := filepath.Join(s.dir, name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitState reloads a file page until its state is want.
func waitState(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := text(t, ctx, "#state")
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("file state %q, want %q", got, want)
		}
		time.Sleep(200 * time.Millisecond)
		run(t, ctx, chromedp.Reload())
	}
}

// waitOtherFile waits until the tab shows the page of an entry other than
// old, and fails the test after 15 seconds.
func waitOtherFile(t *testing.T, ctx context.Context, old string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		u := location(t, ctx)
		if i := strings.LastIndex(u, "/files/"); i >= 0 {
			if id := strings.SplitN(u[i+len("/files/"):], "?", 2)[0]; id != old && !strings.Contains(id, "/") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("requeue did not lead to a new entry: still at %s", u)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func fileID(t *testing.T, ctx context.Context) string {
	t.Helper()
	u := location(t, ctx)
	i := strings.LastIndex(u, "/files/")
	if i < 0 {
		t.Fatalf("not a file page: %s", u)
	}
	return strings.SplitN(u[i+len("/files/"):], "?", 2)[0]
}

// TestConsoleInTheBrowser drives the console in Chromium: sign-in, an
// upload and its per-line result, a check-only upload, finding a claim by
// CLM01, a quarantined file's reason and its requeue, a provider kept from
// another provider's file, and a form posted without its CSRF token.
func TestConsoleInTheBrowser(t *testing.T) {
	s := startGateway(t)
	b := browser(t)

	var patFile string
	t.Run("ProviderUploadsAndReadsTheResult", func(t *testing.T) {
		ctx := tab(t, b)
		s.login(t, ctx, "pat")
		if !strings.Contains(text(t, ctx, "h1"), "Upload") {
			t.Fatalf("a provider lands on %q", text(t, ctx, "h1"))
		}
		screenshot(t, ctx, "provider-upload")
		in := s.file(t, "september.csv", invoiceHeader,
			invoiceRow("INV-PAT-1", 1, patNPI, 1, 1, "H0043", "U6"),
			invoiceRow("INV-PAT-1", 2, patNPI, 1, 2, "99213", ""))
		run(t, ctx,
			chromedp.SetUploadFiles(chromedp.ID("#file"), []string{in}),
			chromedp.Click(chromedp.ID("#send")),
			chromedp.WaitVisible(chromedp.ID("#state")),
		)
		if st := text(t, ctx, "#state"); st != "archived" {
			t.Fatalf("uploaded file is %s", st)
		}
		lines := text(t, ctx, "#lines")
		if !strings.Contains(lines, "accepted") || !strings.Contains(lines, "CODE-NOT-ALLOWED") || !strings.Contains(lines, "99213") {
			t.Fatalf("per-line result:\n%s", lines)
		}
		patFile = fileID(t, ctx)
		screenshot(t, ctx, "provider-file")

		// Check only: every rule runs, nothing is sent (the same lines are
		// not duplicates of anything, and no file is registered).
		in2 := s.file(t, "october.csv", invoiceHeader, invoiceRow("INV-PAT-2", 1, patNPI, 2, 3, "H0043", "U6"))
		run(t, ctx,
			chromedp.Navigate(s.base+"/upload"),
			chromedp.SetUploadFiles(chromedp.ID("#file"), []string{in2}),
			chromedp.Click(chromedp.ID("#check_only")),
			chromedp.Click(chromedp.ID("#send")),
			chromedp.WaitVisible(chromedp.ID("#totals")),
		)
		if got := text(t, ctx, "#totals"); !strings.Contains(got, "1 line(s) would be accepted, 0 rejected") {
			t.Fatalf("check only: %q", got)
		}
		screenshot(t, ctx, "provider-check-only")
		// A line billing another provider's NPI is refused.
		in3 := s.file(t, "other.csv", invoiceHeader, invoiceRow("INV-PAT-3", 1, quinnNPI, 3, 3, "H0043", "U6"))
		run(t, ctx,
			chromedp.Navigate(s.base+"/upload"),
			chromedp.SetUploadFiles(chromedp.ID("#file"), []string{in3}),
			chromedp.Click(chromedp.ID("#send")),
			chromedp.WaitVisible(chromedp.ID("#foreign")),
		)
	})

	t.Run("ProviderCannotReachAnotherProvidersFile", func(t *testing.T) {
		if patFile == "" {
			t.Fatal("no file uploaded")
		}
		ctx := tab(t, b)
		s.login(t, ctx, "quinn")
		run(t, ctx, chromedp.Navigate(s.base+"/files/"+patFile))
		if got := text(t, ctx, "#status"); got != "404" {
			t.Fatalf("another provider's file: %q", got)
		}
		run(t, ctx, chromedp.Navigate(s.base+"/lines/1/1"))
		if got := text(t, ctx, "#status"); got != "404" {
			t.Fatalf("another provider's line: %q", got)
		}
		run(t, ctx, chromedp.Navigate(s.base+"/files"))
		if got := text(t, ctx, "main"); strings.Contains(got, "september.csv") || strings.Contains(got, "broken.csv") {
			t.Fatalf("another provider's files listed:\n%s", got)
		}
		run(t, ctx, chromedp.Navigate(s.base+"/search"))
		if got := text(t, ctx, "#status"); got != "404" {
			t.Fatalf("a provider reached search: %q", got)
		}
	})

	t.Run("OperatorFindsAClaimByCLM01", func(t *testing.T) {
		ctx := tab(t, b)
		s.login(t, ctx, "ada")
		if got := text(t, ctx, "h1"); got != "Dashboard" {
			t.Fatalf("an admin lands on %q", got)
		}
		screenshot(t, ctx, "dashboard")
		run(t, ctx,
			chromedp.Navigate(s.base+"/search"),
			chromedp.SendKeys(chromedp.ID("q"), "INV-PAT-1"),
			chromedp.Click(chromedp.ID("#find")),
			chromedp.WaitVisible(chromedp.ID("#claim")),
		)
		if got := text(t, ctx, "#claim"); !strings.Contains(got, "INV-PAT-1") {
			t.Fatalf("claim: %q", got)
		}
		if u := location(t, ctx); strings.Contains(u, "INV-PAT-1") {
			t.Fatalf("the search term is in the URL: %s", u)
		}
		screenshot(t, ctx, "search")
		// The line page shows the decision with its rule and source.
		run(t, ctx, chromedp.Click(chromedp.CSS(`#lines tr.rejected a`)), chromedp.WaitVisible(chromedp.ID("#decision")))
		if got := text(t, ctx, "#rule"); !strings.Contains(got, "CODE-NOT-ALLOWED") {
			t.Fatalf("line rule: %q", got)
		}
		if got := text(t, ctx, "#source"); !strings.Contains(got, "hcpcs_ecm_cs.csv") {
			t.Fatalf("line source: %q", got)
		}
		screenshot(t, ctx, "line")
		run(t, ctx, chromedp.Navigate(s.base+"/files"))
		screenshot(t, ctx, "files")
		run(t, ctx, chromedp.Navigate(s.base+"/audit"))
		audit := text(t, ctx, "#audit")
		if !strings.Contains(audit, "search") || strings.Contains(audit, "INV-PAT-1") || !strings.Contains(audit, "view") {
			t.Fatalf("audit log:\n%s", audit)
		}
	})

	t.Run("OperatorRequeuesAQuarantinedFile", func(t *testing.T) {
		ctx := tab(t, b)
		s.login(t, ctx, "ada")
		run(t, ctx,
			chromedp.Navigate(s.base+"/files?state=quarantined"),
			chromedp.Click(chromedp.CSS(`#files a`)),
			chromedp.WaitVisible(chromedp.ID("#quarantine")),
		)
		reason := text(t, ctx, "#reason")
		if !strings.Contains(reason, "broken.csv") && !strings.Contains(strings.ToLower(reason), "invoice") {
			t.Fatalf("quarantine reason: %q", reason)
		}
		screenshot(t, ctx, "quarantined")
		old := fileID(t, ctx)
		// The operator fixes the file where it was quarantined, then requeues it.
		fixed := strings.Join([]string{invoiceHeader, invoiceRow("INV-Q-1", 1, quinnNPI, 4, 4, "H0043", "U6")}, "\n") + "\n"
		if err := os.WriteFile(filepath.Join(s.dir, "quarantine", "broken.csv"), []byte(fixed), 0o600); err != nil {
			t.Fatal(err)
		}
		// The quarantined entry's page has a #state too: wait for the
		// address to name another entry, not for an element.
		run(t, ctx, chromedp.Click(chromedp.ID("#requeue")))
		waitOtherFile(t, ctx, old)
		run(t, ctx, chromedp.WaitVisible(chromedp.ID("#state")))
		waitState(t, ctx, "archived")
		run(t, ctx, chromedp.Navigate(s.base+"/audit"))
		if got := text(t, ctx, "#audit"); !strings.Contains(got, "requeue") {
			t.Fatalf("requeue not audited:\n%s", got)
		}
	})

	t.Run("PostWithoutCSRFTokenIsRefused", func(t *testing.T) {
		ctx := tab(t, b)
		s.login(t, ctx, "ada")
		run(t, ctx,
			chromedp.Navigate(s.base+"/search"),
			chromedp.SetAttributeValue(chromedp.CSS(`main input[name="csrf"]`), "value", ""),
			chromedp.SendKeys(chromedp.ID("q"), "INV-PAT-1"),
			chromedp.Click(chromedp.ID("#find")),
			chromedp.WaitVisible(chromedp.ID("#status")),
		)
		if got := text(t, ctx, "#status"); got != "403" {
			t.Fatalf("CSRF-less POST: %q", got)
		}
	})

	t.Run("AnonymousGoesToLogin", func(t *testing.T) {
		ctx := tab(t, b)
		run(t, ctx, chromedp.Navigate(s.base+"/files"), chromedp.WaitVisible(chromedp.ID("#signin")))
		if u := location(t, ctx); !strings.HasSuffix(u, "/login") {
			t.Fatalf("anonymous /files went to %s", u)
		}
		screenshot(t, ctx, "login")
	})
}
