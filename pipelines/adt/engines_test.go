package adt

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/genadt"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// engineStore is what the test needs of either engine.
type engineStore interface {
	Store
	enrollmentLoader
	ADTEvents(ctx context.Context, cin string) ([]store.ADTEventRecord, error)
}

// A generated batch (several store batches, each over several multi-row
// statements) gives the same result and the same events on SQLite and
// PostgreSQL: one member's admits, discharges and registrations each
// updated by the A08 of their visit, and the whole file again all
// duplicates.
func TestProcessEngines(t *testing.T) {
	opts := gen834.Options{}
	var file bytes.Buffer
	if err := genadt.Write(&file, 5000, 1, opts); err != nil {
		t.Fatal(err)
	}
	enrolled := opts.CIN(0)
	sqlite := newStore(t, enrolled)
	srv := testsrv.Postgres(t)
	pg, err := store.OpenPostgres(ctx, srv.DSN, store.PostgresOptions{Owner: "adt-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	loadMembers(t, pg, enrolled)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var results [2]Result
	var events [2][]store.ADTEventRecord
	for i, st := range []engineStore{sqlite, pg} {
		p := &Processor{Store: st, Batch: 1500}
		res, err := p.Process(ctx, FileSource("gen.hl7", bytes.NewReader(file.Bytes()), at))
		if err != nil {
			t.Fatal(err)
		}
		// Every fourth message is an A08 of the visit of the three before
		// it (an admit, a discharge and a registration): it updates them.
		if res.Messages != 5000 || res.Stored != 5000 || res.Exceptions != 0 || res.Duplicates != 0 || res.Updated != 3750 {
			t.Errorf("engine %d: %+v", i, res.Summary())
		}
		again, err := p.Process(ctx, FileSource("gen.hl7", bytes.NewReader(file.Bytes()), at))
		if err != nil || again.Duplicates != 5000 {
			t.Errorf("engine %d again: %s %v", i, again.Summary(), err)
		}
		results[i] = res
		if events[i], err = st.ADTEvents(ctx, enrolled); err != nil {
			t.Fatal(err)
		}
	}
	if results[0].Summary() != results[1].Summary() {
		t.Errorf("SQLite %s\nPostgreSQL %s", results[0].Summary(), results[1].Summary())
	}
	if len(events[0]) != 5000 || len(events[1]) != 5000 {
		t.Fatalf("events: SQLite %d, PostgreSQL %d", len(events[0]), len(events[1]))
	}
	for j := range events[0] {
		a, b := events[0][j], events[1][j]
		a.ID, b.ID = 0, 0
		if a.ControlID != b.ControlID || a.Kind != b.Kind || a.PatientClass != b.PatientClass || a.VisitNumber != b.VisitNumber ||
			!a.AdmitTime.Equal(b.AdmitTime) || !a.DischargeTime.Equal(b.DischargeTime) || a.Disposition != b.Disposition || a.Position != b.Position {
			t.Fatalf("event %d:\nSQLite     %+v\nPostgreSQL %+v", j, a, b)
		}
	}
}

type enrollmentLoader interface {
	BeginEnrollmentLoad(ctx context.Context, kind, file string, sum [32]byte) (store.EnrollmentLoad, error)
}

func loadMembers(t testing.TB, st enrollmentLoader, cins ...string) {
	t.Helper()
	l, err := st.BeginEnrollmentLoad(ctx, store.LoadKind834, "m.834", [32]byte{byte(len(cins))})
	if err != nil {
		t.Fatal(err)
	}
	for _, cin := range cins {
		c := &domain.EnrollmentChange{Enrollee: domain.Enrollee{Member: domain.Member{CIN: cin}, County: "34"},
			Ops: []domain.SpanOp{{Kind: domain.SpanUpsert, Span: domain.EligibilitySpan{From: civil.Date(20250101), PlanCode: "306", County: "34"}}}}
		if err := l.PutMember(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx, "1", "test"); err != nil {
		t.Fatal(err)
	}
}

// Inbox messages from two facilities whose MSH-4 differ only in Latin-1
// bytes, with the same MSH-10, a Latin-1 MSH-10 and PV1-3.4, and one of
// them an exception: on either engine both are events, each under its own
// sending system (the facility as domain.KeyText writes it, as the inbox
// keys it), the message after them is processed too, and the inbox read
// again is all duplicates.
func TestDrainInboxOddBytesEngines(t *testing.T) {
	srv := testsrv.Postgres(t)
	pg, err := store.OpenPostgres(ctx, srv.DSN, store.PostgresOptions{Owner: "adt-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	loadMembers(t, pg, known)
	type inboxStore interface {
		engineStore
		store.Inbox
		ADTExceptions(ctx context.Context, since time.Time) ([]store.ADTExceptionRecord, error)
	}
	at := time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC)
	msg := func(fac, id, cin string) store.InboxMessage {
		raw := strings.Replace(adtMsg(id, "A01", cin), "|EPIC|STMARYS|", "|EPIC|"+fac+"|", 1)
		raw = strings.Replace(raw, "PV1|1|I|4W^^^STMARYS", "PV1|1|I|4W^^^"+fac, 1)
		return store.InboxMessage{ReceivedAt: at, Remote: "127.0.0.1:5000", SendingApplication: "EPIC",
			SendingFacility: domain.KeyText(fac), ControlID: domain.KeyText(id), Raw: []byte(raw)}
	}
	for _, eng := range []struct {
		name string
		st   inboxStore
	}{{"sqlite", newStore(t, known)}, {"postgres", pg}} {
		t.Run(eng.name, func(t *testing.T) {
			st := eng.st
			if _, err := st.InboxAdd(ctx, []store.InboxMessage{msg("H\xd4P", "K1", known), msg("H\xc9P", "K1", known),
				msg("H\xd4P", "K\xe92", unknown), msg("STMARYS", "K3", known)}); err != nil {
				t.Fatal(err)
			}
			p := &Processor{Store: st}
			res, err := p.DrainInbox(ctx, st, 0)
			if err != nil || res.Messages != 4 || res.Stored != 3 || res.Exceptions != 1 {
				t.Fatalf("drain: %s %v", res.Summary(), err)
			}
			evs, err := st.ADTEvents(ctx, known)
			if err != nil || len(evs) != 3 {
				t.Fatalf("events %d %v", len(evs), err)
			}
			for i, want := range []string{`H\xD4P`, `H\xC9P`, "STMARYS"} {
				if evs[i].SendingFacility != want || evs[i].Facility != want || evs[i].ControlID != []string{"K1", "K1", "K3"}[i] {
					t.Errorf("event %d: facility %q %q, control ID %q", i, evs[i].SendingFacility, evs[i].Facility, evs[i].ControlID)
				}
			}
			exc, err := st.ADTExceptions(ctx, time.Time{})
			if err != nil || len(exc) != 1 || exc[0].ControlID != `K\xE92` {
				t.Fatalf("exceptions %+v %v", exc, err)
			}
			pending, _ := st.InboxPending(ctx, 10)
			if len(pending) != 0 {
				t.Fatalf("%d still pending", len(pending))
			}
			// Read again (a crash before the inbox was marked): all duplicates.
			var src Inputs
			for i, m := range []store.InboxMessage{msg("H\xd4P", "K1", known), msg("H\xc9P", "K1", known), msg("H\xd4P", "K\xe92", unknown)} {
				src = append(src, RawInputs(InboxSource, i+1, m.Raw, at)...)
			}
			if res, err := p.Process(ctx, &src); err != nil || res.Duplicates != 3 {
				t.Errorf("again: %s %v", res.Summary(), err)
			}
		})
	}
}

// A message the codec cannot read whose MSH-10 is Latin-1 is an exception
// on PostgreSQL too, its control ID written by domain.KeyText.
func TestBrokenOddBytesPostgres(t *testing.T) {
	srv := testsrv.Postgres(t)
	pg, err := store.OpenPostgres(ctx, srv.DSN, store.PostgresOptions{Owner: "adt-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	raw := "MSH|^~\\&|EPIC|H\xd4P|GW|PLAN|20260301083000||ADT^A01|K\xe91|P|2.5.1\rPID|1\rnot a segment\r"
	src := Inputs(RawInputs(InboxSource, 1, []byte(raw), time.Now()))
	res, err := (&Processor{Store: pg}).Process(ctx, &src)
	if err != nil || res.Exceptions != 1 || len(res.Problems) != 1 || res.Problems[0].ControlID != `K\xE91` {
		t.Fatalf("%s %+v %v", res.Summary(), res.Problems, err)
	}
}
