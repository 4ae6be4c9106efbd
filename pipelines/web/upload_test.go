package web_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// renderingNPI renders the services both providers bill in
// TestDuplicatesAcrossProviders: the duplicate key has the rendering NPI,
// not the billing one.
const renderingNPI = "1234567893"

// renderedRow is invoiceRow with a rendering NPI.
func renderedRow(inv string, line int, npi string, m, d int) string {
	return invoiceRow(inv, line, npi, m, d, "H0043", "U6") + "," + renderingNPI + ",Lee Care Team"
}

var (
	csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	lineLink  = regexp.MustCompile(`href="(/lines/\d+/\d+)"`)
)

// httpUser is a console user signed in over plain HTTP.
type httpUser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func (s *site) signIn(t *testing.T, name string) *httpUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	h := &httpUser{t: t, base: s.base, c: &http.Client{Jar: jar}}
	_, page := h.get("/login")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-in token:\n%s", page)
	}
	req, _ := http.NewRequest(http.MethodPost, s.base+"/login", strings.NewReader(url.Values{"csrf": {m[1]}, "name": {name}, "password": {"correct horse battery"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if status, page := h.do(req); status != http.StatusOK {
		t.Fatalf("sign-in as %s: %d\n%s", name, status, page)
	}
	_, page = h.get("/upload")
	if m = csrfField.FindStringSubmatch(page); m == nil {
		t.Fatalf("no form token on the upload page:\n%s", page)
	}
	h.csrf = m[1]
	return h
}

func (h *httpUser) do(req *http.Request) (int, string) {
	h.t.Helper()
	req.Header.Set("Accept", "text/html")
	resp, err := h.c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *httpUser) get(path string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.base+path, nil)
	return h.do(req)
}

// upload posts an invoice file (following the redirect to its file page)
// and returns the page answered.
func (h *httpUser) upload(name string, checkOnly bool, rows ...string) string {
	h.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", h.csrf)
	if checkOnly {
		mw.WriteField("check_only", "1")
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write([]byte(invoiceHeader + ",rendering_npi,rendering_name\n" + strings.Join(rows, "\n") + "\n"))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, h.base+"/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	status, page := h.do(req)
	if status != http.StatusOK {
		h.t.Fatalf("upload %s: %d\n%s", name, status, page)
	}
	return page
}

// details are what the full DUPLICATE-LINE message tells of the earlier
// line: its invoice, line control number and 837 file.
var details = []string{"line control", ".837", "already sent on"}

const generic = "already billed: this service"

// A provider whose line repeats another provider's sent line (same member,
// dates, rendering NPI and code) reads that it was billed before, never
// the other provider's invoice, line, file or date, whether the upload is
// checked only or sent; an operator reads them in full. A line billing
// another NPI makes the whole file refused before any rule runs. A
// duplicate of the provider's own earlier line keeps its detail.
func TestDuplicatesAcrossProviders(t *testing.T) {
	s := startGateway(t)
	quinn, pat, ada := s.signIn(t, "quinn"), s.signIn(t, "pat"), s.signIn(t, "ada")

	page := quinn.upload("quinn.csv", false, renderedRow("INV-Q-7", 1, quinnNPI, 5, 5))
	if !strings.Contains(page, `id="state">archived`) || !strings.Contains(page, "out-accepted") {
		t.Fatalf("quinn's line was not sent:\n%s", page)
	}

	noDetail := func(t *testing.T, what, page string) {
		t.Helper()
		if !strings.Contains(page, "DUPLICATE-LINE") || !strings.Contains(page, generic) {
			t.Fatalf("%s: no generic DUPLICATE-LINE message:\n%s", what, page)
		}
		for _, d := range append(details, "INV-Q-7") {
			if strings.Contains(page, d) {
				t.Fatalf("%s: a provider reads %q of another provider's line:\n%s", what, d, page)
			}
		}
	}
	var patFile, patLine string
	t.Run("ProviderChecksOnly", func(t *testing.T) {
		page := pat.upload("pat-check.csv", true, renderedRow("INV-PAT-7", 1, patNPI, 5, 5))
		if !strings.Contains(page, "<b>0</b> line(s) would be accepted, <b>1</b> rejected") {
			t.Fatalf("check-only totals:\n%s", page)
		}
		noDetail(t, "check only", page)
	})
	t.Run("ProviderSends", func(t *testing.T) {
		page := pat.upload("pat-send.csv", false, renderedRow("INV-PAT-7", 1, patNPI, 5, 5))
		if !strings.Contains(page, `id="state">archived`) {
			t.Fatalf("pat's file was not processed:\n%s", page)
		}
		noDetail(t, "file page", page)
		m := lineLink.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no line link:\n%s", page)
		}
		patLine = m[1]
		_, line := pat.get(patLine)
		noDetail(t, "line page", line)
		fm := regexp.MustCompile(`<h1>File (\d+):`).FindStringSubmatch(page)
		if fm == nil {
			t.Fatalf("no file ID:\n%s", page)
		}
		patFile = "/files/" + fm[1]
	})
	t.Run("OperatorReadsTheDetail", func(t *testing.T) {
		if patFile == "" {
			t.Fatal("pat's file was not sent")
		}
		for _, path := range []string{patFile, patLine} {
			_, page := ada.get(path)
			for _, d := range append(details, "INV-Q-7") {
				if !strings.Contains(page, d) {
					t.Fatalf("%s: an operator does not read %q:\n%s", path, d, page)
				}
			}
		}
		page := ada.upload("ada-check.csv", true, renderedRow("INV-PAT-7", 1, patNPI, 5, 5))
		if !strings.Contains(page, "INV-Q-7") || strings.Contains(page, generic) {
			t.Fatalf("an operator's check:\n%s", page)
		}
	})
	t.Run("LineBillingAnotherNPIRefused", func(t *testing.T) {
		for _, checkOnly := range []bool{true, false} {
			page := pat.upload("mixed.csv", checkOnly,
				renderedRow("INV-PAT-8", 1, patNPI, 6, 6),
				renderedRow("INV-Q-8", 1, quinnNPI, 5, 5))
			if !strings.Contains(page, `id="foreign"`) || !strings.Contains(page, "row 3, NPI "+quinnNPI) {
				t.Fatalf("check only %v: not refused:\n%s", checkOnly, page)
			}
			// No rule ran: no line's result, and nothing of quinn's line.
			for _, no := range append(details, "INV-Q-7", "DUPLICATE-LINE", `id="lines"`, `id="totals"`) {
				if strings.Contains(page, no) {
					t.Fatalf("check only %v: the refusal shows %q:\n%s", checkOnly, no, page)
				}
			}
		}
		if _, files := pat.get("/files"); strings.Contains(files, "mixed.csv") {
			t.Fatalf("a refused file was sent:\n%s", files)
		}
	})
	t.Run("OwnEarlierLineKeepsItsDetail", func(t *testing.T) {
		page := pat.upload("pat-first.csv", false, renderedRow("INV-PAT-9", 1, patNPI, 7, 7))
		if !strings.Contains(page, `id="state">archived`) || !strings.Contains(page, "out-accepted") {
			t.Fatalf("pat's line was not sent:\n%s", page)
		}
		page = pat.upload("pat-again.csv", true,
			renderedRow("INV-PAT-10", 1, patNPI, 7, 7),
			renderedRow("INV-PAT-10", 2, patNPI, 8, 8),
			renderedRow("INV-PAT-10", 3, patNPI, 8, 8))
		if !strings.Contains(page, "already sent on") || !strings.Contains(page, "invoice INV-PAT-9 line 1") {
			t.Fatalf("pat's own earlier line is not named:\n%s", page)
		}
		if !strings.Contains(page, "repeats invoice INV-PAT-10 line 2 earlier in this file") {
			t.Fatalf("a line repeated in the file is not named:\n%s", page)
		}
		if strings.Contains(page, generic) {
			t.Fatalf("pat's own lines read as another's:\n%s", page)
		}
	})
}
