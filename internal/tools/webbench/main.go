// Command webbench is the web console's bounded load test: it seeds a
// SQLite state store with F files in the ledger and L recorded line
// decisions (10 lines per invoice file, a claim and an interchange per
// invoice file), serves the console on loopback, and has U concurrent
// signed-in users request every page and every kind of search for a fixed
// time. It reports each page's latency percentiles next to a baseline
// measured in the same run: a static asset served through the same
// handlers, which reads nothing from the store.
//
//	go run ./internal/tools/webbench -files 1000000 -lines 10000000 -users 50 -duration 30s
package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/pipelines/web"
	"github.com/calaim-gateway/calaim-gateway/store"
)

const linesPerFile = 10

// seedVersion names the seed's layout in its marker: a store seeded by an
// older layout is seeded again.
const seedVersion = "v2"

func main() {
	files := flag.Int("files", 1_000_000, "files in the ledger")
	lines := flag.Int("lines", 10_000_000, "recorded line decisions (sent lines)")
	users := flag.Int("users", 50, "concurrent signed-in users")
	duration := flag.Duration("duration", 30*time.Second, "how long the users request pages")
	dir := flag.String("dir", "bench-out/web", "state directory (reused when it holds a seeded store of the same sizes)")
	limit := flag.Duration("p99", 100*time.Millisecond, "the 99th percentile every page must stay under")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the load (server and users) to this file")
	flag.Parse()
	log.SetFlags(0)

	ctx := context.Background()
	if err := seed(ctx, *dir, *files, *lines); err != nil {
		log.Fatal(err)
	}
	st, err := store.OpenSQLite(ctx, *dir)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	cfg := config.Default()
	rs, err := cfg.LoadRules()
	if err != nil {
		log.Fatal(err)
	}
	const pw = "benchmark passphrase"
	if _, err := st.Console().UserByName(ctx, "bench"); err != nil {
		u, err := web.NewUser("bench", store.RoleOperator, "", pw)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := st.Console().AddUser(ctx, u); err != nil {
			log.Fatal(err)
		}
	}
	srv, err := web.New(web.Options{Config: cfg, Rules: rs, Store: st, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	go srv.Serve(sctx, ln)
	defer stop()
	base := "http://" + ln.Addr().String()

	clients := make([]*client, *users)
	for i := range clients {
		c, err := signIn(base, "bench", pw)
		if err != nil {
			log.Fatal(err)
		}
		clients[i] = c
	}
	pages := pageList(*files, *lines)
	lat := make([][]time.Duration, len(pages))
	var mu sync.Mutex
	var wg sync.WaitGroup
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer f.Close()
	}
	deadline := time.Now().Add(*duration)
	errs := 0
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			local := make([][]time.Duration, len(pages))
			bad := 0
			for k := i; time.Now().Before(deadline); k++ {
				p := k % len(pages)
				d, err := c.do(pages[p], r)
				if err != nil {
					bad++
					if bad < 3 {
						log.Printf("%s: %v", pages[p].name, err)
					}
					continue
				}
				local[p] = append(local[p], d)
			}
			mu.Lock()
			for p := range local {
				lat[p] = append(lat[p], local[p]...)
			}
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}

	fmt.Printf("\nweb console: %d files, %d line decisions, %d users for %s on loopback (SQLite)\n", *files, *lines, *users, *duration)
	fmt.Printf("%-28s %8s %9s %9s %9s %8s\n", "page", "requests", "p50 ms", "p99 ms", "max ms", "p99/base")
	baseP99 := pct(lat[0], 99)
	worst := time.Duration(0)
	for p, pg := range pages {
		ls := lat[p]
		p99 := pct(ls, 99)
		if p > 0 && p99 > worst {
			worst = p99
		}
		fmt.Printf("%-28s %8d %9.1f %9.1f %9.1f %8.1f\n", pg.name, len(ls), ms(pct(ls, 50)), ms(p99), ms(pct(ls, 100)), float64(p99)/float64(max(baseP99, 1)))
	}
	fmt.Printf("errors: %d; worst page p99 %.1f ms (limit %s): ", errs, ms(worst), *limit)
	if worst < *limit && errs == 0 {
		fmt.Println("PASS")
		return
	}
	fmt.Println("FAIL")
	os.Exit(1)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

// page is one request a user makes; form, when set, makes it a POST
// with the session's CSRF token (a search).
type page struct {
	name string
	path func(r *rand.Rand) string
	form func(r *rand.Rand) url.Values
}

func pageList(files, lines int) []page {
	// The invoice files with a run are the IDs that are not multiples of
	// 10, up to the one whose lines reach lines (seed).
	runs := max(min(files*9/10, lines/linesPerFile), 1)
	fixed := func(p string) func(*rand.Rand) string { return func(*rand.Rand) string { return p } }
	file := func(r *rand.Rand) int { return 1 + r.IntN(files) }
	inv := func(r *rand.Rand) int { x := 1 + r.IntN(runs); return x + (x-1)/9 }
	search := func(term func(r *rand.Rand) string) func(r *rand.Rand) url.Values {
		return func(r *rand.Rand) url.Values { return url.Values{"q": {term(r)}} }
	}
	return []page{
		{name: "baseline: GET /assets/style.css", path: fixed("/assets/style.css")},
		{name: "GET / (dashboard)", path: fixed("/")},
		{name: "GET /files", path: fixed("/files")},
		{name: "GET /files?state=quarantined", path: fixed("/files?state=quarantined")},
		{name: "GET /files?kind=834", path: fixed("/files?kind=834")},
		{name: "GET /files?date=", path: func(r *rand.Rand) string {
			return "/files?date=" + time.Now().UTC().AddDate(0, 0, -r.IntN(90)).Format("2006-01-02")
		}},
		{name: "GET /files/{id}", path: func(r *rand.Rand) string { return "/files/" + strconv.Itoa(inv(r)) }},
		{name: "GET /files/{id}?rule=", path: func(r *rand.Rand) string { return "/files/" + strconv.Itoa(inv(r)) + "?rule=CODE-NOT-ALLOWED" }},
		{name: "GET /lines/{run}/{seq}", path: func(r *rand.Rand) string {
			return "/lines/" + strconv.Itoa(inv(r)) + "/" + strconv.Itoa(1+r.IntN(linesPerFile))
		}},
		{name: "GET /rejects", path: fixed("/rejects")},
		{name: "POST /search CIN", path: fixed("/search"), form: search(func(r *rand.Rand) string { return cin(r.IntN(max(lines/10, 1))) })},
		{name: "POST /search invoice/CLM01", path: fixed("/search"), form: search(func(r *rand.Rand) string { return "INV" + strconv.Itoa(inv(r)) })},
		{name: "POST /search ISA13", path: fixed("/search"), form: search(func(r *rand.Rand) string { return strconv.Itoa(inv(r)) })},
		{name: "POST /search file name", path: fixed("/search"), form: search(func(r *rand.Rand) string { return fileName(file(r)) })},
		{name: "POST /search hash", path: fixed("/search"), form: search(func(r *rand.Rand) string { return hash(file(r))[:16] })},
	}
}

type client struct {
	base string
	hc   *http.Client
	csrf string
}

var tokenRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func signIn(base, name, pw string) (*client, error) {
	jar, _ := cookiejar.New(nil)
	c := &client{base: base, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 4},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	body, err := c.get("/login")
	if err != nil {
		return nil, err
	}
	m := tokenRE.FindStringSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("no sign-in token")
	}
	resp, err := c.hc.PostForm(base+"/login", url.Values{"csrf": {m[1]}, "name": {name}, "password": {pw}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sign-in: %s", resp.Status)
	}
	body, err = c.get("/search")
	if err != nil {
		return nil, err
	}
	if m = tokenRE.FindStringSubmatch(body); m == nil {
		return nil, fmt.Errorf("no CSRF token on /search")
	}
	c.csrf = m[1]
	return c, nil
}

func (c *client) get(p string) (string, error) {
	resp, err := c.hc.Get(c.base + p)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func (c *client) do(p page, r *rand.Rand) (time.Duration, error) {
	path := p.path(r)
	var req *http.Request
	if p.form != nil {
		f := p.form(r)
		f.Set("csrf", c.csrf)
		req, _ = http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(http.MethodGet, c.base+path, nil)
	}
	req.Header.Set("Accept", "text/html")
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s %s: %s", req.Method, path, resp.Status)
	}
	return d, nil
}

func cin(i int) string      { return fmt.Sprintf("9%07dA", i%10_000_000) }
func fileName(i int) string { return "invoice-" + strconv.Itoa(i) + ".csv" }

func hash(i int) string {
	s := sha256.Sum256([]byte(strconv.Itoa(i)))
	return hex.EncodeToString(s[:])
}

// seed fills dir's store unless it already holds these sizes: files
// ledger entries (one in ten an 834, one in fifty quarantined, the rest
// archived invoices noticed over the last 100 days), for each invoice file
// its run's decisions (10 lines, one in ten rejected), its claim and its
// interchange, until lines decisions are written; and the reject counts.
func seed(ctx context.Context, dir string, files, lines int) error {
	marker := filepath.Join(dir, "seeded")
	want := fmt.Sprintf("%d %d %s\n", files, lines, seedVersion)
	if b, err := os.ReadFile(marker); err == nil && string(b) == want {
		log.Printf("webbench: reusing the seeded store in %s", dir)
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	st, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		return err
	}
	st.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.FileName)+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)&_pragma=cache_size(-200000)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	start := time.Now()
	// The decision indexes are built after the rows: much faster.
	idx := map[string]string{}
	rows, err := db.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('line_decisions', 'ledger_files', 'sent_claims', 'run_interchanges') AND sql IS NOT NULL`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var n, s string
		if err := rows.Scan(&n, &s); err != nil {
			return err
		}
		idx[n] = s
	}
	rows.Close()
	for n := range idx {
		if _, err := db.ExecContext(ctx, `DROP INDEX `+n); err != nil {
			return err
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	insFile, _ := tx.PrepareContext(ctx, `INSERT INTO ledger_files(id, source, path, name, kind, size, mod_time, state, hash, run_id, run_output, outputs, note, noticed, updated)
		VALUES (?, 'inbox', ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?, ?)`)
	const rowsPerInsert = 50
	var ph strings.Builder
	for i := range rowsPerInsert {
		if i > 0 {
			ph.WriteString(",")
		}
		ph.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	insLines, _ := tx.PrepareContext(ctx, `INSERT INTO line_decisions(run_id, seq, file, row_no, invoice, line_no, cin, npi, code, from_date, to_date, outcome, rule, field, source, message, facts) VALUES `+ph.String())
	insClaim, _ := tx.PrepareContext(ctx, `INSERT INTO sent_claims(clm01, run_id, invoice, hcp) VALUES (?, ?, ?, '')`)
	insISA, _ := tx.PrepareContext(ctx, `INSERT INTO run_interchanges(run_id, isa13, file) VALUES (?, ?, ?)`)
	now := time.Now()
	span := 100 * 24 * time.Hour
	written := 0
	rejects := map[[2]any]int{}
	var batch []any
	r := rand.New(rand.NewPCG(1, 2))
	facts := `[{"kind":"coding","detail":"H0043 U6 (CS CS01) in force 2022-01-01..open; coding table row 14"},{"kind":"span","detail":"834 span 2025-01-01..open plan 010 status 01 aid codes 1H county 38"}]`
	for id := 1; id <= files; id++ {
		// Spread evenly over the span, the newest last (in float64: the
		// product of the span in nanoseconds and an ID overflows int64).
		noticed := now.Add(-span + time.Duration(float64(span)*float64(id)/float64(files)))
		kind, state, note := "invoice", "archived", "10 lines accepted"
		switch {
		case id%50 == 0:
			state, note = "quarantined", "unusable input: not an invoice file; quarantine/"+fileName(id)
		case id%10 == 0:
			kind, note = "834", "loaded"
		}
		var run any
		if kind == "invoice" && state == "archived" && written < lines {
			run = id
		}
		if _, err := insFile.ExecContext(ctx, id, "archive/"+fileName(id), fileName(id), kind, 2048, noticed.UnixNano(), state, hash(id), run, "", note, noticed.UnixMilli(), noticed.UnixMilli()); err != nil {
			return err
		}
		if run == nil {
			continue
		}
		inv := "INV" + strconv.Itoa(id)
		if _, err := insClaim.ExecContext(ctx, inv, id, inv); err != nil {
			return err
		}
		if _, err := insISA.ExecContext(ctx, id, id, fmt.Sprintf("encounters-%09d.837", id)); err != nil {
			return err
		}
		day := noticed.UTC().Unix() / 86400
		for seq := 1; seq <= linesPerFile && written < lines; seq++ {
			outcome, rule, msg := "accepted", "", ""
			if r.IntN(10) == 0 {
				outcome, rule, msg = "rejected", []string{"CODE-NOT-ALLOWED", "DUPLICATE-LINE", "FIELD-INVALID", "AUTH-MISSING"}[r.IntN(4)], "rejected for the benchmark"
				rejects[[2]any{day, rule}]++
			}
			batch = append(batch, id, seq, fileName(id), seq+1, inv, strconv.Itoa(seq), cin(r.IntN(max(lines/10, 1))), "1456789019", "H0043 U6",
				"2026-09-01", "2026-09-01", outcome, rule, "", "", msg, facts)
			written++
			if len(batch) == rowsPerInsert*17 {
				if _, err := insLines.ExecContext(ctx, batch...); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		if id%100_000 == 0 {
			log.Printf("webbench: seeded %d files, %d lines (%s)", id, written, time.Since(start).Round(time.Second))
		}
	}
	for i := 0; i < len(batch); i += 17 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO line_decisions(run_id, seq, file, row_no, invoice, line_no, cin, npi, code, from_date, to_date, outcome, rule, field, source, message, facts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, batch[i:i+17]...); err != nil {
			return err
		}
	}
	for k, n := range rejects {
		if _, err := tx.ExecContext(ctx, `INSERT INTO reject_counts(day, rule, lines) VALUES (?, ?, ?)`, k[0], k[1], n); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	log.Printf("webbench: rows written in %s; building indexes", time.Since(start).Round(time.Second))
	for _, s := range idx {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		return err
	}
	log.Printf("webbench: seeded %d files and %d line decisions in %s", files, written, time.Since(start).Round(time.Second))
	return os.WriteFile(marker, []byte(want), 0o644)
}
