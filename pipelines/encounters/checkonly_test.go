package encounters

import (
	"context"
	"os"
	"path/filepath"
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
