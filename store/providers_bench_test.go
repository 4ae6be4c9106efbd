package store_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/calaim-gateway/calaim-gateway/store/storetest"
)

// BenchmarkLoadRoster loads a 50,000-site roster into a fresh store, then
// the same sites again under another file (every site unchanged), on each
// engine.
func BenchmarkLoadRoster(b *testing.B) {
	const n = 50000
	sites := make([]store.ProviderSite, n)
	for i := range sites {
		sites[i] = storetest.Site(fmt.Sprintf("1%09d", i), fmt.Sprintf("%d|%d main st|9%04d", i, i, i%10000),
			fmt.Sprintf("%02d", 1+i%58), 20240701, 0)
	}
	type loader interface {
		LoadRoster(ctx context.Context, file string, sum [32]byte, sites []store.ProviderSite) (store.RosterLoad, error)
	}
	run := func(b *testing.B, open func(i int) loader) {
		ctx := context.Background()
		var first, again time.Duration
		for i := 0; b.Loop(); i++ {
			st := open(i)
			t0 := time.Now()
			if res, err := st.LoadRoster(ctx, "a.csv", sha256.Sum256([]byte("a")), sites); err != nil || res.Inserted != n {
				b.Fatalf("%+v %v", res, err)
			}
			t1 := time.Now()
			if res, err := st.LoadRoster(ctx, "b.csv", sha256.Sum256([]byte("b")), sites); err != nil || res.Unchanged != n {
				b.Fatalf("%+v %v", res, err)
			}
			first, again = first+t1.Sub(t0), again+time.Since(t1)
		}
		b.ReportMetric(float64(b.N)*n/first.Seconds(), "new-sites/s")
		b.ReportMetric(float64(b.N)*n/again.Seconds(), "unchanged-sites/s")
	}
	b.Run("SQLite", func(b *testing.B) {
		run(b, func(i int) loader {
			s, err := store.OpenSQLite(context.Background(), b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		})
	})
	b.Run("Postgres", func(b *testing.B) {
		dbs := &pgDatabases{srv: testsrv.Postgres(b)}
		run(b, func(i int) loader {
			return openPG(b, dbs.fresh(b), "bench", time.Minute)
		})
	})
}
