package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// metrics are the daemon's counters and gauges, written in the Prometheus
// text exposition format (version 0.0.4) by hand: a few series do not need
// a client library.
type metrics struct {
	mu       sync.Mutex
	started  time.Time
	files    map[[2]string]float64   // kind, outcome
	lineN    map[[2]string]float64   // outcome, rule
	errors   map[string]float64      // step
	lastOK   map[[2]string]time.Time // what (poll, deliver), name
	up       map[string]bool         // source
	lag      map[string]float64      // source: age of the oldest waiting file
	notice   map[string]float64      // source: how long ago it was first seen
	unrouted map[string]float64      // source: files no route matches
}

func newMetrics() *metrics {
	return &metrics{
		started: time.Now(),
		files:   map[[2]string]float64{}, lineN: map[[2]string]float64{}, errors: map[string]float64{},
		lastOK: map[[2]string]time.Time{}, up: map[string]bool{}, lag: map[string]float64{},
		notice: map[string]float64{}, unrouted: map[string]float64{},
	}
}

func (m *metrics) file(kind, outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[[2]string{kind, outcome}]++
}

func (m *metrics) lines(r *Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lineN[[2]string{"accepted", ""}] += float64(r.Accepted)
	for rule, n := range r.ByRule {
		m.lineN[[2]string{"rejected", rule}] += float64(n)
	}
}

func (m *metrics) error(step string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.errors[step]++
}

func (m *metrics) success(what, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastOK[[2]string{what, name}] = time.Now()
}

func (m *metrics) sourceUp(name string, up bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.up[name] = up
}

func (m *metrics) sourceWaiting(name string, now, oldestMod, oldestSeen time.Time, unrouted int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lag[name], m.notice[name] = 0, 0
	if !oldestMod.IsZero() {
		m.lag[name] = max(now.Sub(oldestMod).Seconds(), 0)
	}
	if !oldestSeen.IsZero() {
		m.notice[name] = max(now.Sub(oldestSeen).Seconds(), 0)
	}
	m.unrouted[name] = float64(unrouted)
}

// series is one family in the exposition.
type series struct {
	name, help, typ string
	samples         []sample
}

type sample struct {
	labels [][2]string
	value  float64
}

func labelValue(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

func writeSeries(w io.Writer, all []series) {
	for _, s := range all {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", s.name, s.help, s.name, s.typ)
		sort.SliceStable(s.samples, func(i, j int) bool { return labelString(s.samples[i].labels) < labelString(s.samples[j].labels) })
		for _, smp := range s.samples {
			fmt.Fprintf(w, "%s%s %s\n", s.name, labelString(smp.labels), formatValue(smp.value))
		}
	}
}

func labelString(labels [][2]string) string {
	if len(labels) == 0 {
		return ""
	}
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = l[0] + `="` + labelValue(l[1]) + `"`
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func formatValue(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%g", v)
}

// snapshot returns the series, with the ledger's counts by state.
func (d *Daemon) snapshot(ctx context.Context) []series {
	m := d.metrics
	counts, countErr := d.st.CountFiles(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	files := series{name: "calgw_files_total", typ: "counter",
		help: "Files finished by this instance, by kind and outcome (processed, duplicate, quarantined, lost)."}
	for k, v := range m.files {
		files.samples = append(files.samples, sample{[][2]string{{"kind", k[0]}, {"outcome", k[1]}}, v})
	}
	lines := series{name: "calgw_lines_total", typ: "counter",
		help: "Lines accepted, and lines rejected by rule (a line that breaks several rules counts once per rule)."}
	for k, v := range m.lineN {
		lines.samples = append(lines.samples, sample{[][2]string{{"outcome", k[0]}, {"rule", k[1]}}, v})
	}
	errs := series{name: "calgw_errors_total", typ: "counter", help: "Failed steps, by step (poll, take, lease, schedule, or the ledger state the file was in)."}
	for k, v := range m.errors {
		errs.samples = append(errs.samples, sample{[][2]string{{"step", k}}, v})
	}
	last := series{name: "calgw_last_success_timestamp_seconds", typ: "gauge", help: "When a poll of a source or a delivery to a destination last succeeded (Unix time)."}
	for k, t := range m.lastOK {
		last.samples = append(last.samples, sample{[][2]string{{"what", k[0]}, {"name", k[1]}}, float64(t.Unix())})
	}
	up := series{name: "calgw_source_up", typ: "gauge", help: "1 when the last poll of the source succeeded."}
	for k, v := range m.up {
		up.samples = append(up.samples, sample{[][2]string{{"source", k}}, float64(btoi(v))})
	}
	lag := series{name: "calgw_source_lag_seconds", typ: "gauge", help: "Age (by modification time) of the oldest routed file waiting in the source's folder; 0 when none."}
	for k, v := range m.lag {
		lag.samples = append(lag.samples, sample{[][2]string{{"source", k}}, v})
	}
	notice := series{name: "calgw_notice_age_seconds", typ: "gauge", help: "How long ago this instance first noticed the oldest routed file still waiting in the source's folder; 0 when none."}
	for k, v := range m.notice {
		notice.samples = append(notice.samples, sample{[][2]string{{"source", k}}, v})
	}
	unrouted := series{name: "calgw_unrouted_files", typ: "gauge", help: "Files in the source's folder that no route matches (left in place)."}
	for k, v := range m.unrouted {
		unrouted.samples = append(unrouted.samples, sample{[][2]string{{"source", k}}, v})
	}
	ledger := series{name: "calgw_ledger_files", typ: "gauge", help: "Files in the ledger (all instances), by state."}
	for st, n := range counts {
		ledger.samples = append(ledger.samples, sample{[][2]string{{"state", string(st)}}, float64(n)})
	}
	storeUp := series{name: "calgw_store_up", typ: "gauge", help: "1 when the state store answered this scrape.", samples: []sample{{value: float64(btoi(countErr == nil))}}}
	start := series{name: "calgw_start_time_seconds", typ: "gauge", help: "When this instance started (Unix time).", samples: []sample{{value: float64(m.started.Unix())}}}
	return []series{files, lines, errs, last, up, lag, notice, unrouted, ledger, storeUp, start}
}

func (d *Daemon) serveMetrics(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	writeSeries(w, d.snapshot(ctx))
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
	d.metrics.mu.Lock()
	sources := map[string]bool{}
	for k, v := range d.metrics.up {
		sources[k] = v
	}
	d.metrics.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"status": status, "instance": d.instance, "store": storeStatus, "sources_up": sources})
}
