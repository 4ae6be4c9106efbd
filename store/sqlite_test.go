package store

import (
	"context"
	"errors"
	"testing"
)

func openTest(t *testing.T) (*SQLite, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func key(hi, lo byte) (k [16]byte) {
	k[7], k[15] = hi, lo
	return k
}

func TestControlNumbersPersistAndNeverRepeat(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	for want := int64(1); want <= 3; want++ {
		if got, err := s.NextControlNumber(ctx, "ISA/a"); err != nil || got != want {
			t.Fatalf("next = %d %v, want %d", got, err, want)
		}
	}
	if got, _ := s.NextControlNumber(ctx, "ISA/b"); got != 1 {
		t.Errorf("independent scope starts at %d", got)
	}
	s.Close()
	s2, err := OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got, _ := s2.NextControlNumber(ctx, "ISA/a"); got != 4 {
		t.Errorf("after reopen next = %d, want 4", got)
	}
	// Wrap after 999999999.
	if _, err := s2.db.Exec(`UPDATE control_numbers SET last = ? WHERE scope = 'ISA/a'`, MaxControlNumber); err != nil {
		t.Fatal(err)
	}
	if got, _ := s2.NextControlNumber(ctx, "ISA/a"); got != 1 {
		t.Errorf("after max next = %d, want 1", got)
	}
}

func TestRecordLinesDuplicates(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	run1, _ := s.BeginRun(ctx, "convert", "a.csv")
	prior, err := s.RecordLines(ctx, run1, []Line{
		{Key: key(1, 1), Control: "1-1", Invoice: "INV-1", LineNo: "1"},
		{Key: key(2, 2), Control: "1-2", Invoice: "INV-1", LineNo: "2"},
		{Key: key(1, 1), Control: "1-3", Invoice: "INV-2", LineNo: "1"}, // same line again in this run
	})
	if err != nil {
		t.Fatal(err)
	}
	if prior[0] != nil || prior[1] != nil || prior[2] == nil || prior[2].Control != "1-1" || prior[2].Run != run1 {
		t.Fatalf("first run priors = %+v", prior)
	}
	if err := s.MarkRunWritten(ctx, run1, "out.tmp", "out.837"); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteRun(ctx, run1, "ok"); err != nil {
		t.Fatal(err)
	}
	run2, _ := s.BeginRun(ctx, "convert", "a.csv")
	prior, err = s.RecordLines(ctx, run2, []Line{{Key: key(2, 2), Control: "2-1"}, {Key: key(3, 3), Control: "2-2"}})
	if err != nil {
		t.Fatal(err)
	}
	if prior[0] == nil || prior[0].Invoice != "INV-1" || prior[0].LineNo != "2" || prior[0].Output != "out.837" || prior[1] != nil {
		t.Fatalf("second run priors = %+v %+v", prior[0], prior[1])
	}
}

func TestRowidCollisionIsNotADuplicate(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	run, _ := s.BeginRun(ctx, "convert", "x")
	// Same high 64 bits, different low 64 bits: two different lines.
	prior, err := s.RecordLines(ctx, run, []Line{{Key: key(9, 1), Control: "a"}, {Key: key(9, 2), Control: "b"}, {Key: key(9, 2), Control: "c"}})
	if err != nil {
		t.Fatal(err)
	}
	if prior[0] != nil || prior[1] != nil {
		t.Fatalf("collision treated as duplicate: %+v %+v", prior[0], prior[1])
	}
	if prior[2] == nil || prior[2].Control != "b" {
		t.Fatalf("duplicate of a colliding line not found: %+v", prior[2])
	}
}

func TestAbortForgetsLinesAndPendingRuns(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	run, _ := s.BeginRun(ctx, "convert", "x")
	if _, err := s.RecordLines(ctx, run, []Line{{Key: key(5, 5), Control: "a"}, {Key: key(9, 1), Control: "b"}, {Key: key(9, 2), Control: "c"}}); err != nil {
		t.Fatal(err)
	}
	pending, err := s.PendingRuns(ctx)
	if err != nil || len(pending) != 1 || pending[0].ID != run || pending[0].Status != RunOpen {
		t.Fatalf("pending = %+v %v", pending, err)
	}
	if err := s.AbortRun(ctx, run, "crashed"); err != nil {
		t.Fatal(err)
	}
	if err := s.AbortRun(ctx, run, "again"); !errors.Is(err, ErrNoRun) {
		t.Errorf("second abort err = %v", err)
	}
	run2, _ := s.BeginRun(ctx, "convert", "x")
	prior, err := s.RecordLines(ctx, run2, []Line{{Key: key(5, 5)}, {Key: key(9, 1)}, {Key: key(9, 2)}})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range prior {
		if p != nil {
			t.Errorf("line %d of an aborted run still counts as sent: %+v", i, p)
		}
	}
	if pending, _ := s.PendingRuns(ctx); len(pending) != 1 || pending[0].ID != run2 {
		t.Errorf("pending after abort = %+v", pending)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	if _, err := s.db.Exec(`PRAGMA user_version = 999`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := OpenSQLite(ctx, dir); err == nil {
		t.Fatal("opened a store with a newer schema")
	}
}

func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	unlock, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockDir(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock err = %v, want ErrLocked", err)
	}
	unlock()
	unlock2, err := LockDir(dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}
