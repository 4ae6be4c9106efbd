package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Enrollment is what the enrollment tests need of a store: loads of the
// 834, authorization and other-programs feeds, and reading them back.
type Enrollment interface {
	store.Store
	BeginEnrollmentLoad(ctx context.Context, kind, file string, sum [32]byte) (store.EnrollmentLoad, error)
	EnrollmentStatus(ctx context.Context) (store.EnrollmentStatus, error)
	Member(ctx context.Context, cin string) (*domain.Enrollee, bool, error)
	Authorizations(ctx context.Context, cin string) ([]domain.Authorization, error)
	AuthorizationsOf(ctx context.Context, cins []string) (map[string][]domain.Authorization, error)
	Programs(ctx context.Context, cin string) ([]domain.ProgramSpan, error)
	Usage(ctx context.Context, key string) (int64, civil.Date, error)
}

func enrollmentOf(t *testing.T, s store.LedgerStore) Enrollment {
	t.Helper()
	e, ok := s.(Enrollment)
	if !ok {
		t.Fatalf("%T has no enrollment tables", s)
	}
	return e
}

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

// load begins an 834 load named name (its content is the name) and puts changes.
func loadEnrollment(t *testing.T, s Enrollment, name string, changes ...*domain.EnrollmentChange) store.EnrollmentLoad {
	t.Helper()
	l, err := s.BeginEnrollmentLoad(ctx, store.LoadKind834, name, sha256.Sum256([]byte(name)))
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

func spansOf(t *testing.T, s Enrollment, cin string) [][2]string {
	t.Helper()
	m, ok, err := s.Member(ctx, cin)
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

// enrollmentLoads: a load is one transaction, loaded once by content;
// members merge their changes; savepoints undo a set; a full file cuts
// the members it does not list.
func enrollmentLoads(t *testing.T, open func(string) store.LedgerStore) {
	s := enrollmentOf(t, open("a"))
	l := loadEnrollment(t, s, "add.834", member("91234567A", upsert("2025-01-01", "")), member("98765432B", upsert("2025-06-01", "2026-12-31")))
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

	// The same content again is refused, whatever its name; another kind may have it.
	if _, err := s.BeginEnrollmentLoad(ctx, store.LoadKind834, "again.834", sha256.Sum256([]byte("add.834"))); err == nil {
		t.Fatal("same content loaded twice")
	} else if ae := (*store.AlreadyLoadedError)(nil); !errors.As(err, &ae) || ae.File != "add.834" || ae.At.IsZero() {
		t.Errorf("error %v", err)
	}
	other, err := s.BeginEnrollmentLoad(ctx, store.LoadKindAuth, "add.csv", sha256.Sum256([]byte("add.834")))
	if err != nil {
		t.Fatalf("same content as another kind: %v", err)
	}
	other.Rollback()

	// A change file terminates one member and adds a span to the other; a
	// rolled-back load leaves nothing.
	term := member("91234567A", domain.SpanOp{Kind: domain.SpanEnd, End: day("2026-03-31")})
	term.Enrollee.LastName = "RIVERA-LOPEZ"
	l = loadEnrollment(t, s, "change.834", term, member("98765432B", upsert("2027-01-01", "")))
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
	l = loadEnrollment(t, s, "rolled-back.834", member("91234567A", upsert("2030-01-01", "")), member("55555555C", upsert("2026-01-01", "")))
	l.Rollback()
	if got := spansOf(t, s, "55555555C"); got != nil {
		t.Errorf("rolled back member stored: %v", got)
	}
	if l, err := s.BeginEnrollmentLoad(ctx, store.LoadKind834, "rolled-back-again.834", sha256.Sum256([]byte("rolled-back.834"))); err != nil {
		t.Errorf("content of a rolled-back load: %v, want it loadable", err)
	} else {
		l.Rollback()
	}

	// A transaction set undone by RollbackTo.
	l = loadEnrollment(t, s, "sets.834")
	for _, step := range []func() error{
		func() error { return l.Savepoint(ctx) },
		func() error { return l.PutMember(ctx, member("66666666D", upsert("2026-01-01", ""))) },
		func() error { return l.RollbackTo(ctx) },
		func() error { return l.Savepoint(ctx) },
		func() error { return l.PutMember(ctx, member("77777777E", upsert("2026-01-01", ""))) },
		func() error { return l.Release(ctx) },
		func() error { return l.Commit(ctx, "", "") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if spansOf(t, s, "66666666D") != nil || spansOf(t, s, "77777777E") == nil {
		t.Error("savepoints")
	}

	// A full file from 2026-07-01 lists 98765432B only: 77777777E (absent)
	// loses coverage from 2026-07-01; 91234567A ended before and keeps its
	// history; 88888888F is listed but its loop was rejected, so it is kept.
	full := member("98765432B", upsert("2026-07-01", ""))
	full.Replace, full.ReplaceFrom = true, day("2026-07-01")
	l = loadEnrollment(t, s, "full.834", member("88888888F", upsert("2026-01-01", "")))
	if err := l.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	l = loadEnrollment(t, s, "full2.834", full)
	if err := l.TouchMember(ctx, "88888888F"); err != nil {
		t.Fatal(err)
	}
	n, err := l.CutAbsent(ctx, day("2026-07-01"), 0, []string{"010"})
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
	if err != nil || st.Loads834 != 5 || st.AuthLoads != 0 || st.Members != 4 {
		t.Errorf("status %+v %v, want 5 834 loads and 4 members", st, err)
	}
}

// manyMembers: a load of more members than any batch, with a member listed
// twice (its changes apply in file order) and CINs that hash.
func manyMembers(t *testing.T, open func(string) store.LedgerStore) {
	ls := open("a")
	s := enrollmentOf(t, ls)
	const n = 1234
	cin := func(i int) string { return fmt.Sprintf("9%07dA", i) }
	l := loadEnrollment(t, s, "many.834")
	for i := range n {
		if err := l.PutMember(ctx, member(cin(i), upsert("2026-01-01", ""))); err != nil {
			t.Fatal(err)
		}
		if i == 700 { // member 3 again, ended, in a later batch than its first change
			if err := l.PutMember(ctx, member(cin(3), domain.SpanOp{Kind: domain.SpanEnd, End: day("2026-02-28")})); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []*domain.EnrollmentChange{ // twice in a row, and a CIN that is hashed
		member("55555555E", upsert("2026-01-01", "2026-03-31")), member("55555555E", upsert("2026-05-01", "")),
		member("cin-with-dash", upsert("2026-01-01", "")),
	} {
		if err := l.PutMember(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	for c, want := range map[string][][2]string{
		cin(0):          {{"2026-01-01", ""}},
		cin(3):          {{"2026-01-01", "2026-02-28"}},
		cin(n - 1):      {{"2026-01-01", ""}},
		"55555555E":     {{"2026-01-01", "2026-03-31"}, {"2026-05-01", ""}},
		"cin-with-dash": {{"2026-01-01", ""}},
	} {
		if got := spansOf(t, s, c); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", c, got, want)
		}
	}
	if st := must(s.EnrollmentStatus(ctx))(t); st.Members != n+2 {
		t.Errorf("members %d, want %d", st.Members, n+2)
	}
	// A run's view reads the same members one by one and, where it can
	// (store.MemberPrefetcher), after reading a batch of them in one pass:
	// found, absent, hashed, asked twice, and one left out of the batch.
	asked := []string{cin(0), cin(3), "cin-with-dash", "10000000Z", cin(0), cin(n - 1)}
	for _, prefetch := range []bool{false, true} {
		run := begin(t, ls)
		v := must(store.EnrollmentViewOf(run))(t)
		if p, ok := v.(store.MemberPrefetcher); ok && prefetch {
			if err := p.PrefetchMembers(ctx, asked[:len(asked)-1], store.MemberParts{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range asked {
			m, ok, err := v.Member(ctx, c)
			if err != nil || ok != (c != "10000000Z") || ok && (m.CIN != c || len(m.Spans) == 0) {
				t.Errorf("prefetch %v: member %s: %+v %v %v", prefetch, c, m, ok, err)
			}
		}
		if m, _, _ := v.Member(ctx, cin(3)); m == nil || len(m.Spans) != 1 || m.Spans[0].To != day("2026-02-28") {
			t.Errorf("prefetch %v: member %s: %+v, want its span ended 2026-02-28", prefetch, cin(3), m)
		}
		run.Abandon(ctx, "test")
	}
}

// authorizationsAndUsage: authorizations and program spans read back;
// usage counters move inside a run and roll back with an abandoned one.
func authorizationsAndUsage(t *testing.T, open func(string) store.LedgerStore) {
	ls := open("a")
	s := enrollmentOf(t, ls)
	l, err := s.BeginEnrollmentLoad(ctx, store.LoadKindAuth, "auth.csv", sha256.Sum256([]byte("auth")))
	if err != nil {
		t.Fatal(err)
	}
	a := domain.Authorization{Number: "A-1", CIN: "91234567A", Service: "ECM", ProviderNPI: "1234567893", POF: "POF1A",
		Status: domain.AuthPending, Type: domain.AuthInitial, From: day("2026-01-01"), To: day("2026-12-31"), Units: 10000, HasUnits: true,
		Decided: day("2025-12-20"), Communicated: day("2025-12-21")}
	a.Source.File, a.Source.Row = "auth.csv", 2
	if err := l.PutAuthorization(ctx, &a); err != nil {
		t.Fatal(err)
	}
	a.Status = domain.AuthApproved
	if err := l.PutAuthorization(ctx, &a); err != nil {
		t.Fatal(err)
	}
	other := a
	other.CIN = "98765432B"
	if err := l.PutAuthorization(ctx, &other); !errors.Is(err, store.ErrAuthOtherMember) {
		t.Errorf("same number for another member: %v", err)
	}
	open2 := domain.Authorization{Number: "A-2", CIN: "91234567A", Service: "CS", Status: domain.AuthApproved, Type: domain.AuthInitial,
		From: day("2025-06-01"), To: day("2025-12-31")}
	if err := l.PutAuthorization(ctx, &open2); err != nil {
		t.Fatal(err)
	}
	for _, p := range []domain.ProgramSpan{
		{CIN: "91234567A", Program: "hospice", From: day("2026-05-01"), Source: "programs.csv row 2"},
		{CIN: "91234567A", Program: "hospice", From: day("2026-05-01"), To: day("2026-08-31"), Source: "programs.csv row 3"},
	} {
		if err := l.PutProgram(ctx, &p); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	auths := must(s.Authorizations(ctx, "91234567A"))(t)
	if len(auths) != 2 || auths[0].Number != "A-2" || auths[0].HasUnits || auths[1].Number != "A-1" {
		t.Fatalf("authorizations %+v, want A-2 then A-1 (by start)", auths)
	}
	if got := auths[1]; got.Status != domain.AuthApproved || !got.HasUnits || got.Units != 10000 || got.ProviderNPI != "1234567893" ||
		got.POF != "POF1A" || got.From != a.From || got.To != a.To || got.Decided != a.Decided || got.Communicated != a.Communicated ||
		got.Source.File != "auth.csv row 2" {
		t.Errorf("A-1 read back: %+v", got)
	}
	if got := must(s.Authorizations(ctx, "98765432B"))(t); len(got) != 0 {
		t.Errorf("the refused row was stored: %+v", got)
	}
	// Several members' at once: the same, by CIN, for those that have any.
	if got := must(s.AuthorizationsOf(ctx, []string{"91234567A", "98765432B", "91234567A", "11111111C"}))(t); len(got) != 1 || !reflect.DeepEqual(got["91234567A"], auths) {
		t.Errorf("authorizations of several members: %+v, want %+v for 91234567A alone", got, auths)
	}
	if ps := must(s.Programs(ctx, "91234567A"))(t); len(ps) != 1 || ps[0].Program != "hospice" || ps[0].To != day("2026-08-31") || ps[0].Source != "programs.csv row 3" {
		t.Errorf("programs %+v", ps)
	}
	if st := must(s.EnrollmentStatus(ctx))(t); st.AuthLoads != 1 || st.Loads834 != 0 {
		t.Errorf("status %+v", st)
	}

	// Usage moves inside a run: an abandoned run leaves no trace, a written one stays.
	for _, keep := range []bool{false, true} {
		run := begin(t, ls)
		v, err := store.EnrollmentViewOf(run)
		if err != nil {
			t.Fatal(err)
		}
		if v.Run() != run.ID() {
			t.Errorf("view of run %d says %d", run.ID(), v.Run())
		}
		if err := v.AddUsage(ctx, "auth-units:A-1", 2000, day("2026-03-05")); err != nil {
			t.Fatal(err)
		}
		if err := v.AddUsage(ctx, "auth-units:A-1", 1000, day("2026-03-01")); err != nil {
			t.Fatal(err)
		}
		if n, first, err := v.Usage(ctx, "auth-units:A-1"); err != nil || n != 3000 || first != day("2026-03-01") {
			t.Errorf("in the run: %d %s %v, want 3000 from 2026-03-01", n, first, err)
		}
		if m, ok, err := v.Member(ctx, "91234567A"); err != nil || ok || m != nil {
			t.Errorf("no 834 loaded: %v %v", ok, err)
		}
		if as, err := v.Authorizations(ctx, "91234567A", nil); err != nil || len(as) != 2 {
			t.Errorf("authorizations in the run: %+v %v", as, err)
		}
		if ps, err := v.Programs(ctx, "91234567A", nil); err != nil || len(ps) != 1 {
			t.Errorf("programs in the run: %+v %v", ps, err)
		}
		prefetchedParts(t, v, auths)
		record(t, run, store.Line{Key: Key(30, 1), Control: "u-1"})
		if sent, err := v.WasSent(ctx, Key(30, 1)); err != nil || !sent {
			t.Errorf("a line of this run: sent=%v %v", sent, err)
		}
		if sent, err := v.WasSent(ctx, Key(30, 2)); err != nil || sent {
			t.Errorf("a line never recorded: sent=%v %v", sent, err)
		}
		if keep {
			if err := run.Written(ctx, "", ""); err != nil {
				t.Fatal(err)
			}
		} else if err := run.Abandon(ctx, "test"); err != nil {
			t.Fatal(err)
		}
		if n, _, err := s.Usage(ctx, "auth-units:A-1"); err != nil || (keep && n != 3000) || (!keep && n != 0) {
			t.Errorf("usage after a run (kept %v): %d %v", keep, n, err)
		}
	}
	// A later run sees the written run's counter and moves it on.
	run := begin(t, ls)
	v := must(store.EnrollmentViewOf(run))(t)
	if n, first, err := v.Usage(ctx, "auth-units:A-1"); err != nil || n != 3000 || first != day("2026-03-01") {
		t.Errorf("next run reads %d %s %v", n, first, err)
	}
	if err := v.AddUsage(ctx, "auth-units:A-1", 500, day("2026-02-01")); err != nil {
		t.Fatal(err)
	}
	if err := run.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	if n, first, err := s.Usage(ctx, "auth-units:A-1"); err != nil || n != 3500 || first != day("2026-02-01") {
		t.Errorf("usage after two written runs: %d %s %v, want 3500 from 2026-02-01", n, first, err)
	}
	// A check run's view counts the check's own lines as sent, as a run's does.
	check := must(ls.BeginCheck(ctx, "check", "{}"))(t)
	cv := must(store.EnrollmentViewOf(check))(t)
	record(t, check, store.Line{Key: Key(31, 1), Control: "k-1"})
	if sent, err := cv.WasSent(ctx, Key(31, 1)); err != nil || !sent {
		t.Errorf("a line of this check: sent=%v %v", sent, err)
	}
	if sent, err := cv.WasSent(ctx, Key(31, 2)); err != nil || sent {
		t.Errorf("a line the check never saw: sent=%v %v", sent, err)
	}
	check.Abandon(ctx, "check only")
}

// prefetchedParts: a view that read members with their authorizations
// and program spans in one pass (store.MemberPrefetcher) answers as it
// does without it, for each part asked or not, for a member with
// authorizations (want), one without and one not prefetched.
func prefetchedParts(t *testing.T, v store.EnrollmentView, want []domain.Authorization) {
	t.Helper()
	p, ok := v.(store.MemberPrefetcher)
	if !ok {
		t.Fatalf("%T is not a store.MemberPrefetcher", v)
	}
	for _, parts := range []store.MemberParts{{}, {Authorizations: true}, {Programs: true}, {Authorizations: true, Programs: true}} {
		if err := p.PrefetchMembers(ctx, []string{"91234567A", "98765432B", "91234567A"}, parts); err != nil {
			t.Fatal(err)
		}
		for _, cin := range []string{"91234567A", "98765432B", "11111111C"} {
			as, err := v.Authorizations(ctx, cin, []domain.Authorization{{Number: "stale"}})
			if err != nil {
				t.Fatal(err)
			}
			ps, err := v.Programs(ctx, cin, []domain.ProgramSpan{{Program: "stale"}})
			if err != nil {
				t.Fatal(err)
			}
			if cin != "91234567A" {
				if len(as) != 0 || len(ps) != 0 {
					t.Errorf("prefetched %+v: %s: %+v %+v, want none", parts, cin, as, ps)
				}
				continue
			}
			if !reflect.DeepEqual(as, want) {
				t.Errorf("prefetched %+v: authorizations %+v, want %+v", parts, as, want)
			}
			if len(ps) != 1 || ps[0].Program != "hospice" || ps[0].To != day("2026-08-31") || ps[0].Source != "programs.csv row 3" {
				t.Errorf("prefetched %+v: programs %+v", parts, ps)
			}
		}
	}
}

// concurrentUsage: two instances' runs judging lines of the same member.
// The second run's read of a counter the first run has read waits until
// the first run ends, and then sees what it committed (or, rolled back,
// what was there before): a counter is never granted twice.
func concurrentUsage(t *testing.T, open func(string) store.LedgerStore) {
	const key = "auth-units:A-9"
	for _, commit := range []bool{true, false} {
		t.Run(fmt.Sprintf("first commits=%v", commit), func(t *testing.T) {
			a, b := open("a"), open("b")
			ra := begin(t, a)
			// A failed check leaves runs open: roll them back so that the
			// next subtest does not wait on their locks.
			t.Cleanup(func() { ra.Abandon(ctx, "test ended") })
			va := must(store.EnrollmentViewOf(ra))(t)
			base, _, err := enrollmentOf(t, a).Usage(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if n, _, err := va.Usage(ctx, key); err != nil || n != base {
				t.Fatalf("a reads %d %v", n, err)
			}
			if err := va.AddUsage(ctx, key, 4000, day("2026-09-01")); err != nil {
				t.Fatal(err)
			}
			rb := begin(t, b)
			t.Cleanup(func() { rb.Abandon(ctx, "test ended") })
			vb := must(store.EnrollmentViewOf(rb))(t)
			type read struct {
				n   int64
				err error
			}
			done := make(chan read, 1)
			go func() {
				n, _, err := vb.Usage(ctx, key)
				done <- read{n, err}
			}()
			select {
			case r := <-done:
				t.Fatalf("b read the counter a's open run holds without waiting: %d %v", r.n, r.err)
			case <-time.After(300 * time.Millisecond):
			}
			if commit {
				if err := ra.Written(ctx, "", ""); err != nil {
					t.Fatal(err)
				}
			} else if err := ra.Abandon(ctx, "test"); err != nil {
				t.Fatal(err)
			}
			var r read
			select {
			case r = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("b still waits after a ended")
			}
			want := base
			if commit {
				want += 4000
			}
			if r.err != nil || r.n != want {
				t.Fatalf("b reads %d %v after a ended, want %d", r.n, r.err, want)
			}
			if err := vb.AddUsage(ctx, key, 1000, day("2026-09-02")); err != nil {
				t.Fatal(err)
			}
			if err := rb.Written(ctx, "", ""); err != nil {
				t.Fatal(err)
			}
			if n, _, err := enrollmentOf(t, b).Usage(ctx, key); err != nil || n != want+1000 {
				t.Errorf("committed counter %d %v, want %d", n, err, want+1000)
			}
		})
	}
}

// prefetchedUsage: a view that reads many usage counters at once
// (store.UsagePrefetcher) reads each as Usage would, the run's own moves
// included, and holds them as Usage does: another instance's run that
// reads one waits until the run ends.
func prefetchedUsage(t *testing.T, open func(string) store.LedgerStore) {
	a, b := open("a"), open("b")
	const k1, k2, k3 = "auth-units:P-1", "auth-units:P-2", "cs:CS04:91234567A"
	ra := begin(t, a)
	t.Cleanup(func() { ra.Abandon(ctx, "test ended") })
	va := must(store.EnrollmentViewOf(ra))(t)
	if _, ok := va.(store.UsagePrefetcher); !ok {
		t.Fatalf("the view of a shared store (%T) reads usage counters one at a time", va)
	}
	if err := va.AddUsage(ctx, k1, 1500, day("2026-04-02")); err != nil {
		t.Fatal(err)
	}
	if err := va.AddUsage(ctx, k3, 30, day("2026-03-01")); err != nil {
		t.Fatal(err)
	}
	if err := ra.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	ra = begin(t, a)
	va = must(store.EnrollmentViewOf(ra))(t)
	up := va.(store.UsagePrefetcher)
	if err := va.AddUsage(ctx, k1, 500, day("2026-03-30")); err != nil { // moved by this run, not written yet
		t.Fatal(err)
	}
	got, err := up.PrefetchUsage(ctx, []string{k1, k2, k1, k3})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.UsageCount{k1: {Amount: 2000, First: day("2026-03-30")}, k3: {Amount: 30, First: day("2026-03-01")}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("prefetched %v, want %v (a counter never moved is left out)", got, want)
	}
	for _, k := range []string{k1, k2, k3} {
		n, first, err := va.Usage(ctx, k)
		if err != nil || n != got[k].Amount || first != got[k].First {
			t.Errorf("%s: Usage reads %d %s %v, PrefetchUsage %+v", k, n, first, err, got[k])
		}
	}
	rb := begin(t, b)
	t.Cleanup(func() { rb.Abandon(ctx, "test ended") })
	vb := must(store.EnrollmentViewOf(rb))(t)
	done := make(chan error, 1)
	go func() {
		_, err := vb.(store.UsagePrefetcher).PrefetchUsage(ctx, []string{k2})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("b read a counter a's open run holds without waiting (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := ra.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("b still waits after a ended")
	}
	if n, first, err := vb.Usage(ctx, k1); err != nil || n != 2000 || first != day("2026-03-30") {
		t.Errorf("b reads %s: %d %s %v, want what a committed (2000 from 2026-03-30)", k1, n, first, err)
	}
}

// concurrentLoadOnce: two instances load the same content at once: the
// second waits for the first and finds it loaded.
func concurrentLoadOnce(t *testing.T, open func(string) store.LedgerStore) {
	a, b := enrollmentOf(t, open("a")), enrollmentOf(t, open("b"))
	la := loadEnrollment(t, a, "same.834", member("91234567A", upsert("2026-01-01", "")))
	done := make(chan error, 1)
	go func() {
		l, err := b.BeginEnrollmentLoad(ctx, store.LoadKind834, "same-copy.834", sha256.Sum256([]byte("same.834")))
		if err == nil {
			l.Rollback()
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("b began a load of the content a is loading without waiting: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := la.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	var ae *store.AlreadyLoadedError
	if err := <-done; !errors.As(err, &ae) || ae.File != "same.834" {
		t.Errorf("b's load after a committed: %v, want already loaded as same.834", err)
	}
}

// enrollmentFullFileListsAMemberTwice: a full file's two loops of one
// member (two plans) both stand: the period's cut of the second loop does
// not take back what the first added. And a cut that leaves two spans of
// one plan starting the same day keeps both when the member is read back.
func enrollmentFullFileListsAMemberTwice(t *testing.T, open func(string) store.LedgerStore) {
	s := enrollmentOf(t, open("a"))
	l := loadEnrollment(t, s, "start.834", member("91234567A", upsert("2026-01-01", "")),
		member("98765432B", upsert("2026-01-01", ""), upsert("2026-05-01", "2026-05-31")))
	if err := l.Commit(ctx, "ZZ/1", ""); err != nil {
		t.Fatal(err)
	}
	full := func(ops ...domain.SpanOp) *domain.EnrollmentChange {
		c := member("91234567A", ops...)
		c.Replace, c.ReplaceFrom, c.Enrollee.DSNP = true, day("2026-04-01"), domain.DSNP{}
		return c
	}
	other := upsert("2026-04-01", "")
	other.Span.PlanCode = "999"
	l = loadEnrollment(t, s, "full.834", full(upsert("2026-01-01", "")), full(other))
	// 98765432B is not in the file: its spans are cut in April.
	if _, err := l.CutAbsent(ctx, day("2026-04-01"), day("2026-04-30"), []string{"010", "999"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx, "ZZ/2", ""); err != nil {
		t.Fatal(err)
	}
	m, ok, err := s.Member(ctx, "91234567A")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	var got []string
	for _, sp := range m.Spans {
		got = append(got, sp.PlanCode+" "+sp.From.String()+".."+sp.To.String())
	}
	if want := []string{"010 2026-01-01..", "999 2026-04-01.."}; !slices.Equal(got, want) {
		t.Errorf("member listed twice: spans %v, want %v", got, want)
	}
	if got, want := spansOf(t, s, "98765432B"), [][2]string{{"2026-01-01", "2026-03-31"}, {"2026-05-01", ""}, {"2026-05-01", "2026-05-31"}}; !slices.Equal(got, want) {
		t.Errorf("member cut: spans %v, want %v", got, want)
	}
	// The D-SNP the first file named: neither loop of the full file names
	// one, so it ended the day before the period.
	if m.DSNP.Contract != "H1234" || m.DSNP.To != day("2026-03-31") {
		t.Errorf("D-SNP after a full file without it: %+v, want H1234 to 2026-03-31", m.DSNP)
	}
}

// enrollmentChangeFileEndsDSNP: a change whose D-SNP names no contract but
// an end (a change file's REF*DX without a contract) ends the stored D-SNP
// then, and gives a member the store did not know no D-SNP.
func enrollmentChangeFileEndsDSNP(t *testing.T, open func(string) store.LedgerStore) {
	s := enrollmentOf(t, open("a"))
	none := func(cin string) *domain.EnrollmentChange {
		c := member(cin, upsert("2026-01-01", ""))
		c.Enrollee.DSNP = domain.DSNP{To: day("2026-03-31")}
		return c
	}
	l := loadEnrollment(t, s, "start.834", member("91234567A", upsert("2026-01-01", "")), none("98765432B"))
	if err := l.Commit(ctx, "ZZ/1", ""); err != nil {
		t.Fatal(err)
	}
	l = loadEnrollment(t, s, "change.834", none("91234567A"))
	if err := l.Commit(ctx, "ZZ/2", ""); err != nil {
		t.Fatal(err)
	}
	for cin, want := range map[string]domain.DSNP{
		"91234567A": {Contract: "H1234", PBP: "001", From: day("2025-01-01"), To: day("2026-03-31")},
		"98765432B": {},
	} {
		m, ok, err := s.Member(ctx, cin)
		if err != nil || !ok {
			t.Fatal(cin, ok, err)
		}
		if m.DSNP != want {
			t.Errorf("%s: D-SNP %+v, want %+v", cin, m.DSNP, want)
		}
	}
}

// enrollmentFullFileCutsItsPlanCodes: DHCS sends one full file per plan
// code. A full file of code 405 cuts its period out of the 405 spans of
// the members it does not list and of those it lists; the spans of code
// 506 stay, of absent and listed members alike. A full file naming no
// code cuts nothing of an absent member.
func enrollmentFullFileCutsItsPlanCodes(t *testing.T, open func(string) store.LedgerStore) {
	s := enrollmentOf(t, open("a"))
	of := func(code string, op domain.SpanOp) domain.SpanOp {
		op.Span.PlanCode = code
		return op
	}
	l := loadEnrollment(t, s, "start.834",
		member("91000001A", of("405", upsert("2026-01-01", ""))),
		member("91000002B", of("405", upsert("2026-01-01", ""))),
		member("91000003C", of("506", upsert("2026-01-01", ""))),
		member("91000004D", of("405", upsert("2026-01-01", "")), of("506", upsert("2026-02-01", ""))))
	if err := l.Commit(ctx, "ZZ/1", ""); err != nil {
		t.Fatal(err)
	}
	full := func(cin string, ops ...domain.SpanOp) *domain.EnrollmentChange {
		c := member(cin, ops...)
		c.Replace, c.ReplaceFrom = true, day("2026-04-01")
		return c
	}
	l = loadEnrollment(t, s, "full-405.834",
		full("91000001A", of("405", upsert("2026-04-01", "2026-04-30"))),
		full("91000004D", of("405", upsert("2026-03-01", ""))))
	n, err := l.CutAbsent(ctx, day("2026-04-01"), 0, []string{"405"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx, "ZZ/2", ""); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("cut %d members, want 1 (91000002B)", n)
	}
	planSpans := func(cin string) []string {
		m, ok, err := s.Member(ctx, cin)
		if err != nil || !ok {
			t.Fatal(cin, ok, err)
		}
		var out []string
		for _, sp := range m.Spans {
			out = append(out, sp.PlanCode+" "+sp.From.String()+".."+sp.To.String())
		}
		return out
	}
	for cin, want := range map[string][]string{
		"91000001A": {"405 2026-01-01..2026-03-31", "405 2026-04-01..2026-04-30"},
		"91000002B": {"405 2026-01-01..2026-03-31"},
		"91000003C": {"506 2026-01-01.."},
		"91000004D": {"405 2026-01-01..2026-03-31", "506 2026-02-01..", "405 2026-03-01.."},
	} {
		if got := planSpans(cin); !slices.Equal(got, want) {
			t.Errorf("%s: spans %v, want %v", cin, got, want)
		}
	}

	l = loadEnrollment(t, s, "full-none.834", full("91000001A"))
	if n, err := l.CutAbsent(ctx, day("2026-05-01"), 0, nil); err != nil || n != 0 {
		t.Errorf("full file without a code: cut %d members (%v), want 0", n, err)
	}
	if err := l.Commit(ctx, "ZZ/3", ""); err != nil {
		t.Fatal(err)
	}
	if got, want := planSpans("91000003C"), []string{"506 2026-01-01.."}; !slices.Equal(got, want) {
		t.Errorf("91000003C after a full file without a code: spans %v, want %v", got, want)
	}
}

// enrollmentFileOrder: a change file dated before the period of a full
// file loaded before for one of its plan codes (any, when it carries none)
// is superseded: Place undoes what it wrote to the members, and its load,
// committed, keeps its content from being loaded again. One dated on the
// period's first day, or of another plan code, is applied; one older than
// a change file of its plan codes applied before is applied and named out
// of order (a superseded file is not counted as applied).
func enrollmentFileOrder(t *testing.T, open func(string) store.LedgerStore) {
	s := enrollmentOf(t, open("a"))
	of := func(code string, op domain.SpanOp) domain.SpanOp {
		op.Span.PlanCode = code
		return op
	}
	place := func(l store.EnrollmentLoad, f store.EnrollmentFile) store.FileOrder {
		t.Helper()
		order, err := l.Place(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Commit(ctx, "ZZ/1", ""); err != nil {
			t.Fatal(err)
		}
		return order
	}
	planSpans := func(cin string) []string {
		t.Helper()
		m, ok, err := s.Member(ctx, cin)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		if ok {
			for _, sp := range m.Spans {
				out = append(out, sp.PlanCode+" "+sp.From.String()+".."+sp.To.String())
			}
		}
		return out
	}
	full := loadEnrollment(t, s, "full-405.834", member("91000041A", of("405", upsert("2026-04-01", ""))))
	if o := place(full, store.EnrollmentFile{Full: true, Date: day("2026-04-01"), PlanCodes: []string{"405"}}); o != (store.FileOrder{}) {
		t.Errorf("full file placed %+v", o)
	}

	l := loadEnrollment(t, s, "stale-405.834", member("91000041A", of("405", upsert("2026-01-01", ""))), member("91000042B", of("405", upsert("2026-03-01", ""))))
	o := place(l, store.EnrollmentFile{Date: day("2026-03-31"), PlanCodes: []string{"506", "405"}})
	if o.SupersededBy == nil || *o.SupersededBy != (store.LoadRef{Load: full.ID(), File: "full-405.834", Date: day("2026-04-01")}) || o.Newer != nil {
		t.Fatalf("stale change file placed %+v (by %+v)", o, o.SupersededBy)
	}
	if got := planSpans("91000041A"); !slices.Equal(got, []string{"405 2026-04-01.."}) {
		t.Errorf("91000041A after the superseded file: %v", got)
	}
	if _, ok, _ := s.Member(ctx, "91000042B"); ok {
		t.Error("the superseded file added a member")
	}
	if st, err := s.EnrollmentStatus(ctx); err != nil || st.Members != 1 || st.Loads834 != 2 {
		t.Errorf("status %+v %v, want 2 834 loads and 1 member", st, err)
	}
	if _, err := s.BeginEnrollmentLoad(ctx, store.LoadKind834, "stale-again.834", sha256.Sum256([]byte("stale-405.834"))); err == nil {
		t.Error("the superseded content loaded again")
	} else if ae := (*store.AlreadyLoadedError)(nil); !errors.As(err, &ae) || ae.Load != l.ID() {
		t.Errorf("the superseded content again: %v", err)
	}

	// Without a code (or with a loop without one): any full file.
	l = loadEnrollment(t, s, "stale-none.834", member("91000043C", upsert("2026-01-01", "")))
	if o := place(l, store.EnrollmentFile{Date: day("2026-03-01"), PlanCodes: []string{"506", ""}}); o.SupersededBy == nil || o.SupersededBy.Load != full.ID() {
		t.Errorf("change file with a loop without a code placed %+v", o)
	}

	// On the period's first day, and another plan code: applied.
	l = loadEnrollment(t, s, "first-day-405.834", member("91000042B", of("405", upsert("2026-03-01", ""))))
	if o := place(l, store.EnrollmentFile{Date: day("2026-04-01"), PlanCodes: []string{"405"}}); o != (store.FileOrder{}) {
		t.Errorf("change file of the period's first day placed %+v", o)
	}
	l = loadEnrollment(t, s, "other-506.834", member("91000044D", of("506", upsert("2026-01-01", ""))))
	other := l.ID()
	if o := place(l, store.EnrollmentFile{Date: day("2026-01-15"), PlanCodes: []string{"506"}}); o.SupersededBy != nil {
		t.Errorf("change file of another plan code placed %+v", o)
	}
	for cin, want := range map[string][]string{"91000042B": {"405 2026-03-01.."}, "91000044D": {"506 2026-01-01.."}} {
		if got := planSpans(cin); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", cin, got, want)
		}
	}

	// Out of order among change files: other-506.834 is the newest one
	// applied of 506; the superseded stale-405.834 and stale-none.834
	// (506 too, and later) were not applied and do not count, and
	// first-day-405.834 is of 405 only.
	l = loadEnrollment(t, s, "older-506.834", member("91000046F", of("506", upsert("2026-01-01", ""))))
	o = place(l, store.EnrollmentFile{Date: day("2026-01-14"), PlanCodes: []string{"506"}})
	if o.SupersededBy != nil || o.Newer == nil || *o.Newer != (store.LoadRef{Load: other, File: "other-506.834", Date: day("2026-01-15")}) {
		t.Errorf("older-506.834 placed %+v (newer %+v)", o, o.Newer)
	}
	if got := planSpans("91000046F"); !slices.Equal(got, []string{"506 2026-01-01.."}) {
		t.Errorf("the out-of-order file was not applied: %v", got)
	}
	l = loadEnrollment(t, s, "same-day-506.834", member("91000047G", of("506", upsert("2026-01-01", ""))))
	if o := place(l, store.EnrollmentFile{Date: day("2026-01-15"), PlanCodes: []string{"506"}}); o != (store.FileOrder{}) {
		t.Errorf("change file of the newest one's day placed %+v", o)
	}
}
