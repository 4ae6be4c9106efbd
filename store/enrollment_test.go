package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"reflect"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func member(cin string, ops ...domain.SpanOp) *domain.EnrollmentChange {
	return &domain.EnrollmentChange{
		Enrollee: domain.Enrollee{Member: domain.Member{CIN: cin, LastName: "RIVERA", FirstName: "ANA", DOB: day("1980-02-14"), Gender: "F",
			Address: domain.Address{Street: "200 OAK AVE", City: "SACRAMENTO", State: "CA", Zip: "95815"}},
			SubscriberID: cin, County: "34", AidCode: "1H", CaseNumber: "1234567", DSNP: domain.DSNP{Contract: "H1234", PBP: "001", From: day("2025-01-01")}},
		Ops: ops,
	}
}

func upsert(from, to string) domain.SpanOp {
	s := domain.EligibilitySpan{From: day(from), PlanCode: "010", PlanStatus: "01", AidCodes: []string{"1H", "60"}, County: "34", ShareOfCost: 12500}
	if to != "" {
		s.To = day(to)
	}
	return domain.SpanOp{Kind: domain.SpanUpsert, Span: s}
}

func TestEnrollmentCodecRoundTrip(t *testing.T) {
	c := member("91234567A", upsert("2026-01-01", ""), domain.SpanOp{Kind: domain.SpanEnd, Span: domain.EligibilitySpan{PlanCode: "010"}, End: day("2026-06-30")})
	c.Replace, c.ReplaceFrom = true, day("2026-01-01")
	var got domain.EnrollmentChange
	if err := decodeChange(encodeChange(nil, c), &got, map[string]string{}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, *c)
	}
	b := encodeChange(nil, c)
	for i := range len(b) - 1 {
		if err := decodeChange(b[:i], &got, nil); err == nil {
			t.Errorf("truncated at %d: no error", i)
		}
	}
}

func TestCINKey(t *testing.T) {
	seen := map[int64]string{}
	for _, cin := range []string{"91234567A", "91234567B", "0", "00", "A", "ZZZZZZZZZZZZ", "99999999999Z", "a1234567b", "CIN-WITH-DASH", "1234567890123"} {
		k := CINKey(cin)
		if prev, dup := seen[k]; dup {
			t.Errorf("%q and %q share key %d", cin, prev, k)
		}
		seen[k] = cin
		packable := len(cin) <= 12 && cin == "ZZZZZZZZZZZZ" || cin == "91234567A" || cin == "0" || cin == "A"
		if packable && k <= 0 {
			t.Errorf("%q: key %d, want a packed positive key", cin, k)
		}
	}
	if CINKey("a1234567b") >= 0 {
		t.Error("lower case CIN packed")
	}
}

func openTemp(t *testing.T) *SQLite {
	t.Helper()
	s, err := OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The enrollment loads, views and usage counters are tested against both
// engines in store/storetest.

// The per-line lookups are index searches: their cost does not grow with
// the number of members.
func TestLookupsAreIndexed(t *testing.T) {
	s := openTemp(t)
	for _, q := range []string{
		`SELECT data FROM enrollment_members WHERE cin_key = 1`,
		`SELECT number FROM enrollment_auths WHERE cin_key = 1 ORDER BY start, number`,
		`SELECT program FROM enrollment_programs WHERE cin_key = 1`,
		`SELECT amount, first FROM enrollment_usage WHERE key = 'k'`,
		`SELECT (SELECT count(*) FROM sent_lines WHERE key_hi = 1 AND key_lo = 2) + (SELECT count(*) FROM sent_line_collisions WHERE key_hi = 1 AND key_lo = 2)`,
	} {
		rows, err := s.db.Query(`EXPLAIN QUERY PLAN ` + q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		for _, p := range plan {
			if strings.HasPrefix(p, "SCAN") && p != "SCAN CONSTANT ROW" {
				t.Errorf("%s: %v", q, plan)
			}
		}
	}
}

// A load runs with a small page cache (its memory must not grow with the
// file) and gives its connection back with the pool's cache size, which
// convert relies on to keep the sent-lines index hot.
func TestEnrollmentLoadPageCache(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cacheSize := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) int {
		t.Helper()
		var n int
		if err := q.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i, end := range []string{"commit", "rollback"} {
		l, err := s.BeginEnrollmentLoad(ctx, LoadKind834, "f.834", sha256.Sum256([]byte{byte(i)}))
		if err != nil {
			t.Fatal(err)
		}
		if got := cacheSize(l.(*sqliteLoad).conn); got != -loadPageCacheKiB {
			t.Errorf("%s: cache_size during a load = %d, want %d", end, got, -loadPageCacheKiB)
		}
		if end == "commit" {
			if err := l.Commit(ctx, "", ""); err != nil {
				t.Fatal(err)
			}
		} else {
			l.Rollback()
		}
		// Both pooled connections, whichever the load had, are back to the pool's size.
		c1, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []*sql.Conn{c1, c2} {
			if got := cacheSize(c); got != -pageCacheKiB {
				t.Errorf("after %s: pooled cache_size = %d, want %d", end, got, -pageCacheKiB)
			}
		}
		c1.Close()
		c2.Close()
	}
}
