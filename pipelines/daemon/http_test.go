package daemon

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
)

func TestHealthAndMetricsEndpoints(t *testing.T) {
	dir := t.TempDir()
	h := startDaemon(t, dir, localConfig(dir, "http: {listen: '127.0.0.1:0'}\n"))
	addr := h.d.HTTPAddr()
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Fatalf("listening on %q", addr)
	}
	h.write("m.csv", invoice("MT-1", 1, 2, badRow("MT-2", 1, 9)))
	h.write("not-invoice.csv", []byte("a,b\n1,2\n"))
	waitFor(t, 20*time.Second, "files done", settled(t, h.st, 2))

	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health map[string]any
	json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if resp.StatusCode != 200 || health["status"] != "ok" || health["store"] != "ok" || health["instance"] != h.d.Instance() {
		t.Errorf("healthz %d %v", resp.StatusCode, health)
	}

	// The ledger says final before the daemon counts the file: wait until both
	// files are observed (the histogram is observed last).
	waitFor(t, 20*time.Second, "both files counted", func() bool {
		return strings.Contains(scrape(t, addr), `calgw_file_processing_seconds_count{kind="invoice"} 2`+"\n")
	})
	resp, err = http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
	m := string(body)
	for _, want := range []string{
		`calgw_files_total{kind="invoice",outcome="processed"} 1`,
		`calgw_files_total{kind="invoice",outcome="quarantined"} 1`,
		`calgw_lines_total{outcome="accepted",rule=""} 2`,
		`calgw_lines_total{outcome="rejected",rule="CODE-NOT-ALLOWED"} 1`,
		`calgw_ledger_files{state="archived"} 1`,
		`calgw_ledger_files{state="quarantined"} 1`,
		`calgw_source_up{source="inbox"} 1`,
		`calgw_source_lag_seconds{source="inbox"} 0`,
		`calgw_notice_age_seconds{source="inbox"} 0`,
		`calgw_store_up 1`,
		`# TYPE calgw_files_total counter`,
		`# TYPE calgw_source_lag_seconds gauge`,
		// The exposition orders a sample's labels by name.
		`calgw_last_success_timestamp_seconds{name="dhcs",what="deliver"} `,
	} {
		if !strings.Contains(m, want+"\n") && !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Every sample line is NAME{labels} VALUE.
	for _, line := range strings.Split(strings.TrimSpace(m), "\n") {
		if !strings.HasPrefix(line, "#") && len(strings.Fields(line)) != 2 {
			t.Errorf("malformed sample %q", line)
		}
	}

	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("the HTTP server still answers after the shutdown")
	}
}

func TestMetricsLabelEscaping(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := newMetrics(st)
	m.success("poll", "a\"b\\c\nd")
	rec := httptest.NewRecorder()
	m.handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	want := `calgw_last_success_timestamp_seconds{name="a\"b\\c\nd",what="poll"} `
	if got := rec.Body.String(); !strings.Contains(got, want) {
		t.Errorf("exposition lacks %s:\n%s", want, got)
	}
}

// TestMetricsRuntimeAndProcessingTime scrapes the running daemon before and
// after files are processed: the Go runtime and process metrics are there
// from the start, and the file counters and the processing-time histogram
// move with each file.
func TestMetricsRuntimeAndProcessingTime(t *testing.T) {
	dir := t.TempDir()
	h := startDaemon(t, dir, localConfig(dir, "http: {listen: '127.0.0.1:0'}\n"))
	addr := h.d.HTTPAddr()

	m := scrape(t, addr)
	for _, want := range []string{
		"# TYPE go_goroutines gauge\n",
		"# TYPE go_memstats_alloc_bytes gauge\n",
		"# TYPE go_gc_duration_seconds summary\n",
		"# TYPE process_cpu_seconds_total counter\n",
		"# TYPE process_resident_memory_bytes gauge\n",
		"# TYPE process_start_time_seconds gauge\n",
		"# TYPE calgw_start_time_seconds gauge\n",
		"calgw_store_up 1\n",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(m, "calgw_files_total{") || strings.Contains(m, "calgw_file_processing_seconds_count{") {
		t.Errorf("file metrics before any file:\n%s", m)
	}
	if v := sampleValue(t, m, "go_goroutines"); v < 1 {
		t.Errorf("go_goroutines %v", v)
	}

	for i, name := range []string{"a.csv", "b.csv"} {
		n := float64(i + 1)
		h.write(name, invoice("PT-"+strconv.Itoa(i), 10*i+1, 3))
		// The histogram is observed when the file is processed; the file
		// is archived only after its outputs are delivered, so the wait
		// covers both.
		count := `calgw_file_processing_seconds_count{kind="invoice"}`
		archived := `calgw_ledger_files{state="archived"}`
		waitFor(t, 20*time.Second, name+" observed and archived", func() bool {
			m = scrape(t, addr)
			return strings.Contains(m, count+" ") && sampleValue(t, m, count) == n &&
				strings.Contains(m, archived+" ") && sampleValue(t, m, archived) == n
		})
		for sample, want := range map[string]float64{
			`calgw_files_total{kind="invoice",outcome="processed"}`:            n,
			`calgw_lines_total{outcome="accepted",rule=""}`:                    3 * n,
			`calgw_file_processing_seconds_bucket{kind="invoice",le="+Inf"}`:   n,
			`calgw_ledger_files{state="archived"}`:                             n,
			`calgw_last_success_timestamp_seconds{name="dhcs",what="deliver"}`: -1, // any
			`calgw_file_processing_seconds_bucket{kind="invoice",le="0.05"}`:   -1,
			`calgw_file_processing_seconds_bucket{kind="invoice",le="1800"}`:   n,
			`calgw_file_processing_seconds_sum{kind="invoice"}`:                -1,
		} {
			got := sampleValue(t, m, sample)
			if want >= 0 && got != want {
				t.Errorf("after %s: %s = %v, want %v", name, sample, got, want)
			}
		}
		if sum := sampleValue(t, m, `calgw_file_processing_seconds_sum{kind="invoice"}`); sum <= 0 || sum > 60 {
			t.Errorf("after %s: processing time sum %v s", name, sum)
		}
	}
	if !strings.Contains(m, "# TYPE calgw_file_processing_seconds histogram\n") {
		t.Error("calgw_file_processing_seconds is not a histogram")
	}
}

func TestLagMetricsForAWaitingFile(t *testing.T) {
	dir := t.TempDir()
	yaml := strings.Replace(localConfig(dir, "http: {listen: '127.0.0.1:0'}\n"), "    quarantine: quarantine\n", "    quarantine: quarantine\n    ready: marker\n", 1)
	h := startDaemon(t, dir, yaml)
	// Dropped an hour ago (by its time) and waiting for its marker.
	h.write("late.csv", invoice("LG-1", 1, 1))
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, "inbox", "late.csv"), old, old)
	time.Sleep(400 * time.Millisecond)
	m := scrape(t, h.d.HTTPAddr())
	lag, notice := sampleValue(t, m, `calgw_source_lag_seconds{source="inbox"}`), sampleValue(t, m, `calgw_notice_age_seconds{source="inbox"}`)
	if lag < 3500 || lag > 3700 {
		t.Errorf("lag %v s, want about an hour", lag)
	}
	if notice < 0.2 || notice > 60 {
		t.Errorf("notice age %v s, want the time since the daemon first saw it", notice)
	}
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func sampleValue(t *testing.T, metrics, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(metrics, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no sample %s in:\n%s", name, metrics)
	return 0
}

// With a port in use (another instance on the machine) the daemon logs it
// and runs on without /healthz and /metrics; it logs where it listens.
func TestBusyHTTPPortIsLoggedNotFatal(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	h := startDaemon(t, dir, localConfig(dir, "http: {listen: '"+busy.Addr().String()+"'}\n"))
	h.write("a.csv", invoice("INV-B", 1, 1))
	waitFor(t, 20*time.Second, "the file archived", settled(t, h.st, 1))
	if log := h.log.String(); !strings.Contains(log, "http: cannot listen") || strings.Contains(log, "http: serving") {
		t.Errorf("log:\n%s", log)
	}
	h2 := startDaemon(t, t.TempDir(), localConfig(dir, "http: {listen: '127.0.0.1:0'}\n"))
	waitFor(t, 10*time.Second, "listening logged", func() bool { return strings.Contains(h2.log.String(), "http: serving /healthz and /metrics") })
}
