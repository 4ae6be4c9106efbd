package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
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

func load(t *testing.T, s *SQLite, name string, changes ...*domain.EnrollmentChange) *EnrollmentLoad {
	t.Helper()
	ctx := context.Background()
	l, err := s.BeginEnrollmentLoad(ctx, LoadKind834, name, sha256.Sum256([]byte(name)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if err := l.PutMember(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func spansOf(t *testing.T, s *SQLite, cin string) [][2]string {
	t.Helper()
	m, ok, err := s.Member(context.Background(), cin)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return nil
	}
	out := [][2]string{}
	for _, sp := range m.Spans {
		out = append(out, [2]string{sp.From.String(), sp.To.String()})
	}
	return out
}

func TestEnrollmentLoads(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	l := load(t, s, "add.834", member("91234567A", upsert("2025-01-01", "")), member("98765432B", upsert("2025-06-01", "2026-12-31")))
	if got := spansOf(t, s, "91234567A"); got != nil {
		t.Errorf("visible before commit: %v", got)
	}
	if err := l.Commit(ctx, "ZZ/1", "members=2"); err != nil {
		t.Fatal(err)
	}
	m, ok, err := s.Member(ctx, "91234567A")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if m.LastName != "RIVERA" || m.DOB != day("1980-02-14") || m.County != "34" || m.DSNP.Contract != "H1234" || len(m.Spans) != 1 || m.Spans[0].ShareOfCost != 12500 {
		t.Errorf("member: %+v", m)
	}

	// The same content again is refused.
	if _, err := s.BeginEnrollmentLoad(ctx, LoadKind834, "again.834", sha256.Sum256([]byte("add.834"))); err == nil {
		t.Fatal("same content loaded twice")
	} else if ae := (*AlreadyLoadedError)(nil); !errors.As(err, &ae) || ae.File != "add.834" {
		t.Errorf("error %v", err)
	}

	// A change file terminates one member and adds a span to the other; a
	// rolled-back load leaves nothing.
	term := member("91234567A", domain.SpanOp{Kind: domain.SpanEnd, End: day("2026-03-31")})
	term.Enrollee.LastName = "RIVERA-LOPEZ"
	l = load(t, s, "change.834", term, member("98765432B", upsert("2027-01-01", "")))
	if err := l.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	if got, want := spansOf(t, s, "91234567A"), [][2]string{{"2025-01-01", "2026-03-31"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("terminated: %v, want %v", got, want)
	}
	if m, _, _ := s.Member(ctx, "91234567A"); m.LastName != "RIVERA-LOPEZ" || m.FirstName != "ANA" {
		t.Errorf("demographics change: %+v", m.Member)
	}
	if got, want := spansOf(t, s, "98765432B"), [][2]string{{"2025-06-01", "2026-12-31"}, {"2027-01-01", ""}}; !reflect.DeepEqual(got, want) {
		t.Errorf("added: %v, want %v", got, want)
	}
	l = load(t, s, "rolled-back.834", member("91234567A", upsert("2030-01-01", "")), member("55555555C", upsert("2026-01-01", "")))
	l.Rollback()
	if got := spansOf(t, s, "55555555C"); got != nil {
		t.Errorf("rolled back member stored: %v", got)
	}

	// A transaction set undone by RollbackTo.
	l = load(t, s, "sets.834")
	l.Savepoint(ctx)
	l.PutMember(ctx, member("66666666D", upsert("2026-01-01", "")))
	if err := l.RollbackTo(ctx); err != nil {
		t.Fatal(err)
	}
	l.Savepoint(ctx)
	l.PutMember(ctx, member("77777777E", upsert("2026-01-01", "")))
	l.Release(ctx)
	if err := l.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	if spansOf(t, s, "66666666D") != nil || spansOf(t, s, "77777777E") == nil {
		t.Error("savepoints")
	}

	// A full file from 2026-07-01 lists 98765432B only: 77777777E (absent)
	// loses coverage from 2026-07-01; 91234567A ended before and keeps its
	// history; 88888888F is listed but its loop was rejected, so it is kept.
	full := member("98765432B", upsert("2026-07-01", ""))
	full.Replace, full.ReplaceFrom = true, day("2026-07-01")
	l = load(t, s, "full.834", member("88888888F", upsert("2026-01-01", "")))
	l.Commit(ctx, "", "")
	l = load(t, s, "full2.834", full)
	if err := l.TouchMember(ctx, "88888888F"); err != nil {
		t.Fatal(err)
	}
	n, err := l.CutAbsent(ctx, day("2026-07-01"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("cut %d members, want 1", n)
	}
	for cin, want := range map[string][][2]string{
		"77777777E": {{"2026-01-01", "2026-06-30"}},
		"91234567A": {{"2025-01-01", "2026-03-31"}},
		"98765432B": {{"2025-06-01", "2026-06-30"}, {"2026-07-01", ""}},
		"88888888F": {{"2026-01-01", ""}},
	} {
		if got := spansOf(t, s, cin); !reflect.DeepEqual(got, want) {
			t.Errorf("%s after the full file: %v, want %v", cin, got, want)
		}
	}
	st, err := s.EnrollmentStatus(ctx)
	if err != nil || st.Loads834 != 5 || st.Members != 4 {
		t.Errorf("status %+v %v", st, err)
	}
}

func TestAuthorizationsAndUsage(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	l, err := s.BeginEnrollmentLoad(ctx, LoadKindAuth, "auth.csv", sha256.Sum256([]byte("auth")))
	if err != nil {
		t.Fatal(err)
	}
	a := domain.Authorization{Number: "A-1", CIN: "91234567A", Service: "ECM", ProviderNPI: "1234567893", POF: "POF1A",
		Status: domain.AuthPending, Type: domain.AuthInitial, From: day("2026-01-01"), To: day("2026-12-31"), Units: 10000, HasUnits: true}
	if err := l.PutAuthorization(ctx, &a); err != nil {
		t.Fatal(err)
	}
	a.Status = domain.AuthApproved
	if err := l.PutAuthorization(ctx, &a); err != nil {
		t.Fatal(err)
	}
	other := a
	other.CIN = "98765432B"
	if err := l.PutAuthorization(ctx, &other); !errors.Is(err, ErrAuthOtherMember) {
		t.Errorf("same number for another member: %v", err)
	}
	if err := l.PutProgram(ctx, &domain.ProgramSpan{CIN: "91234567A", Program: "hospice", From: day("2026-05-01"), Source: "programs.csv"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	auths, err := s.Authorizations(ctx, "91234567A")
	if err != nil || len(auths) != 1 || auths[0].Status != domain.AuthApproved || !auths[0].HasUnits || auths[0].Units != 10000 {
		t.Errorf("authorizations %+v %v", auths, err)
	}
	if ps, err := s.Programs(ctx, "91234567A"); err != nil || len(ps) != 1 || ps[0].Program != "hospice" {
		t.Errorf("programs %+v %v", ps, err)
	}

	// Usage moves inside a run: an abandoned run leaves no trace, a written one stays.
	for _, keep := range []bool{false, true} {
		run, err := s.BeginRun(ctx, "convert", "{}")
		if err != nil {
			t.Fatal(err)
		}
		v, err := EnrollmentViewOf(run)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.AddUsage(ctx, "auth-units:A-1", 2000, day("2026-03-05")); err != nil {
			t.Fatal(err)
		}
		if err := v.AddUsage(ctx, "auth-units:A-1", 1000, day("2026-03-01")); err != nil {
			t.Fatal(err)
		}
		if n, first, err := v.Usage(ctx, "auth-units:A-1"); err != nil || first != day("2026-03-01") {
			t.Errorf("in the run: %d %s %v", n, first, err)
		}
		if m, ok, err := v.Member(ctx, "91234567A"); err != nil || ok || m != nil {
			t.Errorf("no 834 loaded: %v %v", ok, err)
		}
		if keep {
			if err := run.Written(ctx, "", ""); err != nil {
				t.Fatal(err)
			}
		} else if err := run.Abandon(ctx, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if n, _, err := s.Usage(ctx, "auth-units:A-1"); err != nil || n != 3000 {
		t.Errorf("usage after one abandoned and one written run: %d %v", n, err)
	}
}

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
		if got := cacheSize(l.conn); got != -loadPageCacheKiB {
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
