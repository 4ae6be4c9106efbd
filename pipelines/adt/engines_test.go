package adt

import (
	"bytes"
	"context"
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
