package adt

import (
	"context"
	"encoding/csv"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Notices go only to the ECM provider whose authorization is in force on
// the event date; a notice 24 hours after its event was received is late;
// an event is notified once.
func TestNoticesOnlyToTheRightProvider(t *testing.T) {
	const a, b, c = "91234567A", "92345678B", "93456789C"
	st := newStore(t, a, b, c)
	l, err := st.BeginEnrollmentLoad(ctx, store.LoadKindAuth, "auth.csv", [32]byte{9})
	if err != nil {
		t.Fatal(err)
	}
	for _, au := range []domain.Authorization{
		{Number: "AU1", CIN: a, Service: "ECM", ProviderNPI: "1111111111", Status: domain.AuthApproved, Type: domain.AuthInitial, From: civil.Date(20260201)},
		{Number: "AU2", CIN: b, Service: "ECM", ProviderNPI: "2222222222", Status: domain.AuthApproved, Type: domain.AuthInitial, From: civil.Date(20260401)},
	} {
		if err := l.PutAuthorization(ctx, &au); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)
	in := Inputs{
		RawInputs("f", 1, []byte(adtMsg("N1", "A01", a)), now.Add(-30*time.Hour))[0],
		RawInputs("f", 2, []byte(adtMsg("N2", "A01", b)), now.Add(-time.Hour))[0],
		RawInputs("f", 3, []byte(adtMsg("N3", "A01", c)), now.Add(-time.Hour))[0],
		RawInputs("f", 4, []byte(adtMsg("N4", "A03", a)), now.Add(-time.Hour))[0],
		RawInputs("f", 5, []byte(adtMsg("N5", "A08", a)), now.Add(-time.Hour))[0],
	}
	if res, err := (&Processor{Store: st}).Process(ctx, &in); err != nil || res.Stored != 5 {
		t.Fatalf("%+v %v", res, err)
	}
	out := t.TempDir()
	res, err := WriteNotices(ctx, st, out, nil, time.UTC, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 5 || res.Notices != 2 || res.Late != 1 || len(res.Files) != 1 || res.Files[0].ProviderNPI != "1111111111" || res.Files[0].Late != 1 {
		t.Fatalf("result %+v", res)
	}
	f, _ := os.Open(res.Files[0].Path)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(NoticeHeader, ",") {
		t.Fatalf("rows %v %v", rows, err)
	}
	if r := rows[1]; r[0] != a || r[1] != "admit" || r[12] != "N1" || r[13] != "2026-03-01T10:00:00Z" || r[14] != "2026-03-02T16:00:00Z" || r[15] != "Y" {
		t.Errorf("row %v", r)
	}
	if r := rows[2]; r[1] != "discharge" || r[15] != "N" {
		t.Errorf("row %v", r)
	}
	for _, r := range rows {
		if r[0] == b || r[0] == c {
			t.Errorf("a notice of another provider's or an unauthorized member: %v", r)
		}
	}
	recorded, _ := st.ADTNotices(ctx, time.Time{})
	if len(recorded) != 2 || !recorded[0].Late || recorded[0].File == "" || !recorded[0].WrittenAt.Equal(now) {
		t.Errorf("recorded %+v", recorded)
	}
	again, err := WriteNotices(ctx, st, out, nil, time.UTC, func() time.Time { return now })
	if err != nil || again.Events != 0 || again.Notices != 0 {
		t.Errorf("again %+v %v", again, err)
	}
}

// authorizeECM gives cin an approved ECM authorization of npi from
// 2026-01-01.
func authorizeECM(t *testing.T, st *store.SQLite, cin, npi string) {
	t.Helper()
	l, err := st.BeginEnrollmentLoad(ctx, store.LoadKindAuth, "auth-"+cin+".csv", [32]byte{7})
	if err != nil {
		t.Fatal(err)
	}
	au := domain.Authorization{Number: "AU-" + cin, CIN: cin, Service: "ECM", ProviderNPI: npi, Status: domain.AuthApproved, Type: domain.AuthInitial, From: civil.Date(20260101)}
	if err := l.PutAuthorization(ctx, &au); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
}

// readNoticeRows returns the data rows of every notice file in dir, by
// file name.
func readNoticeRows(t *testing.T, dir string) map[string]int {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "adt-notices-*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = len(rows) - 1
	}
	return out
}

// More events than one batch (5,000) for one provider, written within one
// second: each batch gets its own file, no file replaces another, and the
// files on disk hold exactly the notices recorded, each in the file its
// record names. A second run in the same second takes the next numbers.
func TestNoticeBatchesInOneSecondKeepTheirFiles(t *testing.T) {
	const npi = "1111111111"
	st := newStore(t, known)
	authorizeECM(t, st, known, npi)
	recv := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var in Inputs
	for i := range 5003 {
		in = append(in, RawInputs("f", i+1, []byte(adtMsg("B"+strconv.Itoa(i), "A01", known)), recv)...)
	}
	if res, err := (&Processor{Store: st}).Process(ctx, &in); err != nil || res.Stored != 5003 {
		t.Fatalf("%+v %v", res, err)
	}
	out := t.TempDir()
	now := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(100 * time.Millisecond); return now }
	res, err := WriteNotices(ctx, st, out, nil, time.UTC, clock)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"adt-notices-" + npi + "-20260301110000-1.csv": 5000, "adt-notices-" + npi + "-20260301110000-2.csv": 3}
	if got := readNoticeRows(t, out); !maps.Equal(got, want) || res.Notices != 5003 || len(res.Files) != 2 {
		t.Fatalf("files on disk %v (want %v), result %d notices in %d files", got, want, res.Notices, len(res.Files))
	}
	recorded, err := st.ADTNotices(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	byFile := map[string]int{}
	for _, n := range recorded {
		byFile[n.File]++
	}
	if !maps.Equal(byFile, want) {
		t.Errorf("recorded notices by file %v, want %v", byFile, want)
	}

	// A second run in the same second: its file takes the next number.
	in = RawInputs("f", 1, []byte(adtMsg("C1", "A03", known)), recv)
	if res, err := (&Processor{Store: st}).Process(ctx, &in); err != nil || res.Stored != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	now = time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	if _, err := WriteNotices(ctx, st, out, nil, time.UTC, clock); err != nil {
		t.Fatal(err)
	}
	want["adt-notices-"+npi+"-20260301110000-3.csv"] = 1
	if got := readNoticeRows(t, out); !maps.Equal(got, want) {
		t.Errorf("after a second run in the same second the files are %v, want %v", got, want)
	}
}

// An approved ECM authorization without an end date is in force for its
// policy period only (12 months for an initial one): an event after that
// goes to no one, and an event within it to the provider.
func TestNoticesAuthorizationPolicyPeriod(t *testing.T) {
	const a, b = "91234567A", "92345678B"
	st := newStore(t, a, b)
	l, err := st.BeginEnrollmentLoad(ctx, store.LoadKindAuth, "auth.csv", [32]byte{9})
	if err != nil {
		t.Fatal(err)
	}
	for _, au := range []domain.Authorization{
		{Number: "AU1", CIN: a, Service: "ECM", ProviderNPI: "1111111111", Status: domain.AuthApproved, Type: domain.AuthInitial, From: civil.Date(20250101)},
		{Number: "AU2", CIN: b, Service: "ECM", ProviderNPI: "2222222222", Status: domain.AuthApproved, Type: domain.AuthInitial, From: civil.Date(20250401)},
	} {
		if err := l.PutAuthorization(ctx, &au); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)
	in := Inputs{
		RawInputs("f", 1, []byte(adtMsg("P1", "A01", a)), now.Add(-time.Hour))[0],
		RawInputs("f", 2, []byte(adtMsg("P2", "A01", b)), now.Add(-time.Hour))[0],
	}
	if res, err := (&Processor{Store: st}).Process(ctx, &in); err != nil || res.Stored != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	res, err := WriteNotices(ctx, st, t.TempDir(), rules.DefaultEligibilityTables(), time.UTC, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 2 || res.Notices != 1 || len(res.Files) != 1 || res.Files[0].ProviderNPI != "2222222222" {
		t.Fatalf("result %+v, want one notice, to 2222222222 (1111111111's authorization ended 2025-12-31)", res)
	}
}

// adtMsgOn is adtMsg with its event and message time on day (YYYYMMDD).
func adtMsgOn(id, trigger, cin, day string) string {
	return strings.ReplaceAll(adtMsg(id, trigger, cin), "20260301", day)
}

// A cancel goes to the providers notified of the event it cancelled, on
// either engine: not to a provider authorized on the cancel's date only,
// and to no one when the event was never notified (no authorization in
// force on its date, or cancelled before the job handled it, in the same
// batch as its cancel) or the cancel cancelled nothing.
func TestCancelNoticeGoesToTheProvidersOfTheEvent(t *testing.T) {
	const a, b, c = "91234567A", "92345678B", "93456789C"
	const p1, p2 = "1111111111", "2222222222"
	type noticeStore interface {
		engineStore
		NoticeStore
		ADTNotices(ctx context.Context, since time.Time) ([]store.ADTNotice, error)
	}
	for _, eng := range []struct {
		name string
		open func(t *testing.T) noticeStore
	}{
		{"sqlite", func(t *testing.T) noticeStore { return newStore(t, a, b, c) }},
		{"postgres", func(t *testing.T) noticeStore {
			srv := testsrv.Postgres(t)
			pg, err := store.OpenPostgres(ctx, srv.DSN, store.PostgresOptions{Owner: "adt-test"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pg.Close() })
			loadMembers(t, pg, a, b, c)
			return pg
		}},
	} {
		t.Run(eng.name, func(t *testing.T) {
			st := eng.open(t)
			l, err := st.BeginEnrollmentLoad(ctx, store.LoadKindAuth, "auth.csv", [32]byte{9})
			if err != nil {
				t.Fatal(err)
			}
			for _, au := range []domain.Authorization{
				// a: p1 through 2026-03-05 (the admit), p2 from 2026-03-10 (the cancels)
				{Number: "AU1", CIN: a, Service: "ECM", ProviderNPI: p1, Status: domain.AuthApproved, Type: domain.AuthInitial, From: civil.Date(20260201), To: civil.Date(20260305)},
				{Number: "AU2", CIN: a, Service: "ECM", ProviderNPI: p2, Status: domain.AuthApproved, Type: domain.AuthInitial, From: civil.Date(20260310)},
				// b: p2 from 2026-03-10 only, after the admit
				{Number: "AU3", CIN: b, Service: "ECM", ProviderNPI: p2, Status: domain.AuthApproved, Type: domain.AuthInitial, From: civil.Date(20260310)},
				// c: p1 throughout
				{Number: "AU4", CIN: c, Service: "ECM", ProviderNPI: p1, Status: domain.AuthApproved, Type: domain.AuthInitial, From: civil.Date(20260201)},
			} {
				if err := l.PutAuthorization(ctx, &au); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Commit(ctx, "", ""); err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 3, 12, 18, 0, 0, 0, time.UTC)
			process := func(msgs ...string) {
				t.Helper()
				var in Inputs
				for i, m := range msgs {
					in = append(in, RawInputs("f", i+1, []byte(m), now.Add(-time.Hour))...)
				}
				if res, err := (&Processor{Store: st}).Process(ctx, &in); err != nil || res.Stored != len(msgs) {
					t.Fatalf("%s %v", res.Summary(), err)
				}
			}
			notices := func() NoticeResult {
				t.Helper()
				res, err := WriteNotices(ctx, st, t.TempDir(), nil, time.UTC, func() time.Time { return now })
				if err != nil {
					t.Fatal(err)
				}
				return res
			}

			// a's admit goes to p1, b's to no one.
			process(adtMsgOn("AD1", "A01", a, "20260301"), adtMsgOn("AD2", "A01", b, "20260301"))
			if res := notices(); res.Events != 2 || res.Notices != 1 || len(res.Files) != 1 || res.Files[0].ProviderNPI != p1 {
				t.Fatalf("admits: %+v", res)
			}
			// The cancels, dated when p2 is a's and b's provider: a's admit's
			// goes to p1, b's to no one; c's admit and its cancel, handled in
			// one batch, go to no one; a cancel of a transfer a never had goes
			// to no one.
			process(adtMsgOn("CA1", "A11", a, "20260312"), adtMsgOn("CA2", "A11", b, "20260312"),
				adtMsgOn("AD3", "A01", c, "20260301"), adtMsgOn("CA3", "A11", c, "20260312"),
				adtMsgOn("CT1", "A12", a, "20260312"))
			res := notices()
			if res.Events != 5 || res.Notices != 1 || len(res.Files) != 1 || res.Files[0].ProviderNPI != p1 {
				t.Fatalf("cancels: %+v, want one notice, a's cancel-admit to %s", res, p1)
			}
			f, err := os.Open(res.Files[0].Path)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(f).ReadAll()
			f.Close()
			if err != nil || len(rows) != 2 || rows[1][0] != a || rows[1][1] != "cancel-admit" || rows[1][12] != "CA1" {
				t.Errorf("cancel notice rows %v %v", rows, err)
			}
			recorded, err := st.ADTNotices(ctx, time.Time{})
			if err != nil || len(recorded) != 2 || recorded[0].ProviderNPI != p1 || recorded[1].ProviderNPI != p1 {
				t.Errorf("recorded %+v %v", recorded, err)
			}
		})
	}
}
