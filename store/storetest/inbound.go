package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/store"
)

func inboundStore(t *testing.T, s store.LedgerStore) store.InboundStore {
	t.Helper()
	in, ok := s.(store.InboundStore)
	if !ok {
		t.Fatalf("%T is not a store.InboundStore", s)
	}
	return in
}

// inboundDuplicates: an interchange repeats one recorded before when it
// has the same content, or the same sender and ISA13 within the window
// (not at or past it); a repeat records nothing, not even its claims; a
// claim is found by the plan's claim number after a reopen.
func inboundDuplicates(t *testing.T, open func(string) store.LedgerStore) {
	in := inboundStore(t, open("a"))
	t0 := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	const window = 24 * time.Hour
	ic := func(sender, isa13 string, sum byte, at time.Time) store.InboundInterchange {
		return store.InboundInterchange{Sender: sender, ISA13: isa13, Sum: [32]byte{sum}, File: "f" + isa13 + ".x12", ReceivedAt: at}
	}
	claim := store.InboundClaim{PlanClaim: "000000101000001", Sender: "ZZ:PROV", ISA13: "000000101", ProviderClaim: "ENC1001", File: "f.x12", Accepted: true}
	if p, err := in.RecordInbound(ctx, []store.InboundInterchange{ic("ZZ:PROV", "000000101", 1, t0)}, window, slices.Values([]store.InboundClaim{claim})); err != nil || p != nil {
		t.Fatalf("first: %v %v", p, err)
	}
	tests := []struct {
		name   string
		ic     store.InboundInterchange
		wantOf string // ISA13 of the prior found, "" = none
	}{
		{"same content, other sender and ISA13", ic("ZZ:OTHER", "000000999", 1, t0.Add(400*24*time.Hour)), "000000101"},
		{"same sender and ISA13 inside the window", ic("ZZ:PROV", "000000101", 2, t0.Add(window-time.Second)), "000000101"},
		{"same sender and ISA13 at the window's end", ic("ZZ:PROV", "000000101", 3, t0.Add(window)), ""},
		{"other sender, same ISA13", ic("ZZ:PROV2", "000000101", 4, t0.Add(time.Hour)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claim2 := claim
			claim2.PlanClaim, claim2.ProviderClaim = "X"+tt.ic.File, "C"+tt.ic.File
			p, err := in.RecordInbound(ctx, []store.InboundInterchange{tt.ic}, window, slices.Values([]store.InboundClaim{claim2}))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantOf == "" && p != nil:
				t.Fatalf("prior %+v, want none", p)
			case tt.wantOf != "" && (p == nil || p.ISA13 != tt.wantOf || p.Sender != "ZZ:PROV" || p.Sum != [32]byte{1} || !p.ReceivedAt.Equal(t0)):
				t.Fatalf("prior %+v, want ISA13 %s of ZZ:PROV at %v", p, tt.wantOf, t0)
			}
			_, found, err := in.InboundClaim(ctx, claim2.PlanClaim)
			if err != nil || found != (tt.wantOf == "") {
				t.Errorf("claim of the interchange recorded=%v (%v), want %v", found, err, tt.wantOf == "")
			}
		})
	}
	// Several interchanges at once: one repeat records none of them.
	if p, _ := in.RecordInbound(ctx, []store.InboundInterchange{ic("ZZ:NEW", "000000001", 9, t0), ic("ZZ:PROV", "000000101", 10, t0.Add(time.Minute))}, window, nil); p == nil {
		t.Fatal("a file with one repeated interchange was recorded")
	}
	if p, _ := in.RecordInbound(ctx, []store.InboundInterchange{ic("ZZ:NEW", "000000001", 11, t0)}, window, nil); p != nil {
		t.Fatalf("the other interchange of a refused file was recorded: %+v", p)
	}
	// The same delivery processed again (its Source): not a repeat of
	// itself, but of it for any other delivery.
	src := ic("ZZ:SRC", "000000077", 77, t0)
	src.Source = "ledger:7"
	if p, err := in.RecordInbound(ctx, []store.InboundInterchange{src}, window, nil); err != nil || p != nil {
		t.Fatalf("first delivery: %+v %v", p, err)
	}
	if p, err := in.RecordInbound(ctx, []store.InboundInterchange{src}, window, nil); err != nil || p != nil {
		t.Fatalf("the same delivery again is a repeat: %+v %v", p, err)
	}
	other := src
	other.Source = "ledger:8"
	if p, _ := in.RecordInbound(ctx, []store.InboundInterchange{other}, window, nil); p == nil || p.Source != "ledger:7" {
		t.Fatalf("another delivery of the same content: prior %+v, want the one of ledger:7", p)
	}
	other.Source = ""
	if p, _ := in.RecordInbound(ctx, []store.InboundInterchange{other}, window, nil); p == nil {
		t.Fatal("the same content without a source is not a repeat")
	}
	// Many claims, read as they are recorded (more than fill the batches
	// and the blocks of claims a row holds).
	many := func(yield func(store.InboundClaim) bool) {
		for i := 1; i <= 9000; i++ {
			if !yield(store.InboundClaim{PlanClaim: fmt.Sprintf("000000300%06d", i), Sender: "ZZ:MANY", ISA13: "000000300", ProviderClaim: fmt.Sprint("P", i), File: "many.x12"}) {
				return
			}
		}
	}
	if p, err := in.RecordInbound(ctx, []store.InboundInterchange{ic("ZZ:MANY", "000000300", 30, t0)}, window, many); err != nil || p != nil {
		t.Fatalf("many claims: %+v %v", p, err)
	}
	for _, i := range []int{1, 100, 101, 1000, 1001, 2500, 2550, 4095, 4096, 4097, 8192, 8193, 9000} {
		if c, ok, err := in.InboundClaim(ctx, fmt.Sprintf("000000300%06d", i)); err != nil || !ok || c.ProviderClaim != fmt.Sprint("P", i) ||
			c.Sender != "ZZ:MANY" || c.ISA13 != "000000300" || c.File != "many.x12" || c.Accepted {
			t.Errorf("claim %d of 9000: %+v %v %v", i, c, ok, err)
		}
	}
	for _, n := range []string{"000000300000000", "000000300009001", "000000301000001", "00000030"} {
		if c, ok, err := in.InboundClaim(ctx, n); err != nil || ok {
			t.Errorf("claim %s, never recorded: %+v %v %v", n, c, ok, err)
		}
	}
	in = inboundStore(t, open("a"))
	got, found, err := in.InboundClaim(ctx, "000000101000001")
	if err != nil || !found || !sameClaim(got, claim) {
		t.Fatalf("claim %+v %v %v, want %+v", got, found, err, claim)
	}
	if _, found, _ := in.InboundClaim(ctx, "nope"); found {
		t.Error("unknown plan claim found")
	}
}

// concurrentInbound: instances recording the same interchange at once
// record it once.
func concurrentInbound(t *testing.T, open func(string) store.LedgerStore) {
	const n = 4
	ins := make([]store.InboundStore, n)
	for i := range ins {
		ins[i] = inboundStore(t, open(string(rune('a'+i))))
	}
	at := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	firsts := make([]bool, n)
	errs := make([]error, n)
	for i := range ins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := ins[i].RecordInbound(ctx, []store.InboundInterchange{{Sender: "ZZ:PROV", ISA13: "000000007", Sum: [32]byte{byte(i)}, File: "x", ReceivedAt: at}}, time.Hour, nil)
			firsts[i], errs[i] = p == nil, err
		}()
	}
	wg.Wait()
	won := 0
	for i := range firsts {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if firsts[i] {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d instances recorded the interchange, want 1", won)
	}
}

func sameClaim(a, b store.InboundClaim) bool {
	return a.PlanClaim == b.PlanClaim && a.Sender == b.Sender && a.ISA13 == b.ISA13 &&
		a.ProviderClaim == b.ProviderClaim && a.File == b.File && a.Accepted == b.Accepted
}

// pendingLines: the lines of an accepted inbound claim are earlier lines
// for every run until one records them under their own invoice and line
// number (then they are sent lines); an abandoned run leaves them pending;
// a line sharing only the high half of a pending key is not a repeat.
func pendingLines(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	in := inboundStore(t, s)
	t0 := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	const plan = "000000401000001"
	claim := store.InboundClaim{PlanClaim: plan, Sender: "ZZ:PROV", ISA13: "000000401", ProviderClaim: "C1", File: "p.x12", Accepted: true,
		Lines: []store.Line{{Key: Key(40, 1), Invoice: plan, LineNo: "1"}, {Key: Key(41, 1), Invoice: plan, LineNo: "2"}}}
	if p, err := in.RecordInbound(ctx, []store.InboundInterchange{{Sender: "ZZ:PROV", ISA13: "000000401", Sum: [32]byte{40}, File: "p.x12", ReceivedAt: t0}},
		time.Hour, slices.Values([]store.InboundClaim{claim})); err != nil || p != nil {
		t.Fatalf("record inbound: %+v %v", p, err)
	}
	wantPending := func(t *testing.T, p *store.PriorLine, line string) {
		t.Helper()
		if p == nil || !p.Pending || p.Invoice != plan || p.LineNo != line || p.Output != "p.x12" || !p.At.Equal(t0) || p.Run != 0 {
			t.Fatalf("prior %+v, want pending line %s of %s in p.x12 at %v", p, line, plan, t0)
		}
	}
	// Another invoice's line with the same key repeats the pending line;
	// one sharing only the high half does not.
	a := begin(t, s)
	p := record(t, a, store.Line{Key: Key(40, 1), Control: "a-1", Invoice: "INV9", LineNo: "1"}, store.Line{Key: Key(40, 2), Control: "a-2", Invoice: "INV9", LineNo: "2"},
		store.Line{Key: Key(41, 1), Control: "a-3", Invoice: plan, LineNo: "9"})
	wantPending(t, p[0], "1")
	if p[1] != nil {
		t.Fatalf("a key sharing the high half of a pending one: prior %+v", p[1])
	}
	wantPending(t, p[2], "2") // same invoice, another line number
	if err := a.Abandon(ctx, "check"); err != nil {
		t.Fatal(err)
	}
	// The line itself (same invoice and line number) is not a repeat.
	b := begin(t, s)
	if p := record(t, b, store.Line{Key: Key(41, 1), Control: "b-2", Invoice: plan, LineNo: "2"}); p[0] != nil {
		t.Fatalf("the pending line itself: prior %+v", p[0])
	}
	if err := b.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	// Sent, it is a sent line: a repeat names the run that sent it.
	c := begin(t, s)
	p = record(t, c, store.Line{Key: Key(41, 1), Control: "c-1", Invoice: "INV7", LineNo: "1"}, store.Line{Key: Key(40, 1), Control: "c-2", Invoice: plan, LineNo: "1"})
	if p[0] == nil || p[0].Pending || p[0].Run != b.ID() || p[0].Control != "b-2" {
		t.Fatalf("repeat of the sent line: prior %+v, want run %d's b-2", p[0], b.ID())
	}
	if p[1] != nil {
		t.Fatalf("the other pending line itself: prior %+v", p[1])
	}
	if err := c.Abandon(ctx, "check"); err != nil {
		t.Fatal(err)
	}
	// The abandoned run did not send it: it is still pending.
	d := begin(t, s)
	wantPending(t, record(t, d, store.Line{Key: Key(40, 1), Control: "d-1", Invoice: "INV8", LineNo: "3"})[0], "1")
	if err := d.Abandon(ctx, "check"); err != nil {
		t.Fatal(err)
	}
}

// pendingUsage: the usage counters a pending line moves once sent count
// in every run's counters while it is pending; a run whose line it is
// (same key, invoice and line number, prefetched) no longer counts it, and
// a line released stops counting.
func pendingUsage(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	in := inboundStore(t, s)
	const plan, counter = "000000601000001", "auth-units:P-1"
	lines := []store.Line{
		{Key: Key(60, 1), Invoice: plan, LineNo: "1", Uses: []store.LineUse{{Counter: counter, Amount: 2000, Date: 20260305}}},
		{Key: Key(61, 1), Invoice: plan, LineNo: "2", Uses: []store.LineUse{{Counter: counter, Amount: 1000, Date: 20260302}}},
	}
	if p, err := in.RecordInbound(ctx, []store.InboundInterchange{{Sender: "ZZ:PROV", ISA13: "000000601", Sum: [32]byte{60}, File: "u.x12", ReceivedAt: time.Now()}},
		time.Hour, slices.Values([]store.InboundClaim{{PlanClaim: plan, Sender: "ZZ:PROV", ISA13: "000000601", ProviderClaim: "C1", File: "u.x12", Accepted: true, Lines: lines}})); err != nil || p != nil {
		t.Fatalf("record inbound: %+v %v", p, err)
	}
	usage := func(t *testing.T, r store.Run, want int64, first civil.Date) {
		t.Helper()
		v := must(store.EnrollmentViewOf(r))(t)
		if n, f, err := v.Usage(ctx, counter); err != nil || n != want || f != first {
			t.Errorf("usage %d from %s (%v), want %d from %s", n, f, err, want, first)
		}
	}
	a := begin(t, s)
	usage(t, a, 3000, 20260302)
	if err := a.Abandon(ctx, "check"); err != nil {
		t.Fatal(err)
	}
	// The run converting line 2 does not count it as pending.
	b := begin(t, s)
	p, ok := b.(store.LinePrefetcher)
	if !ok {
		t.Fatalf("%T is not a store.LinePrefetcher", b)
	}
	if err := p.PrefetchLines(ctx, []store.Line{{Key: Key(61, 1), Control: "b-1", Invoice: plan, LineNo: "2"}}); err != nil {
		t.Fatal(err)
	}
	usage(t, b, 2000, 20260305)
	if err := b.Abandon(ctx, "check"); err != nil {
		t.Fatal(err)
	}
	// Abandoned, it left line 2 pending; released, line 1 counts no more.
	c := begin(t, s)
	usage(t, c, 3000, 20260302)
	if err := c.ReleaseLines(ctx, lines[:1]); err != nil {
		t.Fatal(err)
	}
	if err := c.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	d := begin(t, s)
	usage(t, d, 1000, 20260302)
	if err := d.Abandon(ctx, "check"); err != nil {
		t.Fatal(err)
	}
}

// releasedLines: a run that rejected a pending line releases it when it
// commits (not when abandoned); a release names the key, invoice and line
// number together.
func releasedLines(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	in := inboundStore(t, s)
	const plan = "000000501000001"
	lines := []store.Line{{Key: Key(50, 1), Invoice: plan, LineNo: "1"}, {Key: Key(51, 1), Invoice: plan, LineNo: "2"}}
	if p, err := in.RecordInbound(ctx, []store.InboundInterchange{{Sender: "ZZ:PROV", ISA13: "000000501", Sum: [32]byte{50}, File: "r.x12", ReceivedAt: time.Now()}},
		time.Hour, slices.Values([]store.InboundClaim{{PlanClaim: plan, Sender: "ZZ:PROV", ISA13: "000000501", ProviderClaim: "C1", File: "r.x12", Accepted: true, Lines: lines}})); err != nil || p != nil {
		t.Fatalf("record inbound: %+v %v", p, err)
	}
	release := func(commit bool, ls ...store.Line) {
		t.Helper()
		r := begin(t, s)
		if err := r.ReleaseLines(ctx, ls); err != nil {
			t.Fatal(err)
		}
		var err error
		if commit {
			err = r.Written(ctx, "", "")
		} else {
			err = r.Abandon(ctx, "check")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	pending := func(l store.Line) bool {
		t.Helper()
		r := begin(t, s)
		defer r.Abandon(ctx, "check")
		p := record(t, r, store.Line{Key: l.Key, Control: "x", Invoice: "OTHER", LineNo: "1"})
		return p[0] != nil && p[0].Pending
	}
	release(false, lines[0])
	release(true, store.Line{Key: Key(50, 1), Invoice: plan, LineNo: "9"}, store.Line{Key: Key(50, 1), Invoice: "OTHER", LineNo: "1"}, store.Line{Key: Key(50, 2), Invoice: plan, LineNo: "1"})
	if !pending(lines[0]) {
		t.Fatal("an abandoned release, or one of another line number, invoice or key, released the line")
	}
	release(true, lines[0])
	if pending(lines[0]) || !pending(lines[1]) {
		t.Fatalf("after the release of line 1: line 1 pending %v (want false), line 2 pending %v (want true)", pending(lines[0]), pending(lines[1]))
	}
}

// inboundBatch: an interchange's claim batch number is found again by its
// delivery, sender and ISA13 (after a reopen), not by another delivery's;
// an interchange recorded without one has none; the latest recording wins.
func inboundBatch(t *testing.T, open func(string) store.LedgerStore) {
	in := inboundStore(t, open("a"))
	t0 := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	record := func(ic store.InboundInterchange) {
		t.Helper()
		if p, err := in.RecordInbound(ctx, []store.InboundInterchange{ic}, 0, nil); err != nil || p != nil {
			t.Fatalf("record %+v: prior %+v, %v", ic, p, err)
		}
	}
	record(store.InboundInterchange{Sender: "ZZ:PROV", ISA13: "000000101", Sum: [32]byte{60}, File: "b.x12", ReceivedAt: t0, Source: "ledger:9", Batch: "000000007"})
	record(store.InboundInterchange{Sender: "ZZ:PROV", ISA13: "000000102", Sum: [32]byte{61}, File: "c.x12", ReceivedAt: t0, Source: "ledger:10"})
	record(store.InboundInterchange{Sender: "ZZ:PROV", ISA13: "000000101", Sum: [32]byte{62}, File: "b.x12", ReceivedAt: t0.Add(time.Hour), Source: "ledger:9", Batch: "000000008"})
	in = inboundStore(t, open("a"))
	for _, tc := range []struct {
		source, sender, isa13 string
		want                  string
	}{
		{"ledger:9", "ZZ:PROV", "000000101", "000000008"},
		{"ledger:11", "ZZ:PROV", "000000101", ""},
		{"ledger:9", "ZZ:OTHER", "000000101", ""},
		{"ledger:9", "ZZ:PROV", "000000102", ""},
		{"ledger:10", "ZZ:PROV", "000000102", ""},
	} {
		got, ok, err := in.InboundBatch(ctx, tc.source, tc.sender, tc.isa13)
		if err != nil || got != tc.want || ok != (tc.want != "") {
			t.Errorf("InboundBatch(%s, %s, %s) = %q, %v, %v; want %q", tc.source, tc.sender, tc.isa13, got, ok, err, tc.want)
		}
	}
}

// pendingBatches: pending lines are listed by the batch of their claims'
// numbers, the oldest received first, with the interchange that sent
// them; releasing a batch ends the pending state of its lines only, after
// which they are no longer earlier lines.
func pendingBatches(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	in := inboundStore(t, s)
	ps, ok := s.(store.PendingStore)
	if !ok {
		t.Fatalf("%T is not a store.PendingStore", s)
	}
	t0 := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	recordBatch := func(batch, sender, isa13, file string, at time.Time, sum byte, lines ...[]store.Line) {
		t.Helper()
		var claims []store.InboundClaim
		for i, ls := range lines {
			plan := batch + fmt.Sprintf("%06d", i+1)
			for k := range ls {
				ls[k].Invoice = plan
			}
			claims = append(claims, store.InboundClaim{PlanClaim: plan, Sender: sender, ISA13: isa13, ProviderClaim: fmt.Sprint("C", i), File: file, Accepted: true, Lines: ls})
		}
		ic := store.InboundInterchange{Sender: sender, ISA13: isa13, Sum: [32]byte{sum}, File: file, ReceivedAt: at, Batch: batch}
		if p, err := in.RecordInbound(ctx, []store.InboundInterchange{ic}, time.Hour, slices.Values(claims)); err != nil || p != nil {
			t.Fatalf("record %s: %+v %v", batch, p, err)
		}
	}
	recordBatch("000000007", "ZZ:PROVA", "000000101", "a.x12", t0.Add(time.Hour), 70,
		[]store.Line{{Key: Key(70, 1), LineNo: "1"}, {Key: Key(71, 1), LineNo: "2"}}, []store.Line{{Key: Key(72, 1), LineNo: "1"}})
	recordBatch("000000008", "ZZ:PROVB", "000000101", "b.x12", t0, 80, []store.Line{{Key: Key(80, 1), LineNo: "1"}})
	got, err := ps.PendingBatches(ctx)
	want := []store.PendingBatch{
		{Batch: "000000008", File: "b.x12", Sender: "ZZ:PROVB", ISA13: "000000101", ReceivedAt: t0, Claims: 1, Lines: 1},
		{Batch: "000000007", File: "a.x12", Sender: "ZZ:PROVA", ISA13: "000000101", ReceivedAt: t0.Add(time.Hour), Claims: 2, Lines: 3},
	}
	if err != nil || len(got) != len(want) {
		t.Fatalf("pending batches %+v %v, want %+v", got, err, want)
	}
	for i := range want {
		if g, w := got[i], want[i]; g.Batch != w.Batch || g.File != w.File || g.Sender != w.Sender || g.ISA13 != w.ISA13 || !g.ReceivedAt.Equal(w.ReceivedAt) || g.Claims != w.Claims || g.Lines != w.Lines {
			t.Errorf("batch %d: %+v, want %+v", i, g, w)
		}
	}
	if _, err := ps.ReleasePending(ctx, "00000007"); err == nil {
		t.Error("an 8-digit batch number was taken")
	}
	if n, err := ps.ReleasePending(ctx, "000000009"); err != nil || n != 0 {
		t.Errorf("release of a batch with no pending line: %d %v", n, err)
	}
	if n, err := ps.ReleasePending(ctx, "000000007"); err != nil || n != 3 {
		t.Fatalf("release 000000007: %d lines, %v; want 3", n, err)
	}
	if got, err := ps.PendingBatches(ctx); err != nil || len(got) != 1 || got[0].Batch != "000000008" {
		t.Fatalf("after the release: %+v %v", got, err)
	}
	r := begin(t, s)
	defer r.Abandon(ctx, "check")
	p := record(t, r, store.Line{Key: Key(70, 1), Control: "x-1", Invoice: "INV1", LineNo: "1"}, store.Line{Key: Key(80, 1), Control: "x-2", Invoice: "INV1", LineNo: "2"})
	if p[0] != nil {
		t.Errorf("a released line still counts: prior %+v", p[0])
	}
	if p[1] == nil || !p[1].Pending || p[1].Invoice != "000000008000001" {
		t.Errorf("the other batch's line: prior %+v, want pending 000000008000001", p[1])
	}
}

// prefetchedLines: RecordLines of one line at a time decides the same
// after PrefetchLines of the batch (store.LinePrefetcher, which both
// stores' runs are) as without it, in a check run and in an ordinary run:
// a sent line, a pending line of another invoice, the pending line itself
// and a repeat of it, a new line and its repeat, and a line the prefetch
// was not given.
func prefetchedLines(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	sent := begin(t, s)
	record(t, sent, store.Line{Key: Key(60, 1), Control: "s-1", Invoice: "A", LineNo: "1"})
	if err := sent.Written(ctx, "sent.tmp", "sent.837"); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteRun(ctx, sent.ID(), "ok"); err != nil {
		t.Fatal(err)
	}
	const plan = "000000601000001"
	claim := store.InboundClaim{PlanClaim: plan, Sender: "ZZ:PROV", ISA13: "000000601", ProviderClaim: "C1", File: "p.x12", Accepted: true,
		Lines: []store.Line{{Key: Key(61, 1), Invoice: plan, LineNo: "1"}, {Key: Key(62, 1), Invoice: plan, LineNo: "2"}}}
	if p, err := inboundStore(t, s).RecordInbound(ctx, []store.InboundInterchange{{Sender: "ZZ:PROV", ISA13: "000000601", Sum: [32]byte{60}, File: "p.x12",
		ReceivedAt: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)}}, time.Hour, slices.Values([]store.InboundClaim{claim})); err != nil || p != nil {
		t.Fatalf("record inbound: %+v %v", p, err)
	}
	batch := []store.Line{
		{Key: Key(60, 1), Control: "c-1"},                             // sent
		{Key: Key(60, 2), Control: "c-2", Invoice: "B", LineNo: "7"},  // new: another key
		{Key: Key(61, 1), Control: "c-3", Invoice: "X", LineNo: "1"},  // pending under another invoice
		{Key: Key(62, 1), Control: "c-4", Invoice: plan, LineNo: "2"}, // the pending line itself
		{Key: Key(62, 1), Control: "c-5", Invoice: "R", LineNo: "2"},  // repeats c-4
		{Key: Key(63, 3), Control: "c-6", Invoice: "B", LineNo: "8"},  // new
		{Key: Key(63, 3), Control: "c-7"},                             // repeats c-6
		{Key: Key(64, 4), Control: "c-8"},                             // not prefetched
	}
	want := []string{"s-1 A 1 sent.837", "new", "pending " + plan + " 1 p.x12", "new", "c-4 " + plan + " 2 ", "new", "c-6 B 8 ", "new"}
	outcome := func(check, prefetch bool) []string {
		var r store.Run
		if check {
			r = must(s.BeginCheck(ctx, "check", "{}"))(t)
		} else {
			r = begin(t, s)
		}
		defer r.Abandon(ctx, "test")
		var pre []store.Line
		if prefetch {
			pre = batch[:len(batch)-1]
		}
		return priorsOneByOne(t, r, pre, batch)
	}
	for _, check := range []bool{true, false} {
		for _, prefetch := range []bool{false, true} {
			if got := outcome(check, prefetch); !slices.Equal(got, want) {
				t.Errorf("check run %v, prefetched %v:\n got %q\nwant %q", check, prefetch, got, want)
			}
		}
	}

	// An ordinary run written after a prefetch keeps what it recorded: its
	// new lines are sent and the pending line it sent is no longer
	// pending, also when a call mixed prefetched and other lines.
	r := begin(t, s)
	if err := r.(store.LinePrefetcher).PrefetchLines(ctx, batch[:len(batch)-1]); err != nil {
		t.Fatal(err)
	}
	for _, l := range batch[:3] {
		record(t, r, l)
	}
	if p := record(t, r, batch[3], batch[7]); p[0] != nil || p[1] != nil { // c-4 and the line not prefetched, together
		t.Fatalf("c-4 and c-8 together: %+v %+v", p[0], p[1])
	}
	if p := record(t, r, store.Line{Key: Key(64, 4), Control: "c-9"})[0]; p == nil || p.Control != "c-8" || p.Run != r.ID() {
		t.Fatalf("a repeat of the line not prefetched: %+v, want c-8 of run %d", p, r.ID())
	}
	for _, l := range batch[4:7] {
		record(t, r, l)
	}
	if err := r.Written(ctx, "r.tmp", "r.837"); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteRun(ctx, r.ID(), "ok"); err != nil {
		t.Fatal(err)
	}
	next := begin(t, s)
	defer next.Abandon(ctx, "test")
	for _, c := range []struct {
		key     [16]byte
		control string // the line of r it repeats
	}{{Key(60, 2), "c-2"}, {Key(62, 1), "c-4"}, {Key(63, 3), "c-6"}, {Key(64, 4), "c-8"}} {
		if p := record(t, next, store.Line{Key: c.key, Control: "n", Invoice: "Z", LineNo: "1"})[0]; p == nil || p.Pending || p.Run != r.ID() || p.Control != c.control || p.Output != "r.837" {
			t.Errorf("after the run: prior %+v, want %s of run %d in r.837", p, c.control, r.ID())
		}
	}
}

// prefetchedLineSentMeanwhile: an ordinary run's line recorded after
// PrefetchLines that another instance's run sends before this run writes
// it fails this run, which is never written; run again, the line is a
// duplicate. Nothing is sent twice.
func prefetchedLineSentMeanwhile(t *testing.T, open func(string) store.LedgerStore) {
	a, b := open("a"), open("b")
	line := store.Line{Key: Key(65, 1), Control: "a-1", Invoice: "INV-A", LineNo: "1"}
	ra := begin(t, a)
	if err := ra.(store.LinePrefetcher).PrefetchLines(ctx, []store.Line{line}); err != nil {
		t.Fatal(err)
	}
	if p := record(t, ra, line)[0]; p != nil {
		t.Fatalf("a's line: prior %+v", p)
	}
	rb := begin(t, b)
	if p := record(t, rb, store.Line{Key: Key(65, 1), Control: "b-1", Invoice: "INV-B", LineNo: "1"})[0]; p != nil {
		t.Fatalf("b's line: prior %+v", p)
	}
	if err := rb.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := ra.Written(ctx, "a.tmp", "a.837"); !errors.Is(err, store.ErrSentMeanwhile) || !store.IsTransient(err) || !strings.Contains(err.Error(), "a-1") {
		t.Fatalf("a written after b sent its line: %v, want store.ErrSentMeanwhile (transient) naming a-1", err)
	}
	if pending := must(a.PendingRuns(ctx))(t); len(pending) != 0 {
		t.Errorf("the failed run is pending: %+v", pending)
	}
	again := begin(t, a)
	defer again.Abandon(ctx, "test")
	if p := record(t, again, line)[0]; p == nil || p.Control != "b-1" || p.Run != rb.ID() {
		t.Errorf("run again: prior %+v, want b-1 of run %d", p, rb.ID())
	}
}

// priorsOneByOne records batch in r one line at a time, after
// PrefetchLines of prefetch when it is not nil (r must then be a
// store.LinePrefetcher), and describes each line's prior: "new",
// "pending INVOICE LINE OUTPUT", or "CONTROL INVOICE LINE OUTPUT".
func priorsOneByOne(t *testing.T, r store.Run, prefetch, batch []store.Line) []string {
	t.Helper()
	if prefetch != nil {
		p, ok := r.(store.LinePrefetcher)
		if !ok {
			t.Fatalf("%T is not a store.LinePrefetcher", r)
		}
		if err := p.PrefetchLines(ctx, prefetch); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, l := range batch {
		switch p := record(t, r, l)[0]; {
		case p == nil:
			got = append(got, "new")
		case p.Pending:
			got = append(got, "pending "+p.Invoice+" "+p.LineNo+" "+p.Output)
		default:
			got = append(got, p.Control+" "+p.Invoice+" "+p.LineNo+" "+p.Output)
		}
	}
	return got
}
