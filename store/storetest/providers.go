package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Providers is the provider roster component every store implements: what
// the roster load, the contract judge and the 274 job use of it.
type Providers interface {
	LoadRoster(ctx context.Context, file string, sum [32]byte, sites []store.ProviderSite) (store.RosterLoad, error)
	RosterLoaded(ctx context.Context) (bool, error)
	Contracts(ctx context.Context, npi string) ([]domain.ProviderContract, error)
	ProviderSiteRecords(ctx context.Context, from, to civil.Date) ([][]byte, error)
}

// providers opens the store as owner and returns its provider component.
func providers(t *testing.T, open func(string) store.LedgerStore, owner string) Providers {
	t.Helper()
	s := open(owner)
	p, ok := s.(Providers)
	if !ok {
		t.Fatalf("%T has no provider roster component", s)
	}
	return p
}

// Site returns a roster site of the provider npi whose contract runs from
// from to to (0: open-ended), at an address of its own (read back with the
// contract), with a record naming NPI and site.
func Site(npi, key, county string, from, to int, pofs ...string) store.ProviderSite {
	c := domain.ProviderContract{NPI: npi, TIN: "941234567", Site: key, County: county, POFs: pofs,
		Address:           domain.Address{Street: "1 " + key + " St", City: "Fresno", State: "CA", Zip: "937211234"},
		CommunitySupports: []string{"CS01"}, MediCalEnrolled: true}
	c.From, c.To = civil.Date(from), civil.Date(to)
	return store.ProviderSite{Key: key, Contract: c, Record: []byte(`{"npi":"` + npi + `","site":"` + key + `"}`), SourceRow: 2}
}

func fileSum(name string) [32]byte { return sha256.Sum256([]byte(name)) }

func loadRoster(t *testing.T, p Providers, name string, sites ...store.ProviderSite) store.RosterLoad {
	t.Helper()
	res, err := p.LoadRoster(ctx, name, fileSum(name), sites)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return res
}

// records lists ProviderSiteRecords for [from, to] as strings.
func records(t *testing.T, p Providers, from, to civil.Date) []string {
	t.Helper()
	recs := must(p.ProviderSiteRecords(ctx, from, to))(t)
	out := []string{}
	for _, r := range recs {
		out = append(out, string(r))
	}
	return out
}

func rec(npi, key string) string { return `{"npi":"` + npi + `","site":"` + key + `"}` }

// rosterLoadCounts: a load counts new, changed and unchanged sites; the
// same content again (under any name) changes nothing and says when it
// was loaded.
func rosterLoadCounts(t *testing.T, open func(string) store.LedgerStore) {
	p := providers(t, open, "a")
	if ok, err := p.RosterLoaded(ctx); err != nil || ok {
		t.Fatalf("fresh store: loaded = %v %v", ok, err)
	}
	first := []store.ProviderSite{
		Site("1456789019", "a", "38", 20240701, 0),
		Site("1456789019", "b", "38", 20240701, 20260831),
		Site("1582345678", "c", "19", 20261001, 0, "POF1A"),
	}
	if res := loadRoster(t, p, "roster-1.csv", first...); res.Inserted != 3 || res.Sites != 3 || res.Updated != 0 || res.Unchanged != 0 || res.AlreadyLoaded {
		t.Fatalf("first load: %+v", res)
	}
	if ok, err := p.RosterLoaded(ctx); err != nil || !ok {
		t.Fatalf("after a load: loaded = %v %v", ok, err)
	}
	res, err := p.LoadRoster(ctx, "roster-1-copy.csv", fileSum("roster-1.csv"), nil)
	if err != nil || !res.AlreadyLoaded || res.PriorName != "roster-1.csv" || res.PriorAt.IsZero() || res.PriorAt.Location().String() != "UTC" {
		t.Fatalf("same content again: %+v %v", res, err)
	}
	changed := Site("1456789019", "b", "38", 20240701, 20261231)
	newRecord := first[0]
	newRecord.Record = []byte(`{"npi":"1456789019","site":"a","phone":"4155550100"}`)
	res = loadRoster(t, p, "roster-2.csv", first[2], changed, newRecord, Site("1673456780", "d", "10", 20260915, 0))
	if res.Unchanged != 1 || res.Updated != 2 || res.Inserted != 1 || res.Sites != 4 {
		t.Fatalf("later load: %+v, want 1 unchanged, 2 updated (contract, record), 1 new", res)
	}
	if got := must(p.Contracts(ctx, "1456789019"))(t); len(got) != 2 || !reflect.DeepEqual(got[1], changed.Contract) {
		t.Errorf("contracts after the update: %+v", got)
	}
	if got := records(t, p, 20260901, 20260930); !reflect.DeepEqual(got[1], string(newRecord.Record)) {
		t.Errorf("records after the update: %v", got)
	}
}

// rosterSitesStay: a site missing from a later file stays as it was (a
// contract ends by its end date, not by leaving the roster).
func rosterSitesStay(t *testing.T, open func(string) store.LedgerStore) {
	p := providers(t, open, "a")
	loadRoster(t, p, "one.csv", Site("1456789019", "a", "38", 20240701, 0), Site("1582345678", "c", "19", 20240701, 0))
	loadRoster(t, p, "two.csv", Site("1456789019", "a", "38", 20240701, 0))
	if got := must(p.Contracts(ctx, "1582345678"))(t); len(got) != 1 || got[0].Site != "c" {
		t.Errorf("site c after a file without it: %+v", got)
	}
}

// rosterLoadAllOrNothing: a load that fails on one site stores none of
// the file's sites and does not count the file as loaded.
func rosterLoadAllOrNothing(t *testing.T, open func(string) store.LedgerStore) {
	p := providers(t, open, "a")
	bad := Site("1582345678", "c", "19", 20240701, 0)
	bad.Record = nil // NOT NULL
	sites := []store.ProviderSite{Site("1456789019", "a", "38", 20240701, 0), bad}
	if _, err := p.LoadRoster(ctx, "bad.csv", fileSum("bad.csv"), sites); err == nil {
		t.Fatal("a site without a record was stored")
	}
	if got := must(p.Contracts(ctx, "1456789019"))(t); len(got) != 0 {
		t.Errorf("the failed load stored %+v", got)
	}
	if ok := must(p.RosterLoaded(ctx))(t); ok {
		t.Error("the failed load counts as loaded")
	}
	// The fixed file loads.
	sites[1] = Site("1582345678", "c", "19", 20240701, 0)
	if res := loadRoster(t, p, "bad.csv", sites...); res.Inserted != 2 {
		t.Errorf("fixed file: %+v", res)
	}
}

// rosterContracts: Contracts returns every site's contract of an NPI, in
// site key order (byte order), and none for an NPI the roster does not know.
func rosterContracts(t *testing.T, open func(string) store.LedgerStore) {
	p := providers(t, open, "a")
	sites := []store.ProviderSite{
		Site("1456789019", "b|2 main st|94103", "38", 20240701, 0, "POF1A"),
		Site("1456789019", "B|1 main st|94103", "38", 20240701, 20261231),
		Site("1456789019", "a-1|9 oak st|94110", "38", 20250101, 0),
		Site("1582345678", "c", "19", 20240701, 0),
	}
	loadRoster(t, p, "r.csv", sites...)
	got := must(p.Contracts(ctx, "1456789019"))(t)
	want := []domain.ProviderContract{sites[1].Contract, sites[2].Contract, sites[0].Contract}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("contracts\n got %+v\nwant %+v (site keys in byte order: B, a-1, b)", got, want)
	}
	if got := must(p.Contracts(ctx, "1999999999"))(t); len(got) != 0 {
		t.Errorf("unknown NPI: %+v", got)
	}
}

// rosterSiteRecords: the records of the sites in force on at least one
// day of a period, by county, NPI and site key; a contract ending the day
// before the period or starting the day after is out.
func rosterSiteRecords(t *testing.T, open func(string) store.LedgerStore) {
	p := providers(t, open, "a")
	loadRoster(t, p, "r.csv",
		Site("1456789019", "a", "38", 20240701, 0),
		Site("1456789019", "b", "38", 20240701, 20261231),
		Site("1582345678", "c", "19", 20261001, 0),
		Site("1673456780", "d", "10", 20260915, 0),
		Site("1673456780", "e", "10", 20240101, 20260831),
		Site("1673456780", "F", "10", 20260930, 20260930),
	)
	tests := []struct {
		name     string
		from, to civil.Date
		want     []string
	}{
		{"September 2026", 20260901, 20260930, []string{rec("1673456780", "F"), rec("1673456780", "d"), rec("1456789019", "a"), rec("1456789019", "b")}},
		{"October 2026", 20261001, 20261031, []string{rec("1673456780", "d"), rec("1582345678", "c"), rec("1456789019", "a"), rec("1456789019", "b")}},
		{"January 2027", 20270101, 20270131, []string{rec("1673456780", "d"), rec("1582345678", "c"), rec("1456789019", "a")}},
		{"August 2026", 20260801, 20260831, []string{rec("1673456780", "e"), rec("1456789019", "a"), rec("1456789019", "b")}},
		{"the last day of e", 20260831, 20260831, []string{rec("1673456780", "e"), rec("1456789019", "a"), rec("1456789019", "b")}},
		{"June 2024", 20240601, 20240630, []string{rec("1673456780", "e")}},
		{"2023", 20230101, 20231231, []string{}},
	}
	for _, tc := range tests {
		if got := records(t, p, tc.from, tc.to); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: records\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}
}

// rosterSurvivesReopen: the roster is there after the store is reopened.
func rosterSurvivesReopen(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	p := s.(Providers)
	loadRoster(t, p, "r.csv", Site("1456789019", "a", "38", 20240701, 0))
	s.Close()
	p2 := providers(t, open, "a")
	if ok := must(p2.RosterLoaded(ctx))(t); !ok {
		t.Error("roster not loaded after reopening")
	}
	if got := must(p2.Contracts(ctx, "1456789019"))(t); len(got) != 1 {
		t.Errorf("contracts after reopening: %+v", got)
	}
	if res := must(p2.LoadRoster(ctx, "again.csv", fileSum("r.csv"), nil))(t); !res.AlreadyLoaded {
		t.Errorf("the file loads again after reopening: %+v", res)
	}
}

// concurrentRosterLoads: instances loading the same file at once load it
// once (the others find it loaded); different files at once all load.
func concurrentRosterLoads(t *testing.T, open func(string) store.LedgerStore) {
	const instances = 4
	ps := make([]Providers, instances)
	for i := range ps {
		ps[i] = providers(t, open, fmt.Sprintf("i%d", i))
	}
	var sites []store.ProviderSite
	for i := range 1200 { // more than one batch
		sites = append(sites, Site(fmt.Sprintf("1%09d", i), "k", fmt.Sprintf("%02d", 1+i%58), 20240701, 0))
	}
	results := make([]store.RosterLoad, instances)
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() { results[i], errs[i] = p.LoadRoster(ctx, "same.csv", fileSum("same.csv"), sites) })
	}
	wg.Wait()
	loaded := 0
	for i, res := range results {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		switch {
		case !res.AlreadyLoaded && res.Inserted == len(sites):
			loaded++
		case res.AlreadyLoaded && res.PriorName == "same.csv":
		default:
			t.Errorf("instance %d: %+v", i, res)
		}
	}
	if loaded != 1 {
		t.Errorf("the file was loaded %d times, want once", loaded)
	}
	// Different files with overlapping sites, at once: every load commits.
	for i, p := range ps {
		wg.Go(func() {
			name := fmt.Sprintf("file-%d.csv", i)
			changed := append([]store.ProviderSite(nil), sites...)
			for j := range changed {
				changed[j].SourceRow = i + 2
				changed[j].Record = fmt.Appendf(nil, `{"file":%d,"site":%d}`, i, j)
			}
			results[i], errs[i] = p.LoadRoster(ctx, name, fileSum(name), changed)
		})
	}
	wg.Wait()
	for i := range ps {
		if errs[i] != nil || results[i].AlreadyLoaded || results[i].Updated != len(sites) {
			t.Errorf("instance %d: %+v %v", i, results[i], errs[i])
		}
	}
	if got := records(t, ps[0], 20260901, 20260930); len(got) != len(sites) {
		t.Errorf("%d sites in force, want %d", len(got), len(sites))
	}
}
