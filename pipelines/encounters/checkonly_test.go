package encounters

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// A check-only conversion decides every line, writes nothing and sends
// nothing: the same file converted afterwards is not a duplicate, and the
// interchange number it uses is the first.
func TestCheckOnlySendsNothing(t *testing.T) {
	e := newEnv(t)
	in := e.file("a.csv", header, row("INV-1", 1, 1, 1, "H0043", "U6"), row("INV-1", 2, 1, 2, "99213", ""), row("INV-1", 3, 1, 1, "H0043", "U6"))
	out := filepath.Join(e.dir, "check")
	res, err := Convert(context.Background(), Job{Inputs: []string{in}, OutDir: out, Store: e.state, Config: e.cfg,
		Coding: rules.DefaultCodingTable(), Today: 20261123, Now: time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC), CheckOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Lines) != 3 || res.Output != "" || res.Accepted() != 1 || res.Rejected() != 2 {
		t.Fatalf("check only: %+v", res)
	}
	want := []struct{ outcome, rule string }{{store.OutcomeAccepted, ""}, {store.OutcomeRejected, rules.CodeNotAllowed}, {store.OutcomeRejected, rules.DuplicateLine}}
	for i, w := range want {
		if l := res.Lines[i]; l.Outcome != w.outcome || l.Rule != w.rule || l.Seq != i+1 || l.Row != i+2 {
			t.Errorf("line %d = %+v, want %s %s", i+1, l, w.outcome, w.rule)
		}
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Fatalf("check only wrote %v", ents)
	}
	real, err := e.convert("out", in)
	if err != nil || real.Accepted() != 1 || real.Summary.Interchange != 1 {
		t.Fatalf("after check only: %v %+v", err, real)
	}
	// The real run's decisions were recorded with it.
	if d, ok, err := e.state.(store.ConsoleStore).Console().Decision(context.Background(), real.Summary.RunID, 2); err != nil || !ok || d.Rule != rules.CodeNotAllowed {
		t.Fatalf("recorded decision 2: %+v %v %v", d, ok, err)
	}
}

// A Checker decides rows held in memory as a check-only conversion
// decides a file's, part after part: a line repeating one an earlier part
// accepted is a duplicate, as within a part; a rejected line is not
// remembered; nothing is kept, so the same lines converted afterwards are
// not duplicates.
func TestCheckerRemembersEarlierParts(t *testing.T) {
	e := newEnv(t)
	cells := func(r string) []string { return strings.Split(r, ",") }
	k, err := NewChecker(Job{Store: e.state, Config: e.cfg, Coding: rules.DefaultCodingTable(), Today: 20261123,
		Now: time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)}, "lines.csv", cells(header))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := k.Close(); err != nil {
			t.Error(err)
		}
	})
	parts := []struct {
		rows []string
		want []string // each row's rule, "" accepted
	}{
		{[]string{row("INV-1", 1, 1, 1, "H0043", "U6"), row("INV-1", 2, 1, 2, "99213", ""), row("INV-1", 3, 1, 1, "H0043", "U6")},
			[]string{"", rules.CodeNotAllowed, rules.DuplicateLine}},
		{[]string{row("INV-2", 1, 1, 1, "H0043", "U6"), row("INV-2", 2, 1, 2, "99213", ""), row("INV-2", 3, 2, 1, "H0043", "U6")},
			[]string{rules.DuplicateLine, rules.CodeNotAllowed, ""}},
	}
	for p, part := range parts {
		var rows [][]string
		for _, r := range part.rows {
			rows = append(rows, cells(r))
		}
		ds, err := k.Check(context.Background(), rows)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != len(part.want) {
			t.Fatalf("part %d: %d decisions, want %d", p+1, len(ds), len(part.want))
		}
		for i, w := range part.want {
			d := ds[i]
			if d.Rule != w || d.Seq != i+1 || d.Row != i+2 || d.File != "lines.csv" || (w == "") != (d.Outcome == store.OutcomeAccepted) {
				t.Errorf("part %d line %d = %+v, want rule %q", p+1, i+1, d, w)
			}
		}
		if p == 1 && !strings.Contains(ds[0].Message, "repeats invoice INV-1 line 1 earlier in this file") {
			t.Errorf("duplicate of an earlier part: %q", ds[0].Message)
		}
	}
	in := e.file("a.csv", header, row("INV-1", 1, 1, 1, "H0043", "U6"), row("INV-2", 3, 2, 1, "H0043", "U6"))
	real, err := e.convert("out", in)
	if err != nil || real.Accepted() != 2 || real.Summary.Interchange != 1 {
		t.Fatalf("after the checks: %v %+v", err, real)
	}
}
