package store

import (
	"context"
	"crypto/sha256"
	"reflect"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

func providerSite(npi, key, county string, from, to int, pofs ...string) ProviderSite {
	c := domain.ProviderContract{NPI: npi, TIN: "941234567", Site: key, County: county, POFs: pofs,
		CommunitySupports: []string{"CS01"}, MediCalEnrolled: true}
	c.From, c.To = civil.Date(from), civil.Date(to)
	return ProviderSite{Key: key, Contract: c, Record: []byte(`{"npi":"` + npi + `","site":"` + key + `"}`), SourceRow: 2}
}

func TestRosterLoadUpsertAndQuery(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	if ok, err := s.RosterLoaded(ctx); err != nil || ok {
		t.Fatalf("fresh store: loaded = %v %v", ok, err)
	}
	first := []ProviderSite{
		providerSite("1456789019", "a", "38", 20240701, 0),
		providerSite("1456789019", "b", "38", 20240701, 20260831),
		providerSite("1582345678", "c", "19", 20261001, 0, "POF1A"),
	}
	sum1 := sha256.Sum256([]byte("file one"))
	res, err := s.LoadRoster(ctx, "roster-1.csv", sum1, first)
	if err != nil || res.Inserted != 3 || res.Sites != 3 || res.AlreadyLoaded {
		t.Fatalf("first load: %+v %v", res, err)
	}
	// The same file again changes nothing.
	res, err = s.LoadRoster(ctx, "roster-1-copy.csv", sum1, nil)
	if err != nil || !res.AlreadyLoaded || res.PriorName != "roster-1.csv" || res.PriorAt.IsZero() {
		t.Fatalf("second load: %+v %v", res, err)
	}
	// A later file upserts by (NPI, site): one unchanged, one changed, one new.
	changed := providerSite("1456789019", "b", "38", 20240701, 20261231)
	later := []ProviderSite{first[0], changed, providerSite("1673456780", "d", "10", 20260915, 0)}
	res, err = s.LoadRoster(ctx, "roster-2.csv", sha256.Sum256([]byte("file two")), later)
	if err != nil || res.Unchanged != 1 || res.Updated != 1 || res.Inserted != 1 {
		t.Fatalf("third load: %+v %v", res, err)
	}

	got, err := s.Contracts(ctx, "1456789019")
	if err != nil || len(got) != 2 || !reflect.DeepEqual(got[1], changed.Contract) {
		t.Fatalf("contracts %+v %v", got, err)
	}
	if got, err := s.Contracts(ctx, "1999999999"); err != nil || len(got) != 0 {
		t.Errorf("unknown NPI: %v %v", got, err)
	}
	// September 2026: site c starts in October; b (to Dec) and a (open) and
	// d (from the 15th) are in force.
	recs, err := s.ProviderSiteRecords(ctx, 20260901, 20260930)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range recs {
		keys = append(keys, string(r))
	}
	want := []string{`{"npi":"1673456780","site":"d"}`, `{"npi":"1456789019","site":"a"}`, `{"npi":"1456789019","site":"b"}`}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("records %v, want %v (county order)", keys, want)
	}
	// Boundaries: a contract ending the day before the period, or starting
	// the day after, is out.
	if recs, _ := s.ProviderSiteRecords(ctx, 20270101, 20270131); len(recs) != 3 {
		t.Errorf("January 2027: %d sites, want 3 (b ended 2026-12-31)", len(recs))
	}
	if recs, _ := s.ProviderSiteRecords(ctx, 20240601, 20240630); len(recs) != 0 {
		t.Errorf("June 2024: %d sites, want 0", len(recs))
	}

	// State survives reopening.
	s.Close()
	s2, err := OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if ok, _ := s2.RosterLoaded(ctx); !ok {
		t.Error("roster not loaded after reopening")
	}
}
