// Command webbench is the web console's bounded load test: it seeds a
// state store, SQLite or PostgreSQL (-engine), with F files in the ledger
// and L recorded line decisions (10 lines per invoice file, a claim and an
// interchange per invoice file), serves the console on loopback, and has U
// concurrent signed-in users request every page and every kind of search
// for a fixed time. It reports each page's latency percentiles next to a
// baseline measured in the same run: a static asset served through the
// same handlers, which reads nothing from the store.
//
// PostgreSQL runs as the tests run it (internal/testsrv: a private cluster
// on loopback), kept under -dir so that a seeded database is reused; the
// schema comes from the store's migrations and the rows are copied in.
//
//	go run ./internal/tools/webbench -files 1000000 -lines 10000000 -users 50 -duration 30s
//	go run ./internal/tools/webbench -engine postgres -files 1000000 -lines 10000000
package main

import (
	"context"
	"crypto/sha256"
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
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/pipelines/web"
	"github.com/calaim-gateway/calaim-gateway/store"
)

const linesPerFile = 10

// seedVersion names the seed's layout in its marker: a store seeded by an
// older layout is seeded again.
const seedVersion = "v2"

func main() { os.Exit(bench()) }

// bench runs the load test and returns the exit code: 1 when a page
// misses the limit or a request failed.
func bench() int {
	files := flag.Int("files", 1_000_000, "files in the ledger")
	lines := flag.Int("lines", 10_000_000, "recorded line decisions (sent lines)")
	users := flag.Int("users", 50, "concurrent signed-in users")
	duration := flag.Duration("duration", 30*time.Second, "how long the users request pages")
	engine := flag.String("engine", "sqlite", "state store: sqlite or postgres")
	dir := flag.String("dir", "", "state directory, or PostgreSQL's cluster folder (reused when it holds a seed of the same sizes; default bench-out/web, bench-out/web-pg)")
	limit := flag.Duration("p99", 100*time.Millisecond, "the 99th percentile every page must stay under")
	warmup := flag.Duration("warmup", 3*time.Second, "how long the users request pages before the measured time")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the load (server and users) to this file")
	flag.Parse()
	log.SetFlags(0)

	ctx := context.Background()
	var st web.Store
	var engineName string
	switch *engine {
	case "sqlite":
		engineName = "SQLite"
		if *dir == "" {
			*dir = "bench-out/web"
		}
		if err := seedSQLite(ctx, *dir, *files, *lines); err != nil {
			log.Fatal(err)
		}
		s, err := store.OpenSQLite(ctx, *dir)
		if err != nil {
			log.Fatal(err)
		}
		defer s.Close()
		st = s
	case "postgres":
		engineName = "PostgreSQL"
		if *dir == "" {
			*dir = "bench-out/web-pg"
		}
		abs, err := filepath.Abs(*dir)
		if err != nil {
			log.Fatal(err)
		}
		t := &tool{}
		defer t.cleanup()
		fresh := !seeded(abs, *files, *lines)
		if fresh {
			// A cluster from another seed is made again from nothing.
			if err := os.RemoveAll(abs); err != nil {
				log.Fatal(err)
			}
		}
		srv := testsrv.PostgresIn(t, abs)
		if fresh {
			if err := seedPostgres(ctx, srv.DSN, *files, *lines); err != nil {
				t.Fatal(err)
			}
			if err := mark(abs, *files, *lines); err != nil {
				t.Fatal(err)
			}
		} else {
			log.Printf("webbench: reusing the seeded PostgreSQL cluster in %s", abs)
		}
		// As calgw run and serve open it: the configured pool (default).
		cfg := config.Default()
		s, err := store.OpenPostgres(ctx, srv.DSN, store.PostgresOptions{Owner: "webbench", Lease: cfg.State.Lease, MaxConns: cfg.State.Postgres.MaxConns})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		st = s
	default:
		log.Fatalf("-engine %q: want sqlite or postgres", *engine)
	}
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
	srv, err := web.New(web.Options{Config: cfg, Rules: rs, Store: st, Log: slog.New(slog.DiscardHandler),
		AuditKey: []byte("webbench's audit key, not a secret")})
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
	// Unmeasured first: the dashboard's first figures, the connections'
	// prepared statements, the caches.
	if *warmup > 0 {
		load(clients, pages, *warmup)
	}
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
	before := loadAvg()
	lat, errs := load(clients, pages, *duration)
	after := loadAvg()
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}

	fmt.Printf("\nweb console: %d files, %d line decisions, %d users for %s on loopback (%s)\n", *files, *lines, *users, *duration, engineName)
	fmt.Printf("load average (1 min) before %s, after %s; %d CPUs\n", before, after, runtime.NumCPU())
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
		return 0
	}
	fmt.Println("FAIL")
	return 1
}

// load has each client request the pages in turn, starting at a
// different one, for d; it returns each page's latencies and the number
// of failed requests.
func load(clients []*client, pages []page, d time.Duration) ([][]time.Duration, int) {
	lat := make([][]time.Duration, len(pages))
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
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
	return lat, errs
}

// loadAvg is the machine's load average over the last minute ("?" when
// unknown).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
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

// tool is testsrv.TB for this command: a failure runs the cleanups (the
// PostgreSQL server stops) and exits.
type tool struct{ cleanups []func() }

func (t *tool) Helper()                      {}
func (t *tool) Cleanup(f func())             { t.cleanups = append(t.cleanups, f) }
func (t *tool) Fatal(args ...any)            { t.cleanup(); log.Fatal(args...) }
func (t *tool) Fatalf(f string, args ...any) { t.cleanup(); log.Fatalf(f, args...) }
func (t *tool) Skipf(f string, args ...any)  { t.Fatalf(f, args...) }

func (t *tool) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	t.cleanups = nil
}
