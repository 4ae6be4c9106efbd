package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// benchLedger takes one file through the ledger for each iteration, as the
// daemon does: register, take, claim, content, outputs, delivery, archive,
// with a look for the next due entry and a lease renewal.
func benchLedger(b *testing.B, s store.LedgerStore) {
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		id, _, err := s.RegisterFile(ctx, store.FileNotice{Source: "inbox", Path: fmt.Sprint(i), Name: "f.csv", Kind: "invoice", ModTime: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.NextFileDue(ctx, "a", "node1"); err != nil {
			b.Fatal(err)
		}
		if e, err := s.TakeFile(ctx, "a", "node1", time.Minute); err != nil || e == nil || e.ID != id {
			b.Fatalf("take: %+v %v", e, err)
		}
		steps := []func() error{
			func() error { _, err := s.ClaimFile(ctx, id, "a", "claimed/f.csv", "/work"); return err },
			func() error { _, err := s.SetFileContent(ctx, id, "a", fmt.Sprint("h", i), "/work"); return err },
			func() error { return s.RenewLeases(ctx, "a", time.Minute) },
			func() error {
				_, err := s.FileProcessed(ctx, id, "a", []store.FileOutput{{Role: "encounters", Destination: "plan", Name: "e.837"}}, "")
				return err
			},
			func() error { return s.FileOutputDelivery(ctx, id, "a", 0, true, true) },
			func() error { _, err := s.DecideFile(ctx, id, "a", store.FileArchive, ""); return err },
			func() error { return s.FinishFile(ctx, id, "a", store.FileArchived, "archive/f.csv") },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkLedgerSQLite(b *testing.B) {
	s, err := store.OpenSQLite(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchLedger(b, s)
}

func BenchmarkLedgerPostgres(b *testing.B) {
	dbs := &pgDatabases{srv: testsrv.Postgres(b)}
	benchLedger(b, openPG(b, dbs.fresh(b), "a", time.Minute))
}
