package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
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

func begin(t *testing.T, s *SQLite) Run {
	t.Helper()
	r, err := s.BeginRun(context.Background(), "convert", "{}")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func record(t *testing.T, r Run, lines ...Line) []*PriorLine {
	t.Helper()
	p, err := r.RecordLines(context.Background(), lines)
	if err != nil {
		t.Fatal(err)
	}
	return p
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
	if _, err := s2.db.Exec(`UPDATE control_numbers SET last = ? WHERE scope = 'ISA/a'`, MaxControlNumber); err != nil {
		t.Fatal(err)
	}
	if got, _ := s2.NextControlNumber(ctx, "ISA/a"); got != 1 {
		t.Errorf("after max next = %d, want 1", got)
	}
}

func TestRunControlNumbersRollBackWithTheRun(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	r := begin(t, s)
	if n, _ := r.NextControlNumber(ctx, "ST/x"); n != 1 {
		t.Fatalf("first ST = %d", n)
	}
	r.Abandon(ctx, "test")
	r2 := begin(t, s)
	if n, _ := r2.NextControlNumber(ctx, "ST/x"); n != 1 {
		t.Errorf("ST after an abandoned run = %d, want 1 (the abandoned number never left the run)", n)
	}
	r2.Written(ctx, "", "")
	r3 := begin(t, s)
	if n, _ := r3.NextControlNumber(ctx, "ST/x"); n != 2 {
		t.Errorf("ST after a written run = %d, want 2", n)
	}
	r3.Abandon(ctx, "test")
}

func TestRecordLinesDuplicates(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	run1 := begin(t, s)
	prior := record(t, run1,
		Line{Key: key(1, 1), Control: "1-1", Invoice: "INV-1", LineNo: "1"},
		Line{Key: key(2, 2), Control: "1-2", Invoice: "INV-1", LineNo: "2"},
		Line{Key: key(1, 1), Control: "1-3", Invoice: "INV-2", LineNo: "1"}) // same line again in this run
	if prior[0] != nil || prior[1] != nil || prior[2] == nil || prior[2].Control != "1-1" || prior[2].Run != run1.ID() {
		t.Fatalf("first run priors = %+v", prior)
	}
	if err := run1.Written(ctx, "out.tmp", "out.837"); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteRun(ctx, run1.ID(), "ok"); err != nil {
		t.Fatal(err)
	}
	run2 := begin(t, s)
	prior = record(t, run2, Line{Key: key(2, 2), Control: "2-1"}, Line{Key: key(3, 3), Control: "2-2"})
	if prior[0] == nil || prior[0].Invoice != "INV-1" || prior[0].LineNo != "2" || prior[0].Output != "out.837" || prior[1] != nil {
		t.Fatalf("second run priors = %+v %+v", prior[0], prior[1])
	}
	run2.Abandon(ctx, "test")
}

func TestRowidCollisionIsNotADuplicate(t *testing.T) {
	s, _ := openTest(t)
	run := begin(t, s)
	defer run.Abandon(context.Background(), "test")
	// Same high 64 bits, different low 64 bits: two different lines.
	prior := record(t, run, Line{Key: key(9, 1), Control: "a"}, Line{Key: key(9, 2), Control: "b"}, Line{Key: key(9, 2), Control: "c"})
	if prior[0] != nil || prior[1] != nil {
		t.Fatalf("collision treated as duplicate: %+v %+v", prior[0], prior[1])
	}
	if prior[2] == nil || prior[2].Control != "b" {
		t.Fatalf("duplicate of a colliding line not found: %+v", prior[2])
	}
}

// A check run looks its lines up instead of inserting them: it must find
// the same earlier lines a run that inserts them finds (sent lines, a
// sent line kept as a rowid collision, a line earlier in the run), and
// take a key sharing only the high half for another line.
// sendTwo commits a run that sent s-1 (key 9/1) and s-2 (key 9/2, a
// collision: the same high half) in sent.837.
func sendTwo(t *testing.T, s *SQLite) Run {
	t.Helper()
	run := begin(t, s)
	record(t, run, Line{Key: key(9, 1), Control: "s-1", Invoice: "A", LineNo: "1"},
		Line{Key: key(9, 2), Control: "s-2", Invoice: "A", LineNo: "2"})
	if err := run.Written(context.Background(), "t.tmp", "sent.837"); err != nil {
		t.Fatal(err)
	}
	return run
}

func TestCheckRunFindsWhatARunFinds(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	run := sendTwo(t, s)
	batch := []Line{
		{Key: key(9, 1), Control: "c-1"},                            // sent
		{Key: key(9, 2), Control: "c-2"},                            // sent, as a collision
		{Key: key(9, 3), Control: "c-3", Invoice: "B", LineNo: "7"}, // shares only the high half
		{Key: key(4, 4), Control: "c-4", Invoice: "B", LineNo: "8"}, // new
		{Key: key(4, 4), Control: "c-5"},                            // repeats c-4
		{Key: key(9, 3), Control: "c-6"},                            // repeats c-3
	}
	want := func(t *testing.T, r Run, prior []*PriorLine) {
		t.Helper()
		for i, w := range []struct {
			control, output string
			run             int64
		}{{"s-1", "sent.837", run.ID()}, {"s-2", "sent.837", run.ID()}, {}, {}, {"c-4", "", r.ID()}, {"c-3", "", r.ID()}} {
			p := prior[i]
			if w.control == "" {
				if p != nil {
					t.Errorf("line %d: prior %+v, want none", i, p)
				}
				continue
			}
			if p == nil || p.Control != w.control || p.Output != w.output || p.Run != w.run || p.At.IsZero() {
				t.Errorf("line %d: prior %+v, want %s of run %d in %q", i, p, w.control, w.run, w.output)
			}
		}
	}
	check, err := s.BeginCheck(ctx, "check", "{}")
	if err != nil {
		t.Fatal(err)
	}
	want(t, check, record(t, check, batch...))
	// A later call of the same check sees the lines of the earlier one.
	if p := record(t, check, Line{Key: key(4, 4), Control: "c-7"})[0]; p == nil || p.Control != "c-4" {
		t.Errorf("a repeat in a later call: %+v, want c-4", p)
	}
	check.Abandon(ctx, "check only")
	r := begin(t, s)
	want(t, r, record(t, r, batch...))
	r.Abandon(ctx, "test")
}

func TestAbandonedRunLeavesNoLines(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	run := begin(t, s)
	record(t, run, Line{Key: key(5, 5), Control: "a"}, Line{Key: key(9, 1), Control: "b"}, Line{Key: key(9, 2), Control: "c"})
	if err := run.Abandon(ctx, "failed"); err != nil {
		t.Fatal(err)
	}
	run2 := begin(t, s)
	for i, p := range record(t, run2, Line{Key: key(5, 5)}, Line{Key: key(9, 1)}, Line{Key: key(9, 2)}) {
		if p != nil {
			t.Errorf("line %d of an abandoned run counts as sent: %+v", i, p)
		}
	}
	run2.Abandon(ctx, "test")
}

func TestCrashLeavesPendingRuns(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	// A run that was written but not completed, and one left open: a crash.
	w := begin(t, s)
	record(t, w, Line{Key: key(7, 7), Control: "w"})
	if err := w.Written(ctx, "t.tmp", "o.837"); err != nil {
		t.Fatal(err)
	}
	o := begin(t, s)
	record(t, o, Line{Key: key(8, 8), Control: "o"})
	// The process dies: SQLite discards the open transaction on restart,
	// which a test simulates by dropping it without marking the run.
	o.(*sqliteRun).rollback()
	s.Close()

	s2, err := OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	pending, err := s2.PendingRuns(ctx)
	if err != nil || len(pending) != 2 || pending[0].Status != RunWritten || pending[0].Temp != "t.tmp" || pending[1].Status != RunOpen {
		t.Fatalf("pending = %+v %v", pending, err)
	}
	if err := s2.AbortRun(ctx, pending[0].ID, "output lost"); err != nil {
		t.Fatal(err)
	}
	if err := s2.AbortRun(ctx, pending[1].ID, "crashed"); err != nil {
		t.Fatal(err)
	}
	if err := s2.AbortRun(ctx, pending[1].ID, "again"); !errors.Is(err, ErrNoRun) {
		t.Errorf("second abort err = %v", err)
	}
	r := begin(t, s2)
	for i, p := range record(t, r, Line{Key: key(7, 7)}, Line{Key: key(8, 8)}) {
		if p != nil {
			t.Errorf("line %d counted as sent after its run was aborted", i)
		}
	}
	r.Abandon(ctx, "test")
}

// Writes beside a run (its lifecycle's, AbortRun and CompleteRun, and the
// MLLP inbox's and ADT events') wait for the writer's turn holding no
// connection: while a run holds the write lock, the pool's
// other connection stays free for the run's reads. A write that waited for
// the lock on that connection held the run's reads back until SQLite's
// busy timeout failed it.
func TestRunLifecycleWritesWaitTheirTurn(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for _, tt := range []struct {
		name  string
		write func(id int64) error
	}{
		{"AbortRun", func(id int64) error { return s.AbortRun(ctx, id, "output lost") }},
		{"CompleteRun", func(id int64) error { return s.CompleteRun(ctx, id, "ok") }},
		{"InboxAdd", func(int64) error { _, err := s.InboxAdd(ctx, nil); return err }},
		{"RecordADT", func(int64) error { _, err := s.RecordADT(ctx, nil); return err }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			old := begin(t, s)
			if err := old.Written(ctx, "o.tmp", "o.837"); err != nil {
				t.Fatal(err)
			}
			r := begin(t, s) // holds the turn and the write lock
			done := make(chan error, 1)
			go func() { done <- tt.write(old.ID()) }()
			time.Sleep(300 * time.Millisecond) // the write is waiting
			start := time.Now()
			if _, _, err := s.SentClaim(ctx, "NONE", ""); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("a read beside the open run waited %v for a connection", d)
			}
			r.Abandon(ctx, "test")
			if err := <-done; err != nil {
				t.Errorf("%s after the run: %v", tt.name, err)
			}
		})
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	if _, err := s.db.Exec(`UPDATE schema_versions SET version = 999 WHERE component = 'core'`); err != nil {
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

// Every commit is synced (synchronous FULL): one that returned survives a
// power loss, so a run's lines are never forgotten after its 837 went out.
func TestSQLiteSyncsEveryCommit(t *testing.T) {
	st, err := OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mode int
	if err := st.db.QueryRow("PRAGMA synchronous").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != 2 { // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
		t.Fatalf("synchronous = %d, want 2 (FULL)", mode)
	}
}

// TestStateDirectoryNamedWithURICharacters: a state directory whose name
// holds '#', '?' or '%' opens the database file in that directory, with the
// store's pragmas (synchronous FULL), in the main store and the console's
// connections, and keeps what was committed there; nothing is created
// beside it.
func TestStateDirectoryNamedWithURICharacters(t *testing.T) {
	for _, name := range []string{"plan#1", "plan?x=1", "plan%23", "plan%3f#?"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			parent := t.TempDir()
			dir := filepath.Join(parent, name)
			for i := int64(1); i <= 2; i++ {
				st, err := OpenSQLite(ctx, dir)
				if err != nil {
					t.Fatal(err)
				}
				var mode int
				if err := st.db.QueryRow("PRAGMA synchronous").Scan(&mode); err != nil || mode != 2 {
					t.Errorf("synchronous = %d (%v), want 2 (FULL)", mode, err)
				}
				if n, err := st.NextControlNumber(ctx, "ISA/test"); err != nil || n != i {
					t.Errorf("open %d: control number %d (%v), want %d", i, n, err, i)
				}
				if _, err := st.Console().RunDecisions(ctx, 1, false, "", 0, 10); err != nil {
					t.Errorf("console: %v", err)
				}
				st.Close()
			}
			if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
				t.Errorf("no database in the state directory: %v", err)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 1 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("beside the state directory: %q", names)
			}
		})
	}
}

// TestCheckRunIsNeverCommitted: a check run's row lives only in its
// transaction, and checks leave the write-ahead log as it was: nothing was
// committed, so nothing was synced.
func TestCheckRunIsNeverCommitted(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	wal := func() int64 {
		t.Helper()
		m, _ := filepath.Glob(filepath.Join(dir, "*-wal"))
		if len(m) != 1 {
			t.Fatalf("WAL files %q", m)
		}
		fi, err := os.Stat(m[0])
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	runs, size := mustCount(t, st, `SELECT count(*) FROM runs`), wal()
	for range 3 {
		c, err := st.BeginCheck(ctx, "check", "{}")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.RecordLines(ctx, []Line{{Key: [16]byte{1}, Control: "c"}}); err != nil {
			t.Fatal(err)
		}
		if err := c.Abandon(ctx, "check only"); err != nil {
			t.Fatal(err)
		}
	}
	if n := mustCount(t, st, `SELECT count(*) FROM runs`); n != runs {
		t.Errorf("runs %d after three checks, want %d", n, runs)
	}
	if n := mustCount(t, st, `SELECT count(*) FROM sent_lines`); n != 0 {
		t.Errorf("%d sent lines after checks", n)
	}
	if got := wal(); got != size {
		t.Errorf("the WAL grew from %d to %d bytes over three checks", size, got)
	}
	// A run that commits does write to it.
	r, err := st.BeginRun(ctx, "convert", "{}")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Abandon(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if got := wal(); got == size {
		t.Error("the WAL did not grow for a run that was begun and abandoned: the check above proves nothing")
	}
}

func mustCount(t *testing.T, st *SQLite, q string) (n int64) {
	t.Helper()
	if err := st.db.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Claims recorded before the claims went into blocks stay in
// inbound_claims and are still found; a block recorded later under the
// same number is the latest.
func TestClaimsRecordedBeforeBlocks(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	at := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO inbound_interchanges(sender, isa13, sum, file, received_at, batch) VALUES ('ZZ:OLD', '000000005', x'00', 'old.x12', ?, '000000500')`,
		at.Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO inbound_claims(plan_claim, sender, isa13, provider_claim, file, accepted) VALUES ('000000500000001', 'ZZ:OLD', '000000005', 'OLD-1', 'old.x12', 1)`,
		`INSERT INTO inbound_claims(plan_claim, sender, isa13, provider_claim, file, accepted) VALUES ('000000500000002', 'ZZ:OLD', '000000005', 'OLD-2', 'old.x12', 0)`,
		`INSERT INTO pending_lines(key_hi, key_lo, invoice, line_no) VALUES (77, 1, '000000500000001', '1')`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if c, ok, err := s.InboundClaim(ctx, "000000500000002"); err != nil || !ok || c.ProviderClaim != "OLD-2" || c.Accepted || c.File != "old.x12" {
		t.Fatalf("a claim of inbound_claims: %+v %v %v", c, ok, err)
	}
	bs, err := s.PendingBatches(ctx)
	if err != nil || len(bs) != 1 || bs[0].File != "old.x12" || bs[0].Sender != "ZZ:OLD" || !bs[0].ReceivedAt.Equal(at) {
		t.Fatalf("pending batches %+v %v", bs, err)
	}
	claim := InboundClaim{PlanClaim: "000000500000002", Sender: "ZZ:NEW", ISA13: "000000006", ProviderClaim: "NEW-2", File: "new.x12", Accepted: true}
	ic := InboundInterchange{Sender: "ZZ:NEW", ISA13: "000000006", Sum: [32]byte{6}, File: "new.x12", ReceivedAt: at.Add(time.Hour), Batch: "000000500"}
	if p, err := s.RecordInbound(ctx, []InboundInterchange{ic}, time.Hour, slices.Values([]InboundClaim{claim})); err != nil || p != nil {
		t.Fatalf("record: %+v %v", p, err)
	}
	if c, ok, err := s.InboundClaim(ctx, "000000500000002"); err != nil || !ok || c.ProviderClaim != "NEW-2" || !c.Accepted {
		t.Fatalf("the latest claim under the number: %+v %v %v", c, ok, err)
	}
	if c, ok, err := s.InboundClaim(ctx, "000000500000001"); err != nil || !ok || c.ProviderClaim != "OLD-1" {
		t.Fatalf("a claim of inbound_claims beside a block of its batch: %+v %v %v", c, ok, err)
	}
}

// TestPrefetchedLinesDecideTheSame: RecordLines of one line at a time
// after PrefetchLines of the batch finds what it finds without it, in a
// check run and in a run: a sent line and a collision, a line sharing
// only the high half, a pending line of another invoice, a pending line
// that is the line itself (no longer pending, so a later repeat repeats
// the line), repeats within the run, and a line left out of the prefetch.
func TestPrefetchedLinesDecideTheSame(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	sendTwo(t, s)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO pending_lines(key_hi, key_lo, invoice, line_no) VALUES (6, 1, 'P', '1'), (5, 2, 'Q', '1')`); err != nil {
		t.Fatal(err)
	}
	batch := []Line{
		{Key: key(9, 1), Control: "c-1"},                            // sent
		{Key: key(9, 2), Control: "c-2"},                            // sent, as a collision
		{Key: key(9, 3), Control: "c-3", Invoice: "B", LineNo: "7"}, // shares only the high half
		{Key: key(6, 1), Control: "c-4", Invoice: "X", LineNo: "1"}, // pending under another invoice
		{Key: key(5, 2), Control: "c-5", Invoice: "Q", LineNo: "1"}, // the pending line itself
		{Key: key(5, 2), Control: "c-6", Invoice: "R", LineNo: "2"}, // repeats c-5
		{Key: key(4, 4), Control: "c-7", Invoice: "B", LineNo: "8"}, // new
		{Key: key(4, 4), Control: "c-8"},                            // repeats c-7
		{Key: key(3, 3), Control: "c-9"},                            // not prefetched
	}
	want := []string{"s-1 A 1 sent.837", "s-2 A 2 sent.837", "new", "pending P 1", "new", "c-5 Q 1 ", "new", "c-7 B 8 ", "new"}
	outcome := func(check, prefetch bool) []string {
		var r Run
		if check {
			var err error
			if r, err = s.BeginCheck(ctx, "check", "{}"); err != nil {
				t.Fatal(err)
			}
		} else {
			r = begin(t, s)
		}
		defer r.Abandon(ctx, "test")
		if prefetch {
			if err := r.(LinePrefetcher).PrefetchLines(ctx, batch[:len(batch)-1]); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for _, l := range batch {
			switch p := record(t, r, l)[0]; {
			case p == nil:
				got = append(got, "new")
			case p.Pending:
				got = append(got, "pending "+p.Invoice+" "+p.LineNo)
			default:
				got = append(got, p.Control+" "+p.Invoice+" "+p.LineNo+" "+p.Output)
			}
		}
		return got
	}
	for _, check := range []bool{true, false} {
		for _, prefetch := range []bool{false, true} {
			if got := outcome(check, prefetch); !slices.Equal(got, want) {
				t.Errorf("check run %v, prefetched %v:\n got %q\nwant %q", check, prefetch, got, want)
			}
		}
	}
}
