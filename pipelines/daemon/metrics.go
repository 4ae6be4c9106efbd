package daemon

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// metrics are the daemon's counters, gauges and histogram, kept in a private
// prometheus.Registry (never the library's global one) that the daemon builds
// when it starts, together with the Go runtime and process collectors.
type metrics struct {
	reg *prometheus.Registry

	files      *prometheus.CounterVec   // kind, outcome
	lineN      *prometheus.CounterVec   // outcome, rule
	errors     *prometheus.CounterVec   // step
	lastOK     *prometheus.GaugeVec     // what (poll, deliver), name
	up         *prometheus.GaugeVec     // source
	lag        *prometheus.GaugeVec     // source: age of the oldest waiting file
	notice     *prometheus.GaugeVec     // source: how long ago it was first seen
	unrouted   *prometheus.GaugeVec     // source: files no route matches
	processing *prometheus.HistogramVec // kind: time to drive a file to its final state

	mu      sync.Mutex
	sources map[string]bool // source: last poll succeeded, for /healthz
}

// processingBuckets spans a small file (well under a second) to a large 837P
// or 834 (minutes).
var processingBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}

// newMetrics builds the registry with the daemon's metrics, the ledger's counts
// (read from st at each scrape), and the Go runtime and process collectors.
func newMetrics(st store.LedgerStore) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		files: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "calgw_files_total",
			Help: "Files finished by this instance, by kind and outcome (processed, duplicate, quarantined, lost)."},
			[]string{"kind", "outcome"}),
		lineN: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "calgw_lines_total",
			Help: "Lines accepted, and lines rejected by rule (a line that breaks several rules counts once per rule)."},
			[]string{"outcome", "rule"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "calgw_errors_total",
			Help: "Failed steps, by step (poll, take, lease, schedule, or the ledger state the file was in)."},
			[]string{"step"}),
		lastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "calgw_last_success_timestamp_seconds",
			Help: "When a poll of a source or a delivery to a destination last succeeded (Unix time)."},
			[]string{"what", "name"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "calgw_source_up",
			Help: "1 when the last poll of the source succeeded."},
			[]string{"source"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "calgw_source_lag_seconds",
			Help: "Age (by modification time) of the oldest routed file waiting in the source's folder; 0 when none."},
			[]string{"source"}),
		notice: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "calgw_notice_age_seconds",
			Help: "How long ago this instance first noticed the oldest routed file still waiting in the source's folder; 0 when none."},
			[]string{"source"}),
		unrouted: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "calgw_unrouted_files",
			Help: "Files in the source's folder that no route matches (left in place)."},
			[]string{"source"}),
		processing: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "calgw_file_processing_seconds",
			Help:    "Time this instance took to drive a file from the step it picked it up at to its final state (archived, quarantined or lost), by kind.",
			Buckets: processingBuckets},
			[]string{"kind"}),
		sources: map[string]bool{},
	}
	start := prometheus.NewGauge(prometheus.GaugeOpts{Name: "calgw_start_time_seconds",
		Help: "When this instance started (Unix time)."})
	start.Set(float64(time.Now().Unix()))
	m.reg.MustRegister(m.files, m.lineN, m.errors, m.lastOK, m.up, m.lag, m.notice, m.unrouted, m.processing, start,
		newLedgerCollector(st),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if a, ok := st.(adtNoticeCounter); ok {
		m.reg.MustRegister(newADTNoticeCollector(a))
	}
	return m
}

// adtNoticeCounter counts the ADT notices in the store.
type adtNoticeCounter interface {
	CountADTNotices(ctx context.Context, since, at time.Time, within time.Duration) (total, late int64, err error)
}

// adtNoticeCollector reads the ADT notice counts at each scrape:
// calgw_adt_notices_total and calgw_adt_notices_late_total, over every
// instance sharing the store.
type adtNoticeCollector struct {
	st          adtNoticeCounter
	total, late *prometheus.Desc
}

func newADTNoticeCollector(st adtNoticeCounter) *adtNoticeCollector {
	return &adtNoticeCollector{
		st:    st,
		total: prometheus.NewDesc("calgw_adt_notices_total", "ADT notices written to ECM providers (all instances).", nil, nil),
		late: prometheus.NewDesc("calgw_adt_notices_late_total",
			"ADT notices written or delivered 24 hours or more after their event was received, or written by the daemon and still not delivered 24 hours after (rule ADT-NOTICE-LATE; all instances).", nil, nil),
	}
}

func (c *adtNoticeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.total
	ch <- c.late
}

func (c *adtNoticeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ledgerScrapeTimeout)
	defer cancel()
	total, late, err := c.st.CountADTNotices(ctx, time.Time{}, time.Now(), rules.ADTNoticeWithin)
	if err != nil {
		return // calgw_store_up says the store did not answer
	}
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.CounterValue, float64(total))
	ch <- prometheus.MustNewConstMetric(c.late, prometheus.CounterValue, float64(late))
}

func (m *metrics) file(kind, outcome string) {
	m.files.WithLabelValues(kind, outcome).Inc()
}

// processed observes how long driving a file to its final state took.
func (m *metrics) processed(kind string, took time.Duration) {
	m.processing.WithLabelValues(kind).Observe(took.Seconds())
}

func (m *metrics) lines(r *Result) {
	m.lineN.WithLabelValues("accepted", "").Add(float64(r.Accepted))
	for rule, n := range r.ByRule {
		m.lineN.WithLabelValues("rejected", rule).Add(float64(n))
	}
}

func (m *metrics) error(step string) {
	m.errors.WithLabelValues(step).Inc()
}

func (m *metrics) success(what, name string) {
	m.lastOK.WithLabelValues(what, name).Set(float64(time.Now().Unix()))
}

func (m *metrics) sourceUp(name string, up bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sources[name] = up
	m.up.WithLabelValues(name).Set(float64(btoi(up)))
}

// sourcesUp copies the last poll result of every source.
func (m *metrics) sourcesUp() map[string]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.sources)
}

func (m *metrics) sourceWaiting(name string, now, oldestMod, oldestSeen time.Time, unrouted int) {
	lag, notice := 0.0, 0.0
	if !oldestMod.IsZero() {
		lag = max(now.Sub(oldestMod).Seconds(), 0)
	}
	if !oldestSeen.IsZero() {
		notice = max(now.Sub(oldestSeen).Seconds(), 0)
	}
	m.lag.WithLabelValues(name).Set(lag)
	m.notice.WithLabelValues(name).Set(notice)
	m.unrouted.WithLabelValues(name).Set(float64(unrouted))
}

// ledgerScrapeTimeout bounds the ledger count at each scrape.
const ledgerScrapeTimeout = 5 * time.Second

// ledgerCollector reads the ledger's counts by state at each scrape:
// calgw_ledger_files, and calgw_store_up saying whether the store answered.
type ledgerCollector struct {
	st        store.LedgerStore
	files, up *prometheus.Desc
}

func newLedgerCollector(st store.LedgerStore) *ledgerCollector {
	return &ledgerCollector{
		st:    st,
		files: prometheus.NewDesc("calgw_ledger_files", "Files in the ledger (all instances), by state.", []string{"state"}, nil),
		up:    prometheus.NewDesc("calgw_store_up", "1 when the state store answered this scrape.", nil, nil),
	}
}

func (c *ledgerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.files
	ch <- c.up
}

func (c *ledgerCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ledgerScrapeTimeout)
	defer cancel()
	counts, err := c.st.CountFiles(ctx)
	for st, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.files, prometheus.GaugeValue, float64(n), string(st))
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, float64(btoi(err == nil)))
}

// handler serves the registry in the exposition format the scraper
// asks for (Prometheus text format 0.0.4 when it names none).
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// healthz answers 200 when the instance runs and its store answers, 503
// when it is stopping or the store does not answer. The body says which
// sources are reachable.
func (d *Daemon) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status, code := "ok", http.StatusOK
	storeStatus := "ok"
	if err := d.st.Ping(ctx); err != nil {
		status, code, storeStatus = "store unreachable", http.StatusServiceUnavailable, err.Error()
	}
	if d.stopping.Load() {
		status, code = "stopping", http.StatusServiceUnavailable
	}
	sources := d.metrics.sourcesUp()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"status": status, "instance": d.instance, "store": storeStatus, "sources_up": sources})
}
