package store

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
)

// adtBeforeSenders is the number of adt migrations of a store made before
// a message was keyed by its sending system: those before the one that
// renames adt_messages to adt_legacy_messages.
func adtBeforeSenders(t *testing.T, migrations []string) int {
	t.Helper()
	i := slices.Index(migrations, `ALTER TABLE adt_messages RENAME TO adt_legacy_messages`)
	if i < 0 {
		t.Fatal("no migration renames adt_messages to adt_legacy_messages")
	}
	return i
}

// legacyADTStore is a store on either engine with raw access to its tables.
type legacyADTStore interface {
	ADTStore
	BeginEnrollmentLoad(ctx context.Context, kind, file string, sum [32]byte) (EnrollmentLoad, error)
}

type rawDB struct {
	exec func(q string, args ...any) error
	row  func(q string, args []any, dest ...any) error
}

// legacyReceived is when the messages recorded before sending systems
// were received.
var legacyReceived = time.Date(2026, 2, 1, 16, 0, 0, 0, time.UTC)

// writeLegacyADT writes what RecordADT wrote before sending systems were
// kept, in that schema: the keys of county's M1, M2, X8 and X9, M1 an admit
// of 91234567A (visit V1), and a merge of 90000000P into 91234567A.
func writeLegacyADT(t *testing.T, db rawDB) {
	t.Helper()
	at := legacyReceived.UnixMilli()
	for _, id := range []string{"M1", "M2", "X8", "X9"} {
		if err := db.exec(`INSERT INTO adt_messages(sender, control_id, received_at) VALUES (?, ?, ?)`, "county", id, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.exec(`INSERT INTO adt_events(sender, control_id, trigger_event, kind, cin, event_time, message_time, facility, class, admission_type, visit,
		admit, discharge, disposition, diagnoses, prior_cin, source, position, received_at) VALUES `+valuesSQL(1, 19), "county", "M1", "A01", "admit", "91234567A", at, at, "STMARYS", "I", "E", "V1",
		at, 0, "", "", "", "old.hl7", 1, at); err != nil {
		t.Fatal(err)
	}
	if err := db.exec(`INSERT INTO adt_merges(prior_cin, cin, control_id, merged_at) VALUES (?, ?, ?, ?)`, "90000000P", "91234567A", "G0", at); err != nil {
		t.Fatal(err)
	}
}

// checkLegacyADT: after the migration, a resent message whose key was
// stored before (its profile and MSH-10) is still a duplicate, from any
// facility of the profile (the old key names none); another profile's is
// new, and so is one written (MSH-7) more than adtLegacySlack after the
// last old message was received. The event stored before belongs to every sending system of its
// profile: their A08s update it and their cancels cancel it, another
// profile's do not. The merge stored before still maps its CIN; a new
// merge keeps its sending system.
func checkLegacyADT(t *testing.T, st legacyADTStore, db rawDB) {
	ctx := context.Background()
	l, err := st.BeginEnrollmentLoad(ctx, LoadKind834, "m.834", [32]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	for _, cin := range []string{"91234567A", "98765432B"} {
		c := &domain.EnrollmentChange{Enrollee: domain.Enrollee{Member: domain.Member{CIN: cin}, County: "34"},
			Ops: []domain.SpanOp{{Kind: domain.SpanUpsert, Span: domain.EligibilitySpan{From: civil.Date(20250101), PlanCode: "306", County: "34"}}}}
		if err := l.PutMember(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx, "1", ""); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)
	item := func(profile, fac, id string, kind domain.ADTKind, cin, visit string, hour int) ADTItem {
		at := t0.Add(time.Duration(hour) * time.Hour)
		return ADTItem{Sender: profile, SendingApplication: "EPIC", SendingFacility: fac, ControlID: id, Source: "new.hl7", Position: hour + 1, ReceivedAt: at,
			Event: domain.ADTEvent{Sender: profile, ControlID: id, Kind: kind, CIN: cin, VisitNumber: visit, EventTime: at, MessageTime: at, PatientClass: "I"}}
	}
	statuses := func(out []ADTOutcome) []string {
		var s []string
		for _, o := range out {
			s = append(s, o.Status)
		}
		return s
	}
	// written sets an item's MSH-7: a resend carries its first sending's.
	written := func(it ADTItem, at time.Time) ADTItem {
		it.Event.MessageTime = at
		return it
	}
	before := legacyReceived.Add(-time.Hour)
	out, err := st.RecordADT(ctx, []ADTItem{
		written(item("county", "STMARYS", "M1", domain.ADTAdmit, "91234567A", "V1", 0), before),                                            // the old M1 resent
		written(item("county", "MERCY", "M1", domain.ADTAdmit, "91234567A", "V1", 0), before),                                              // the old key names no facility
		written(item("other", "STMARYS", "M1", domain.ADTAdmit, "98765432B", "", 0), before),                                               // another profile's M1
		item("county", "STMARYS", "M3", domain.ADTAdmit, "98765432B", "", 1),                                                               // new
		written(item("county", "STMARYS", "M2", domain.ADTAdmit, "98765432B", "", 2), time.Time{}),                                         // old, no MSH-7
		written(item("county", "STMARYS", "M2", domain.ADTAdmit, "98765432B", "", 2), time.Time{}),                                         // old, twice in the batch
		written(item("county", "STMARYS", "X9", domain.ADTAdmit, "98765432B", "", 2), legacyReceived.Add(adtLegacySlack)),                  // old, at the slack's end
		written(item("county", "STMARYS", "X8", domain.ADTAdmit, "98765432B", "", 2), legacyReceived.Add(adtLegacySlack+time.Millisecond)), // written after: new
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ADTDuplicate, ADTDuplicate, ADTStored, ADTStored, ADTDuplicate, ADTDuplicate, ADTDuplicate, ADTStored}
	if got := statuses(out); !slices.Equal(got, want) {
		t.Fatalf("after the migration: %v, want %v", got, want)
	}
	upd := item("county", "MERCY", "U1", domain.ADTUpdate, "91234567A", "V1", 3)
	upd.Event.PatientClass = "O"
	prior := item("county", "STMARYS", "P1", domain.ADTRegister, "90000000P", "", 6)
	merge := item("county", "MERCY", "G1", domain.ADTMerge, "91234567A", "", 7)
	merge.Event.PriorCIN = "98765432B"
	out, err = st.RecordADT(ctx, []ADTItem{
		written(item("county", "STMARYS", "M1", domain.ADTAdmit, "91234567A", "V1", 0), before), // the old M1 again
		upd,
		item("other", "STMARYS", "C0", domain.ADTCancelAdmit, "91234567A", "", 4),
		item("county", "MERCY", "C1", domain.ADTCancelAdmit, "91234567A", "V1", 5),
		prior, // the old merge's prior CIN
		merge,
	})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{ADTDuplicate, ADTStored, ADTStored, ADTStored, ADTStored, ADTStored}
	if got := statuses(out); !slices.Equal(got, want) {
		t.Fatalf("second batch: %v, want %v", got, want)
	}
	evs, err := st.ADTEvents(ctx, "91234567A")
	if err != nil || len(evs) == 0 {
		t.Fatalf("events %v %v", evs, err)
	}
	old := evs[0]
	if old.ControlID != "M1" || old.Source != "old.hl7" || old.SendingApplication != "" || old.SendingFacility != "" {
		t.Fatalf("the event stored before: %+v", old)
	}
	if out[1].Updated != 1 || old.PatientClass != "O" {
		t.Errorf("MERCY's A08 of the profile's old event: updated %d, class %q; want 1, O", out[1].Updated, old.PatientClass)
	}
	if out[2].Cancelled != 0 || out[3].Cancelled != old.ID || old.CancelledBy != "C1" {
		t.Errorf("cancels: another profile's %d (want 0), the profile's %d (want %d); the old admit cancelled by %q", out[2].Cancelled, out[3].Cancelled, old.ID, old.CancelledBy)
	}
	// The profile's cancel goes to the providers notified of the old admit.
	if err := db.exec(`INSERT INTO adt_notices(event_id, provider_npi, received_at, written_at, file, late) VALUES (?, ?, ?, ?, ?, 0)`,
		old.ID, "1234567893", legacyReceived.UnixMilli(), legacyReceived.UnixMilli(), "adt-notices-1234567893.csv"); err != nil {
		t.Fatal(err)
	}
	pending, err := st.PendingADTNotices(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pending {
		want := []string(nil)
		if p.ID == out[3].EventID {
			want = []string{"1234567893"}
		}
		if !slices.Equal(p.CancelledNotified, want) {
			t.Errorf("pending %s %s %s: notified of the event it cancelled %v, want %v", p.Sender, p.ControlID, p.Kind, p.CancelledNotified, want)
		}
	}
	byID := map[int64]ADTEventRecord{}
	for _, ev := range evs {
		byID[ev.ID] = ev
	}
	if ev, ok := byID[out[4].EventID]; !ok || ev.ControlID != "P1" {
		t.Errorf("the old merge's prior CIN is not read as the surviving one: %+v", ev)
	}
	var sender, app, fac *string
	if err := db.row(`SELECT sender, sending_application, sending_facility FROM adt_merges WHERE prior_cin = ?`, []any{"98765432B"}, &sender, &app, &fac); err != nil {
		t.Fatal(err)
	}
	if sender == nil || app == nil || fac == nil || *sender != "county" || *app != "EPIC" || *fac != "MERCY" {
		t.Errorf("the new merge's sending system: %v %v %v", sender, app, fac)
	}
	if err := db.row(`SELECT sender, sending_application, sending_facility FROM adt_merges WHERE prior_cin = ?`, []any{"90000000P"}, &sender, &app, &fac); err != nil {
		t.Fatal(err)
	}
	if sender != nil || app != nil || fac != nil {
		t.Errorf("the old merge's sending system: %v %v %v, want unknown", sender, app, fac)
	}
	var legacy, keys, until int64
	if err := db.row(`SELECT (SELECT COUNT(*) FROM adt_legacy_messages), (SELECT COUNT(*) FROM adt_messages), (SELECT received_at FROM adt_legacy_until)`,
		nil, &legacy, &keys, &until); err != nil {
		t.Fatal(err)
	}
	// adt_messages: the new keys of both batches' items, old ones too.
	if legacy != 4 || keys != 12 || until != legacyReceived.UnixMilli() {
		t.Errorf("adt_legacy_messages %d rows (want 4), adt_messages %d (want 12), adt_legacy_until %d (want %d)", legacy, keys, until, legacyReceived.UnixMilli())
	}
}

func TestSQLiteADTLegacyMessagesStillDuplicates(t *testing.T) {
	open, upgrade := sqliteADTUpTo(t, adtBeforeSenders)
	s := open()
	writeLegacyADT(t, sqliteRaw(s))
	s.Close()
	upgrade()
	s = open()
	defer s.Close()
	checkLegacyADT(t, s, sqliteRaw(s))
}

func TestPostgresADTLegacyMessagesStillDuplicates(t *testing.T) {
	open, upgrade := postgresADTUpTo(t, adtBeforeSenders, "legacy-test")
	p := open()
	writeLegacyADT(t, postgresRaw(p))
	p.Close()
	upgrade()
	p = open()
	defer p.Close()
	checkLegacyADT(t, p, postgresRaw(p))
}

// adtBeforeNoticeRuns is the number of adt migrations of a store made
// before notices kept their run.
func adtBeforeNoticeRuns(t *testing.T, migrations []string) int {
	t.Helper()
	i := slices.IndexFunc(migrations, func(m string) bool { return strings.HasPrefix(m, `ALTER TABLE adt_notices ADD COLUMN run_id`) })
	if i < 0 {
		t.Fatal("no migration adds adt_notices.run_id")
	}
	return i
}

// writeNoticesBeforeRuns writes three notices as they were recorded before
// notices kept their run: the daemon's, not delivered yet (named with its
// ledger ID); calgw notices' (no ID in its name); the daemon's, delivered.
func writeNoticesBeforeRuns(t *testing.T, db rawDB) {
	t.Helper()
	recv := legacyReceived.UnixMilli()
	written := recv + time.Hour.Milliseconds()
	for _, n := range []struct {
		event     int64
		file      string
		delivered int64
	}{
		{1, "adt-notices-1234567893-20260201090000-17.csv", 0},
		{2, "adt-notices-1234567893-20260201090000.csv", 0},
		{3, "adt-notices-1679576722-20260201090000-17.csv", written},
	} {
		if err := db.exec(`INSERT INTO adt_notices(event_id, provider_npi, received_at, written_at, file, late, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			n.event, "1234567893", recv, written, n.file, 0, n.delivered); err != nil {
			t.Fatal(err)
		}
	}
}

// checkNoticesBeforeRuns: after the migration the daemon's notices have
// run -1 and calgw notices' run 0, so that only the daemon's undelivered
// one counts as late once its 24 hours are over.
func checkNoticesBeforeRuns(t *testing.T, st ADTStore) {
	t.Helper()
	ctx := context.Background()
	got, err := st.ADTNotices(ctx, time.Time{})
	if err != nil || len(got) != 3 {
		t.Fatalf("notices %+v %v", got, err)
	}
	runs := map[int64]int64{}
	for _, n := range got {
		runs[n.EventID] = n.RunID
	}
	if want := map[int64]int64{1: -1, 2: 0, 3: -1}; !maps.Equal(runs, want) {
		t.Errorf("runs by event %v, want %v", runs, want)
	}
	_, late, err := st.CountADTNotices(ctx, time.Time{}, legacyReceived.Add(25*time.Hour), 24*time.Hour)
	if err != nil || late != 1 {
		t.Errorf("%d late (%v), want 1: the daemon's notice not delivered", late, err)
	}
}

func TestSQLiteADTNoticesBeforeRuns(t *testing.T) {
	open, upgrade := sqliteADTUpTo(t, adtBeforeNoticeRuns)
	s := open()
	writeNoticesBeforeRuns(t, sqliteRaw(s))
	s.Close()
	upgrade()
	s = open()
	defer s.Close()
	checkNoticesBeforeRuns(t, s)
}

func TestPostgresADTNoticesBeforeRuns(t *testing.T) {
	open, upgrade := postgresADTUpTo(t, adtBeforeNoticeRuns, "notice-runs-test")
	p := open()
	writeNoticesBeforeRuns(t, postgresRaw(p))
	p.Close()
	upgrade()
	p = open()
	defer p.Close()
	checkNoticesBeforeRuns(t, p)
}

// postgresADTUpTo starts a PostgreSQL server whose ADT migrations stop
// where cut says, and returns how to open a store on it as owner and how
// to bring every migration back (done at the end of the test too).
func postgresADTUpTo(t *testing.T, cut func(*testing.T, []string) int, owner string) (open func() *Postgres, upgrade func()) {
	t.Helper()
	srv := testsrv.Postgres(t)
	all := postgresComponents["adt"]
	postgresComponents["adt"] = all[:cut(t, all)]
	upgrade = func() { postgresComponents["adt"] = all }
	t.Cleanup(upgrade)
	return func() *Postgres {
		p, err := OpenPostgres(context.Background(), srv.DSN, PostgresOptions{Owner: owner})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}, upgrade
}

// sqliteADTUpTo makes a SQLite store's ADT migrations stop where cut says,
// and returns how to open the test's store and how to bring every
// migration back (done at the end of the test too).
func sqliteADTUpTo(t *testing.T, cut func(*testing.T, []string) int) (open func() *SQLite, upgrade func()) {
	t.Helper()
	dir := t.TempDir()
	all := sqliteComponents["adt"]
	sqliteComponents["adt"] = all[:cut(t, all)]
	upgrade = func() { sqliteComponents["adt"] = all }
	t.Cleanup(upgrade)
	return func() *SQLite {
		s, err := OpenSQLite(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, upgrade
}

// sqliteRaw runs SQL on s's own pool, around the store's methods.
func sqliteRaw(s *SQLite) rawDB {
	ctx := context.Background()
	return rawDB{
		exec: func(q string, args ...any) error { _, err := s.db.ExecContext(ctx, q, args...); return err },
		row: func(q string, args []any, dest ...any) error {
			return s.db.QueryRowContext(ctx, q, args...).Scan(dest...)
		},
	}
}

// postgresRaw runs SQL written with ? placeholders on p's pool.
func postgresRaw(p *Postgres) rawDB {
	ctx := context.Background()
	return rawDB{
		exec: func(q string, args ...any) error { _, err := p.pool.Exec(ctx, pgSQL(q), args...); return err },
		row: func(q string, args []any, dest ...any) error {
			return p.pool.QueryRow(ctx, pgSQL(q), args...).Scan(dest...)
		},
	}
}

// TestSQLiteADTRawByteKeysStillDuplicates: keys an earlier release stored
// on SQLite with the raw bytes of a header that was not UTF-8 (a sender
// writing Latin-1) still make its resent message a duplicate, now that the
// key is written with domain.KeyText: a sending-system key (profile,
// MSH-3.1, MSH-4.1, MSH-10) and a key of before sending systems (profile
// and MSH-10). A message whose bytes differ, or that is plain, is new.
func TestSQLiteADTRawByteKeysStillDuplicates(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	raw := sqliteRaw(s)
	at := legacyReceived.UnixMilli()
	if err := raw.exec(`INSERT INTO adt_messages(message_key, received_at) VALUES (?, ?)`,
		domain.SenderKey("county", "EPIC", "H\xd4P", "MSG\xe91"), at); err != nil {
		t.Fatal(err)
	}
	if err := raw.exec(`INSERT INTO adt_legacy_messages(sender, control_id, received_at) VALUES (?, ?, ?)`, "county", "OLD\xe92", at); err != nil {
		t.Fatal(err)
	}
	if err := raw.exec(`UPDATE adt_legacy_until SET received_at = ?`, at); err != nil {
		t.Fatal(err)
	}
	item := func(fac, id string) ADTItem {
		fac, id = domain.KeyText(fac), domain.KeyText(id)
		return ADTItem{Sender: "county", SendingApplication: "EPIC", SendingFacility: fac, ControlID: id, Source: "new.hl7", Position: 1, ReceivedAt: legacyReceived,
			Event: domain.ADTEvent{Sender: "county", ControlID: id, Kind: domain.ADTAdmit, CIN: "91234567A", EventTime: legacyReceived, MessageTime: legacyReceived, PatientClass: "I"}}
	}
	out, err := s.RecordADT(ctx, []ADTItem{
		item("H\xd4P", "MSG\xe91"),  // stored raw with its sending system
		item("H\xc9P", "MSG\xe91"),  // another facility's bytes
		item("H\xd4P", "MSG\xe93"),  // another MSH-10
		item("STMARYS", "OLD\xe92"), // stored raw before sending systems
		item("STMARYS", "OLD\xe94"), // new
		item("STMARYS", `MSG\xE91`), // the escape itself, sent as text: new
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range out {
		got = append(got, o.Status)
	}
	want := []string{ADTDuplicate, "", "", ADTDuplicate, "", ""}
	for i := range want {
		if want[i] == "" {
			want[i] = ADTException // no 834 loaded: kept as an exception, not a duplicate
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}
